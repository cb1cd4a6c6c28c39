import numpy as np
import pytest

import lrtiers


@pytest.fixture(scope="session")
def crop():
    return lrtiers.datasets.crop_yields()


@pytest.fixture(scope="session")
def well_conditioned():
    """n=200, p=3, q=2: a design every tier solves quickly (condition number ~ 2)."""
    rng = np.random.RandomState(7)
    x = rng.standard_normal((200, 3))
    w = np.array([[1.5, -2.0, 0.5], [0.3, 0.8, -1.2]])
    y = x @ w.T + np.array([1.0, -0.5]) + 0.1 * rng.standard_normal((200, 2))
    return x, y


def bits(a) -> np.ndarray:
    """float64 bit patterns, for bitwise comparisons."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64)).view(np.int64)


def assert_same_bits(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    diff = np.flatnonzero(bits(a).ravel() != bits(b).ravel())
    assert diff.size == 0, (
        f"{diff.size} values differ; first at {diff[0]}: "
        f"{a.ravel()[diff[0]]!r} vs {b.ravel()[diff[0]]!r}"
    )


def assert_same_fit(f, g):
    assert_same_bits(f.weight, g.weight)
    assert_same_bits(f.bias, g.bias)
    assert_same_bits([f.initial_loss, f.loss], [g.initial_loss, g.loss])
    assert f.history.keys() == g.history.keys()
    for key in f.history:
        assert_same_bits(f.history[key], g.history[key])
