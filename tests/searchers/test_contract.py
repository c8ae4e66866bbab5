"""Ray Tune's Searcher contract, held by both backends: one parametrised suite over GPEISearcher and AxSearcher."""

import logging
import math
import pickle

import pytest
from ray import tune

from searchers import AxSearcher, GPEISearcher

SPACE = {"x": tune.uniform(-1, 1), "n": tune.qlograndint(8, 512, 8), "act": tune.choice(["relu", None, (3, 3)]),
         "lr": tune.loguniform(1e-4, 1e-1), "tag": "v1", "one": tune.randint(3, 4), "only": tune.choice(["x"])}
FULL = {"x": 0.5, "n": 64, "act": (3, 3), "lr": 1e-3, "one": 3, "only": "x"}

SEARCHERS = {"gp": lambda **kw: GPEISearcher(n_initial=4, **kw), "ax": AxSearcher}

logging.getLogger("ax").setLevel(logging.WARNING)


@pytest.fixture(params=sorted(SEARCHERS))
def make(request):
    def make(**kwargs):
        return SEARCHERS[request.param](seed=0, **kwargs)

    make.kind = request.param
    return make


def _loss(config):
    return (config["x"] - 0.3) ** 2 + (config["act"] is None) + 0.001 * config["n"]


def _ready(make, **kwargs):
    searcher = make(**kwargs)
    assert searcher.set_search_properties("loss", "min", SPACE)
    return searcher


def _drive(searcher, n, start=0):
    for i in range(start, start + n):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})


def _key(config):
    return repr(sorted(config.items()))


def test_suggestions_lie_in_the_space_with_exact_categories_and_constants(make):
    searcher = _ready(make)
    for i in range(7):
        config = searcher.suggest(f"t{i}")
        assert -1 <= config["x"] <= 1 and config["n"] % 8 == 0 and 8 <= config["n"] <= 512
        assert config["act"] in ("relu", None, (3, 3)) and 1e-4 <= config["lr"] <= 1e-1
        assert config["tag"] == "v1" and config["one"] == 3 and config["only"] == "x"
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})
    assert searcher.n_observations == 7 and searcher.suggest_seconds > 0


# Every way a result can be unusable is in tests/test_bad_input.py (the check is shared); here, two.
@pytest.mark.parametrize("result, error, reason", [
    ({"loss": math.nan}, False, "is nan"),
    ({"loss": 0.1}, True, "raised an error"),
])
def test_failed_trials_are_recorded_not_learned_from(make, result, error, reason, caplog):
    searcher = _ready(make)
    _drive(searcher, 6)
    searcher.suggest("bad")
    with caplog.at_level(logging.WARNING, logger="searchers"):
        searcher.on_trial_complete("bad", result, error=error)
    assert searcher.n_observations == 6 and reason in searcher.failures["bad"] and reason in caplog.text
    _drive(searcher, 2, start=10)  # the model still works
    assert searcher.n_observations == 8 and set(searcher.failures) == {"bad"}


def test_concurrent_suggestions_are_distinct_and_never_repeat_observed(make):
    searcher = _ready(make)
    observed = []
    for i in range(8):
        config = searcher.suggest(f"t{i}")
        observed.append(_key(config))
        searcher.on_trial_complete(f"t{i}", {"loss": _loss(config)})
    batch = [_key(searcher.suggest(f"p{i}")) for i in range(4)]
    assert len(set(batch)) == 4 and not set(batch) & set(observed)


def test_save_restore_continues_with_every_observation(make, tmp_path):
    a = _ready(make)
    _drive(a, 6)
    running = a.suggest("running")
    path = tmp_path / "searcher.pkl"
    a.save(str(path))
    assert not list(tmp_path.glob(".searcher-*"))  # the temporary file was renamed into place
    b = make()
    b.restore(str(path))
    assert (b.n_observations, b.metric, b.mode) == (6, "loss", "min")
    b.on_trial_complete("running", {"loss": _loss(running)})  # a trial started before the checkpoint
    _drive(b, 1, start=20)
    assert b.n_observations == 8


