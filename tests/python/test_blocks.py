"""Source.blocks(): one sequential read per call, at the cost of the read. Values are those
pieces() gives, bit for bit, for every block size, chunk size, range and dtype; each Parquet
row group is decoded once, CSV is parsed once by one reader opened where the range begins,
and an ArraySource's blocks are views."""

import numpy as np
import pytest
from conftest import assert_same_bits, mixed_columns

import lrtiers
from lrtiers import sources
from lrtiers.sources import ArraySource

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

N = 300
X_NAMES, Y_NAMES = ["a", "b", "c", "d"], ["t", "u"]


@pytest.fixture(scope="module")
def table():
    return mixed_columns(N, seed=16)


@pytest.fixture(scope="module")
def files(table, tmp_path_factory):
    """One table as Parquet (row groups of 37), a directory of Parquet files, .npy (C and
    Fortran order), CSV as pyarrow writes it (quoted header) and CSV with CRLF line ends."""
    root = tmp_path_factory.mktemp("blocks")
    arrow = pa.table(table)
    pq.write_table(arrow, root / "t.parquet", row_group_size=37)
    (root / "dir").mkdir()
    for i, (a, b) in enumerate([(0, 100), (100, 101), (101, N)]):
        pq.write_table(arrow.slice(a, b - a), root / "dir" / f"part-{i}.parquet", row_group_size=29)
    values = np.column_stack([np.asarray(v).astype(np.float64) for v in table.values()])
    np.save(root / "t.npy", values)
    np.save(root / "f.npy", np.asfortranarray(values))
    pacsv.write_csv(
        arrow.set_column(3, "d", pa.array(table["d"].astype(np.float64))), root / "t.csv"
    )
    text = (root / "t.csv").read_text()
    (root / "crlf.csv").write_bytes(text.replace("\n", "\r\n").encode())
    return root


SOURCES = [
    ("t.parquet", X_NAMES, Y_NAMES),
    ("dir", X_NAMES, Y_NAMES),
    ("t.npy", ["V1", "V2", "V3", "V4"], ["V5", "V6"]),
    ("f.npy", ["V4", "V1", "V2"], ["V6", "V5"]),
    ("t.csv", X_NAMES, Y_NAMES),
    ("crlf.csv", ["d", "a", "c"], ["u"]),
]


def pieces_of(source, start=0, stop=None):
    stop = source.n_rows if stop is None else stop
    pieces = list(source.pieces(start, stop))
    p = len(source.feature_names)
    whole = np.vstack(pieces) if pieces else np.empty((0, p + len(source.target_names)))
    return whole[:, :p], whole[:, p:]


def check_blocks(source, block_rows, first, stop, dtype="float64"):
    """Take blocks [first, stop): shapes and layout as promised; their rows, stacked."""
    n = source.n_rows
    stop_ = source.n_blocks(block_rows) if stop is None else stop
    got = list(source.blocks(block_rows, first, stop, dtype=dtype))
    assert len(got) == stop_ - first
    for b, (x, y) in zip(range(first, stop_), got, strict=True):
        rows = min((b + 1) * block_rows, n) - b * block_rows
        assert x.shape == (rows, len(source.feature_names))
        assert y.shape == (rows, len(source.target_names))
        assert x.dtype == y.dtype == np.dtype(dtype)
        assert x.flags.c_contiguous and y.flags.c_contiguous
        assert x.flags.owndata and y.flags.owndata and x.flags.writeable
    p, q = len(source.feature_names), len(source.target_names)
    x = np.vstack([x for x, _ in got]) if got else np.empty((0, p))
    y = np.vstack([y for _, y in got]) if got else np.empty((0, q))
    return x, y


