"""Fits run from many threads at once give the bits of the same fits run one by one, and
leave the caller's random states and thread settings as they were."""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from conftest import assert_same_fit
from threadpoolctl import threadpool_info

import lrtiers
from lrtiers.settings import max_threads

#: several tiers and modes, shuffled mini-batches (the generator's draws) among them
JOBS = [
    {"tier": "numpy", "batch_size": 16},
    {"tier": "autograd"},
    {"tier": "optim", "batch_size": 10, "optimizer": "adam"},
    {"tier": "module", "epochs": 0},
    {"tier": "dataloader", "batch_size": 8},
    {"tier": "dataloader", "batch_size": 8, "threads": 1},
    {"tier": "module", "batch_size": 25, "threads": 1},
    {"tier": "optim", "optimizer": "lbfgs"},
    {"tier": "autograd", "batch_size": 12, "validation": 0.2},
    {"tier": "numpy", "threads": 1, "epochs": 0},
]


def _fit(data, job, seed):
    x, y = data
    settings = {"epochs": 20, "precondition": "scale", **job}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(x, y, seed=seed, stop_when_converged=False, **settings)


def _blas_threads():
    return sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info())


def test_concurrent_fits_are_the_serial_fits_bit_for_bit(well_conditioned):
    work = [(job, seed) for seed in (0, 1, 2) for job in JOBS]
    serial = [_fit(well_conditioned, job, seed) for job, seed in work]
    torch_threads, blas = torch.get_num_threads(), _blas_threads()
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()

    def run(item):
        return _fit(well_conditioned, *item)

    for _ in range(2):
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(run, work))
        for (job, seed), one, other in zip(work, serial, concurrent, strict=True):
            assert one.settings == other.settings, (job, seed)
            assert_same_fit(one, other)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(
        np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state, strict=True)
    )
    assert torch.get_num_threads() == torch_threads
    assert _blas_threads() == blas


def test_epochs_zero_starts_from_the_seeded_draw_in_every_thread(crop):
    x, y = crop
    want = lrtiers.lr_fit(x, y, epochs=0, seed=5, precondition="none")
    with ThreadPoolExecutor(max_workers=8) as pool:
        fits = list(
            pool.map(
                lambda _: lrtiers.lr_fit(x, y, epochs=0, seed=5, precondition="none"), range(64)
            )
        )
    for fit in fits:
        assert_same_fit(want, fit)


@pytest.mark.parametrize("tier", ["module", "dataloader"])
def test_the_global_generator_is_neither_read_nor_moved(crop, tier):
    """The fit draws from its own generator: seeding the global one differently, or
    drawing from it meanwhile, changes nothing, and it is not advanced."""
    x, y = crop
    settings = dict(tier=tier, batch_size=5, epochs=3, seed=9, **lrtiers.TUTORIAL_SETTINGS)
    settings["lr"] = 1e-5
    torch.manual_seed(123)
    first = lrtiers.lr_fit(x, y, **settings)
    after = torch.rand(3)
    torch.manual_seed(123)
    torch.rand(17)  # another state
    second = lrtiers.lr_fit(x, y, **settings)
    assert_same_fit(first, second)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(3), after)


@pytest.mark.skipif(max_threads() < 2, reason="needs 2 CPUs")
def test_a_fit_inside_a_callback_does_not_hang(crop):
    x, y = crop
    inner = []

    def callback(epoch, loss):
        if epoch == 1:
            inner.append(lrtiers.lr_fit(x, y, seed=1, threads=1))  # the outer's count: runs
            lrtiers.lr_fit(x, y, seed=1, threads=2)  # another count: a clear error, no wait

    with pytest.raises(RuntimeError, match=r"inside a fit running on 1 threads"):
        lrtiers.lr_fit(x, y, seed=0, threads=1, callback=callback)
    assert inner and inner[0].converged
    assert lrtiers.lr_fit(x, y, seed=0, threads=2).settings["threads"] == 2  # nothing left held
