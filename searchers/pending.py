"""What the model assumes about trials that are still running.

Shapes: ``X_pending: (k, d)`` encoded configs of running trials.

Strategies (Ginsbourger et al. 2010, "Kriging is well-suited to parallelize
optimization"), all with the hyperparameters of the last fit held fixed:

* ``believer`` (kriging believer): a pending point is observed at its
  posterior mean, exactly (noise at the floor). The mean is unchanged and the
  variance collapses there and around it, so EI moves elsewhere, as far as
  the lengthscales say. With the learned noise instead, the variance only
  falls to the noise level and the next suggestions crowd within 1e-4 of the
  first (measured on Hartmann6).
* ``liar_worst`` (constant liar, pessimistic): a pending point is observed at
  the worst value seen so far, which pushes the next suggestion further away.
* ``liar_mean``: observed at the mean of the values seen so far.

The default is the one the benchmark found best (docs/benchmark/README.md).
"""

from __future__ import annotations

import numpy as np

from .averaging import Mixture
from .gp import NOISE_FLOOR, Posterior

STRATEGIES = ("believer", "liar_worst", "liar_mean")
DEFAULT_STRATEGY = "believer"


def condition_on_pending(posterior: Posterior | Mixture, X_pending: np.ndarray,
                         strategy: str = DEFAULT_STRATEGY) -> Posterior | Mixture:
    """A posterior that treats ``X_pending`` as observed, per ``strategy``; a mixture's
    components each believe their own values."""
    if len(X_pending) == 0:
        return posterior
    if isinstance(posterior, Mixture):
        return posterior.map(lambda component: condition_on_pending(component, X_pending, strategy))
    if strategy == "believer":
        fake = posterior.predict(X_pending)[0]
    elif strategy == "liar_worst":
        fake = np.full(len(X_pending), posterior.y.min())
    elif strategy == "liar_mean":
        fake = np.full(len(X_pending), posterior.y.mean())
    else:
        raise ValueError(f"unknown pending strategy {strategy!r}; choose one of {STRATEGIES}")
    return posterior.condition(X_pending, fake, noise_var=NOISE_FLOOR)
