"""AxSearcher: the reference backend on ax.api.Client, held to GPEISearcher's contract."""

import logging
import math

import pytest
from ray import tune

from searchers import AxSearcher

SPACE = {"x": tune.uniform(-1, 1), "n": tune.qlograndint(8, 512, 8), "act": tune.choice(["relu", None, (3, 3)]),
         "lr": tune.loguniform(1e-4, 1e-1), "tag": "v1", "one": tune.randint(3, 4), "only": tune.choice(["x"])}

logging.getLogger("ax").setLevel(logging.WARNING)


def _loss(config):
    return (config["x"] - 0.3) ** 2 + (config["act"] is None)


def _searcher(**kwargs):
    searcher = AxSearcher(seed=0, **kwargs)
    assert searcher.set_search_properties("loss", "min", SPACE)
    return searcher


def test_suggestions_lie_in_the_space_with_exact_categories_and_constants():
    searcher = _searcher()
    for i in range(7):
        config = searcher.suggest(f"t{i}")
        assert -1 <= config["x"] <= 1 and config["n"] % 8 == 0 and 8 <= config["n"] <= 512
        assert config["act"] in ("relu", None, (3, 3)) and 1e-4 <= config["lr"] <= 1e-1 and config["tag"] == "v1"
        assert config["one"] == 3 and config["only"] == "x"  # single-valued: kept from Ax
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})
    assert searcher.n_observations == 7


def test_failed_trials_are_marked_failed(caplog):
    searcher = _searcher()
    searcher.suggest("a")
    searcher.suggest("b")
    with caplog.at_level(logging.WARNING, logger="searchers"):
        searcher.on_trial_complete("a", {"loss": math.nan})
        searcher.on_trial_complete("b", None)
    assert "is nan" in searcher.failures["a"] and "has no metric" in searcher.failures["b"]
    assert searcher.n_observations == 0 and "is nan" in caplog.text


def test_save_restore_keeps_every_observation(tmp_path):
    a = _searcher()
    for i in range(6):
        config = a.suggest(f"t{i}")
        a.on_trial_complete(f"t{i}", {"loss": _loss(config)})
    a.save(str(tmp_path / "ax.pkl"))
    b = AxSearcher()
    b.restore(str(tmp_path / "ax.pkl"))
    assert b.n_observations == 6 and b.metric == "loss"
    config = b.suggest("next")
    b.on_trial_complete("next", {"loss": _loss(config)})
    assert b.n_observations == 7
    with pytest.raises(ValueError, match="not an AxSearcher checkpoint"):
        (tmp_path / "junk").write_bytes(b"junk")
        AxSearcher().restore(str(tmp_path / "junk"))


def test_points_to_evaluate_and_evaluated_rewards():
    first = {"x": 0.5, "n": 64, "act": (3, 3), "lr": 1e-3, "one": 3, "only": "x"}
    searcher = _searcher(points_to_evaluate=[first, {"x": -0.5}])
    assert searcher.suggest("a") == dict(first, tag="v1")
    second = searcher.suggest("b")
    assert second["x"] == -0.5 and second["tag"] == "v1"
    known = AxSearcher(seed=0, space=SPACE, metric="loss", mode="min", points_to_evaluate=[first],
                       evaluated_rewards=[0.04])
    assert known.n_observations == 1


def test_real_tuner_with_concurrency(ray_session, tmp_path):
    def trainable(config):
        return {"loss": _loss(config)}

    results = tune.Tuner(
        trainable, param_space=SPACE,
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=8, search_alg=AxSearcher(seed=0),
                                    max_concurrent_trials=2),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="ax", verbose=0),
    ).fit()
    assert len(results) == 8 and not results.errors
