"""Classify digits with a finished sweep's networks: its ensemble, or its best config alone.

    python -m tune_jobs.predict results/torch_mlp-gp-<time>                      # the test accuracy again, from disk
    python -m tune_jobs.predict results/torch_mlp-gp-<time> --images digits.npy  # your digits -> predictions.csv
    python -m tune_jobs.predict results/torch_mlp-gp-<time> --best-config        # the best config's network alone

    from tune_jobs.predict import load
    networks = load("results/torch_mlp-gp-<time>")
    probabilities = networks.predict(images)          # images: (n, 28, 28) in [0, 1] -> (n, 10)

``best.json`` names the ensemble's members (their checkpoints, configs and
weights: a network the selection chose twice counts twice; a network is the
average of its trial's kept checkpoints) and how the sweep
split the digits (``data_recipe``); this module loads those checkpoints where
the sweep left them, through the job's own ``predict``, and averages the class
probabilities as the summary did. Without ``--images`` it scores the sweep's
test split, which reproduces ``best.json``'s figure. ``--images`` takes a
``.npy`` array of ``(n, 28, 28)`` or ``(n, 784)`` pixels (``uint8`` 0-255 or
floats in ``[0, 1]``) or an IDX image file such as MNIST's
``t10k-images-idx3-ubyte``, and writes each digit's label and class
probabilities to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import storage
from .data import MnistFileError, read_idx, reload
from .job import Job, accuracy


class PredictError(ValueError):
    """A run directory or an image file this module cannot use; the message says why."""


@dataclass(frozen=True)
class Networks:
    """Trained networks of one job and their weights: ``members`` is ``(config, checkpoint paths, weight)``,
    a network being the average of its checkpoints."""

    job: Job
    members: tuple[tuple[dict, tuple[str, ...], int], ...]
    label: str  # what they are, for messages: "ensemble of 3 networks (trials 7 x2, 12)"

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, 10)`` for ``images: (n, 28, 28)``: the members' weighted mean. Each call
        loads the members' checkpoints again (the job's ``predict`` does): give it all the images at once."""
        from ray.tune import Checkpoint

        total = sum(weight * self.job.predict_kept([Checkpoint(path) for path in paths], config, images)
                    for config, paths, weight in self.members)
        return total / sum(weight for _, _, weight in self.members)


def load(run_dir: str | Path, *, best_config: bool = False) -> Networks:
    """The networks a sweep's ``best.json`` names: its ensemble, or with ``best_config`` (or without an
    ensemble) the best config's network."""
    return _networks(read_summary(run_dir), run_dir, best_config=best_config)


def _networks(summary: dict, run_dir: str | Path, *, best_config: bool) -> Networks:
    job = importlib.import_module(f"tune_jobs.{summary['job']}").JOB
    ensemble = summary.get("ensemble")
    if best_config or not ensemble:
        members = ((summary["best_config"], _paths(summary.get("checkpoints") or summary["checkpoint"]), 1),)
        label = f"the best config's network (trial {summary['best_trial']})"
    else:
        if "configs" not in ensemble:
            raise PredictError(f"{run_dir}/best.json names no configs for its ensemble (a sweep from before they "
                               "were written): use --best-config")
        members = tuple((ensemble["configs"][t], _paths(ensemble["checkpoints"][t]), int(n))
                        for t, n in ensemble["members"].items())
        counts = ", ".join(t if n == 1 else f"{t} x{n}" for t, n in ensemble["members"].items())
        label = f"ensemble of {len(members)} network{'s' if len(members) > 1 else ''} (trials {counts})"
    for path in (path for _, paths, _ in members for path in paths):
        if path is None or not storage.is_dir(path):
            raise PredictError(f"checkpoint {path} is not a directory here: the networks are read where the sweep "
                               "left them (its --storage-path)")
    return Networks(job, members, label)


def _paths(recorded: str | list[str] | None) -> tuple:
    """A network's checkpoint paths as ``best.json`` gives them: a list, or one path (from a sweep run before
    kept checkpoints were averaged)."""
    return tuple(recorded) if isinstance(recorded, list) else (recorded,)


def read_summary(run_dir: str | Path) -> dict:
    try:
        summary = json.loads(storage.read_text(run_dir, "best.json"))
    except FileNotFoundError:
        raise PredictError(f"{run_dir}/best.json does not exist: give the run directory of a finished sweep") from None
    if summary.get("best_config") is None:
        raise PredictError(f"{run_dir}/best.json: the sweep has no best config (no trial reported a score)")
    return summary


def read_images(path: str | Path) -> np.ndarray:
    """Images ``(n, 28, 28)`` as ``float32`` in ``[0, 1]`` from a ``.npy`` file or an IDX image file."""
    path = Path(path)
    try:
        raw = np.load(path, allow_pickle=False) if path.suffix == ".npy" else read_idx(path)
    except (OSError, ValueError, MnistFileError) as e:
        raise PredictError(f"{path}: not a .npy array or an IDX image file ({e})") from None
    if raw.ndim == 2 and raw.shape[1] == 784:
        raw = raw.reshape(-1, 28, 28)
    if raw.ndim != 3 or raw.shape[1:] != (28, 28):
        raise PredictError(f"{path}: images of shape (n, 28, 28) or (n, 784) wanted, found {raw.shape}")
    if raw.dtype == np.uint8:
        return (raw / 255.0).astype(np.float32)
    images = raw.astype(np.float32)
    if not np.isfinite(images).all() or images.min() < 0.0 or images.max() > 1.0:
        raise PredictError(f"{path}: float pixels must lie in [0, 1] (uint8 pixels 0-255 are scaled)")
    return images


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tune_jobs.predict", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", help="a finished sweep's directory (<storage-path>/<name>; a URI such as "
                                   "s3://bucket/path/name if the storage path was one)")
    p.add_argument("--images", help=".npy (n, 28, 28) or (n, 784), or an IDX image file; default: the sweep's "
                                    "test split, scored")
    p.add_argument("--out", default="predictions.csv", help="where --images' predictions go (default %(default)s)")
    p.add_argument("--best-config", action="store_true", help="the best config's network alone, not the ensemble")
    args = p.parse_args(argv)
    try:
        summary = read_summary(args.run_dir)
        networks = _networks(summary, args.run_dir, best_config=args.best_config)
        if args.images:
            _write_predictions(networks, read_images(args.images), args.out)
        else:
            _score_test_split(networks, summary, args.best_config)
    except (PredictError, MnistFileError) as e:
        sys.exit(f"predict: {e}")


def _write_predictions(networks: Networks, images: np.ndarray, out: str) -> None:
    probabilities = networks.predict(images)
    table = pd.DataFrame(probabilities, columns=[f"p{k}" for k in range(probabilities.shape[1])])
    table.insert(0, "label", probabilities.argmax(axis=1))
    table.to_csv(out, index_label="image")
    print(f"{networks.label}: {len(table)} digits classified, written to {out}")


def _score_test_split(networks: Networks, summary: dict, best_config: bool) -> None:
    if "data_recipe" not in summary:
        raise PredictError("best.json does not say how the sweep split the digits (a sweep from before it did): "
                           "give --images")
    data = reload(summary["data_recipe"])
    score = accuracy(networks.predict(data.x_test), data.y_test)
    recorded = summary["test_accuracy"] if best_config or not summary.get("ensemble") else (
        summary["ensemble"]["test_accuracy"])
    print(f"{networks.label}: test accuracy {score:.4f} on {len(data.y_test)} digits of {data.source} "
          f"(best.json: {recorded:.4f})")


if __name__ == "__main__":
    main()
