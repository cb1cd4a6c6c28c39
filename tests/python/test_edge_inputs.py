"""Edge inputs: every container gives the same answer or a clear error naming its argument."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_same_fit

import lrtiers

SETTINGS = {"seed": 0, "epochs": 20}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        yield


def test_series_y_gives_vector_predictions(crop):
    x, y = crop
    frame = pd.DataFrame(x, columns=["temp", "rain", "hum"])
    for target in (pd.Series(y[:, 0], name="apples"), pd.Series(y[:, 0])):
        fit = lrtiers.lr_fit(frame, target, **SETTINGS)
        assert fit.y_ndim == 1 and fit.predict(frame).shape == (15,)
        assert_same_fit(fit, lrtiers.lr_fit(frame, y[:, 0], **SETTINGS))
        residual = y[:, 0] - fit.predict(frame)
        assert residual.shape == (15,)  # no silent (n, n) broadcast
    assert lrtiers.lr_fit(frame, pd.Series(y[:, 0], name="apples")).target_names == ["apples"]
    assert lrtiers.lr_fit(frame, pd.Series(y[:, 0])).target_names == ["y1"]


@pytest.mark.parametrize(
    "dtype", [np.float32, np.dtype("float32"), torch.float32, "float32", np.dtype("<f4")]
)
def test_dtype_accepts_numpy_and_torch_types(crop, dtype):
    x, y = crop
    assert_same_fit(
        lrtiers.lr_fit(x, y, dtype=dtype, **SETTINGS),
        lrtiers.lr_fit(x, y, dtype="float32", **SETTINGS),
    )


@pytest.mark.parametrize("dtype", [np.float64, float, torch.float64, np.dtype("f8")])
def test_dtype_float64_spellings(crop, dtype):
    x, y = crop
    assert lrtiers.lr_fit(x, y, dtype=dtype, **SETTINGS).settings["dtype"] == "float64"


@pytest.mark.parametrize("dtype", [np.int32, np.float16, None, "f4", object])
def test_other_dtypes_are_refused(crop, dtype):
    x, y = crop
    with pytest.raises(ValueError, match="dtype must be one of 'float64', 'float32'"):
        lrtiers.lr_fit(x, y, dtype=dtype)


def test_sparse_input_says_how_to_densify(crop):
    sparse = pytest.importorskip("scipy.sparse")
    x, y = crop
    for kind in (sparse.csr_matrix, sparse.csc_array, sparse.coo_matrix):
        with pytest.raises(TypeError, match=r"x is a scipy.sparse .*pass x.toarray\(\)"):
            lrtiers.lr_fit(kind(x), y)
    with pytest.raises(TypeError, match=r"y is a scipy.sparse"):
        lrtiers.lr_fit(x, sparse.csr_matrix(y))


def _complex_containers(x):
    z = x.astype(complex)
    yield "ndarray", z
    yield "list", z.tolist()
    yield "object ndarray", z.astype(object)
    yield "frame", pd.DataFrame(z)
    yield "object frame", pd.DataFrame(z).astype(object)
    yield "series", pd.Series(z[:, 0])
    yield "torch", torch.from_numpy(z)


@pytest.mark.parametrize("which", ["x", "y"])
def test_complex_is_refused_in_every_container(crop, which):
    x, y = crop
    for label, value in _complex_containers(x if which == "x" else y):
        args = (value, y) if which == "x" else (x, value)
        with pytest.raises(TypeError, match=rf"^{which} must"):
            lrtiers.lr_fit(*args)
        assert label  # every container was tried


def test_object_columns_of_numbers_are_read_like_object_arrays(crop):
    x, y = crop
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    mixed = frame.astype({"b": object})
    mixed.loc[3, "b"] = int(mixed.loc[3, "b"])  # ints and floats mixed in one column
    reference = lrtiers.lr_fit(frame, y, **SETTINGS)
    assert_same_fit(lrtiers.lr_fit(mixed, y, **SETTINGS), reference)
    assert_same_fit(lrtiers.lr_fit(x.astype(object), y, **SETTINGS), reference)
    texts = frame.astype({"c": str})
    with pytest.raises(TypeError, match="non-numeric column.*'c'"):
        lrtiers.lr_fit(texts, y)
    with pytest.raises(TypeError, match="x must be numeric.*str"):
        lrtiers.lr_fit(x.astype(str).astype(object), y)
    flags = frame.astype({"a": object})
    flags["a"] = [True] * 15
    with pytest.raises(TypeError, match="non-numeric column.*'a'"):
        lrtiers.lr_fit(flags, y)
    missing = frame.astype({"a": object})
    missing.loc[2, "a"] = None
    with pytest.raises(ValueError, match="x contains 1 non-finite value"):
        lrtiers.lr_fit(missing, y)


def test_masked_values_are_an_error(crop):
    x, y = crop
    with pytest.raises(ValueError, match=r"x has 2 masked value\(s\)"):
        lrtiers.lr_fit(_mask(x, 2), y)
    with pytest.raises(ValueError, match=r"y has 1 masked value"):
        lrtiers.lr_fit(x, _mask(y, 1))
    # a masked array with nothing masked is its data
    assert_same_fit(
        lrtiers.lr_fit(np.ma.masked_array(x), y, **SETTINGS), lrtiers.lr_fit(x, y, **SETTINGS)
    )


def _mask(a, k):
    mask = np.zeros(a.shape, dtype=bool)
    mask.flat[:k] = True
    return np.ma.masked_array(a, mask=mask)


@pytest.mark.parametrize(
    "names, error, match",
    [
        ("abc", TypeError, "feature_names must be a list of 3 strings"),
        (["a", "b"], ValueError, "feature_names must have 3 entries"),
        (["a", "a", "b"], ValueError, "feature_names must be unique; repeated: 'a'"),
        ([1, 2, 3], TypeError, "feature_names must hold strings"),
        (5, TypeError, "feature_names must be a list"),
    ],
)
def test_feature_names_are_checked(crop, names, error, match):
    x, y = crop
    with pytest.raises(error, match=match):
        lrtiers.lr_fit(x, y, feature_names=names)


def test_duplicate_frame_columns_are_refused(crop):
    x, y = crop
    frame = pd.DataFrame(x, columns=["a", "b", "a"])
    with pytest.raises(ValueError, match="column names of x must be unique"):
        lrtiers.lr_fit(frame, y)
    with pytest.raises(ValueError, match="target_names must be unique"):
        lrtiers.lr_fit(x, y, target_names=["u", "u"])


def test_threads_are_bounded(crop):
    x, y = crop
    with pytest.raises(ValueError, match=r"threads must be at most \d+, the CPUs of this machine"):
        lrtiers.lr_fit(x, y, threads=4096)
    with pytest.raises(ValueError, match="threads must be >= 1"):
        lrtiers.lr_fit(x, y, threads=0)


def test_errors_name_their_argument(crop):
    x, y = crop
    with pytest.raises(TypeError, match=r"init\['weight'\] must be numeric"):
        lrtiers.lr_fit(x, y, init={"weight": [["a", 1, 2], [1, 2, 3]]})
    with pytest.raises(ValueError, match=r"init\['bias'\] must hold finite numbers"):
        lrtiers.lr_fit(x, y, init={"weight": np.zeros((2, 3)), "bias": [np.nan, 1.0]})
    with pytest.raises(ValueError, match="x holds a number too large for float64"):
        lrtiers.lr_fit(np.array([[10**400, 1, 2]] * 15, dtype=object), y)
    with pytest.raises(ValueError, match="lr must be finite"):
        lrtiers.lr_fit(x, y, lr=10**400)
    with pytest.raises(ValueError, match="seed must be below 2"):
        lrtiers.lr_fit(x, y, seed=10**30)
    with pytest.raises(TypeError, match="^y must be numeric"):
        lrtiers.lr_fit(x, [["a", "b"]] * 15)
