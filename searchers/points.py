"""Sets of encoded points: scrambled Sobol draws, which points repeat others, and the initial design.

Shapes: a point ``u: (d,)`` in the unit cube, snapped (see ``SearchSpace.snap``); ``U: (m, d)``;
``exclude: (k, d)`` the points already observed, failed or pending.

The initial design is the space's centre (with ``centre_first``, Ax's choice), then a scrambled
Sobol sequence, numbered from 0; ``design_point`` returns the first point from number ``skip`` on
that is not excluded, and the number to continue from, so the caller keeps one integer of state.
"""

from __future__ import annotations

import numpy as np

from .space import SearchSpace

ENUMERABLE = 200_000  # finite spaces up to this size are listed when Sobol draws run dry


def sobol(space: SearchSpace, n: int, *, seed: int, skip: int = 0) -> np.ndarray:
    """``(n, d)`` snapped points of a scrambled Sobol sequence, after ``skip`` points."""
    from scipy.stats import qmc

    engine = qmc.Sobol(d=space.dim, scramble=True, seed=seed)
    if skip:
        engine.fast_forward(skip)
    return space.snap(engine.random(n))


_BROADCAST_PAIRS = 4096  # candidate-existing pairs compared directly in duplicates_of


def duplicates_of(candidates: np.ndarray, existing: np.ndarray, *, atol: float = 1e-9) -> np.ndarray:
    """``(m,)`` bool: which snapped ``candidates: (m, d)`` equal a row of ``existing: (k, d)``."""
    if len(existing) == 0 or len(candidates) == 0:
        return np.zeros(len(candidates), dtype=bool)
    if len(candidates) * len(existing) <= _BROADCAST_PAIRS:
        close = np.abs(candidates[:, None, :] - existing[None, :, :]) <= atol
        return close.all(axis=2).any(axis=1)
    # Many pairs (thousands of candidates against hundreds of trials): rows within atol of each
    # other project within atol * sum(w) onto positive weights w; sort the projections, and compare
    # in full only the rows whose projections are that close (distinct configs rarely are).
    w = np.random.default_rng(0).uniform(0.5, 1.5, existing.shape[1])
    p_existing, p_candidates = existing @ w, candidates @ w
    order = np.argsort(p_existing)
    sorted_p = p_existing[order]
    slack = 2.0 * atol * w.sum() + 1e-12 * (1.0 + np.abs(p_candidates))  # and the products' rounding
    lo = np.searchsorted(sorted_p, p_candidates - slack, side="left")
    hi = np.searchsorted(sorted_p, p_candidates + slack, side="right")
    out = np.zeros(len(candidates), dtype=bool)
    for i in np.flatnonzero(hi > lo):
        out[i] = (np.abs(existing[order[lo[i]:hi[i]]] - candidates[i]) <= atol).all(axis=1).any()
    return out


def design(space: SearchSpace, skip: int, n: int, *, seed: int, centre_first: bool) -> np.ndarray:
    """``(n, d)``: points ``skip, ..., skip + n - 1`` of the initial design."""
    if not centre_first:
        return sobol(space, n, seed=seed, skip=skip)
    points = sobol(space, n, seed=seed, skip=max(skip - 1, 0))
    if skip == 0:
        points = np.vstack([space.centre(), points[:-1]])
    return points


def design_point(space: SearchSpace, exclude: np.ndarray, *, skip: int, seed: int, centre_first: bool,
                 rng: np.random.Generator | None) -> tuple[np.ndarray | None, int]:
    """The first design point from number ``skip`` on not in ``exclude``, and the number after it.

    On a finite space whose draws keep repeating, a random configuration not yet taken, drawn from
    ``rng`` (None: a stream of its own, so the caller's is left as it is); None when every one is.
    """
    for _ in range(64):
        for u in design(space, skip, 16, seed=seed, centre_first=centre_first):
            skip += 1
            if not duplicates_of(u[None], exclude)[0]:
                return u, skip
    if space.size > ENUMERABLE:
        return None, skip  # unreachable in practice: 1,024 Sobol draws all taken in a space this large
    free = space.grid()
    free = free[~duplicates_of(free, exclude)]
    if len(free) == 0:
        return None, skip
    rng = rng if rng is not None else np.random.default_rng(seed + skip)
    return free[rng.integers(len(free))], skip
