"""Acquisition functions of a Gaussian posterior, for maximisation. Pure functions.

Shapes: ``mean, std: (m,)`` posterior mean and standard deviation of ``f``;
``best``: the incumbent (largest observed value). Every function returns the
value ``(m,)`` and its derivatives with respect to ``mean`` and ``std``; the
chain rule to the inputs lives with the optimiser.

log EI follows Ament et al. (2023), "Unexpected improvements to expected
improvement": with ``z = (mean - best) / std``,
``EI = std * h(z)``, ``h(z) = phi(z) + z Phi(z)``, and ``log h`` is computed in
three regimes so that it is finite and monotone for any ``z`` in
``[-1e100, 1e100]`` (EI itself underflows to 0 below ``z ~ -40``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx, ndtr

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LOG_SQRT_PI_DIV_2 = 0.5 * math.log(math.pi / 2)
_NEG_INV_SQRT2 = -1.0 / math.sqrt(2.0)
_ASYMPTOTIC = -1e6  # below this z, log(1 - |z| Phi/phi) == log(z^-2) to float64 precision


def _log_phi(z: np.ndarray) -> np.ndarray:
    return -0.5 * z * z - _LOG_SQRT_2PI


def log_h(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log h(z) = log(phi(z) + z Phi(z))`` and ``d log h / dz = Phi(z) / h(z)``.

    For ``z < -1``, ``h = phi(z) * (1 - |z| R(z))`` with Mills' ratio
    ``R = Phi / phi = sqrt(pi/2) erfcx(-z / sqrt2)``; working with ``R`` keeps
    both the value and the slope exact where ``phi`` underflows.
    """
    z = np.asarray(z, dtype=float)
    upper = np.maximum(z, -1.0)
    h_upper = np.exp(_log_phi(upper)) + upper * ndtr(upper)
    value_upper = np.log(h_upper)
    slope_upper = ndtr(upper) / h_upper

    lower = np.minimum(z, -1.0)
    moderate = np.maximum(lower, _ASYMPTOTIC)
    log_mills = np.log(erfcx(_NEG_INV_SQRT2 * lower)) + _LOG_SQRT_PI_DIV_2
    w = np.log(erfcx(_NEG_INV_SQRT2 * moderate) * np.abs(moderate)) + _LOG_SQRT_PI_DIV_2
    # log(1 - |z| R): below _ASYMPTOTIC it equals log(z^-2) to float64 precision.
    log_one_minus = np.where(lower > _ASYMPTOTIC, np.log(-np.expm1(w)), -2.0 * np.log(np.abs(lower)))
    value_lower = _log_phi(lower) + log_one_minus
    slope_lower = np.exp(log_mills - log_one_minus)

    below = z <= -1.0
    return np.where(below, value_lower, value_upper), np.where(below, slope_lower, slope_upper)


def log_ei(mean: np.ndarray, std: np.ndarray, best: float):
    """``log EI`` ``(m,)`` and its derivatives ``d/dmean``, ``d/dstd``."""
    z = (mean - best) / std
    log_hz, g = log_h(z)  # g = d log h / dz
    value = np.log(std) + log_hz
    d_mean = g / std
    d_std = 1.0 / std - g * z / std
    return value, d_mean, d_std


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Plain EI, for reference and plots; optimise ``log_ei`` instead."""
    z = (mean - best) / std
    return std * (np.exp(_log_phi(z)) + z * ndtr(z))


def ucb(mean: np.ndarray, std: np.ndarray, best: float, *, beta: float = 4.0):
    """Upper confidence bound ``mean + sqrt(beta) std`` and its derivatives (``best`` unused)."""
    root = math.sqrt(beta)
    return mean + root * std, np.ones_like(mean), np.full_like(std, root)


ACQUISITIONS = {"log_ei": log_ei, "ucb": ucb}
