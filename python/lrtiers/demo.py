"""`make demo`: the crop-yields regression fitted five ways, each checked against the exact
least-squares answer (what R's lm() gives).

Run as ``python -m lrtiers.demo``. Prints at most 90 columns; takes a few seconds, most of
them importing torch.
"""

from __future__ import annotations

import textwrap
import warnings
from typing import Any

import numpy as np

from . import datasets
from .fit import lr_fit
from .result import LRFit
from .settings import TIERS, TUTORIAL_SETTINGS

SEED = 2024
WIDTH = 90
#: The tutorials' own run: plain SGD on the raw columns, step 1e-5, batches of 5, 100 epochs.
TUTORIAL_RUN = dict(TUTORIAL_SETTINGS, tier="dataloader", batch_size=5, lr=1e-5, epochs=100)
#: Mini-batches of 5 rows at the defaults (SVRG's anchor gradient: they arrive), and as plain
#: SGD with a decaying step for as long, to show where their noise stops.
MINI_BATCH_RUN = dict(tier="dataloader", batch_size=5)
PLAIN_MINI_BATCH_RUN = dict(MINI_BATCH_RUN, variance_reduction="none")

HEADER = f"  {'how':<26} {'epochs':>6} {'converged':>9} {'digits':>6} {'gap':>10} {'ms':>7}"


def _row(label: str, fit: LRFit) -> str:
    converged = "yes" if fit.converged else "NO"
    gap = fit.loss_gap
    gap = 0.0 if abs(gap) <= 1e-12 * fit.optimum["loss"] else gap  # round-off: 0
    return (
        f"  {label:<26} {fit.epochs_run:>6} {converged:>9} {fit.verdict['digits']:>6.1f}"
        f" {gap:>10.2g} {1000 * fit.elapsed:>7.1f}"
    )


def _fit(x: Any, y: Any, **settings: Any) -> tuple[LRFit, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = lr_fit(x, y, seed=SEED, **settings)
    return fit, [str(w.message) for w in caught]


def _say(text: str, indent: str = "") -> None:
    print(textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent))


def main() -> None:
    frame = datasets.crop_yields(as_frame=True)
    x, y = frame[list(datasets.FEATURES)], frame[list(datasets.TARGETS)]
    _say(
        "Crop yields of 15 regions: temperature, rainfall and humidity predict the yields "
        "of apples and oranges. Each row below fits this linear regression by gradient "
        "descent, and checks the answer against exact least squares."
    )
    for tier in TIERS:  # the first use of torch.optim imports part of torch: not timed
        _fit(x, y, tier=tier, epochs=1)
    fits = {tier: _fit(x, y, tier=tier)[0] for tier in TIERS}
    mini, _ = _fit(x, y, **MINI_BATCH_RUN)
    plain, _ = _fit(x, y, **PLAIN_MINI_BATCH_RUN, epochs=mini.epochs_run)
    print("\nThe five training tiers (the tutorials' steps, from NumPy to DataLoader), defaults:\n")
    print(HEADER)
    for tier, fit in fits.items():
        print(_row(tier, fit))
    print(_row("dataloader, batches of 5", mini))
    print(_row("  the same, plain SGD", plain))
    print()
    _say(
        "converged: every coefficient equals the exact answer to 7 significant digits "
        "('digits' says how many agree). gap: the fit's mean squared error minus the "
        "smallest one possible (0 is best, round-off aside). Batches of 5 rows give noisy "
        "steps: by default each batch's gradient is corrected with the full gradient at "
        "the parameters the epoch began with (SVRG), and they arrive; as plain SGD "
        "(variance_reduction='none') they stop short of 7 digits in as many epochs, and "
        "that fit says so (converged NO) and warns."
    )

    tutorial, messages = _fit(x, y, **TUTORIAL_RUN)
    print("\nThe tutorials' own settings (plain steps of 1e-5 on the raw columns, 100 epochs):\n")
    print(HEADER)
    print(_row("tutorial loop", tutorial))
    print("\nIt has not converged, and the warning says why and what to change:\n")
    for message in messages:
        _say(message, indent="  ")

    region = ", ".join(f"{v:g}" for v in datasets.NEW_REGION)
    print(f"\nPredicted yields for a new region (temperature, rainfall, humidity = {region}):")
    new_region = np.array([datasets.NEW_REGION])
    for tier, fit in fits.items():
        apples, oranges = fit.predict(new_region)[0]
        print(f"  {tier:<14} apples {apples:9.4f}   oranges {oranges:9.4f}")
    exact = np.linalg.lstsq(np.column_stack([np.ones(len(x)), x]), y, rcond=None)[0]
    apples, oranges = np.concatenate([[1.0], datasets.NEW_REGION]) @ exact
    print(f"  {'exact answer':<14} apples {apples:9.4f}   oranges {oranges:9.4f}")


if __name__ == "__main__":
    main()
