"""LRFit: plain data, the JSON file format, predictions."""

import json
import math

import numpy as np
import pytest
from conftest import assert_same_bits, assert_same_fit

import lrtiers


def _plain_only(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_only(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


@pytest.fixture(scope="module")
def fit(crop):
    x, y = crop
    return lrtiers.lr_fit(
        x, y, tier="dataloader", batch_size=4, validation=0.2, seed=8, epochs=50, standardize=True
    )


def test_to_dict_is_plain_python(fit):
    d = fit.to_dict()
    assert _plain_only(d)
    assert d["format"] == "lrtiers-fit" and d["format_version"] == 2
    for key in (
        "weight",
        "bias",
        "initial_loss",
        "loss",
        "history",
        "epochs_run",
        "converged",
        "tier",
        "settings",
        "versions",
        "device",
        "elapsed",
        "optimum",
        "lr",
        "lr_max",
    ):
        assert key in d
    assert set(d["versions"]) >= {"python", "numpy", "torch", "lrtiers"}
    assert d["settings"]["seed"] == 8 and d["settings"]["validation"] == 0.2
    assert set(d["history"]) == {"epoch", "loss", "grad_norm", "val_loss"}


def test_save_and_load_keep_every_bit(fit, tmp_path):
    path = tmp_path / "fit.json"
    fit.save(path)
    back = lrtiers.load_fit(path)
    assert_same_fit(back, fit)
    assert_same_bits(back.xtx_inv, fit.xtx_inv)
    assert back.to_dict() == fit.to_dict()
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


def test_extreme_floats_keep_their_bits_through_save_and_load(fit, tmp_path):
    """LRFit.save and load_fit (not just the json module): subnormals, the largest double,
    neighbours of 1 and -0.0 in the coefficients and the history come back bit for bit."""
    rng = np.random.default_rng(0)
    extreme = fit.to_dict()
    values = np.concatenate(
        [
            rng.standard_normal(500) * 10.0 ** rng.integers(-300, 300, 500),
            [np.nextafter(1.0, 2.0), 5e-324, 1.7976931348623157e308, -0.0],
        ]
    )
    n = len(values)
    extreme["history"] = {
        "epoch": list(range(1, n + 1)),
        "loss": np.abs(values).tolist(),
        "grad_norm": np.abs(values[::-1]).tolist(),
        "val_loss": np.abs(values).tolist(),
    }
    extreme["epochs_run"] = n
    weight = np.vstack([values[:3], values[-3:]])  # 5e-324, 1.79e308, -0.0 in row 2
    extreme["weight"] = weight.tolist()
    original = lrtiers.LRFit.from_dict(extreme)
    path = tmp_path / "extreme.json"
    original.save(path)
    back = lrtiers.load_fit(path)
    assert_same_bits(back.weight, weight)
    assert_same_bits(back.history["loss"], np.abs(values))
    assert_same_bits(back.history["grad_norm"], np.abs(values[::-1]))
    assert math.copysign(1.0, back.weight[1, 2]) == -1.0


def test_from_dict_predicts_without_the_original(fit, crop):
    x, _ = crop
    again = lrtiers.LRFit.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert_same_bits(again.predict(x), fit.predict(x))


def test_rejects_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "something"}')
    with pytest.raises(ValueError, match="not an lrtiers fit"):
        lrtiers.load_fit(path)
    path.write_text('{"format": "lrtiers-fit", "format_version": 99}')
    with pytest.raises(ValueError, match="newer than this lrtiers reads"):
        lrtiers.load_fit(path)


def test_history_frame_and_repr(fit):
    frame = fit.history_frame()
    assert list(frame.columns) == ["epoch", "loss", "grad_norm", "val_loss"]
    assert len(frame) == fit.epochs_run == 50
    assert all(math.isfinite(v) for v in frame["loss"])
    assert "tier='dataloader'" in repr(fit)


def test_defaults_are_the_signature():
    import inspect

    sig = inspect.signature(lrtiers.lr_fit)
    d = lrtiers.defaults()
    assert d["tiers"] == list(lrtiers.TIERS)
    for name, value in d["defaults"].items():
        assert sig.parameters[name].default == value


def test_predict_gives_the_same_bits_in_every_layout_across_chunks():
    """predict() reads x in C-ordered row chunks: an R (column-major) matrix, a C array and
    a pandas frame give the same bits, over several chunks and a short last one."""
    import pandas as pd

    from lrtiers.reference import CHUNK_ROWS

    rng = np.random.default_rng(4)
    x = rng.standard_normal((2 * CHUNK_ROWS + 7, 4))
    y = x @ np.array([[1.0, -2.0, 0.5, 3.0], [0.1, 0.2, 0.3, 0.4]]).T
    fit = lrtiers.lr_fit(x, y, epochs=2, seed=0)
    c_order = fit.predict(x)
    assert c_order.shape == (len(x), 2)
    for layout in (np.asfortranarray(x), pd.DataFrame(x, columns=fit.feature_names)):
        assert_same_bits(fit.predict(layout), c_order)
    # and what x @ W.T + b gives on the whole matrix
    assert_same_bits(x @ fit.weight.T + fit.bias, c_order)
    with pytest.raises(ValueError, match="non-finite"):
        fit.predict(np.where(np.arange(len(x))[:, None] == CHUNK_ROWS + 3, np.nan, x))
