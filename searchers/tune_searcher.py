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

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from .acquisition import ACQUISITIONS
from .base import SpaceSearcher
from .engine import BOEngine, EngineOptions
from .space import SearchSpace, duplicates_of


class GPEISearcher(SpaceSearcher):
    """Bayesian optimisation with a Matern-5/2 GP and log expected improvement.

    Args (keyword-only):
        space: a Ray Tune ``param_space``; usually left out, Tune passes the Tuner's.
        metric, mode: as in ``TuneConfig``; usually left out, Tune passes them.
        seed: makes the sequence of suggestions reproducible.
        n_initial: Sobol points before the GP takes over (default ``2 d`` in [5, 20]).
        acquisition: ``"log_ei"`` (default) or ``"ucb"``.
        pending_strategy: how running trials are treated (see ``searchers.pending``).
        failed_trials: a failed trial (error, NaN or inf, no metric) is never suggested
            again; with ``"worst"`` (default) it also enters the GP at the worst value
            observed so far, steering the search away from regions that fail; with
            ``"ignore"`` the GP never sees it.
        warp_outputs: fit the GP to the metric through a Yeo-Johnson power transform
            (default True), which tames metrics with long tails such as losses spanning
            orders of magnitude; False fits it to the standardised metric.
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
        failed_trials: str = "worst",
        warp_outputs: bool = True,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        evaluated_rewards: Sequence[float] | None = None,
    ):
        self._options = EngineOptions(n_initial=n_initial, acquisition=acquisition, pending_strategy=pending_strategy,
                                      failed_trials=failed_trials, warp_outputs=warp_outputs)
        self._engine: BOEngine | None = None
        super().__init__(space=space, metric=metric, mode=mode, seed=seed, points_to_evaluate=points_to_evaluate,
                         evaluated_rewards=evaluated_rewards)

    @property
    def engine(self) -> BOEngine | None:
        """The GP engine (observations ``X``, ``y`` maximised, fitted ``params``); None before the space is known."""
        return self._engine

    @property
    def acquisition_name(self) -> str:
        return self._options.acquisition

    # -- introspection: what the model believes, in the metric's own units ---------------
    # None of these changes what the searcher suggests next.

    def predict(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mean, std)`` of the metric at ``configs`` (one config or a list), each ``(m,)``."""
        post = self._model()
        mean, std = post.to_units(*post.predict(self._encode_all(configs)))
        return self._sign * mean, std

    def acquisition(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The acquisition (log EI by default) at ``configs``, with running trials treated as the searcher does."""
        post = self._model(self._pending())
        mean, var = post.predict(self._encode_all(configs))
        return ACQUISITIONS[self._options.acquisition](mean, np.sqrt(var), float(post.y.max()))[0]

    def kernel(self) -> dict:
        """Fitted hyperparameters: per-parameter lengthscales (in the unit cube the GP sees: the
        parameter's range, log-scaled for log parameters; 1 = the whole range), and signal
        std, noise std and constant mean in the metric's units (through the output warping, the
        ±1 std band around the mean mapped back, see ``searchers.gp.OutputScaling``)."""
        post = self._model()
        p = post.params
        centre, (signal_std, noise_std) = post.to_units(np.full(2, p.mean), np.array([p.signal_var, p.noise_var]))
        return {
            "lengthscales": dict(zip(self._space.flat_names(), map(float, p.lengthscales), strict=True)),
            "signal_std": float(signal_std),
            "noise_std": float(noise_std),
            "mean": self._sign * float(centre[0]),
        }

    def importance(self) -> dict[str, float]:
        """Parameter importance from the ARD lengthscales: ``1 / l`` normalised to sum to 1, largest first."""
        lengthscales = self.kernel()["lengthscales"]
        inverse = {name: 1.0 / length for name, length in lengthscales.items()}
        total = sum(inverse.values())
        return dict(sorted(((n, v / total) for n, v in inverse.items()), key=lambda item: -item[1]))

    def preview(self) -> dict | None:
        """The config ``suggest()`` would return now (None if the space is exhausted), leaving the searcher as it is."""
        engine = copy.deepcopy(self._engine)
        u = engine.propose(self._pending())
        return None if u is None else self._space.decode(u)

    def observations(self) -> list[tuple[dict, float]]:
        """Every finished trial the model learned from: ``(config, metric value)``."""
        return [(self._space.decode(u), self._sign * float(v)) for u, v in zip(self._engine.X, self._engine.y,
                                                                               strict=True)]

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

    def _knows(self, config: dict) -> bool:
        u = self._start("", config)[None]
        return bool(duplicates_of(u, np.vstack([self._engine.X, self._engine.failed]))[0])

    def _fill(self) -> dict:
        """The engine's next initial-design point: partial configs are completed space-fillingly."""
        u = self._engine.propose(self._pending())
        return super()._fill() if u is None else self._space.decode(u)

    # -- internals ----------------------------------------------------------------------

    @property
    def _sign(self) -> float:
        """The engine maximises: a minimised metric is negated."""
        return 1.0 if self._mode == "max" else -1.0

    def _model(self, pending: np.ndarray | None = None):
        if self._engine is None:
            raise RuntimeError("GPEISearcher has no search space yet")
        return self._engine.model(pending)

    def _encode_all(self, configs) -> np.ndarray:
        configs = [configs] if isinstance(configs, Mapping) else list(configs)
        return self._space.snap(np.array([self._space.encode(c) for c in configs]).reshape(-1, self._space.dim))

    def _pending(self) -> np.ndarray:
        return np.array(list(self._running.values())).reshape(-1, self._space.dim)
