"""Wall-time speed-up of running MLP trials side by side on one machine.

    python -m tune_jobs.speedup                     # 8 trials, 3 epochs: 1 at a time, then 2 at a time
    python -m tune_jobs.speedup --concurrency 1 2 4 --trials 12

The same fixed configs (drawn once from the MLP's search space with ``--seed``)
run with each ``--max-concurrent``, one CPU per trial, so the only difference
between the runs is how many trials train at once. Prints a table of wall
seconds and speed-up over the first concurrency.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from searchers.tune_space import from_tune

from . import torch_mlp
from .data import load_mnist
from .job import METRIC, MODE
from .runtime import start_ray
from .tuner import build_tuner


def fixed_configs(trials: int, epochs: int, seed: int) -> list[dict]:
    space = from_tune(torch_mlp.search_space(epochs))
    rng = np.random.default_rng(seed)
    configs = [space.decode(rng.random(space.dim)) for _ in range(trials)]
    return [dict(config, epochs=epochs) for config in configs]


def peak_overlap(frame) -> int:
    """Most trials that were training at the same moment, from each trial's end time and duration.

    Tune's timestamps are whole seconds, so each interval loses its first second: a trial that
    started just as another ended is not counted as overlapping it.
    """
    ends = frame["timestamp"].to_numpy(float)
    starts = ends - frame["time_total_s"].to_numpy(float) + 1.0
    events = sorted([(t, 1) for t in starts] + [(t, -1) for t in ends])  # at a tie, an end comes first
    return max(np.cumsum([step for _, step in events]))


def timed_run(configs: list[dict], data, concurrency: int, storage: str) -> tuple[float, int]:
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    trainable = tune.with_resources(tune.with_parameters(torch_mlp.train_mlp, data=data), {"cpu": 1})
    # The limit goes to the generator: Tune ignores max_concurrent_trials for a BasicVariantGenerator.
    generator = BasicVariantGenerator(points_to_evaluate=configs, max_concurrent=concurrency)
    tuner = build_tuner(trainable, torch_mlp.search_space(configs[0]["epochs"]), metric=METRIC, mode=MODE,
                        num_samples=len(configs), storage_path=storage, name=f"concurrency-{concurrency}",
                        search_alg=generator)
    start = time.perf_counter()
    results = tuner.fit()
    seconds = time.perf_counter() - start
    if results.errors:
        raise RuntimeError(f"{len(results.errors)} trial(s) failed: {results.errors[0]}")
    return seconds, peak_overlap(results.get_dataframe())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.trials < 1 or args.epochs < 1 or min(args.concurrency) < 1:
        parser.error("--trials, --epochs and --concurrency must be at least 1")
    data = load_mnist(seed=args.seed)
    configs = fixed_configs(args.trials, args.epochs, args.seed)
    start_ray()
    rows = []
    with tempfile.TemporaryDirectory(prefix="speedup-") as storage:
        for concurrency in args.concurrency:
            seconds, overlap = timed_run(configs, data, concurrency, storage)
            rows.append((concurrency, overlap, seconds))
            print(f"max concurrent {concurrency}: {seconds:.1f} s, at most {overlap} training at once", flush=True)
    print(f"\n{args.trials} MLP trials x {args.epochs} epochs, {data.describe()}, 1 CPU per trial\n")
    print("| max concurrent | seen at once | wall s | speed-up |\n|---|---|---|---|")
    for concurrency, overlap, seconds in rows:
        print(f"| {concurrency} | {overlap} | {seconds:.1f} | {rows[0][2] / seconds:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
