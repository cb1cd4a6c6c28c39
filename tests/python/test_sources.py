"""lrtiers.scan(): every format gives the file's values, bit for bit, whatever chunk_rows and
however the rows are split into ranges; errors name the file and the column."""

import os
import pickle

import numpy as np
import pytest
from conftest import assert_same_bits, mixed_columns

import lrtiers
from lrtiers.sources import DEFAULT_CHUNK_ROWS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")


N = 300


@pytest.fixture(scope="module")
def table():
    """Floats (with values that need all 17 digits), integers, booleans and two targets."""
    return mixed_columns(N, seed=12)


def expected(table, names):
    return np.column_stack([np.asarray(table[n]).astype(np.float64) for n in names])


@pytest.fixture(scope="module")
def files(table, tmp_path_factory):
    """The same table as a Parquet file (row groups of 37), a directory of 3 Parquet files,
    an .npy and a CSV."""
    root = tmp_path_factory.mktemp("sources")
    arrow = pa.table(table)
    pq.write_table(arrow, root / "t.parquet", row_group_size=37)
    (root / "dir").mkdir()
    for i, (a, b) in enumerate([(0, 100), (100, 101), (101, N)]):
        pq.write_table(arrow.slice(a, b - a), root / "dir" / f"part-{i}.parquet", row_group_size=29)
    (root / "dir" / "_SUCCESS").write_text("")  # Spark's marker is not data
    np.save(root / "t.npy", expected(table, list(table)))
    # CSV: the shortest repr of each float reads back as the same float64; the float32
    # column as float64 values (CSV has no float32)
    csv_table = arrow.set_column(3, "d", pa.array(table["d"].astype(np.float64)))
    pacsv.write_csv(csv_table, root / "t.csv")
    return root


SOURCES = [
    ("t.parquet", ["a", "b", "c", "d"], ["t", "u"]),
    ("dir", ["a", "b", "c", "d"], ["t", "u"]),
    ("t.npy", ["V1", "V2", "V3", "V4"], ["V5", "V6"]),
    ("t.csv", ["a", "b", "c", "d"], ["t", "u"]),
]


def read_all(source, start=0, stop=None):
    stop = source.n_rows if stop is None else stop
    pieces = list(source.rows(start, stop))
    p, q = len(source.feature_names), len(source.target_names)
    if not pieces:
        return np.empty((0, p)), np.empty((0, q))
    for x, y in pieces:
        assert x.dtype == y.dtype == np.float64
        assert x.flags.c_contiguous and y.flags.c_contiguous
        assert x.flags.owndata and x.flags.writeable and y.flags.writeable
        assert 1 <= x.shape[0] == y.shape[0] <= source.chunk_rows
        assert x.shape[1] == p and y.shape[1] == q
    return np.vstack([x for x, _ in pieces]), np.vstack([y for _, y in pieces])


@pytest.mark.parametrize("name, x_names, y_names", SOURCES)
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000, N])
def test_every_format_reads_the_values_for_every_chunk_size(
    files, table, name, x_names, y_names, chunk_rows
):
    source = lrtiers.scan(files / name, x=x_names, y=y_names, chunk_rows=chunk_rows)
    assert source.n_rows == N
    assert source.feature_names == x_names and source.target_names == y_names
    x, y = read_all(source)
    want = expected(table, list(table))
    if name == "t.csv":  # the float32 column went through CSV as float64 values
        want[:, 3] = table["d"].astype(np.float64)
    assert_same_bits(x, want[:, :4])
    assert_same_bits(y, want[:, 4:])


@pytest.mark.parametrize("name, x_names, y_names", SOURCES)
def test_ranges_concatenate(files, name, x_names, y_names):
    source = lrtiers.scan(files / name, x=x_names, y=y_names, chunk_rows=13)
    whole_x, whole_y = read_all(source)
    # boundaries on and off row groups (37 and the directory's 29, 100, 101) and the ends
    cuts = [0, 1, 36, 37, 38, 99, 100, 101, 102, 200, 299, 300]
    for a, b, c in [(0, 100, 300), (36, 37, 38), (1, 101, 299), (99, 100, 102), (5, 5, 200)]:
        ab, bc, ac = read_all(source, a, b), read_all(source, b, c), read_all(source, a, c)
        assert_same_bits(np.vstack([ab[0], bc[0]]), ac[0])
        assert_same_bits(np.vstack([ab[1], bc[1]]), ac[1])
        assert_same_bits(ac[0], whole_x[a:c])
    for a, b in zip(cuts, cuts[1:], strict=False):
        assert_same_bits(read_all(source, a, b)[1], whole_y[a:b])
    assert list(source.rows(7, 7)) == []
    with pytest.raises(ValueError, match="stop must be <= 300"):
        list(source.rows(0, N + 1))


