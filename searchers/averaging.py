"""Model averaging over the GP's hyperparameters: posterior samples of ``theta`` and their mixture.

Notation as in ``searchers.gp``: ``theta = (log l_1..l_d, log s2, log noise, m)``,
``p = d + 3`` entries; ``X: (n, d)``, standardised (or warped) targets ``y: (n,)``.

One maximum-a-posteriori ``theta`` fitted on 20-40 points is often too sure
of itself: short lengthscales around a local optimum, and EI never looks
elsewhere. Here the hyperparameters are integrated out instead (Snoek et al.
2012, "Practical Bayesian optimization of machine learning algorithms", the
"integrated acquisition"): ``theta_1..theta_S`` are drawn from
``p(theta | X, y)`` (marginal likelihood times ``gp.Prior``, in its box) by
coordinate-wise slice sampling with stepping out (Neal 2003), and

* the model is the mixture of the ``S`` posteriors, equally weighted; its
  prediction is the mixture's mean and variance;
* the acquisition is the average of EI over the components, computed in log
  space as the log-mean-exp of their log-EI (``optimize.AveragedAcquisition``);
* pending trials are believed per component, each at its own mean.

The chain carries on from where the previous suggestion left it (as
Spearmint does), so a few sweeps per suggestion suffice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.linalg import LinAlgError, lapack

from .gp import Posterior, Prior
from .kernel import GPParams, cholesky_with_jitter, sq_dists
from .warping import OutputScaling

LogDensity = Callable[[np.ndarray], float]
_STEP_OUT = 4  # most widenings of a slice on each side


def log_posterior(theta: np.ndarray, D2: np.ndarray, y: np.ndarray, prior: Prior,
                  extra: np.ndarray | None = None) -> float:
    """``log p(y | theta) + log prior(theta)`` up to a constant; ``-inf`` outside the prior's box.
    ``extra: (n,)`` known noise variance per point on top of the fitted one (``gp.fit``'s).

    Value only, straight from LAPACK, with the kernel computed in place: the sampler calls it
    ~20 times per sweep."""
    if not prior.contains(theta):
        return -math.inf
    n, _, d = D2.shape
    c = D2.reshape(n * n, d) @ (5.0 * np.exp(-2.0 * theta[:d]))  # 5 r^2
    np.sqrt(c, out=c)
    e = np.exp(-c)
    K = c * c
    K *= 1.0 / 3.0
    K += c
    K += 1.0
    K *= e
    K *= math.exp(theta[d])
    K = K.reshape(n, n)
    K.flat[:: n + 1] += math.exp(theta[d + 1])
    if extra is not None:
        K.flat[:: n + 1] += extra
    L, info = lapack.dpotrf(K, lower=1, clean=0)
    if info != 0:
        try:
            L = cholesky_with_jitter(K)
        except LinAlgError:
            return -math.inf
    r = y - theta[d + 2]
    alpha, _ = lapack.dpotrs(L, r, lower=1)
    return float(-0.5 * r @ alpha - np.log(np.diag(L)).sum() + prior.log_value(theta))


def slice_sample(
    log_density: LogDensity, start: np.ndarray, *, n_sweeps: int, rng: np.random.Generator, width: float = 1.0,
    step_out: int = _STEP_OUT,
) -> np.ndarray:
    """``(n_sweeps, p)``: the state after each sweep of univariate slice sampling over every
    coordinate in turn (an interval of ``width`` placed at random, widened at most ``step_out``
    times on each side, then shrunk), from ``start: (p,)``."""
    x = np.array(start, dtype=float)
    current = log_density(x)
    if not math.isfinite(current):
        raise ValueError("the slice sampler must start where the density is positive")
    samples = np.empty((n_sweeps, len(x)))
    for sweep in range(n_sweeps):
        for j in rng.permutation(len(x)):
            x, current = _slice_step(log_density, x, current, j, width, step_out, rng)
        samples[sweep] = x
    return samples


def _slice_step(
    log_density: LogDensity, x: np.ndarray, current: float, j: int, width: float, step_out: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """One slice-sampling update of coordinate ``j``; returns the new point and its log density."""
    level = current + math.log(rng.random())

    def at(value: float) -> tuple[np.ndarray, float]:
        moved = x.copy()
        moved[j] = value
        return moved, log_density(moved)

    left = x[j] - width * rng.random()
    right = left + width
    for _ in range(step_out):
        if at(left)[1] <= level:
            break
        left -= width
    for _ in range(step_out):
        if at(right)[1] <= level:
            break
        right += width
    while right - left > 1e-10:
        moved, value = at(left + (right - left) * rng.random())
        if value > level:
            return moved, value
        if moved[j] < x[j]:
            left = moved[j]
        else:
            right = moved[j]
    return x, current  # the slice shrank to the current point: stay


def sample_params(
    X: np.ndarray, y: np.ndarray, cat: np.ndarray, start: GPParams, *, n_samples: int, rng: np.random.Generator,
    extra: np.ndarray | None = None,
) -> list[GPParams]:
    """``n_samples`` hyperparameter draws for standardised ``y``, one per sweep of a chain from ``start``."""
    prior = Prior.default(X.shape[1])
    D2 = sq_dists(X, X, cat)
    # A window of 2 in log space, not widened: the posteriors' spreads are ~0.2-2 there, and the
    # window sweeps in ~20 evaluations instead of ~48 with stepping out (measured on Hartmann6 at 40
    # points, lag-1 autocorrelation 0.53 against 0.29); a chain that carries on across suggestions
    # can afford that.
    thetas = slice_sample(lambda theta: log_posterior(theta, D2, y, prior, extra), prior.clip(start.to_theta()),
                          n_sweeps=n_samples, rng=rng, width=2.0, step_out=0)
    return [GPParams.from_theta(theta) for theta in thetas]


@dataclass(frozen=True)
class _Stacked:
    """The components' hyperparameters and factors, stacked along a first axis of size ``S``."""

    inv_l2: np.ndarray  # (S, d)
    signal: np.ndarray  # (S,)
    mean: np.ndarray  # (S,)
    alpha: np.ndarray  # (S, n)
    L_inv: np.ndarray  # (S, n, n)


@dataclass(frozen=True)
class Mixture:
    """Equally weighted GP posteriors on the same data, one per hyperparameter sample."""

    components: tuple[Posterior, ...]

    @classmethod
    def build(cls, X: np.ndarray, y: np.ndarray, cat: np.ndarray, samples: list[GPParams], *,
              scaling: OutputScaling, extra: np.ndarray | None = None) -> Mixture:
        return cls(tuple(Posterior.build(X, y, cat, params, scaling=scaling, extra=extra) for params in samples))

    @property
    def X(self) -> np.ndarray:
        return self.components[0].X

    @property
    def y(self) -> np.ndarray:
        """The targets the components share (pending fantasies, which differ, excluded)."""
        n = min(len(c.y) for c in self.components)
        return self.components[0].y[:n]

    @property
    def scaling(self) -> OutputScaling:
        return self.components[0].scaling

    @property
    def params(self) -> GPParams:
        """The samples' median ``theta``: a summary for reports; the model uses every sample."""
        return GPParams.from_theta(np.median([c.params.to_theta() for c in self.components], axis=0))

    def predict(self, Xs: np.ndarray, *, grad: bool = False):
        """The mixture's mean and variance at ``Xs: (m, d)`` (law of total variance), with
        ``grad=True`` also their gradients ``(m, d)``."""
        parts = self.predict_each(Xs, grad=grad)
        means = parts[0]  # (S, m)
        mean = means.mean(axis=0)
        var = np.maximum((parts[1] + means**2).mean(axis=0) - mean**2, 1e-12)
        if not grad:
            return mean, var
        dmeans = parts[2]  # (S, m, d)
        dmean = dmeans.mean(axis=0)
        dsecond = parts[3] + 2.0 * means[:, :, None] * dmeans
        return mean, var, dmean, dsecond.mean(axis=0) - 2.0 * mean[:, None] * dmean

    def predict_each(self, Xs: np.ndarray, *, grad: bool = False):
        """Every component's mean and variance ``(S, m)`` at ``Xs: (m, d)`` (with ``grad``, also
        their gradients ``(S, m, d)``): ``gp.Posterior.predict`` for all components at once, since
        they share their inputs."""
        st = self._stacked
        D2 = sq_dists(Xs, self.X, self.components[0].cat)  # (m, n, d)
        m, n, d = D2.shape
        # (S, m, n) arrays, computed in place: S times the elementwise work of one posterior dominates.
        c = (D2.reshape(m * n, d) @ (5.0 * st.inv_l2.T)).T.reshape(-1, m, n)  # 5 r^2, one BLAS call
        np.sqrt(c, out=c)
        e = np.negative(c)
        np.exp(e, out=e)
        Ks = c * c
        Ks *= 1.0 / 3.0
        Ks += c
        Ks += 1.0
        Ks *= e
        Ks *= st.signal[:, None, None]
        mean = st.mean[:, None] + (Ks @ st.alpha[:, :, None])[..., 0]
        V = Ks @ st.L_inv.transpose(0, 2, 1)  # (S, m, n)
        var = np.maximum(st.signal[:, None] - (V * V).sum(axis=2), 1e-12)
        if not grad:
            return mean, var
        dK_dr2 = -(5.0 / 6.0) * st.signal[:, None, None] * (1.0 + c) * e
        diff = Xs[:, None, :] - self.X[None, :, :]
        diff[:, :, self.components[0].cat] = 0.0
        J = (2.0 * dK_dr2)[..., None] * diff[None] * st.inv_l2[:, None, None, :]  # (S, m, n, d)
        dmean = np.einsum("smnd,sn->smd", J, st.alpha)
        dvar = -2.0 * np.einsum("smnd,smn->smd", J, V @ st.L_inv)
        return mean, var, dmean, dvar

    @cached_property
    def _stacked(self) -> _Stacked:
        cs = self.components
        return _Stacked(
            inv_l2=np.array([1.0 / c.params.lengthscales**2 for c in cs]),
            signal=np.array([c.params.signal_var for c in cs]),
            mean=np.array([c.params.mean for c in cs]),
            alpha=np.array([c.alpha for c in cs]),
            L_inv=np.array([c.L_inv for c in cs]),
        )

    def map(self, change: Callable[[Posterior], Posterior]) -> Mixture:
        """The mixture of ``change(component)`` for each component (e.g. conditioned on pending trials)."""
        return Mixture(tuple(change(c) for c in self.components))

    def to_units(self, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.scaling.to_units(mean, var)
