"""Benchmark of searchers on test problems: regret against evaluations, and cost per suggest().

    python -m tune_jobs.benchmark --quick            # a few minutes
    python -m tune_jobs.benchmark --jobs 2           # the figures in the README (all problems and searchers)
    python -m tune_jobs.benchmark --problems none --timing 40 --timing-searchers gp ax optuna-gp

Every searcher is driven through Ray Tune's ``Searcher`` interface
(``suggest`` / ``on_trial_complete``) exactly as the Tuner drives it, without
the Tuner's process overhead. With ``--batch 4`` four suggestions are made
before any result returns, and then each result returns in the order its
trial started (four workers finishing in turn). Writes ``runs.csv`` (one row
per run), ``summary.csv``, ``targets.csv`` (ours against each other
searcher, problem by problem), ``suggest_timing.csv``, ``summary.md`` and
``regret_<problem>_batch<k>.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from ray.tune.search import Searcher

from searchers import GPEISearcher
from searchers.optimize import OptimizeOptions
from searchers.plots import plot_regret_curves
from searchers.tune_space import from_tune
from searchers.warping import UNBOUNDED

from . import bbob, peers
from .problems import FAILING_PROBLEMS, PROBLEMS, Problem, problem_named
from .tables import markdown_table, write_report

ALL_PROBLEMS = {**PROBLEMS, **FAILING_PROBLEMS}

SEARCHERS: dict[str, Callable[[int], Searcher]] = {
    "ax": peers.ax,
    "optuna-gp": peers.optuna("gp"),
    "optuna-tpe": peers.optuna("tpe"),
    "hebo": peers.hebo,
    "gp": lambda seed: GPEISearcher(seed=seed),
    "gp-believer": lambda seed: GPEISearcher(seed=seed, pending_strategy="believer"),
    "gp-liar_worst": lambda seed: GPEISearcher(seed=seed, pending_strategy="liar_worst"),
    "gp-liar_mean": lambda seed: GPEISearcher(seed=seed, pending_strategy="liar_mean"),
    "gp-failed_ignore": lambda seed: GPEISearcher(seed=seed, failed_trials="ignore"),
    "gp-no_warp": lambda seed: GPEISearcher(seed=seed, warp_outputs=False),
    "gp-unbounded_warp": lambda seed: GPEISearcher(seed=seed, warp_powers=UNBOUNDED),
    "gp-map": lambda seed: GPEISearcher(seed=seed, hyper_samples=0),
    "gp-unscreened": lambda seed: GPEISearcher(seed=seed, optimize=OptimizeOptions(n_screened=10**9)),
    "gp-input_warping": lambda seed: GPEISearcher(seed=seed, input_warping=True),
    "gp-centre5": lambda seed: GPEISearcher(seed=seed, centre_first=True, n_initial=5),
    "gp-choosewarp": lambda seed: GPEISearcher(seed=seed, choose_warp=True),
    "random": lambda seed: peers.RandomSearcher(seed=seed),
}


@dataclass(frozen=True)
class Run:
    best: np.ndarray  # (budget,) best value found after each evaluation
    suggest_seconds: np.ndarray  # (budget,)
    duplicates: int


def run_one(problem: Problem, searcher: Searcher, *, budget: int, batch: int) -> Run:
    """``budget`` evaluations with ``batch`` trials in flight; results return oldest first."""
    searcher.set_search_properties("loss", "min", problem.space)
    searcher.set_max_concurrency(batch)  # HEBO suggests in batches of this size
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
    return Run(np.fmin.accumulate(values), np.array(seconds), duplicates)  # fmin: failed (NaN) evaluations skipped


def _cell(name: str, searcher_name: str, batch: int, seed: int, budget: int) -> dict:
    logging.getLogger("searchers").setLevel(logging.ERROR)
    peers.single_threaded()
    problem = problem_named(name)
    run = run_one(problem, SEARCHERS[searcher_name](seed), budget=budget, batch=batch)
    offset = problem.optimum if problem.optimum is not None else 0.0  # unknown: best loss
    row = {
        "problem": name, "searcher": searcher_name, "batch": batch, "seed": seed,
        "curve": run.best - offset,
        "regret": float(run.best[-1] - offset),
        "regret_half": float(run.best[budget // 2 - 1] - offset),
        "median_suggest_s": float(np.median(run.suggest_seconds)),
        "duplicates": run.duplicates,
    }
    print(f"{name:17s} batch={batch} {searcher_name:14s} seed={seed} regret={row['regret']:.3g}", flush=True)
    return row


def compare(problems: list[str], searchers: list[str], *, seeds: int, budget: int, batches: list[int],
            jobs: int = 1) -> pd.DataFrame:
    """Every problem x batch x searcher x seed, in ``jobs`` processes; one row per run."""
    cells = [(name, searcher, batch, seed, budget)
             for name in problems for batch in batches for searcher in searchers for seed in range(seeds)]
    if jobs == 1:
        rows = [_cell(*cell) for cell in cells]
    else:
        with ProcessPoolExecutor(jobs) as pool:
            rows = list(pool.map(_cell, *zip(*cells, strict=True)))
    return pd.DataFrame(rows)


def plot_regret(runs: pd.DataFrame, out: Path) -> list[Path]:
    """One ``regret_<problem>_batch<k>.png`` per problem and batch size: median and quartiles per searcher."""
    paths = []
    for (problem, batch), group in runs.groupby(["problem", "batch"], sort=False):
        curves = {name: np.vstack(g["curve"].to_list()) for name, g in group.groupby("searcher", sort=False)}
        known = problem_named(problem).optimum is not None
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


def targets(summary: pd.DataFrame, ours: str = "gp") -> pd.DataFrame:
    """Per batch size and rival: on how many problems our median regret is <= the rival's.

    Also the batch-4 / batch-1 ratio of our median regret on each problem, the
    parallel target.
    """
    rows = []
    medians = summary.pivot_table(index=["problem", "batch"], columns="searcher", values="median_regret")
    for batch, table in medians.groupby(level="batch"):
        for rival in [c for c in medians.columns if c != ours]:
            both = table[[ours, rival]].dropna()
            wins = both[ours] <= both[rival]
            rows.append({"batch": batch, "rival": rival, "problems": len(both), "ours_at_most_rival": int(wins.sum()),
                         "share": float(wins.mean()) if len(both) else math.nan,
                         "lost_on": ", ".join(p for (p, _), w in wins.items() if not w)})
    return pd.DataFrame(rows)


def batch_ratios(summary: pd.DataFrame, ours: str = "gp") -> pd.DataFrame:
    """Our median regret at each batch size over batch 1's, problem by problem."""
    table = summary[summary["searcher"] == ours].pivot_table(index="problem", columns="batch", values="median_regret")
    if 1 not in table.columns:
        return pd.DataFrame()
    ratios = table.div(table[1], axis=0).drop(columns=1).add_prefix("batch_").add_suffix("_over_batch_1")
    return table.add_prefix("batch_").join(ratios).reset_index()


