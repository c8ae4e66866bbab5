import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from searchers import gp, kernel, warping


def _data(n=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2]
    return X, y


def test_matches_scikit_learn_for_fixed_hyperparameters():
    X, y = _data()
    params = kernel.GPParams(np.array([0.3, 0.7, 1.5]), signal_var=1.7, noise_var=1e-3, mean=0.0)
    post = gp.Posterior.build(X, y, np.zeros(3, bool), params)
    reference = ConstantKernel(1.7, "fixed") * Matern([0.3, 0.7, 1.5], "fixed", nu=2.5) + WhiteKernel(1e-3, "fixed")
    ref = GaussianProcessRegressor(reference, optimizer=None, normalize_y=False).fit(X, y)
    Xs = np.random.default_rng(1).random((7, 3))
    mean, var = post.predict(Xs)
    ref_mean, ref_std = ref.predict(Xs, return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-8, atol=1e-10)
    # scikit-learn's std includes the white noise; ours is the latent f's.
    np.testing.assert_allclose(var + 1e-3, ref_std**2, rtol=1e-7, atol=1e-10)


def test_interpolates_noiseless_data_and_covariance_is_psd():
    X, y = _data(n=15)
    post = gp.fit(X, y, np.zeros(3, bool), rng=np.random.default_rng(0))
    mean, var = post.predict(X)
    units_mean, units_std = post.to_units(mean, var)
    np.testing.assert_allclose(units_mean, y, atol=1e-2 * np.std(y))
    assert np.all(units_std < 0.05 * np.std(y))
    Kf, _ = kernel.matern52(kernel.sq_dists(X, X, np.zeros(3, bool)), post.params)
    np.testing.assert_allclose(Kf, Kf.T)
    assert np.linalg.eigvalsh(Kf).min() > -1e-9


def test_hand_computed_two_point_posterior():
    X = np.array([[0.0], [0.5]])
    y = np.array([1.0, -1.0])
    params = kernel.GPParams(np.array([0.5]), signal_var=1.0, noise_var=1e-6, mean=0.0)
    post = gp.Posterior.build(X, y, np.zeros(1, bool), params)
    k01 = (1 + np.sqrt(5) + 5 / 3) * np.exp(-np.sqrt(5))  # r = 1
    K = np.array([[1 + 1e-6, k01], [k01, 1 + 1e-6]])
    ks = np.array([(1 + np.sqrt(5) * 0.5 + 5 / 12) * np.exp(-np.sqrt(5) * 0.5)] * 2)  # x = 0.25, r = 0.5
    mean, var = post.predict(np.array([[0.25]]))
    assert mean[0] == pytest.approx(ks @ np.linalg.solve(K, y), abs=1e-12)
    assert var[0] == pytest.approx(1 - ks @ np.linalg.solve(K, ks), rel=1e-9)


def test_marginal_likelihood_gradient_matches_finite_differences():
    X, y = _data(n=14)
    X[:, 2] = np.floor(X[:, 2] * 3) / 3 + 1 / 6  # a categorical coordinate
    z, _, _ = warping.standardise(y)
    D2 = kernel.sq_dists(X, X, np.array([False, False, True]))
    theta = np.array([-0.5, 0.2, 0.1, 0.3, -3.0, 0.1])
    _, grad = gp.neg_log_marginal(theta, D2, z)
    numeric = approx_fprime(theta, lambda t: gp.neg_log_marginal(t, D2, z)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)


def test_extra_noise_enters_the_likelihood_and_the_posterior_and_its_gradient_still_matches():
    X, y = _data(n=12)
    z, _, _ = warping.standardise(y)
    cat = np.zeros(3, bool)
    D2 = kernel.sq_dists(X, X, cat)
    theta = np.array([-0.5, 0.2, 0.1, 0.3, -3.0, 0.1])
    extra = np.linspace(0.0, 0.5, 12)
    value, grad = gp.neg_log_marginal(theta, D2, z, extra)
    numeric = approx_fprime(theta, lambda t: gp.neg_log_marginal(t, D2, z, extra)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)
    params = kernel.GPParams.from_theta(theta)
    K = kernel.matern52(D2, params)[0] + np.diag(params.noise_var + extra)
    r = z - params.mean
    expected = 0.5 * r @ np.linalg.solve(K, r) + 0.5 * np.linalg.slogdet(K)[1] + 6 * math.log(2 * math.pi)
    assert value == pytest.approx(expected, rel=1e-10)
    post = gp.Posterior.build(X, z, cat, params, extra=extra)
    np.testing.assert_allclose(post.noise, params.noise_var + extra)


