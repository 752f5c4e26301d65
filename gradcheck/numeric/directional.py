"""Directional derivatives of a black-box loss, with error bars: what probes are made of.

A probe asks for the slope of t ↦ L(θ + t·v) at t = 0, where v is a direction shaped like
θ (a dict of arrays). Its analytic counterpart is Σ g·u, with g the gradient under test
and u the direction *actually* probed (``Directional.direction``), so that the rounding of
θ ± t·v to floating point never shows up as a gradient error. Two oracles answer:

* ``CentralOracle``: D(t) = (L(θ + t·v) − L(θ − t·v)) / 2t, 2 evaluations. ``refine``
  adds L(θ ± 2t·v) (2 more) for the Richardson estimate R = (4D(t) − D(2t))/3, whose error
  bar is |R − D(t)| plus three standard deviations of the loss's noise σ divided by t:
  both are ``finite_differences.richardson`` of the four samples at steps ±t, ±2t, with
  σ = max(noise, ε·max|L|) over those samples and L(θ).
  The step is t = ε_eff^(1/3) with ε_eff = max(ε, σ/|L|) (at most
  ``steps.MAX_EFFECTIVE_EPS``), the loss's *effective* precision: a function that computes
  in float32 internally gets a float32-sized step even when it is handed float64 arrays.
  The same five values L(θ), L(θ ± t·v), L(θ ± 2t·v) also reveal a kink between
  θ − 2t·v and θ + 2t·v: the second differences at t and 2t, S(t) and S(2t), agree for a
  smooth function (to O(t²)), and differ by about half the slope jump over t near a kink.
  A refined probe with such a jump (``steps.KINK_RATIO``, ``steps.KINK_NOISE_FACTOR``) is
  ``kinked``.
* ``ComplexStepOracle``: Im L(θ + i·t·v) / t with t = ``steps.COMPLEX_STEP`` (1e-20;
  Squire and Trapp, 1998).
  There is no subtraction, so no cancellation and no step-size trade-off: the estimate is
  exact up to the rounding of one evaluation, for 1 evaluation. It needs a loss that is
  the analytic continuation of the real one (``complex_step.complex_support``).

Directions are given in units of each entry's scale (``scaled``): entry i moves by
t·v_i·max(1, |θ_i|), as a coordinate step does in ``steps.fd_step``.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from gradcheck.errors import NonFiniteError
from gradcheck.numeric.evaluator import Evaluator, LossFunctionError
from gradcheck.numeric.finite_differences import extrapolate, loss_rounding, richardson
from gradcheck.numeric.steps import (
    COMPLEX_STEP,
    KINK_NOISE_FACTOR,
    KINK_RATIO,
    MAX_EFFECTIVE_EPS,
    machine_eps,
)

__all__ = [
    "CentralOracle",
    "ComplexStepOracle",
    "Directional",
    "Oracle",
    "scaled",
]

Array = np.ndarray
Params = Mapping[str, Array]


@dataclass(frozen=True)
class Directional:
    """One numerical directional derivative: ``estimate`` ≈ Σ ∂L/∂θ · ``direction``."""

    estimate: float
    direction: dict[str, Array]
    error_bar: float
    evaluations: int
    refined: bool
    kinked: bool = False
    samples: tuple[float, ...] = ()  # L(θ + t·v), L(θ − t·v), for ``refine``
    samples_estimate: float = 0.0  # the cheap estimate a refined one started from


def scaled(params: Params, v: Mapping[str, Array]) -> dict[str, Array]:
    """v in units of each entry's scale max(1, |θ_i|), as float64."""
    return {
        name: np.asarray(v[name], np.float64) * np.maximum(1.0, np.abs(params[name])) for name in v
    }


def _move(params: Params, v: Mapping[str, Array], t: float) -> dict[str, Array]:
    return {name: (value + t * v[name]) if name in v else value for name, value in params.items()}


class Oracle(ABC):
    method: str = ""

    def __init__(self, evaluator: Evaluator, params: Params, loss: float) -> None:
        self.evaluator = evaluator
        self.params = {name: np.asarray(value, np.float64) for name, value in params.items()}
        self.loss = loss

    @abstractmethod
    def derivative(self, v: Mapping[str, Array]) -> Directional:
        """The cheap estimate along v (already scaled)."""

    def refine(self, first: Directional, v: Mapping[str, Array]) -> Directional:
        """A more careful estimate along the same v; by default the first one is final."""
        return first


