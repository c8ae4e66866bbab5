"""Gaussian-process regression: constant mean, Matern-5/2 ARD kernel, Gaussian noise.

Notation and shapes:

* ``X: (n, d)`` training inputs in the unit cube, ``y: (n,)`` targets;
* ``Xs: (m, d)`` query points;
* ``cat: (d,)`` bool, the categorical coordinates.

Model. ``y = m + f(x) + eps``, ``f ~ GP(0, k)`` with ``k`` the Matern-5/2 ARD kernel of
``searchers.kernel`` (lengthscales ``l``, signal variance ``s2``), ``eps_i ~ N(0, noise + extra_i)``: ``extra: (n,)``,
zero unless given, is known noise on top of the learned one (a multi-fidelity model's noisier
early epochs, see ``searchers.fidelity.fit_fidelity_noise``). The GP
sees ``y`` standardised (zero mean, unit variance), with ``warp=True`` first
centred on its median, scaled by its interquartile range and Yeo-Johnson
transformed (see ``OutputScaling``); ``fit`` does it and ``Posterior`` keeps
the ``OutputScaling`` so that callers can return to the metric's own units.

Hyperparameters ``theta = (log l_1..l_d, log s2, log noise, m)`` are fitted by
maximising the log marginal likelihood plus weak priors (see ``Prior``) with
multi-start L-BFGS-B in log space, warm-started from the previous fit.
``noise >= NOISE_FLOOR``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, solve_triangular
from scipy.optimize import minimize

from .kernel import GPParams, cholesky_with_jitter, matern52, matern52_of_r2, scaled_sq_dists, sq_dists
from .warping import POWERS, OutputScaling

logger = logging.getLogger(__name__)

NOISE_FLOOR = 1e-6
_LOG_2PI = math.log(2 * math.pi)
_PLAIN = OutputScaling()  # standardised targets, no warp


@dataclass(frozen=True)
class Prior:
    """Weak priors on ``theta`` and the box L-BFGS-B keeps it in.

    With ``l`` a lengthscale, ``s2`` the signal variance, ``noise`` the noise
    variance and ``m`` the constant mean, the log density (up to a constant) is::

        -0.1 * sum(l^2 + l^-2)                  # lengthscales near the cube's size
        + log(s2) - s2                          # Gamma(2, 1) on s2
        + 0.1 * log(noise) - 30 * noise         # Gamma(1.1, 30): small noise
        - m^2 / 2                               # N(0, 1) on the mean

    These are Optuna's GP priors (``optuna/_gp/prior.py``) plus the mean's,
    chosen over BoTorch's dimension-scaled lengthscale prior, whose long
    lengthscales trapped the search in Hartmann6's local optimum
    (docs/benchmark/README.md).
    """

    lower: np.ndarray  # (d + 3,)
    upper: np.ndarray

    @classmethod
    def default(cls, d: int) -> Prior:
        lower = np.array([math.log(1e-3)] * d + [math.log(1e-2), math.log(NOISE_FLOOR), -3.0])
        upper = np.array([math.log(1e3)] * d + [math.log(1e2), math.log(1.0), 3.0])
        return cls(lower, upper)

    @property
    def centre(self) -> np.ndarray:
        """Where fits start when nothing better is known: ``l = 1, s2 = 1, noise = 1e-3, m = 0``."""
        d = len(self.lower) - 3
        return np.array([0.0] * d + [0.0, math.log(1e-3), 0.0])

    def clip(self, theta: np.ndarray) -> np.ndarray:
        return np.clip(theta, self.lower, self.upper)

    def log_density(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        d = len(theta) - 3
        grad = np.empty_like(theta)
        grad[:d] = -0.4 * np.sinh(2 * theta[:d])
        s2, noise, m = math.exp(theta[d]), math.exp(theta[d + 1]), theta[d + 2]
        grad[d], grad[d + 1], grad[d + 2] = 1.0 - s2, 0.1 - 30.0 * noise, -m
        return self.log_value(theta), grad

    def log_value(self, theta: np.ndarray) -> float:
        """``log_density``'s value alone (``l^2 + l^-2 = 2 cosh(2 log l)``)."""
        d = len(theta) - 3
        s2_log, noise_log, m = theta[d], theta[d + 1], theta[d + 2]
        return (-0.2 * float(np.cosh(2 * theta[:d]).sum()) + s2_log - math.exp(s2_log) + 0.1 * noise_log
                - 30.0 * math.exp(noise_log) - 0.5 * m * m)

    def contains(self, theta: np.ndarray) -> bool:
        return not ((theta < self.lower).any() or (theta > self.upper).any())

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """A random start for the fit: the centre, moved by a factor up to ~3 in each scale."""
        theta = self.centre + rng.normal(scale=1.0, size=len(self.lower))
        return self.clip(theta)