def test_x_defaults_to_the_columns_not_in_y_and_y_may_be_absent(files):
    source = lrtiers.scan(files / "t.parquet", y=["u", "t"])
    assert source.feature_names == ["a", "b", "c", "d"] and source.target_names == ["u", "t"]
    assert source.chunk_rows == DEFAULT_CHUNK_ROWS
    predict = lrtiers.scan(str(files / "t.csv"), x="b")
    assert predict.feature_names == ["b"] and predict.target_names == []
    x, y = read_all(predict, 10, 20)
    assert x.shape == (10, 1) and y.shape == (10, 0)


def test_npy_columns_by_number_or_name(files, table):
    source = lrtiers.scan(files / "t.npy", x=[3, 0], y=np.int64(4))
    assert source.feature_names == ["V4", "V1"] and source.target_names == ["V5"]
    assert_same_bits(read_all(source)[0], expected(table, ["d", "a"]))
    with pytest.raises(ValueError, match="column 6 is out of range .* 6 columns"):
        lrtiers.scan(files / "t.npy", y=6)
    with pytest.raises(TypeError, match="by name; got the number 0"):
        lrtiers.scan(files / "t.parquet", y=0)


def test_a_fortran_ordered_npy_reads_the_same(tmp_path, table):
    values = expected(table, list(table))
    np.save(tmp_path / "f.npy", np.asfortranarray(values))
    source = lrtiers.scan(tmp_path / "f.npy", y="V6", chunk_rows=11)
    assert_same_bits(read_all(source)[0], values[:, :5])


def test_home_is_expanded(files, monkeypatch):
    monkeypatch.setenv("HOME", str(files))
    source = lrtiers.scan("~/t.npy", y="V1")
    assert source.path == str(files / "t.npy")


def test_pickle_keeps_path_and_metadata_and_reopens(files):
    for name, x_names, y_names in SOURCES:
        source = lrtiers.scan(files / name, x=x_names, y=y_names, chunk_rows=50)
        before = read_all(source, 20, 250)  # opens the file: the handle is not pickled
        clone = pickle.loads(pickle.dumps(source))
        assert clone.describe() == source.describe() and clone.chunk_rows == 50
        assert len(pickle.dumps(source)) < 5000
        after = read_all(clone, 20, 250)
        assert_same_bits(before[0], after[0])
        assert_same_bits(before[1], after[1])


def test_describe_and_repr(files):
    source = lrtiers.scan(files / "dir", x=["a", "b"], y="t")
    assert source.describe() == {
        "path": str(files / "dir"),
        "kind": "parquet",
        "n_rows": N,
        "x": ["a", "b"],
        "y": ["t"],
    }
    text = repr(source)
    assert "parquet" in text and "300 rows" in text and "y: t" in text and "a, b" in text


def test_nulls_read_as_nan(tmp_path):
    pq.write_table(
        pa.table({"a": pa.array([1, None, 3]), "t": [1.0, 2.0, None]}), tmp_path / "n.pq"
    )
    x, y = read_all(lrtiers.scan(tmp_path / "n.pq", y="t"))
    assert_same_bits(x[:, 0], [1.0, np.nan, 3.0])
    assert_same_bits(y[:, 0], [1.0, 2.0, np.nan])


# ---------------------------------------------------------------------------- errors


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory: .*nothere.parquet"):
        lrtiers.scan(tmp_path / "nothere.parquet", y="t")


def test_unknown_column_suggests_and_lists(files):
    with pytest.raises(ValueError, match=r"has no column 'tt' \(did you mean 't'\?\).*'a', 'b'"):
        lrtiers.scan(files / "t.parquet", y="tt")
    with pytest.raises(ValueError, match=r"x: .*t.csv' has no column 'A'"):
        lrtiers.scan(files / "t.csv", x=["A"], y="t")


def test_non_numeric_columns_are_named(tmp_path):
    table = pa.table({"a": [1.0, 2.0], "s": ["x", "y"], "t": [1.0, 2.0]})
    pq.write_table(table, tmp_path / "s.parquet")
    pacsv.write_csv(table, tmp_path / "s.csv")
    for name in ("s.parquet", "s.csv"):
        with pytest.raises(TypeError, match="column 's' .* is of type string; .*numbers only"):
            lrtiers.scan(tmp_path / name, y="t")
        lrtiers.scan(tmp_path / name, x="a", y="t")  # the text column is not read
    np.save(tmp_path / "c.npy", np.ones((3, 2), dtype=complex))
    with pytest.raises(TypeError, match="column 'V1' .* of dtype complex128"):
        lrtiers.scan(tmp_path / "c.npy", y="V2")


def test_bad_chunk_rows(files):
    with pytest.raises(ValueError, match="chunk_rows must be >= 1; got 0"):
        lrtiers.scan(files / "t.npy", chunk_rows=0)
    with pytest.raises(TypeError, match="chunk_rows must be a whole number; got '5'"):
        lrtiers.scan(files / "t.npy", chunk_rows="5")
    assert lrtiers.scan(files / "t.npy", chunk_rows=5.0).chunk_rows == 5


