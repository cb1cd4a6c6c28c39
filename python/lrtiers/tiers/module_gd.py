"""Tier "module": the model as an nn.Module (nn.Linear), trained with loss + optimizer.

As seeds 000, 001, 002 and 004 teach it: model = nn.Linear(p, q) (wrapped in a small
LinearRegression module), loss_fn = nn.MSELoss(), optimizer = optim.SGD(model.parameters()).
"""

from __future__ import annotations

import torch.nn as nn
import torch.optim as optim

from . import Parameters
from ._linear import build_model, final_parameters


def train(data, start: Parameters, settings, monitor) -> Parameters:
    x, y = data.x, data.y
    model = build_model(start, settings.intercept, x.device)
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer = optim.SGD(model.parameters(), lr=settings.lr)
    lin = model.linear

    for epoch in monitor.epochs(lin.weight, lin.bias):
        for x_batch, y_batch in monitor.batches(x, y):
            model.train()
            # step 1: make prediction (forward pass)
            y_hat = model(x_batch)
            # step 2: compute loss
            loss = loss_fn(y_hat, y_batch)
            # step 3: clear old and compute current gradients
            optimizer.zero_grad()
            loss.backward()
            monitor.record(loss, lin.weight.grad, lin.bias.grad if settings.intercept else None)
            # step 4: update parameters via the optimizer
            optimizer.step()

    return final_parameters(model, start)
