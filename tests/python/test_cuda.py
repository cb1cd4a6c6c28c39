"""The device="cuda" path: runs where a GPU is present, skips cleanly elsewhere."""

import numpy as np
import pytest
import torch

import lrtiers

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


@needs_gpu
@pytest.mark.parametrize("tier", ["autograd", "optim", "module", "dataloader"])
def test_cuda_matches_cpu(well_conditioned, tier):
    x, y = well_conditioned
    cpu = lrtiers.lr_fit(x, y, tier=tier, seed=0, epochs=200, batch_size=None)
    gpu = lrtiers.lr_fit(x, y, tier=tier, seed=0, epochs=200, device="cuda")
    np.testing.assert_allclose(gpu.weight, cpu.weight, rtol=1e-10)
    assert gpu.device == "cuda" and gpu.converged


@needs_gpu
def test_cuda_minibatch_and_rng(well_conditioned):
    x, y = well_conditioned
    state = torch.cuda.get_rng_state()
    cpu = lrtiers.lr_fit(x, y, tier="dataloader", seed=1, epochs=20, batch_size=16)
    gpu = lrtiers.lr_fit(x, y, tier="dataloader", seed=1, epochs=20, batch_size=16, device="cuda")
    np.testing.assert_allclose(gpu.weight, cpu.weight, rtol=1e-9)
    assert torch.equal(torch.cuda.get_rng_state(), state)


@needs_gpu
@pytest.mark.parametrize("tier", [t for t in lrtiers.TIERS if t != "numpy"])  # NumPy: CPU
def test_cuda_blocks_match_cpu(tmp_path, well_conditioned, tier):
    """The one engine on the GPU: a file read block by block and arrays of several blocks
    train on the device and give the CPU's answer."""
    x, y = well_conditioned
    path = tmp_path / "table.npy"
    np.save(path, np.column_stack([x, y]))
    source = lrtiers.scan(path, y=["V4", "V5"])
    for data in ((source,), (x, y)):
        for settings in (dict(), dict(batch_size=16, epochs=5)):
            cpu = lrtiers.lr_fit(*data, tier=tier, seed=2, block_rows=64, **settings)
            gpu = lrtiers.lr_fit(*data, tier=tier, seed=2, block_rows=64, device="cuda", **settings)
            np.testing.assert_allclose(gpu.weight, cpu.weight, rtol=1e-9, atol=1e-12)
            assert gpu.device == "cuda"
            if not settings:
                assert gpu.converged
