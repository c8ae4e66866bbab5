"""The BBOB suite as benchmark problems: 24 noiseless functions with known optima (coco-experiment).

Names ``bbob_f<f>_d<d>`` (function 1-24, instance 1), over ``[-5, 5]^d``; the
groups ``bbob_d2``, ``bbob_d5`` and ``bbob_d10`` name all 24 in that dimension::

    python -m tune_jobs.benchmark --problems bbob_d2 bbob_d5 --searchers gp gp-map optuna-gp random
    python -m tune_jobs.benchmark --problems bbob_d10 --budget 100 --batch 1

Hansen et al. (2009), "Real-parameter black-box optimization benchmarking 2009:
noiseless functions definitions"; evaluated by ``cocoex.BareProblem``
(``pip install coco-experiment``, in the ``bench`` extra).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
from ray import tune

from .problems import Problem

FUNCTIONS = range(1, 25)
GROUPS = {f"bbob_d{d}": d for d in (2, 5, 10)}
_NAME = re.compile(r"bbob_f(\d+)_d(\d+)$")


@cache
def _bare(function: int, dim: int, instance: int = 1):
    import cocoex

    return cocoex.BareProblem("bbob", function, dim, instance)


@dataclass(frozen=True)
class _Function:
    """Picklable: the benchmark sends problems to worker processes; each builds its own coco problem."""

    function: int
    dim: int

    def __call__(self, config: dict) -> float:
        return float(_bare(self.function, self.dim)(np.array([config[f"x{i}"] for i in range(self.dim)])))


def is_bbob(name: str) -> bool:
    return name in GROUPS or _NAME.match(name) is not None


def expand(names: list[str]) -> list[str]:
    """Group names replaced by their 24 problem names, others kept."""
    return [n for name in names for n in ([f"bbob_f{f}_d{GROUPS[name]}" for f in FUNCTIONS]
                                          if name in GROUPS else [name])]


def problem(name: str) -> Problem:
    match = _NAME.match(name)
    if match is None or int(match[1]) not in FUNCTIONS or int(match[2]) < 2:
        raise KeyError(f"not a BBOB problem: {name!r} (bbob_f<1-24>_d<2 or more>)")
    function, dim = int(match[1]), int(match[2])
    space = {f"x{i}": tune.uniform(-5.0, 5.0) for i in range(dim)}
    return Problem(name, space, _Function(function, dim), float(_bare(function, dim).best_value()))
