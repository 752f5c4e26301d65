from layers import *


def affine_relu_forward(x, w, b):
    a, fc = affine_forward(x, w, b)
    out, rc = relu_forward(a)
    return out, (fc, rc)
