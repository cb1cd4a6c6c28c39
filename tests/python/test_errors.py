"""Typed errors: what went wrong is in attributes (kind, setting, rows, column), so that a
wrapper (the R package) never reads messages; rows are 0-based here."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import lrtiers
from lrtiers.errors import (
    DataError,
    DataTypeError,
    NonFiniteError,
    SettingError,
    SettingTypeError,
    StreamedValueError,
    UnknownSettingError,
)

X = np.arange(20.0).reshape(10, 2) ** 1.5
Y = X @ np.array([1.0, -2.0]) + 3.0


@pytest.mark.parametrize(
    ("settings", "cls", "setting"),
    [
        ({"epochs": -1}, SettingError, "epochs"),
        ({"epochs": 1.5}, SettingTypeError, "epochs"),
        ({"tier": "keras"}, SettingError, "tier"),
        ({"lr": "fast"}, SettingError, "lr"),
        ({"seed": 2**33}, SettingError, "seed"),
        ({"shuffle": "yes"}, SettingTypeError, "shuffle"),
        ({"optimizer": "lbfgs", "tier": "numpy"}, SettingError, "optimizer"),
        ({"standardize": True, "precondition": "none"}, SettingError, "standardize"),
        ({"init": {"weight": [[1.0, 2.0, 3.0]]}}, SettingError, "init"),
        ({"epoch": 10}, UnknownSettingError, "epoch"),
    ],
)
def test_setting_errors_name_the_setting(settings, cls, setting):
    with pytest.raises(cls) as info:
        lrtiers.lr_fit(X, Y, **settings)
    err = info.value
    assert isinstance(err, cls)
    assert err.setting == setting
    assert err.kind == ("argument" if cls is UnknownSettingError else "setting")
    assert err.rows is None
    # still the built-in classes Python callers catch
    assert isinstance(
        err, TypeError if cls in (SettingTypeError, UnknownSettingError) else ValueError
    )


def test_non_finite_rows_are_attributes_zero_based_in_python_one_based_rendered():
    x = X.copy()
    x[[3, 7], 1] = np.nan
    with pytest.raises(NonFiniteError) as info:
        lrtiers.lr_fit(x, Y)
    err = info.value
    assert err.kind == "missing" and err.rows == (3, 7) and not err.more_rows
    assert "0-based rows 3, 7" in str(err)
    assert "(rows 4, 8)" in err.render(base=1)
    assert isinstance(err, ValueError)
    many = X.copy()
    many[:, 0] = np.inf
    with pytest.raises(NonFiniteError) as info:
        lrtiers.lr_fit(many, Y)
    assert info.value.rows == (0, 1, 2, 3, 4) and info.value.more_rows
    assert "rows 1, 2, 3, 4, 5, ..." in info.value.render(base=1)


def test_weights_rows_and_data_errors():
    w = np.ones(10)
    w[[2]] = 0
    with pytest.raises(SettingError) as info:
        lrtiers.lr_fit(X, Y, weights=w)
    assert info.value.setting == "weights" and info.value.rows == (2,)
    assert "(row 3)" in info.value.render(base=1)
    with pytest.raises(DataError) as info:
        lrtiers.lr_fit(X, Y[:-1])
    assert info.value.kind == "data"
    with pytest.raises(DataTypeError) as info:
        lrtiers.lr_fit(np.array([["a", "b"]] * 10), Y)
    assert info.value.kind == "type" and isinstance(info.value, TypeError)


def test_a_non_numeric_pandas_column_is_named():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": X[:, 0], "flag": ["u"] * 10})
    with pytest.raises(DataTypeError) as info:
        lrtiers.lr_fit(frame, Y)
    assert info.value.column == "flag"


def test_the_streamed_value_error_carries_row_and_column():
    err = StreamedValueError("data.parquet", 70, "V2", float("nan"))
    assert (err.rows, err.column, err.path, err.kind) == ((70,), "V2", "data.parquet", "missing")
    assert (
        str(err)
        == "data.parquet: 0-based row 70, column 'V2' holds nan: x and y must be finite numbers"
    )
    assert err.render(base=1).startswith("data.parquet: row 71, column 'V2'")
    assert isinstance(err, NonFiniteError) and isinstance(err, ValueError)


def test_typed_errors_pickle_for_worker_processes():
    for err in (
        StreamedValueError("f.npy", 3, "V1", float("inf")),
        SettingError("epochs", "epochs must be >= 0; got -1"),
        NonFiniteError("x has NaN ({rows})", rows=[1, 2], more_rows=True),
    ):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err) and back.rows == err.rows and back.setting == err.setting


def test_init_errors_carry_the_part_and_shapes():
    from lrtiers.errors import InitError, InitTypeError

    with pytest.raises(InitError) as info:
        lrtiers.lr_fit(X, Y, init={"weight": [[1.0, 2.0, 3.0]]})
    err = info.value
    assert (err.setting, err.part, err.expected, err.got) == ("init", "weight", (1, 2), (1, 3))
    with pytest.raises(InitError) as info:
        lrtiers.lr_fit(X, Y, init={"weight": [[1.0, 2.0]], "bias": [1.0, 2.0]})
    assert (info.value.part, info.value.expected, info.value.got) == ("bias", (1,), (2,))
    with pytest.raises(InitTypeError) as info:
        lrtiers.lr_fit(X, Y, init={"weight": [["a", "b"]]})
    assert info.value.part == "weight" and isinstance(info.value, TypeError)
