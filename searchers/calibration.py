"""The model's predictive distribution of an observation, in the targets' own units. No Ray.

Shapes: ``U: (m, d)`` encoded configs; a model is a ``gp.Posterior``, an
``averaging.Mixture`` of ``S`` of them, or either seen at one fidelity
(``fidelity.AtFidelity``). An observation is ``f`` plus the model's noise, so
each component predicts ``N(mean_s, var_s + noise_s)`` in GP units; the
mixture averages the components' densities. GP units map to the targets'
units through the monotone ``OutputScaling``, so quantiles map one to one and
densities gain its log slope. A warp with a strong power is bounded (a long
tail of bad values pressed against a floor): a GP value beyond its range means
a value worse than any the warp can represent, so an interval's end out there
is infinite, and the density of finite values leaves that mass out. (Measured
against conditioning on the range instead, which is over-confident:
docs/benchmark/README.md.)

The spread is calibrated on the observations themselves: left out one at a
time (closed form for a GP, Rasmussen & Williams 2006, section 5.4.2), each
observation's leave-one-out predictive (a mixture's: the mixture of its
components') should hold it inside its nominal interval at the interval's
level; ``loo_scale`` is the factor on the spread that makes it so for that
share of the observations, and the predictive
standard deviations are multiplied by it (not the acquisition's: the search is
unchanged), one factor for the nominal 95% interval, which every interval and
the density then share. With fewer observations than ``1 / (1 - level)`` (20 for 95%),
none lies beyond the quantile it needs, and the factor is 1.

What the benchmark measures with these: the share of fresh points whose value
falls inside the nominal 95% interval (coverage) and the mean negative log
predictive density (``python -m tune_jobs.calibration``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

_BISECTIONS = 60
CALIBRATED_LEVEL = 0.95  # the interval loo_scale calibrates; every level's interval and the density use its factor


def predictive_each(model, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every component's predictive mean and variance of an observation, ``(S, m)`` each, GP units,
    the variance scaled by ``loo_scale(model) ** 2``."""
    means, variances = model.predict_each(U)
    noise = np.array([c.params.noise_var for c in model.components])
    return means, (variances + noise[:, None]) * loo_scale(model) ** 2


def loo_scale(model, level: float = CALIBRATED_LEVEL) -> float:
    """The factor on the predictive standard deviation that puts a ``level`` share of the
    observations inside the nominal ``level`` interval of their leave-one-out predictive (for a
    mixture, the mixture of its components' leave-one-out predictives); 1 with fewer than
    ``1 / (1 - level)`` observations."""
    if len(model.components[0].alpha) < 1.0 / (1.0 - level):
        return 1.0
    z = np.array([_loo_residuals(component) for component in model.components])  # (S, n)
    return float(np.quantile(_least_scales(z, level), level))


def _loo_residuals(component) -> np.ndarray:
    """``(n,)`` each observation's standardised leave-one-out residual ``(y_i - mean_-i) / std_-i``."""
    k_inv_diag = np.einsum("ij,ij->j", component.L_inv, component.L_inv)  # diag (K + noise)^-1
    return component.alpha / np.sqrt(k_inv_diag)


def _least_scales(z: np.ndarray, level: float) -> np.ndarray:
    """``(n,)`` for residuals ``z: (S, n)``, the least factor ``c`` on every component's spread that puts
    observation ``i`` inside the mixture's central ``level`` interval: ``|mean_s Phi(z_si / c) - 1/2|
    <= level / 2``, which shrinks as ``c`` grows; ``|z_i| / Phi^-1(1/2 + level/2)`` for one component."""
    half, edge = level / 2.0, ndtri(0.5 + level / 2.0)
    lo, hi = np.zeros(z.shape[1]), np.abs(z).max(axis=0) / edge  # at hi every component has it inside
    if len(z) == 1:
        return hi
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2.0
        inside = np.abs(np.mean(ndtr(z / np.maximum(mid, 1e-300)), axis=0) - 0.5) <= half
        lo, hi = np.where(inside, lo, mid), np.where(inside, mid, hi)
    return hi


def interval(model, U: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` predictive interval ``(lower, upper)``, each ``(m,)``, in the targets' units;
    an end beyond the output warp's range is infinite."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    means, variances = predictive_each(model, U)
    tail = (1.0 - level) / 2.0
    lower = _mixture_quantile(means, np.sqrt(variances), tail)
    upper = _mixture_quantile(means, np.sqrt(variances), 1.0 - tail)
    floor, ceiling = model.scaling.bounds()
    return (np.where(lower <= floor, -np.inf, model.scaling.inverse(lower)),
            np.where(upper >= ceiling, np.inf, model.scaling.inverse(upper)))


def log_density(model, U: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(m,)`` log predictive density of the targets ``y: (m,)`` (their own units) at ``U``."""
    means, variances = predictive_each(model, U)
    w = model.scaling.forward(y)
    log_components = -0.5 * ((w[None] - means) ** 2 / variances + np.log(2 * math.pi * variances))
    top = log_components.max(axis=0)
    log_mix = top + np.log(np.mean(np.exp(log_components - top), axis=0))
    return log_mix + model.scaling.log_slope(y)


def _mixture_quantile(means: np.ndarray, stds: np.ndarray, q: float) -> np.ndarray:
    """``(m,)`` the ``q``-quantile of the equal mixture of ``N(means_s, stds_s^2)`` (columns), by bisection
    between the components' own quantiles, which bracket it."""
    own = means + stds * ndtri(q)
    lo, hi = own.min(axis=0), own.max(axis=0)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2.0
        below = np.mean(ndtr((mid[None] - means) / stds), axis=0) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2.0


def coverage(lower: np.ndarray, upper: np.ndarray, y: np.ndarray) -> float:
    """The share of ``y`` inside ``[lower, upper]``."""
    return float(np.mean((y >= lower) & (y <= upper)))

