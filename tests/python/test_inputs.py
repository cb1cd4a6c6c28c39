"""Inputs arrive in many layouts and give the same bits; bad input gets a clear error."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_same_fit

import lrtiers

SETTINGS = dict(seed=3, epochs=30, lr=1e-5)


@pytest.fixture(scope="module")
def reference_fit(crop):
    x, y = crop
    return lrtiers.lr_fit(np.ascontiguousarray(x), y, **SETTINGS)


@pytest.mark.parametrize(
    "layout",
    ["fortran", "readonly_view", "int", "int32", "pandas", "lists", "torch", "transposed_view"],
)
@pytest.mark.parametrize("tier", ["numpy", "module"])
def test_layouts_give_the_same_bits(crop, layout, tier):
    x, y = crop
    ref = lrtiers.lr_fit(np.ascontiguousarray(x), y, tier=tier, **SETTINGS)
    if layout == "fortran":
        xin = np.asfortranarray(x)
    elif layout == "readonly_view":  # how an R matrix arrives through reticulate
        xin = np.asfortranarray(x)
        xin.setflags(write=False)
    elif layout == "int":
        xin = x.astype(np.int64)
    elif layout == "int32":
        xin = x.astype(np.int32)
    elif layout == "pandas":
        xin = pd.DataFrame(x, columns=["temp", "rainfall", "humidity"])
    elif layout == "lists":
        xin = x.tolist()
    elif layout == "torch":
        xin = torch.from_numpy(x)
    else:
        xin = np.ascontiguousarray(x.T).T
    fit = lrtiers.lr_fit(xin, y, tier=tier, **SETTINGS)
    assert_same_fit(fit, ref)
    if layout == "readonly_view":
        assert not xin.flags.writeable  # the caller's data is never written to


def test_standardize_does_not_touch_caller_data(crop):
    x, y = crop
    before = x.copy()
    lrtiers.lr_fit(x, y, standardize=True, epochs=2, seed=0)
    np.testing.assert_array_equal(x, before)


def test_pandas_names_are_kept_and_used_by_predict(crop):
    frame = lrtiers.datasets.crop_yields(as_frame=True)
    fit = lrtiers.lr_fit(
        frame[["temp", "rainfall", "humidity"]],
        frame[["apples", "oranges"]],
        epochs=2000,
        standardize=True,
        seed=0,
    )
    assert fit.feature_names == ["temp", "rainfall", "humidity"]
    assert fit.target_names == ["apples", "oranges"]
    shuffled = frame[["humidity", "temp", "rainfall"]]
    np.testing.assert_allclose(
        fit.predict(shuffled), fit.predict(frame[["temp", "rainfall", "humidity"]])
    )
    with pytest.raises(ValueError, match="missing column"):
        fit.predict(frame[["temp", "rainfall"]])


def test_y_vector_and_column_mean_one_output(crop):
    x, y = crop
    a = lrtiers.lr_fit(x, y[:, 0], **SETTINGS)
    b = lrtiers.lr_fit(x, y[:, [0]], **SETTINGS)
    c = lrtiers.lr_fit(x, pd.Series(y[:, 0], name="apples"), **SETTINGS)
    assert_same_fit(a, b)
    assert_same_fit(a, c)
    assert c.target_names == ["apples"]


BAD = [
    (dict(x=[[1.0, np.nan], [2, 3], [4, 5]]), ValueError, r"x contains 1 non-finite value.*row"),
    (dict(y=[1.0, np.inf, 3]), ValueError, r"y contains 1 non-finite"),
    (dict(x=np.array([["a", "b"], ["c", "d"], ["e", "f"]])), TypeError, r"x must be numeric"),
    (
        dict(x=pd.DataFrame({"a": [1.0, 2, 3], "s": ["u", "v", "w"]})),
        TypeError,
        r"non-numeric column.*'s'",
    ),
    (
        dict(x=np.array([[True, False], [True, True], [False, False]])),
        TypeError,
        r"x must be numeric.*boolean",
    ),
    (dict(y=[1.0, 2.0]), ValueError, r"same number of rows; got 3 and 2"),
    (dict(x=np.zeros((0, 2)), y=np.zeros(0)), ValueError, r"x is empty"),
    (dict(x=np.zeros((3, 0))), ValueError, r"x has no columns"),
    (dict(x=np.zeros((3, 2, 2))), ValueError, r"x must be 1-D .* or 2-D"),
    (
        dict(tier="sklearn"),
        ValueError,
        r"tier must be one of 'numpy', 'autograd', 'optim', 'module', 'dataloader'; got 'sklearn'",
    ),
    (dict(lr=0), ValueError, r"lr must be a number > 0 or 'auto'; got 0"),
    (dict(lr=-1e-3), ValueError, r"lr must be a number > 0"),
    (dict(lr="fast"), ValueError, r"lr must be a number > 0 or 'auto'; got 'fast'"),
    (dict(lr=float("nan")), ValueError, r"lr must be finite"),
    (dict(epochs=-1), ValueError, r"epochs must be >= 0; got -1"),
    (dict(epochs=2.5), TypeError, r"epochs must be a whole number"),
    (dict(epochs=True), TypeError, r"epochs must be a whole number"),
    (dict(batch_size=0), ValueError, r"batch_size must be >= 1; got 0"),
    (dict(seed=-3), ValueError, r"seed must be >= 0"),
    (dict(seed=2**40), ValueError, r"seed must be below 2\*\*32"),
    (dict(dtype="float16"), ValueError, r"dtype must be one of 'float64', 'float32'"),
    (dict(init="random"), ValueError, r"init must be one of 'default', 'zeros'"),
    (dict(init={"weight": [[1.0]]}), ValueError, r"init\['weight'\] must have shape \(1, 2\)"),
    (dict(init={"w": [[1.0, 2.0]]}), ValueError, r"init as a dict must have key 'weight'"),
    (
        dict(init={"weight": [[1.0, 2.0]], "bias": [1.0]}, intercept=False),
        ValueError,
        r"bias.*must be zero",
    ),
    (dict(device="tpu"), ValueError, r"device must be 'cpu' or 'cuda'"),
    (dict(validation=1.5), ValueError, r"validation must be a fraction strictly between 0 and 1"),
    (dict(validation=0.99), ValueError, r"validation=0.99 leaves 0 of 3 rows for training"),
    (dict(validation=([[1.0]], [1.0])), ValueError, r"validation data must have 2 columns"),
    (dict(tol=-1), ValueError, r"tol must be >= 0"),
    (dict(threads=0), ValueError, r"threads must be >= 1"),
    (dict(shuffle="yes"), TypeError, r"shuffle must be True or False"),
    (dict(intercept=1), TypeError, r"intercept must be True or False"),
    (dict(standardize="yes"), TypeError, r"standardize must be True or False"),
    (dict(callback=42), TypeError, r"callback must be a function"),
    (dict(precondition="whiten"), ValueError, r"precondition must be one of 'orthogonal'"),
    (dict(optimizer="rmsprop"), ValueError, r"optimizer must be one of 'sgd', 'momentum'"),
    (dict(schedule="cosine"), ValueError, r"schedule must be one of 'auto', 'constant'"),
    (dict(momentum=1.0, optimizer="momentum"), ValueError, r"momentum must be a number in"),
    (dict(momentum=0.5), ValueError, r"momentum=0.5 applies to optimizer 'momentum' or"),
    (
        dict(optimizer="lbfgs", tier="numpy"),
        ValueError,
        r"tier 'numpy' has no optimizer 'lbfgs' .* use tier 'optim' or 'module' or 'dataloader'",
    ),
    (dict(optimizer="lbfgs", batch_size=2), ValueError, r"'lbfgs' needs full batches"),
    (dict(alias_tol=1.0), ValueError, r"alias_tol must be a number in \[0, 1\)"),
    (dict(stop_when_converged=1), TypeError, r"stop_when_converged must be True or False"),
    (dict(epoch=10), TypeError, r"unknown setting 'epoch' \(did you mean 'epochs'\?\)"),
    (dict(x=np.zeros((3, 2)), intercept=False), ValueError, r"every column of x is zero"),
    (dict(feature_names=["a"]), ValueError, r"feature_names must have 2 entries"),
]


@pytest.mark.parametrize("change, error, message", BAD)
def test_bad_input_is_named(change, error, message):
    args = dict(x=[[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]], y=[1.0, 2.0, 3.0])
    args.update(change)
    x, y = args.pop("x"), args.pop("y")
    with pytest.raises(error, match=message):
        lrtiers.lr_fit(x, y, **{"epochs": 1, **args})


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match=r"device='cuda' needs a CUDA GPU, but none is available"):
        lrtiers.lr_fit([[1.0], [2.0]], [1.0, 2.0], device="cuda")


def test_numpy_tier_refuses_the_gpu():
    if not torch.cuda.is_available():
        pytest.skip("needs a GPU")
    with pytest.raises(ValueError, match="tier='numpy' runs on the CPU only"):
        lrtiers.lr_fit([[1.0], [2.0]], [1.0, 2.0], device="cuda", tier="numpy")


def test_predict_checks_columns(crop):
    x, y = crop
    fit = lrtiers.lr_fit(x, y, epochs=1, seed=0)
    with pytest.raises(ValueError, match="x must have 3 column"):
        fit.predict(np.ones((2, 2)))
    assert fit.predict([75, 63, 44]).shape == (1, 2)


def _meta():
    return torch.ones(15, 3, device="meta")


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda x: torch.tensor(x).to(torch.complex64), TypeError, r"x must be numeric.*complex"),
        (lambda x: torch.tensor(x).to_sparse(), TypeError, r"x is a sparse torch tensor.*to_dense"),
        (
            lambda x: torch.quantize_per_tensor(
                torch.tensor(x, dtype=torch.float32), 0.1, 0, torch.quint8
            ),
            TypeError,
            r"x is a quantized torch tensor.*dequantize",
        ),
        (lambda x: _meta(), ValueError, r"x is a torch tensor on the 'meta' device"),
        (lambda x: np.ones(x.shape) + 1j, TypeError, r"x must be numeric.*complex numbers"),
        (lambda x: x.astype(str), TypeError, r"x must be numeric.*text \(strings\)"),
        (lambda x: [["a", "b", "c"]] * 15, TypeError, r"x must be numeric.*text \(strings\)"),
        (lambda x: x.astype(bytes), TypeError, r"x must be numeric.*bytes"),
        (
            lambda x: np.full(x.shape, np.datetime64("2026-01-01")),
            TypeError,
            r"x must be numeric.*dates or times",
        ),
        (lambda x: np.zeros(15, dtype=[("a", "f8"), ("b", "f8")]), TypeError, r"named fields"),
        (lambda x: [[1.0, 2.0, 3.0]] * 14 + [[1.0]], ValueError, r"x has rows of different"),
        (lambda x: {"a": x[:, 0]}, TypeError, r"x must be array-like.*a dict.*DataFrame"),
        (lambda x: None, TypeError, r"x must be array-like.*got None"),
        (lambda x: "x.csv", TypeError, r"x must be array-like.*got a str"),
        (lambda x: (row for row in x), TypeError, r"x must be array-like.*got a generator"),
    ],
)
def test_every_input_type_gets_a_message_in_lrtiers_words(crop, make, error, message):
    """Errors from NumPy or torch (e.g. torch's 'Got unsupported ScalarType') are not the
    user's language: each input type gets one that names the argument and what to do."""
    x, y = crop
    fit = lrtiers.lr_fit(x, y, seed=0)
    with pytest.raises(error, match=message):
        lrtiers.lr_fit(make(x), y)
    with pytest.raises(error, match=message):
        fit.predict(make(x))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float8_e4m3fn])
def test_half_precision_tensors_are_read_exactly(crop, dtype):
    """NumPy has no bfloat16 or float8: float32 holds every value of them exactly."""
    x, y = crop
    half = torch.tensor(x).to(dtype)
    exact = half.to(torch.float64).numpy()
    assert_same_fit(
        lrtiers.lr_fit(half, y, seed=0, epochs=3), lrtiers.lr_fit(exact, y, seed=0, epochs=3)
    )
    fit = lrtiers.lr_fit(x, y, seed=0)
    np.testing.assert_array_equal(fit.predict(half), fit.predict(exact))
    with pytest.raises(TypeError, match=r"y must be numeric.*boolean"):
        lrtiers.lr_fit(x, torch.tensor(y) > 60)
