"""The one place where lr_fit()'s inputs are checked and normalised.

Every tier sees data that went through here: C-ordered, owned, writeable arrays of the
chosen dtype with y always (n, q). Layout matters: a matmul's bits depend on it, and an
R matrix arrives as a read-only Fortran-ordered view, a pandas frame in Fortran order.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import (
    DataError,
    DataTypeError,
    InitError,
    InitTypeError,
    NonFiniteError,
    SettingError,
    SettingTypeError,
)
from .sources import Source

# ---------------------------------------------------------------------------- arrays


def _kind_error(name: str, what: str) -> TypeError:
    return DataTypeError(f"{name} must be numeric (float or integer values); got {what}")


#: What an array of each NumPy dtype kind holds, in words (kinds not read as numbers)
_DTYPE_KINDS = {
    "U": "text (strings): convert the numbers in it with float(), or encode categories "
    "as 0/1 columns",
    "S": "bytes (strings): decode them and convert the numbers in it first",
    "M": "dates or times (datetime64): convert them to numbers first (e.g. days since a start)",
    "m": "durations (timedelta64): convert them to numbers first (e.g. / np.timedelta64(1, 's'))",
    "V": "records with named fields (a structured array): pass its numeric fields as "
    "columns of a 2-D array",
}


def _torch_values(value: Any, name: str) -> Any:
    """A torch tensor's values as a NumPy array, in lrtiers' words when it has none."""
    import torch

    numpy_floats = (torch.float16, torch.float32, torch.float64)
    if value.layout != torch.strided:
        raise TypeError(
            f"{name} is a sparse torch tensor ({value.layout}); lr_fit needs dense data: pass "
            f"{name}.to_dense()"
        )
    if value.is_quantized:
        raise TypeError(
            f"{name} is a quantized torch tensor ({value.dtype}); pass {name}.dequantize()"
        )
    if value.device.type == "meta":
        raise ValueError(f"{name} is a torch tensor on the 'meta' device: it holds no values")
    value = value.detach().cpu()
    if value.dtype.is_floating_point and value.dtype not in numpy_floats:
        # bfloat16 and the float8 types: NumPy has none of them; float32 holds them exactly
        value = value.to(torch.float32)
    try:
        return value.numpy()
    except (TypeError, RuntimeError) as exc:
        raise _kind_error(name, f"a torch tensor of dtype {value.dtype} ({exc})") from None


def _to_numeric_array(value: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """Any array-like (NumPy, pandas, torch, nested lists) to a NumPy array + column names.
    A pandas Series stays 1-D (its name, if any, is the column name)."""
    names = None
    module = type(value).__module__
    if isinstance(value, Source):
        raise TypeError(
            f"{name} is a streamed source ({value.path!r}); give it as lr_fit's first argument "
            "(lr_fit(lrtiers.scan(path, x=[...], y=[...]))) or to fit.predict(source)"
        )
    if value is None or isinstance(value, (str, bytes, Mapping, AbstractSet, Iterator)):
        what = "None" if value is None else f"a {type(value).__name__}"
        if isinstance(value, Mapping):
            what += " (for named columns, pass pandas.DataFrame of it)"
        raise TypeError(
            f"{name} must be array-like (a NumPy array, a data frame, a torch tensor or a "
            f"list of rows of numbers); got {what}"
        )
    if module.startswith("scipy.sparse") or hasattr(value, "tocsr"):
        raise DataTypeError(
            f"{name} is a scipy.sparse {type(value).__name__}; lr_fit needs dense data: pass "
            f"{name}.toarray() (a dense copy: n x p numbers in memory)"
        )
    if isinstance(value, np.ma.MaskedArray):
        masked = int(np.ma.count_masked(value))
        if masked:
            raise NonFiniteError(
                f"{name} has {masked} masked value(s); fill them ({name}.filled(...)) or drop "
                "those rows first"
            )
        value = value.data
    if module.startswith("pandas"):
        import pandas as pd

        series = isinstance(value, pd.Series)
        if series:
            names = None if value.name is None else [str(value.name)]
            value = value.to_frame()
        if isinstance(value, pd.DataFrame):
            if not series:
                names = [str(c) for c in value.columns]
            value = _frame_values(value, name)
            if series:
                value = value[:, 0]
    elif module.startswith("torch") and hasattr(value, "layout"):
        value = _torch_values(value, name)
    try:
        arr = np.asarray(value)
    except ValueError as exc:
        if "inhomogeneous" in str(exc):
            raise ValueError(
                f"{name} has rows of different lengths (a ragged list): every row must have "
                "the same number of values"
            ) from None
        raise _kind_error(name, f"an object NumPy cannot read as an array ({exc})") from None
    except (TypeError, OverflowError) as exc:
        raise _kind_error(name, f"an object NumPy cannot read as an array ({exc})") from None
    if arr.dtype.kind == "O":
        arr = _object_values(arr, name)
    if arr.dtype.kind == "b":
        raise _kind_error(name, "a boolean array (convert it to 0/1 explicitly)")
    if arr.dtype.kind == "c":
        raise _kind_error(name, "complex numbers (pass the real part, .real, if that is meant)")
    if arr.dtype.kind in _DTYPE_KINDS:
        raise _kind_error(name, _DTYPE_KINDS[arr.dtype.kind])
    if arr.dtype.kind not in "fiu":
        raise _kind_error(name, f"an array of dtype {arr.dtype}")
    return arr, names


def _frame_values(frame: Any, name: str) -> np.ndarray:
    """A data frame's values as float64: numeric columns as they are, object columns of
    numbers as object arrays are read; booleans, complex numbers and text refused."""
    import pandas as pd

    bad = []
    for col, dt in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dt) or pd.api.types.is_complex_dtype(dt):
            bad.append(str(col))
        elif pd.api.types.is_object_dtype(dt):
            try:
                _object_values(frame[col].to_numpy(dtype=object), name)
            except TypeError:
                bad.append(str(col))
        elif not pd.api.types.is_numeric_dtype(dt):
            bad.append(str(col))
    if bad:
        raise DataTypeError(
            f"{name} must have numeric columns only; non-numeric column(s): "
            f"{', '.join(repr(b) for b in bad)} (encode them as numbers first)",
            column=bad[0],
        )
    if any(pd.api.types.is_object_dtype(dt) for dt in frame.dtypes):
        return _object_values(frame.to_numpy(dtype=object), name)
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


def _object_values(arr: np.ndarray, name: str) -> np.ndarray:
    """An object array of real numbers (None and pandas' NA as NaN) as float64; anything
    else (text, booleans, complex numbers) is refused."""
    kinds = {type(v) for v in arr.ravel().tolist()}
    for kind in kinds:
        if issubclass(kind, (bool, np.bool_)):
            raise _kind_error(name, "boolean values (convert them to 0/1 explicitly)")
        if issubclass(kind, (complex, np.complexfloating)):
            raise _kind_error(name, "complex numbers (pass the real part if that is meant)")
        if not (issubclass(kind, numbers.Real) or kind is type(None) or kind.__name__ == "NAType"):
            raise _kind_error(name, f"values that are not numbers ({kind.__name__})")
    try:
        values = [
            np.nan if v is None or type(v).__name__ == "NAType" else float(v)
            for v in arr.ravel().tolist()
        ]
        return np.array(values, dtype=np.float64).reshape(arr.shape)
    except OverflowError:
        raise DataError(f"{name} holds a number too large for float64") from None


def check_finite(arr: np.ndarray, name: str, first_row: int = 0) -> None:
    """A ValueError naming the (0-based) rows of a 2-D array that hold NaN or Inf, counted
    from first_row (a piece of a streamed source starts there)."""
    # row blocks: a full-size boolean mask would cost an eighth of a float64 X
    bad_rows = np.concatenate(
        [
            start + np.flatnonzero(~np.isfinite(arr[start : start + 65536]).all(axis=1))
            for start in range(0, arr.shape[0], 65536)
        ]
    )
    if bad_rows.size:
        count = int((~np.isfinite(arr[bad_rows])).sum())
        rows = first_row + bad_rows
        raise NonFiniteError(
            f"{name} contains {count} non-finite value(s) (NaN or Inf) in "
            f"{len(bad_rows)} row(s) ({{rows}}); remove or impute them first",
            rows=rows[:5].tolist(),
            more_rows=len(bad_rows) > 5,
        )


def as_matrix(
    value: Any, name: str, dtype: str, copy: bool = True
) -> tuple[np.ndarray, list[str] | None, int]:
    """value -> (C-ordered owned (n, k) array of dtype, column names or None, original ndim).
    With copy=False (read-only uses such as predict) the array may be a view in any order."""
    arr, names = _to_numeric_array(value, name)
    ndim = arr.ndim
    if ndim == 1:
        arr = arr.reshape(-1, 1)
    elif ndim != 2:
        raise DataError(f"{name} must be 1-D (n,) or 2-D (n, k); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise DataError(f"{name} is empty: it has no rows")
    if arr.shape[1] == 0:
        raise DataError(f"{name} has no columns")
    # The one normalisation copy: C order, owned, writeable, the fit's dtype.
    out = (
        np.array(arr, dtype=dtype, order="C", copy=True) if copy else arr.astype(dtype, copy=False)
    )
    check_finite(out, name)
    return out, names, ndim


@dataclass(frozen=True)
class XY:
    """Normalised training data: x (n, p), y (n, q), both C-ordered arrays of one dtype."""

    x: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    y_ndim: int  # 1 when y came as (n,): predictions then come back as (n,)


def default_names(stem: str, k: int) -> list[str]:
    return [f"{stem}{i + 1}" for i in range(k)]


def _names(
    given: Sequence[str] | None, found: list[str] | None, k: int, arg: str, stem: str, data: str
) -> list[str]:
    """Column names: given (checked: strings, unique, one per column), else found in the
    data (pandas columns, which must be unique), else x1, x2, ..."""
    if given is not None:
        if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
            raise SettingTypeError(
                arg,
                f"{arg} must be a list of {k} strings (one per column of {data}); got "
                f"{type(given).__name__} {given!r}",
            )
        names = list(given)
        if len(names) != k:
            raise SettingError(
                arg, f"{arg} must have {k} entries (one per column of {data}); got {len(names)}"
            )
        bad = [n for n in names if not isinstance(n, str)]
        if bad:
            raise SettingTypeError(
                arg, f"{arg} must hold strings; got {bad[0]!r} ({type(bad[0]).__name__})"
            )
        names = [str(n) for n in names]
    elif found is not None:
        names, arg = found, f"the column names of {data}"
    else:
        return default_names(stem, k)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        message = f"{arg} must be unique; repeated: {', '.join(map(repr, repeated))}"
        if given is not None:
            raise SettingError(arg, message)
        raise DataError(message)
    return names


def prepare_xy(
    x: Any,
    y: Any,
    dtype: str,
    feature_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    x_name: str = "x",
    y_name: str = "y",
) -> XY:
    xa, xnames, _ = as_matrix(x, x_name, dtype)
    ya, ynames, y_ndim = as_matrix(y, y_name, dtype)
    if xa.shape[0] != ya.shape[0]:
        raise DataError(
            f"{x_name} and {y_name} must have the same number of rows; "
            f"got {xa.shape[0]} and {ya.shape[0]}"
        )
    return XY(
        xa,
        ya,
        _names(feature_names, xnames, xa.shape[1], "feature_names", "x", x_name),
        _names(target_names, ynames, ya.shape[1], "target_names", "y", y_name),
        y_ndim,
    )


def prepare_new_x(x: Any, feature_names: list[str], dtype: str = "float64") -> np.ndarray:
    """New data for predict(): same columns as in training (by name for data frames). Not
    copied when it already has the dtype: predict() reads it in C-ordered row chunks."""
    if type(x).__module__.startswith("pandas") and hasattr(x, "columns"):
        by_name = {str(c): c for c in x.columns}
        missing = [n for n in feature_names if n not in by_name]
        if not missing:
            x = x[[by_name[n] for n in feature_names]]
        elif len(missing) < len(feature_names) or feature_names != default_names(
            "x", len(feature_names)
        ):
            raise DataError(f"x is missing column(s) used in the fit: {', '.join(missing)}")
    arr, _, ndim = as_matrix(x, "x", dtype, copy=False)
    p = len(feature_names)
    if ndim == 1 and p > 1 and arr.shape[0] == p:
        arr = arr.reshape(1, p)  # one new observation given as a vector
    if arr.shape[1] != p:
        raise DataError(f"x must have {p} column(s) like the training data; got {arr.shape[1]}")
    return arr


def source_feature_columns(source: Source, feature_names: list[str]) -> list[int]:
    """Where a fit's features are among a streamed source's x columns (by name; by position
    when the fit has the default names x1.. and the source none of them, as for arrays)."""
    have = list(source.feature_names)
    missing = [n for n in feature_names if n not in have]
    if not missing:
        return [have.index(n) for n in feature_names]
    p = len(feature_names)
    if len(missing) == p and feature_names == default_names("x", p) and len(have) == p:
        return list(range(p))
    raise ValueError(
        f"the source's x columns ({', '.join(have)}) lack column(s) used in the fit: "
        f"{', '.join(missing)}; scan the file with x=[{', '.join(map(repr, feature_names))}]"
    )


def check_weights(weights: Any, n: int) -> np.ndarray:
    """lr_fit(weights=): (n,) positive finite float64 (lm()'s zero weights are not taken:
    drop those rows instead)."""
    arr, _ = _to_numeric_array(weights, "weights")
    if arr.ndim != 1 or arr.shape[0] != n:
        raise SettingError(
            "weights",
            f"weights must be a vector of {n} numbers (one per row); got shape {arr.shape}",
        )
    arr = arr.astype(np.float64)
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        raise SettingError(
            "weights",
            f"weights must be positive and finite; {bad.size} are not ({{rows}}); "
            "drop rows of weight 0 instead",
            rows=bad[:5].tolist(),
            more_rows=bad.size > 5,
        )
    return arr


def check_init(
    init: dict, p: int, q: int, intercept: bool, dtype: str
) -> tuple[np.ndarray, np.ndarray]:
    """An explicit init dict -> (weight (q, p), bias (q,)) float64 arrays, checked."""
    weight = _init_array(init["weight"], "weight")
    if weight.ndim == 1 and q == 1:
        weight = weight.reshape(1, -1)
    if weight.shape != (q, p):
        raise InitError(
            "weight",
            f"init['weight'] must have shape ({q}, {p}); got {weight.shape}",
            expected=(q, p),
            got=weight.shape,
        )
    bias = init.get("bias")
    if bias is None:
        bias = np.zeros(q)
    bias = _init_array(bias, "bias").reshape(-1)
    if bias.shape != (q,):
        raise InitError(
            "bias", f"init['bias'] must have shape ({q},); got {bias.shape}", (q,), bias.shape
        )
    if not intercept and np.any(bias != 0):
        raise InitError("bias", "init['bias'] must be zero (or left out) when intercept=False")
    for part, values in (("weight", weight), ("bias", bias)):
        if not np.isfinite(values).all():
            raise InitError(part, f"init[{part!r}] must hold finite numbers; got {values.tolist()}")
    return weight, bias


def _init_array(value: Any, part: str) -> np.ndarray:
    try:
        arr, _ = _to_numeric_array(value, f"init[{part!r}]")
    except DataError as exc:  # a setting's value, not the data
        raise (InitTypeError if isinstance(exc, TypeError) else InitError)(part, str(exc)) from None
    return arr.astype(np.float64)
