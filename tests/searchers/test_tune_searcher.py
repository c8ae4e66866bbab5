"""GPEISearcher against Ray Tune's Searcher contract, and inside a real Tuner."""

import math

import numpy as np
import pytest
from ray import tune
from ray.tune.search import ConcurrencyLimiter, Searcher

from searchers import GPEISearcher
from tune_jobs.problems import PROBLEMS

SPACE = {"x": tune.uniform(-1, 1), "n": tune.randint(1, 9), "act": tune.choice(["relu", "tanh"]), "tag": "v1"}


def _searcher(**kwargs):
    searcher = GPEISearcher(seed=0, n_initial=4, **kwargs)
    assert searcher.set_search_properties("loss", "min", SPACE)
    return searcher


def _loss(config):
    return (config["x"] - 0.3) ** 2 + 0.01 * config["n"] + (config["act"] == "tanh")


def _drive(searcher, n, start=0):
    for i in range(start, start + n):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})


def test_same_seed_same_sequence():
    a, b = _searcher(), _searcher()
    _drive(a, 10)
    _drive(b, 10)
    np.testing.assert_array_equal(a.engine.X, b.engine.X)


def test_save_restore_round_trip_continues_identically(tmp_path):
    a = _searcher()
    _drive(a, 8)
    pending = a.suggest("pending")
    path = tmp_path / "searcher.pkl"
    a.save(str(path))
    b = GPEISearcher()
    b.restore(str(path))
    assert b.n_observations == 8 and b.metric == "loss" and b.mode == "min"
    for s in (a, b):
        s.on_trial_complete("pending", {"loss": _loss(pending)})
    assert a.suggest("t100") == b.suggest("t100")
    assert not list(tmp_path.glob(".searcher-*"))  # the temporary file was renamed into place


def test_the_engine_maximises_minimised_metrics_are_negated_failures_kept_apart():
    points = [{"x": 0.3, "n": 1, "act": "relu"}, {"x": -0.9, "n": 8, "act": "tanh"}]
    searcher = GPEISearcher(seed=0, metric="loss", mode="min", points_to_evaluate=points, evaluated_rewards=[0.01, 3.0])
    searcher.set_search_properties(None, None, SPACE)
    np.testing.assert_allclose(searcher.engine.y, [-0.01, -3.0])
    searcher.add_evaluated_point({"x": 0.2, "n": 2, "act": "relu", "tag": "v1"}, math.nan)
    searcher.suggest("bad")
    searcher.on_trial_complete("bad", {"loss": math.inf})
    assert len(searcher.engine.y) == 2 and len(searcher.engine.failed) == 2
    maximised = GPEISearcher(seed=0, space=SPACE, metric="acc", mode="max")
    maximised.add_evaluated_point({"x": 0.1, "n": 2, "act": "relu", "tag": "v1"}, 0.9)
    assert maximised.engine.y.tolist() == [0.9]


def test_engine_options_are_checked():
    with pytest.raises(ValueError, match="unknown acquisition"):
        GPEISearcher(acquisition="pi")
    with pytest.raises(ValueError, match="unknown pending strategy"):
        GPEISearcher(pending_strategy="hope")


def test_exhausted_space_finishes():
    searcher = GPEISearcher(seed=0, space={"c": tune.choice([1, 2])}, metric="loss", mode="min")
    for i in range(2):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": config["c"]})
    assert searcher.suggest("t3") == Searcher.FINISHED


def _branin_trainable(config):
    return {"loss": PROBLEMS["branin"](config)}


def _tune(search_alg, name, tmp_path, samples=20, max_concurrent=2):
    tuner = tune.Tuner(
        _branin_trainable,
        param_space=PROBLEMS["branin"].space,
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=samples, search_alg=search_alg,
                                    max_concurrent_trials=max_concurrent),
        run_config=tune.RunConfig(name=name, storage_path=str(tmp_path), verbose=0),
    )
    return tuner.fit()


