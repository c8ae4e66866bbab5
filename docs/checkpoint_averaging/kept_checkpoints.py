"""Offline, on a finished sweep: each trial's best-validation checkpoint against the average of the class
probabilities of all its kept checkpoints (the jobs keep the two best by validation and the latest).

    PYTHONPATH=. .venv/bin/python docs/checkpoint_averaging/kept_checkpoints.py RUN_DIR > OUT.jsonl

One JSON line per trial with at least two kept checkpoints: ``kept`` (their epochs), ``best_kept`` (which
of them validates highest, 1-based), its ``val`` and ``test`` accuracy, ``avg_kept`` (validation, test) of
the average, and ``each`` (validation, test) per kept checkpoint. The split is made again from best.json.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from ray import tune  # noqa: E402

from tune_jobs import mnist_cnn, torch_mlp  # noqa: E402
from tune_jobs.data import reload  # noqa: E402


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return round(float(np.mean(probabilities.argmax(axis=1) == labels)), 4)


run = Path(sys.argv[1])
data = reload(json.loads((run / "best.json").read_text())["data_recipe"])
trials = sorted(d for d in run.iterdir() if d.is_dir() and d.name.startswith("train_"))
job = mnist_cnn.JOB if any(d.name.startswith("train_cnn") for d in trials) else torch_mlp.JOB
for trial in trials:
    kept = sorted(trial.glob("checkpoint_*"))
    if len(kept) < 2:
        continue
    config = json.loads((trial / "params.json").read_text())
    val, test = [], []
    for path in kept:
        checkpoint = tune.Checkpoint(str(path))
        val.append(job.predict(checkpoint, config, data.x_val))
        test.append(job.predict(checkpoint, config, data.x_test))
    each = [(accuracy(v, data.y_val), accuracy(t, data.y_test)) for v, t in zip(val, test, strict=True)]
    best = int(np.argmax([v for v, _ in each]))
    print(json.dumps({"trial": trial.name.split("_")[3], "kept": [int(p.name.split("_")[1]) + 1 for p in kept],
                      "best_kept": best + 1, "val": each[best][0], "test": each[best][1],
                      "avg_kept": (accuracy(np.mean(val, axis=0), data.y_val),
                                   accuracy(np.mean(test, axis=0), data.y_test)),
                      "each": each}), flush=True)
