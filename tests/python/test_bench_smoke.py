"""The benchmark harness runs end to end at tiny sizes (it times nothing here)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not in the package: it runs from the checkout
from benchmarks import bench  # noqa: E402


def test_bench_smoke(tmp_path):
    out = tmp_path / "bench.md"
    assert bench.main(["--smoke", "--no-r", "--out", str(out)]) == 0
    text = out.read_text()
    for row in (
        *(f"| tiny data | {tier}, 15 x 3 -> 2 (crop yields) |" for tier in bench.TIERS),
        "| full batch | an epoch, module, float64 |",
        "| mini-batch | literal loop",
        "| mini-batch gap | dataloader, batch 8, crop yields: defaults",
        "| closed form | lr_fit / NumPy lstsq",
        "| closed form | lr_fit / normal-equations Cholesky",
        "| closed form | lr_fit / two passes over X",
        "| streamed | Parquet 20,000 x 3: one pass of Source.blocks(65536) |",
        "| streamed | Parquet 20,000 x 3: lr_fit(scan(f)) at the defaults |",
        "| streamed | Parquet 20,000 x 3: a full-batch epoch |",
        "| streamed | CSV 20,000 x 3: lr_fit(scan(f)) at the defaults |",
        "| streamed | CSV, a quarter 5,000 x 3: a full-batch epoch |",
        "| streamed | CSV: a fit at the defaults, time per row at 20,000 / at 5,000 rows |",
        "| memory |",
        "| GPU |",
        "## Time and epochs to lm()'s answer",
        "### Mini-batches to lm()'s answer",
        "| data set | dataloader, full batch | batch 1 | batch 8 | batch 32 | batch 256 |",
        "| diabetes (scikit-learn) |",
    ):
        assert row in text
    # the hand-written tutorial loops and lr_fit(**TUTORIAL_SETTINGS) agree bit for bit
    assert text.count("bitwise the same coefficients") == len(bench.TIERS)
    assert "bitwise the same weights as the literal loop" in text
    assert "DIFFER" not in text
    # the defaults: lm()'s answer in an epoch or two
    assert re.search(r"\| StRD Norris \| [12] ep, 1\d\.\d d, ", text)
    assert out.with_suffix(".png").stat().st_size > 1000


def test_bench_merge_keeps_the_document(tmp_path):
    out = tmp_path / "bench.md"
    out.write_text("# lrtiers benchmarks\n\n| section | what |\n| tiny data | kept |\n")
    for _ in range(2):  # a second merge replaces the first's rows
        assert (
            bench.main(["--smoke", "--no-r", "--only", "closed", "--merge", "--out", str(out)]) == 0
        )
    text = out.read_text()
    assert text.startswith("# lrtiers benchmarks\n\n| section | what |\n| tiny data | kept |\n")
    assert text.count("## Rows from a partial run") == 1
    assert text.count("| closed form | lr_fit / NumPy lstsq |") == 1
    assert text.rstrip().endswith(bench.PARTIAL_END)
