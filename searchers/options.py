"""The engine's options and their defaults, each with the reason for it. No Ray.

``EngineOptions`` is what ``GPEISearcher(**options)`` accepts beyond its own
keywords; ``searchers.engine.BOEngine`` reads it. Measured effects of the
defaults: docs/benchmark/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .acquisition import ACQUISITIONS
from .optimize import OptimizeOptions
from .pending import DEFAULT_STRATEGY, STRATEGIES
from .warping import POWERS


def default_n_initial(dim: int, trials: int | None = None) -> int:
    """Sobol points before the GP takes over: ``2 d``, at most a fifth of the sweep's ``trials`` when
    they are known (Ax's rule), between 5 and 20."""
    n = 2 * dim if trials is None else min(2 * dim, trials // 5)
    return int(min(max(n, 5), 20))


FAILED_TRIALS = ("ignore", "worst")
FIDELITY_ACQUISITIONS = ("target", "r_acq")
FIDELITY_MODELS = ("joint", "joint_trend", "rung")


@dataclass(frozen=True)
class EngineOptions:
    n_initial: int | None = None
    # The trials the sweep will start (Tune's num_samples, which the searcher hears in set_search_properties):
    # the default design then takes at most a fifth of them, so that a short sweep is not mostly Sobol points.
    trials: int | None = None
    # The initial design starts at the space's centre (Ax's choice), then Sobol. Off: with n_initial=5 it
    # freed Hartmann6 more often but did worse on the MLP and CNN learning-curve tables and the MLP job
    # (docs/benchmark/README.md).
    centre_first: bool = False
    acquisition: str = "log_ei"
    pending_strategy: str = DEFAULT_STRATEGY
    # "worst": a failed point enters the GP at the worst value seen (measured better than "ignore" on
    # 3 of 4 benchmark cells with failing regions, see tune_jobs.problems.FAILING_PROBLEMS).
    failed_trials: str = "worst"
    warp_outputs: bool = True  # Yeo-Johnson on the targets, see gp.OutputScaling
    # With warp_outputs, keep the warp only when the GP's evidence for the warped targets (times the warp's
    # Jacobian, so both are densities of the same values) beats plain standardisation's (model.choose_warp).
    choose_warp: bool = False
    # The powers the warp may fit; warping.UNBOUNDED, (0, 2), keeps every prediction finite in the
    # metric's units (a power above 2 bounds the bad tail: docs/benchmark/README.md).
    warp_powers: tuple[float, float] = POWERS
    # Average the model and the acquisition over this many posterior samples of the GP's
    # hyperparameters (searchers.averaging); 0: one maximum-a-posteriori fit. Above `average_until`
    # GP rows the samples' cost (each a Cholesky per sweep) gives way to the MAP fit, which the
    # data pin down by then anyway.
    hyper_samples: int = 8
    average_until: int = 100
    # A Kumaraswamy CDF on each ordered coordinate, fitted before each fit (searchers.input_warping).
    input_warping: bool = False
    # A share of the proposals after the initial design that continue the space-filling design instead of
    # following the model (BOHB's random_fraction, 1/3 there): under early stopping such a trial costs a
    # rung unless it is good, and it finds a lone good config the model's region leaves out.
    explore_fraction: float = 0.0
    # The acquisition is log EI - cost_power * log(predicted epoch seconds) (searchers.cost; Snoek et al.
    # 2012's EI per second at 1); 0: configs are not told apart by what they cost.
    cost_power: float = 0.0
    n_starts: int = 3
    restart_every: int = 5
    refit_all_until: int = 150
    refit_growth: float = 1.1
    fit_subset: int = 300
    max_fidelity: float | None = None  # the target fidelity; None: the most any trial has reached
    fidelity_acquisition: str = "target"
    # "joint": one GP over (config, fidelity); "joint_trend": the same on the results less a least-squares
    # trend linear in (1 - t), a learning-curve mean (zero at the target, so predictions there keep their
    # units); "rung": a GP over configs on the results at one level, the highest that d + 1 trials
    # reached (BOHB's choice of budget, with a GP instead of its KDE).
    fidelity_model: str = "joint"
    fidelity_rows: int = 300  # most per-epoch results the GP conditions on (each trial's latest first)
    # The joint model's early epochs get extra noise, fitted (searchers.fidelity.fit_fidelity_noise).
    fidelity_noise: bool = True
    optimize: OptimizeOptions = field(default_factory=OptimizeOptions)

    def __post_init__(self) -> None:
        if self.acquisition not in ACQUISITIONS:
            raise ValueError(f"unknown acquisition {self.acquisition!r}; choose one of {sorted(ACQUISITIONS)}")
        if self.pending_strategy not in STRATEGIES:
            raise ValueError(f"unknown pending strategy {self.pending_strategy!r}; choose one of {STRATEGIES}")
        if self.failed_trials not in FAILED_TRIALS:
            raise ValueError(f"unknown failed_trials {self.failed_trials!r}; choose one of {FAILED_TRIALS}")
        if self.fidelity_acquisition not in FIDELITY_ACQUISITIONS:
            raise ValueError(f"unknown fidelity_acquisition {self.fidelity_acquisition!r}; "
                             f"choose one of {FIDELITY_ACQUISITIONS}")
        if self.fidelity_model not in FIDELITY_MODELS:
            raise ValueError(f"unknown fidelity_model {self.fidelity_model!r}; choose one of {FIDELITY_MODELS}")
        if self.max_fidelity is not None and not self.max_fidelity >= 1:
            raise ValueError(f"max_fidelity must be at least 1, got {self.max_fidelity}")
        if self.hyper_samples < 0:
            raise ValueError(f"hyper_samples must be 0 (MAP) or more, got {self.hyper_samples}")
        if not 0 <= self.explore_fraction < 1:
            raise ValueError(f"explore_fraction must be in [0, 1), got {self.explore_fraction}")
        if self.cost_power < 0 or (self.cost_power > 0 and self.acquisition != "log_ei"):
            raise ValueError(f"cost_power must be 0, or positive with acquisition='log_ei', got {self.cost_power}")
        if self.n_initial is not None and self.n_initial < 1:
            raise ValueError(f"n_initial must be at least 1, got {self.n_initial}")
        if self.trials is not None and self.trials < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if not len(self.warp_powers) == 2 or not self.warp_powers[0] < self.warp_powers[1]:
            raise ValueError(f"warp_powers must be (low, high) with low < high, got {self.warp_powers}")
