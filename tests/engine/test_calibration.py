"""Predictive intervals and densities in the targets' units, through the output warping and mixtures."""

import numpy as np
import pytest
from scipy.integrate import trapezoid
from scipy.stats import norm

from searchers import averaging, calibration, gp
from searchers.engine import BOEngine
from searchers.kernel import GPParams
from searchers.options import EngineOptions
from searchers.space import FloatParam, SearchSpace
from searchers.warping import OutputScaling


def _data(n=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2))
    return X, np.exp(3 * X[:, 0]) + X[:, 1]  # a long upper tail: the warp has work to do


def test_forward_inverts_inverse_and_log_slope_is_its_derivative():
    _, y = _data()
    _, scaling = OutputScaling.fit(y, warp=True)
    assert scaling.power is not None
    grid = np.linspace(y.min() - 1, y.max() + 1, 50)
    np.testing.assert_allclose(scaling.inverse(scaling.forward(grid)), grid, rtol=1e-9, atol=1e-9)
    h = 1e-6
    numeric = (scaling.forward(grid + h) - scaling.forward(grid - h)) / (2 * h)
    np.testing.assert_allclose(scaling.log_slope(grid), np.log(numeric), rtol=1e-6, atol=1e-6)


def test_unwarped_interval_is_mean_plus_minus_z_sd_with_the_noise():
    X, y = _data()
    post = gp.fit(X, y, np.zeros(2, bool), rng=np.random.default_rng(0), warp=False)
    U = np.random.default_rng(1).random((5, 2))
    mean, var = post.predict(U)
    centre, _ = post.to_units(mean, var)
    half = post.scaling.scale * norm.ppf(0.975) * np.sqrt(var + post.params.noise_var)
    lower, upper = calibration.interval(post, U, 0.95)
    np.testing.assert_allclose(lower, centre - half, rtol=1e-8)
    np.testing.assert_allclose(upper, centre + half, rtol=1e-8)
    with pytest.raises(ValueError, match="level"):
        calibration.interval(post, U, 1.5)


def _mixture(warp=True):
    X, y = _data()
    z, scaling = OutputScaling.fit(y, warp=warp)
    cat = np.zeros(2, bool)
    start = gp.fit_params(X, z, cat, rng=np.random.default_rng(0))
    draws = averaging.sample_params(X, z, cat, start, n_samples=6, rng=np.random.default_rng(0))
    return averaging.Mixture.build(X, z, cat, draws, scaling=scaling)


def test_mixture_interval_holds_its_mass_and_the_density_integrates_to_one():
    mixture = _mixture()
    U = np.array([[0.9, 0.5], [0.2, 0.1]])  # one point in the long tail, one not
    lower, upper = calibration.interval(mixture, U, 0.9)
    means, variances = calibration.predictive_each(mixture, U)
    for i in range(len(U)):
        w_lo, w_hi = mixture.scaling.forward(np.array([lower[i], upper[i]]))
        mass = np.mean(norm.cdf(w_hi, means[:, i], np.sqrt(variances[:, i]))
                       - norm.cdf(w_lo, means[:, i], np.sqrt(variances[:, i])))
        assert mass == pytest.approx(0.9, abs=1e-6)
        grid = np.linspace(lower[i] - 20 * (upper[i] - lower[i]), upper[i] + 20 * (upper[i] - lower[i]), 200_001)
        density = np.exp(calibration.log_density(mixture, np.repeat(U[i:i + 1], len(grid), 0), grid))
        assert trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)


def test_a_bounded_warp_gives_an_infinite_end_beyond_its_floor_and_leaves_that_mass_out_of_the_density():
    # A long tail of bad values asks for a Yeo-Johnson power above 2: the warp has a floor in GP
    # units, and the model's mass below it stands for values worse than any finite one.
    rng = np.random.default_rng(0)
    X = rng.random((15, 2))
    y = -np.exp(12 * X[:, 0]) + X[:, 1]
    z, scaling = OutputScaling.fit(y, warp=True)
    floor, ceiling = scaling.bounds()
    assert scaling.power > 2 and np.isfinite(floor) and ceiling == np.inf
    assert z.min() > floor
    cat = np.zeros(2, bool)
    draws = averaging.sample_params(X, z, cat, gp.fit_params(X, z, cat, rng=np.random.default_rng(0)),
                                    n_samples=6, rng=np.random.default_rng(0))
    mixture = averaging.Mixture.build(X, z, cat, draws, scaling=scaling)
    U = np.array([[1.0, 0.15], [0.1, 0.5]])  # at the bad end, and among good values
    means, variances = calibration.predictive_each(mixture, U)
    beyond = np.mean(norm.cdf(floor, means, np.sqrt(variances)), axis=0)
    assert beyond[0] > 0.025 > beyond[1]
    lower, upper = calibration.interval(mixture, U, 0.95)
    assert lower[0] == -np.inf and np.isfinite([lower[1], *upper]).all()
    w_lo, w_hi = scaling.forward(np.array([lower[1], upper[1]]))
    cdf = norm.cdf(np.array([w_lo, w_hi])[:, None], means[:, 1], np.sqrt(variances[:, 1])).mean(axis=1)
    assert cdf[1] - cdf[0] == pytest.approx(0.95, abs=1e-6)
    # the density of finite values holds the mixture's mass of the range it spans, nothing of the floor's
    grid = y.max() + 1 - np.geomspace(1e-4, 1e4, 400_001)[::-1]
    density = np.exp(calibration.log_density(mixture, np.repeat(U[:1], len(grid), 0), grid))
    ends = norm.cdf(scaling.forward(grid[[0, -1]])[:, None], means[:, 0], np.sqrt(variances[:, 0])).mean(axis=1)
    assert trapezoid(density, grid) == pytest.approx(ends[1] - ends[0], rel=1e-3)


