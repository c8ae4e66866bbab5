"""The one place in the project that builds a Ray Tune ``Tuner``.

``build_tuner`` takes a trainable and everything around it as plain keyword
arguments; the jobs (``job_tuner``), the speed-up and long-sweep commands and
the notebooks all come through it. ``make_searcher`` and ``make_scheduler``
turn the names a user gives (``--searcher``, ``--scheduler``) into objects.
"""

from __future__ import annotations

import os
from typing import Any

from .data import MnistData
from .job import METRIC, MODE, Job
from .options import SweepOptions


def build_tuner(
    trainable: Any,
    param_space: dict,
    *,
    metric: str,
    mode: str,
    num_samples: int,
    storage_path: str,
    name: str,
    search_alg: Any = None,
    scheduler: Any = None,
    max_concurrent: int | None = None,
    max_failures: int = 0,
    time_budget: float | None = None,
    callbacks: list | None = None,
    verbose: int = 0,
    reuse_actors: bool = True,
):
    """A ``tune.Tuner`` for ``trainable``; Tune keeps every checkpoint (the jobs prune them themselves:
    ``checkpoints.PruneCheckpoints``).

    ``reuse_actors``: a new trial runs in the worker process a finished or stopped one leaves (Ray's
    default is a new process per trial, which imports PyTorch or TensorFlow again: about 2 s before
    a trial's first epoch on this machine, against 0.3-0.5 s for each later epoch of the MLP, so an
    early-stopping scheduler's savings went to starting trials).
    """
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    if isinstance(search_alg, BasicVariantGenerator):
        # Tune applies max_concurrent_trials to Searchers only, and warns for a generator, which limits
        # itself (see make_searcher).
        max_concurrent = None
    # A trial that never reports the metric is a failed trial (the searcher records why), not the
    # end of the sweep, which is what Tune's strict metric check would make it.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    checkpoints = tune.CheckpointConfig(checkpoint_score_attribute=metric, checkpoint_score_order=mode)
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=metric, mode=mode, num_samples=num_samples, search_alg=search_alg,
                                    scheduler=scheduler, max_concurrent_trials=max_concurrent,
                                    time_budget_s=time_budget, reuse_actors=reuse_actors),
        run_config=tune.RunConfig(name=name, storage_path=storage_path, verbose=verbose,
                                  failure_config=tune.FailureConfig(max_failures=max_failures),
                                  checkpoint_config=checkpoints, callbacks=callbacks),
    )


def make_searcher(name: str, seed: int, *, epochs: int, first: tuple[dict, ...] = (), gp_options: dict | None = None,
                  max_concurrent: int = 0):
    """The search algorithm for ``--searcher``.

    The GP learns from every epoch a trial reports, with ``epochs`` as the target fidelity;
    ``gp-cost`` the same, its expected improvement per predicted epoch second (``cost_power=1``);
    ``gp-final`` from each trial's last result only, as it did before multi-fidelity. Every
    searcher, random search included (Ray's, seeded), tries the configs ``first`` before its own, so
    that a comparison of searchers gives none of them a head start. ``max_concurrent`` is for random
    search: Tune limits its own generator and any ``Searcher`` by ``max_concurrent_trials``, but not
    a generator it is given, which would create every trial at once.
    """
    points = list(first) or None
    if name in ("gp", "gp-cost", "gp-final"):
        from searchers import GPEISearcher

        # gp-final: last results only
        fidelity = {"fidelity_attr": None} if name == "gp-final" else {"max_fidelity": epochs}
        cost = {"cost_power": 1.0} if name == "gp-cost" else {}
        return GPEISearcher(seed=seed, points_to_evaluate=points, **fidelity, **cost, **(gp_options or {}))
    if name == "ax":
        from searchers import AxSearcher

        return AxSearcher(seed=seed, points_to_evaluate=points)
    if name in ("tpe", "bohb"):
        from . import peers

        return peers.optuna("tpe")(seed, points) if name == "tpe" else peers.bohb(seed, points)
    from ray.tune.search import BasicVariantGenerator

    return BasicVariantGenerator(points_to_evaluate=points, max_concurrent=max_concurrent,
                                 random_state=seed)


def make_scheduler(name: str, epochs: int):
    """The trial scheduler for ``--scheduler``; None is Tune's FIFO (every trial runs all its epochs).
    ``hyperband`` pauses trials at a rung until their bracket has caught up (for TuneBOHB and the GP,
    which hear of each pause)."""
    if name == "fifo":
        return None
    if name == "hyperband":
        from ray.tune.schedulers import HyperBandForBOHB

        # BOHB's reduction factor (Falkner et al. 2018). Ray's brackets multiply the first rung by it and
        # cap at max_t: with 10 epochs, rungs at 1, 3, 9 and 3, 9 epochs, and a bracket of full runs.
        return HyperBandForBOHB(max_t=epochs, reduction_factor=3)
    from ray.tune.schedulers import ASHAScheduler

    # Rungs at 1/6, 1/3 and 2/3 of the epochs: half the trials go on at each.
    return ASHAScheduler(max_t=epochs, grace_period=max(1, epochs // 6), reduction_factor=2)


def trainable_for(job: Job, options: SweepOptions, data: MnistData):
    """The job's trainable with its data (put in the object store once) and per-trial resources."""
    from ray import tune

    return tune.with_resources(tune.with_parameters(job.trainable, data=data),
                               {"cpu": options.cpus_per_trial, "gpu": options.gpus_per_trial})


def job_tuner(job: Job, options: SweepOptions, data: MnistData, searcher_name: str, name: str):
    """The Tuner for one sweep of ``job`` and its searcher object (None when resuming: the searcher is
    then the restored one). Its console is ``console.Progress``, or Ray's
    own with ``options.verbose``."""
    from ray import tune

    from .checkpoints import PruneCheckpoints
    from .console import Progress

    trainable = trainable_for(job, options, data)
    run_dir = os.path.join(options.storage_path, name)
    if options.resume:
        if not tune.Tuner.can_restore(run_dir):
            raise SystemExit(f"--resume: {run_dir} is not a run that can be resumed")
        return tune.Tuner.restore(run_dir, trainable=trainable, resume_errored=True), None  # its own console
    searcher = make_searcher(searcher_name, options.seed, epochs=options.epochs, first=job.first_configs,
                             gp_options=job.gp_options, max_concurrent=options.max_concurrent)
    space = job.param_space(options.epochs, options.seed)
    if searcher_name in ("tpe", "bohb"):
        from .peers import without_log_steps

        space = without_log_steps(space)  # Optuna and ConfigSpace have no quantised log scale
    callbacks = [] if options.verbose else [Progress(options.num_samples, metric=METRIC, mode=MODE,
                                                     time_budget=options.time_budget)]
    callbacks.append(PruneCheckpoints(options.epochs, metric=METRIC, mode=MODE))
    tuner = build_tuner(
        trainable, space, metric=METRIC, mode=MODE,
        num_samples=options.num_samples, storage_path=options.storage_path, name=name, search_alg=searcher,
        scheduler=make_scheduler(options.scheduler, options.epochs), max_concurrent=options.max_concurrent,
        max_failures=options.max_failures, time_budget=options.time_budget,
        callbacks=callbacks, verbose=1 if options.verbose else 0,
    )
    return tuner, searcher
