"""What every searcher of this package does the same way behind Ray Tune's ``Searcher`` interface.

``SpaceSearcher`` owns the Ray side: metric and mode, the search space
(translated once by ``space.from_tune``), ``points_to_evaluate`` and
``evaluated_rewards``, trials in flight, failed results and their reasons,
time spent in ``suggest()``, and atomic checkpoints. A backend (our GP engine,
Ax) fills in five hooks:

* ``_configure(space)``: build the backend once space and mode are known;
* ``_propose(trial_id)``: a new config and a token remembered for the trial,
  or None when the backend has nothing to offer right now;
* ``_token_for(config)``: a token for a config chosen by the user
  (``points_to_evaluate``);
* ``_tell(token, value, trial_id)``: a finished trial's metric, already checked finite
  (``value`` in the metric's own units) or None when it failed;
* ``_tell_config(config, value)``: a result the user already had (``evaluated_rewards``,
  ``add_evaluated_point``), or of a trial the searcher lost track of (restored
  from a checkpoint older than the trial), None when it failed;
* ``_has_result(config)``: whether the backend already learned this config's result.

``_maximised(value)`` is the one place where a minimised metric changes sign.

Checkpoints are the instance's own attributes, pickled through a temporary
file and a rename; a backend with state that does not pickle overrides
``_checkpoint_state`` and ``_restore_state``.
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

from ray.tune.search import Searcher

from .space import SearchSpace, merge_config
from .tune_space import from_tune

logger = logging.getLogger(__name__)

_STATE_VERSION = 1


class SpaceSearcher(Searcher):
    """Base of ``GPEISearcher`` and ``AxSearcher``; see the module docstring for the hooks."""

    def __init__(
        self,
        *,
        space: Mapping[str, Any] | None = None,
        metric: str | None = None,
        mode: str | None = None,
        seed: int = 0,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        evaluated_rewards: Sequence[float] | None = None,
    ):
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if evaluated_rewards is not None and len(evaluated_rewards) != len(points_to_evaluate or ()):
            raise ValueError("evaluated_rewards needs exactly one value per entry of points_to_evaluate")
        super().__init__(metric=metric, mode=mode)
        self._seed = seed
        self._points_to_evaluate = [dict(p) for p in points_to_evaluate or ()]
        self._evaluated_rewards = list(evaluated_rewards) if evaluated_rewards is not None else None
        self._space: SearchSpace | None = None
        self._running: dict[str, Any] = {}  # Ray trial id -> the backend's token for it
        self._failures: dict[str, str] = {}
        self._n_observations = 0
        self._suggest_seconds = 0.0
        if space is not None:
            self._space = from_tune(space)
            if mode is not None:
                self._set_up()

    # -- Ray Tune's Searcher interface --------------------------------------------------

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        if self._configured:
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        if self._space is None:
            self._space = from_tune(config)
        if self._mode is None:
            raise ValueError(f"{self._kind} needs mode ('min' or 'max'): set it in TuneConfig or on the searcher")
        self._set_up()
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if self._space is None:
            raise RuntimeError(f"{self._kind} has no search space: pass param_space to the Tuner or space= to it")
        if self._metric is None or self._mode is None:
            raise RuntimeError(f"{self._kind} needs metric and mode: set them in TuneConfig or on the searcher")
        if not self._configured:
            self._set_up()
        start = time.perf_counter()
        if self._points_to_evaluate:
            config = self._complete(self._points_to_evaluate.pop(0))
            token = self._token_for(config)
        else:
            proposal = self._propose(trial_id)
            if proposal is None or proposal is Searcher.FINISHED:
                self._suggest_seconds += time.perf_counter() - start
                return proposal
            config, token = proposal
        self._suggest_seconds += time.perf_counter() - start
        self._running[trial_id] = token
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id not in self._running:
            self._adopt(trial_id, result, error)
            return
        token = self._running.pop(trial_id)
        value, reason = metric_value(result, self._metric, error)
        if reason is not None:
            self._failures[trial_id] = reason
            logger.warning("trial %s has no usable result for %s: %s", trial_id, self._kind, reason)
            self._tell(token, None, trial_id)
            return
        self._tell(token, value, trial_id)
        self._n_observations += 1

    def _adopt(self, trial_id: str, result: dict | None, error: bool) -> None:
        """A trial this searcher did not suggest, or suggested after the checkpoint it was restored from
        (the driver was killed between the two): learn from the config its result carries."""
        config = (result or {}).get("config")
        if not self._configured or not isinstance(config, dict) or trial_id in self._failures:
            return
        try:
            config = self._complete(config)
        except ValueError as e:
            logger.warning("trial %s is not in the search space, ignored: %s", trial_id, e)
            return
        if self._has_result(config):
            return
        value, reason = metric_value(result, self._metric, error)
        if reason is not None:
            self._failures[trial_id] = reason
        self._tell_config(config, value if reason is None else None)
        self._n_observations += reason is None
        logger.info("trial %s was not running in this searcher; learned from its result", trial_id)

    def add_evaluated_point(
        self,
        parameters: dict,
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        if not self._configured:
            raise RuntimeError("add_evaluated_point needs the search space and mode: set them first")
        config = self._complete(parameters)
        usable = not error and value is not None and math.isfinite(value)
        self._tell_config(config, float(value) if usable else None)
        self._n_observations += usable

    def save(self, checkpoint_path: str) -> None:
        state = self._checkpoint_state()
        state.update(version=_STATE_VERSION, kind=self._kind)
        pickle_atomically(state, checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        not_ours = f"{checkpoint_path} is not a {self._kind} checkpoint"
        try:
            with open(checkpoint_path, "rb") as f:
                state = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
            raise ValueError(f"{not_ours}: {e}") from e
        if not isinstance(state, dict) or state.get("version") != _STATE_VERSION or state.get("kind") != self._kind:
            raise ValueError(f"{not_ours} (missing or unknown version)")
        self._restore_state({k: v for k, v in state.items() if k not in ("version", "kind")})

    # -- for reports and tests ----------------------------------------------------------

    @property
    def space(self) -> SearchSpace | None:
        return self._space

    @property
    def n_observations(self) -> int:
        """Finished trials whose metric the backend has learned from."""
        return self._n_observations

    @property
    def suggest_seconds(self) -> float:
        """Total time spent in ``suggest()`` so far."""
        return self._suggest_seconds

    @property
    def failures(self) -> dict[str, str]:
        """Trial id -> why its result was not given to the model."""
        return dict(self._failures)

    # -- hooks --------------------------------------------------------------------------

    _configured = False

    def _configure(self, space: SearchSpace) -> None:
        raise NotImplementedError

    def _propose(self, trial_id: str) -> tuple[dict, Any] | None:
        raise NotImplementedError

    def _token_for(self, config: dict) -> Any:
        raise NotImplementedError

    def _tell(self, token: Any, value: float | None, trial_id: str | None) -> None:
        raise NotImplementedError

    def _tell_config(self, config: dict, value: float | None) -> None:
        self._tell(self._token_for(config), value, None)

    def _has_result(self, config: dict) -> bool:
        """Whether the backend has this config's result already (default: it cannot tell)."""
        return False

    def _checkpoint_state(self) -> dict:
        return dict(self.__dict__)

    def _restore_state(self, state: dict) -> None:
        self.__dict__.update(state)

    # -- internals ----------------------------------------------------------------------

    @property
    def _kind(self) -> str:
        return type(self).__name__

    def _maximised(self, value):
        """A metric value (or array) as the backend maximises it, and back: a minimised metric is negated."""
        return value if self._mode == "max" else -value

    def _set_up(self) -> None:
        self._configure(self._space)
        self._configured = True
        if self._evaluated_rewards is not None:
            for point, reward in zip(self._points_to_evaluate, self._evaluated_rewards, strict=True):
                self.add_evaluated_point(point, reward)
            self._points_to_evaluate, self._evaluated_rewards = [], None

    def _complete(self, point: Mapping[str, Any]) -> dict:
        """A possibly partial config, completed by ``_fill``; raises, naming it, on a value outside the space."""
        try:
            base = self._space.decode(self._space.encode(point))
        except ValueError:
            base = self._fill()  # partial: a value outside the space fails again below
        config = merge_config(base, point)
        self._space.encode(config)
        return config

    def _fill(self) -> dict:
        """Values for the parameters a partial ``points_to_evaluate`` entry leaves out: the space's centre."""
        return self._space.decode(self._space.centre())


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
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
