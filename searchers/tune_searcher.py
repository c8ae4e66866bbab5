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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from .base import SpaceSearcher
from .engine import BOEngine, EngineOptions
from .space import SearchSpace


class GPEISearcher(SpaceSearcher):
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
        self._options = EngineOptions(n_initial=n_initial, acquisition=acquisition, pending_strategy=pending_strategy)
        self._engine: BOEngine | None = None
        super().__init__(space=space, metric=metric, mode=mode, seed=seed, points_to_evaluate=points_to_evaluate,
                         evaluated_rewards=evaluated_rewards)

    @property
    def engine(self) -> BOEngine | None:
        """The GP engine (observations ``X``, ``y`` maximised, fitted ``params``); None before the space is known."""
        return self._engine

    # -- SpaceSearcher hooks ------------------------------------------------------------

    def _configure(self, space: SearchSpace) -> None:
        self._engine = BOEngine(space, seed=self._seed, options=self._options)

    def _propose(self, trial_id: str) -> tuple[dict, np.ndarray] | None:
        u = self._engine.propose(self._pending())
        if u is None:
            return Searcher.FINISHED
        return self._space.decode(u), u

    def _start(self, trial_id: str, config: dict) -> np.ndarray:
        return self._space.snap(self._space.encode(config)[None])[0]

    def _tell(self, u: np.ndarray, value: float | None) -> None:
        if value is None:
            self._engine.observe_failure(u)
        else:
            self._engine.observe(u, self._sign * value)

    def _known(self, config: dict, value: float | None) -> None:
        self._tell(self._start("", config), value)

    def _fill(self) -> dict:
        """The engine's next initial-design point: partial configs are completed space-fillingly."""
        u = self._engine.propose(self._pending())
        return super()._fill() if u is None else self._space.decode(u)

    # -- internals ----------------------------------------------------------------------

    @property
    def _sign(self) -> float:
        """The engine maximises: a minimised metric is negated."""
        return 1.0 if self._mode == "max" else -1.0

    def _pending(self) -> np.ndarray:
        return np.array(list(self._running.values())).reshape(-1, self._space.dim)
