# scratch: is my sigmoid the same as torch's?
import torch
print(torch.sigmoid(torch.zeros(1)))
