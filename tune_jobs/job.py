"""What a sweep needs to know about one model: the ``Job`` record each job module defines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import MnistData

METRIC, MODE = "val_accuracy", "max"


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The share of ``labels: (n,)`` that ``probabilities: (n, classes)`` rank first."""
    return float(np.mean(probabilities.argmax(axis=1) == labels))


@dataclass(frozen=True)
class Job:
    """A trainable, its search space and how a checkpoint's network classifies digits."""

    name: str
    trainable: Callable[[dict, MnistData], None]
    search_space: Callable[[int], dict]  # epochs -> Ray Tune param_space
    predict: Callable[[Any, dict, np.ndarray], np.ndarray]  # checkpoint, config, images (n, 28, 28) -> (n, 10)
    description: str
    defaults: dict = field(default_factory=dict)  # SweepOptions field -> default for this job
    smoke: dict = field(default_factory=dict)  # SweepOptions field -> value under --smoke
    smoke_subset: tuple[int, int] = (600, 300)  # train, validation/test digits under --smoke
    # Known-good configs the model-based searchers try first (``points_to_evaluate``), and options
    # for the GP searcher (``EngineOptions`` fields) that suit this job's budget.
    first_configs: tuple[dict, ...] = ()
    gp_options: dict = field(default_factory=dict)

    def predict_kept(self, checkpoints, config: dict, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, 10)`` of one trial's network: the mean over its kept ``checkpoints``
        (``checkpoints.kept``), each loaded once."""
        return sum(self.predict(checkpoint, config, images) for checkpoint in checkpoints) / len(checkpoints)

    def param_space(self, epochs: int, seed: int) -> dict:
        """The Tuner's ``param_space``: the search space and the sweep's seed, from which each trial
        derives its own (``devices.trial_seed``)."""
        return {**self.search_space(epochs), "seed": seed}
