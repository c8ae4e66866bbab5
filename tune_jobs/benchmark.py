"""Benchmark of searchers on test problems: regret against evaluations, and cost per suggest().

    python -m tune_jobs.benchmark --quick            # a few minutes
    python -m tune_jobs.benchmark                    # the figures in the README
    python -m tune_jobs.benchmark --timing 50 200 1000 --problems none

Every searcher is driven through Ray Tune's ``Searcher`` interface
(``suggest`` / ``on_trial_complete``) exactly as the Tuner drives it, without
the Tuner's process overhead. With ``--batch 4`` four suggestions are made
before any result returns, and then each result returns in the order its
trial started (four workers finishing in turn). Writes ``runs.csv`` (one row
per run), ``summary.csv`` and ``summary.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from ray.tune.search import Searcher

from searchers import GPEISearcher
from searchers.space import from_tune

from .plots import plot_regret_curves
from .problems import PROBLEMS, Problem


class RandomSearcher(Searcher):
    """Uniform sampling of the encoded space: what Ray's default search does, as a Searcher."""

    def __init__(self, *, seed: int = 0):
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._space = None

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        self._metric, self._mode, self._space = metric, mode, from_tune(config)
        return True

    def suggest(self, trial_id: str) -> dict:
        return self._space.decode(self._rng.random(self._space.dim))

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        pass


def _optuna(sampler: str) -> Callable[[int], Searcher]:
    """Optuna's GP or TPE sampler through Ray's own OptunaSearch (Optuna is a benchmark-only dependency)."""

    def make(seed: int) -> Searcher:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        samplers = {"gp": optuna.samplers.GPSampler, "tpe": optuna.samplers.TPESampler}
        return OptunaSearch(sampler=samplers[sampler](seed=seed))

    return make


def _ax(seed: int) -> Searcher:
    from searchers import AxSearcher

    logging.getLogger("ax").setLevel(logging.WARNING)
    return AxSearcher(seed=seed)


SEARCHERS: dict[str, Callable[[int], Searcher]] = {
    "ax": _ax,
    "optuna-gp": _optuna("gp"),
    "optuna-tpe": _optuna("tpe"),
    "gp": lambda seed: GPEISearcher(seed=seed),
    "gp-believer": lambda seed: GPEISearcher(seed=seed, pending_strategy="believer"),
    "gp-liar_worst": lambda seed: GPEISearcher(seed=seed, pending_strategy="liar_worst"),
    "gp-liar_mean": lambda seed: GPEISearcher(seed=seed, pending_strategy="liar_mean"),
    "random": lambda seed: RandomSearcher(seed=seed),
}


@dataclass(frozen=True)
class Run:
    best: np.ndarray  # (budget,) best value found after each evaluation
    suggest_seconds: np.ndarray  # (budget,)
    duplicates: int


def run_one(problem: Problem, searcher: Searcher, *, budget: int, batch: int) -> Run:
    """``budget`` evaluations with ``batch`` trials in flight; results return oldest first."""
    searcher.set_search_properties("loss", "min", problem.space)
    in_flight: list[tuple[str, dict]] = []
    values, seconds, seen = [], [], set()
    duplicates = issued = 0
    while len(values) < budget:
        while len(in_flight) < batch and issued < budget:
            trial_id = f"t{issued}"
            start = time.perf_counter()
            config = searcher.suggest(trial_id)
            seconds.append(time.perf_counter() - start)
            key = repr(sorted(config.items()))
            duplicates += key in seen
            seen.add(key)
            in_flight.append((trial_id, config))
            issued += 1
        trial_id, config = in_flight.pop(0)
        value = problem(config)
        searcher.on_trial_complete(trial_id, {"loss": value})
        values.append(value)
    return Run(np.minimum.accumulate(values), np.array(seconds), duplicates)