def time_suggest(n_observations: list[int], searchers: list[str] = ("gp",), *, calls: int = 5,
                 seeds: int = 1) -> pd.DataFrame:
    """Seconds per ``suggest()`` with ``n`` random Hartmann6 observations already in, per searcher:
    the median of ``calls`` calls for each of ``seeds`` histories, then the median over the histories
    with their range, and the slowest call."""
    problem = PROBLEMS["hartmann6"]
    space = from_tune(problem.space)
    peers.single_threaded()
    rows = []
    for name in searchers:
        for n in n_observations:
            medians, slowest = [], 0.0
            for seed in range(seeds):
                seconds = _timed_calls(SEARCHERS[name](seed), problem, space, n, calls, seed)
                medians.append(float(np.median(seconds)))
                slowest = max(slowest, float(np.max(seconds)))
            rows.append({"searcher": name, "observations": n, "median_s": float(np.median(medians)),
                         "seed_min_s": min(medians), "seed_max_s": max(medians), "max_s": slowest,
                         "calls": calls, "seeds": seeds})
            print(f"{name}: suggest() with {n} observations: median {rows[-1]['median_s']:.3f} s "
                  f"[{min(medians):.3f}, {max(medians):.3f}] over {seeds} seed(s), max {slowest:.3f} s", flush=True)
    return pd.DataFrame(rows)


