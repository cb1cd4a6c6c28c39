"""Streamed data: ``lrtiers.scan(path, x=, y=)``, a table on disk read a chunk at a time.

A :class:`Source` holds only the path and what the file says about itself (column names,
row counts): its rows are read when asked for, by ``rows(start, stop)``, in pieces of at
most ``chunk_rows`` rows, so a file larger than memory can be fitted (lr_fit streams it
pass after pass) and predicted from. Formats: Parquet (a file, or a directory of files with
one schema), a 2-D ``.npy`` (memory-mapped) and CSV (read from the start each time).

Values are returned as read, converted to float64 (integers and booleans exactly as
NumPy's ``astype`` converts them; a Parquet/CSV null is NaN): the engine checks them per
block. ``chunk_rows`` only sets how much is read at a time: never the values.

pyarrow (Parquet, CSV) is imported on first use, so ``import lrtiers`` does not pay for it.
"""

from __future__ import annotations

import bisect
import difflib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .settings import whole

__all__ = ["DEFAULT_CHUNK_ROWS", "Source", "scan"]

#: Rows read from disk at a time when scan() is not told: 65536 rows of 100 float64
#: columns are 50 MB.
DEFAULT_CHUNK_ROWS = 65536

#: File name endings and the reader for each (a directory is read as Parquet files).
PARQUET_SUFFIXES = (".parquet", ".pq")
KINDS = {".parquet": "parquet", ".pq": "parquet", ".npy": "npy", ".csv": "csv"}

Columns = str | int | Sequence[str | int] | None


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise ImportError(
            f"reading and writing Parquet and CSV files needs pyarrow ({exc}), lrtiers' "
            "'parquet' extra: pip install \"lrtiers[parquet]\" (or pip install pyarrow)"
        ) from None
    return pyarrow


# ---------------------------------------------------------------------------- scan()


def scan(
    path: str | os.PathLike[str],
    x: Columns = None,
    y: Columns = None,
    chunk_rows: int | None = None,
) -> Source:
    """A table on disk, to be read a chunk at a time: lr_fit(scan(path, x=, y=)) fits it
    without holding it in memory, and fit.predict reads it the same way.

    ``path``: a Parquet file, a directory of Parquet files (read in name order as one table;
    they must share one schema), a 2-D ``.npy`` file (memory-mapped, never read whole) or a
    ``.csv`` file with a header line. ``x``: the feature columns, a name or a list of names
    (None: every column not in y). ``y``: the target column(s), or None (no targets: for
    prediction). A ``.npy`` file's columns are named "V1".."Vk" (as R's data.frame names a
    matrix's); x and y may also give them as 0-based column numbers. Columns must be numbers
    (integers, floats or booleans: read as float64). ``chunk_rows``: rows read at a time
    (default 65536); it sets memory use and I/O, never the values.
    """
    chunk_rows = DEFAULT_CHUNK_ROWS if chunk_rows is None else whole(chunk_rows, "chunk_rows", 1)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike); got {path!r}")
    full = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.exists(full):
        raise FileNotFoundError(f"scan(): no such file or directory: {os.fspath(path)!r}")
    source: Source
    if os.path.isdir(full):
        source = ParquetSource(full, _parquet_files(full))
    else:
        suffix = os.path.splitext(full)[1].lower()
        if suffix not in KINDS:
            raise ValueError(
                f"scan(): cannot read {os.fspath(path)!r}: expected a .parquet (or .pq), .npy "
                "or .csv file, or a directory of Parquet files"
            )
        kind = KINDS[suffix]
        if kind == "parquet":
            source = ParquetSource(full, [full])
        elif kind == "npy":
            source = NpySource(full)
        else:
            source = CsvSource(full)
    source._select(x, y, chunk_rows)
    return source


def _parquet_files(directory: str) -> list[str]:
    """A directory's Parquet files in name order (hidden and _-files, like Spark's _SUCCESS
    and _metadata, left out)."""
    names = sorted(
        name
        for name in os.listdir(directory)
        if name.lower().endswith(PARQUET_SUFFIXES) and not name.startswith((".", "_"))
    )
    if not names:
        raise ValueError(f"scan(): directory {directory!r} has no .parquet files")
    return [os.path.join(directory, name) for name in names]


