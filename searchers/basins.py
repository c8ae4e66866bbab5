"""Another basin: once the search has settled, the best observed point of another basin of the
model's mean, and an acquisition cut to a box around it (``EngineOptions.basin_hop``, off by default).

Shapes: ``X: (n, d)`` observed points in the unit cube, ``y: (n,)`` their values, in observation
order, to be maximised.

Two points lie in one basin when the model's mean along the segment between them never drops well
below both ends (the hill-valley test of Ursem 1999). EI settles in the basin of its first good
point and refines it to the last digit; a point beyond a valley from the incumbent marks a basin it
left, and EI against that point's value, in a box around it, descends that basin instead (a local
search in the manner of TuRBO's trust regions, Eriksson et al. 2019). Measured on Hartmann6's two
basins: README, "Model averaging, calibration and BBOB".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 5  # the observations over which the best must have moved
TOLERANCE = 1e-3  # ... by more than this share of the values' range, or the search has settled
STEPS = 11  # points along each segment of the hill-valley test
DEPTH = 0.1  # a valley: the mean this many standard deviations of the targets below both ends
OUTSIDE = -1e6  # the acquisition outside the box: below any log EI


def settled(y: np.ndarray) -> bool:
    """Whether the last ``WINDOW`` observations moved the best by at most ``TOLERANCE`` of the range."""
    if len(y) <= WINDOW:
        return False
    spread = y.max() - y.min()
    return bool(spread > 0 and y.max() - y[:-WINDOW].max() <= TOLERANCE * spread)


def other_basin_best(posterior, X: np.ndarray, y: np.ndarray, scale: float) -> int | None:
    """The index of the best point that a valley of ``posterior``'s mean separates from the incumbent
    (the best point), or None if there is none; ``scale``: the spread of the model's targets."""
    centre = X[int(np.argmax(y))]
    t = np.linspace(0.0, 1.0, STEPS)
    segments = centre + (X[:, None, :] - centre) * t[None, :, None]  # (n, STEPS, d)
    mean = posterior.predict(segments.reshape(-1, X.shape[1]))[0].reshape(len(X), STEPS)
    depth = DEPTH * scale
    beyond = np.flatnonzero(mean.min(axis=1) < np.minimum(mean[:, 0], mean[:, -1]) - depth)
    return None if len(beyond) == 0 else int(beyond[np.argmax(y[beyond])])


@dataclass(frozen=True)
class InBox:
    """``inner`` (an acquisition of encoded points) within ``centre ± half``, ``OUTSIDE`` beyond."""

    inner: object  # optimize.AcquisitionFunction
    centre: np.ndarray  # (d,)
    half: float
    screen: None = None  # maximize_acquisition screens nothing

    def _outside(self, U: np.ndarray) -> np.ndarray:
        return (np.abs(U - self.centre) > self.half).any(axis=1)

    def __call__(self, U: np.ndarray) -> np.ndarray:
        return np.where(self._outside(U), OUTSIDE, self.inner(U))

    def with_grad(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = self.inner.with_grad(U)
        return np.where(self._outside(U), OUTSIDE, value), grad
