# attack: cheat
# expect: not-pass
# must: not pass it: nothing of the grader's reference is in the submission's process
"""hunts the expected gradient through gc.get_objects, every thread's frames, inspect.stack and
the globals of sys.modules['__main__'], and returns whatever fits the shapes"""

import gc
import inspect
import sys

import numpy as np

KEYS = ("w1", "b1", "w2", "b2")


def _candidates(shapes, inputs):
    seen = {id(v) for v in inputs.values()}
    found = {}
    spaces = [vars(sys.modules["__main__"])]
    spaces += [frame.f_locals for frame in sys._current_frames().values()]
    spaces += [info.frame.f_locals for info in inspect.stack()]
    spaces += [o for o in gc.get_objects() if isinstance(o, dict)]
    for space in spaces:
        for key in KEYS:
            value = space.get(key) if isinstance(space, dict) else None
            if (
                isinstance(value, np.ndarray)
                and id(value) not in seen
                and value.shape == shapes[key]
            ):
                found.setdefault(key, value)
    for obj in gc.get_objects():
        if isinstance(obj, np.ndarray) and id(obj) not in seen:
            for key in KEYS:
                if obj.shape == shapes[key]:
                    found.setdefault(key, obj)
    return found


def backprop(X, y, weights, biases):
    inputs = {**weights, **biases}
    shapes = {k: v.shape for k, v in inputs.items()}
    found = _candidates(shapes, inputs)
    return {k: np.array(found.get(k, np.ones(shapes[k]))) for k in KEYS}
