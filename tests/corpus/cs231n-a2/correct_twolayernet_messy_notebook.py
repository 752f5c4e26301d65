# expect: partial
# Exported from the notebook: the setup cells, a sanity check and a training loop are left
# at the top level; the net computes everything inline, without layer functions.
import numpy as np
import matplotlib.pyplot as plt

plt.rcParams["figure.figsize"] = (10.0, 8.0)
np.random.seed(231)

def rel_error(x, y):
    """ returns relative error """
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


class TwoLayerNet(object):
    def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
        self.params['W1'] = np.random.normal(0.0, weight_scale, (input_dim, hidden_dim))
        self.params['W2'] = np.random.normal(0.0, weight_scale, (hidden_dim, num_classes))
        self.params['b1'] = np.zeros((hidden_dim,))
        self.params['b2'] = np.zeros((num_classes,))

    def loss(self, X, y=None):
        W1, b1, W2, b2 = self.params['W1'], self.params['b1'], self.params['W2'], self.params['b2']
        N = X.shape[0]
        x = X.reshape(N, -1)
        z1 = x.dot(W1) + b1
        a1 = z1 * (z1 > 0)
        scores = a1.dot(W2) + b2
        if y is None:
            return scores
        # softmax
        e = np.exp(scores - scores.max(axis=1)[:, None])
        p = e / e.sum(axis=1)[:, None]
        data_loss = np.sum(-np.log(p[range(N), y])) / N
        reg_loss = 0.5 * self.reg * np.sum(W1 * W1) + 0.5 * self.reg * np.sum(W2 * W2)
        loss = data_loss + reg_loss
        #print('loss', loss)
        grads = {}
        dscores = p
        dscores[range(N), y] -= 1
        dscores /= N
        grads['W2'] = a1.T.dot(dscores) + self.reg * W2
        grads['b2'] = np.sum(dscores, axis=0)
        da1 = dscores.dot(W2.T)
        dz1 = da1
        dz1[z1 <= 0] = 0
        grads['W1'] = x.T.dot(dz1) + self.reg * W1
        grads['b1'] = dz1.sum(axis=0)
        return loss, grads


N, D, H, C = 3, 5, 50, 7
X = np.random.randn(N, D)
y = np.random.randint(C, size=N)
model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-2)
print('Testing initialization ... ')
W1_std = abs(model.params['W1'].std() - 1e-2)
assert W1_std < 1e-2 / 2, 'First layer weights do not seem right'
for reg in [0.0, 0.7]:
    model.reg = reg
    loss, grads = model.loss(X, y)
    print('reg', reg, 'loss', loss)
losses = []
for it in range(200):
    loss, grads = model.loss(X, y)
    for k in model.params:
        model.params[k] -= 1e-1 * grads[k]
    losses.append(loss)
plt.plot(losses)
plt.show()