# --- marginal likelihood ---------------------------------------------------------------


def neg_log_marginal(theta: np.ndarray, D2: np.ndarray, y: np.ndarray,
                     extra: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood of standardised ``y: (n,)`` and its gradient in ``theta``."""
    params = GPParams.from_theta(theta)
    n, d = len(y), D2.shape[2]
    Kf, dK_dr2 = matern52(D2, params)
    K = Kf + params.noise_var * np.eye(n)
    if extra is not None:
        K.flat[:: n + 1] += extra
    L = cholesky_with_jitter(K)
    r = y - params.mean
    alpha = cho_solve((L, True), r, check_finite=False)
    value = 0.5 * r @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * _LOG_2PI

    # d value / d theta_k = 0.5 * sum_ij W_ij dK_ij/dtheta_k, W = K^-1 - alpha alpha^T
    W = cho_solve((L, True), np.eye(n), check_finite=False) - np.outer(alpha, alpha)
    grad = np.empty(d + 3)
    # dK/dlog l_q = dK/dr2 * (-2 D2_q / l_q^2)
    grad[:d] = -np.einsum("ij,ijq->q", W * dK_dr2, D2) / params.lengthscales**2
    grad[d] = 0.5 * np.sum(W * Kf)
    grad[d + 1] = 0.5 * params.noise_var * np.trace(W)
    grad[d + 2] = -alpha.sum()
    return float(value), grad


def _objective(theta: np.ndarray, D2: np.ndarray, y: np.ndarray, prior: Prior,
               extra: np.ndarray | None) -> tuple[float, np.ndarray]:
    try:
        value, grad = neg_log_marginal(theta, D2, y, extra)
    except LinAlgError:
        return 1e25, np.zeros_like(theta)
    log_p, dlog_p = prior.log_density(theta)
    return value - log_p, grad - dlog_p


def fit_params(
    X: np.ndarray,
    y: np.ndarray,
    cat: np.ndarray,
    *,
    rng: np.random.Generator,
    warm_start: GPParams | None = None,
    n_starts: int = 3,
    max_iter: int = 200,
    extra: np.ndarray | None = None,
) -> GPParams:
    """Maximum a posteriori hyperparameters for standardised ``y``.

    Starts from ``warm_start`` (when given), the prior's centre, and random draws
    from the prior, ``n_starts`` in all; keeps the best. Falls back to the prior's
    centre with a warning when every start fails.
    """
    prior = Prior.default(X.shape[1])
    D2 = sq_dists(X, X, cat)
    starts = [] if warm_start is None else [prior.clip(warm_start.to_theta())]
    starts.append(prior.centre)
    while len(starts) < n_starts:
        starts.append(prior.sample(rng))
    best_theta, best_value = None, math.inf
    for theta0 in starts[: max(n_starts, 1)]:
        res = minimize(
            _objective,
            theta0,
            args=(D2, y, prior, extra),
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(prior.lower, prior.upper, strict=False)),
            options={"maxiter": max_iter},
        )
        if np.isfinite(res.fun) and res.fun < best_value:
            best_theta, best_value = res.x, float(res.fun)
    if best_theta is None or best_value >= 1e24:
        logger.warning("GP hyperparameter fit failed on %d points; using the prior's centre", len(y))
        best_theta = prior.centre
    return GPParams.from_theta(best_theta)


# --- posterior -------------------------------------------------------------------------


@dataclass(frozen=True)
class Posterior:
    """A GP conditioned on data; predictions are in the GP's units (``scaling`` maps them back)."""

    X: np.ndarray  # (n, d)
    y: np.ndarray  # (n,) in the GP's units
    cat: np.ndarray  # (d,)
    params: GPParams
    L_inv: np.ndarray  # (n, n) inverse of the lower Cholesky factor of K + diag(noise): predictions are matmuls
    alpha: np.ndarray  # (n,) (K + diag(noise))^-1 (y - mean)
    noise: np.ndarray  # (n,) per-point noise variance: params.noise_var, or less for pending fantasies
    scaling: OutputScaling = OutputScaling()

    @classmethod
    def build(
        cls, X: np.ndarray, y: np.ndarray, cat: np.ndarray, params: GPParams, *,
        noise: np.ndarray | None = None, scaling: OutputScaling = _PLAIN, extra: np.ndarray | None = None,
    ) -> Posterior:
        """``noise: (n,)`` the per-point noise variance, else ``params.noise_var`` plus ``extra``."""
        if noise is None:
            noise = params.noise_var + (np.zeros(len(y)) if extra is None else extra)
        Kf, _ = matern52(sq_dists(X, X, cat), params)
        L = cholesky_with_jitter(Kf + np.diag(noise))
        # The triangular inverse, not (K + noise)^-1: its error grows with sqrt(cond K), not cond K,
        # and the variance below stays a sum of squares (an explicit K^-1 made L-BFGS-B's line
        # searches fail on Branin once observations cluster).
        L_inv = solve_triangular(L, np.eye(len(y)), lower=True, check_finite=False)
        alpha = cho_solve((L, True), y - params.mean, check_finite=False)
        return cls(X, y, cat, params, L_inv, alpha, noise, scaling)

    def predict(self, Xs: np.ndarray, *, grad: bool = False):
        """Mean and variance of ``f`` at ``Xs: (m, d)``, each ``(m,)``.

        With ``grad=True`` also ``dmean: (m, d)`` and ``dvar: (m, d)`` (zero on
        categorical coordinates, which have no gradient).
        """
        Ks, dK_dr2 = matern52_of_r2(scaled_sq_dists(Xs, self.X, self.cat, self.params.lengthscales), self.params)
        mean = self.params.mean + Ks @ self.alpha
        V = Ks @ self.L_inv.T  # (m, n) = (L^-1 Ks^T)^T
        var = np.maximum(self.params.signal_var - np.einsum("mn,mn->m", V, V), 1e-12)
        if not grad:
            return mean, var
        B = V @ self.L_inv  # (m, n) = Ks K^-1
        # dKs[m, n]/dx_j = 2 dK_dr2[m, n] (x_mj - X_nj) / l_j^2, so sum_n W[m, n] dKs[m, n]/dx_j is
        # 2 / l_j^2 (x_mj sum_n W[m, n] - (W X)[m, j]): matrix products, no (m, n, d) array.
        scale = 2.0 * np.where(self.cat, 0.0, 1.0 / self.params.lengthscales**2)

        def through_kernel(W: np.ndarray) -> np.ndarray:
            return scale * (Xs * W.sum(axis=1)[:, None] - W @ self.X)

        dmean = through_kernel(dK_dr2 * self.alpha)
        dvar = -2.0 * through_kernel(dK_dr2 * B)
        return mean, var, dmean, dvar

    def predict_each(self, Xs: np.ndarray, *, grad: bool = False):
        """``predict`` with a leading axis of one component, as ``averaging.Mixture.predict_each``."""
        return tuple(part[None] for part in self.predict(Xs, grad=grad))

    @property
    def components(self) -> tuple[Posterior, ...]:
        return (self,)

    def condition(self, X_new: np.ndarray, y_new: np.ndarray, noise_var: float | None = None) -> Posterior:
        """The same GP, hyperparameters unchanged, with extra observations in its units.

        ``noise_var`` overrides the learned noise for the new points (a fantasy
        known exactly uses the floor).
        """
        X = np.vstack([self.X, X_new])
        y = np.concatenate([self.y, y_new])
        extra = np.full(len(y_new), self.params.noise_var if noise_var is None else noise_var)
        return Posterior.build(X, y, self.cat, self.params, noise=np.concatenate([self.noise, extra]),
                               scaling=self.scaling)

    def to_units(self, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GP mean and variance back to the targets' own units ``(centre, std)``, see ``OutputScaling``."""
        return self.scaling.to_units(mean, var)


def fit(
    X: np.ndarray,
    y: np.ndarray,
    cat: np.ndarray,
    *,
    rng: np.random.Generator,
    warm_start: GPParams | None = None,
    n_starts: int = 3,
    fit_subset: int | None = None,
    refit: bool = True,
    warp: bool = False,
    warp_powers: tuple[float, float] = POWERS,
    extra: np.ndarray | None = None,
) -> Posterior:
    """Scale ``y`` (standardise; with ``warp`` also Yeo-Johnson, its power within ``warp_powers``), fit
    hyperparameters (unless ``refit`` is False), and condition.

    ``fit_subset`` bounds the cost of the fit at large ``n``: hyperparameters are
    fitted on that many points (the best half and a random half of the rest),
    and the posterior still conditions on every point. ``extra: (n,)`` is known noise variance per
    point on top of the fitted noise, in the GP's units.
    """
    z, scaling = OutputScaling.fit(y, warp=warp, powers=warp_powers)
    if refit or warm_start is None:
        Xf, zf, ef = X, z, extra
        if fit_subset is not None and len(z) > fit_subset:
            keep = _subset(z, fit_subset, rng)
            Xf, zf, ef = X[keep], z[keep], None if extra is None else extra[keep]
        params = fit_params(Xf, zf, cat, rng=rng, warm_start=warm_start, n_starts=n_starts, extra=ef)
    else:
        params = warm_start
    return Posterior.build(X, z, cat, params, scaling=scaling, extra=extra)


def _subset(z: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    order = np.argsort(-z)
    best = order[: size // 2]
    rest = rng.choice(order[size // 2 :], size - len(best), replace=False)
    return np.sort(np.concatenate([best, rest]))
