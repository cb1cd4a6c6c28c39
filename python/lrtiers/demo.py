"""`make demo`: every tier on the crop-yields data, next to the closed-form answer.

Run as ``python -m lrtiers.demo``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import datasets
from .fit import lr_compare, lr_fit
from .settings import TIERS

SETTINGS = dict(seed=2024, standardize=True, epochs=2000)


def main() -> None:
    frame = datasets.crop_yields(as_frame=True)
    x, y = frame[list(datasets.FEATURES)], frame[list(datasets.TARGETS)]
    print("Crop yields (seed 001's 15 regions): temp, rainfall, humidity -> apples, oranges\n")
    print(
        f"lr_compare(x, y, seed={SETTINGS['seed']}, standardize=True, epochs={SETTINGS['epochs']})"
        " plus the dataloader tier at batch_size=5:\n"
    )
    table = pd.concat(
        [
            lr_compare(x, y, tiers=TIERS, **SETTINGS),
            lr_compare(x, y, tiers=["dataloader"], batch_size=5, **SETTINGS)
            .iloc[1:]
            .assign(tier="dataloader (batch 5)"),
        ],
        ignore_index=True,
    )
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 5):
        print(table.to_string(index=False))

    new_region = pd.DataFrame([datasets.NEW_REGION], columns=list(datasets.FEATURES))
    print(
        f"\nPredicted yields for the new region {datasets.NEW_REGION} (temp, rainfall, humidity):"
    )
    for tier in TIERS:
        fit = lr_fit(x, y, tier=tier, **SETTINGS)
        apples, oranges = fit.predict(new_region)[0]
        print(f"  {tier:<11} apples {apples:9.4f}   oranges {oranges:9.4f}")
    ols = np.linalg.lstsq(np.column_stack([np.ones(len(x)), x]), y, rcond=None)[0]
    apples, oranges = np.concatenate([[1.0], datasets.NEW_REGION]) @ ols
    print(f"  {'lstsq':<11} apples {apples:9.4f}   oranges {oranges:9.4f}")


if __name__ == "__main__":
    main()
