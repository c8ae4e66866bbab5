"""Multi-fidelity benchmark problems: a metric at every epoch of a config, and what each epoch costs.

* MF-Hartmann-3 and -6, minimised, as defined in mf-prior-bench
  (``mfpbench/synthetic/hartmann/generators.py``, reimplemented here: that
  package pins numpy<2) after Kandasamy et al. 2017: at epoch ``z`` of
  ``Z``, with ``s = log(z) / log(Z)``, the Hartmann weights become
  ``alpha - bias * (1 - s)`` and ``|N(0, 1)| * noise * (1 - s)`` is added
  (deterministic per config and epoch); epoch ``Z`` is the true Hartmann.
  mf-prior-bench's "good" preset: bias 2.5, noise 2.0 (its earlier release's
  "good" was bias 0.5, noise 0.1: the ``mild`` variant). Each epoch costs 1 s,
  so a trial's cost is linear in the epochs it trains, as a network's is.
* Learning-curve tables of our own networks (``tune_jobs.lc_table``):
  validation accuracy per epoch and measured epoch seconds of random configs,
  replayed; a config the searcher asks for is answered by its nearest
  neighbour among the table's configs in the encoded cube that the sweep has
  not trained yet, so that each table config is trained at most once, as a
  searcher restricted to the table's configs would (Syne Tune's blackbox
  repository offers both: the nearest neighbour, and
  ``restrict_configurations``). With repeats allowed, a searcher that
  concentrates near its best config was answered by the same few table
  configs again and again.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from ray import tune

from searchers.space import SearchSpace
from searchers.tune_space import from_tune

from .functions import HARTMANN6_OPTIMUM
from .job import METRIC

_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
HARTMANN3_OPTIMUM = -3.86278


@dataclass(frozen=True)
class MFHartmann:
    """Hartmann-``d`` (3 or 6) at ``epochs`` fidelities, with mf-prior-bench's bias and noise."""

    dim: int
    epochs: int = 32
    bias: float = 2.5
    noise: float = 2.0
    preset: str = ""  # a suffix for the name: "mild" for the earlier release's bias 0.5, noise 0.1
    full_runs: int = 50  # the benchmark's budget, in full runs' epochs
    metric: str = "loss"
    mode: str = "min"

    @property
    def name(self) -> str:
        return f"mf_hartmann{self.dim}" + (f"_{self.preset}" if self.preset else "")

    @property
    def space(self) -> dict:
        return {f"x{i}": tune.uniform(0.0, 1.0) for i in range(self.dim)}

    @property
    def optimum(self) -> float:
        return HARTMANN3_OPTIMUM if self.dim == 3 else HARTMANN6_OPTIMUM

    def value(self, config: dict, epoch: int) -> float:
        x = np.array([config[f"x{i}"] for i in range(self.dim)])
        s = np.log(epoch) / np.log(self.epochs)
        A, P = (_H3_A, _H3_P) if self.dim == 3 else (_H6_A, _H6_P)
        h = -float(np.sum((_ALPHA - self.bias * (1 - s)) * np.exp(-np.sum(A * (x - P) ** 2, axis=1))))
        rng = np.random.default_rng(zlib.crc32(x.tobytes() + epoch.to_bytes(4, "little")))
        return h + abs(rng.normal()) * self.noise * (1 - s)

    def epoch_seconds(self, config: dict, epoch: int) -> float:
        return 1.0

    @property
    def median_run_seconds(self) -> float:
        """A full run's seconds (every config's the same)."""
        return float(self.epochs)

    def claim(self, config: dict, taken: set) -> dict:
        """The config a sweep trains when its searcher asks for ``config``: itself (a continuous problem)."""
        return config

    def score(self, config: dict, value: float) -> float:
        """Regret of ``config`` at full fidelity (noise-free), whatever ``value`` it showed: what a
        user gets from picking it."""
        return self.value(config, self.epochs) - self.optimum


@dataclass
class LearningCurveTable:
    """A table written by ``tune_jobs.lc_table``, replayed: ``val_accuracy`` maximised."""

    name: str
    space: dict  # the job's search space, ``epochs`` a constant
    epochs: int
    accuracy: np.ndarray  # (configs, epochs), NaN where a config stopped
    seconds: np.ndarray  # (configs, epochs)
    encoded: np.ndarray = field(repr=False)  # (configs, d) the table's configs in the cube
    configs: list[dict] = field(repr=False)  # the table's configs, in its rows' order
    search_space: SearchSpace = field(repr=False)
    full_runs: int = 30
    metric: str = METRIC
    mode: str = "max"

    @classmethod
    def load(cls, path: str | Path, name: str, space: dict) -> LearningCurveTable:
        """``space``: the job's; a parameter the job searches that the table's configs lack (added since
        the table was built) is left out, so the replay searches the space the table was built on."""
        table = pd.read_csv(path)
        space = {key: domain for key, domain in space.items() if f"config/{key}" in table.columns}
        accuracy = table.pivot(index="config_id", columns="epoch", values=METRIC)
        seconds = table.pivot(index="config_id", columns="epoch", values="seconds")
        configs = table.drop_duplicates("config_id").set_index("config_id").loc[accuracy.index]
        search_space = from_tune(space)
        rows = [_config_of(row) for _, row in configs.iterrows()]
        encoded = np.array([search_space.encode(config) for config in rows])
        return cls(name, space, int(accuracy.columns.max()), accuracy.to_numpy(float), seconds.to_numpy(float),
                   encoded, rows, search_space)

    def claim(self, config: dict, taken: set) -> dict:
        """The table config a sweep trains when its searcher asks for ``config``: the nearest one in the
        encoded cube whose row is not in ``taken`` (the rows this sweep trained; the row is added), or
        the nearest of all once every row is taken."""
        distance = ((self.encoded - self.search_space.encode(config)) ** 2).sum(axis=1)
        if len(taken) < len(distance):
            distance[list(taken)] = np.inf
        row = int(np.argmin(distance))
        taken.add(row)
        return self.configs[row]

    def distinct(self, configs: list[dict]) -> int:
        """How many different table configs answer ``configs`` (nearby configs share one)."""
        return len({self._row(config) for config in configs})

    def _row(self, config: dict) -> int:
        u = self.search_space.encode(config)
        return int(np.argmin(((self.encoded - u) ** 2).sum(axis=1)))

    def value(self, config: dict, epoch: int) -> float:
        return float(self.accuracy[self._row(config), epoch - 1])

    def epoch_seconds(self, config: dict, epoch: int) -> float:
        return float(self.seconds[self._row(config), epoch - 1])

    @property
    def median_run_seconds(self) -> float:
        """The median over the table's configs of a full run's seconds."""
        return float(np.median(self.seconds.sum(axis=1)))

    def score(self, config: dict, value: float) -> float:
        """The validation accuracy seen: the user keeps that checkpoint."""
        return value


def _config_of(row: pd.Series) -> dict:
    config = {}
    for key, value in row.items():
        if isinstance(key, str) and key.startswith("config/"):
            config[key.removeprefix("config/")] = value.item() if isinstance(value, np.generic) else value
    return config
