"""Offline, on a finished MLP sweep: its top trials trained to the end, each config trained again from scratch
for its full epochs on the training digits alone and on training + validation digits, then tested.

    PYTHONPATH=. .venv/bin/python docs/retrain_train_val/retrain.py RUN_DIR [TOP] [REPEATS] > OUT.jsonl

One JSON line per (trial, repeat): the trial's best validation accuracy in the sweep, and the last epoch's
test accuracy of its config trained again on ``train`` (3,500 digits) and on ``train+val`` (4,250), both
from the same seeds (the trial's plus ``repeat``). The split is made again from best.json; the training
loop is the job's own (``torch_mlp.train_epoch``), on the CPU.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tune_jobs import torch_mlp
from tune_jobs.data import reload
from tune_jobs.devices import epoch_seed, trial_seed

run = Path(sys.argv[1])
top, repeats = (int(sys.argv[2]) if len(sys.argv) > 2 else 5), (int(sys.argv[3]) if len(sys.argv) > 3 else 2)
summary = json.loads((run / "best.json").read_text())
data = reload(summary["data_recipe"])
frame = pd.read_csv(run / "trials.csv")
full = frame[frame["epochs_run"] >= frame["config/epochs"]].sort_values("best_val_accuracy", ascending=False)


def train_and_test(config: dict, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    torch.manual_seed(seed)
    model = torch_mlp.build_model(config)
    optimizer = torch_mlp.make_optimizer(config, model.parameters())
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    for epoch in range(config["epochs"]):
        torch.manual_seed(epoch_seed(config, epoch) + seed)
        torch_mlp.train_epoch(model, optimizer, xt, yt, config)
    return torch_mlp.evaluate(model, torch.from_numpy(data.x_test), torch.from_numpy(data.y_test))[1]


both_x, both_y = np.concatenate([data.x_train, data.x_val]), np.concatenate([data.y_train, data.y_val])
for trial in full["trial"].head(top):
    directory = next(d for d in run.glob("train_mlp_*") if int(d.name.split("_")[3]) == trial)
    config = json.loads((directory / "params.json").read_text())
    for repeat in range(repeats):
        seed = trial_seed(config) + repeat
        print(json.dumps({"trial": int(trial), "repeat": repeat,
                          "val": float(frame.loc[frame["trial"] == trial, "best_val_accuracy"].iloc[0]),
                          "train": round(train_and_test(config, data.x_train, data.y_train, seed), 4),
                          "train+val": round(train_and_test(config, both_x, both_y, seed), 4)}), flush=True)
