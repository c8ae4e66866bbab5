"""Input warping: a learned monotone map of each ordered coordinate of the unit cube onto itself.

Notation: ``U: (m, q)`` the GP's inputs (encoded configs, and the fidelity
column when multi-fidelity), ``mask: (q,)`` the coordinates that are warped
(continuous and integer ones; not categorical ones nor the fidelity).

Each warped coordinate goes through a Kumaraswamy CDF,
``w(u) = 1 - (1 - u^a)^b`` with ``a, b > 0`` (``a = b = 1``: the identity),
so a function that changes fast near one end of a range and slowly at the
other becomes one of a single lengthscale (Snoek et al. 2014, "Input warping
for Bayesian optimization of non-stationary functions"; BoTorch's ``Warp``
and HEBO use the same family). The priors on ``log a`` and ``log b`` are
``N(0, 0.75)``, BoTorch's, so the warp stays near the identity unless the
data say otherwise.

``fit_input_warp`` chooses ``a, b`` per coordinate on a grid, one coordinate
at a time, by the GP's log posterior with its other hyperparameters held; the
engine calls it before each fit, starting from the previous warp. The model
trained on warped inputs is wrapped in ``WarpedInputs``, which warps what it
is asked to predict and carries the chain rule into the gradients, so the
acquisition optimiser keeps working in the unit cube.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

_EPS = 1e-9  # the slope is taken inside (0, 1): at the ends it can be infinite
PRIOR_VAR = 0.75
GRID = np.exp(np.linspace(-np.log(2.5), np.log(2.5), 5))  # a and b: 0.4, 0.63, 1, 1.58, 2.5


@dataclass(frozen=True)
class InputWarp:
    """Kumaraswamy CDFs on the ``mask`` coordinates; the others pass through unchanged."""

    mask: np.ndarray  # (q,) bool
    a: np.ndarray  # (q,), 1 where not warped
    b: np.ndarray  # (q,)

    @classmethod
    def identity(cls, mask: np.ndarray) -> InputWarp:
        mask = np.asarray(mask, dtype=bool)
        return cls(mask, np.ones(len(mask)), np.ones(len(mask)))

    def with_coordinate(self, j: int, a: float, b: float) -> InputWarp:
        new_a, new_b = self.a.copy(), self.b.copy()
        new_a[j], new_b[j] = a, b
        return replace(self, a=new_a, b=new_b)

    def apply(self, U: np.ndarray) -> np.ndarray:
        """``(m, q)``: ``U`` with the masked coordinates warped."""
        out = np.array(U, dtype=float)
        u = np.clip(out[:, self.mask], 0.0, 1.0)
        a, b = self.a[self.mask], self.b[self.mask]
        out[:, self.mask] = 1.0 - (1.0 - u**a) ** b
        return out

    def slope(self, U: np.ndarray) -> np.ndarray:
        """``(m, q)``: ``dw/du`` coordinate by coordinate (1 where not warped)."""
        out = np.ones(np.shape(U))
        u = np.clip(np.asarray(U, dtype=float)[:, self.mask], _EPS, 1.0 - _EPS)
        a, b = self.a[self.mask], self.b[self.mask]
        out[:, self.mask] = a * b * u ** (a - 1.0) * (1.0 - u**a) ** (b - 1.0)
        return out

    def log_prior(self) -> float:
        logs = np.log(np.concatenate([self.a[self.mask], self.b[self.mask]]))
        return float(-0.5 * (logs @ logs) / PRIOR_VAR)


def fit_input_warp(X: np.ndarray, log_likelihood: Callable[[np.ndarray], float], start: InputWarp) -> InputWarp:
    """The warp that maximises ``log_likelihood(warp.apply(X)) + warp.log_prior()``: one pass of
    coordinate search over ``GRID`` x ``GRID`` for each masked coordinate of ``X: (n, q)``, from ``start``."""
    warp = start
    best = log_likelihood(warp.apply(X)) + warp.log_prior()
    for j in np.flatnonzero(warp.mask):
        for a in GRID:
            for b in GRID:
                candidate = warp.with_coordinate(j, a, b)
                value = log_likelihood(candidate.apply(X)) + candidate.log_prior()
                if value > best:
                    warp, best = candidate, value
    return warp


@dataclass(frozen=True)
class WarpedInputs:
    """A model fitted on ``warp.apply(X)`` seen as a model of the unwarped inputs: ``predict`` and
    ``predict_each`` warp their rows and chain-rule their gradients; anything else is the model's."""

    model: object  # gp.Posterior or averaging.Mixture, fitted on warped inputs
    warp: InputWarp

    def __getattr__(self, name: str):
        if name in ("model", "warp"):  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.model, name)

    def predict(self, U: np.ndarray, *, grad: bool = False):
        return self._warped(self.model.predict, U, grad)

    def predict_each(self, U: np.ndarray, *, grad: bool = False):
        return self._warped(self.model.predict_each, U, grad)

    def _warped(self, predict, U: np.ndarray, grad: bool):
        out = predict(self.warp.apply(U), grad=grad)
        if not grad:
            return out
        mean, var, dmean, dvar = out
        slope = self.warp.slope(U)  # (m, q): broadcasts over a leading component axis too
        return mean, var, dmean * slope, dvar * slope
