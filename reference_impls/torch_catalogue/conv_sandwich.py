"""torch twins of the conv sandwich layers: conv then relu, and conv, relu, max pool."""

from __future__ import annotations

import torch.nn.functional as F

from reference_impls.torch_catalogue import twin
from reference_impls.torch_catalogue.conv import conv
from reference_impls.torch_catalogue.pooling import max_pool

twin("conv_relu")(lambda v: {"out": F.relu(conv(v))})
twin("conv_relu_pool")(lambda v: {"out": max_pool(F.relu(conv(v)), v)})
