"""The sweep's best networks averaged: ensemble selection (Caruana et al. 2004) on the validation split.

A sweep ends with many trained networks, and the highest-validation one is
picked on 750 validation digits, where one lucky epoch can decide (README,
"Which trial is the best config"). Averaging the class probabilities of a few
good, different networks is the classic remedy, as auto-sklearn does with the
models its search trained.

The candidates are the ``CANDIDATES`` highest-validation trials whose best
checkpoint is still on disk (``checkpoints.PruneCheckpoints`` deletes
those no report reads); a trial's network is the average of its kept
checkpoints (``checkpoints.kept``). Selection starts from the best config's network and
adds, with replacement, the candidate that lowers the validation log-loss of
the average most, for at most ``rounds`` steps, stopping when none lowers it:
a network chosen twice weighs double. ``best.json`` names each member's
checkpoints and config; ``tune_jobs.predict`` loads them and classifies digits.
Notation: ``P: (n, 10)`` class probabilities, ``y: (n,)`` labels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .checkpoints import Scored, kept
from .job import METRIC, MODE, accuracy
from .storage import checkpoint_location

CANDIDATES = 8  # networks scored on validation and test: each checkpoint is loaded once


@dataclass(frozen=True)
class Ensemble:
    members: dict[int, int]  # trial number -> times chosen (its weight)
    checkpoints: dict[int, list[str]]  # trial number -> where its kept checkpoints are (paths, or URIs if remote)
    configs: dict[int, dict]  # trial number -> its config (the job's predict rebuilds the network from it)
    val_accuracy: float
    test_accuracy: float

    def as_dict(self) -> dict:
        return {"members": {str(k): v for k, v in self.members.items()},
                "checkpoints": {str(k): v for k, v in self.checkpoints.items()},
                "configs": {str(k): v for k, v in self.configs.items()},
                "val_accuracy": self.val_accuracy, "test_accuracy": self.test_accuracy}


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of the true labels (probabilities floored at 1e-12)."""
    return float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(labels)), labels], 1e-12))))


def select(val_probabilities: list[np.ndarray], labels: np.ndarray, *, rounds: int) -> list[int]:
    """Indices into ``val_probabilities`` (repeats allowed), starting with 0: greedy forward selection with
    replacement on the log-loss of the averaged probabilities, up to ``rounds`` additions."""
    chosen, total = [0], val_probabilities[0].copy()
    best = log_loss(total, labels)
    for _ in range(rounds):
        losses = [log_loss((total + p) / (len(chosen) + 1), labels) for p in val_probabilities]
        candidate = int(np.argmin(losses))
        if not losses[candidate] < best:
            break
        chosen.append(candidate)
        total = total + val_probabilities[candidate]
        best = losses[candidate]
    return chosen


def candidates(results, frame, first: int) -> list[tuple[int, list]]:
    """``(row, kept checkpoints)`` of up to ``CANDIDATES`` trials by best validation, ``first`` (the best
    config's row) first, each with a best checkpoint that still exists."""
    order = [first] + [int(r) for r in frame[f"best_{METRIC}"].dropna().sort_values(ascending=False).index
                       if int(r) != first]
    found = []
    for row in order:
        checkpoints = kept(results[row], METRIC, MODE)
        if checkpoints:
            found.append((row, checkpoints))
        if len(found) == CANDIDATES:
            break
    return found


def build(scored: Scored, results, frame, *, first: int, rounds: int) -> Ensemble | None:
    """The ensemble of the sweep's networks that starts from row ``first``; None without its checkpoint.
    A network is its kept checkpoints averaged."""
    found = candidates(results, frame, first)
    if not found or found[0][0] != first:
        return None
    data, n_val = scored.data, scored.n_val
    both = [scored.network(checkpoints, results[row].config) for row, checkpoints in found]
    val, test = [p[:n_val] for p in both], [p[n_val:] for p in both]
    chosen = select(val, data.y_val, rounds=rounds)
    trials = [int(frame.loc[row, "trial"]) for row, _ in found]
    return Ensemble(dict(Counter(trials[i] for i in chosen)),
                    {trials[i]: [checkpoint_location(c) for c in found[i][1]] for i in chosen},
                    {trials[i]: results[found[i][0]].config for i in chosen},
                    accuracy(sum(val[i] for i in chosen) / len(chosen), data.y_val),
                    accuracy(sum(test[i] for i in chosen) / len(chosen), data.y_test))