def _names_list(value: Columns, what: str) -> list[str | int] | None:
    if value is None:
        return None
    if isinstance(value, (str, int, np.integer)) and not isinstance(value, bool):
        return [value if isinstance(value, str) else int(value)]
    if isinstance(value, Sequence) or isinstance(value, np.ndarray):
        out: list[str | int] = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                out.append(int(item))
            else:
                raise TypeError(f"{what} must name columns (strings); got {item!r} in {what}")
        return out
    raise TypeError(f"{what} must be a column name or a list of column names; got {value!r}")


# ---------------------------------------------------------------------------- Source


class Source:
    """Columns of a table on disk, read in pieces (see the module docstring).

    Attributes: ``path`` (absolute), ``kind`` ("parquet", "npy" or "csv"),
    ``feature_names``, ``target_names``, ``n_rows``, ``chunk_rows``. Pickles to its path and
    metadata (files are reopened on first use), so it can be sent to worker processes.
    """

    kind: str = ""

    def __init__(self, path: str) -> None:
        self.path = path
        self.feature_names: list[str] = []
        self.target_names: list[str] = []
        self.n_rows = 0
        self.chunk_rows = DEFAULT_CHUNK_ROWS
        self.columns: list[str] = []  # every column of the file, in order
        self._handles: dict[str, Any] = {}  # open files, not pickled

    # -- what subclasses provide -------------------------------------------------------

    def _read(self, start: int, stop: int) -> Iterator[np.ndarray]:
        """Rows [start, stop) of the selected columns (features, then targets) as float64
        (m, p + q) pieces, 1 <= m <= chunk_rows, freshly allocated."""
        raise NotImplementedError

    def _column_kinds(self) -> dict[str, str | None]:
        """Each column's type: None when numeric, else its name (for the error)."""
        raise NotImplementedError

    # -- the interface -----------------------------------------------------------------

    def pieces(self, start: int, stop: int) -> Iterator[np.ndarray]:
        """Rows [start, stop) in file order, as consecutive (m, p + q) pieces, the features
        then the targets: float64, freshly allocated, 1 <= m <= chunk_rows (what the
        streaming engine reads: x and y of a row together)."""
        start = whole(start, "start", 0, self.n_rows)
        stop = whole(stop, "stop", start, self.n_rows)
        return self._read(start, stop)

    def rows(self, start: int, stop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Rows [start, stop) in file order, as consecutive pieces (x (m, p), y (m, q)):
        float64, C-contiguous, freshly allocated, 1 <= m <= chunk_rows."""
        p = len(self.feature_names)
        for block in self.pieces(start, stop):
            yield np.array(block[:, :p], order="C"), np.array(block[:, p:], order="C")

    def describe(self) -> dict[str, Any]:
        """The record of the data kept in a fit file."""
        return {
            "path": self.path,
            "kind": self.kind,
            "n_rows": self.n_rows,
            "x": list(self.feature_names),
            "y": list(self.target_names),
        }

    def __repr__(self) -> str:
        y = ", ".join(self.target_names) or "(none)"
        x = ", ".join(self.feature_names[:6]) + (
            f", ... ({len(self.feature_names)} columns)" if len(self.feature_names) > 6 else ""
        )
        return f"<lrtiers.Source {self.kind} {self.path!r}: {self.n_rows} rows; y: {y}; x: {x}>"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- choosing columns --------------------------------------------------------------

    def _column(self, name: str | int, what: str) -> str:
        if isinstance(name, int):
            if self.kind != "npy":
                raise TypeError(
                    f"{what} must name columns of {self.path!r} by name; got the number "
                    f"{name} (numbers are for .npy files)"
                )
            if not 0 <= name < len(self.columns):
                raise ValueError(
                    f"{what}: column {name} is out of range for {self.path!r}, which has "
                    f"{len(self.columns)} columns (0-based numbers 0..{len(self.columns) - 1}, "
                    f"or names V1..V{len(self.columns)})"
                )
            return self.columns[name]
        if name not in self.columns:
            close = difflib.get_close_matches(name, self.columns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = ", ".join(map(repr, self.columns[:30]))
            more = f", ... ({len(self.columns)} in all)" if len(self.columns) > 30 else ""
            raise ValueError(
                f"{what}: {self.path!r} has no column {name!r}{hint}; its columns are: "
                f"{shown}{more}"
            )
        return name

    def _select(self, x: Columns, y: Columns, chunk_rows: int) -> None:
        given_y = _names_list(y, "y")
        given_x = _names_list(x, "x")
        targets = [self._column(n, "y") for n in given_y or []]
        if given_x is None:
            features = [c for c in self.columns if c not in targets]
        else:
            features = [self._column(n, "x") for n in given_x]
        for what, names in (("x", features), ("y", targets)):
            seen = {n for n in names if names.count(n) > 1}
            if seen:
                raise ValueError(f"{what} names column(s) {sorted(seen)} more than once")
        both = [n for n in features if n in targets]
        if both:
            raise ValueError(f"column(s) {both} are in both x and y; a column is one or the other")
        if not features:
            raise ValueError(f"x names no columns of {self.path!r}: nothing to fit or predict from")
        if self.n_rows == 0:
            raise ValueError(f"{self.path!r} has no rows: there is nothing to read")
        kinds = self._column_kinds()
        for name in features + targets:
            if kinds[name] is not None:
                raise TypeError(
                    f"column {name!r} of {self.path!r} is {kinds[name]}; lrtiers reads numbers "
                    "only (integers, floats or booleans)"
                )
        self.feature_names, self.target_names = features, targets
        self.chunk_rows = chunk_rows


# ---------------------------------------------------------------------------- Parquet


def _arrow_kind(dtype: Any) -> str | None:
    """None for the types read as numbers, else the type's name."""
    types = _pyarrow().types
    # a column with no values at all (Arrow's null type) reads as NaN, like any null
    numeric = (types.is_integer, types.is_floating, types.is_boolean, types.is_null)
    if any(is_kind(dtype) for is_kind in numeric):
        return None
    return f"of type {dtype}"


def _arrow_block(batch: Any, names: list[str]) -> np.ndarray:
    """A record batch's columns as one (m, k) float64 array (a null is NaN)."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    out = np.empty((batch.num_rows, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        column = batch.column(name)
        if column.type != pa.float64():
            # safe=False: a 64-bit integer beyond 2**53 rounds, as NumPy's astype does
            column = pc.cast(column, pa.float64(), safe=False)
        out[:, j] = column.to_numpy(zero_copy_only=False)
    return out


class ParquetSource(Source):
    """One Parquet file or several with one schema, indexed by row group: reading from row
    `start` opens the row group that holds it, none before."""

    kind = "parquet"

    def __init__(self, path: str, files: list[str]) -> None:
        super().__init__(path)
        pq = self._pq()
        self.files = files
        # row_group_starts[f][g]: the global row where row group g of file f begins
        self.file_starts: list[int] = []
        self.row_group_starts: list[list[int]] = []
        schema = None
        total = 0
        for file in files:
            try:
                meta = pq.ParquetFile(file)
            except Exception as exc:  # pyarrow's ArrowInvalid: not a Parquet file
                raise ValueError(f"scan(): cannot read {file!r} as Parquet: {exc}") from None
            arrow_schema = meta.schema_arrow
            if schema is None:
                schema = arrow_schema
            elif not arrow_schema.equals(schema, check_metadata=False):
                raise ValueError(
                    f"scan(): the Parquet files of {path!r} must share one schema; "
                    f"{os.path.basename(file)!r} has\n{arrow_schema}\nbut "
                    f"{os.path.basename(files[0])!r} has\n{schema}"
                )
            self.file_starts.append(total)
            starts = []
            for g in range(meta.metadata.num_row_groups):
                starts.append(total)
                total += meta.metadata.row_group(g).num_rows
            self.row_group_starts.append(starts)
        assert schema is not None
        self.n_rows = total
        self.columns = list(schema.names)
        self._types = {name: _arrow_kind(schema.field(name).type) for name in self.columns}

    @staticmethod
    def _pq() -> Any:
        _pyarrow()
        import pyarrow.parquet as pq

        return pq

    def _column_kinds(self) -> dict[str, str | None]:
        return self._types

    def _file(self, f: int) -> Any:
        handle = self._handles.get(self.files[f])
        if handle is None:
            handle = self._handles[self.files[f]] = self._pq().ParquetFile(self.files[f])
        return handle

    def _read(self, start: int, stop: int) -> Iterator[np.ndarray]:
        names = self.feature_names + self.target_names
        f = bisect.bisect_right(self.file_starts, start) - 1
        row = start
        while row < stop:
            starts = self.row_group_starts[f]
            if not starts or row >= self._file_end(f):
                f += 1
                continue
            first = bisect.bisect_right(starts, row) - 1
            last = bisect.bisect_right(starts, stop - 1) - 1  # the group that holds stop - 1
            for group in range(first, last + 1):
                # one row group per call: asked for several, the reader buffers them all
                position = starts[group]  # the global row of the next batch's first row
                batches = self._file(f).iter_batches(
                    batch_size=self.chunk_rows, row_groups=[group], columns=names
                )
                for batch in batches:
                    end = position + batch.num_rows
                    if end > row:
                        piece = batch.slice(row - position, min(end, stop) - row)
                        yield from _pieces(_arrow_block(piece, names), self.chunk_rows)
                        row = min(end, stop)
                    position = end
                    if row >= stop:
                        break
            f += 1

    def _file_end(self, f: int) -> int:
        return self.file_starts[f + 1] if f + 1 < len(self.files) else self.n_rows


def _pieces(block: np.ndarray, chunk_rows: int) -> Iterator[np.ndarray]:
    """A block in pieces of at most chunk_rows rows (a reader may give larger batches)."""
    if block.shape[0] <= chunk_rows:
        if block.shape[0]:
            yield block
        return
    for a in range(0, block.shape[0], chunk_rows):
        yield block[a : a + chunk_rows].copy()


# ---------------------------------------------------------------------------- .npy


class NpySource(Source):
    """A 2-D .npy file, memory-mapped: columns V1..Vk."""

    kind = "npy"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        array = self._array()
        if array.ndim != 2:
            raise ValueError(
                f"scan(): {path!r} holds a {array.ndim}-D array of shape {array.shape}; "
                "a .npy source must be 2-D (rows x columns)"
            )
        self.n_rows = int(array.shape[0])
        self.columns = [f"V{j + 1}" for j in range(array.shape[1])]
        kind = None if array.dtype.kind in "fiub" else f"of dtype {array.dtype}"
        self._types = {name: kind for name in self.columns}

    def _array(self) -> np.ndarray:
        array = self._handles.get("array")
        if array is None:
            try:
                array = np.load(self.path, mmap_mode="r", allow_pickle=False)
            except ValueError as exc:  # not a .npy file, or an object array
                raise ValueError(f"scan(): cannot read {self.path!r} as .npy: {exc}") from None
            self._handles["array"] = array
        return array

    def _column_kinds(self) -> dict[str, str | None]:
        return self._types

    def _read(self, start: int, stop: int) -> Iterator[np.ndarray]:
        array = self._array()
        index = {name: j for j, name in enumerate(self.columns)}
        columns = [index[n] for n in self.feature_names + self.target_names]
        for a in range(start, stop, self.chunk_rows):
            b = min(a + self.chunk_rows, stop)
            yield np.array(array[a:b][:, columns], dtype=np.float64, order="C")


# ---------------------------------------------------------------------------- CSV


class CsvSource(Source):
    """A CSV file with a header line, read with pyarrow's streaming reader. The column types
    are inferred from the file's first block, then numbers are read as float64 throughout;
    reading rows from `start` reads the file from its beginning."""

    kind = "csv"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        pa = _pyarrow()
        reader = self._open(None)
        schema = reader.schema
        self.columns = list(schema.names)
        self._types = {name: _arrow_kind(schema.field(name).type) for name in self.columns}
        # every numeric column as float64 (an integer column may hold a decimal point
        # further down), booleans as booleans
        self._read_types = {
            name: pa.bool_() if pa.types.is_boolean(schema.field(name).type) else pa.float64()
            for name in self.columns
            if self._types[name] is None
        }
        self.n_rows = 0
        try:
            for batch in self._open(list(self._read_types)):
                self.n_rows += batch.num_rows
        except pa.ArrowInvalid as exc:
            raise ValueError(f"scan(): cannot read {path!r} as CSV: {exc}") from None

    def _open(self, columns: list[str] | None) -> Any:
        pa = _pyarrow()
        import pyarrow.csv as csv

        convert = None
        if columns is not None:
            convert = csv.ConvertOptions(
                column_types={n: self._read_types[n] for n in columns},
                include_columns=columns,
            )
        try:
            return csv.open_csv(self.path, convert_options=convert)
        except pa.ArrowInvalid as exc:  # e.g. an empty file: no header line
            raise ValueError(f"scan(): cannot read {self.path!r} as CSV: {exc}") from None

    def _column_kinds(self) -> dict[str, str | None]:
        return self._types

    def _read(self, start: int, stop: int) -> Iterator[np.ndarray]:
        names = self.feature_names + self.target_names
        position = 0
        for batch in self._open(names):
            end = position + batch.num_rows
            if end > start:
                a = max(start, position)
                b = min(end, stop)
                piece = batch.slice(a - position, b - a)
                yield from _pieces(_arrow_block(piece, names), self.chunk_rows)
            position = end
            if position >= stop:
                break
