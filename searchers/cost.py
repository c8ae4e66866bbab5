"""What a configuration costs to train, learnt as the sweep runs, and log EI per second. No Ray.

Shapes: ``u: (d,)`` an encoded config; ``U: (m, d)``.

Configurations differ in what an epoch costs (a batch of 32 takes several times
a batch of 256's seconds), and a sweep is budgeted in wall time. Snoek et al.
(2012, "Practical Bayesian optimization", section 3.2) maximise expected
improvement per second: a second GP models the log of the duration, and the
acquisition becomes ``log EI(u) - power * log seconds(u)``, with ``power`` 1
their rule and 0 plain EI. Here the duration is a trial's median epoch seconds
after its first (a first epoch also holds the trial's start-up, which every
config pays alike), from the trials that trained at least two epochs, so that
trials stopped early and trials trained to the end count alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import gp, kernel

MIN_TRIALS = 3  # a cost model from fewer trials than this is not fitted
LATEST = 100  # the cost model conditions on this many trials, the latest: what an epoch costs is smooth


@dataclass
class EpochSeconds:
    """Per trial: its config and the seconds of each epoch it reported (a repeated report replaces)."""

    trials: dict[str, tuple[np.ndarray, dict[float, float]]] = field(default_factory=dict)

    def add(self, trial: str, u: np.ndarray, fidelity: float, seconds: float) -> None:
        _, epochs = self.trials.setdefault(trial, (u, {}))
        epochs[fidelity] = seconds

    def data(self, dim: int, latest: int = LATEST) -> tuple[np.ndarray, np.ndarray]:
        """``(k, d)`` the configs of the ``latest`` trials with two epochs or more, ``(k,)`` the log of their
        median epoch seconds after the first."""
        trained = [(u, epochs) for u, epochs in self.trials.values() if len(epochs) > 1][-latest:]
        if not trained:
            return np.empty((0, dim)), np.empty(0)
        after_first = [np.median([epochs[f] for f in sorted(epochs)[1:]]) for _, epochs in trained]
        return np.array([u for u, _ in trained]), np.log(after_first)


def fit_cost(seconds: EpochSeconds, cat: np.ndarray, *, rng: np.random.Generator,
             warm_start: kernel.GPParams | None, refit: bool = True) -> gp.Posterior | None:
    """A MAP GP on the log epoch seconds (``refit=False``: with ``warm_start``'s hyperparameters),
    or None with fewer than ``MIN_TRIALS`` trials."""
    X, y = seconds.data(len(cat))
    if len(y) < MIN_TRIALS:
        return None
    return gp.fit(X, y, cat, rng=rng, warm_start=warm_start, n_starts=1 if warm_start else 2,
                  refit=refit or warm_start is None)


@dataclass(frozen=True)
class PerSecond:
    """``acquisition(U) - power * log seconds(U)``: a log acquisition per unit of predicted cost."""

    acquisition: object  # optimize.Acquisition on log values
    cost: gp.Posterior  # on log epoch seconds, standardised: its scaling maps back
    power: float

    @property
    def screen(self) -> PerSecond | None:
        inner = getattr(self.acquisition, "screen", None)
        return None if inner is None else PerSecond(inner, self.cost, self.power)

    def log_seconds(self, U: np.ndarray) -> np.ndarray:
        mean, _ = self.cost.predict(U)
        return self.cost.scaling.inverse(mean)

    def __call__(self, U: np.ndarray) -> np.ndarray:
        return self.acquisition(U) - self.power * self.log_seconds(U)

    def with_grad(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = self.acquisition.with_grad(U)
        mean, _, dmean, _ = self.cost.predict(U, grad=True)
        scale = self.cost.scaling.scale  # plain standardisation: log seconds = shift + scale * mean
        return (value - self.power * self.cost.scaling.inverse(mean),
                grad - self.power * scale * dmean)
