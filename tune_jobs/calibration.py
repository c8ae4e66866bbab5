"""Does the model know what it doesn't know? Coverage and predictive density on fresh points.

    python -m tune_jobs.calibration --searchers gp gp-map --seeds 5 --jobs 2

For every problem, searcher and seed, the searcher runs ``max(--at)`` evaluations
(one at a time, as ``tune_jobs.benchmark`` drives it); after 20 and 40 of them
it predicts 500 fresh uniformly random configs (seeded) and is scored against
their true values: the share inside its nominal 95% predictive interval
(``GPEISearcher.predict_interval``; well calibrated: near 0.95) and the mean
negative log predictive density (``GPEISearcher.log_density``; lower is
better). The points the searcher chose are where it looked, not a uniform
sample, so this also measures how honest the model is away from its data.
Writes ``calibration.csv`` (one row per run and count) and ``calibration.md``.
"""

from __future__ import annotations

import argparse
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from searchers.calibration import coverage
from searchers.tune_space import from_tune

from . import bbob, peers
from .benchmark import SEARCHERS
from .problems import PROBLEMS, problem_named
from .tables import markdown_table, write_report

LEVEL = 0.95
CHEAP = [name for name, problem in PROBLEMS.items() if problem.optimum is not None]  # synthetic: 500 fresh values each


def score(problem_name: str, searcher_name: str, seed: int, at: tuple[int, ...], n_test: int = 500) -> list[dict]:
    """One run of ``max(at)`` evaluations; a row of coverage and NLPD after each count in ``at``."""
    logging.getLogger("searchers").setLevel(logging.ERROR)
    peers.single_threaded()
    problem = problem_named(problem_name)
    space = from_tune(problem.space)
    rng = np.random.default_rng(10_000 + seed)
    fresh = [space.decode(space.snap(u[None])[0]) for u in rng.random((n_test, space.dim))]
    truth = np.array([problem(c) for c in fresh])
    searcher = SEARCHERS[searcher_name](seed)
    searcher.set_search_properties("loss", "min", problem.space)
    rows = []
    for i in range(max(at)):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": problem(config)})
        if i + 1 in at:
            lower, upper = searcher.predict_interval(fresh, LEVEL)
            nlpd = -searcher.log_density(fresh, truth)
            rows.append({"problem": problem_name, "searcher": searcher_name, "seed": seed, "observations": i + 1,
                         "coverage": coverage(lower, upper, truth),
                         "nlpd": float(np.mean(nlpd)), "median_nlpd": float(np.median(nlpd))})
    print(f"{problem_name:17s} {searcher_name:8s} seed={seed} "
          + " ".join(f"n={r['observations']}: coverage {r['coverage']:.2f} nlpd {r['nlpd']:.3g}" for r in rows),
          flush=True)
    return rows


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Median over seeds, per problem, observation count and searcher."""
    grouped = rows.groupby(["problem", "observations", "searcher"], sort=False)
    return grouped.agg(seeds=("seed", "count"), coverage=("coverage", "median"),
                       coverage_min=("coverage", "min"), coverage_max=("coverage", "max"),
                       nlpd=("nlpd", "median")).reset_index()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", default=CHEAP, metavar="PROBLEM",
                        help=f"any of {sorted(PROBLEMS)}, or from the BBOB suite (tune_jobs.bbob)")
    parser.add_argument("--searchers", nargs="+", default=["gp", "gp-map"], choices=sorted(SEARCHERS),
                        metavar="SEARCHER", help="GP searchers (they have predict_interval)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--at", type=int, nargs="+", default=[20, 40], help="observation counts to score at")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("results/calibration"))
    args = parser.parse_args(argv)
    if min(args.seeds, args.jobs, *args.at) < 1:
        parser.error("--seeds, --jobs and --at must be >= 1")
    cells = [(p, s, seed, tuple(args.at))
             for p in bbob.expand(args.problems) for s in args.searchers for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = pd.DataFrame([row for cell in pool.map(score, *zip(*cells, strict=True)) for row in cell])
    args.out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(args.out / "calibration.csv", index=False)
    summary = summarise(rows)
    inside = summary["coverage"].between(0.85, 0.99)
    lines = [f"## Nominal {LEVEL:.0%} interval coverage and mean NLPD on 500 fresh points "
             f"(median over {args.seeds} seeds)", "", markdown_table(summary), "",
             "Coverage within [0.85, 0.99]: " + ", ".join(
                 f"{name} at n={n}: {int(g.sum())} of {len(g)} problems"
                 for (name, n), g in inside.groupby([summary["searcher"], summary["observations"]], sort=False)), ""]
    write_report(args.out / "calibration.md", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
