"""``AxSearcher``: Ax (BoTorch) as a Ray Tune ``Searcher``, on Ax's current ``ax.api.Client``.

Ray's own ``AxSearch`` is written for the deprecated ``AxClient`` and fails with
ax-platform 1.x. This adapter takes the same Ray Tune ``param_space`` as
``GPEISearcher``, through the same ``space`` module, and translates:

* float -> ``RangeParameterConfig(float)``, linear or log;
* integer and quantised values ``start + k * step`` -> an integer range over
  ``value / step`` (log-scaled for log parameters), so Ax sees the grid;
* categorical -> an unordered string choice of the category's index (Ax choices
  must hold one plain type; ours may hold anything: ``None``, tuples, ...).

Ax parameters are named ``p0, p1, ...`` and the metric ``objective``, so that
any Tune path or metric name is acceptable to Ax. Parameters with a single
value are kept from Ax (it refuses a range with equal bounds).
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

from .space import CategoricalParam, FloatParam, GridParam, SearchSpace, from_tune, merge_config
from .tune_searcher import metric_value, pickle_atomically

logger = logging.getLogger(__name__)

_OBJECTIVE = "objective"
_STATE_VERSION = 1


class AxSearcher(Searcher):
    """Ax's Bayesian optimisation (Sobol, then BoTorch) behind Ray Tune's Searcher interface.

    Args (keyword-only): ``space``, ``metric``, ``mode``, ``seed``,
    ``points_to_evaluate``, ``evaluated_rewards``, as for ``GPEISearcher``.
    """

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
        self._client = None
        self._trials: dict[str, int] = {}  # Ray trial id -> Ax trial index
        self._failures: dict[str, str] = {}
        self._suggest_seconds = 0.0
        self._n_observations = 0
        self._space_config = space
        if space is not None and mode is not None:
            self._setup(from_tune(space))

    # -- Ray Tune's Searcher interface --------------------------------------------------

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        if self._client is not None:
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        space = from_tune(self._space_config if self._space_config is not None else config)
        if self._mode is None:
            raise ValueError("AxSearcher needs mode ('min' or 'max')")
        self._setup(space)
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if self._client is None:
            raise RuntimeError("AxSearcher has no search space and mode: pass them to the Tuner or the searcher")
        start = time.perf_counter()
        if self._points_to_evaluate:
            config = self._complete(self._points_to_evaluate.pop(0))
            index = self._client.attach_trial(self._to_ax(config))
        else:
            trials = self._client.get_next_trials(max_trials=1)
            if not trials:
                return None  # Ax's parallelism limit: Tune asks again later
            index, parameters = next(iter(trials.items()))
            config = self._from_ax(parameters)
        self._suggest_seconds += time.perf_counter() - start
        self._trials[trial_id] = index
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        index = self._trials.pop(trial_id, None)
        if index is None:
            return
        value, reason = self._value_of(result, error)
        if reason is not None:
            self._failures[trial_id] = reason
            self._client.mark_trial_failed(index, failed_reason=reason)
            logger.warning("trial %s not used by Ax: %s", trial_id, reason)
            return
        self._client.complete_trial(index, raw_data={_OBJECTIVE: value})
        self._n_observations += 1

    def add_evaluated_point(self, parameters: dict, value: float, error: bool = False, pruned: bool = False,
                            intermediate_values: list[float] | None = None) -> None:
        if self._client is None:
            raise RuntimeError("add_evaluated_point needs the search space: set it first")
        self._space.encode(parameters)  # raises, naming the parameter, if outside the space
        index = self._client.attach_trial(self._to_ax(parameters))
        if error or value is None or not math.isfinite(value):
            self._client.mark_trial_failed(index, failed_reason="evaluated with an error or a non-finite value")
            return
        self._client.complete_trial(index, raw_data={_OBJECTIVE: float(value)})
        self._n_observations += 1

    def save(self, checkpoint_path: str) -> None:
        """Our state plus Ax's own JSON snapshot, written atomically."""
        directory = os.path.dirname(os.path.abspath(checkpoint_path))
        state = {k: v for k, v in self.__dict__.items() if k != "_client"}
        state["version"] = _STATE_VERSION
        if self._client is not None:
            with tempfile.TemporaryDirectory(dir=directory) as tmp:
                snapshot = os.path.join(tmp, "ax.json")
                self._client.save_to_json_file(snapshot)
                with open(snapshot) as f:
                    state["ax_json"] = f.read()
        pickle_atomically(state, checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        from ax.api import Client

        try:
            with open(checkpoint_path, "rb") as f:
                state = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError) as e:
            raise ValueError(f"{checkpoint_path} is not an AxSearcher checkpoint: {e}") from e
        if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
            raise ValueError(f"{checkpoint_path} is not an AxSearcher checkpoint")
        ax_json = state.pop("ax_json", None)
        state.pop("version")
        self.__dict__.update(state)
        self._client = None
        if ax_json is not None:
            with tempfile.TemporaryDirectory() as tmp:
                snapshot = os.path.join(tmp, "ax.json")
                with open(snapshot, "w") as f:
                    f.write(ax_json)
                self._client = Client.load_from_json_file(snapshot)

    # -- for reports and tests ----------------------------------------------------------

    @property
    def space(self) -> SearchSpace | None:
        return self._space

    @property
    def n_observations(self) -> int:
        return self._n_observations

    @property
    def suggest_seconds(self) -> float:
        return self._suggest_seconds

    @property
    def failures(self) -> dict[str, str]:
        return dict(self._failures)

    # -- translation --------------------------------------------------------------------

    def _setup(self, space: SearchSpace) -> None:
        from ax.api import Client

        self._space = space
        self._client = Client(random_seed=self._seed)
        self._client.configure_experiment(
            parameters=[_ax_parameter(f"p{j}", p) for j, p in enumerate(space.params) if not _fixed(p)])
        sign = "" if self._mode == "max" else "-"
        self._client.configure_optimization(objective=f"{sign}{_OBJECTIVE}")
        if self._evaluated_rewards is not None:
            for point, reward in zip(self._points_to_evaluate, self._evaluated_rewards, strict=True):
                self.add_evaluated_point(point, reward)
            self._points_to_evaluate, self._evaluated_rewards = [], None

    def _to_ax(self, config: Mapping[str, Any]) -> dict:
        u = self._space.encode(config)
        pairs = enumerate(zip(self._space.params, u, strict=True))
        return {f"p{j}": _ax_value(p, x) for j, (p, x) in pairs if not _fixed(p)}

    def _from_ax(self, parameters: Mapping[str, Any]) -> dict:
        params = self._space.params
        u = np.array([p.encode_index(0) if _fixed(p) else _code(p, parameters[f"p{j}"]) for j, p in enumerate(params)])
        return self._space.decode(u)

    def _complete(self, point: Mapping[str, Any]) -> dict:
        """A possibly partial config completed with the space's centre."""
        config = merge_config(self._space.decode(np.full(self._space.dim, 0.5)), point)
        self._space.encode(config)  # raises, naming the parameter, if outside the space
        return config

    def _value_of(self, result: dict | None, error: bool) -> tuple[float, str | None]:
        return metric_value(result, self._metric, error)


