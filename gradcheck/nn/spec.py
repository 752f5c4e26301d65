"""NetworkSpec: everything that defines a dense network except its parameter values.

Parameter naming, used everywhere in gradcheck (engines, records, reports, saved cases):
``W1, b1, …, WL, bL`` where layer l maps width n_{l−1} to n_l, ``Wl`` has shape
(n_l, n_{l−1}) and ``bl`` has shape (n_l,). This is the textbook orientation, in which
z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ for one example as a column; with a batch stored as rows it reads
Z⁽ˡ⁾ = A⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾. It is also torch.nn.Linear's ``weight`` orientation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradcheck.errors import SpecError, UnknownNameError
from gradcheck.nn.activations import ACTIVATIONS, Activation
from gradcheck.nn.losses import LOSSES, REDUCTIONS, Loss

__all__ = ["DTYPES", "NetworkSpec", "param_names"]

DTYPES = ("float64", "float32")


def param_names(depth: int) -> tuple[str, ...]:
    """``("W1", "b1", …, "WL", "bL")`` for a network of ``depth`` layers."""
    return tuple(name for layer in range(1, depth + 1) for name in (f"W{layer}", f"b{layer}"))


@dataclass(frozen=True)
class NetworkSpec:
    """A dense network: widths (n₀, n₁, …, n_L), activations, loss, skips and dtype.

    ``depth`` L = len(widths) − 1 ≥ 1 counts weight layers, so depth 1 has no hidden
    layer. ``hidden`` applies to layers 1…L−1 and ``output`` to layer L; ``output``
    defaults to the loss's usual pairing (sigmoid for ``bce``, identity otherwise). ``residual``
    lists the layers l (1-based) whose input is added to their output,
    a⁽ˡ⁾ = f(z⁽ˡ⁾) + a⁽ˡ⁻¹⁾; it is allowed only where n_{l−1} = n_l. Names are stored in
    their canonical registry spelling, so equal networks compare and print equal.
    """

    widths: tuple[int, ...]
    hidden: str = "tanh"
    output: str | None = None
    loss: str = "mse"
    reduction: str = "sum"
    residual: tuple[int, ...] = field(default=())
    dtype: str = "float64"

    def __post_init__(self) -> None:
        widths = tuple(self.widths)
        if len(widths) < 2:
            raise SpecError(f"widths {widths} need at least an input and an output width")
        for position, width in enumerate(widths):
            if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
                raise SpecError(f"widths[{position}] = {width!r} must be a positive integer")
        object.__setattr__(self, "widths", tuple(int(w) for w in widths))
        ACTIVATIONS.get(self.hidden)  # builds the entry, so bad parameters fail here
        object.__setattr__(self, "hidden", ACTIVATIONS.canonical(self.hidden))
        LOSSES.get(self.loss)
        object.__setattr__(self, "loss", LOSSES.canonical(self.loss))
        output = self.loss_fn.default_output if self.output is None else self.output
        ACTIVATIONS.get(output)
        object.__setattr__(self, "output", ACTIVATIONS.canonical(output))
        if self.reduction not in REDUCTIONS:
            raise UnknownNameError(f"unknown reduction {self.reduction!r} (known: sum, mean)")
        try:
            dtype = np.dtype(self.dtype).name  # accepts "float32", np.float32, np.dtype(...)
        except TypeError:
            dtype = str(self.dtype)
        if dtype not in DTYPES:
            raise UnknownNameError(
                f"unsupported dtype {self.dtype!r} (supported: float64, float32)"
            )
        object.__setattr__(self, "dtype", dtype)
        residual = tuple(sorted({int(layer) for layer in self.residual}))
        for layer in residual:
            if not 1 <= layer <= self.depth:
                raise SpecError(f"residual layer {layer} does not exist (layers 1..{self.depth})")
            if widths[layer - 1] != widths[layer]:
                raise SpecError(
                    f"residual layer {layer} maps width {widths[layer - 1]} to {widths[layer]}; "
                    "a skip connection needs equal widths"
                )
        object.__setattr__(self, "residual", residual)
        self._check_loss_output()

    def _check_loss_output(self) -> None:
        lo, hi = self.loss_fn.output_range
        out_lo, out_hi = self.output_fn.output_range
        if self.depth in self.residual and (lo, hi) != (-np.inf, np.inf):
            raise SpecError(
                f"loss {self.loss} needs outputs in ({lo}, {hi}); a residual output cannot"
            )
        if out_lo < lo or out_hi > hi:
            raise SpecError(
                f"loss {self.loss} needs outputs in ({lo}, {hi}) but output activation "
                f"{self.output} ranges over [{out_lo}, {out_hi}]"
            )
        if self.loss_fn.target == "labels" and self.widths[-1] < 2:
            raise SpecError(
                f"loss {self.loss} needs at least 2 output classes, got {self.widths[-1]}"
            )

    # Derived views -------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    @property
    def np_dtype(self) -> np.dtype[np.floating]:
        return np.dtype(self.dtype)

    @property
    def hidden_fn(self) -> Activation:
        return ACTIVATIONS.get(self.hidden)

    @property
    def output_fn(self) -> Activation:
        return ACTIVATIONS.get(str(self.output))

    @property
    def loss_fn(self) -> Loss:
        return LOSSES.get(self.loss)

    def activation(self, layer: int) -> Activation:
        """The activation of layer ``layer`` (1-based)."""
        return self.output_fn if layer == self.depth else self.hidden_fn

    @property
    def param_names(self) -> tuple[str, ...]:
        return param_names(self.depth)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(1, self.depth + 1):
            shapes[f"W{layer}"] = (self.widths[layer], self.widths[layer - 1])
            shapes[f"b{layer}"] = (self.widths[layer],)
        return shapes

    @property
    def n_params(self) -> int:
        return sum(int(np.prod(shape)) for shape in self.param_shapes().values())

    def replace(self, **changes: object) -> NetworkSpec:
        fields: dict[str, object] = {
            "widths": self.widths,
            "hidden": self.hidden,
            "output": self.output,
            "loss": self.loss,
            "reduction": self.reduction,
            "residual": self.residual,
            "dtype": self.dtype,
        }
        fields.update(changes)
        return NetworkSpec(**fields)  # type: ignore[arg-type]

    # The canonical text form -----------------------------------------------------------
    def to_text(self) -> str:
        """One line that :meth:`parse` reads back, e.g.
        ``4-8-3 hidden=tanh output=identity loss=mse reduction=sum residual=- dtype=float64``."""
        residual = ",".join(str(layer) for layer in self.residual) or "-"
        return (
            f"{'-'.join(map(str, self.widths))} hidden={self.hidden} output={self.output} "
            f"loss={self.loss} reduction={self.reduction} residual={residual} dtype={self.dtype}"
        )

    __str__ = to_text

    @classmethod
    def parse(cls, text: str) -> NetworkSpec:
        """Read the form :meth:`to_text` writes. Keys other than the widths may be omitted."""
        words = _split_words(text)
        if not words:
            raise SpecError("empty network description")
        try:
            widths = tuple(int(w) for w in words[0].split("-"))
        except ValueError:
            raise SpecError(f"cannot read widths {words[0]!r}: expected e.g. 4-8-3") from None
        fields: dict[str, object] = {}
        known = {"hidden", "output", "loss", "reduction", "residual", "dtype"}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep or key not in known:
                raise SpecError(
                    f"cannot read {word!r}: expected one of {sorted(known)} as key=value"
                )
            if key == "residual":
                try:
                    fields[key] = (
                        () if value in ("", "-") else tuple(int(v) for v in value.split(","))
                    )
                except ValueError:
                    raise SpecError(f"cannot read residual={value!r}: expected e.g. 2,3") from None
            else:
                fields[key] = value
        return cls(widths, **fields)  # type: ignore[arg-type]


def _split_words(text: str) -> list[str]:
    """Split on spaces outside parentheses, so ``leaky_relu(slope=0.2, x=1)`` stays whole."""
    words: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text.strip():
        depth += (char == "(") - (char == ")")
        if char.isspace() and depth == 0:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words
