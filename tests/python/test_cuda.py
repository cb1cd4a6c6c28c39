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
