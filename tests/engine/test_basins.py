"""Another basin (``EngineOptions.basin_box``): the hill-valley test on the model's mean, and the engine
descending a basin it left once its best has stopped moving."""

import numpy as np
import pytest

from searchers import basins
from searchers.engine import BOEngine
from searchers.options import EngineOptions
from searchers.space import FloatParam, SearchSpace

SPACE = SearchSpace((FloatParam(("a",), 0.0, 1.0), FloatParam(("b",), 0.0, 1.0)))
A, B = np.array([0.2, 0.2]), np.array([0.8, 0.7])  # two bumps; A the higher


def _two_bumps(U):
    U = np.atleast_2d(U)
    return 1.0 * np.exp(-((U - A) ** 2).sum(1) / 0.01) + 0.9 * np.exp(-((U - B) ** 2).sum(1) / 0.01)


class _Mean:
    """A stand-in posterior whose mean is a known function."""

    def __init__(self, f):
        self.f = f

    def predict(self, U):
        return self.f(U), np.ones(len(U))


def test_settled_means_the_best_stopped_moving():
    assert not basins.settled(np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    assert basins.settled(np.array([0.0, 0.5, 1.0, 0.2, 0.3, 1.0005, 0.1, 0.9]))
    assert not basins.settled(np.array([0.0, 1.0, 0.5]))  # too few to say


def test_a_valley_separates_the_other_bump_and_a_flank_does_not():
    X = np.array([A, A + 0.05, B - 0.06, [0.5, 0.95]])
    y = _two_bumps(X)
    assert basins.other_basin_best(_Mean(_two_bumps), X, y, scale=0.3) == 2  # B's point, not A's flank
    one = _Mean(lambda U: np.exp(-((np.atleast_2d(U) - A) ** 2).sum(1) / 0.5))
    assert basins.other_basin_best(one, X, one.f(X), scale=0.3) is None


def test_in_box_keeps_the_acquisition_inside_only():
    box = basins.InBox(lambda U: np.full(len(U), 2.0), centre=np.array([0.5, 0.5]), half=0.1)
    assert box(np.array([[0.55, 0.45], [0.7, 0.5]])).tolist() == [2.0, basins.OUTSIDE]


@pytest.mark.parametrize("box", [0.0, 0.15])
def test_a_settled_engine_descends_the_basin_it_left(box):
    engine = BOEngine(SPACE, seed=0, options=EngineOptions(n_initial=5, basin_box=box, hyper_samples=0))
    rng = np.random.default_rng(0)
    far = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.45], [0.0, 0.0]]  # where both bumps are nil
    points = [B + [0.05, -0.04], A, *(A + rng.normal(0, 0.02, (13, 2)))]  # B's flank, then A's best and around it
    for u in [*far, *points]:
        u = np.clip(u, 0, 1)
        engine.observe(u, float(_two_bumps(u)[0]))
    u = engine.propose()
    near_b = np.abs(u - points[0]).max() <= 0.15
    assert near_b == (box > 0)
