"""Wall-time speed-up of running MLP trials side by side on one machine.

    python -m tune_jobs.speedup                     # 8 trials, 3 epochs: 1 at a time, then 2 at a time
    python -m tune_jobs.speedup --concurrency 1 2 4 --trials 12
    python -m tune_jobs.speedup --seeds 3           # the README's table: median [min, max] over 3 config sets

The same fixed configs (drawn once from the MLP's search space with ``--seed``)
run with each ``--max-concurrent``, one CPU per trial, so the only difference
between the runs is how many trials train at once. With ``--seeds n``, n
config sets (seeds ``--seed`` .. ``--seed + n - 1``), the concurrencies in
turn, reversed on every other set so a drifting machine favours none. Prints
a table of wall seconds and speed-up over the first concurrency (per set,
then median [min, max]).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

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


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """Most trials running at the same moment, from each trial's ``(start, end)``; a trial that starts
    exactly as another ends does not overlap it."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])  # at a tie, an end first
    return int(max(np.cumsum([step for _, step in events])))


def _spans_callback():
    """A Tune callback that records each trial's ``(start, end)`` on the driver's clock (``.spans``).

    Tune's result timestamps are whole seconds, and trials of a few epochs here last about as long,
    so they cannot say which trials ran side by side (measured: 4 trials that ran 2 at a time read
    as 1 at a time)."""
    from ray.tune import Callback

    class Spans(Callback):
        def __init__(self):
            self.started: dict[str, float] = {}
            self.spans: list[tuple[float, float]] = []

        def on_trial_start(self, iteration, trials, trial, **info):
            self.started[trial.trial_id] = time.monotonic()

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.spans.append((self.started.pop(trial.trial_id), time.monotonic()))

    return Spans()


def timed_run(configs: list[dict], data, concurrency: int, storage: str, prefix: str = "") -> tuple[float, int]:
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    trainable = tune.with_resources(tune.with_parameters(torch_mlp.train_mlp, data=data), {"cpu": 1})
    # The limit goes to the generator: Tune ignores max_concurrent_trials for a BasicVariantGenerator.
    generator = BasicVariantGenerator(points_to_evaluate=configs, max_concurrent=concurrency)
    tuner = build_tuner(trainable, torch_mlp.search_space(configs[0]["epochs"]), metric=METRIC, mode=MODE,
                        num_samples=len(configs), storage_path=storage, name=f"{prefix}concurrency-{concurrency}",
                        search_alg=generator, callbacks=[spans := _spans_callback()])
    start = time.perf_counter()
    results = tuner.fit()
    seconds = time.perf_counter() - start
    if results.errors:
        raise RuntimeError(f"{len(results.errors)} trial(s) failed: {results.errors[0]}")
    return seconds, peak_overlap(spans.spans)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="config sets, each timed at every concurrency")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.epochs < 1 or min(args.concurrency) < 1 or args.seeds < 1:
        parser.error("--trials, --epochs, --concurrency and --seeds must be at least 1")
    start_ray()
    rows = []
    with tempfile.TemporaryDirectory(prefix="speedup-") as storage:
        for seed in range(args.seed, args.seed + args.seeds):
            data = load_mnist(seed=seed)
            configs = fixed_configs(args.trials, args.epochs, seed)
            order = args.concurrency if (seed - args.seed) % 2 == 0 else args.concurrency[::-1]
            for concurrency in order:
                seconds, overlap = timed_run(configs, data, concurrency, storage, f"seed{seed}-")
                rows.append({"seed": seed, "concurrency": concurrency, "overlap": overlap, "seconds": seconds})
                print(f"seed {seed}, max concurrent {concurrency}: {seconds:.1f} s, at most {overlap} running at once",
                      flush=True)
    print(f"\n{args.trials} MLP trials x {args.epochs} epochs, {data.describe()}, 1 CPU per trial\n")
    print(speedup_table(pd.DataFrame(rows), args.concurrency[0]))
    return 0


def speedup_table(runs: pd.DataFrame, baseline: int) -> str:
    """Per concurrency: the most trials seen at once, wall seconds and the speed-up over ``baseline``
    (per config set), each as median [min, max] over the sets."""
    base = runs[runs.concurrency == baseline].set_index("seed")["seconds"]
    runs = runs.assign(speedup=base.loc[runs.seed].to_numpy() / runs.seconds.to_numpy())
    lines = ["| max concurrent | config sets | seen at once | wall s | speed-up |", "|---|---|---|---|---|"]
    for concurrency, group in runs.groupby("concurrency", sort=False):
        cells = [_spread(group[key], fmt) for key, fmt in (("overlap", "{:.0f}"), ("seconds", "{:.1f}"),
                                                              ("speedup", "{:.2f}x"))]
        lines.append(f"| {concurrency} | {len(group)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _spread(values: pd.Series, fmt: str) -> str:
    if len(values) == 1:
        return fmt.format(values.iloc[0])
    return f"{fmt.format(values.median())} [{fmt.format(values.min())}, {fmt.format(values.max())}]"


if __name__ == "__main__":
    raise SystemExit(main())