class ComplexStepOracle(Oracle):
    method = "complex_step"

    def derivative(self, v: Mapping[str, Array]) -> Directional:
        t = COMPLEX_STEP
        moved = {
            name: value + 1j * t * v[name] if name in v else value.astype(np.complex128)
            for name, value in self.params.items()
        }
        value = complex_value(self.evaluator, moved)
        if not np.isfinite(value.imag):
            raise NonFiniteError(f"loss_fn's complex-step derivative is {value.imag / t}")
        direction = {name: np.asarray(v[name], np.float64) for name in v}
        return Directional(value.imag / t, direction, 0.0, 1, refined=True)


def complex_value(evaluator: Evaluator, params: Params) -> complex:
    """loss_fn at complex parameters; a discarded imaginary part is an error, not a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            raw = evaluator.raw(params)
        except Exception as error:
            raise LossFunctionError(
                f"loss_fn cannot take complex input: {type(error).__name__}: {error}"
            ) from error
    try:
        return complex(np.asarray(raw).reshape(()).item())
    except (TypeError, ValueError) as error:
        raise LossFunctionError(
            f"loss_fn returned {type(raw).__name__} for complex input"
        ) from error


class CentralOracle(Oracle):
    method = "central"

    def __init__(self, evaluator: Evaluator, params: Params, loss: float, noise: float) -> None:
        super().__init__(evaluator, params, loss)
        self.noise = noise
        effective = max(machine_eps("float64"), noise / max(abs(loss), np.finfo(np.float64).tiny))
        self.step = float(min(effective, MAX_EFFECTIVE_EPS) ** (1 / 3))
        self.truncation = 0.0  # expected truncation error of a cheap estimate (``calibrate``)

    def calibrate(self, refined: Directional) -> None:
        """Take twice the truncation error seen on one refined random direction as what
        the cheap estimate of other random directions may carry, so that they are not
        refined (2 more evaluations) for an error that is only truncation."""
        if refined.refined and not refined.kinked:
            self.truncation = 2 * abs(refined.estimate - refined.samples_estimate)

    def _rounding(self, *losses: float) -> float:
        """σ at these samples and L(θ) (``finite_differences.loss_rounding``)."""
        return float(self._sigma(np.array(losses)))

    def _sigma(self, losses: Array) -> Array:
        return loss_rounding(losses, noise=self.noise, eps=machine_eps("float64"), base=self.loss)

    def derivative(self, v: Mapping[str, Array]) -> Directional:
        t = self.step
        plus, minus = _move(self.params, v, t), _move(self.params, v, -t)
        lp, lm = self.evaluator(plus), self.evaluator(minus)
        direction = {name: (plus[name] - minus[name]) / (2 * t) for name in v}
        bar = 3 * self._rounding(lp, lm) / t + self.truncation
        estimate = (lp - lm) / (2 * t)
        return Directional(estimate, direction, bar, 2, refined=False, samples=(lp, lm))

    def refine(self, first: Directional, v: Mapping[str, Array]) -> Directional:
        if first.refined:
            return first
        t = self.step
        plus, minus = _move(self.params, v, 2 * t), _move(self.params, v, -2 * t)
        lp2, lm2 = self.evaluator(plus), self.evaluator(minus)
        losses = np.array([*first.samples, lp2, lm2])
        estimate, bar = richardson(
            losses,
            np.array([t, -t, 2 * t, -2 * t]),
            noise=self.noise,
            eps=machine_eps("float64"),
            base=self.loss,
        )
        u2 = {name: (plus[name] - minus[name]) / (4 * t) for name in v}
        return replace(
            first,
            estimate=float(estimate),
            direction={name: extrapolate(first.direction[name], u2[name]) for name in v},
            error_bar=float(bar),
            evaluations=first.evaluations + 2,
            refined=True,
            kinked=self._kinked(losses),
            samples_estimate=first.estimate,
        )

    def _kinked(self, losses: Array) -> bool:
        """Whether the second differences S(t), S(2t) of ``losses`` = L(θ + t·v), L(θ − t·v),
        L(θ + 2t·v), L(θ − 2t·v) disagree as only a kink makes them."""
        t = self.step
        lp, lm, lp2, lm2 = (float(x) for x in losses)
        rounding = float(self._sigma(losses))
        s1 = (lp - 2 * self.loss + lm) / t**2
        s2 = (lp2 - 2 * self.loss + lm2) / (4 * t**2)
        jump = abs(s1 - s2) * t  # ≈ half the slope jump at a kink, in derivative units
        smooth_bound = KINK_RATIO * max(abs(s1), abs(s2)) * t
        return jump > smooth_bound and jump > KINK_NOISE_FACTOR * rounding / t
