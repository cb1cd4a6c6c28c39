"""The tutorials' torch loops, written out as the seed scripts write them.

The tier-identity tests (tests/python/test_tutorial_identity.py) check that each tier with
``TUTORIAL_SETTINGS`` gives these scripts' bits; ``make bench`` times them against
``lr_fit`` (benchmarks/bench.py). They seed torch's global generator, as the tutorials do: callers
that care put it back. Each returns (weight, bias, losses): the detached parameters and the
loss of every epoch (None where the tutorial does not keep them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def starting_values(seed: int, p: int, q: int, dtype: torch.dtype) -> nn.Linear:
    torch.manual_seed(seed)
    model = nn.Linear(p, q, dtype=dtype)
    return model


def autograd_script(inputs, targets, seed, lr, epochs):
    """Seeds 001/004: w, b tensors with requires_grad, mse by hand, update under no_grad."""
    model = starting_values(seed, inputs.shape[1], targets.shape[1], inputs.dtype)
    weights = model.weight.detach().clone().requires_grad_(True)
    biases = model.bias.detach().clone().requires_grad_(True)

    def mse(preds, targets):
        diff = preds - targets
        return torch.sum(diff * diff) / diff.numel()

    losses = []
    for i in range(epochs):
        preds = inputs @ weights.t() + biases
        loss = mse(preds, targets)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            weights -= lr * weights.grad
            weights.grad.zero_()
            biases -= lr * biases.grad
            biases.grad.zero_()
    return weights.detach(), biases.detach(), losses


def optim_script(inputs, targets, seed, lr, epochs):
    """Seed 004: autograd + nn.MSELoss + optim.SGD([b, w])."""
    model = starting_values(seed, inputs.shape[1], targets.shape[1], inputs.dtype)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer = torch.optim.SGD([b, w], lr=lr)
    losses = []
    for t in range(epochs):
        y_hat = inputs @ w.t() + b
        loss = loss_fn(y_hat, targets)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return w.detach(), b.detach(), losses


def module_script(inputs, targets, seed, lr, epochs):
    """Seeds 001/002/004: model = nn.Linear(p, q), nn.MSELoss, optim.SGD(model.parameters())."""
    model = starting_values(seed, inputs.shape[1], targets.shape[1], inputs.dtype)
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for t in range(epochs):
        model.train()
        y_hat = model(inputs)
        loss = loss_fn(y_hat, targets)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.weight.detach(), model.bias.detach(), losses


def dataloader_script(
    inputs, targets, seed, lr, epochs, batch_size, loader: Callable[..., Any] = DataLoader
):
    """Seed 000, literally: manual_seed, model, DataLoader(TensorDataset, batch_size,
    shuffle=True) with the default collate, F.mse_loss, SGD, the fit() loop. `loader` makes
    the loader (the bench passes the dataloader tier's, which draws the same batches)."""
    torch.manual_seed(seed)
    train_ds = TensorDataset(inputs, targets)
    model = nn.Linear(inputs.shape[1], targets.shape[1], dtype=inputs.dtype)
    train_dl = loader(train_ds, batch_size, shuffle=True)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = F.mse_loss
    for epoch in range(epochs):
        for xb, yb in train_dl:
            pred = model(xb)
            loss = loss_fn(pred, yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
    return model.weight.detach(), model.bias.detach(), None


#: the full-batch torch tiers' scripts, by tier
SCRIPTS = {"autograd": autograd_script, "optim": optim_script, "module": module_script}
