import numpy as np
import pytest
from scipy.optimize import approx_fprime

from searchers.acquisition import expected_improvement, log_ei, log_h, ucb


def test_ei_reference_value():
    ei = expected_improvement(np.array([-0.5]), np.array([1.0]), 0.0)
    assert ei[0] == pytest.approx(0.19780, abs=5e-6)
    value, _, _ = log_ei(np.array([-0.5]), np.array([1.0]), 0.0)
    assert value[0] == pytest.approx(np.log(ei[0]), rel=1e-12)


def test_log_ei_matches_log_of_ei_where_ei_is_representable():
    mean = np.linspace(-20, 5, 200)
    std = np.full_like(mean, 0.7)
    value, _, _ = log_ei(mean, std, 0.3)
    np.testing.assert_allclose(value, np.log(expected_improvement(mean, std, 0.3)), rtol=1e-9)


def test_log_h_finite_and_monotone_over_the_whole_range():
    z = np.concatenate([-np.logspace(100, -4, 2000), [0.0], np.logspace(-4, 100, 2000)])
    value, slope = log_h(z)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(slope))
    assert np.all(np.diff(value) > 0)
    assert np.all(slope > 0)
    # Asymptotes: log h(z) ~ -z^2/2 - log(z^2 sqrt(2 pi)) for z -> -inf, log z for z -> +inf.
    assert value[0] == pytest.approx(-0.5e200 - np.log(1e200) - 0.5 * np.log(2 * np.pi), rel=1e-12)
    assert value[-1] == pytest.approx(np.log(1e100), rel=1e-12)


@pytest.mark.parametrize("z", [-1e4, -300.0, -37.0, -5.0, -1.0001, -0.9999, 0.0, 2.5, 30.0])
def test_log_h_slope_matches_finite_differences(z):
    _, slope = log_h(np.array([z]))
    numeric = approx_fprime(np.array([z]), lambda t: log_h(t)[0][0], 1e-7 * max(1.0, abs(z)))
    assert slope[0] == pytest.approx(numeric[0], rel=1e-4)


@pytest.mark.parametrize("acquisition", [log_ei, ucb])
def test_gradients_in_mean_and_std(acquisition):
    mean, std, best = np.array([0.3]), np.array([0.4]), 0.9
    _, d_mean, d_std = acquisition(mean, std, best)
    num_mean = approx_fprime(mean, lambda m: acquisition(m, std, best)[0][0], 1e-7)
    num_std = approx_fprime(std, lambda s: acquisition(mean, s, best)[0][0], 1e-7)
    assert d_mean[0] == pytest.approx(num_mean[0], rel=1e-5)
    assert d_std[0] == pytest.approx(num_std[0], rel=1e-5)
