"""The searchers ours is compared with, as Ray Tune ``Searcher`` objects, for the benchmarks.

Random search (Ray's default, as a Searcher), Optuna's GP and TPE samplers
through Ray's ``OptunaSearch``, Ax through our ``AxSearcher``, Ray's
``HEBOSearch`` and ``TuneBOHB`` (hpbandster); each made single-threaded, as
our engine runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from ray.tune.search import Searcher

from searchers.tune_space import from_tune


class RandomSearcher(Searcher):
    """Uniform sampling of the encoded space: what Ray's default search does, as a Searcher."""

    def __init__(self, *, seed: int = 0):
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._space = None

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        self._metric, self._mode, self._space = metric, mode, from_tune(config)
        return True

    def suggest(self, trial_id: str) -> dict:
        return self._space.decode(self._rng.random(self._space.dim))

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        pass


def optuna(sampler: str) -> Callable[..., Searcher]:
    """Optuna's GP or TPE sampler through Ray's own OptunaSearch (Optuna is a benchmark-only dependency);
    ``points``: configs to try first."""

    def make(seed: int, points: list[dict] | None = None) -> Searcher:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        samplers = {"gp": optuna.samplers.GPSampler, "tpe": optuna.samplers.TPESampler}
        return OptunaSearch(sampler=samplers[sampler](seed=seed), points_to_evaluate=points)

    return make


def without_log_steps(space: dict) -> dict:
    """``space`` with each quantised log-scale integer (``qlograndint``) as a choice of its values:
    Optuna refuses a step with ``log=True`` and ConfigSpace 1.x has no ``q``, so TPE and BOHB get
    the same values as categories (their order lost)."""
    from ray import tune
    from ray.tune.search.sample import Integer, LogUniform, Quantized

    def convert(domain):
        if isinstance(domain, dict):
            return {key: convert(value) for key, value in domain.items()}
        sampler = getattr(domain, "sampler", None)
        if isinstance(domain, Integer) and isinstance(sampler, Quantized) and isinstance(sampler.sampler, LogUniform):
            q = int(sampler.q)
            return tune.choice(list(range(-(-domain.lower // q) * q, domain.upper + 1, q)))
        return domain

    return convert(space)


def ax(seed: int) -> Searcher:
    import ax.api  # noqa: F401 - creates Ax's loggers, each with its own level

    from searchers import AxSearcher

    for name in list(logging.root.manager.loggerDict):
        if name == "ax" or name.startswith("ax."):
            logging.getLogger(name).setLevel(logging.WARNING)
    return AxSearcher(seed=seed)


def hebo(seed: int) -> Searcher:
    """Ray's HEBOSearch (Cowen-Rivers et al. 2022, the NeurIPS 2020 black-box challenge winner). hebo 0.3.6
    pins numpy<1.25; it runs beside numpy 2 installed as the README says (``pip install --no-deps``)."""
    from ray.tune.search.hebo import HEBOSearch

    return HEBOSearch(random_state_seed=seed)


def bohb(seed: int, points: list[dict] | None = None) -> Searcher:
    """Ray's TuneBOHB (needs hpbandster and ConfigSpace, the ``bench`` extra); ``points``: configs to try first."""
    from ray.tune.search.bohb import TuneBOHB

    return TuneBOHB(seed=seed, points_to_evaluate=points)


def bohb_available() -> bool:
    try:
        import ConfigSpace  # noqa: F401
        import hpbandster  # noqa: F401
    except ImportError:
        return False
    return True


def single_threaded() -> None:
    """One BLAS and one torch thread per process, for every searcher, as our engine runs.

    Measured: two benchmark processes on 2 cores with torch's default threads
    made Ax's suggest() about 15 s instead of 0.6-1 s (threads spinning against
    each other); the same oversubscription hits NumPy's BLAS.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
