"""Tier "dataloader": TensorDataset + DataLoader mini-batches, model + loss + optimizer.

As seeds 000, 001 and 004 teach it:

    train_ds = TensorDataset(inputs, targets)
    train_dl = DataLoader(train_ds, batch_size, shuffle=True)
    for epoch in range(num_epochs):
        for xb, yb in train_dl:
            pred = model(xb); loss = loss_fn(pred, yb)
            loss.backward(); opt.step(); opt.zero_grad()

The loader is built so that it fetches each batch with one indexing operation instead of
one __getitem__ per row plus a stack (the default collate): same batches, same order, same
draws from torch's generator, bit for bit, at a fraction of the cost (see batched_loader).
"""

from __future__ import annotations

import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from . import Parameters
from ._linear import build_model, final_parameters


def batched_loader(dataset: TensorDataset, batch_size: int, shuffle: bool) -> DataLoader:
    """DataLoader(dataset, batch_size, shuffle) that indexes whole batches at once.

    DataLoader(batch_size=None, sampler=BatchSampler(...)) hands each list of indices to
    TensorDataset.__getitem__, which indexes every tensor with it in one go. The samplers
    are the ones DataLoader(dataset, batch_size, shuffle) builds itself, drawing the same
    seeds from torch's global generator.
    """
    sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(sampler, batch_size=batch_size, drop_last=False)
    return DataLoader(dataset, batch_size=None, sampler=batches)


def train(data, start: Parameters, settings, monitor) -> Parameters:
    inputs, targets = data.x, data.y
    batch_size = settings.batch_size or len(inputs)

    # Define dataset and data loader
    train_ds = TensorDataset(inputs, targets)
    train_dl = batched_loader(train_ds, batch_size, shuffle=settings.shuffle)
    # Define model, loss function and optimizer
    model = build_model(start, settings.intercept, inputs.device)
    loss_fn = F.mse_loss
    opt = optim.SGD(model.parameters(), lr=settings.lr)
    lin = model.linear

    for epoch in monitor.epochs(lin.weight, lin.bias):
        for xb, yb in train_dl:
            # Generate predictions
            pred = model(xb)
            loss = loss_fn(pred, yb)
            # Perform gradient descent
            loss.backward()
            monitor.record(loss, lin.weight.grad, lin.bias.grad if settings.intercept else None)
            opt.step()
            opt.zero_grad()

    return final_parameters(model, start)
