import re

import numpy as np

import lrtiers
from lrtiers import demo


def test_lr_compare_table(crop):
    x, y = crop
    table = lrtiers.lr_compare(x, y, standardize=True, epochs=2000, seed=0)
    assert list(table["tier"]) == ["closed-form", *lrtiers.TIERS]
    assert {"apples:bias", "y1:bias"} & set(table.columns) == {"y1:bias"}
    assert (table["gap"].abs() < 1e-10).all()
    assert (table["max_coef_diff"] < 1e-6).all()
    assert table["converged"].all() and (table["digits"].iloc[1:] >= 7).all()
    one = lrtiers.lr_compare(
        x, y[:, 0], tiers=["numpy"], epochs=3, seed=0, lr=1e-5, precondition="none"
    )
    assert list(one.columns[:5]) == ["tier", "bias", "x1", "x2", "x3"]
    assert not bool(one["converged"].iloc[1])
    # one seed for all tiers when none is given: every tier starts from the same point
    table = lrtiers.lr_compare(x, y, tiers=["numpy", "module"], epochs=1, lr=1e-6)
    np.testing.assert_allclose(table.loc[1, "loss"], table.loc[2, "loss"], rtol=1e-12)


def test_demo_prints_the_verdicts_and_the_prediction(capsys):
    import time

    started = time.perf_counter()
    demo.main()
    seconds = time.perf_counter() - started
    out = capsys.readouterr().out
    for tier in lrtiers.TIERS:
        assert re.search(rf"^  {tier} +\d+ +yes +[\d.]+ +0 ", out, re.M), tier
    epochs = re.search(r"^  dataloader, batches of 5 +(\d+) +yes ", out, re.M)
    assert epochs and int(epochs.group(1)) < 1000
    assert re.search(rf"^    the same, plain SGD +{epochs.group(1)} +NO ", out, re.M)
    assert re.search(r"^  tutorial loop +100 +NO ", out, re.M)
    assert "precondition='orthogonal'" in out  # the tutorial run's advice
    assert "gap: " in out and "converged: " in out  # both explained
    assert "seed 0" not in out  # plain words, not the tutorials' file names
    assert "apples   53.7956" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert seconds < 5  # torch imported already (the demo's own work)
