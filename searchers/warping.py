"""Output warping: the metric's values to the GP's units and back. Pure functions of ``y: (n,)``.

``OutputScaling.fit(y, warp=...)`` returns the GP's targets ``w: (n,)`` and the
scaling that maps predictions back to the metric's units. With ``warp=False``
it is plain standardisation; with ``warp=True`` the values are first centred
on their median, scaled by their interquartile range and Yeo-Johnson
transformed with a power fitted by maximum likelihood (HEBO, Cowen-Rivers et
al. 2022, warps outputs the same way). The warp is monotone: it keeps the
order of the values and so the maximiser. Measured effect: docs/benchmark/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The powers the warp may take, bounded so that one extreme value cannot ask for a huge power, which
# loses digits on the way back. Within [0, 2] Yeo-Johnson maps the line onto the line (UNBOUNDED);
# above 2 it presses the lower tail against a floor, below 0 the upper one against a ceiling.
POWERS = (-3.0, 5.0)
UNBOUNDED = (0.0, 2.0)


@dataclass(frozen=True)
class OutputScaling:
    """Targets to the GP's units and back: centre and scale, Yeo-Johnson, standardise.

    ``forward(y) = (YJ_p((y - shift) / scale) - warped_shift) / warped_scale``,
    with ``shift, scale`` the median and interquartile range (robust, so that one
    huge value does not squeeze the rest together before the warp) and the power
    ``p`` fitted by maximum likelihood over a grid (``yeojohnson_power``).
    ``power=None`` is plain standardisation (mean and std).

    The warp is monotone, so it keeps the order of the targets and the maximiser,
    and it pulls in long tails such as losses spanning orders of magnitude.
    """

    shift: float = 0.0
    scale: float = 1.0
    power: float | None = None
    warped_shift: float = 0.0
    warped_scale: float = 1.0

    @classmethod
    def fit(cls, y: np.ndarray, *, warp: bool,
            powers: tuple[float, float] = POWERS) -> tuple[np.ndarray, OutputScaling]:
        """The transformed targets and the scaling, the power within ``powers``; the warp needs 3 distinct
        values at least."""
        z, shift, scale = standardise(y)
        if not warp or len(np.unique(z)) < 3:
            return z, cls(shift, scale)
        q1, shift, q3 = np.percentile(y, [25, 50, 75])
        if q3 - q1 > 1e-12 * scale:
            scale = float(q3 - q1)
        x = (y - shift) / scale
        power = yeojohnson_power(x, powers)
        warped = yeojohnson(x, power)
        w, warped_shift, warped_scale = standardise(warped)
        return w, cls(float(shift), scale, float(power), warped_shift, warped_scale)

    def inverse(self, w: np.ndarray) -> np.ndarray:
        """Targets in their own units from GP units (any shape)."""
        w = np.asarray(w, dtype=float)
        if self.power is None:
            return self.shift + self.scale * w
        return self.shift + self.scale * _yeojohnson_inverse(self.warped_shift + self.warped_scale * w, self.power)

    def forward(self, y: np.ndarray) -> np.ndarray:
        """GP units from the targets' own units (any shape): the inverse of ``inverse``."""
        x = (np.asarray(y, dtype=float) - self.shift) / self.scale
        if self.power is None:
            return x
        return (yeojohnson(x, self.power) - self.warped_shift) / self.warped_scale

    def log_slope(self, y: np.ndarray) -> np.ndarray:
        """``log dw/dy`` of ``w = forward(y)``: a density in GP units times this slope is one in the
        targets' units. The Yeo-Johnson slope is ``(1 + x)^(p - 1)`` for ``x >= 0``, ``(1 - x)^(1 - p)`` below."""
        x = (np.asarray(y, dtype=float) - self.shift) / self.scale
        log_scale = -np.log(self.scale) * np.ones_like(x)
        if self.power is None:
            return log_scale
        slope = np.where(x >= 0, (self.power - 1.0) * np.log1p(np.abs(x)), (1.0 - self.power) * np.log1p(np.abs(x)))
        return log_scale + slope - np.log(self.warped_scale)

    def bounds(self) -> tuple[float, float]:
        """The range of ``forward`` in GP units, ``(lower, upper)``: the whole line unless the power
        bounds the warp, above 2 its lower tail (``YJ >= 1 / (2 - p)``), below 0 its upper one
        (``YJ <= -1 / p``). A GP value beyond a bound maps to no finite value of the targets."""
        if self.power is None:
            return -np.inf, np.inf
        lower = 1.0 / (2.0 - self.power) if self.power > 2.0 else -np.inf
        upper = -1.0 / self.power if self.power < 0.0 else np.inf
        return ((lower - self.warped_shift) / self.warped_scale, (upper - self.warped_shift) / self.warped_scale)

    def to_units(self, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A GP ``(mean, variance)`` as ``(centre, std)`` in the targets' units.

        The centre is the mean mapped back (the predictive median: a monotone map
        keeps quantiles) and the std half the width of the mapped ``mean ± std``
        band; without the warp these are the usual ``shift + scale * mean`` and
        ``scale * std``.
        """
        std = np.sqrt(var)
        return self.inverse(mean), (self.inverse(mean + std) - self.inverse(mean - std)) / 2.0


_STEP, _REFINE = 0.25, np.linspace(-0.25, 0.25, 21)  # a coarse grid, then a fine one around its best


def yeojohnson(x: np.ndarray, power: float | np.ndarray) -> np.ndarray:
    """Yeo-Johnson transform of ``x: (n,)``; ``power`` a number, or ``(g, 1)`` for ``(g, n)`` transforms at once."""
    power = np.asarray(power, dtype=float)
    a = np.abs(x)
    return np.where(x >= 0, _box_cox_1p(a, power), -_box_cox_1p(a, 2.0 - power))


def _box_cox_1p(a: np.ndarray, power: np.ndarray) -> np.ndarray:
    """``((a + 1)^power - 1) / power``, and ``log(1 + a)`` where ``power`` is 0."""
    zero = np.abs(power) < 1e-12
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(zero, np.log1p(a), np.expm1(power * np.log1p(a)) / np.where(zero, 1.0, power))


def yeojohnson_power(x: np.ndarray, powers: tuple[float, float] = POWERS) -> float:
    """The power in ``powers`` maximising the Yeo-Johnson normal log-likelihood of ``x: (n,)``, to 0.025.

    Vectorised over grids of powers, because this runs in every suggest().
    """
    jacobian = np.sum(np.sign(x) * np.log1p(np.abs(x)))

    def best(powers: np.ndarray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            llf = -0.5 * len(x) * np.log(yeojohnson(x, powers[:, None]).var(axis=1)) + (powers - 1.0) * jacobian
        llf[~np.isfinite(llf)] = -np.inf
        return float(powers[int(np.argmax(llf))])

    low, high = powers
    coarse = best(np.linspace(low, high, int(round((high - low) / _STEP)) + 1))
    return best(np.clip(coarse + _REFINE, low, high))


def _yeojohnson_inverse(x: np.ndarray, power: float) -> np.ndarray:
    """The inverse of Yeo-Johnson with ``power``; values beyond the transform's range are clipped to it."""
    out = np.empty_like(x)
    pos = x >= 0
    if abs(power) < 1e-12:
        out[pos] = np.expm1(x[pos])
    else:
        base = np.maximum(power * x[pos] + 1.0, 1e-12)  # > 0 inside the range (bounded above if power < 0)
        out[pos] = base ** (1.0 / power) - 1.0
    if abs(power - 2.0) < 1e-12:
        out[~pos] = -np.expm1(-x[~pos])
    else:
        base = np.maximum(1.0 - (2.0 - power) * x[~pos], 1e-12)
        out[~pos] = 1.0 - base ** (1.0 / (2.0 - power))
    return out


def standardise(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(z, shift, scale)`` with ``y = shift + scale * z``; a constant ``y`` gets scale 1."""
    shift = float(np.mean(y))
    scale = float(np.std(y))
    if not np.isfinite(scale) or scale < 1e-12:
        scale = 1.0
    return (y - shift) / scale, shift, scale
