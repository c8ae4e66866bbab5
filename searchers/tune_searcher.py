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
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from ray.tune.search import Searcher

from . import calibration
from .base import SpaceSearcher, metric_value
from .engine import BOEngine
from .options import EngineOptions
from .space import SearchSpace


class GPEISearcher(SpaceSearcher):
    """Bayesian optimisation with a Matern-5/2 GP and log expected improvement.

    Args (keyword-only):
        space: a Ray Tune ``param_space``; usually left out, Tune passes the Tuner's.
        metric, mode: as in ``TuneConfig``; usually left out, Tune passes them.
        seed: makes the sequence of suggestions reproducible.
        points_to_evaluate: configs (possibly partial) to try first, in order.
        evaluated_rewards: metric values already known for ``points_to_evaluate``;
            those points are then recorded as observations, not re-run.
        fidelity_attr: the result key that says how far a trial has trained
            (default ``training_iteration``, one per ``tune.report``; ``"epoch"`` if
            the trainable reports one; None: learn from final results only). Every
            result a trial reports enters the GP
            at that fidelity (multi-fidelity BO, ``searchers.fidelity``); a trial an
            early-stopping scheduler such as ASHA stopped stays at the fidelity it
            reached and is never taken for a finished run.
        max_fidelity: the fidelity a full run reaches (e.g. the epochs ASHA's
            ``max_t`` allows); the acquisition aims there. Default: the Tuner's
            stopping condition on ``fidelity_attr`` if it has one
            (``RunConfig(stop={"training_iteration": 20})``: Tune hands the searcher
            that, not the scheduler's ``max_t``), else the most any trial has reached.
        **engine_options: any field of ``searchers.options.EngineOptions``, where
            the defaults live: ``n_initial`` (Sobol points before the GP: ``2 d`` within [5, 20], at
            most a fifth of ``trials``, Tune's ``num_samples``), ``acquisition`` (``"log_ei"`` or ``"ucb"``),
            ``pending_strategy`` (see ``searchers.pending``), ``failed_trials`` (``"worst"``: a failed
            trial enters the GP at the worst value seen; ``"ignore"``), ``warp_outputs``
            (Yeo-Johnson output warping, ``searchers.warping``), ``warp_powers`` (the powers
            that warp may fit), ``choose_warp`` (keep the warp only where the GP's evidence
            favours it, ``searchers.model.choose_warp``), ``cost_power`` (1: expected improvement per predicted second
            of an epoch, learnt from the results' ``time_this_iter_s``, ``searchers.cost``),
            ``explore_fraction`` (that share of suggestions continues the initial design, BOHB's
            random fraction), and the refit schedule.
            A failed trial's config is never suggested again either way.
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
        fidelity_attr: str | None = "training_iteration",
        max_fidelity: float | None = None,
        **engine_options: Any,
    ):
        self._options = EngineOptions(max_fidelity=max_fidelity, **engine_options)
        self._fidelity_attr = fidelity_attr
        self._engine: BOEngine | None = None
        super().__init__(space=space, metric=metric, mode=mode, seed=seed, points_to_evaluate=points_to_evaluate,
                         evaluated_rewards=evaluated_rewards)

    @property
    def engine(self) -> BOEngine | None:
        """The GP engine (observations ``X``, ``y`` maximised, fitted ``params``); None before the space is known."""
        return self._engine

    @property
    def options(self) -> EngineOptions:
        """The engine's options, as given (defaults filled in)."""
        return self._options

    @property
    def acquisition_name(self) -> str:
        return self._options.acquisition

    # -- introspection: what the model believes, in the metric's own units ---------------
    # None of these changes what the searcher suggests next.

    def predict(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mean, std)`` of the metric at ``configs`` (one config or a list), each ``(m,)``."""
        post = self._model()
        mean, std = post.to_units(*post.predict(self._encode_all(configs)))
        return self._maximised(mean), std

    def predict_interval(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]], level: float = 0.95,
                         ) -> tuple[np.ndarray, np.ndarray]:
        """The central ``level`` predictive interval ``(lower, upper)`` of the metric a trial at each
        config would report (the model's noise included; averaged over the hyperparameter samples),
        each ``(m,)``. Its measured coverage: docs/benchmark/README.md."""
        lower, upper = calibration.interval(self._model(), self._encode_all(configs), level)
        return (lower, upper) if self._mode == "max" else (-upper, -lower)

    def log_density(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]], values: Sequence[float],
                    ) -> np.ndarray:
        """``(m,)`` the log predictive density of ``values`` of the metric at ``configs``."""
        return calibration.log_density(self._model(), self._encode_all(configs),
                                       self._maximised(np.asarray(values, dtype=float)))

    def acquisition(self, configs: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The acquisition (log EI by default) at ``configs``, with running trials treated as the searcher does."""
        if self._engine is None:
            raise RuntimeError("GPEISearcher has no search space yet")
        return self._engine.acquisition(self._encode_all(configs), self._pending())

    def kernel(self) -> dict:
        """Fitted hyperparameters: per-parameter lengthscales (in the unit cube the GP sees: the
        parameter's range, log-scaled for log parameters; 1 = the whole range), and signal
        std, noise std and constant mean in the metric's units (through the output warping, the
        ±1 std band around the mean mapped back, see ``searchers.warping.OutputScaling``).
        A multi-fidelity model has one more lengthscale, ``fidelity``'s."""
        post = self._model()
        p = post.params
        centre, (signal_std, noise_std) = post.to_units(np.full(2, p.mean), np.array([p.signal_var, p.noise_var]))
        return {
            "lengthscales": dict(zip(self._gp_input_names(p), map(float, p.lengthscales), strict=True)),
            "signal_std": float(signal_std),
            "noise_std": float(noise_std),
            "mean": self._maximised(float(centre[0])),
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
        """``(config, metric value)`` of every trial the model learned from: a full run's result, or
        the latest result of a trial that reported as it trained."""
        full = [(self._space.decode(u), self._maximised(float(v)))
                for u, v in zip(self._engine.X, self._engine.y, strict=True)]
        curves = self._engine.curves
        partial = [(self._space.decode(curves.configs[t]), self._maximised(curve[max(curve)]))
                   for t, curve in curves.results.items() if curve]
        return full + partial

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        stop, trials = spec.get("stop"), spec.get("num_samples")
        if (not self._configured and self._options.max_fidelity is None and isinstance(stop, Mapping)
                and self._fidelity_attr in stop):
            self._options = replace(self._options, max_fidelity=float(stop[self._fidelity_attr]))
        if (not self._configured and self._options.trials is None and isinstance(trials, int)
                and not isinstance(trials, bool) and trials > 0):  # -1: no limit, with a time budget
            self._options = replace(self._options, trials=trials)
        return super().set_search_properties(metric, mode, config, **spec)

    # -- multi-fidelity: every result a trial reports -------------------------------------

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        """Record a running trial's result at its fidelity. Results of trials this searcher is not
        running (finished, unknown) are ignored, and so are results without a finite metric."""
        if trial_id not in self._running or not self._configured:
            return
        fidelity = self._fidelity_of(trial_id, result)
        value, reason = metric_value(result, self._metric, error=False)
        if fidelity is None or reason is not None:
            return
        self._engine.observe_partial(trial_id, self._running[trial_id], fidelity, self._maximised(value))
        seconds = result.get("time_this_iter_s")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
            self._engine.observe_seconds(trial_id, self._running[trial_id], fidelity, float(seconds))

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self._paused = self._paused - {trial_id}
        if trial_id in self._running and not error:
            if result:
                self.on_trial_result(trial_id, result)  # the last result, at the fidelity it reached
            elif trial_id in self._engine.curves.results:
                # Completed with no result after reporting some (HyperBand stops a paused trial so): it is
                # in the model at the epochs it trained, not a failure.
                self._running.pop(trial_id)
                self._n_observations += 1
                return
        super().on_trial_complete(trial_id, result, error)

    # -- schedulers that pause trials (Ray's HyperBandForBOHB) ---------------------------------
    # Class defaults, so that a searcher pickled before these existed restores with them.

    _max_concurrent = 0  # 0: as many trials as Tune starts
    _paused: frozenset = frozenset()

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Tune's ``max_concurrent_trials``, kept by the searcher itself (returns True), so that a
        trial HyperBand paused at a rung frees its place, as a ``ConcurrencyLimiter`` would not: a
        bracket waits for all its trials to reach the rung."""
        self._max_concurrent = int(max_concurrent)
        return True

    def suggest(self, trial_id: str) -> dict | None:
        if self._max_concurrent and len(self._running) - len(self._paused) >= self._max_concurrent:
            return None
        return super().suggest(trial_id)

    def on_pause(self, trial_id: str) -> None:
        """HyperBand paused the trial at a rung: its results stay in the model, and until the bracket
        promotes it (``on_unpause``) or stops it, it is not pending and holds no place."""
        if trial_id in self._running:
            self._paused = self._paused | {trial_id}

    def on_unpause(self, trial_id: str) -> None:
        self._paused = self._paused - {trial_id}

    def _fidelity_of(self, trial_id: str, result: dict) -> float | None:
        """The fidelity ``result`` reports (None if it reports none); raises, naming the trial, if
        it is not a positive number."""
        if self._fidelity_attr is None or self._fidelity_attr not in result:
            return None
        raw = result[self._fidelity_attr]
        try:
            fidelity = float(raw)
        except (TypeError, ValueError):
            fidelity = math.nan
        if not (math.isfinite(fidelity) and fidelity > 0) or isinstance(raw, bool):
            raise ValueError(f"trial {trial_id}: {self._fidelity_attr} must be a positive number, got {raw!r}")
        return fidelity

    # -- SpaceSearcher hooks ------------------------------------------------------------

    def _configure(self, space: SearchSpace) -> None:
        self._engine = BOEngine(space, seed=self._seed, options=self._options)

    def _propose(self, trial_id: str) -> tuple[dict, np.ndarray] | None:
        u = self._engine.propose(self._pending())
        if u is None:
            return Searcher.FINISHED
        return self._space.decode(u), u

    def _token_for(self, config: dict) -> np.ndarray:
        return self._space.encode(config)

    def _tell(self, u: np.ndarray, value: float | None, trial_id: str | None) -> None:
        if value is None:
            self._engine.observe_failure(u)
        elif trial_id not in self._engine.curves.results:  # no fidelity reported: a full run
            self._engine.observe(u, self._maximised(value))

    def _has_result(self, config: dict) -> bool:
        return self._engine.has_seen(self._space.encode(config))

    def _fill(self) -> dict:
        """The engine's next initial-design point, without advancing the engine: partial configs
        are completed space-fillingly."""
        exclude = np.vstack([self._engine.X, self._engine.failed, self._pending()])
        u = self._engine.initial_point(exclude, advance=False)
        return super()._fill() if u is None else self._space.decode(u)

    # -- internals ----------------------------------------------------------------------

    def _model(self, pending: np.ndarray | None = None):
        if self._engine is None:
            raise RuntimeError("GPEISearcher has no search space yet")
        return self._engine.current_model(pending)

    def _gp_input_names(self, params) -> list[str]:
        names = self._space.flat_names()
        return names + ["fidelity"] if len(params.lengthscales) > len(names) else names

    def _encode_all(self, configs) -> np.ndarray:
        configs = [configs] if isinstance(configs, Mapping) else list(configs)
        return np.array([self._space.encode(c) for c in configs]).reshape(-1, self._space.dim)

    def _pending(self) -> np.ndarray:
        """``(k, d)`` the trials training or about to: running, not paused."""
        live = [u for trial_id, u in self._running.items() if trial_id not in self._paused]
        return np.array(live).reshape(-1, self._space.dim)
