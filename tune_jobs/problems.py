"""Benchmark problems to minimise, each over a Ray Tune ``param_space``.

Synthetic functions as defined in BoTorch's ``botorch/test_functions/synthetic.py``;
Ackley's optimum moved away from the box centre (a searcher that favours the
centre gains nothing); a mixed problem with integer, log-scale and categorical
parameters; and two Bayesmark problems rebuilt on current scikit-learn (search
spaces as in Bayesmark's ``sklearn_funcs.py``; its "logit" ranges become
uniform ones, which Ray Tune has), whose optimum is unknown: their figure is
the best loss found, not a regret.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from ray import tune

from .functions import BRANIN_OPTIMUM, HARTMANN6_OPTIMUM, ackley, branin, hartmann6, rosenbrock


def mixed(config: dict) -> float:
    """Integer, log-scale, continuous and categorical parameters; minimum 0 at lr=10^-2.5, n=37, x=0.7, act='b'."""
    penalty = {"a": 0.6, "b": 0.0, "c": 0.3, "d": 1.0}[config["act"]]
    return float((np.log10(config["lr"]) + 2.5) ** 2 + ((config["n"] - 37) / 20) ** 2
                 + 4 * (config["x"] - 0.7) ** 2 + penalty + 0.5 * (config["act"] == "c") * config["x"])


@cache
def _dataset(name: str):
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[name]
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def svm_breast_cancer(config: dict) -> float:
    """Bayesmark's SVM on breast cancer: 3-fold cross-validated log loss."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    X, y = _dataset("breast_cancer")
    # Platt-scaled probabilities, as SVC(probability=True) gave before scikit-learn 1.9 deprecated it.
    svc = SVC(C=config["C"], gamma=config["gamma"], tol=config["tol"], random_state=0)
    model = CalibratedClassifierCV(svc, method="sigmoid", ensemble=False)
    return float(-cross_val_score(model, X, y, cv=3, scoring="neg_log_loss").mean())


def rf_wine(config: dict) -> float:
    """Bayesmark's random forest on wine: 3-fold cross-validated error rate (1 - accuracy)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import cross_val_score

    X, y = _dataset("wine")
    model = RandomForestClassifier(n_estimators=10, random_state=0, **config)
    return float(1 - cross_val_score(model, X, y, cv=3, scoring="accuracy").mean())


@dataclass(frozen=True)
class Problem:
    """A function of a config to minimise, with its optimum (None where unknown)."""

    name: str
    space: dict
    function: Callable[[dict], float]
    optimum: float | None

    def __call__(self, config: dict) -> float:
        return self.function(config)


def _vector(f: Callable[[np.ndarray], float], names: list[str]) -> Callable[[dict], float]:
    def on_config(config: dict) -> float:
        return f(np.array([config[k] for k in names]))

    return on_config


def _box(prefix: str, d: int, lower: float, upper: float) -> dict:
    return {f"{prefix}{i}": tune.uniform(lower, upper) for i in range(d)}


PROBLEMS = {
    "branin": Problem("branin", {"x1": tune.uniform(-5, 10), "x2": tune.uniform(0, 15)},
                      _vector(branin, ["x1", "x2"]), BRANIN_OPTIMUM),
    "hartmann6": Problem("hartmann6", _box("x", 6, 0, 1), _vector(hartmann6, [f"x{i}" for i in range(6)]),
                         HARTMANN6_OPTIMUM),
    "rosenbrock4": Problem("rosenbrock4", _box("x", 4, -5, 10), _vector(rosenbrock, [f"x{i}" for i in range(4)]),
                           0.0),
    "ackley5": Problem("ackley5", _box("x", 5, -32.768, 32.768), _vector(ackley, [f"x{i}" for i in range(5)]), 0.0),
    "mixed": Problem("mixed", {"lr": tune.loguniform(1e-5, 1e-1), "n": tune.randint(1, 101), "x": tune.uniform(0, 1),
                               "act": tune.choice(["a", "b", "c", "d"])}, mixed, 0.0),
    "svm_breast_cancer": Problem("svm_breast_cancer", {"C": tune.loguniform(1.0, 1e3),
                                                       "gamma": tune.loguniform(1e-4, 1e-3),
                                                       "tol": tune.loguniform(1e-5, 1e-1)}, svm_breast_cancer, None),
    "rf_wine": Problem("rf_wine", {"max_depth": tune.randint(1, 16), "max_features": tune.uniform(0.01, 0.99),
                                   "min_samples_split": tune.uniform(0.01, 0.99),
                                   "min_samples_leaf": tune.uniform(0.01, 0.49),
                                   "min_weight_fraction_leaf": tune.uniform(0.01, 0.49)}, rf_wine, None),
}


def _failing(problem: Problem, fails: Callable[[dict], bool], name: str) -> Problem:
    """``problem`` with a region where the evaluation fails (NaN), as a diverging network reports."""

    def function(config: dict) -> float:
        return math.nan if fails(config) else problem.function(config)

    return Problem(name, problem.space, function, problem.optimum)


# For deciding how a failed trial should inform the GP (tune_jobs.benchmark --problems branin_fail ...):
# the failing regions hold a third (Branin: one of its three optima is in it) and a fifth of the box.
FAILING_PROBLEMS = {
    "branin_fail": _failing(PROBLEMS["branin"], lambda c: c["x1"] > 5.0, "branin_fail"),
    "hartmann6_fail": _failing(PROBLEMS["hartmann6"], lambda c: c["x0"] + c["x1"] > 1.2, "hartmann6_fail"),
}


def problem_named(name: str) -> Problem:
    """A problem by name: ours (``PROBLEMS``, ``FAILING_PROBLEMS``) or one of the BBOB suite (``tune_jobs.bbob``)."""
    if name in PROBLEMS:
        return PROBLEMS[name]
    if name in FAILING_PROBLEMS:
        return FAILING_PROBLEMS[name]
    from . import bbob

    return bbob.problem(name)
