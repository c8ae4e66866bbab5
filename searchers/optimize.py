"""Maximise an acquisition function over the encoded mixed space.

Shapes: candidates ``U: (m, d)`` in the unit cube, always snapped (see
``space.SearchSpace.snap``) so that a value is the value of a configuration.

The search, in the manner of BoTorch's ``optimize_acqf_mixed`` and Optuna's
``optim_mixed``:

1. raw candidates: a scrambled Sobol set plus perturbations of the best
   observed points (most good configurations are near good configurations);
   an averaged acquisition (``AveragedAcquisition``) screens them first with
   its ``screen``, one component's acquisition, and evaluates only the best
   ``n_screened`` under all its components;
2. the best few are refined by coordinate ascent: L-BFGS-B over the
   continuous coordinates with the discrete ones fixed, then every
   neighbouring grid value of each integer / quantised coordinate and every
   choice of each categorical coordinate, one best move at a time, until no
   move improves;
3. the best candidate that is not excluded (observed or pending) wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .gp import Posterior
from .points import duplicates_of, sobol
from .space import CategoricalParam, GridParam, SearchSpace

AcquisitionRule = Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class OptimizeOptions:
    n_raw: int = 1024
    n_perturb: int = 256
    n_screened: int = 128  # raw candidates an averaged acquisition evaluates in full (see `screen`)
    perturb_scale: float = 0.05
    n_refine: int = 4
    max_rounds: int = 4
    lbfgs_iter: int = 40
    grid_radius: int = 2  # neighbouring grid values tried on each side


@dataclass(frozen=True)
class AcquisitionFunction:
    """The acquisition of a posterior as a function of encoded points."""

    posterior: Posterior
    rule: AcquisitionRule  # e.g. acquisition.log_ei
    best: float

    def __call__(self, U: np.ndarray) -> np.ndarray:
        mean, var = self.posterior.predict(U)
        return self.rule(mean, np.sqrt(var), self.best)[0]

    def with_grad(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var, dmean, dvar = self.posterior.predict(U, grad=True)
        std = np.sqrt(var)
        value, d_mean, d_std = self.rule(mean, std, self.best)
        grad = d_mean[:, None] * dmean + (d_std / (2.0 * std))[:, None] * dvar
        return value, grad


@dataclass(frozen=True)
class AveragedAcquisition:
    """The acquisition averaged over the components of a hyperparameter mixture (see
    ``searchers.averaging``), each with its own incumbent ``bests: (S,)``. With ``log_values``
    (log EI) the components' values are averaged in their natural scale and the result is its
    log: ``log mean_s exp(a_s)``, computed stably."""

    mixture: object  # averaging.Mixture, or a fidelity.AtFidelity of one: anything with predict_each
    rule: AcquisitionRule
    bests: np.ndarray  # (S,)
    log_values: bool = True
    # A cheap stand-in that ranks the raw candidates before they are evaluated under every
    # component: the acquisition of one component (an S-th of the cost).
    screen: AcquisitionFunction | None = None

    def __call__(self, U: np.ndarray) -> np.ndarray:
        means, variances = self.mixture.predict_each(U)  # (S, m) each
        values = self.rule(means, np.sqrt(variances), self.bests[:, None])[0]
        return _log_mean_exp(values) if self.log_values else values.mean(axis=0)

    def with_grad(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        means, variances, dmeans, dvars = self.mixture.predict_each(U, grad=True)
        stds = np.sqrt(variances)
        values, d_mean, d_std = self.rule(means, stds, self.bests[:, None])  # (S, m) each
        grads = d_mean[:, :, None] * dmeans + (d_std / (2.0 * stds))[:, :, None] * dvars  # (S, m, d)
        if not self.log_values:
            return values.mean(axis=0), grads.mean(axis=0)
        value = _log_mean_exp(values)
        weights = np.exp(values - value[None, :] - np.log(len(values)))  # d value / d values_s
        return value, np.einsum("sm,smd->md", weights, grads)


def _log_mean_exp(values: np.ndarray) -> np.ndarray:
    top = values.max(axis=0)
    return top + np.log(np.mean(np.exp(values - top[None, :]), axis=0))


Acquisition = AcquisitionFunction | AveragedAcquisition


def maximize_acquisition(
    acquisition: Acquisition,
    space: SearchSpace,
    *,
    rng: np.random.Generator,
    incumbents: np.ndarray,
    exclude: np.ndarray,
    options: OptimizeOptions = OptimizeOptions(),
) -> np.ndarray | None:
    """The best non-excluded snapped point ``(d,)``, or None if every candidate is excluded.

    ``incumbents: (k, d)`` are perturbed to make raw candidates; ``exclude: (e, d)``
    are snapped points that must not be returned.
    """
    raw = np.vstack([
        sobol(space, options.n_raw, seed=int(rng.integers(2**31))),
        _perturb(space, incumbents, options.n_perturb, options.perturb_scale, rng),
    ])
    raw = np.unique(raw, axis=0)
    screen = getattr(acquisition, "screen", None)
    if screen is not None and len(raw) > options.n_screened:
        raw = raw[np.argsort(-_chunked(screen, raw))[: options.n_screened]]
    values = _chunked(acquisition, raw)
    order = np.argsort(-values)
    fresh = order[~duplicates_of(raw[order], exclude)]
    refined = _refine(acquisition, space, raw[fresh[: options.n_refine]], exclude, options)
    candidates = np.vstack([raw, refined])
    cand_values = np.concatenate([values, acquisition(refined)])
    for i in np.argsort(-cand_values):
        if not duplicates_of(candidates[i : i + 1], exclude)[0]:
            return candidates[i].copy()
    return None


def _chunked(acquisition: Acquisition, U: np.ndarray, size: int = 512) -> np.ndarray:
    return np.concatenate([acquisition(U[i : i + size]) for i in range(0, len(U), size)])


def _perturb(space: SearchSpace, centres: np.ndarray, n: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """``(n, d)`` snapped Gaussian perturbations of ``centres``; categoricals re-drawn with probability 1/d."""
    if len(centres) == 0 or n == 0:
        return np.empty((0, space.dim))
    base = centres[rng.integers(len(centres), size=n)]
    moved = base + scale * rng.standard_normal(base.shape)
    cat = space.categorical_mask
    flip = (rng.random(base.shape) < 1.0 / space.dim) & cat[None, :]
    moved[:, cat] = base[:, cat]
    moved = np.where(flip, rng.random(base.shape), moved)
    return space.snap(moved)


def _refine(
    acquisition: Acquisition, space: SearchSpace, starts: np.ndarray, exclude: np.ndarray,
    options: OptimizeOptions,
) -> np.ndarray:
    """Coordinate ascent from each row of ``starts: (k, d)``; returns the ``(k, d)`` end points.

    The continuous block of every start is moved by one joint L-BFGS-B run (the
    acquisition is a sum of independent terms, so its Hessian is block-diagonal
    and one run costs what one start costs); the discrete coordinates are then
    improved by enumeration. Rounds repeat while a discrete move changes a point.
    """
    points = starts.copy()
    if len(points) == 0:
        return points
    for _ in range(options.max_rounds):
        points = _ascend_continuous(acquisition, space, points, options.lbfgs_iter)
        moved = [_ascend_discrete(acquisition, space, u, exclude, options.grid_radius) for u in points]
        new_points = np.array(moved).reshape(points.shape)
        if np.array_equal(new_points, points):
            break
        points = new_points
    return points


def _ascend_continuous(
    acquisition: Acquisition, space: SearchSpace, points: np.ndarray, max_iter: int
) -> np.ndarray:
    free = np.flatnonzero(space.continuous_mask)
    if len(free) == 0:
        return points
    k = len(points)

    def negative_sum(x: np.ndarray) -> tuple[float, np.ndarray]:
        trial = points.copy()
        trial[:, free] = x.reshape(k, len(free))
        values, grads = acquisition.with_grad(trial)
        return -float(values.sum()), -grads[:, free].ravel()

    before = acquisition(points)
    res = minimize(negative_sum, points[:, free].ravel(), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, 1.0)] * (k * len(free)), options={"maxiter": max_iter})
    moved = points.copy()
    moved[:, free] = np.clip(res.x.reshape(k, len(free)), 0.0, 1.0)
    # The joint run maximises the sum; keep a start where its own value got worse.
    worse = acquisition(moved) < before
    moved[worse] = points[worse]
    return moved


def _ascend_discrete(
    acquisition: Acquisition, space: SearchSpace, u: np.ndarray, exclude: np.ndarray, radius: int
) -> np.ndarray:
    """Best single-coordinate moves among grid neighbours and categories, repeated until none improves."""
    value = float(acquisition(u[None])[0])
    while True:
        moves = _discrete_moves(space, u, radius)
        moves = moves[~duplicates_of(moves, exclude)]
        if len(moves) == 0:
            return u
        values = acquisition(moves)
        i = int(np.argmax(values))
        if values[i] <= value + 1e-12:
            return u
        u, value = moves[i], float(values[i])


def _discrete_moves(space: SearchSpace, u: np.ndarray, radius: int) -> np.ndarray:
    """``(k, d)`` points that differ from ``u`` in one discrete coordinate."""
    moves = []
    for j, p in enumerate(space.params):
        if isinstance(p, CategoricalParam):
            options = range(p.size)
        elif isinstance(p, GridParam):
            k = p.index_of(u[j])
            options = range(max(0, k - radius), min(p.size, k + radius + 1))
        else:
            continue
        here = p.index_of(u[j])
        for k in options:
            if k != here:
                moved = u.copy()
                moved[j] = p.encode_index(k)
                moves.append(moved)
    return np.array(moves).reshape(-1, space.dim)