def compare(problems: list[str], searchers: list[str], *, seeds: int, budget: int, batches: list[int]) -> pd.DataFrame:
    rows = []
    for name in problems:
        problem = PROBLEMS[name]
        for batch in batches:
            for searcher_name in searchers:
                for seed in range(seeds):
                    run = run_one(problem, SEARCHERS[searcher_name](seed), budget=budget, batch=batch)
                    offset = problem.optimum if problem.optimum is not None else 0.0  # unknown: best loss
                    rows.append({
                        "problem": name, "searcher": searcher_name, "batch": batch, "seed": seed,
                        "curve": run.best - offset,
                        "regret": float(run.best[-1] - offset),
                        "regret_half": float(run.best[budget // 2 - 1] - offset),
                        "median_suggest_s": float(np.median(run.suggest_seconds)),
                        "duplicates": run.duplicates,
                    })
                    print(f"{name:10s} batch={batch} {searcher_name:14s} seed={seed} "
                          f"regret={rows[-1]['regret']:.3g}", flush=True)
    return pd.DataFrame(rows)


def plot_regret(runs: pd.DataFrame, out: Path) -> list[Path]:
    """One ``regret_<problem>_batch<k>.png`` per problem and batch size: median and quartiles per searcher."""
    paths = []
    for (problem, batch), group in runs.groupby(["problem", "batch"], sort=False):
        curves = {name: np.vstack(g["curve"].to_list()) for name, g in group.groupby("searcher", sort=False)}
        known = PROBLEMS[problem].optimum is not None
        path = out / f"regret_{problem}_batch{batch}.png"
        plot_regret_curves(curves, path, title=f"{problem}, batch {batch}",
                           ylabel="simple regret" if known else "best loss", log=known)
        paths.append(path)
    return paths


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    grouped = runs.groupby(["problem", "batch", "searcher"], sort=False)
    return grouped.agg(
        seeds=("seed", "count"),
        median_regret=("regret", "median"),
        q25_regret=("regret", lambda r: r.quantile(0.25)),
        q75_regret=("regret", lambda r: r.quantile(0.75)),
        median_regret_half_budget=("regret_half", "median"),
        median_suggest_s=("median_suggest_s", "median"),
        duplicates=("duplicates", "sum"),
    ).reset_index()


def time_suggest(n_observations: list[int], *, calls: int = 5, seed: int = 0) -> pd.DataFrame:
    """Seconds per ``GPEISearcher.suggest()`` with ``n`` Hartmann6 observations already in."""
    problem = PROBLEMS["hartmann6"]
    rng = np.random.default_rng(seed)
    rows = []
    for n in n_observations:
        searcher = GPEISearcher(seed=seed, space=problem.space, metric="loss", mode="min")
        for _ in range(n):
            config = searcher.space.decode(rng.random(searcher.space.dim))
            searcher.add_evaluated_point(config, problem(config))
        seconds = []
        for i in range(calls):
            start = time.perf_counter()
            config = searcher.suggest(f"t{i}")
            seconds.append(time.perf_counter() - start)
            searcher.on_trial_complete(f"t{i}", {"loss": problem(config)})
        rows.append({"observations": n, "median_s": float(np.median(seconds)), "max_s": float(np.max(seconds)),
                     "calls": calls})
        print(f"suggest() with {n} observations: median {rows[-1]['median_s']:.3f} s, "
              f"max {rows[-1]['max_s']:.3f} s", flush=True)
    return pd.DataFrame(rows)


def _markdown(frame: pd.DataFrame) -> str:
    def cell(v):
        return f"{v:.3g}" if isinstance(v, float) and math.isfinite(v) else str(v)

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    lines = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=["branin", "hartmann6"],
                        help=f"any of {sorted(PROBLEMS)}, or 'none'")
    parser.add_argument("--searchers", nargs="+", default=["gp", "random"], choices=sorted(SEARCHERS),
                        help="gp, random, ax, optuna-gp, optuna-tpe, or gp with a pending strategy")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--timing", type=int, nargs="*", default=[50, 200, 1000],
                        help="observation counts at which to time suggest()")
    parser.add_argument("--quick", action="store_true", help="2 seeds, budget 30, batch 1, timing at 50")
    parser.add_argument("--out", type=Path, default=Path("results/benchmark"))
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.budget, args.batch, args.timing = 2, 30, [1], [50]
    problems = [] if args.problems == ["none"] else args.problems
    unknown = sorted(set(problems) - set(PROBLEMS))
    if unknown:
        parser.error(f"unknown problem(s) {unknown}; choose from {sorted(PROBLEMS)}")
    if args.seeds < 1 or args.budget < 2 or min(args.batch) < 1:
        parser.error("--seeds must be >= 1, --budget >= 2 and --batch >= 1")
    logging.getLogger("searchers").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)

    report = []
    if problems:
        runs = compare(problems, args.searchers, seeds=args.seeds, budget=args.budget, batches=args.batch)
        summary = summarise(runs)
        for path in plot_regret(runs, args.out):
            print(f"plot: {path}")
        runs.drop(columns="curve").to_csv(args.out / "runs.csv", index=False)
        summary.to_csv(args.out / "summary.csv", index=False)
        report += [f"## Simple regret after {args.budget} evaluations ({args.seeds} seeds)", "", _markdown(summary), ""]
    if args.timing:
        timing = time_suggest(args.timing)
        timing.to_csv(args.out / "suggest_timing.csv", index=False)
        report += ["## Seconds per GPEISearcher.suggest() (Hartmann6)", "", _markdown(timing), ""]
    text = "\n".join(report)
    (args.out / "summary.md").write_text(text)
    print("\n" + text)
    print(f"written to {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
