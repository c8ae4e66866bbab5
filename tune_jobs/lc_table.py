"""Learning-curve tables of our own networks: random configs trained for every epoch once, per-epoch
validation accuracy and measured seconds, for the simulated-clock benchmark (``tune_jobs.mf_benchmark``).

    python -m tune_jobs.lc_table torch_mlp --configs 200 --epochs 10            # ~25 min on 2 cores
    python -m tune_jobs.lc_table mnist_cnn --configs 40 --epochs 12 --subset 1500 500

The configs are drawn uniformly from the job's search space (seeded) and run
through a real Tuner with FIFO, ``--max-concurrent`` at once; each trial's
reported ``val_accuracy`` and ``time_this_iter_s`` per epoch go to
``docs/lc_tables/<job>.csv.gz``: one row per (config, epoch), the config's
parameters as ``config/<name>`` columns.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from searchers.tune_space import from_tune

from .data import load_mnist
from .job import METRIC, MODE, Job
from .options import SweepOptions
from .runtime import start_ray
from .tuner import build_tuner, trainable_for

TABLES = Path(__file__).resolve().parent.parent / "docs" / "lc_tables"


def random_configs(job: Job, n: int, epochs: int, seed: int) -> list[dict]:
    """``n`` configs drawn uniformly from the job's search space (in the encoded cube), ``epochs`` each."""
    space = from_tune(job.param_space(epochs, seed))
    rng = np.random.default_rng(seed)
    return [space.decode(rng.random(space.dim)) for _ in range(n)]


def table_from_results(results) -> pd.DataFrame:
    """One row per (config, epoch) of every trial that trained: its metric and its epoch's seconds."""
    frames = []
    for index, result in enumerate(results):
        history = result.metrics_dataframe
        if history is None or METRIC not in history:
            continue
        frame = pd.DataFrame({"config_id": index, "epoch": history["training_iteration"].to_numpy(int),
                              METRIC: history[METRIC].to_numpy(float),
                              "seconds": history["time_this_iter_s"].to_numpy(float)})
        for key, value in result.config.items():
            frame[f"config/{key}"] = value
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def build_table(job: Job, *, configs: int, epochs: int, seed: int, max_concurrent: int,
                subset: tuple[int, int] | None) -> pd.DataFrame:
    from ray.tune.search import BasicVariantGenerator

    data = load_mnist(seed=seed)
    if subset:
        data = data.subset(*subset)
    chosen = random_configs(job, configs, epochs, seed)
    options = SweepOptions.for_job(job, epochs=epochs)
    start_ray()
    with tempfile.TemporaryDirectory(prefix="lc-table-") as storage:
        generator = BasicVariantGenerator(points_to_evaluate=chosen, max_concurrent=max_concurrent)
        tuner = build_tuner(trainable_for(job, options, data), job.param_space(epochs, seed), metric=METRIC,
                            mode=MODE, num_samples=configs, storage_path=storage, name="table", search_alg=generator)
        table = table_from_results(tuner.fit())
    table.attrs["data"] = data.describe()
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", choices=("torch_mlp", "mnist_cnn"))
    parser.add_argument("--configs", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-concurrent", type=int, default=2)
    parser.add_argument("--subset", type=int, nargs=2, metavar=("TRAIN", "EVAL"),
                        help="train on the first TRAIN digits, validate on EVAL (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="default docs/lc_tables/<job>.csv.gz")
    args = parser.parse_args(argv)
    if args.configs < 2 or args.epochs < 2:
        parser.error("--configs and --epochs must be at least 2")
    job = importlib.import_module(f"tune_jobs.{args.job}").JOB
    start = time.perf_counter()
    table = build_table(job, configs=args.configs, epochs=args.epochs, seed=args.seed,
                        max_concurrent=args.max_concurrent, subset=tuple(args.subset) if args.subset else None)
    out = args.out or TABLES / f"{args.job}.csv.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    finals = table.groupby("config_id")[METRIC].max()
    print(f"{out}: {table['config_id'].nunique()} configs x up to {args.epochs} epochs "
          f"({table.attrs['data']}), {time.perf_counter() - start:.0f} s; best {METRIC} {finals.max():.4f}, "
          f"median {finals.median():.4f}; epoch seconds median {table['seconds'].median():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
