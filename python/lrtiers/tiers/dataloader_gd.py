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

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ..batches import BatchIndexSampler
from ..optimizers import OptimizerSpec, build_optimizer
from ..settings import Settings
from ._linear import build_model, final_parameters
from .contract import Parameters, TierMonitor, TrainingData


def batched_loader(
    dataset: TensorDataset,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None = None,
) -> DataLoader:
    """DataLoader(dataset, batch_size, shuffle, generator) that indexes whole batches at once.

    With batch_size=None and a sampler of index batches, DataLoader hands each batch of
    indices to TensorDataset.__getitem__, which indexes every tensor with it in one go.
    BatchIndexSampler draws the same seeds from the generator (torch's global one when None)
    as the samplers DataLoader(dataset, batch_size, shuffle, generator) builds, so the
    batches are the same.
    """
    sampler = BatchIndexSampler(len(dataset), batch_size, shuffle, generator)
    return DataLoader(dataset, batch_size=None, sampler=sampler, generator=generator)


def train(
    data: TrainingData,
    start: Parameters,
    settings: Settings,
    optimizer_spec: OptimizerSpec,
    monitor: TierMonitor,
) -> Parameters:
    inputs, targets = data.x, data.y
    if data.loader is not None:  # a streamed source brings its own (streaming.py)
        train_dl = data.loader
    else:
        # batch_size=None: one batch of every row, in order (shuffling cannot change it)
        full_batch = settings.batch_size is None
        batch_size = len(inputs) if settings.batch_size is None else settings.batch_size

        # Define dataset and data loader
        train_ds = TensorDataset(inputs, targets)
        train_dl = batched_loader(
            train_ds,
            batch_size,
            settings.shuffle and not full_batch,
            generator=data.generator,
        )
    # Define model, loss function and optimizer
    model = build_model(start, settings.intercept, inputs.device)
    loss_fn = F.mse_loss
    opt, schedule = build_optimizer(
        optimizer_spec, model.parameters(), loss_of=lambda: loss_fn(model(inputs), targets)
    )

    for epoch in monitor.epochs(model.weight, model.bias):
        # variance reduction (SVRG; None for full batches or plain SGD): the parameters the
        # epoch begins with, and the full gradient there
        anchor = monitor.anchor(model.weight, model.bias)
        for xb, yb in train_dl:
            # Generate predictions
            pred = model(xb)
            loss = loss_fn(pred, yb)
            # Perform gradient descent
            loss.backward()
            if anchor is not None:
                # the batch's gradient at the anchor taken away, the full gradient there
                # added: the step's noise vanishes at the optimum
                anchor_loss = loss_fn(F.linear(xb, anchor.weight, anchor.bias), yb)
                anchor.correct(anchor_loss, model.weight, model.bias)
            # (over blocks of rows: step once the last block's gradients hold the sum)
            if monitor.step_due(
                loss, model.weight.grad, model.bias.grad if settings.intercept else None
            ):
                opt.step()
            opt.zero_grad()
        schedule.step()

    return final_parameters(model, start)
