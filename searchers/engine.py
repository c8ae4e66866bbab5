"""The Bayesian-optimisation loop without Ray: observations in, next encoded point out.

Shapes: ``u: (d,)`` an encoded, snapped point; ``X: (n, d)``, ``y: (n,)``
observed points and their values, always to be *maximised* (the Ray adapter
flips minimised metrics).

``BOEngine.propose`` runs: initial design (scrambled Sobol) until
``n_initial`` points are observed or pending; then fit the GP, condition on
pending points, maximise the acquisition, never returning an observed,
failed or pending point.

Cost at large n is bounded two ways: hyperparameters are refitted on every
call while ``n <= refit_all_until``, then only when ``n`` has grown by
``refit_growth`` since the last fit (warm-started, one start); and the fit
itself uses at most ``fit_subset`` points. The posterior always conditions
on every observation.

``propose`` runs with one BLAS thread: its matrices are small, and the searcher
lives in Ray's driver, next to trials that already use every core (measured:
docs/benchmark/README.md).

Multi-fidelity: trials that report as they train (``observe_partial``, per
epoch) enter the GP at their fidelity, as rows ``(u, t)`` over one joint
kernel (see ``searchers.fidelity``); the acquisition is EI at the target
fidelity (``fidelity_acquisition="target"``) or at MOBSTER's ``r_acq``, the
highest fidelity that ``d + 1`` trials reached. Pending trials are believed at
that same fidelity. ``fidelity_model="joint_trend"`` first takes from the
results a least-squares trend in the fidelity (a learning-curve mean), and
``fidelity_model="rung"`` instead fits a GP over ``u`` to
the results at that one level (BOHB's choice of budget). The joint models
give early fidelities extra noise, fitted (``fidelity_noise``). Without partial
results the engine is single-fidelity and its GP sees ``u`` alone. The model
itself is fitted in ``searchers.model``.

``refit`` advances the engine (hyperparameter schedule, random stream);
``current_model`` reads the model as it is and changes nothing.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from threadpoolctl import ThreadpoolController

from . import gp, kernel
from .acquisition import ACQUISITIONS, log_ei
from .averaging import Mixture
from .cost import EpochSeconds, PerSecond, fit_cost
from .fidelity import AtFidelity, LearningCurves, encode_fidelity, fidelity_trend
from .input_warping import InputWarp, WarpedInputs
from .model import Model, ModelState, fit_model
from .optimize import Acquisition, AcquisitionFunction, AveragedAcquisition, maximize_acquisition
from .options import EngineOptions, default_n_initial
from .pending import condition_on_pending
from .points import design_point, duplicates_of
from .space import SearchSpace

logger = logging.getLogger(__name__)

_THREADPOOLS = ThreadpoolController()


class BOEngine:
    """Observations and the model; picklable, and deterministic for a given seed and history."""

    def __init__(self, space: SearchSpace, *, seed: int = 0, options: EngineOptions = EngineOptions()):
        self.space = space
        self.seed = int(seed)
        self.options = options
        self.n_initial = options.n_initial or default_n_initial(space.dim, options.trials)
        self.rng = np.random.default_rng(self.seed)
        self.X = np.empty((0, space.dim))
        self.y = np.empty(0)
        self.failed = np.empty((0, space.dim))
        self.curves = LearningCurves()
        self.epoch_seconds = EpochSeconds()
        self.cost_params: kernel.GPParams | None = None  # the cost model's hyperparameters, fitted in propose
        self.n_sobol = 0
        self.model_state = ModelState()  # hyperparameters, input warp, extra noise: what the next fit starts from
        self.n_at_fit = 0
        self.n_fits = 0

    # -- observations -------------------------------------------------------------------

    def observe(self, u: np.ndarray, value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"observed value must be finite, got {value}")
        self.X = np.vstack([self.X, self._snapped(u)])
        self.y = np.append(self.y, float(value))

    def observe_failure(self, u: np.ndarray) -> None:
        self.failed = np.vstack([self.failed, self._snapped(u)])

    def observe_partial(self, trial: str, u: np.ndarray, fidelity: float, value: float) -> None:
        """Trial ``trial`` (config ``u``) reached ``value`` after training to ``fidelity`` (e.g. epochs)."""
        if not math.isfinite(value):
            raise ValueError(f"observed value must be finite, got {value}")
        if not self.curves.add(trial, self._snapped(u)[0], float(fidelity), float(value)):
            logger.warning("trial %s reported fidelity %g, below its earlier results: it restarted from an "
                           "earlier checkpoint, so its later results are dropped", trial, fidelity)

    def observe_seconds(self, trial: str, u: np.ndarray, fidelity: float, seconds: float) -> None:
        """Trial ``trial`` (config ``u``) took ``seconds`` for the epoch that brought it to ``fidelity``."""
        if math.isfinite(seconds) and seconds > 0:
            self.epoch_seconds.add(trial, self._snapped(u)[0], float(fidelity), float(seconds))

    def has_seen(self, u: np.ndarray) -> bool:
        """Whether ``u: (d,)`` was observed (at any fidelity) or failed already."""
        return bool(duplicates_of(self._snapped(u), self._seen())[0])

    @property
    def max_fidelity(self) -> float:
        """The target fidelity: the option, else the most any trial has reached."""
        reached = max((self.curves.latest(t) for t in self.curves.results), default=1.0)
        return float(self.options.max_fidelity or reached)

    @property
    def multi_fidelity(self) -> bool:
        """Whether the GP sees a fidelity coordinate: some result is below the target fidelity."""
        target = self.max_fidelity
        return any(r < target for curve in self.curves.results.values() for r in curve)

    @property
    def _fidelity_model(self) -> str | None:
        """``"joint"`` (with or without the trend) or ``"rung"`` when multi-fidelity, else None."""
        if not self.multi_fidelity:
            return None
        return "rung" if self.options.fidelity_model == "rung" else "joint"

    def _rung_level(self) -> float:
        """The highest fidelity that ``d + 1`` trials reached (else the one most trials reached)."""
        counts = self.curves.level_counts()
        counts[self.max_fidelity] = counts.get(self.max_fidelity, 0) + len(self.y)
        enough = [r for r, n in counts.items() if n >= self.space.dim + 1]
        return max(enough) if enough else max(counts, key=lambda r: (counts[r], r))

    def _seen(self) -> np.ndarray:
        """``(k, d)``: every config observed at any fidelity, or failed."""
        return np.vstack([self.X, self.failed, self.curves.config_array(self.space.dim)])

    # -- proposals ----------------------------------------------------------------------

    def propose(self, pending: np.ndarray | None = None) -> np.ndarray | None:
        """The next point ``(d,)``, or None when every configuration is observed, failed or pending."""
        with _THREADPOOLS.limit(limits=1, user_api="blas"):
            return self._propose(self._snapped(pending))

    def _propose(self, pending: np.ndarray) -> np.ndarray | None:
        exclude = np.vstack([self._seen(), pending])
        if len(np.unique(exclude, axis=0)) >= self.space.size:
            return None
        observed = len(self.y) + len(self.curves.results)
        if observed + len(pending) < self.n_initial or observed < 2 or self._explores(observed + len(pending)):
            return self.initial_point(exclude)
        t = self._acquisition_fidelity()
        model = self.refit(pending, t)
        acquisition, top = self._acquisition(model, t, pending, self._cost_model(refit=True))
        u = maximize_acquisition(acquisition, self.space, rng=self.rng, incumbents=top, exclude=exclude,
                                 options=self.options.optimize)
        return u if u is not None else self.initial_point(exclude)

    def _explores(self, started: int) -> bool:
        """Whether the proposal after ``started`` trials continues the initial design: every
        ``1 / explore_fraction``-th one after it, counted from the trials so far (no state to keep)."""
        f = self.options.explore_fraction
        p = started - self.n_initial
        return f > 0 and math.floor((p + 1) * f) > math.floor(p * f)

    def _acquisition(self, model: gp.Posterior | Mixture, t: float | None, pending: np.ndarray,
                     cost: gp.Posterior | None) -> tuple[Acquisition, np.ndarray]:
        """The acquisition over configs (at fidelity ``t`` when multi-fidelity), each component of a
        mixture with its own incumbent, per predicted epoch second when there is a ``cost`` model, and
        the configs whose neighbourhoods the optimiser searches first."""
        rule = ACQUISITIONS[self.options.acquisition]
        averaged = len(model.components) > 1
        first = model.components[0]
        if isinstance(model, WarpedInputs):
            first = WarpedInputs(first, model.warp)
        if t is None:
            # EI's incumbent: the best target the GP was given, pending fantasies included (a believed
            # value above the best observed one would otherwise leave EI = mean - best > 0 at the
            # pending point itself).
            bests = np.array([c.y.max() for c in model.components])
            U, _, y_partial = self.curves.rows(self.space.dim)
            X, y = np.vstack([self.X, U]), np.concatenate([self.y, y_partial])
        else:
            # At fidelity t few configs have a result: the incumbent is the best posterior mean there
            # among every config tried or pending, per component, all predicted at once.
            model, first = AtFidelity(model, t), AtFidelity(first, t)
            X = np.vstack([self.X, self.curves.config_array(self.space.dim), pending])
            each = model.predict_each(X)[0]  # (S, m)
            bests, y = each.max(axis=1), each.mean(axis=0)
        top = X[np.argsort(-y)[: max(1, min(10, len(y) // 4))]]  # the best tenth
        screen = AcquisitionFunction(first, rule, float(bests[0]))
        acquisition = AveragedAcquisition(model, rule, bests, log_values=rule is log_ei, screen=screen) \
            if averaged else screen
        return (acquisition if cost is None else PerSecond(acquisition, cost, self.options.cost_power)), top

    def _cost_model(self, *, refit: bool) -> gp.Posterior | None:
        """The GP on log epoch seconds (``searchers.cost``) when ``cost_power`` is on and enough trials
        reported their seconds; ``refit`` fits its hyperparameters from the last fit's (it conditions on
        at most ``cost.LATEST`` trials, so this stays cheap), else it uses them as they are."""
        if self.options.cost_power == 0 or (not refit and self.cost_params is None):
            return None
        cost = fit_cost(self.epoch_seconds, self.space.categorical_mask, rng=self.rng, warm_start=self.cost_params,
                        refit=refit)
        if cost is not None and refit:
            self.cost_params = cost.params
        return cost

    def acquisition(self, U: np.ndarray, pending: np.ndarray | None = None) -> np.ndarray:
        """``(m,)`` the acquisition at ``U: (m, d)`` as ``propose`` would maximise it now; the engine's
        state is not advanced."""
        pending = self._snapped(pending)
        t = self._acquisition_fidelity()
        acquisition, _ = self._acquisition(self._current(pending, t), t, pending, self._cost_model(refit=False))
        return acquisition(self._snapped(U))

    def _acquisition_fidelity(self) -> float | None:
        """Where EI is measured, as ``t`` in [0, 1]; None when the engine is single-fidelity."""
        if self._fidelity_model != "joint":
            return None  # single-fidelity, or a rung model: the GP sees configs alone
        if self.options.fidelity_acquisition == "target":
            return 1.0
        return float(encode_fidelity(self._rung_level(), self.max_fidelity))

    def refit(self, pending: np.ndarray | None = None, t: float | None = None) -> gp.Posterior:
        """Refit the GP on every observation (per the refit schedule; advances the engine's
        state), conditioned on ``pending`` (believed at fidelity ``t`` when multi-fidelity)."""
        n = len(self.y) + len(self.curves)
        grown = n >= self.options.refit_growth * self.n_at_fit
        refit = self.model_state.params is None or n <= self.options.refit_all_until or grown
        # Several starts while the data are few and the likelihood surface shifts; then the
        # warm start alone, with a full multi-start every `restart_every` fits.
        self.n_fits += refit
        settled = n > 2 * self.n_initial and self.n_fits % self.options.restart_every != 0
        post, state = self._fit(rng=self.rng, n_starts=1 if settled else self.options.n_starts, refit=refit)
        if refit:
            self.model_state, self.n_at_fit = state, n
        return self._with_pending(post, pending, t)

    def current_model(self, pending: np.ndarray | None = None) -> gp.Posterior | Mixture:
        """The GP (a mixture, when averaging) on the observations as they are now (and ``pending``,
        as ``propose`` treats them), for inspection: the engine's state is not advanced.

        Uses the last fitted hyperparameters if they were fitted on every current
        observation, else fits afresh with a private random stream.
        """
        t = 1.0 if self._fidelity_model == "joint" else None
        post = self._current(self._snapped(pending), t)
        return post if t is None else AtFidelity(post, t)

    def _current(self, pending: np.ndarray, t: float | None) -> gp.Posterior | Mixture:
        n = len(self.y) + len(self.curves)
        if n < 2:
            raise ValueError(f"the GP needs at least 2 observations, it has {n}")
        current = self.model_state.params is not None and self.n_at_fit == n
        post, _ = self._fit(rng=np.random.default_rng(self.seed), n_starts=self.options.n_starts, refit=not current)
        return self._with_pending(post, pending, t)

    def _with_pending(self, post: gp.Posterior | Mixture | WarpedInputs, pending: np.ndarray | None,
                      t: float | None) -> gp.Posterior | Mixture | WarpedInputs:
        rows = self._rows(self._snapped(pending), t)
        if isinstance(post, WarpedInputs):
            return WarpedInputs(condition_on_pending(post.model, post.warp.apply(rows), self.options.pending_strategy),
                                post.warp)
        return condition_on_pending(post, rows, self.options.pending_strategy)

    def _fit(self, *, rng: np.random.Generator, n_starts: int, refit: bool) -> tuple[Model, ModelState]:
        """The model on the training rows and the state it settled on (``searchers.model``)."""
        X, y = self._training_data()
        cat = self.space.categorical_mask
        joint = X.shape[1] > self.space.dim
        if joint:
            cat = np.append(cat, False)  # the fidelity coordinate is ordinal
        return fit_model(X, y, cat, joint=joint, start=self.model_state, options=self.options, rng=rng,
                         n_starts=n_starts, refit=refit)

    @property
    def params(self) -> kernel.GPParams | None:
        """The last fitted hyperparameters (the chain's last sample when averaging)."""
        return self.model_state.params

    @property
    def warp(self) -> InputWarp | None:
        return self.model_state.warp

    @property
    def fidelity_noise(self) -> float:
        """The joint model's extra noise variance at t = 0 (``searchers.fidelity``)."""
        return self.model_state.noise_level

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Full-fidelity observations, the kept partial ones (with a fidelity coordinate when they
        differ), and with ``failed_trials="worst"`` the failed points at the worst value seen."""
        U, r, y_partial = self.curves.rows(self.space.dim, self.options.fidelity_rows)
        t = None
        if self._fidelity_model == "rung":
            level = self._rung_level()
            U, y_partial = U[r == level], y_partial[r == level]
            X, y = (np.vstack([self.X, U]), np.concatenate([self.y, y_partial])) if level >= self.max_fidelity \
                else (U, y_partial)
        else:
            y = np.concatenate([self.y, y_partial])
            t = encode_fidelity(r, self.max_fidelity) if self.multi_fidelity else None
            X = np.vstack([self._rows(self.X, 1.0 if t is not None else None), self._rows(U, t)])
            if t is not None and self.options.fidelity_model == "joint_trend":
                y = y - fidelity_trend(X[:, -1], y)
        if self.options.failed_trials == "worst" and len(self.failed):
            failed = self._rows(self.failed, 1.0 if t is not None else None)
            return np.vstack([X, failed]), np.concatenate([y, np.full(len(self.failed), y.min())])
        return X, y

    def _rows(self, U: np.ndarray, t: np.ndarray | float | None) -> np.ndarray:
        """``U: (m, d)`` as the GP's inputs: with the fidelity column ``t`` when multi-fidelity."""
        if t is None:
            return U
        return np.hstack([U, np.broadcast_to(np.asarray(t, dtype=float), (len(U),))[:, None]])

    def initial_point(self, exclude: np.ndarray, *, advance: bool = True) -> np.ndarray | None:
        """The next point of the initial design not in ``exclude`` (``searchers.points``); ``advance=False``
        leaves the engine as it is (to complete a partial config)."""
        u, skip = design_point(self.space, exclude, skip=self.n_sobol, seed=self.seed,
                               centre_first=self.options.centre_first, rng=self.rng if advance else None)
        if advance:
            self.n_sobol = skip
        return u

    def _snapped(self, U: np.ndarray | None) -> np.ndarray:
        """Any points, one ``(d,)`` or many ``(m, d)`` or None, as ``(m, d)`` codes of configurations."""
        if U is None:
            return np.empty((0, self.space.dim))
        return self.space.snap(np.asarray(U, dtype=float).reshape(-1, self.space.dim))

