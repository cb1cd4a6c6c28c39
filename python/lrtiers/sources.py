"""Sources of blocks: ``lrtiers.scan(path, x=, y=)``, a table on disk, and ArraySource, arrays
in memory, both read as a sequence of blocks of rows.

A :class:`Source` holds only where its rows are and what it knows about them (column names,
the row count): its rows are read when asked for. ``blocks(block_rows, first, stop, dtype)``
is the one way the engine reads them: blocks ``first .. stop - 1`` of ``block_rows`` rows in
one sequential pass, each as (x, y) freshly allocated in the training dtype. Every byte of
the range is decoded once per call (Parquet row group by row group; CSV by one streaming
reader opened where the range starts; .npy as memory-mapped slices), and each column is
written once, straight into its block (a float32 block is cast once, from the float64
values). So a pass over a file costs one read of it, and a range (a rank's share) costs what
its own rows cost. Memory: one block plus one reader's batch (``chunk_rows`` rows).

Formats: Parquet (a file, or a directory of files with one schema), a 2-D ``.npy``
(memory-mapped) and CSV with a header line.

Values are returned as read, converted to float64 (integers and booleans exactly as
NumPy's ``astype`` converts them; a Parquet/CSV null is NaN), then to the block's dtype:
the engine checks them, once, in its first pass. ``chunk_rows`` only sets how much is read
at a time: never the values.

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

__all__ = ["DEFAULT_CHUNK_ROWS", "ArraySource", "Source", "scan"]

#: Rows read from disk at a time when scan() is not told: 65536 rows of 100 float64
#: columns are 50 MB.
DEFAULT_CHUNK_ROWS = 65536

#: File name endings and the reader for each (a directory is read as Parquet files).
PARQUET_SUFFIXES = (".parquet", ".pq")
KINDS = {".parquet": "parquet", ".pq": "parquet", ".npy": "npy", ".csv": "csv"}

#: The dtypes a block may be read in.
BLOCK_DTYPES = ("float64", "float32")

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


def _block_dtype(dtype: Any) -> np.dtype[Any]:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in BLOCK_DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    return resolved


def _exact_in_float64(dtype: np.dtype[Any]) -> bool:
    """Whether every value of the dtype is a float64 exactly (so a direct cast to float32
    rounds once, as the cast from float64 does)."""
    return dtype.kind in "fb" or (dtype.kind in "iu" and dtype.itemsize <= 4)


def _put(out: np.ndarray, values: np.ndarray) -> None:
    """out[...] = values, through float64 where a direct cast could round differently."""
    if out.dtype != np.float64 and not _exact_in_float64(values.dtype):
        values = values.astype(np.float64)
    out[...] = values


class _Segment:
    """Consecutive rows as a reader gives them (a batch, a memory-mapped slice), selected
    columns only, not yet copied: ``write`` copies some of them into a block."""

    n_rows = 0

    def write(self, x: np.ndarray, y: np.ndarray, at: int, first: int, n: int) -> None:
        """Rows first .. first + n - 1 of the segment into rows at .. at + n - 1 of x, y."""
        raise NotImplementedError


class _ColumnSegment(_Segment):
    """One 1-D array per selected column (features, then targets)."""

    def __init__(self, columns: list[np.ndarray], p: int) -> None:
        self.columns, self.p = columns, p
        self.n_rows = len(columns[0]) if columns else 0

    def write(self, x: np.ndarray, y: np.ndarray, at: int, first: int, n: int) -> None:
        for j, column in enumerate(self.columns):
            out = x[at : at + n, j] if j < self.p else y[at : at + n, j - self.p]
            _put(out, column[first : first + n])


class _SliceSegment(_Segment):
    """Rows of 2-D arrays (views) whose column runs map to runs of x's and y's columns:
    each run is (column in x or y, column in the array, width)."""

    def __init__(
        self,
        parts: list[tuple[np.ndarray, list[tuple[int, int, int]], list[tuple[int, int, int]]]],
    ) -> None:
        self.parts = parts
        self.n_rows = int(parts[0][0].shape[0])

    def write(self, x: np.ndarray, y: np.ndarray, at: int, first: int, n: int) -> None:
        for array, x_runs, y_runs in self.parts:
            rows = array[first : first + n]
            for out, runs in ((x, x_runs), (y, y_runs)):
                for to, of, width in runs:
                    _put(out[at : at + n, to : to + width], rows[:, of : of + width])


def _runs(columns: list[int]) -> list[tuple[int, int, int]]:
    """Column numbers as runs (position, first column, width) of consecutive columns."""
    runs: list[tuple[int, int, int]] = []
    for position, column in enumerate(columns):
        if runs and runs[-1][1] + runs[-1][2] == column:
            to, of, width = runs[-1]
            runs[-1] = (to, of, width + 1)
        else:
            runs.append((position, column, 1))
    return runs


class Source:
    """Columns of a table, read in blocks (see the module docstring).

    Attributes: ``path`` (absolute; "<memory>" for arrays), ``kind`` ("parquet", "npy",
    "csv" or "memory"), ``feature_names``, ``target_names``, ``n_rows``, ``chunk_rows``. A
    file's source pickles to its path and metadata (files are reopened on first use), so it
    can be sent to worker processes.
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

    def _segments(self, start: int, stop: int) -> Iterator[_Segment]:
        """Rows [start, stop) of the selected columns in consecutive segments of at least
        one row, in one sequential read (each byte of the range decoded once)."""
        raise NotImplementedError

    def _column_kinds(self) -> dict[str, str | None]:
        """Each column's type: None when numeric, else its name (for the error)."""
        raise NotImplementedError

    # -- the interface -----------------------------------------------------------------

    def n_blocks(self, block_rows: int) -> int:
        """How many blocks of block_rows rows the rows make (the last may be shorter)."""
        block_rows = whole(block_rows, "block_rows", 1)
        return -(-self.n_rows // block_rows)

    def blocks(
        self, block_rows: int, first: int = 0, stop: int | None = None, dtype: str = "float64"
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Blocks first, first + 1, ..., stop - 1 (stop None: the last) in one sequential
        read. Block b holds rows [b * block_rows, min((b + 1) * block_rows, n_rows)). Each is
        yielded as (x (m, p), y (m, q)): C-contiguous arrays in ``dtype`` ("float64" or
        "float32"), freshly allocated (an ArraySource in its own dtype yields views), the
        values exactly those pieces() gives (float64 conversion first, then dtype). The
        arguments are checked here, when called; the file is read as the blocks are taken.
        """
        n_blocks = self.n_blocks(block_rows)
        first = whole(first, "first", 0, n_blocks)
        stop = n_blocks if stop is None else whole(stop, "stop", first, n_blocks)
        return self._blocks(int(block_rows), first, stop, _block_dtype(dtype))

    def _blocks(
        self, block_rows: int, first: int, stop: int, dtype: np.dtype[Any]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        start, end = first * block_rows, min(stop * block_rows, self.n_rows)
        if start >= end:
            return
        p, q = len(self.feature_names), len(self.target_names)
        row = start  # the next row to read
        x = y = None
        filled = size = 0
        for segment in self._segments(start, end):
            taken = 0
            while taken < segment.n_rows:
                if x is None or y is None:
                    size = min(block_rows, end - row)
                    x, y = np.empty((size, p), dtype), np.empty((size, q), dtype)
                    filled = 0
                n = min(segment.n_rows - taken, size - filled)
                segment.write(x, y, filled, taken, n)
                filled, taken, row = filled + n, taken + n, row + n
                if filled == size:
                    yield x, y
                    x = y = None
        if row != end:
            raise ValueError(
                f"{self.path!r}: read {row - start} rows where rows {start}..{end - 1} were "
                "expected: the file has changed since scan() (scan it again)"
            )

    def pieces(self, start: int, stop: int) -> Iterator[np.ndarray]:
        """Rows [start, stop) in file order, as consecutive (m, p + q) pieces, the features
        then the targets: float64, freshly allocated, 1 <= m <= chunk_rows."""
        start = whole(start, "start", 0, self.n_rows)
        stop = whole(stop, "stop", start, self.n_rows)
        return self._pieces(start, stop)

    def _pieces(self, start: int, stop: int) -> Iterator[np.ndarray]:
        if start >= stop:
            return
        p, k = len(self.feature_names), len(self.feature_names) + len(self.target_names)
        for segment in self._segments(start, stop):
            for a in range(0, segment.n_rows, self.chunk_rows):
                n = min(self.chunk_rows, segment.n_rows - a)
                out = np.empty((n, k), np.float64)
                segment.write(out[:, :p], out[:, p:], 0, a, n)
                yield out

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


# ---------------------------------------------------------------------------- memory


def _normalised(array: Any, what: str) -> np.ndarray:
    if not isinstance(array, np.ndarray) or array.ndim != 2:
        raise TypeError(f"{what} must be a 2-D NumPy array; got {type(array).__name__}")
    if array.dtype.name not in BLOCK_DTYPES:
        raise TypeError(f"{what} must be float64 or float32; got {array.dtype}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{what} must be C-contiguous (normalise it first)")
    return array


class ArraySource(Source):
    """Arrays in memory as a source: x (n, p) and y (n, q) (None: no targets), already
    normalised (2-D, C-contiguous, one floating dtype). Blocks in the arrays' dtype are row
    slices of them, views with no copy; in another dtype, converted copies."""

    kind = "memory"

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | None,
        feature_names: Sequence[str],
        target_names: Sequence[str] = (),
    ) -> None:
        super().__init__("<memory>")
        x = _normalised(x, "x")
        y = np.empty((x.shape[0], 0), x.dtype) if y is None else _normalised(y, "y")
        if y.shape[0] != x.shape[0] or y.dtype != x.dtype:
            raise ValueError(
                f"x and y must have the same rows and dtype; got x {x.shape} {x.dtype}, "
                f"y {y.shape} {y.dtype}"
            )
        if x.shape[0] == 0:
            raise ValueError("x has no rows: there is nothing to read")
        features, targets = list(feature_names), list(target_names)
        if len(features) != x.shape[1] or len(targets) != y.shape[1]:
            raise ValueError(
                f"feature_names ({len(features)}) and target_names ({len(targets)}) must name "
                f"the columns of x ({x.shape[1]}) and y ({y.shape[1]})"
            )
        self.x, self.y = x, y
        self.n_rows = int(x.shape[0])
        self.columns = features + targets
        self.feature_names, self.target_names = features, targets

    def _column_kinds(self) -> dict[str, str | None]:
        return {name: None for name in self.columns}

    def _segments(self, start: int, stop: int) -> Iterator[_Segment]:
        p, q = len(self.feature_names), len(self.target_names)
        for a in range(start, stop, self.chunk_rows):
            b = min(a + self.chunk_rows, stop)
            yield _SliceSegment([(self.x[a:b], [(0, 0, p)], []), (self.y[a:b], [], [(0, 0, q)])])

    def _blocks(
        self, block_rows: int, first: int, stop: int, dtype: np.dtype[Any]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if dtype != self.x.dtype:
            yield from super()._blocks(block_rows, first, stop, dtype)
            return
        for b in range(first, stop):
            a = b * block_rows
            yield self.x[a : a + block_rows], self.y[a : a + block_rows]


# ---------------------------------------------------------------------------- Parquet


def _arrow_kind(dtype: Any) -> str | None:
    """None for the types read as numbers, else the type's name."""
    types = _pyarrow().types
    # a column with no values at all (Arrow's null type) reads as NaN, like any null
    numeric = (types.is_integer, types.is_floating, types.is_boolean, types.is_null)
    if any(is_kind(dtype) for is_kind in numeric):
        return None
    return f"of type {dtype}"


def _arrow_segment(batch: Any, names: list[str], p: int) -> _ColumnSegment:
    """A record batch's columns as NumPy arrays, with no copy where Arrow's buffer is one:
    integers and floats without nulls as they are (NumPy converts them as it writes them
    into a block); booleans and columns with nulls through Arrow's cast to float64 (a null
    is NaN; safe=False: a 64-bit integer beyond 2**53 rounds, as NumPy's astype does)."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    columns = []
    for name in names:
        column = batch.column(name)
        kind = column.type
        plain = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        if not plain or column.null_count:
            column = pc.cast(column, pa.float64(), safe=False)
        columns.append(column.to_numpy(zero_copy_only=False))
    return _ColumnSegment(columns, p)


class ParquetSource(Source):
    """One Parquet file or several with one schema, indexed by row group: reading from row
    `start` opens the row group that holds it, none before, and decodes each row group of
    the range once, a batch of chunk_rows rows at a time."""

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

    def _segments(self, start: int, stop: int) -> Iterator[_Segment]:
        names = self.feature_names + self.target_names
        p = len(self.feature_names)
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
                        yield _arrow_segment(piece, names, p)
                        row = min(end, stop)
                    position = end
                    if row >= stop:
                        break
            f += 1

    def _file_end(self, f: int) -> int:
        return self.file_starts[f + 1] if f + 1 < len(self.files) else self.n_rows


# ---------------------------------------------------------------------------- .npy


class NpySource(Source):
    """A 2-D .npy file, memory-mapped: columns V1..Vk. A block's columns are copied from
    the mapped rows straight into it, a run of adjacent columns at a time."""

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

    def _segments(self, start: int, stop: int) -> Iterator[_Segment]:
        array = self._array()
        index = {name: j for j, name in enumerate(self.columns)}
        x_runs = _runs([index[n] for n in self.feature_names])
        y_runs = _runs([index[n] for n in self.target_names])
        for a in range(start, stop, self.chunk_rows):
            b = min(a + self.chunk_rows, stop)
            yield _SliceSegment([(array[a:b], x_runs, y_runs)])


# ---------------------------------------------------------------------------- CSV

#: Bytes read at a time when scan() counts a CSV file's rows; it keeps, for each such
#: stretch, where the first row that starts in it begins (its row number and byte offset).
CSV_SCAN_BYTES = 1 << 18

#: pyarrow's streaming CSV reader reads up to 32 blocks ahead (in a background thread):
#: its block is a 32nd of chunk_rows rows' bytes, so that it buffers about chunk_rows rows,
#: but at least CSV_MIN_BLOCK and twice the longest line (a line may not straddle two block
#: boundaries), at most CSV_MAX_BLOCK.
CSV_READ_AHEAD = 32
CSV_MIN_BLOCK = 1 << 20
CSV_MAX_BLOCK = 1 << 30


class CsvIndex:
    """Where a CSV file's rows start, found by counting newlines (no parsing): row
    ``rows[i]`` begins at byte ``offsets[i]``, about one mark per CSV_SCAN_BYTES;
    ``longest`` bounds the length of a line from above."""

    def __init__(self, n_rows: int, rows: list[int], offsets: list[int], longest: int) -> None:
        self.n_rows, self.longest = n_rows, longest
        self.rows = np.array(rows, dtype=np.int64)
        self.offsets = np.array(offsets, dtype=np.int64)

    def at(self, row: int) -> tuple[int, int]:
        """The byte to start reading at for `row`, and the rows to skip from there."""
        i = int(np.searchsorted(self.rows, row, side="right")) - 1
        return int(self.offsets[i]), row - int(self.rows[i])


def _index_csv(path: str) -> CsvIndex | None:
    """Count a CSV file's rows from its bytes, without parsing them: one row per newline
    after the header line (and a last line without one). None when newlines do not delimit
    rows: a newline inside a quoted value (the quotes before it are odd in number), a blank
    line (which the CSV reader skips) or a carriage return alone (a line end to the reader)."""
    lines = 0  # newlines so far: line 0 is the header, line k > 0 is row k - 1
    rows: list[int] = []
    offsets: list[int] = []
    quotes = 0  # quote characters so far
    position = 0  # bytes so far
    last_newline = -1
    longest = CSV_SCAN_BYTES  # a line within one stretch is shorter than this
    tail = b"\n"  # the two bytes before the stretch (a newline before the file begins)
    with open(path, "rb") as file:
        while chunk := file.read(CSV_SCAN_BYTES):
            window = tail + chunk
            ends = np.frombuffer(window, np.uint8) == ord("\n")
            if (ends[1:] & ends[:-1]).any():
                return None  # a blank line
            if window.find(b"\r") >= 0:
                returns = np.frombuffer(window, np.uint8) == ord("\r")
                # a return alone (the last byte's is checked with the next stretch), or a
                # blank line ended by a return and a newline
                if (returns[:-1] & ~ends[1:]).any() or (ends[:-2] & returns[1:-1]).any():
                    return None
            if quotes % 2 or chunk.find(b'"') >= 0:
                data = np.frombuffer(chunk, np.uint8)
                at_quotes = np.flatnonzero(data == ord('"'))
                at_newlines = np.flatnonzero(data == ord("\n"))
                if ((quotes + np.searchsorted(at_quotes, at_newlines)) % 2).any():
                    return None
                quotes += len(at_quotes)
            first = chunk.find(b"\n")
            if first >= 0:
                longest = max(longest, position + first - last_newline)
                rows.append(lines)  # the line after this newline is row `lines`
                offsets.append(position + first + 1)
                lines += int(np.count_nonzero(ends[len(tail) :]))
                last_newline = position + chunk.rfind(b"\n")
            position += len(chunk)
            tail = window[-2:]
    if tail.endswith(b"\r") or quotes % 2:
        return None
    longest = max(longest, position - last_newline)
    n_lines = lines + (position > last_newline + 1)
    n_rows = max(n_lines - 1, 0)
    kept = [i for i, row in enumerate(rows) if row < n_rows]
    return CsvIndex(n_rows, [rows[i] for i in kept], [offsets[i] for i in kept], longest)


class CsvSource(Source):
    """A CSV file with a header line, read with pyarrow's streaming reader: one reader per
    pass, opened at the byte where the pass's first row begins.

    What scan() reads: every byte once, to count the rows by their newlines and note where
    rows begin, without parsing them (see _index_csv), and the file's first MiB, parsed, for
    the column types (as pyarrow infers them from its first block; numbers are then read as
    float64 throughout, booleans as booleans). Values are parsed when read, so a malformed
    line is reported by the pass that reaches it. Where newlines do not delimit rows (quoted
    values holding newlines, blank lines, carriage returns alone) scan() parses the whole
    file to count its rows, and a pass that starts at row r parses the r rows before it.
    """

    kind = "csv"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        pa = _pyarrow()
        stat = os.stat(path)
        self._stamp = (stat.st_size, stat.st_mtime_ns)
        self._index = _index_csv(path)
        schema = self._open_csv(self._first_block()).schema
        self.columns = list(schema.names)
        self._types = {name: _arrow_kind(schema.field(name).type) for name in self.columns}
        # every numeric column as float64 (an integer column may hold a decimal point
        # further down), booleans as booleans
        self._read_types = {
            name: pa.bool_() if pa.types.is_boolean(schema.field(name).type) else pa.float64()
            for name in self.columns
            if self._types[name] is None
        }
        if self._index is not None:
            self.n_rows = self._index.n_rows
        else:
            self.n_rows = 0
            reader = self._open_csv(self.path, 0, **self._options(list(self._read_types), 0))
            while (batch := self._next(reader, self.n_rows)) is not None:
                self.n_rows += batch.num_rows

    def _first_block(self) -> Any:
        """What pyarrow infers the column types from: its first block (1 MiB, to the last
        line end in it). Read from memory, so that the reader reads nothing ahead."""
        if self._index is None:
            return self.path  # lines may not end at newlines
        with open(self.path, "rb") as file:
            first = file.read(CSV_MIN_BLOCK)
        if len(first) < CSV_MIN_BLOCK:
            return _pyarrow().py_buffer(first)  # the whole file
        end = first.rfind(b"\n")
        if end < 0:
            return self.path  # a header line longer than a block: as pyarrow reads it
        return _pyarrow().py_buffer(first[: end + 1])

    def _column_kinds(self) -> dict[str, str | None]:
        return self._types

    def _open_csv(self, source: Any, row: int | None = None, **options: Any) -> Any:
        """A streaming reader (it reads its first block), to read from `row` (None: for
        scan())."""
        pa = _pyarrow()
        import pyarrow.csv as csv

        if isinstance(source, pa.Buffer):
            source = pa.BufferReader(source)
        try:
            return csv.open_csv(source, **options)
        except pa.ArrowInvalid as exc:  # e.g. an empty file: no header line
            raise self._unreadable(exc, row) from None

    def _next(self, reader: Any, row: int) -> Any:
        """The reader's next batch, None at the end of the file."""
        pa = _pyarrow()
        try:
            return reader.read_next_batch()
        except StopIteration:
            return None
        except pa.ArrowInvalid as exc:
            raise self._unreadable(exc, row) from None

    def _unreadable(self, exc: Exception, row: int | None) -> ValueError:
        if row is None:
            return ValueError(f"scan(): cannot read {self.path!r} as CSV: {exc}")
        return ValueError(
            f"cannot read {self.path!r} as CSV (in the rows from row {row}, 0-based): {exc}"
        )

    def _options(self, names: list[str], skip: int) -> dict[str, Any]:
        """The reader's options: the selected columns in their types; opened mid-file (with
        the index), the column names given and `skip` rows skipped."""
        import pyarrow.csv as csv

        least = CSV_MIN_BLOCK
        if self._index is not None:
            least = max(least, 2 * self._index.longest)
            read = csv.ReadOptions(column_names=self.columns, skip_rows=skip)
            parse = csv.ParseOptions()
        else:
            read = csv.ReadOptions()
            parse = csv.ParseOptions(newlines_in_values=True)
        per_row = self._stamp[0] / self.n_rows if self.n_rows else 0  # 0: not yet counted
        wanted = self.chunk_rows * per_row / CSV_READ_AHEAD
        read.block_size = int(min(max(wanted, least), CSV_MAX_BLOCK))
        convert = csv.ConvertOptions(
            column_types={n: self._read_types[n] for n in names}, include_columns=names
        )
        return {"read_options": read, "parse_options": parse, "convert_options": convert}

    def _stream(self, offset: int) -> Any:
        """The file, open at byte `offset`."""
        stream = _pyarrow().OSFile(self.path)
        stream.seek(offset)
        return stream

    def _segments(self, start: int, stop: int) -> Iterator[_Segment]:
        stat = os.stat(self.path)
        if (stat.st_size, stat.st_mtime_ns) != self._stamp:
            raise ValueError(f"{self.path!r} has changed since scan(): scan it again")
        names = self.feature_names + self.target_names
        p = len(self.feature_names)
        if self._index is not None:
            offset, skip = self._index.at(start)
            position = start  # the row of the reader's next row
        else:
            offset, skip, position = 0, 0, 0
        stream = self._stream(offset)
        try:
            reader = self._open_csv(stream, start, **self._options(names, skip))
            while position < stop:
                batch = self._next(reader, position)
                if batch is None:
                    break
                end = position + batch.num_rows
                if end > start:
                    a, b = max(start, position), min(end, stop)
                    yield _arrow_segment(batch.slice(a - position, b - a), names, p)
                position = end
            extra = self._next(reader, position) if stop == self.n_rows else None
            if position > self.n_rows or (extra is not None and extra.num_rows):
                raise ValueError(
                    f"{self.path!r}: the CSV reader found more rows than the {self.n_rows} "
                    "that scan() counted"
                )
        finally:
            stream.close()
