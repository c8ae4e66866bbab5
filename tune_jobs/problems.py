"""Test functions as defined in BoTorch's ``botorch/test_functions/synthetic.py`` (minimisation)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ray import tune

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


@dataclass(frozen=True)
class Problem:
    """A function to minimise over a Ray Tune ``param_space``, with its known optimum."""

    name: str
    space: dict
    function: Callable[[np.ndarray], float]
    optimum: float

    def __call__(self, config: dict) -> float:
        return self.function(np.array([config[k] for k in self.space]))


PROBLEMS = {
    "branin": Problem("branin", {"x1": tune.uniform(-5, 10), "x2": tune.uniform(0, 15)}, branin, BRANIN_OPTIMUM),
    "hartmann6": Problem("hartmann6", {f"x{i}": tune.uniform(0, 1) for i in range(6)}, hartmann6, HARTMANN6_OPTIMUM),
}