def test_prior_gradient_matches_finite_differences():
    prior = gp.Prior.default(2)
    theta = np.array([0.3, -0.8, 0.5, -5.0, 0.4])
    _, grad = prior.log_density(theta)
    numeric = approx_fprime(theta, lambda t: prior.log_density(t)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_posterior_gradients_match_finite_differences():
    X, y = _data(n=10)
    cat = np.array([False, False, True])
    post = gp.fit(X, y, cat, rng=np.random.default_rng(0))
    x = np.array([0.31, 0.62, X[0, 2]])
    _, _, dmean, dvar = post.predict(x[None], grad=True)
    for j in (0, 1):
        def moved(t, j=j):
            return np.r_[x[:j], t, x[j + 1 :]][None]

        def f_mean(t):
            return post.predict(moved(t))[0][0]

        def f_var(t):
            return post.predict(moved(t))[1][0]

        assert dmean[0, j] == pytest.approx(approx_fprime(x[j : j + 1], f_mean, 1e-7)[0], rel=1e-4, abs=1e-7)
        assert dvar[0, j] == pytest.approx(approx_fprime(x[j : j + 1], f_var, 1e-7)[0], rel=1e-4, abs=1e-7)
    assert dmean[0, 2] == 0.0 and dvar[0, 2] == 0.0


def test_predictions_equal_the_kernel_on_per_coordinate_distances_at_new_and_observed_points():
    """``predict`` computes distances as matrix products; the kernel on ``sq_dists`` is the definition."""
    rng = np.random.default_rng(4)
    cat = np.array([False, True, False, False, True])
    X = rng.random((60, 5))
    X[:, cat] = rng.integers(0, 3, (60, 2))
    Xs = np.vstack([X[:10], rng.random((40, 5))])  # observed points, where the rounding cancels, and new ones
    Xs[10:, cat] = rng.integers(0, 3, (40, 2))
    params = kernel.GPParams(rng.uniform(0.05, 2.0, 5), signal_var=1.4, noise_var=1e-4, mean=0.3)
    post = gp.Posterior.build(X, rng.normal(size=60), cat, params)
    Ks, dK_dr2 = kernel.matern52(kernel.sq_dists(Xs, X, cat), params)
    V = Ks @ post.L_inv.T
    diff = np.where(cat, 0.0, Xs[:, None, :] - X[None, :, :])
    J = (2.0 * dK_dr2)[:, :, None] * diff / params.lengthscales**2
    expected = (params.mean + Ks @ post.alpha, params.signal_var - (V * V).sum(axis=1),
                np.einsum("mnd,n->md", J, post.alpha), -2.0 * np.einsum("mnd,mn->md", J, V @ post.L_inv))
    for got, want in zip(post.predict(Xs, grad=True), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_fit_recovers_a_short_lengthscale_and_warm_start_agrees():
    rng = np.random.default_rng(3)
    X = rng.random((40, 2))
    y = np.sin(12 * X[:, 0]) + 0.01 * X[:, 1]
    cat = np.zeros(2, bool)
    z, _, _ = warping.standardise(y)
    params = gp.fit_params(X, z, cat, rng=rng)
    assert params.lengthscales[0] < 0.5 < params.lengthscales[1]
    again = gp.fit_params(X, z, cat, rng=rng, warm_start=params, n_starts=1)
    np.testing.assert_allclose(np.log(again.lengthscales), np.log(params.lengthscales), atol=0.05)


def test_duplicate_inputs_are_handled():
    X = np.array([[0.2, 0.2]] * 5 + [[0.8, 0.1]])
    y = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    post = gp.fit(X, y, np.zeros(2, bool), rng=np.random.default_rng(0))
    mean, var = post.predict(np.array([[0.2, 0.2]]))
    assert np.isfinite(mean).all() and np.isfinite(var).all()


def test_output_warping_round_trips_and_evens_out_a_long_tail():
    rng = np.random.default_rng(3)
    y = -np.exp(rng.normal(scale=3.0, size=40))  # maximised targets, a tail over orders of magnitude
    w, scaling = warping.OutputScaling.fit(y, warp=True)
    assert scaling.power is not None
    np.testing.assert_allclose(scaling.inverse(w), y, rtol=1e-6)
    np.testing.assert_array_equal(np.argsort(w), np.argsort(y))  # monotone: the order, and the best, kept
    skew = lambda v: float(np.mean(((v - v.mean()) / v.std()) ** 3))  # noqa: E731
    assert abs(skew(w)) < abs(skew(y)) / 3
    assert w.mean() == pytest.approx(0, abs=1e-12) and w.std() == pytest.approx(1)


def test_an_unbounded_warp_keeps_the_bad_tail_open():
    rng = np.random.default_rng(3)
    y = -np.exp(rng.normal(scale=3.0, size=40))  # a bad tail the default warp presses against a floor
    _, bounded = warping.OutputScaling.fit(y, warp=True)
    assert bounded.power > 2 and np.isfinite(bounded.bounds()[0])
    w, unbounded = warping.OutputScaling.fit(y, warp=True, powers=warping.UNBOUNDED)
    assert 0 <= unbounded.power <= 2 and unbounded.bounds() == (-np.inf, np.inf)
    np.testing.assert_allclose(unbounded.inverse(w), y, rtol=1e-6)
    far = unbounded.inverse(np.array([w.min() - 10.0]))  # far below every value seen: worse still, and finite
    assert np.isfinite(far[0]) and far[0] < y.min()


def test_without_warping_units_are_a_shift_and_scale():
    y = np.array([3.0, 5.0, 10.0, 11.0])
    z, scaling = warping.OutputScaling.fit(y, warp=False)
    centre, std = scaling.to_units(np.array([0.5]), np.array([0.25]))
    assert centre[0] == pytest.approx(y.mean() + 0.5 * y.std()) and std[0] == pytest.approx(0.5 * y.std())


def test_warped_posterior_interpolates_in_the_metrics_units():
    X, y = _data(n=15)
    y = np.exp(3 * y)  # skewed
    post = gp.fit(X, y, np.zeros(3, bool), rng=np.random.default_rng(0), warp=True)
    assert post.scaling.power is not None
    centre, std = post.to_units(*post.predict(X))
    np.testing.assert_allclose(centre, y, rtol=0.05, atol=0.02 * np.std(y))
    # Uncertainty in units follows the warp's slope (larger where y is steep); it is still
    # smallest at the observations.
    _, std_away = post.to_units(*post.predict(np.random.default_rng(1).random((200, 3))))
    assert np.median(std) < 0.2 * np.median(std_away)


def test_yeojohnson_matches_scipy_and_its_power_fit_within_the_grid():
    from scipy import stats

    rng = np.random.default_rng(0)
    for x in (rng.normal(size=40), -np.exp(rng.normal(scale=2.0, size=40)), np.exp(rng.normal(size=200))):
        scipy_warped, scipy_power = stats.yeojohnson(x)
        np.testing.assert_allclose(warping.yeojohnson(x, scipy_power), scipy_warped, rtol=1e-12, atol=1e-12)
        assert warping.yeojohnson_power(x) == pytest.approx(scipy_power, abs=0.03)


@pytest.mark.parametrize("seed", range(3))
def test_choose_warp_keeps_it_for_a_long_tail_and_drops_it_for_a_skewed_linear_function(seed):
    from searchers.model import choose_warp

    rng, cat = np.random.default_rng(seed), np.zeros(2, bool)

    def chosen(X, y):
        warped = gp.fit(X, y, cat, rng=np.random.default_rng(1), warp=True)
        plain = gp.fit(X, y, cat, rng=np.random.default_rng(1), warp=False)
        assert warped.scaling.power is not None and plain.scaling.power is None
        return choose_warp(warped, plain, y, cat, None).scaling.power is not None

    X = rng.random((30, 2))
    assert chosen(X, np.exp(6 * X[:, 0] + 3 * X[:, 1]))  # four orders of magnitude: the warp makes it smooth
    X = rng.beta(0.4, 2.0, (30, 2))  # a linear function seen mostly near 0: skewed values the warp would bend
    assert not chosen(X, X[:, 0] + X[:, 1])
