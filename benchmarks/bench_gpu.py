"""GPU check (run where a CUDA GPU is lent): fits at the defaults and full-batch epochs at the
tutorial settings on the GPU and the CPU, side by side, in memory and streamed. Prints a
markdown table; not part of make test or make bench (no GPU there).

    PYTHONPATH=python python benchmarks/bench_gpu.py [--rows 2000000] [--cols 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import lrtiers


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        started = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--cols", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, args.cols))
    y = x @ np.arange(1.0, args.cols + 1) + 1.0 + rng.standard_normal(args.rows)
    folder = Path(tempfile.mkdtemp())
    np.save(folder / "t.npy", np.column_stack([x, y]))
    source = lrtiers.scan(folder / "t.npy", y=f"V{args.cols + 1}")
    warnings.simplefilter("ignore")
    tutorial = dict(lrtiers.TUTORIAL_SETTINGS, tier="module", lr=0.05, seed=0)
    print("| data | device | defaults s (epochs, converged) | tutorial epoch s |")
    print("|---|---|---|---|")
    for name, data in (("in memory", (x, y)), ("streamed .npy", (source,))):
        devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
        for device in devices:

            def fit_on(data=data, device=device, **settings):
                return lrtiers.lr_fit(*data, device=device, **settings)

            fit = fit_on(seed=0)
            t_fit = timed(lambda: fit_on(seed=0))
            one = timed(lambda: fit_on(epochs=1, **tutorial))
            six = timed(lambda: fit_on(epochs=6, **tutorial))
            print(
                f"| {name} | {device} | {t_fit:.3f} ({fit.epochs_run}, {fit.converged}) | "
                f"{(six - one) / 5:.4f} |"
            )
    print(
        f"\n{args.rows:,} x {args.cols}, torch {torch.__version__}, "
        f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}"
    )


if __name__ == "__main__":
    main()
