"""Tutorial identity, checked from R: seed 000's rTorch loop, written with raw reticulate calls
in a separate Rscript, gives the bits of Python's lr_fit(tier="dataloader")."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from grid import parity_data, write_matrix

import lrtiers
from lrtiers.datasets import crop_yields

pytestmark = [pytest.mark.r, pytest.mark.filterwarnings("ignore::lrtiers.ConvergenceWarning")]
HERE = __import__("pathlib").Path(__file__).resolve().parent

# Seed 000 as published (15 rows, batch 5, lr 1e-5, 100 epochs, float32), the same in float64,
# and a batch size that leaves a short last batch on other data.
TUTORIAL_RUNS = (
    {"data": "crop_yields", "dtype": "float32", "batch_size": 5, "lr": 1e-5, "epochs": 100},
    {"data": "crop_yields", "dtype": "float64", "batch_size": 5, "lr": 1e-5, "epochs": 100},
    {"data": "parity", "dtype": "float64", "batch_size": 8, "lr": 1e-3, "epochs": 20},
    {"data": "parity", "dtype": "float32", "batch_size": 8, "lr": 1e-3, "epochs": 20},
)


def tutorial_data(name):
    if name == "crop_yields":
        x, y = crop_yields("rtorch")
        return np.asarray(x, np.float64), np.asarray(y, np.float64)
    return parity_data(2)


def test_the_rtorch_loop_in_r_gives_lr_fit_bits(rscript_env, tmp_path):
    specs = []
    for name in ("crop_yields", "parity"):
        x, y = tutorial_data(name)
        write_matrix(tmp_path / f"x_{name}.bin", x)
        write_matrix(tmp_path / f"y_{name}.bin", y)
    for run in TUTORIAL_RUNS:
        x, _ = tutorial_data(run["data"])
        specs.append(
            dict(
                run,
                n=len(x),
                x_file=f"x_{run['data']}.bin",
                y_file=f"y_{run['data']}.bin",
                seed=0,
                threads=1,
            )
        )
    (tmp_path / "tutorial.json").write_text(json.dumps(specs))
    subprocess.run(
        ["Rscript", str(HERE / "r_side.R"), str(tmp_path), "tutorial"], env=rscript_env, check=True
    )

    for i, spec in enumerate(specs):
        x, y = tutorial_data(spec["data"])
        fit = lrtiers.lr_fit(
            x,
            y,
            tier="dataloader",
            batch_size=spec["batch_size"],
            lr=spec["lr"],
            epochs=spec["epochs"],
            dtype=spec["dtype"],
            seed=0,
            threads=1,
            **lrtiers.TUTORIAL_SETTINGS,
        )
        python = np.concatenate([np.ravel(fit.weight), np.ravel(fit.bias)]).astype(np.float64)
        r = np.fromfile(tmp_path / f"r_tutorial_{i}.bin", dtype="<f8")
        differ = np.flatnonzero(python.view(np.int64) != r.view(np.int64))
        assert differ.size == 0, (
            f"{spec['data']}/{spec['dtype']}/batch={spec['batch_size']}: value {differ[0]} "
            f"(weight then bias) is {python[differ[0]]!r} from lr_fit, {r[differ[0]]!r} from R"
        )