@pytest.mark.slow  # 120 Tuner trials; the contract suite runs both searchers in a real Tuner by default
def test_real_tuner_gp_beats_random_on_branin(ray_session, tmp_path):
    gp_best, random_best = [], []
    for seed in range(3):
        gp_results = _tune(GPEISearcher(seed=seed), f"gp{seed}", tmp_path)
        assert len(gp_results) == 20 and not gp_results.errors
        gp_best.append(gp_results.get_best_result().metrics["loss"])
        rng = np.random.default_rng(seed)
        random_best.append(min(PROBLEMS["branin"]({"x1": rng.uniform(-5, 10), "x2": rng.uniform(0, 15)})
                               for _ in range(20)))
    assert np.median(gp_best) < np.median(random_best)
    assert np.median(gp_best) < 1.0  # optimum 0.398


def test_tuner_with_concurrency_limiter_and_restore(ray_session, tmp_path):
    searcher = ConcurrencyLimiter(GPEISearcher(seed=1), max_concurrent=3)
    results = _tune(searcher, "limited", tmp_path, samples=9, max_concurrent=None)
    assert len(results) == 9
    configs = {(r.config["x1"], r.config["x2"]) for r in results}
    assert len(configs) == 9
    restored = tune.Tuner.restore(str(tmp_path / "limited"), trainable=_branin_trainable)
    assert len(restored.get_results()) == 9


def test_the_initial_design_takes_at_most_a_fifth_of_the_tuners_num_samples(ray_session, tmp_path):
    """Tune hands the searcher ``num_samples``: 6 trials in 6 dimensions get the smallest design, 5 Sobol
    points instead of 2 d = 12, and the GP suggests the sixth; ``n_initial`` given, or no limit (-1), keeps 2 d."""
    space = {f"x{i}": tune.uniform(0, 1) for i in range(6)}

    def trainable(config):
        return {"loss": sum((v - 0.3) ** 2 for v in config.values())}

    def sweep(searcher, name, samples=6):
        tuner = tune.Tuner(trainable, param_space=space,
                           tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=samples,
                                                       search_alg=searcher),
                           run_config=tune.RunConfig(name=name, storage_path=str(tmp_path), verbose=0))
        results = tuner.fit()
        assert len(results) == samples and not results.errors and searcher.n_observations == samples
        return searcher.engine

    short, given = sweep(GPEISearcher(seed=0), "short"), sweep(GPEISearcher(seed=0, n_initial=7), "given")
    assert (short.n_initial, short.n_sobol) == (5, 5)  # the sixth trial was the GP's
    assert (given.n_initial, given.n_sobol) == (7, 6)
    unlimited = GPEISearcher(seed=0)
    assert unlimited.set_search_properties("loss", "min", space, num_samples=-1) and unlimited.engine.n_initial == 12


def test_failed_trials_imputed_as_worst_steer_the_search_away_from_where_trials_fail():
    def run(failed_trials):
        searcher = GPEISearcher(seed=0, space={"x": tune.uniform(0, 1)}, metric="loss", mode="min", n_initial=4,
                                failed_trials=failed_trials)
        failures = 0
        for i in range(16):
            x = searcher.suggest(str(i))["x"]
            failed = x > 0.6  # the loss falls towards x = 1, but trials there diverge
            failures += failed
            searcher.on_trial_complete(str(i), {"loss": math.nan if failed else -x})
        assert len(searcher.engine.y) == 16 - failures  # imputed values never become observations
        return failures

    worst, ignore = run("worst"), run("ignore")
    assert worst < ignore, (worst, ignore)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_predictive_intervals_hold_the_observed_values_in_the_metrics_units(mode):
    searcher = GPEISearcher(seed=0, n_initial=4)
    assert searcher.set_search_properties("loss", mode, SPACE)
    for i in range(12):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})
    configs, values = zip(*searcher.observations(), strict=True)
    lower, upper = searcher.predict_interval(list(configs), 0.95)
    assert np.all(lower < upper)
    assert np.mean((np.array(values) >= lower) & (np.array(values) <= upper)) >= 0.9
    centre = searcher.predict(list(configs))[0]
    assert np.all((lower <= centre) & (centre <= upper))
    dense = searcher.log_density(list(configs), values)
    far = searcher.log_density(list(configs), np.array(values) + 10.0)
    assert np.all(np.isfinite(dense)) and np.all(dense > far)
