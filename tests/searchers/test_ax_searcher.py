"""AxSearcher's own translation to Ax; the Searcher contract it shares with GPEISearcher is in test_contract.py."""

import pytest
from ray import tune

from searchers import AxSearcher


def test_ax_sees_grids_as_integer_ranges_and_never_sees_single_values():
    space = {"n": tune.qlograndint(8, 512, 8), "lr": tune.loguniform(1e-4, 1e-1), "act": tune.choice([None, "relu"]),
             "one": tune.randint(3, 4), "tag": "v1"}
    searcher = AxSearcher(seed=0, space=space, metric="loss", mode="min")
    parameters = searcher._client._experiment.search_space.parameters
    assert sorted(parameters) == ["p0", "p1", "p2"]  # "one" has one value: kept from Ax
    assert (parameters["p0"].lower, parameters["p0"].upper, parameters["p0"].log_scale) == (1, 64, True)
    assert parameters["p1"].log_scale and parameters["p2"].values == ["0", "1"]


def test_many_pending_trials_make_tune_wait_instead_of_crashing():
    searcher = AxSearcher(seed=0, space={"x": tune.uniform(0, 1), "y": tune.uniform(0, 1)}, metric="loss", mode="min")
    first = [searcher.suggest(str(i)) for i in range(8)]  # Ax's Sobol step wants data after 5
    given = [c for c in first if c is not None]
    assert 5 <= len(given) < 8 and first[len(given):] == [None] * (8 - len(given))
    for i, config in enumerate(given):
        searcher.on_trial_complete(str(i), {"loss": (config["x"] - 0.3) ** 2 + config["y"]})
    assert isinstance(searcher.suggest("next"), dict)  # with data, Ax goes on


@pytest.mark.slow  # about a minute: Ax fits a BoTorch model for each suggestion after the first
def test_a_used_up_finite_space_finishes():
    from ray.tune.search import Searcher

    searcher = AxSearcher(seed=0, space={"k": tune.randint(0, 3)}, metric="loss", mode="min")
    seen = []
    for i in range(5):
        config = searcher.suggest(str(i))
        if config is Searcher.FINISHED:
            break
        assert config is not None
        seen.append(config["k"])
        searcher.on_trial_complete(str(i), {"loss": float(config["k"])})
    assert sorted(seen) == [0, 1, 2] and config is Searcher.FINISHED
