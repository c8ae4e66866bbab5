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

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import SpaceSearcher
from .space import CategoricalParam, FloatParam, GridParam, SearchSpace

_OBJECTIVE = "objective"


class AxSearcher(SpaceSearcher):
    """Ax's Bayesian optimisation (Sobol, then BoTorch) behind Ray Tune's Searcher interface.

    Args (keyword-only): ``space``, ``metric``, ``mode``, ``seed``,
    ``points_to_evaluate``, ``evaluated_rewards``, as for ``GPEISearcher``
    (``SpaceSearcher``'s own).
    """

    _client = None  # ax.api.Client, once the space and mode are known

    # -- SpaceSearcher hooks ------------------------------------------------------------

    def _configure(self, space: SearchSpace) -> None:
        from ax.api import Client

        self._client = Client(random_seed=self._seed)
        self._client.configure_experiment(
            parameters=[_ax_parameter(f"p{j}", p) for j, p in enumerate(space.params) if not _fixed(p)])
        sign = "" if self._mode == "max" else "-"
        self._client.configure_optimization(objective=f"{sign}{_OBJECTIVE}")

    def _propose(self, trial_id: str) -> tuple[dict, int] | None:
        from ax.exceptions.core import DataRequiredError, SearchSpaceExhausted
        from ray.tune.search import Searcher

        try:
            trials = self._client.get_next_trials(max_trials=1)
        except DataRequiredError:
            return None  # Sobol's trials all pending and the model wants data: Tune asks again after a result
        except SearchSpaceExhausted:
            return Searcher.FINISHED
        if not trials:
            return None  # Ax's parallelism limit: Tune asks again later
        index, parameters = next(iter(trials.items()))
        return self._from_ax(parameters), index

    def _token_for(self, config: dict) -> int:
        return self._client.attach_trial(self._to_ax(config))

    def _tell(self, index: int, value: float | None, trial_id: str | None) -> None:
        if value is None:
            self._client.mark_trial_failed(index, failed_reason="failed, or no finite metric")
        else:
            self._client.complete_trial(index, raw_data={_OBJECTIVE: value})

    def _checkpoint_state(self) -> dict:
        """Our attributes plus Ax's own JSON snapshot of the client."""
        state = {k: v for k, v in self.__dict__.items() if k != "_client"}
        if self._client is not None:
            with tempfile.TemporaryDirectory() as tmp:
                snapshot = os.path.join(tmp, "ax.json")
                self._client.save_to_json_file(snapshot)
                with open(snapshot) as f:
                    state["ax_json"] = f.read()
        return state

    def _restore_state(self, state: dict) -> None:
        from ax.api import Client

        ax_json = state.pop("ax_json", None)
        self.__dict__.update(state)
        self._client = None
        if ax_json is not None:
            with tempfile.TemporaryDirectory() as tmp:
                snapshot = os.path.join(tmp, "ax.json")
                with open(snapshot, "w") as f:
                    f.write(ax_json)
                self._client = Client.load_from_json_file(snapshot)

    # -- translation --------------------------------------------------------------------

    def _to_ax(self, config: Mapping[str, Any]) -> dict:
        u = self._space.encode(config)
        pairs = enumerate(zip(self._space.params, u, strict=True))
        return {f"p{j}": _ax_value(p, x) for j, (p, x) in pairs if not _fixed(p)}

    def _from_ax(self, parameters: Mapping[str, Any]) -> dict:
        params = self._space.params
        u = np.array([p.encode_index(0) if _fixed(p) else _code(p, parameters[f"p{j}"]) for j, p in enumerate(params)])
        return self._space.decode(u)


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

