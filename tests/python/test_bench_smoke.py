"""The benchmark harness runs end to end at tiny sizes (it times nothing here)."""

from lrtiers import bench


def test_bench_smoke(tmp_path):
    out = tmp_path / "bench.md"
    assert bench.main(["--smoke", "--no-r", "--out", str(out)]) == 0
    text = out.read_text()
    for row in (
        "| full batch | module, float64 |",
        "| mini-batch | literal loop",
        "| closed form | lr_fit / NumPy lstsq",
        "| memory |",
        "| GPU |",
    ):
        assert row in text
    assert "bitwise the same weights as the literal loop" in text
    assert out.with_suffix(".png").stat().st_size > 1000
