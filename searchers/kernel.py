"""The Matern-5/2 ARD kernel, its hyperparameters, and a Cholesky factor that survives near-singular
kernel matrices: the pieces ``gp`` (a single GP) and ``averaging`` (many at once) share.

Notation and shapes: ``A: (m, d)``, ``B: (n, d)`` inputs in the unit cube; ``cat: (d,)`` bool, the
categorical coordinates. Per coordinate a squared distance ``D2_d``: ``(a_d - b_d)^2`` for an
ordinary coordinate and ``1[a_d != b_d]`` for a categorical one (a Hamming distance: categories are
equally far apart, their codes' order means nothing). With ``r^2 = sum_d D2_d / l_d^2`` and
``c = sqrt(5) r``::

    k(a, b) = s2 * (1 + c + c^2 / 3) * exp(-c)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cholesky

SQRT5 = math.sqrt(5.0)
MAX_JITTER = 1e-2  # relative to the mean of diag(K)

@dataclass(frozen=True)
class GPParams:
    """Kernel hyperparameters, in natural units (the fit works on their logs)."""

    lengthscales: np.ndarray  # (d,)
    signal_var: float
    noise_var: float
    mean: float = 0.0

    def to_theta(self) -> np.ndarray:
        return np.concatenate(
            [np.log(self.lengthscales), [math.log(self.signal_var), math.log(self.noise_var), self.mean]]
        )

    @classmethod
    def from_theta(cls, theta: np.ndarray) -> GPParams:
        d = len(theta) - 3
        signal, noise = float(math.exp(theta[d])), float(math.exp(theta[d + 1]))
        return cls(np.exp(theta[:d]).copy(), signal, noise, float(theta[d + 2]))


def sq_dists(A: np.ndarray, B: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """``(m, n, d)`` per-coordinate squared distances (Hamming on categorical coordinates)."""
    diff = A[:, None, :] - B[None, :, :]
    D2 = diff * diff
    if cat.any():
        D2[:, :, cat] = (np.abs(diff[:, :, cat]) > 1e-12).astype(float)
    return D2


def scaled_sq_dists(A: np.ndarray, B: np.ndarray, cat: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    """``(m, n)`` squared distances scaled by the lengthscales, ``sum_j (a_j - b_j)^2 / l_j^2`` (Hamming
    on categorical coordinates), without ``sq_dists``'s ``(m, n, d)`` array: the ordered coordinates
    as ``|a|^2 + |b|^2 - 2 a.b`` (one matrix product; its rounding, ~1e-16 of the norms, moves the
    Matern kernel by as little, as the kernel is flat at r = 0)."""
    inv = 1.0 / lengthscales
    As, Bs = A[:, ~cat] * inv[~cat], B[:, ~cat] * inv[~cat]
    r2 = np.einsum("md,md->m", As, As)[:, None] + np.einsum("nd,nd->n", Bs, Bs)[None, :] - 2.0 * As @ Bs.T
    for j in np.flatnonzero(cat):
        r2 += (np.abs(A[:, j, None] - B[None, :, j]) > 1e-12) * inv[j] ** 2
    return np.maximum(r2, 0.0)


def matern52(D2: np.ndarray, params: GPParams) -> tuple[np.ndarray, np.ndarray]:
    """Kernel values ``(m, n)`` and ``dk/d(r^2)`` ``(m, n)`` from ``D2: (m, n, d)``."""
    return matern52_of_r2(D2 @ (1.0 / params.lengthscales**2), params)


def matern52_of_r2(r2: np.ndarray, params: GPParams) -> tuple[np.ndarray, np.ndarray]:
    """``matern52`` from the scaled squared distances ``r2: (m, n)``."""
    c = SQRT5 * np.sqrt(np.maximum(r2, 0.0))
    e = np.exp(-c)
    K = params.signal_var * (1.0 + c + c * c / 3.0) * e
    dK_dr2 = -(5.0 / 6.0) * params.signal_var * (1.0 + c) * e
    return K, dK_dr2


def cholesky_with_jitter(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of ``K``, adding jitter growing 10x up to ``MAX_JITTER``."""
    try:
        return cholesky(K, lower=True, check_finite=False)
    except LinAlgError:
        pass
    scale = float(np.mean(np.diag(K)))
    jitter = 1e-8
    while jitter <= MAX_JITTER:
        try:
            return cholesky(K + jitter * scale * np.eye(len(K)), lower=True, check_finite=False)
        except LinAlgError:
            jitter *= 10
    raise LinAlgError(f"kernel matrix not positive definite even with jitter {MAX_JITTER}")