def _fixed(p) -> bool:
    """A parameter with one value: Ax refuses a range with equal bounds, so it never sees it."""
    return not isinstance(p, FloatParam) and p.size == 1


def _ax_parameter(name: str, p):
    from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

    if isinstance(p, FloatParam):
        return RangeParameterConfig(name=name, bounds=(p.lower, p.upper), parameter_type="float",
                                    scaling="log" if p.log else "linear")
    if isinstance(p, GridParam):
        first = int(round(p.start / p.step))
        return RangeParameterConfig(name=name, bounds=(first, first + p.size - 1), parameter_type="int",
                                    scaling="log" if p.log else "linear")
    assert isinstance(p, CategoricalParam)
    return ChoiceParameterConfig(name=name, values=[str(i) for i in range(p.size)], parameter_type="str",
                                 is_ordered=False)


def _ax_value(p, u: float):
    """Our code ``u`` of parameter ``p`` as Ax's value."""
    if isinstance(p, FloatParam):
        return p.decode(u)
    if isinstance(p, GridParam):
        return int(round(p.start / p.step)) + p.index_of(u)
    return str(p.index_of(u))


def _code(p, value) -> float:
    """Ax's value of parameter ``p`` as our code."""
    if isinstance(p, FloatParam):
        return p.encode(float(value))
    if isinstance(p, GridParam):
        return p.encode_index(int(value) - int(round(p.start / p.step)))
    return p.encode_index(int(value))