def _timed_calls(searcher, problem, space, n: int, calls: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    searcher.set_search_properties("loss", "min", problem.space)
    for _ in range(n):
        config = space.decode(rng.random(space.dim))
        searcher.add_evaluated_point(config, problem(config))
    seconds = []
    for i in range(calls):
        start = time.perf_counter()
        config = searcher.suggest(f"t{i}")
        seconds.append(time.perf_counter() - start)
        searcher.on_trial_complete(f"t{i}", {"loss": problem(config)})
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS),
                        help=f"any of {list(PROBLEMS)} (default all), {list(FAILING_PROBLEMS)}, or 'none'")
    parser.add_argument("--searchers", nargs="+", default=["gp", "ax", "optuna-gp", "optuna-tpe", "random"],
                        choices=sorted(SEARCHERS), metavar="SEARCHER",
                        help=f"any of {sorted(SEARCHERS)} (gp-<variant>: ours with an option changed; "
                             "gp-centre5: the space's centre, then Sobol, 5 points before the GP)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--timing", type=int, nargs="*", default=[40, 200, 1000],
                        help="observation counts at which to time suggest()")
    parser.add_argument("--timing-searchers", nargs="+", default=["gp"], choices=sorted(SEARCHERS),
                        metavar="SEARCHER", help="searchers to time (default gp)")
    parser.add_argument("--timing-seeds", type=int, default=3, help="random histories per timing (median, range)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (timing runs alone)")
    parser.add_argument("--quick", action="store_true",
                        help="Branin and Hartmann6, gp and random, 2 seeds, budget 30, batch 1, timing at 40")
    parser.add_argument("--out", type=Path, default=Path("results/benchmark"))
    return parser


def _regret_report(problems: list[str], args: argparse.Namespace) -> list[str]:
    """Run every problem and searcher; write runs, summary, targets and plots; the report's lines."""
    runs = compare(problems, args.searchers, seeds=args.seeds, budget=args.budget, batches=args.batch, jobs=args.jobs)
    summary = summarise(runs)
    for path in plot_regret(runs, args.out):
        print(f"plot: {path}")
    runs.drop(columns="curve").to_csv(args.out / "runs.csv", index=False)
    summary.to_csv(args.out / "summary.csv", index=False)
    report = [f"## Simple regret after {args.budget} evaluations ({args.seeds} seeds)", "",
              "Regret is the best loss minus the optimum; where the optimum is unknown, the best loss.", "",
              markdown_table(summary), ""]
    if "gp" in args.searchers and len(args.searchers) > 1:
        versus = targets(summary)
        versus.to_csv(args.out / "targets.csv", index=False)
        report += ["## gp's median regret <= the rival's, problem by problem", "", markdown_table(versus), ""]
        ratios = batch_ratios(summary)
        if len(ratios.columns) > 2:
            report += ["## gp's median regret by batch size", "", markdown_table(ratios), ""]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.budget, args.batch, args.timing, args.timing_seeds = 2, 30, [1], [40], 1
        if args.problems == parser.get_default("problems"):
            args.problems = ["branin", "hartmann6"]
        if args.searchers == parser.get_default("searchers"):
            args.searchers = ["gp", "random"]
    names = [] if args.problems == ["none"] else bbob.expand(args.problems)
    unknown = sorted(n for n in set(names) - set(ALL_PROBLEMS) if not bbob.is_bbob(n))
    if unknown:
        parser.error(f"unknown problem(s) {unknown}; choose from {sorted(ALL_PROBLEMS)}, bbob_f<1-24>_d<d> "
                     f"or {sorted(bbob.GROUPS)}")
    if min(args.seeds, args.timing_seeds, args.jobs, *args.batch) < 1 or args.budget < 2:
        parser.error("--seeds, --timing-seeds, --jobs and --batch must be >= 1, --budget >= 2")
    logging.getLogger("searchers").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    report = _regret_report(names, args) if names else []
    if args.timing:
        timing = time_suggest(args.timing, args.timing_searchers, seeds=args.timing_seeds)
        timing.to_csv(args.out / "suggest_timing.csv", index=False)
        report += ["## Seconds per suggest() with n Hartmann6 observations", "", markdown_table(timing), ""]
    write_report(args.out / "summary.md", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
