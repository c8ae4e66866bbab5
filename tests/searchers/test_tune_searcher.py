"""GPEISearcher against Ray Tune's Searcher contract, and inside a real Tuner."""

import logging
import math
import pickle

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


def test_suggestions_lie_in_the_space_and_keep_constants():
    searcher = _searcher()
    for i in range(8):
        config = searcher.suggest(f"t{i}")
        assert -1 <= config["x"] <= 1 and config["n"] in range(1, 9) and config["act"] in ("relu", "tanh")
        assert config["tag"] == "v1"
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})
    assert searcher.n_observations == 8


def test_same_seed_same_sequence():
    a, b = _searcher(), _searcher()
    _drive(a, 10)
    _drive(b, 10)
    np.testing.assert_array_equal(a.engine.X, b.engine.X)


@pytest.mark.parametrize("result, error, reason", [
    ({"loss": math.nan}, False, "is nan"),
    ({"loss": math.inf}, False, "is inf"),
    ({"loss": "diverged"}, False, "is not a number"),
    ({"other": 1.0}, False, "has no metric 'loss'"),
    (None, False, "has no metric 'loss'"),
    ({"loss": 0.1}, True, "raised an error"),
])
def test_failed_trials_are_recorded_not_fed_to_the_gp(result, error, reason, caplog):
    searcher = _searcher()
    _drive(searcher, 5)
    config = searcher.suggest("bad")
    with caplog.at_level(logging.WARNING, logger="searchers"):
        searcher.on_trial_complete("bad", result, error=error)
    assert searcher.n_observations == 5
    assert reason in searcher.failures["bad"]
    assert reason in caplog.text
    _drive(searcher, 3, start=10)  # the GP still works
    assert searcher.n_observations == 8
    assert np.isfinite(searcher.engine.y).all()
    assert config != searcher.suggest("next")


def test_concurrent_suggestions_are_distinct_and_never_repeat_observed():
    searcher = _searcher()
    _drive(searcher, 10)
    batch = [searcher.suggest(f"p{i}") for i in range(4)]
    keys = {repr(sorted(c.items())) for c in batch}
    assert len(keys) == 4
    assert not (keys & {repr(sorted(searcher.space.decode(u).items())) for u in searcher.engine.X})


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


def test_restore_from_something_else_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a GPEISearcher checkpoint"):
        GPEISearcher().restore(str(junk))
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"something": 1}))
    with pytest.raises(ValueError, match="not a GPEISearcher checkpoint"):
        GPEISearcher().restore(str(other))


def test_points_to_evaluate_come_first_partial_ones_are_completed():
    points = [{"x": 0.5, "n": 3, "act": "tanh"}, {"x": -0.25}]
    searcher = _searcher(points_to_evaluate=points)
    first, second = searcher.suggest("a"), searcher.suggest("b")
    assert first == {"x": 0.5, "n": 3, "act": "tanh", "tag": "v1"}
    assert second["x"] == -0.25 and second["n"] in range(1, 9) and second["tag"] == "v1"


def test_evaluated_rewards_become_observations():
    points = [{"x": 0.3, "n": 1, "act": "relu"}, {"x": -0.9, "n": 8, "act": "tanh"}]
    searcher = GPEISearcher(seed=0, metric="loss", mode="min", points_to_evaluate=points, evaluated_rewards=[0.01, 3.0])
    searcher.set_search_properties(None, None, SPACE)
    assert searcher.n_observations == 2
    np.testing.assert_allclose(searcher.engine.y, [-0.01, -3.0])  # minimised: the engine maximises -loss
    with pytest.raises(ValueError, match="one value per entry"):
        GPEISearcher(points_to_evaluate=points, evaluated_rewards=[1.0])


def test_add_evaluated_point_and_mode_max():
    searcher = GPEISearcher(seed=0, space=SPACE, metric="acc", mode="max")
    searcher.add_evaluated_point({"x": 0.1, "n": 2, "act": "relu", "tag": "v1"}, 0.9)
    searcher.add_evaluated_point({"x": 0.2, "n": 2, "act": "relu", "tag": "v1"}, math.nan)
    assert searcher.engine.y.tolist() == [0.9] and len(searcher.engine.failed) == 1


def test_misuse_gives_clear_errors():
    with pytest.raises(RuntimeError, match="no search space"):
        GPEISearcher().suggest("t")
    with pytest.raises(RuntimeError, match="needs metric and mode"):
        GPEISearcher(space=SPACE).suggest("t")
    with pytest.raises(ValueError, match="mode must be"):
        GPEISearcher(mode="maximise")
    with pytest.raises(ValueError, match="unknown acquisition"):
        GPEISearcher(acquisition="pi")
    assert not _searcher().set_search_properties("loss", "min", SPACE)  # space already set


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
