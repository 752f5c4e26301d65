"""Independent reference implementations of the dense network, its losses and its gradients.

``reference_impls.torch_impl`` and ``reference_impls.jax_impl`` each rebuild the network of a
:class:`gradcheck.nn.spec.NetworkSpec` from the framework's own operations and differentiate
it with the framework's autograd, so that they share no arithmetic with the NumPy core they
cross-check. Each exposes ``loss_and_grads(spec, params, X, y, ...) -> (loss, grads, meta)``.
Import the submodules on demand: this package itself imports neither torch nor jax.
"""
