"""A long sweep through a real Tuner: how suggest() time and searcher memory grow with the number of trials.

    python -m tune_jobs.long_sweep                   # 1,000 trials of Hartmann6, 2 at a time
    python -m tune_jobs.long_sweep --trials 200

The trainable is a cheap function (Hartmann6), so the sweep measures Ray Tune
and the searcher, not training. Prints suggest() seconds by stage of the sweep
(median and max per window of trials), the searcher's checkpoint size and the
driver's peak memory, and the best value found.
"""

from __future__ import annotations

import argparse
import pickle
import resource
import tempfile
import time

import numpy as np

from searchers import GPEISearcher

from .problems import PROBLEMS
from .runtime import start_ray
from .tuner import build_tuner


class TimedGPEISearcher(GPEISearcher):
    """GPEISearcher that keeps the duration of every suggest() call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.timings: list[float] = []

    def suggest(self, trial_id: str):
        start = time.perf_counter()
        config = super().suggest(trial_id)
        self.timings.append(time.perf_counter() - start)
        return config


def _hartmann6(config: dict) -> dict:
    return {"loss": PROBLEMS["hartmann6"](config)}


def run(trials: int, concurrency: int, seed: int, storage: str) -> tuple[TimedGPEISearcher, float, float]:
    searcher = TimedGPEISearcher(seed=seed)
    tuner = build_tuner(_hartmann6, PROBLEMS["hartmann6"].space, metric="loss", mode="min", num_samples=trials,
                        storage_path=storage, name="long", search_alg=searcher, max_concurrent=concurrency)
    start = time.perf_counter()
    results = tuner.fit()
    seconds = time.perf_counter() - start
    if len(results) != trials or results.errors:
        raise RuntimeError(f"{len(results)} of {trials} trials finished, {len(results.errors)} errors")
    return searcher, seconds, float(results.get_best_result().metrics["loss"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--max-concurrent", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.trials < 10 or args.max_concurrent < 1:
        parser.error("--trials must be at least 10 and --max-concurrent at least 1")
    start_ray()
    with tempfile.TemporaryDirectory(prefix="long-sweep-") as storage:
        searcher, seconds, best = run(args.trials, args.max_concurrent, args.seed, storage)
    timings = np.array(searcher.timings)
    windows = sorted({min(n, args.trials) for n in (10, 100, 250, 500, 750, 1000, args.trials)})
    print(f"\n{args.trials} trials of Hartmann6, {args.max_concurrent} at once: {seconds:.0f} s wall, "
          f"best loss {best:.4f} (optimum {PROBLEMS['hartmann6'].optimum})")
    print("\n| trials so far | median suggest() s | max s |\n|---|---|---|")
    for end in windows:
        window = timings[max(0, end - 50):end]
        print(f"| {end} | {np.median(window):.3f} | {window.max():.3f} |")
    state_bytes = len(pickle.dumps(searcher.__dict__))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nsearcher: {searcher.n_observations} observations, checkpoint {state_bytes / 1024:.0f} KiB; "
          f"total suggest() {timings.sum():.1f} s ({100 * timings.sum() / seconds:.1f}% of wall); "
          f"driver peak RSS {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
