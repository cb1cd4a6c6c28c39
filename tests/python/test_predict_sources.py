"""fit.predict(source): a file scanned with lrtiers.scan, of any format, predicted a chunk at
a time into one array, as predict gives for arrays; its feature columns by name."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import lrtiers

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

FEATURES = ["temp", "rainfall", "humidity"]


@pytest.fixture(scope="module")
def fits(crop):
    x, y = crop
    frame = pd.DataFrame(x, columns=FEATURES)
    return {
        "vector": lrtiers.lr_fit(frame, pd.Series(y[:, 0], name="apples"), seed=0),
        "matrix": lrtiers.lr_fit(frame, pd.DataFrame(y, columns=["apples", "oranges"]), seed=0),
    }


@pytest.fixture(scope="module")
def new_data(tmp_path_factory):
    """41 new rows, the columns in another order than the fit's, a target and an extra
    column, as Parquet, CSV and .npy (columns V1..V5 there)."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "humidity": rng.uniform(30, 80, 41),
            "id": np.arange(41.0),
            "temp": rng.uniform(60, 100, 41),
            "apples": rng.uniform(50, 120, 41),
            "rainfall": rng.uniform(40, 140, 41),
        }
    )
    root = tmp_path_factory.mktemp("new")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), root / "new.parquet")
    frame.to_csv(root / "new.csv", index=False)
    np.save(root / "new.npy", frame.to_numpy())
    return frame, root


@pytest.mark.parametrize("name", ["new.parquet", "new.csv"])
@pytest.mark.parametrize("shape", ["vector", "matrix"])
def test_every_format_predicts_as_the_array_does(fits, new_data, name, shape):
    fit = fits[shape]
    frame, root = new_data
    expected = fit.predict(frame[FEATURES].to_numpy())
    for source in (
        lrtiers.scan(root / name, x=FEATURES, chunk_rows=4),  # by name, in the fit's order
        lrtiers.scan(root / name, x=["rainfall", "humidity", "temp", "id"]),  # another order
        lrtiers.scan(root / name, y="apples"),  # x: every column but y
    ):
        got = fit.predict(source)
        assert got.shape == expected.shape == ((41,) if shape == "vector" else (41, 2))
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_the_rows_are_read_a_chunk_at_a_time(fits, new_data, monkeypatch):
    frame, root = new_data
    source = lrtiers.scan(root / "new.parquet", x=FEATURES, chunk_rows=6)
    sizes = []
    rows = type(source).rows

    def spy(self, start, stop):
        for x, y in rows(self, start, stop):
            sizes.append(len(x))
            yield x, y

    monkeypatch.setattr(type(source), "rows", spy)
    pred = fits["vector"].predict(source)
    assert sizes and max(sizes) <= 6 and sum(sizes) == 41 == len(pred)


def test_npy_columns_and_default_names(crop, new_data):
    x, y = crop
    frame, root = new_data
    named = lrtiers.lr_fit(pd.DataFrame(x, columns=FEATURES), y[:, 0], seed=0)
    # a .npy file's columns are V1..V5: a fit with names needs them under those names
    with pytest.raises(ValueError, match=r"lack column\(s\) used in the fit: temp, rainfall"):
        named.predict(lrtiers.scan(root / "new.npy"))
    # a fit without names (x1..x3) reads the source's x columns by position, as for arrays
    plain = lrtiers.lr_fit(x, y[:, 0], seed=0)
    source = lrtiers.scan(root / "new.npy", x=["V3", "V5", "V1"])
    np.testing.assert_allclose(
        plain.predict(source), plain.predict(frame[FEATURES].to_numpy()), rtol=1e-14
    )
    with pytest.raises(ValueError, match="lack column"):
        plain.predict(lrtiers.scan(root / "new.npy", x=["V3", "V5"]))


def test_non_finite_rows_are_named_in_the_file(fits, tmp_path):
    frame = pd.DataFrame({"temp": np.arange(10.0), "rainfall": 1.0, "humidity": 2.0})
    frame.loc[7, "rainfall"] = np.nan
    frame.to_csv(tmp_path / "gap.csv", index=False)
    source = lrtiers.scan(tmp_path / "gap.csv", chunk_rows=3)
    with pytest.raises(ValueError, match=r"gap.csv.*1 non-finite value.*\(0-based row 7\)"):
        fits["vector"].predict(source)


def test_a_rank_deficient_fit_warns_once_per_prediction(crop, tmp_path):
    x, y = crop
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["twice"] = 2 * frame["temp"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.RankDeficiencyWarning)
        fit = lrtiers.lr_fit(frame, y[:, 0], seed=0)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "d.parquet")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = fit.predict(lrtiers.scan(tmp_path / "d.parquet", chunk_rows=2))
    assert [str(w.message).count("twice") for w in caught] == [1]
    np.testing.assert_allclose(got, fit.predict(frame.to_numpy()), rtol=1e-14)


def test_without_pyarrow_the_error_names_the_extra(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3,5\n")
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "import numpy as np, lrtiers\n"
        "np.save('d.npy', np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 4.5]]))\n"
        "fit = lrtiers.lr_fit(lrtiers.scan('d.npy', y='V2'), seed=0)\n"  # .npy: no pyarrow
        "print(fit.predict(lrtiers.scan('d.npy', x='V1')).shape)\n"
        "try:\n"
        "    lrtiers.scan('d.csv', y='b')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(lrtiers.__file__))}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "(3,)"
    assert "pyarrow" in lines[1] and 'pip install "lrtiers[parquet]"' in lines[1]
