"""Synthetic test functions to minimise, on plain arrays (no Ray), as defined in BoTorch's
``botorch/test_functions/synthetic.py``; Ackley's optimum moved away from the box centre
(a searcher that favours the centre gains nothing).

Each takes ``x: (d,)`` and returns a float.
"""

from __future__ import annotations

import numpy as np

BRANIN_OPTIMUM = 0.397887
HARTMANN6_OPTIMUM = -3.32237


def branin(x: np.ndarray) -> float:
    x1, x2 = x
    return float((x2 - 5.1 / (4 * np.pi**2) * x1**2 + 5 / np.pi * x1 - 6) ** 2
                 + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10)


_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x: np.ndarray) -> float:
    return float(-np.sum(_ALPHA * np.exp(-np.sum(_A * (np.asarray(x) - _P) ** 2, axis=1))))


def rosenbrock(x: np.ndarray) -> float:
    x = np.asarray(x)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1) ** 2))


ACKLEY_SHIFT = np.array([6.1, -11.3, 3.7, 18.2, -4.9])


def ackley(x: np.ndarray) -> float:
    z = np.asarray(x) - ACKLEY_SHIFT[: len(x)]
    d = len(z)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(z**2) / d)) - np.exp(np.sum(np.cos(2 * np.pi * z)) / d)
                 + 20 + np.e)
