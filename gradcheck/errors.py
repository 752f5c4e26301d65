"""Exception types. Each message names the offending thing: a registry name, a tensor, a shape,
a file."""

from __future__ import annotations

__all__ = [
    "DTypeError",
    "DomainError",
    "EngineUnavailableError",
    "GradcheckError",
    "NonFiniteError",
    "ParameterError",
    "ShapeError",
    "SpecError",
    "UnknownNameError",
    "format_index",
]


def format_index(index: tuple[object, ...]) -> str:
    """``[0, 1]`` for a NumPy index tuple, without NumPy 2's ``np.int64(0)`` reprs."""
    return "[" + ", ".join(str(int(i)) for i in index) + "]"  # type: ignore[call-overload]


class GradcheckError(Exception):
    """Base class of every error gradcheck raises on bad input."""


class UnknownNameError(GradcheckError, KeyError):
    """A name that no registry (activations, losses, engines, ...) holds."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SpecError(GradcheckError, ValueError):
    """A network description that cannot describe a network."""


class ParameterError(SpecError):
    """A registry entry's parameter outside its range, such as ``leaky_relu(slope=2)``."""


class ShapeError(GradcheckError, ValueError):
    """An array whose shape does not fit the network description."""


class DTypeError(GradcheckError, TypeError):
    """An array whose dtype differs from the one the check runs in."""


class NonFiniteError(GradcheckError, ValueError):
    """NaN or Inf where a finite number is required."""


class DomainError(GradcheckError, ValueError):
    """A target or prediction outside the domain of its loss."""


class EngineUnavailableError(GradcheckError, RuntimeError):
    """An engine whose optional dependency is not installed."""
