"""Multi-fidelity benchmark: searchers with and without ASHA on a simulated clock, side by side in one run.

    python -m tune_jobs.mf_benchmark --quick                     # a minute or two
    python -m tune_jobs.mf_benchmark --seeds 10 --jobs 2         # the README's figures

Each run drives a searcher through Ray Tune's ``Searcher`` interface and a
scheduler, Ray's own ``ASHAScheduler`` or ``HyperBandForBOHB`` (``on_trial_result`` decides
CONTINUE, PAUSE or STOP), in the order the Tuner calls them, with ``--workers`` trials
training at once on a simulated clock: every epoch advances its trial by the
problem's epoch seconds, so dozens of seeded sweeps take seconds, not GPU
hours. A run stops starting epochs when its budget is spent: ``--full-runs``
full trainings' epochs, or with ``--budget-unit seconds`` that many times a
median config's full training seconds, summed over the workers (then a config
whose epochs are quick costs less). Methods:

* ``mf-gp+asha``: ``GPEISearcher`` learning from every epoch, with ASHA (the jobs' default);
  ``mf-gp-racq+asha`` the same with EI at MOBSTER's ``r_acq``; ``mf-gp-rung+asha`` a GP on the
  highest well-populated rung's results (BOHB's model, a GP for its KDE); ``mf-gp-trend+asha`` the
  joint GP with a learning-curve mean (a least-squares trend in the fidelity); ``mf-gp-map+asha`` with
  one MAP fit of the GP's hyperparameters instead of averaging over samples (``hyper_samples=0``);
  ``mf-gp-flatnoise+asha`` with one noise for every epoch (``fidelity_noise=False``);
  ``mf-gp-centre5+asha`` with Ax's initial design (``centre_first=True, n_initial=5``);
  ``mf-gp-explore+asha`` and ``mf-gp-explore5+asha`` with every third or fifth suggestion from the
  initial design (``explore_fraction``, BOHB's random fraction); ``mf-gp-cost+asha`` with EI per
  predicted epoch second (``cost_power=1``);
  ``mf-gp+fifo`` without early stopping; ``mf-gp+hyperband`` under Ray's ``HyperBandForBOHB`` (which
  pauses trials at its rungs; the GP frees a paused trial's place and stops treating it as pending);
* ``gp+fifo`` and ``gp+asha``: ``GPEISearcher(fidelity_attr=None)``, final results only (before);
  ``gp-map+fifo`` the same with a MAP fit;
* ``random+asha``; ``tpe+asha`` (Optuna's TPE through Ray's ``OptunaSearch``);
* ``bohb+hyperband`` (Ray's ``TuneBOHB`` with ``HyperBandForBOHB``, which pauses trials at its rungs and
  resumes them, as in Tune) when hpbandster and ConfigSpace are installed; ``bohb+asha`` the same searcher
  under ASHA, where it never fits its model (it learns from results that carry HyperBand's budget): a
  random search from ConfigSpace.

Writes ``mf_runs.csv`` (a row per method, problem and seed: the best score and
the compute spent, epochs or seconds, when each better score was reached) and
``mf_summary.md`` (medians over seeds: the final score, the score at a quarter,
half and three quarters of the budget, the share of the budget GP-FIFO spends
to reach its own median) to ``--out``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from . import peers
from .lc_table import TABLES
from .mf_problems import LearningCurveTable, MFHartmann
from .simulate import simulate
from .tables import markdown_table

METHODS = ("mf-gp+asha", "mf-gp-racq+asha", "mf-gp-rung+asha", "mf-gp-trend+asha", "mf-gp-map+asha",
           "mf-gp-flatnoise+asha", "mf-gp-centre5+asha", "mf-gp-explore+asha", "mf-gp-explore5+asha", "mf-gp-cost+asha",
           "mf-gp-choosewarp+asha",
           "mf-gp+fifo", "mf-gp+hyperband", "gp+fifo", "gp-map+fifo", "gp+asha",
           "random+asha", "tpe+asha", "bohb+hyperband", "bohb+asha")


@functools.cache  # once a process: every run of a benchmark asks for its problem, and a table is a file to parse
def problems() -> dict:
    from . import mnist_cnn, torch_mlp

    hartmann = [MFHartmann(3), MFHartmann(6), MFHartmann(3, bias=0.5, noise=0.1, preset="mild"),
                MFHartmann(6, bias=0.5, noise=0.1, preset="mild")]
    found = {p.name: p for p in hartmann}
    for job in (torch_mlp, mnist_cnn):  # a job's tables: <job>.csv.gz, and larger ones as <job>_<configs>.csv.gz
        for path in sorted(TABLES.glob(f"{job.JOB.name}*.csv.gz")):
            table = LearningCurveTable.load(path, f"lc_{path.name.removesuffix('.csv.gz')}", job.search_space(1))
            table.space = dict(table.space, epochs=table.epochs)
            found[table.name] = table
    return found


def time_suggest(results: int, *, calls: int = 7, seed: int = 0) -> np.ndarray:
    """Seconds of ``calls`` suggest()s of ``mf-gp`` once ``results`` per-epoch results of MF-Hartmann-6
    (10 epochs; a quarter of the trials trained to the end, the others stopped after 1 to 4) are in.
    The trials before are random configs (``points_to_evaluate``), so that setting up is quick."""
    from searchers import GPEISearcher

    problem = MFHartmann(6, epochs=10)
    rng = np.random.default_rng(seed)
    stops = []  # epochs each trial trains
    while sum(stops) < results:
        stops.append(problem.epochs if len(stops) % 4 == 0 else int(rng.integers(1, 5)))
    randoms = [{name: float(v) for name, v in zip(problem.space, rng.random(6), strict=True)} for _ in stops]
    searcher = GPEISearcher(space=problem.space, metric=problem.metric, mode=problem.mode, seed=seed,
                            max_fidelity=problem.epochs, points_to_evaluate=randoms)
    for trial, stop in enumerate(stops):
        config = searcher.suggest(f"t{trial}")
        for epoch in range(1, stop + 1):
            searcher.on_trial_result(f"t{trial}", {problem.metric: problem.value(config, epoch),
                                                   "training_iteration": epoch})
        searcher.on_trial_complete(f"t{trial}", {problem.metric: problem.value(config, stop),
                                                 "training_iteration": stop})
    seconds = []
    for call in range(calls):
        tick = time.perf_counter()
        searcher.suggest(f"timed{call}")
        seconds.append(time.perf_counter() - tick)
    return np.array(seconds)


def _run(task: tuple) -> dict:
    problem_name, method, seed, workers, full_runs, unit = task
    logging.disable(logging.WARNING)
    problem = problems()[problem_name]
    budget = (full_runs or problem.full_runs) * (problem.median_run_seconds if unit == "seconds" else problem.epochs)
    trace = simulate(problem, method, seed=seed, workers=workers, budget=budget, unit=unit)
    return {"problem": problem_name, "method": method, "seed": seed, "unit": unit, "budget": budget,
            "final": float(trace.scores[-1]), "trials": trace.trials, "suggest_s": trace.suggest_seconds,
            # a table answers nearby configs with one of its own: how many different ones a run saw
            "distinct": problem.distinct(trace.configs) if hasattr(problem, "distinct") else trace.trials,
            "wall_s": float(trace.seconds[-1]), "spent": numbers(trace.spent), "scores": numbers(trace.scores)}


def numbers(values) -> str:
    """``values`` as a space-separated string that reads back to the same floats: a score compared with
    GP-FIFO's median must be the score itself (6 digits made 0.965333 of 724/750, below that median)."""
    return " ".join(repr(float(value)) for value in values)