def test_coverage_counts_the_share_inside():
    assert calibration.coverage(np.zeros(4), np.ones(4), np.array([0.5, 1.0, 1.5, -0.1])) == 0.5


@pytest.mark.parametrize("samples", [0, 8])
def test_a_multi_fidelity_model_gives_intervals_at_the_target_map_fit_or_mixture(samples):
    # Beyond `average_until` rows a multi-fidelity engine fits MAP: its interval must work too.
    space = SearchSpace((FloatParam(("x",), 0.0, 1.0), FloatParam(("z",), 0.0, 1.0)))
    engine = BOEngine(space, seed=0, options=EngineOptions(max_fidelity=8, hyper_samples=samples))
    rng = np.random.default_rng(0)
    for trial in range(8):
        u = rng.random(2)
        for r in (1, 2, 4, 8)[: 1 + trial % 4]:
            engine.observe_partial(f"t{trial}", u, r, float(np.sin(6 * u[0]) + np.log(r)))
    lower, upper = calibration.interval(engine.current_model(), rng.random((3, 2)))
    assert (lower < upper).all()


def test_leave_one_out_scale_makes_the_intervals_indifferent_to_a_spread_off_by_any_factor():
    """Signal and noise variance multiplied by c leave the mean alone and multiply every variance by c:
    uncalibrated intervals widen by sqrt(c); calibrated ones are the same, since the left-out
    residuals are standardised by the same spread."""
    rng = np.random.default_rng(5)
    X, cat = rng.random((60, 2)), np.zeros(2, bool)
    fitted = gp.fit(X, np.sin(5 * X[:, 0]) + np.cos(3 * X[:, 1]), cat, rng=rng, warp=False)
    U = rng.random((200, 2))

    def scaled(c: float) -> gp.Posterior:
        p = fitted.params
        params = GPParams(p.lengthscales, p.signal_var * c, p.noise_var * c, p.mean)
        return gp.Posterior.build(X, fitted.y, cat, params, scaling=fitted.scaling)

    lower, upper = calibration.interval(scaled(1.0), U)
    for c in (0.01, 100.0):
        assert calibration.loo_scale(scaled(c)) == pytest.approx(calibration.loo_scale(scaled(1.0)) / np.sqrt(c))
        c_lower, c_upper = calibration.interval(scaled(c), U)
        np.testing.assert_allclose(c_upper - c_lower, upper - lower, rtol=1e-6)
        np.testing.assert_allclose(c_lower + c_upper, lower + upper, rtol=1e-6, atol=1e-9)


def test_leave_one_out_scale_is_one_below_twenty_observations():
    X, y = _data(n=19)
    assert calibration.loo_scale(gp.fit(X, y, np.zeros(2, bool), rng=np.random.default_rng(0))) == 1.0


def test_leave_one_out_scale_of_a_mixture_puts_the_level_inside_its_left_out_mixture_intervals():
    """Against refitting without each observation in turn: at the factor, 39 of 41 observations lie
    inside the scaled mixture's central 95% interval; just below it, 38."""
    rng = np.random.default_rng(2)
    X, cat = rng.random((41, 2)), np.zeros(2, bool)
    y = np.sin(5 * X[:, 0]) + np.cos(3 * X[:, 1]) + 0.1 * rng.standard_normal(41)
    samples = [GPParams(np.array([0.2, 0.5]), 1.0, 0.01, 0.0), GPParams(np.array([0.6, 0.3]), 0.5, 0.05, 0.3)]
    mixture = averaging.Mixture.build(X, y, cat, samples, scaling=OutputScaling())
    c = calibration.loo_scale(mixture)

    def inside(factor: float) -> int:
        count = 0
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            left = averaging.Mixture.build(X[keep], y[keep], cat, samples, scaling=OutputScaling())
            means, variances = left.predict_each(X[i:i + 1])
            sd = factor * np.sqrt(variances + np.array([[s.noise_var] for s in samples]))
            lo, hi = (calibration._mixture_quantile(means, sd, q)[0] for q in (0.025, 0.975))
            count += lo <= y[i] <= hi
        return count

    assert inside(c * (1 + 1e-6)) == 39
    assert inside(c * (1 - 1e-4)) == 38
    assert calibration.loo_scale(averaging.Mixture((mixture.components[0],) * 2)) == pytest.approx(
        calibration.loo_scale(mixture.components[0]), rel=1e-9)
