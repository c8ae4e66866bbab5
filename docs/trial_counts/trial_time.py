"""Where a sweep's slot time went: trials, epochs, seconds per epoch, by batch size and by depth.

    PYTHONPATH=. .venv/bin/python docs/trial_counts/trial_time.py RUN_DIR [RUN_DIR ...]

Reads each trial's ``result.json`` and the run's ``best.json`` (its wall seconds); ``slots`` is the
number of trials that train at once (the MLP job's default, 2). A record of a measurement, not
part of the package.
"""

import argparse
import json
from pathlib import Path

import pandas as pd


def trials(run: Path) -> pd.DataFrame:
    rows = []
    for result in sorted(run.glob("*/result.json")):
        lines = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        if lines:
            config = lines[-1]["config"]
            rows.append({"batch_size": config["batch_size"], "n_layers": config["n_layers"],
                         "neuron_pct": config["neuron_pct"], "epochs": len(lines),
                         "seconds": lines[-1]["time_total_s"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args()
    for run in args.runs:
        best = json.loads((run / "best.json").read_text())
        frame = trials(run)
        slot_seconds = args.slots * best["wall_seconds"]
        busy = frame.seconds.sum()
        print(f"{run.name} ({best['searcher']}): {best['trials']} trials, {frame.epochs.sum()} epochs "
              f"({frame.epochs.mean():.1f} per trial), training {busy:.0f} of {slot_seconds:.0f} slot-seconds "
              f"({busy / slot_seconds:.0%}), {busy / frame.epochs.sum():.2f} s per epoch; searcher "
              f"{best['searcher_seconds']} s; test accuracy {best['test_accuracy']:.4f}")
        frame["per_epoch"] = frame.seconds / frame.epochs
        for key in ("batch_size", "n_layers"):
            print(frame.groupby(key).agg(trials=("epochs", "size"), epochs=("epochs", "sum"),
                                         median_s_per_epoch=("per_epoch", "median"),
                                         median_neuron_pct=("neuron_pct", "median")).round(2).to_string())


if __name__ == "__main__":
    main()
