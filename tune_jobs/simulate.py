"""A sweep on a simulated clock: a searcher and Ray's own scheduler, driven as Tune drives them, with
``workers`` trials training at once and each epoch advancing its trial by the problem's epoch seconds.

    trace = simulate(MFHartmann(6), "mf-gp+asha", seed=0, workers=2, budget=50 * 32)   # epochs
    trace = simulate(table, "mf-gp+asha", seed=0, workers=2, budget=150.0, unit="seconds")

A method is ``<searcher>+<scheduler>``: searchers ``mf-gp`` (ours, every epoch),
``mf-gp-racq``, ``mf-gp-rung``, ``mf-gp-trend``, ``mf-gp-map``, ``mf-gp-flatnoise`` (one noise
for every epoch), ``mf-gp-centre5`` (Ax's initial design: the centre, then Sobol, 5 points),
``mf-gp-explore`` and ``mf-gp-explore5`` (every third or fifth suggestion continues the initial
design), ``mf-gp-cost`` (EI per predicted epoch second), ``mf-gp-choosewarp`` (the output warp kept only where the
evidence favours it), ``gp`` (final results only), ``random``,
``tpe``, ``bohb``; schedulers ``asha``, ``fifo`` or ``hyperband`` (Ray's ``HyperBandForBOHB``, which
pauses trials and resumes them; for ``bohb`` and the GP searchers). Used by ``tune_jobs.mf_benchmark``.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

PENDING, RUNNING, PAUSED, TERMINATED = "PENDING", "RUNNING", "PAUSED", "TERMINATED"  # Ray's Trial statuses
CONTINUE, PAUSE, STOP = "CONTINUE", "PAUSE", "STOP"  # Ray's TrialScheduler decisions


def make_searcher(name: str, problem, seed: int):
    """The searcher half of a method name (``mf-gp``, ``gp``, ``random``, ...)."""
    from searchers import GPEISearcher

    from . import peers

    target = {"max_fidelity": problem.epochs}
    makers = {
        "mf-gp": lambda: GPEISearcher(seed=seed, **target),
        "mf-gp-racq": lambda: GPEISearcher(seed=seed, fidelity_acquisition="r_acq", **target),
        "mf-gp-rung": lambda: GPEISearcher(seed=seed, fidelity_model="rung", **target),
        "mf-gp-trend": lambda: GPEISearcher(seed=seed, fidelity_model="joint_trend", **target),
        "mf-gp-map": lambda: GPEISearcher(seed=seed, hyper_samples=0, **target),
        "mf-gp-flatnoise": lambda: GPEISearcher(seed=seed, fidelity_noise=False, **target),
        "mf-gp-centre5": lambda: GPEISearcher(seed=seed, centre_first=True, n_initial=5, **target),
        "mf-gp-explore": lambda: GPEISearcher(seed=seed, explore_fraction=1 / 3, **target),
        "mf-gp-explore5": lambda: GPEISearcher(seed=seed, explore_fraction=1 / 5, **target),
        "mf-gp-cost": lambda: GPEISearcher(seed=seed, cost_power=1.0, **target),
        "mf-gp-choosewarp": lambda: GPEISearcher(seed=seed, choose_warp=True, **target),
        "gp": lambda: GPEISearcher(seed=seed, fidelity_attr=None),
        "gp-map": lambda: GPEISearcher(seed=seed, fidelity_attr=None, hyper_samples=0),
        "random": lambda: peers.RandomSearcher(seed=seed),
        "tpe": lambda: peers.optuna("tpe")(seed),
        "bohb": lambda: peers.bohb(seed),
    }
    searcher = makers[name]()
    space = peers.without_log_steps(problem.space) if name in ("tpe", "bohb") else problem.space
    searcher.set_search_properties(problem.metric, problem.mode, space)
    return searcher


def make_method(method: str, problem, seed: int):
    """``(searcher, scheduler)`` for a method name ``<searcher>+<asha|hyperband|fifo>``; the scheduler None is
    FIFO."""
    from .tuner import make_scheduler

    searcher_name, scheduler_name = method.split("+")
    scheduler = make_scheduler(scheduler_name, problem.epochs)
    if scheduler is not None:
        np.random.seed(seed)  # ASHA draws its bracket from numpy's global stream
        scheduler.set_search_properties(problem.metric, problem.mode)
    return make_searcher(searcher_name, problem, seed), scheduler


@dataclass(eq=False)  # Ray's HyperBand keys its brackets by trial
class _Trial:
    trial_id: str
    config: dict
    epoch: int = 0
    status: str = PENDING
    last_result: dict | None = None
    is_saving: bool = False  # never: a simulated checkpoint is instant


@dataclass
class Trace:
    """What one simulated sweep found, as compute was spent."""

    spent: np.ndarray  # (k,) compute spent (epochs, or training seconds) when each new best score was found
    scores: np.ndarray  # (k,) that score (a regret to minimise, or an accuracy to maximise)
    seconds: np.ndarray  # (k,) simulated wall seconds at that moment
    suggest_seconds: float
    configs: list[dict]  # every config started, in order (a table's own configs: see ``claim``)

    @property
    def trials(self) -> int:
        return len(self.configs)


class _Sweep:
    """One simulated sweep: workers, a clock, and the searcher and scheduler deciding, called in the order
    Tune's controller calls them. It is also the controller a scheduler is handed: HyperBand pauses trials
    and later asks for them back (``choose_trial_to_run``), stops paused ones (``stop_trial``) and tells the
    searcher of pauses (``search_alg.searcher``).

    New trials are created as Tune creates them, with ``workers`` as ``max_concurrent_trials``: a searcher whose
    ``set_max_concurrency`` accepts that limit (TuneBOHB, the GP) keeps to it itself and gets Tune's one pending trial
    ahead, which it creates as soon as a trial pauses; any other is wrapped in a ``ConcurrencyLimiter`` that
    asks it only while fewer than ``workers`` trials are live, so it suggests when a worker is free."""

    def __init__(self, problem, method: str, seed: int, workers: int, unit: str):
        self.problem, self.unit, self.workers = problem, unit, workers
        self.searcher, self.scheduler = make_method(method, problem, seed)
        self.self_limiting = self.searcher.set_max_concurrency(workers)  # as Tune asks it
        self.search_alg = SimpleNamespace(searcher=self.searcher)
        self.clock, self.spent, self.started, self.suggest_seconds = 0.0, 0.0, 0, 0.0
        self.events: list = []  # (finish time, order, trial), a heap: one per running trial
        self.best, self.trace, self.configs, self.trials = None, [], [], []
        self.taken: set = set()  # a table's rows this sweep trained (see ``claim``)

    # -- what a scheduler may ask of the controller ------------------------------------------

    def get_trials(self) -> list[_Trial]:
        return self.trials

    def stop_trial(self, trial: _Trial) -> None:
        """Tune's ``stop_trial`` for a trial that is not running (HyperBand stops paused ones)."""
        if trial.status in (PENDING, PAUSED):
            self.scheduler.on_trial_remove(self, trial)
            self.searcher.on_trial_complete(trial.trial_id)
            trial.status = TERMINATED

    # -- the loop ------------------------------------------------------------------------------

    def schedule(self) -> None:
        """Tune's step: create trials while the queue allows, then start the scheduler's choice (a pending
        trial, or a paused one to resume) on each free worker."""
        while True:
            self.update_queue()
            trial = self.choose() if len(self.events) < self.workers else None
            if trial is None:
                return
            trial.status = RUNNING
            if trial.epoch >= self.problem.epochs:
                self.complete(trial)  # paused after its last epoch and resumed: its trainable just returns
            else:
                self.start_epoch(trial)

    def update_queue(self) -> None:
        max_pending = 1 if self.self_limiting else self.workers
        while sum(t.status == PENDING for t in self.trials) < max_pending:
            live = sum(t.status in (PENDING, RUNNING, PAUSED) for t in self.trials)
            if (not self.self_limiting and live >= self.workers) or not self.new_trial():
                return

    def choose(self) -> _Trial | None:
        if self.scheduler is not None:
            return self.scheduler.choose_trial_to_run(self)
        return next((t for t in self.trials if t.status == PENDING), None)

    def new_trial(self) -> bool:
        """Ask the searcher for a trial and add it, pending; False if it has none now."""
        tick = time.perf_counter()
        trial_id = str(len(self.configs))
        config = self.searcher.suggest(trial_id)
        self.suggest_seconds += time.perf_counter() - tick
        if not isinstance(config, dict):  # None or FINISHED
            return False
        config = self.problem.claim(config, self.taken)  # a table answers with a config of its own
        trial = _Trial(trial_id, config)
        self.configs.append(config)
        self.trials.append(trial)
        if self.scheduler is not None:
            self.scheduler.on_trial_add(self, trial)
        return True

    def start_epoch(self, trial: _Trial) -> None:
        seconds = self.problem.epoch_seconds(trial.config, trial.epoch + 1)
        self.spent += seconds if self.unit == "seconds" else 1
        self.started += 1
        heapq.heappush(self.events, (self.clock + seconds, self.started, trial))

    def finish_epoch(self) -> _Trial | None:
        """The next epoch to end: report it as Tune does (the scheduler decides first and may add to the
        result, then the searcher hears it); returns the trial if it trains on, None if its worker is free."""
        self.clock, _, trial = heapq.heappop(self.events)
        trial.epoch += 1
        value = self.problem.value(trial.config, trial.epoch)
        result = {self.problem.metric: value, "training_iteration": trial.epoch,
                  "time_this_iter_s": self.problem.epoch_seconds(trial.config, trial.epoch)}
        better = np.less if self.problem.mode == "min" else np.greater
        if self.best is None or better(value, self.best):
            self.best = value
            self.trace.append((self.spent, self.problem.score(trial.config, value), self.clock))
        trial.last_result = result
        done = trial.epoch >= self.problem.epochs  # the trainable returns after its last epoch
        decision = CONTINUE
        if self.scheduler is not None:
            decision = self.scheduler.on_trial_result(self, trial, result)
        if decision != STOP:
            self.searcher.on_trial_result(trial.trial_id, result)
        if decision == PAUSE:  # even after its last epoch: Tune pauses the trial before it sees it return
            trial.status = PAUSED
            return None
        if decision == STOP or done:
            self.complete(trial)
            return None
        return trial

    def complete(self, trial: _Trial) -> None:
        trial.status = TERMINATED
        self.searcher.on_trial_complete(trial.trial_id, trial.last_result)
        if self.scheduler is not None:
            self.scheduler.on_trial_complete(self, trial, trial.last_result)


def simulate(problem, method: str, *, seed: int, workers: int, budget: float, unit: str = "epochs") -> Trace:
    """Run ``method`` on ``problem`` until ``budget`` is spent: epochs, or (``unit="seconds"``) seconds
    of training summed over the workers; see the module docstring."""
    if unit not in ("epochs", "seconds"):
        raise ValueError(f"unit must be 'epochs' or 'seconds', got {unit!r}")
    sweep = _Sweep(problem, method, seed, workers, unit)
    sweep.schedule()
    while sweep.events:
        trial = sweep.finish_epoch()
        if sweep.spent >= budget:
            continue  # the budget is spent: let the running epochs finish, start nothing
        if trial is not None:
            sweep.start_epoch(trial)  # it trains on, on its worker
        sweep.schedule()
    spent, scores, seconds = (np.array(column) for column in zip(*sweep.trace, strict=True))
    return Trace(spent, scores, seconds, sweep.suggest_seconds, sweep.configs)
