"""``GPEISearcher``: the GP / log-EI engine as a Ray Tune ``Searcher``.

The only module of the engine that imports Ray. It keeps Ray's bookkeeping
(trial ids, metric and mode, checkpoints) and hands the engine encoded points
and values to maximise::

    from ray import tune
    from searchers import GPEISearcher

    tuner = tune.Tuner(
        trainable,
        param_space={"lr": tune.loguniform(1e-4, 1e-1), "layers": tune.randint(1, 4)},
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=40,
                                    search_alg=GPEISearcher(seed=0), max_concurrent_trials=4),
    )
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from .engine import BOEngine, EngineOptions
from .space import SearchSpace, from_tune, merge_config

logger = logging.getLogger(__name__)

_STATE_VERSION = 1


class GPEISearcher(Searcher):
    """Bayesian optimisation with a Matern-5/2 GP and log expected improvement.

    Args (keyword-only):
        space: a Ray Tune ``param_space``; usually left out, Tune passes the Tuner's.
        metric, mode: as in ``TuneConfig``; usually left out, Tune passes them.
        seed: makes the sequence of suggestions reproducible.
        n_initial: Sobol points before the GP takes over (default ``2 d`` in [5, 20]).
        acquisition: ``"log_ei"`` (default) or ``"ucb"``.
        pending_strategy: how running trials are treated (see ``searchers.pending``).
        points_to_evaluate: configs (possibly partial) to try first, in order.
        evaluated_rewards: metric values already known for ``points_to_evaluate``;
            those points are then recorded as observations, not re-run.
    """

    def __init__(
        self,
        *,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        seed: int = 0,
        n_initial: int | None = None,
        acquisition: str = "log_ei",
        pending_strategy: str = "believer",
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        evaluated_rewards: Sequence[float] | None = None,
    ):
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if evaluated_rewards is not None and len(evaluated_rewards) != len(points_to_evaluate or ()):
            raise ValueError("evaluated_rewards needs exactly one value per entry of points_to_evaluate")
        super().__init__(metric=metric, mode=mode)
        self._options = EngineOptions(n_initial=n_initial, acquisition=acquisition, pending_strategy=pending_strategy)
        self._seed = seed
        self._points_to_evaluate = [dict(p) for p in points_to_evaluate or ()]
        self._evaluated_rewards = list(evaluated_rewards) if evaluated_rewards is not None else None
        self._engine: BOEngine | None = None
        self._pending: dict[str, np.ndarray] = {}
        self._failures: dict[str, str] = {}
        self._suggest_seconds = 0.0
        if space is not None:
            self._setup(from_tune(space))

    # -- Ray Tune's Searcher interface --------------------------------------------------

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        if self._engine is not None:
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        self._setup(from_tune(config))
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if self._engine is None:
            raise RuntimeError(
                "GPEISearcher has no search space: pass param_space to the Tuner or space= to the searcher"
            )
        if self._metric is None or self._mode is None:
            raise RuntimeError("GPEISearcher needs metric and mode: set them in TuneConfig or on the searcher")
        start = time.perf_counter()
        pending = np.array(list(self._pending.values())).reshape(-1, self._engine.space.dim)
        if self._points_to_evaluate:
            u = self._engine.space.snap(self._encode_partial(self._points_to_evaluate.pop(0), pending)[None])[0]
        else:
            u = self._engine.propose(pending)
        self._suggest_seconds += time.perf_counter() - start
        if u is None:
            return Searcher.FINISHED
        self._pending[trial_id] = u
        return self._engine.space.decode(u)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        u = self._pending.pop(trial_id, None)
        if u is None:
            return
        value, reason = self._value_of(result, error)
        if reason is not None:
            self._failures[trial_id] = reason
            self._engine.observe_failure(u)
            logger.warning("trial %s not used by the GP: %s", trial_id, reason)
            return
        self._engine.observe(u, value)

    def add_evaluated_point(
        self,
        parameters: dict,
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        if self._engine is None:
            raise RuntimeError("add_evaluated_point needs the search space: set it first")
        u = self._engine.space.encode(parameters)
        if error or value is None or not math.isfinite(value):
            self._engine.observe_failure(u)
            return
        self._engine.observe(u, self._sign * float(value))

    def save(self, checkpoint_path: str) -> None:
        pickle_atomically(self.get_state(), checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        try:
            with open(checkpoint_path, "rb") as f:
                state = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError) as e:
            raise ValueError(f"{checkpoint_path} is not a GPEISearcher checkpoint: {e}") from e
        self.set_state(state)

    def get_state(self) -> dict:
        return {"version": _STATE_VERSION, **{k: v for k, v in self.__dict__.items()}}

    def set_state(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
            raise ValueError("not a GPEISearcher checkpoint (missing or unknown version)")
        self.__dict__.update({k: v for k, v in state.items() if k != "version"})

    # -- for reports and tests ----------------------------------------------------------

    @property
    def engine(self) -> BOEngine | None:
        return self._engine

    @property
    def space(self) -> SearchSpace | None:
        return None if self._engine is None else self._engine.space

    @property
    def n_observations(self) -> int:
        return 0 if self._engine is None else len(self._engine.y)

    @property
    def suggest_seconds(self) -> float:
        """Total time spent in ``suggest()`` so far."""
        return self._suggest_seconds

    @property
    def failures(self) -> dict[str, str]:
        """Trial id -> why its result was not given to the GP."""
        return dict(self._failures)

    # -- internals ----------------------------------------------------------------------

    @property
    def _sign(self) -> float:
        return 1.0 if self._mode == "max" else -1.0

    def _setup(self, space: SearchSpace) -> None:
        self._engine = BOEngine(space, seed=self._seed, options=self._options)
        if self._evaluated_rewards is not None:
            if self._mode is None:
                raise ValueError("evaluated_rewards needs mode (and metric) set on the searcher")
            for point, reward in zip(self._points_to_evaluate, self._evaluated_rewards, strict=False):
                self.add_evaluated_point(point, reward)
            self._points_to_evaluate, self._evaluated_rewards = [], None

    def _encode_partial(self, point: Mapping[str, Any], pending: np.ndarray) -> np.ndarray:
        """Encode a possibly partial config; missing parameters come from the initial design."""
        engine = self._engine
        try:
            return engine.space.encode(point)
        except ValueError:
            pass  # partial: fill in below (a value outside the space fails again there)
        filler = engine.propose(pending)
        if filler is None:
            filler = np.full(engine.space.dim, 0.5)
        merged = merge_config(engine.space.decode(filler), point)
        return engine.space.encode(merged)

    def _value_of(self, result: dict | None, error: bool) -> tuple[float, str | None]:
        value, reason = metric_value(result, self._metric, error)
        return self._sign * value, reason



def metric_value(result: dict | None, metric: str, error: bool) -> tuple[float, str | None]:
    """A trial's metric as a finite float, or NaN and why it cannot be used."""
    if error:
        return math.nan, "the trial raised an error"
    if not result or metric not in result:
        return math.nan, f"the result has no metric {metric!r}"
    try:
        value = float(result[metric])
    except (TypeError, ValueError):
        return math.nan, f"metric {metric!r} is not a number: {result[metric]!r}"
    if not math.isfinite(value):
        return math.nan, f"metric {metric!r} is {value}"
    return value, None


def pickle_atomically(state: Any, path: str) -> None:
    """Pickle ``state`` to ``path`` through a temporary file and a rename: a crash leaves the old file intact."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".searcher-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(state, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
