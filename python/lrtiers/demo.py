"""`make demo`: every tier on the crop-yields data, judged against least squares.

Run as ``python -m lrtiers.demo``.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import datasets
from .fit import lr_fit
from .settings import TIERS, TUTORIAL_SETTINGS

SEED = 2024
#: Seed 001's run: plain SGD on the raw columns, lr 1e-5, batches of 5, 100 epochs.
TUTORIAL_RUN = dict(TUTORIAL_SETTINGS, tier="dataloader", batch_size=5, lr=1e-5, epochs=100)


def _row(label: str, fit) -> str:
    verdict = "yes" if fit.converged else "NO"
    return (
        f"  {label:<22} {fit.epochs_run:>6} {verdict:>9} {fit.verdict['digits']:>7.1f}"
        f" {fit.loss:>10.4f} {1000 * fit.elapsed:>8.1f}"
    )


def _fit(x, y, **settings):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = lr_fit(x, y, seed=SEED, **settings)
    return fit, [str(w.message) for w in caught]


def main() -> None:
    frame = datasets.crop_yields(as_frame=True)
    x, y = frame[list(datasets.FEATURES)], frame[list(datasets.TARGETS)]
    print("Crop yields, the tutorials' 15 regions: temp, rainfall, humidity -> apples, oranges")
    print("Least squares (QR, as lm()) has loss", end=" ")

    header = f"  {'fit':<22} {'epochs':>6} {'converged':>9} {'digits':>7} {'loss':>10} {'ms':>8}"
    fits = {tier: _fit(x, y, tier=tier)[0] for tier in TIERS}
    print(f"{fits['module'].optimum['loss']:.4f}. Every tier with the defaults:\n")
    print(header)
    for tier, fit in fits.items():
        print(_row(tier, fit))
    mini, _ = _fit(x, y, tier="dataloader", batch_size=5)
    print(_row("dataloader, batch 5", mini))
    print(
        "\n'digits': significant digits the worst coefficient shares with least squares,\n"
        "relative to max(|b|, SE(b)); 7 are needed to be converged (float64). Mini-batch\n"
        "noise keeps the batch-5 fit a few digits short: it says so, with a warning.\n"
    )

    tutorial, messages = _fit(x, y, **TUTORIAL_RUN)
    print("The tutorial's own run (plain SGD on the raw columns, lr 1e-5, 100 epochs):\n")
    print(header)
    print(_row("seed 001's loop", tutorial))
    for message in messages:
        print("\n  " + "\n  ".join(_wrap(message, 84)))

    new_region = np.array([datasets.NEW_REGION])
    region = ", ".join(f"{v:g}" for v in datasets.NEW_REGION)
    print(f"\nPredicted yields for a new region with temp, rainfall, humidity = {region}:")
    for tier, fit in fits.items():
        apples, oranges = fit.predict(new_region)[0]
        print(f"  {tier:<11} apples {apples:9.4f}   oranges {oranges:9.4f}")
    ols = np.linalg.lstsq(np.column_stack([np.ones(len(x)), x]), y, rcond=None)[0]
    apples, oranges = np.concatenate([[1.0], datasets.NEW_REGION]) @ ols
    print(f"  {'lstsq':<11} apples {apples:9.4f}   oranges {oranges:9.4f}")


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


if __name__ == "__main__":
    main()
