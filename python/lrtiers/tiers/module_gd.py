"""Tier "module": the model as an nn.Module (nn.Linear), trained with loss + optimizer.

As seeds 000, 001, 002 and 004 teach it: model = nn.Linear(p, q) (as seed 002's own
LinearRegression module), loss_fn = nn.MSELoss(), optimizer = optim.SGD(model.parameters())
(or another torch.optim optimizer, from optimizers.build_optimizer).
"""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from ..optimizers import OptimizerSpec, build_optimizer
from ..settings import Settings
from ._linear import build_model, final_parameters
from .contract import Parameters, TierMonitor, TrainingData


def train(
    data: TrainingData,
    start: Parameters,
    settings: Settings,
    optimizer_spec: OptimizerSpec,
    monitor: TierMonitor,
) -> Parameters:
    x, y = data.x, data.y
    model = build_model(start, settings.intercept, x.device)
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer, schedule = build_optimizer(
        optimizer_spec, model.parameters(), loss_of=lambda: loss_fn(model(x), y)
    )

    for epoch in monitor.epochs(model.weight, model.bias):
        anchor = monitor.anchor(model.weight, model.bias)  # mini-batches: SVRG's (or None)
        for x_batch, y_batch in monitor.batches(x, y):
            model.train()
            # step 1: make prediction (forward pass)
            y_hat = model(x_batch)
            # step 2: compute loss
            loss = loss_fn(y_hat, y_batch)
            # step 3: clear old and compute current gradients
            optimizer.zero_grad()
            loss.backward()
            if anchor is not None:
                # variance reduction: this batch's gradient at the anchor (the parameters
                # the epoch began with) taken away, the full gradient there added
                anchor_loss = loss_fn(F.linear(x_batch, anchor.weight, anchor.bias), y_batch)
                anchor.correct(anchor_loss, model.weight, model.bias)
            # step 4: update parameters via the optimizer (over blocks of rows: once the last
            # block's gradients hold the sum of them all)
            if monitor.step_due(
                loss, model.weight.grad, model.bias.grad if settings.intercept else None
            ):
                optimizer.step()
        schedule.step()

    return final_parameters(model, start)
