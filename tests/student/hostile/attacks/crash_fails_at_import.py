# attack: crash
# expect: not-pass
# must: report a module that fails while loading, and not run anything else of it
"""a decorator that raises at definition time, so loading the module fails"""


def _explode(function):
    raise ImportError(f"cannot load {function.__name__}: this module is broken at import")


@_explode
def backprop(X, y, weights, biases):
    return {}
