"""AxSearcher's own translation to Ax; the Searcher contract it shares with GPEISearcher is in test_contract.py."""

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