def test_empty_files_are_refused(tmp_path):
    pq.write_table(
        pa.table({"a": pa.array([], pa.float64()), "t": pa.array([], pa.int64())}),
        tmp_path / "e.parquet",
    )
    np.save(tmp_path / "e.npy", np.empty((0, 2)))
    (tmp_path / "e.csv").write_text("a,t\n")
    (tmp_path / "blank.csv").write_text("")
    for name in ("e.parquet", "e.npy", "e.csv"):
        with pytest.raises(ValueError, match=f"{name}' has no rows"):
            lrtiers.scan(tmp_path / name, x=["V1" if name.endswith("npy") else "a"])
    with pytest.raises(ValueError, match="cannot read .*blank.csv' as CSV"):
        lrtiers.scan(tmp_path / "blank.csv")


def test_bad_paths_and_shapes(tmp_path, files):
    (tmp_path / "t.txt").write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"cannot read .*t.txt'.*\.parquet.*\.npy.*\.csv"):
        lrtiers.scan(tmp_path / "t.txt")
    with pytest.raises(TypeError, match="path must be a file path"):
        lrtiers.scan(3)
    np.save(tmp_path / "v.npy", np.ones(4))
    with pytest.raises(ValueError, match="1-D array of shape \\(4,\\); .* must be 2-D"):
        lrtiers.scan(tmp_path / "v.npy")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match="has no .parquet files"):
        lrtiers.scan(tmp_path / "empty_dir")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="cannot read .*junk.parquet' as Parquet"):
        lrtiers.scan(tmp_path / "junk.parquet")
    with pytest.raises(ValueError, match="in both x and y"):
        lrtiers.scan(files / "t.npy", x=["V1", "V2"], y="V2")
    with pytest.raises(ValueError, match="more than once"):
        lrtiers.scan(files / "t.npy", x=["V1", 0])
    with pytest.raises(ValueError, match="x names no columns"):
        lrtiers.scan(files / "t.npy", x=[])


def test_a_directory_of_parquet_files_needs_one_schema(tmp_path):
    (tmp_path / "d").mkdir()
    pq.write_table(pa.table({"a": [1.0], "t": [2.0]}), tmp_path / "d" / "1.parquet")
    pq.write_table(pa.table({"a": [1], "t": [2.0]}), tmp_path / "d" / "2.parquet")
    with pytest.raises(ValueError, match="must share one schema; '2.parquet' has"):
        lrtiers.scan(tmp_path / "d", y="t")


def test_csv_integer_columns_may_turn_decimal_further_down(tmp_path):
    # pyarrow infers the types from the first block; later blocks are read as float64
    lines = ["a,t"] + [f"{i},{i}" for i in range(200_000)] + ["0.5,1"]
    (tmp_path / "late.csv").write_text("\n".join(lines) + "\n")
    source = lrtiers.scan(tmp_path / "late.csv", y="t", chunk_rows=100_000)
    assert source.n_rows == 200_001
    x, _ = read_all(source, 199_999, 200_001)
    assert_same_bits(x[:, 0], [199_999.0, 0.5])


# ---------------------------------------------------------------------------- memory


def _peak_while_reading(source):
    """Peak NumPy (tracemalloc) and Arrow allocation while reading every row."""
    import tracemalloc

    pool = pa.default_memory_pool()
    arrow_before = pool.bytes_allocated()
    arrow_peak = 0
    tracemalloc.start()
    try:
        for x, y in source.rows(0, source.n_rows):
            arrow_peak = max(arrow_peak, pool.bytes_allocated() - arrow_before)
            del x, y
        numpy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return numpy_peak, arrow_peak


@pytest.mark.parametrize("kind", ["parquet", "npy"])
def test_memory_does_not_grow_with_the_file(tmp_path, kind):
    chunk = 1000
    chunk_bytes = chunk * 4 * 8
    peaks = []
    for n in (20_000, 200_000):
        values = np.random.default_rng(n).standard_normal((n, 4))
        if kind == "parquet":
            path = tmp_path / f"{n}.parquet"
            columns = {f"c{j}": values[:, j] for j in range(4)}
            pq.write_table(pa.table(columns), path, row_group_size=5000)
        else:
            path = tmp_path / f"{n}.npy"
            np.save(path, values)
        peaks.append(_peak_while_reading(lrtiers.scan(path, chunk_rows=chunk)))
        del values
    (numpy_small, arrow_small), (numpy_large, arrow_large) = peaks
    assert numpy_large - numpy_small < chunk_bytes, peaks
    assert arrow_large - arrow_small < chunk_bytes, peaks
    # and in absolute terms: a few chunks and a row group, far from the 6.4 MB of the file
    assert numpy_large < 10 * chunk_bytes + 5000 * 4 * 8, peaks


def test_import_lrtiers_does_not_import_pyarrow():
    import subprocess
    import sys

    code = "import sys, lrtiers; lrtiers.scan; print('pyarrow' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(lrtiers.__file__))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "False", out.stderr
