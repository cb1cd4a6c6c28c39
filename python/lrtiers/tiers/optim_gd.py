"""Tier "optim": autograd + a torch loss module + a torch.optim optimizer.

As seeds 002 and 004 teach it: nn.MSELoss replaces the hand-written loss and
optim.SGD([b, w]) the manual update: zero_grad(), backward(), step(). Other optimizers
(momentum, Nesterov, Adam, L-BFGS) come from the same seam, optimizers.build_optimizer.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..optimizers import OptimizerSpec, build_optimizer
from ..settings import Settings
from .contract import Parameters, TierMonitor, TrainingData


def train(
    data: TrainingData,
    start: Parameters,
    settings: Settings,
    optimizer_spec: OptimizerSpec,
    monitor: TierMonitor,
) -> Parameters:
    x, y = data.x, data.y
    w = torch.tensor(start.weight, device=x.device, requires_grad=True)
    b = torch.tensor(start.bias, device=x.device, requires_grad=settings.intercept)

    loss_fn = nn.MSELoss(reduction="mean")
    optimizer, schedule = build_optimizer(
        optimizer_spec,
        [b, w] if settings.intercept else [w],
        loss_of=lambda: loss_fn(x @ w.t() + b, y),
    )

    for epoch in monitor.epochs(w, b):
        anchor = monitor.anchor(w, b)  # mini-batches: SVRG's anchor (None: plain SGD)
        for x_batch, y_batch in monitor.batches(x, y):
            # step 1: prediction
            y_hat = x_batch @ w.t() + b
            # step 2: compute loss
            loss = loss_fn(y_hat, y_batch)
            # step 3: clear old and compute current gradients
            optimizer.zero_grad()
            loss.backward()
            if anchor is not None:
                # variance reduction: this batch's gradient at the anchor (the parameters
                # the epoch began with) taken away, the full gradient there added
                anchor_loss = loss_fn(x_batch @ anchor.weight.t() + anchor.bias, y_batch)
                anchor.correct(anchor_loss, w, b if settings.intercept else None)
            # step 4: update weights and bias using the optimizer (over blocks of rows: once
            # the last block's gradients hold the sum of them all)
            if monitor.step_due(loss, w.grad, b.grad):
                optimizer.step()
        schedule.step()

    return Parameters(w.detach().cpu().numpy(), b.detach().cpu().numpy())
