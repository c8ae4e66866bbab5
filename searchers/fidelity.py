"""Multi-fidelity observations: what a trial reported epoch by epoch, and the GP's view of it. No Ray.

Notation: a trial's config is ``u: (d,)``; its fidelity ``r`` is how far it
trained (epochs, by default Tune's ``training_iteration``), ``r_max`` the
most any trial may train (the target). The GP sees the fidelity as one more
input coordinate ``t = log(r) / log(r_max)`` in [0, 1], so rows are
``(u, t): (d + 1,)`` and one Matern-5/2 ARD kernel spans configs and
fidelities, MOBSTER's joint design (Klein et al. 2020, "Model-based
asynchronous hyperparameter and neural architecture search").

Early epochs are noisier than late ones (a network's first-epoch accuracy
depends on its initialisation and data order far more than its tenth's), so
a result at ``t`` has noise variance ``noise + level * (1 - t)^2``: the GP's
noise at the target fidelity plus an extra that vanishes there.
``fit_fidelity_noise`` chooses ``level`` by the GP's log posterior.

Cost stays bounded: of each trial's curve only the fidelities 1, 2, 4, 8, ...
and its latest result are kept (ASHA's rungs with reduction factor 2 are
exactly these), so a trial adds ``O(log r_max)`` rows however often it reports;
and the GP sees at most ``EngineOptions.fidelity_rows`` of them (every trial's
latest result first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack

from .gp import Prior
from .kernel import GPParams, matern52, sq_dists

# Extra noise variance at t = 0, in the GP's (standardised) units, tried by ``fit_fidelity_noise``;
# and the fitted noise's values tried beside each.
FIDELITY_NOISE_LEVELS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)
_NOISE_VARS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3)


def kept_fidelities(fidelities: list[float]) -> list[float]:
    """Of a trial's reported fidelities, the powers of two and the last one (sorted)."""
    if not fidelities:
        return []
    last = max(fidelities)
    return sorted({r for r in fidelities if _power_of_two(r)} | {last})


def _power_of_two(r: float) -> bool:
    return r >= 1 and float(r).is_integer() and (int(r) & (int(r) - 1)) == 0


def encode_fidelity(r: np.ndarray | float, r_max: float) -> np.ndarray:
    """``t = log(r) / log(r_max)`` clipped to [0, 1]; every ``r`` is the target when ``r_max <= 1``."""
    r = np.asarray(r, dtype=float)
    if r_max <= 1:
        return np.ones_like(r)
    return np.clip(np.log(np.maximum(r, 1.0)) / math.log(r_max), 0.0, 1.0)