def test_restoring_something_else_is_a_clear_error(make, tmp_path):
    name = type(make()).__name__
    (tmp_path / "junk").write_bytes(b"not a pickle")
    (tmp_path / "dict").write_bytes(pickle.dumps({"something": 1}))
    other = GPEISearcher if name == "AxSearcher" else AxSearcher
    foreign = other(seed=0, space=SPACE, metric="loss", mode="min")
    foreign.save(str(tmp_path / "foreign"))
    for path in ("junk", "dict", "foreign", "missing"):
        with pytest.raises(ValueError, match=f"is not a {name} checkpoint"):
            make().restore(str(tmp_path / path))


def test_points_to_evaluate_come_first_partial_ones_are_completed(make):
    searcher = _ready(make, points_to_evaluate=[FULL, {"x": -0.5}])
    assert searcher.suggest("a") == dict(FULL, tag="v1")
    second = searcher.suggest("b")
    assert second["x"] == -0.5 and second["tag"] == "v1" and second["n"] % 8 == 0
    with pytest.raises(ValueError, match="lr"):
        _ready(make, points_to_evaluate=[dict(FULL, lr=5.0)]).suggest("c")


def test_evaluated_rewards_and_add_evaluated_point_become_observations(make):
    searcher = make(space=SPACE, metric="loss", mode="min", points_to_evaluate=[FULL, dict(FULL, x=-0.5)],
                    evaluated_rewards=[0.04, math.nan])
    assert searcher.n_observations == 1
    searcher.add_evaluated_point(dict(FULL, x=0.0), 0.09)
    assert searcher.n_observations == 2
    _drive(searcher, 1)
    assert searcher.n_observations == 3
    with pytest.raises(ValueError, match="one value per entry"):
        make(points_to_evaluate=[FULL], evaluated_rewards=[1.0, 2.0])


def test_mode_max_prefers_high_values(make):
    searcher = make(space={"x": tune.uniform(0, 1)}, metric="acc", mode="max",
                    points_to_evaluate=[{"x": 0.1}, {"x": 0.9}], evaluated_rewards=[0.1, 0.9])
    for i in range(8):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"acc": config["x"]})
    last = searcher.suggest("last")["x"]
    assert last > 0.7, last


def test_misuse_gives_clear_errors(make):
    with pytest.raises(RuntimeError, match="no search space"):
        make().suggest("t")
    with pytest.raises(RuntimeError, match="needs metric and mode"):
        make(space=SPACE).suggest("t")
    with pytest.raises(ValueError, match="mode must be"):
        make(mode="maximise")
    with pytest.raises(ValueError, match="needs mode"):
        make().set_search_properties("loss", None, SPACE)
    assert not _ready(make).set_search_properties("loss", "min", SPACE)  # set already


def test_real_tuner_with_concurrency(make, ray_session, tmp_path):
    def trainable(config):
        return {"loss": _loss(config)}

    searcher = make()
    results = tune.Tuner(
        trainable, param_space=SPACE,
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=8, search_alg=searcher,
                                    max_concurrent_trials=2),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name=make.kind, verbose=0),
    ).fit()
    assert len(results) == 8 and not results.errors
    assert len({_key(r.config) for r in results}) == 8


def test_a_trial_it_lost_track_of_is_learned_from_its_result(make):
    searcher = _ready(make)
    _drive(searcher, 5)
    config = dict(FULL, x=-0.25, tag="v1")
    searcher.on_trial_complete("from-before-the-checkpoint", {"loss": _loss(config), "config": config})
    assert searcher.n_observations == 6
    searcher.on_trial_complete("from-before-the-checkpoint", {"loss": _loss(config), "config": config})
    if make.kind == "gp":
        assert searcher.n_observations == 6  # the same config twice is learned once