def _running_best(row: pd.Series, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """A run's ``(compute spent, best score so far)`` at each new best it recorded."""
    spent = np.array(row["spent"].split(), dtype=float)
    scores = np.array(row["scores"].split(), dtype=float)
    # A regret is the best so far only when it improves: take the running best.
    return spent, np.minimum.accumulate(scores) if mode == "min" else np.maximum.accumulate(scores)


def spent_to_reach(row: pd.Series, target: float, mode: str) -> float:
    """Compute a run spent before its best score first reached ``target`` (NaN if it never did)."""
    spent, running = _running_best(row, mode)
    reached = running <= target if mode == "min" else running >= target
    return float(spent[np.argmax(reached)]) if reached.any() else np.nan


def score_at(row: pd.Series, fraction: float, mode: str) -> float:
    """The best score a run had found once ``fraction`` of its budget was spent (NaN before its first
    result)."""
    spent, running = _running_best(row, mode)
    k = np.searchsorted(spent, fraction * row["budget"], side="right") - 1
    return float(running[k]) if k >= 0 else np.nan


FRACTIONS = (0.25, 0.5, 0.75)  # of the budget: the summary's scores at equal epochs along the way


def summarise(runs: pd.DataFrame, modes: dict[str, str]) -> pd.DataFrame:
    """Per problem and method: median [min, max] final score, the median score at each of ``FRACTIONS``
    of the budget, and the share of GP-FIFO's epochs needed to reach GP-FIFO's median final score."""
    rows = []
    for (problem, method), group in runs.groupby(["problem", "method"], sort=False):
        mode = modes[problem]
        fifo = runs[(runs.problem == problem) & (runs.method == "gp+fifo")]
        target = fifo["final"].median() if len(fifo) else np.nan
        reach = pd.Series([spent_to_reach(row, target, mode) for _, row in group.iterrows()],
                          index=group.index) / group["budget"]
        reached = int(reach.notna().sum())
        reach = reach.fillna(np.inf)  # a seed that never reached the target counts as needing more than the budget
        rows.append({"problem": problem, "method": method, "seeds": len(group),
                     "median": group["final"].median(), "min": group["final"].min(), "max": group["final"].max(),
                     **{f"median_at_{fraction:.0%}": group.apply(score_at, axis=1, args=(fraction, mode)).median()
                        for fraction in FRACTIONS},
                     "share_of_budget_to_gp_fifo_median": reach.median(),
                     "reached": f"{reached}/{len(group)}",
                     "trials": group["trials"].median(), "distinct_configs": group["distinct"].median(),
                     "suggest_s_per_trial": (group["suggest_s"] / group["trials"]).median()})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=None, help="default: every problem found")
    parser.add_argument("--methods", nargs="+", default=None, choices=METHODS, help="default: every one available")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="trials training at once")
    parser.add_argument("--full-runs", type=int, default=None,
                        help="budget: this many full trainings' epochs (default: MF-Hartmann 50, tables 30)")
    parser.add_argument("--budget-unit", choices=("epochs", "seconds"), default="epochs",
                        help="seconds: full runs of a median config's training seconds")
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    parser.add_argument("--quick", action="store_true", help="MF-Hartmann-3, 3 seeds, 20 full runs")
    parser.add_argument("--out", type=Path, default=Path("results/mf_benchmark"))
    parser.add_argument("--timing", type=int, nargs="+", metavar="RESULTS",
                        help="only time suggest() with this many per-epoch results in, e.g. 100 1000")
    parser.add_argument("--timing-seeds", type=int, default=3, help="histories per timing (median, range)")
    args = parser.parse_args(argv)
    if args.timing:
        for results in args.timing:
            runs = [time_suggest(results, seed=seed) for seed in range(args.timing_seeds)]
            medians, firsts = [np.median(s[1:]) for s in runs], [s[0] for s in runs]
            print(f"mf-gp suggest() with {results} per-epoch results in, {args.timing_seeds} seed(s): median "
                  f"{np.median(medians):.3f} s [{min(medians):.3f}, {max(medians):.3f}], first (refit) "
                  f"{np.median(firsts):.3f} s [{min(firsts):.3f}, {max(firsts):.3f}]")
        return 0
    found = problems()
    names = ["mf_hartmann3"] if args.quick else (args.problems or list(found))
    methods = args.methods or [m for m in METHODS if not m.startswith("bohb") or peers.bohb_available()]
    seeds = 3 if args.quick else args.seeds
    full_runs = args.full_runs or (20 if args.quick else None)
    unknown = sorted(set(names) - set(found))
    if unknown:
        parser.error(f"unknown problem(s) {unknown}; found {sorted(found)} (tables: python -m tune_jobs.lc_table)")
    tasks = [(p, m, s, args.workers, full_runs, args.budget_unit) for p in names for m in methods for s in range(seeds)]
    start = time.perf_counter()
    if args.jobs == 1:
        runs = pd.DataFrame([_run(task) for task in tasks])
    else:  # spawned, not forked: a process with Ray running in it (a notebook, the tests) must not fork
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = pd.DataFrame(list(pool.map(_run, tasks)))
    summary = summarise(runs, {name: found[name].mode for name in names})
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "mf_runs.csv", index=False)
    table = markdown_table(summary)
    (args.out / "mf_summary.md").write_text(table + "\n")
    print(table)
    print(f"\n{len(tasks)} runs in {time.perf_counter() - start:.0f} s; files in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