def fidelity_trend(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``b (1 - t)`` with ``b`` the least-squares slope of ``y ~ a + b (1 - t)``: a learning-curve
    trend, zero at the target fidelity ``t = 1``."""
    s = 1.0 - t
    (_, slope), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(s), s]), y, rcond=None)
    return slope * s


def extra_noise(t: np.ndarray, level: float) -> np.ndarray:
    """``(n,)`` extra noise variance of results at fidelities ``t: (n,)``: ``level`` at t = 0, none at 1."""
    return level * (1.0 - t) ** 2


def fit_fidelity_noise(theta: np.ndarray, X: np.ndarray, y: np.ndarray, cat: np.ndarray) -> tuple[float, np.ndarray]:
    """The extra-noise ``level`` and ``theta`` with its noise changed that maximise the log posterior
    of ``y: (n,)`` at rows ``X: (n, d + 1)`` (the fidelity last), the kernel's other
    hyperparameters held at ``theta``'s: every ``FIDELITY_NOISE_LEVELS`` with every ``_NOISE_VARS``
    (the noise must move with the level: a fit without it put the early epochs' scatter there)."""
    d = len(theta) - 3
    Kf, _ = matern52(sq_dists(X, X, cat), GPParams.from_theta(theta))
    prior, s, r = Prior.default(X.shape[1]), (1.0 - X[:, -1]) ** 2, y - theta[d + 2]
    best, best_level, best_theta = -math.inf, 0.0, theta
    for level in FIDELITY_NOISE_LEVELS:
        for noise in _NOISE_VARS:
            candidate = theta.copy()
            candidate[d + 1] = math.log(noise)
            K = Kf + np.diag(noise + level * s)
            L, info = lapack.dpotrf(K, lower=1, clean=0)
            if info != 0:
                continue
            alpha, _ = lapack.dpotrs(L, r, lower=1)
            value = -0.5 * r @ alpha - np.log(np.diag(L)).sum() + prior.log_value(candidate)
            if value > best:
                best, best_level, best_theta = value, level, candidate
    return best_level, best_theta


@dataclass
class LearningCurves:
    """Each running or stopped trial's config and its results by fidelity (only the kept ones)."""

    configs: dict[str, np.ndarray] = field(default_factory=dict)  # trial -> u (d,)
    results: dict[str, dict[float, float]] = field(default_factory=dict)  # trial -> {r: value}

    def add(self, trial: str, u: np.ndarray, r: float, value: float) -> bool:
        """Record ``value`` at fidelity ``r``. Returns False when ``r`` is below the trial's latest
        fidelity (it restarted from an earlier checkpoint): its results above ``r`` are dropped."""
        curve = self.results.setdefault(trial, {})
        restarted = r < max(curve, default=0.0)
        for later in [f for f in curve if f > r]:
            del curve[later]
        self.configs[trial] = np.asarray(u, dtype=float)
        curve[float(r)] = float(value)
        for stale in set(curve) - set(kept_fidelities(list(curve))):
            del curve[stale]
        return not restarted

    def latest(self, trial: str) -> float:
        return max(self.results.get(trial, {}), default=0.0)

    def __len__(self) -> int:
        return sum(len(c) for c in self.results.values())

    def rows(self, dim: int, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``U: (n, dim)``, ``r: (n,)``, ``y: (n,)``: the kept results, trial by trial. With ``limit``,
        at most that many: every trial's latest result first, then the others from the highest
        fidelity down (a trial's early epochs say least once later ones are known)."""
        rows = []  # (priority, -fidelity, order, trial, fidelity)
        for order, (trial, curve) in enumerate(self.results.items()):
            latest = max(curve, default=None)
            rows += [(fidelity != latest, -fidelity, order, trial, fidelity) for fidelity in curve]
        if limit is not None and len(rows) > limit:
            rows = sorted(rows)[:limit]
            rows.sort(key=lambda row: (row[2], row[4]))  # back to trial order: the fit is order-free, tests are not
        U = np.array([self.configs[row[3]] for row in rows], dtype=float).reshape(-1, dim)
        r = np.array([row[4] for row in rows], dtype=float)
        y = np.array([self.results[row[3]][row[4]] for row in rows], dtype=float)
        return U, r, y

    def config_array(self, dim: int) -> np.ndarray:
        """``(trials, dim)``: every trial's config."""
        return np.array(list(self.configs.values()), dtype=float).reshape(-1, dim)

    def level_counts(self) -> dict[float, int]:
        """How many trials reached each kept fidelity (a trial that went past a level counts there)."""
        counts: dict[float, int] = {}
        for curve in self.results.values():
            for fidelity in curve:
                counts[fidelity] = counts.get(fidelity, 0) + 1
        return counts


@dataclass(frozen=True)
class AtFidelity:
    """A posterior over ``(u, t)`` seen as one over ``u`` alone, with ``t`` held fixed: what the
    acquisition optimiser maximises over (it calls ``predict`` only)."""

    posterior: object  # gp.Posterior over (d + 1) inputs
    t: float

    def __getattr__(self, name: str):
        if name == "posterior":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.posterior, name)  # y, params, to_units: the joint posterior's

    def predict(self, U: np.ndarray, *, grad: bool = False):
        return self._at_t(self.posterior.predict, U, grad)

    def predict_each(self, U: np.ndarray, *, grad: bool = False):
        """``predict`` for each component of a mixture (see ``averaging.Mixture.predict_each``)."""
        return self._at_t(self.posterior.predict_each, U, grad)

    def _at_t(self, predict, U: np.ndarray, grad: bool):
        """``predict`` at the rows ``(U, t)``; gradients without the fidelity's column."""
        out = predict(np.hstack([U, np.full((len(U), 1), self.t)]), grad=grad)
        if not grad:
            return out
        mean, var, dmean, dvar = out
        return mean, var, dmean[..., :-1], dvar[..., :-1]
