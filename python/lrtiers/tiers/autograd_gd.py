"""Tier "autograd": torch tensors with requires_grad, loss.backward(), manual update.

As seeds 000, 001 and 004 teach it: the model is a function of tensors w and b, the MSE is
written out, autograd fills w.grad and b.grad, and the update runs under torch.no_grad()
before the gradients are zeroed (PyTorch accumulates them). The update is written out by
hand (optimizers.HandSGD, HandAdam), as the tutorials do: for plain SGD, w -= lr * w.grad.
"""

from __future__ import annotations

import torch

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
    update, schedule = build_optimizer(
        optimizer_spec, [w, b] if settings.intercept else [w], by_hand=True
    )

    def model(x: torch.Tensor, w: torch.Tensor = w, b: torch.Tensor = b) -> torch.Tensor:
        return x @ w.t() + b

    def mse(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        diff = preds - targets
        return torch.sum(diff * diff) / diff.numel()

    for epoch in monitor.epochs(w, b):
        anchor = monitor.anchor(w, b)  # mini-batches: SVRG's anchor (None: plain SGD)
        for x_batch, y_batch in monitor.batches(x, y):
            # 1. generate predictions
            preds = model(x_batch)
            # 2. calculate the loss
            loss = mse(preds, y_batch)
            # 3. compute gradients w.r.t. the weights and biases
            loss.backward()
            if anchor is not None:
                # variance reduction: this batch's gradient at the anchor (the parameters
                # the epoch began with) taken away, the full gradient there added
                anchor_loss = mse(model(x_batch, anchor.weight, anchor.bias), y_batch)
                anchor.correct(anchor_loss, w, b if settings.intercept else None)
            # 4. adjust the parameters by a small step against the gradient (over blocks of
            # rows: once the last block's gradients hold the sum of them all)
            if monitor.step_due(loss, w.grad, b.grad):
                with torch.no_grad():
                    update.step([w.grad, b.grad] if settings.intercept else [w.grad])
            # 5. reset the gradients
            assert w.grad is not None  # backward() filled it (and b.grad with an intercept)
            with torch.no_grad():
                w.grad.zero_()
                if b.grad is not None:  # settings.intercept
                    b.grad.zero_()
        schedule.step()

    return Parameters(w.detach().cpu().numpy(), b.detach().cpu().numpy())
