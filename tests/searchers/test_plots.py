"""The introspection API of GPEISearcher and the pictures drawn from it: they must show what they claim."""

import math

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from ray import tune

from searchers import GPEISearcher
from searchers.plots import plot_convergence, plot_importance, plot_posterior_1d, plot_posterior_2d


def _wavy(config):
    x = config["x"]
    return math.sin(3 * x) + x**2 - 0.7 * x


def _tour(steps=8, **kwargs):
    searcher = GPEISearcher(seed=1, space={"x": tune.uniform(-1.0, 2.0)}, metric="y", mode="min", n_initial=3,
                            **kwargs)
    for i in range(steps):
        config = searcher.suggest(str(i))
        searcher.on_trial_complete(str(i), {"y": _wavy(config)})
    return searcher


def _mixed(n=14):
    space = {"lr": tune.loguniform(1e-4, 1e-1), "width": tune.randint(8, 129), "noise": tune.uniform(0, 1),
             "act": tune.choice(["relu", "tanh"])}
    searcher = GPEISearcher(seed=0, space=space, metric="acc", mode="max")
    for i in range(n):
        c = searcher.suggest(str(i))
        acc = 1 - (math.log10(c["lr"]) + 2.5) ** 2 / 4 - 0.3 * (c["act"] == "tanh") + 0.001 * c["width"]
        searcher.on_trial_complete(str(i), {"acc": acc + 0.001 * c["noise"]})
    return searcher


@pytest.mark.parametrize("hyper_samples", [0, 8])
def test_the_band_shrinks_at_observed_points_and_the_mean_passes_through_them(hyper_samples):
    searcher = _tour(hyper_samples=hyper_samples)
    configs, values = zip(*searcher.observations(), strict=True)
    mean, std = searcher.predict(list(configs))
    if hyper_samples == 0:  # one MAP fit: the noise at its floor for these noiseless values
        assert std.max() < 0.1 * searcher.kernel()["signal_std"]  # the target
    np.testing.assert_allclose(mean, values, atol=0.05 * np.ptp(values))
    far_mean, far_std = searcher.predict({"x": 1.4})  # between observations: wide
    assert far_std[0] > 5 * std.max()
    lower, upper = searcher.predict_interval({"x": 1.4})
    assert lower[0] < far_mean[0] < upper[0] and upper[0] - lower[0] > 2 * far_std[0]


def test_introspection_leaves_the_next_suggestion_unchanged():
    a, b = _tour(), _tour()
    preview = a.preview()
    a.predict({"x": 0.0}), a.kernel(), a.importance(), a.acquisition([{"x": 0.5}])
    assert preview == a.suggest("next") == b.suggest("next")


def test_kernel_and_importance_in_the_metrics_units():
    searcher = _mixed()
    kernel = searcher.kernel()
    assert set(kernel["lengthscales"]) == {"lr", "width", "noise", "act"}
    assert kernel["signal_std"] > kernel["noise_std"] > 0
    importance = searcher.importance()
    assert math.isclose(sum(importance.values()), 1.0) and list(importance)[0] == "lr"
    assert importance["lr"] > importance["noise"]
    best = max(searcher.observations(), key=lambda item: item[1])
    mean, _ = searcher.predict(best[0])
    assert abs(mean[0] - best[1]) < 0.1  # mode max: not negated


def test_posterior_1d_draws_target_band_observations_acquisition_and_next_point(tmp_path):
    searcher = _tour()
    fig = plot_posterior_1d(searcher, "x", tmp_path / "post.png", objective=_wavy, points=150)
    top, bottom = fig.axes
    labels = [line.get_label() for line in top.lines]
    assert labels[:2] == ["target", "GP mean"] and len(top.lines[1].get_xdata()) == 150
    assert any(isinstance(c, PolyCollection) for c in top.collections)  # the band
    dots = [c for c in top.collections if isinstance(c, PathCollection)]
    assert len(dots) == 1 and len(dots[0].get_offsets()) == 8
    nxt = searcher.preview()["x"]
    marks = [line for line in bottom.lines if line.get_label() == "next suggestion"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == pytest.approx(nxt)
    acq_line = bottom.lines[0]
    assert bottom.get_ylabel() == "log EI" and len(acq_line.get_xdata()) == 150
    assert acq_line.get_xdata()[np.argmax(acq_line.get_ydata())] == pytest.approx(nxt, abs=0.1)
    assert (tmp_path / "post.png").stat().st_size > 10_000


def test_posterior_1d_slices_a_real_space_on_a_log_axis():
    searcher = _mixed()
    fig = plot_posterior_1d(searcher, "lr")
    assert fig.axes[1].get_xscale() == "log" and "slice" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="categorical"):
        plot_posterior_1d(searcher, "act")
    with pytest.raises(ValueError, match="no searched parameter 'depth'"):
        plot_posterior_1d(searcher, "depth")


def test_posterior_2d_contours_with_every_trial(tmp_path):
    searcher = _mixed()
    fig = plot_posterior_2d(searcher, "lr", "width", tmp_path / "post2d.png", points=30)
    ax = fig.axes[0]
    trials, best = [c for c in ax.collections if isinstance(c, PathCollection)][-2:]
    assert len(trials.get_offsets()) == 14 and len(best.get_offsets()) == 1
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale()) == ("lr", "width", "log")
    assert (tmp_path / "post2d.png").exists()


def test_importance_bars_and_convergence_lines(tmp_path):
    searcher = _mixed()
    bars = plot_importance(searcher, tmp_path / "importance.png").axes[0].patches
    assert len(bars) == 4 and math.isclose(sum(b.get_width() for b in bars), 1.0)
    curves = {"gp": [0.5, 0.7, 0.7, 0.9], "random": [0.4, 0.4, 0.6, 0.6]}
    ax = plot_convergence(curves, tmp_path / "convergence.png").axes[0]
    assert [line.get_label() for line in ax.lines] == ["gp", "random"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), curves["gp"])


def test_readme_picture_command(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "gp_posterior.png"
    subprocess.run([sys.executable, "-m", "searchers.plots", str(out)], check=True, timeout=120)
    assert out.stat().st_size > 10_000
