"""The NumPy backprop core: activations, losses, network spec, forward/backward, training pieces."""