@pytest.mark.parametrize("name, x_names, y_names", SOURCES)
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_blocks_are_the_pieces_for_every_block_and_chunk_size(
    files, name, x_names, y_names, chunk_rows
):
    source = lrtiers.scan(files / name, x=x_names, y=y_names, chunk_rows=chunk_rows)
    want_x, want_y = pieces_of(lrtiers.scan(files / name, x=x_names, y=y_names))
    for block_rows in (1, 7, 1000, N):
        n_blocks = -(-N // block_rows)
        assert source.n_blocks(block_rows) == n_blocks
        ranges = {(0, None), (n_blocks // 3, n_blocks - 1), (n_blocks - 1, None), (1, 1)}
        for first, stop in ranges:
            if first > n_blocks or (stop is not None and stop < first):
                continue
            a = first * block_rows
            b = N if stop is None else min(stop * block_rows, N)
            x, y = check_blocks(source, block_rows, first, stop)
            assert_same_bits(x, want_x[a:b])
            assert_same_bits(y, want_y[a:b])
            x32, y32 = check_blocks(source, block_rows, first, stop, dtype=np.float32)
            assert_same_bits(x32, want_x[a:b].astype(np.float32))
            assert_same_bits(y32, want_y[a:b].astype(np.float32))


def test_blocks_read_the_files_values(files, table):
    values = np.column_stack([np.asarray(v).astype(np.float64) for v in table.values()])
    for name, x_names, y_names in SOURCES[:3] + SOURCES[4:5]:
        x, y = check_blocks(lrtiers.scan(files / name, x=x_names, y=y_names), 64, 0, None)
        assert_same_bits(x, values[:, :4])
        assert_same_bits(y, values[:, 4:])


def test_float32_blocks_round_once_from_the_float64_values(tmp_path):
    # 2**60 + 2**36 + 1: to float64 it drops the 1 and lands on the float32 midpoint, which
    # rounds to even (2**60); straight to float32 it would round up
    big = np.array([2**60 + 2**36 + 1, -(2**60) - 2**36 - 1, 3], dtype=np.int64)
    assert np.float32(big[0]) != np.float32(np.float64(big[0]))
    pq.write_table(pa.table({"a": big, "t": big}), tmp_path / "big.parquet")
    np.save(tmp_path / "big.npy", np.column_stack([big, big]))
    for name in ("big.parquet", "big.npy"):
        source = lrtiers.scan(tmp_path / name, y="t" if name.endswith("parquet") else "V2")
        (x, y), *_ = source.blocks(10, dtype="float32")
        assert_same_bits(x[:, 0], big.astype(np.float64).astype(np.float32))
        (x64, _), *_ = source.blocks(10)
        assert_same_bits(x64[:, 0], big.astype(np.float64))


def test_nulls_are_nan_in_blocks(tmp_path):
    pq.write_table(
        pa.table({"a": pa.array([1, None, 3]), "b": [True, None, False], "t": [1.0, 2.0, None]}),
        tmp_path / "n.pq",
    )
    (tmp_path / "n.csv").write_text("a,b,t\n1,true,1\n,,2\n3,false,\n")
    for name in ("n.pq", "n.csv"):
        for dtype in ("float64", "float32"):
            (x, y), *_ = lrtiers.scan(tmp_path / name, y="t").blocks(2, dtype=dtype)
            assert_same_bits(x, [[1.0, 1.0], [np.nan, np.nan]])
            assert_same_bits(y, [[1.0], [2.0]])


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize("kind", ["parquet", "npy", "csv"])
def test_small_files_and_empty_ranges(tmp_path, n, kind):
    values = np.arange(n * 3, dtype=np.float64).reshape(n, 3) / 7
    path = tmp_path / f"s.{kind}"
    if kind == "npy":
        np.save(path, values)
    else:
        arrow = pa.table({f"V{j + 1}": values[:, j] for j in range(3)})
        (pq.write_table if kind == "parquet" else pacsv.write_csv)(arrow, path)
    source = lrtiers.scan(path, y="V3", chunk_rows=4)
    assert source.n_rows == n
    for block_rows in (1, 3, n, n + 5, 1000):
        x, y = check_blocks(source, block_rows, 0, None)
        assert_same_bits(x, values[:, :2])
        assert_same_bits(y, values[:, 2:])
        last = source.n_blocks(block_rows)
        for first in range(last + 1):
            assert list(source.blocks(block_rows, first, first)) == []
        x, _ = check_blocks(source, block_rows, last - 1, last)
        assert_same_bits(x, values[(last - 1) * block_rows :, :2])


def test_bad_arguments_are_named(files):
    source = lrtiers.scan(files / "t.npy", y="V6")
    with pytest.raises(ValueError, match="block_rows must be >= 1; got 0"):
        source.blocks(0)
    with pytest.raises(ValueError, match="first must be <= 43; got 44"):
        source.blocks(7, 44)
    with pytest.raises(ValueError, match="stop must be >= 5; got 4"):
        source.blocks(7, 5, 4)
    with pytest.raises(ValueError, match="stop must be <= 43; got 44"):
        source.blocks(7, 0, 44)
    with pytest.raises(TypeError, match="block_rows must be a whole number"):
        source.blocks(2.5)
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'; got 'int32'"):
        source.blocks(7, dtype="int32")


# ---------------------------------------------------------------------------- Parquet


def test_parquet_decodes_each_row_group_of_the_range_once(files, monkeypatch):
    calls = []
    iter_batches = pq.ParquetFile.iter_batches

    def spy(self, *args, row_groups=None, **kwargs):
        calls.append((self.metadata.num_rows, tuple(row_groups)))
        return iter_batches(self, *args, row_groups=row_groups, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    source = lrtiers.scan(files / "t.parquet", y="t", chunk_rows=10)  # row groups of 37
    for block_rows, first, stop, groups in [
        (50, 0, None, range(9)),  # 300 rows: 8 groups of 37 and one of 4
        (8, 1, 2, [0]),  # rows 8..15
        (8, 4, 10, [0, 1, 2]),  # rows 32..79
        (100, 1, 2, [2, 3, 4, 5]),  # rows 100..199: 74..110 holds 100, 185..221 holds 199
        (1, 299, 300, [8]),
    ]:
        calls.clear()
        list(source.blocks(block_rows, first, stop))
        assert calls == [(N, (g,)) for g in groups], (block_rows, first, stop)
    # a directory: the groups of the files the range touches, once each
    source = lrtiers.scan(files / "dir", y="t", chunk_rows=10)
    calls.clear()
    list(source.blocks(50, 1, 3))  # rows 50..149: file 0's groups 1..3, file 1, file 2's 0..1
    assert calls == [(100, (1,)), (100, (2,)), (100, (3,)), (1, (0,)), (199, (0,)), (199, (1,))]


# ---------------------------------------------------------------------------- CSV


class Spy:
    """Counts open_csv calls and the rows its readers give."""

    def __init__(self, monkeypatch):
        self.opened = self.rows = 0
        real = pacsv.open_csv

        def open_csv(*args, **kwargs):
            self.opened += 1
            reader = real(*args, **kwargs)
            spy = self

            class Reader:
                schema = reader.schema

                def read_next_batch(self):
                    batch = reader.read_next_batch()
                    spy.rows += batch.num_rows
                    return batch

            return Reader()

        monkeypatch.setattr(pacsv, "open_csv", open_csv)

    def reset(self):
        self.opened = self.rows = 0


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """200,000 rows of 3 columns (about 5 MB)."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = np.random.default_rng(3)
    values = np.round(rng.standard_normal((200_000, 3)), 6)
    pacsv.write_csv(pa.table({"a": values[:, 0], "b": values[:, 1], "t": values[:, 2]}), path)
    return path, values


def test_csv_scan_counts_rows_without_parsing_them(big_csv, monkeypatch):
    path, values = big_csv
    spy = Spy(monkeypatch)
    source = lrtiers.scan(path, y="t")
    assert source.n_rows == len(values)
    assert source._index is not None  # the quoted header line does not stop the count
    assert spy.opened == 1 and spy.rows == 0  # the first block's schema only


def test_csv_passes_parse_each_row_once_from_where_they_begin(big_csv, monkeypatch):
    path, values = big_csv
    # reader blocks of 16 KiB, about 650 rows
    monkeypatch.setattr(sources, "CSV_MIN_BLOCK", 1 << 14)
    monkeypatch.setattr(sources, "CSV_SCAN_BYTES", 1 << 12)
    source = lrtiers.scan(path, y="t", chunk_rows=2000)
    spy = Spy(monkeypatch)
    n = source.n_rows
    for block_rows in (1000, 4096):
        spy.reset()
        x, y = check_blocks(source, block_rows, 0, None)
        assert spy.opened == 1 and spy.rows == n  # one reader, every row parsed once
        assert_same_bits(x, values[:, :2])
    # a rank's range: its own rows, and no more than a reader's block before or after it
    block_rows = 10_000
    for first, stop in [(17, 18), (19, 20), (5, 12), (0, 1)]:
        spy.reset()
        x, y = check_blocks(source, block_rows, first, stop)
        rows = (stop - first) * block_rows
        assert spy.opened == 1 and rows <= spy.rows <= rows + 2000, (first, stop, spy.rows)
        assert_same_bits(y[:, 0], values[first * block_rows : stop * block_rows, 2])


def test_csv_reads_the_bytes_of_its_range_only(big_csv, monkeypatch):
    path, values = big_csv
    monkeypatch.setattr(sources, "CSV_MIN_BLOCK", 1 << 12)
    monkeypatch.setattr(sources, "CSV_SCAN_BYTES", 1 << 12)
    source = lrtiers.scan(path, y="t", chunk_rows=100)
    opened = []
    stream = sources.CsvSource._stream

    def counting(self, offset):
        opened.append(offset)
        return stream(self, offset)

    monkeypatch.setattr(sources.CsvSource, "_stream", counting)
    size = path.stat().st_size
    per_row = size / source.n_rows
    x, _ = check_blocks(source, 10_000, 15, 16)  # rows 150,000..159,999
    assert_same_bits(x, values[150_000:160_000, :2])
    (offset,) = opened
    # opened where row 150,000 begins (within the index's 4 KiB stretch), not at the start
    assert 150_000 * per_row - 3 * 4096 < offset <= 150_000 * per_row + 2 * 4096


def test_csv_line_ends_and_quotes(tmp_path):
    values = np.arange(40, dtype=np.float64).reshape(20, 2)
    body = "".join(f"{a:g},{b:g}\n" for a, b in values)
    cases = {
        "plain.csv": ("a,t\n" + body, True),
        "crlf.csv": (("a,t\n" + body).replace("\n", "\r\n"), True),
        "no_last_newline.csv": ("a,t\n" + body[:-1], True),
        "quoted.csv": ('"a","t"\n' + body.replace("1,", '"1",'), True),
        "blank_lines.csv": ("a,t\n" + body.replace("5,", "\n5,") + "\n\n", False),
        "cr_only.csv": (("a,t\n" + body).replace("\n", "\r"), False),
        "leading_blank.csv": ("\na,t\n" + body, False),
    }
    for name, (text, indexed) in cases.items():
        (tmp_path / name).write_bytes(text.encode())
        source = lrtiers.scan(tmp_path / name, y="t", chunk_rows=3)
        assert (source._index is not None) == indexed, name
        assert source.n_rows == 20, name
        for first, stop in [(0, None), (2, 5), (6, 7)]:
            x, y = check_blocks(source, 3, first, stop)
            a, b = first * 3, 20 if stop is None else min(stop * 3, 20)
            assert_same_bits(x[:, 0], values[a:b, 0])
            assert_same_bits(y[:, 0], values[a:b, 1])


def test_csv_quoted_newlines_fall_back_to_parsing(tmp_path):
    rows = [f'{i},"line {i}\nmore",{i / 4}' for i in range(30)]
    (tmp_path / "q.csv").write_text("a,s,t\n" + "\n".join(rows) + "\n")
    source = lrtiers.scan(tmp_path / "q.csv", x="a", y="t", chunk_rows=4)
    assert source._index is None and source.n_rows == 30
    x, y = check_blocks(source, 7, 2, None)
    assert_same_bits(x[:, 0], np.arange(14, 30))
    assert_same_bits(y[:, 0], np.arange(14, 30) / 4)


def test_csv_malformed_lines_are_reported_when_read(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "CSV_MIN_BLOCK", 16)  # types from the first 3 lines
    (tmp_path / "bad.csv").write_text("a,t\n" + "1,2\n" * 10 + "x,5\n")
    source = lrtiers.scan(tmp_path / "bad.csv", y="t")
    with pytest.raises(ValueError, match="cannot read .*bad.csv' as CSV .*invalid value 'x'"):
        list(source.blocks(10))


def test_a_changed_csv_must_be_scanned_again(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("a,t\n1,2\n3,4\n")
    source = lrtiers.scan(path, y="t")
    path.write_text("a,t\n1,2\n3,4\n5,6\n")
    with pytest.raises(ValueError, match="has changed since scan\\(\\): scan it again"):
        list(source.blocks(10))


# ---------------------------------------------------------------------------- memory


def test_an_array_source_gives_views_in_its_dtype():
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((23, 3)).astype(dtype)
        y = rng.standard_normal((23, 2)).astype(dtype)
        source = ArraySource(x, y, ["a", "b", "c"], ["s", "t"])
        assert source.kind == "memory" and source.n_rows == 23 and source.n_blocks(5) == 5
        blocks = list(source.blocks(5, 1, None, dtype=dtype))
        assert len(blocks) == 4
        for b, (xb, yb) in enumerate(blocks, start=1):
            assert xb.base is x and yb.base is y and xb.flags.c_contiguous
            assert_same_bits(xb, x[5 * b : 5 * b + 5])
            assert_same_bits(yb, y[5 * b : 5 * b + 5])
        other = np.float32 if dtype == np.float64 else np.float64
        xo, yo = check_blocks(source, 5, 0, None, dtype=other)
        assert_same_bits(xo, x.astype(other))
        assert_same_bits(yo, y.astype(other))
        px, py = pieces_of(source, 3, 20)
        assert_same_bits(px, x[3:20])
        assert_same_bits(py, y[3:20])
    assert ArraySource(x, None, ["a", "b", "c"]).target_names == []


def test_an_array_source_wants_normalised_arrays():
    x = np.ones((4, 2))
    with pytest.raises(TypeError, match="x must be a 2-D NumPy array; got list"):
        ArraySource([[1.0]], None, ["a"])
    with pytest.raises(TypeError, match="y must be float64 or float32; got int64"):
        ArraySource(x, np.ones((4, 1), dtype=np.int64), ["a", "b"], ["t"])
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        ArraySource(np.asfortranarray(x), None, ["a", "b"])
    with pytest.raises(ValueError, match="same rows and dtype"):
        ArraySource(x, np.ones((3, 1)), ["a", "b"], ["t"])
    with pytest.raises(ValueError, match="must name the columns"):
        ArraySource(x, None, ["a"])


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_memory_of_a_pass_is_a_block_and_a_batch(tmp_path, kind, monkeypatch):
    import tracemalloc

    # the CSV reader's read-ahead: 32 blocks of 64 KiB (1 MiB at the least otherwise)
    monkeypatch.setattr(sources, "CSV_MIN_BLOCK", 1 << 16)
    monkeypatch.setattr(sources, "CSV_SCAN_BYTES", 1 << 12)

    block_rows, chunk = 2000, 1000
    block_bytes = block_rows * 4 * 8
    peaks = []
    for n in (20_000, 200_000):
        values = np.random.default_rng(n).standard_normal((n, 4))
        path = tmp_path / f"{n}.{kind}"
        arrow = pa.table({f"c{j}": values[:, j] for j in range(4)})
        if kind == "parquet":
            pq.write_table(arrow, path, row_group_size=5000)
        else:
            pacsv.write_csv(arrow, path)
        del values, arrow
        source = lrtiers.scan(path, chunk_rows=chunk)
        pool = pa.default_memory_pool()
        arrow_before, arrow_peak = pool.bytes_allocated(), 0
        tracemalloc.start()
        try:
            for x, y in source.blocks(block_rows):
                arrow_peak = max(arrow_peak, pool.bytes_allocated() - arrow_before)
                del x, y
            numpy_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        peaks.append((numpy_peak, arrow_peak))
    (numpy_small, arrow_small), (numpy_large, arrow_large) = peaks
    assert numpy_large - numpy_small < block_bytes, peaks
    # Arrow's pool: a row group, or the CSV reader's read-ahead (up to 32 blocks of 64 KiB,
    # filled as far as the reader's threads got ahead: more or less, by the machine's load)
    # and a batch
    assert arrow_large - arrow_small < 2 << 20, peaks
    assert arrow_large < 4 << 20, peaks
    assert numpy_large < 4 * block_bytes + 2 * 5000 * 4 * 8, peaks
