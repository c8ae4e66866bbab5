"""Bayesian optimisation for Ray Tune: a Matern-5/2 GP with log expected improvement.

``GPEISearcher`` and ``AxSearcher`` (the reference backend on Ax) are imported
lazily so that the engine (``space``, ``gp``, ``acquisition``, ``optimize``,
``pending``, ``engine``) stays usable without Ray.
"""

from __future__ import annotations

__all__ = ["GPEISearcher", "AxSearcher"]


def __getattr__(name: str):
    if name == "GPEISearcher":
        from .tune_searcher import GPEISearcher

        return GPEISearcher
    if name == "AxSearcher":
        from .ax_searcher import AxSearcher

        return AxSearcher
    raise AttributeError(f"module 'searchers' has no attribute {name!r}")
