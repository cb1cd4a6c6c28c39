"""Tier "numpy": gradient descent in pure NumPy with hand-derived gradients.

As seeds 003 and 004 teach it: forward pass, MSE, gradients worked out by hand, update.
For q outputs the loss averages over all n*q elements (F.mse_loss's default), so
dloss/dW = 2/(n q) * error' x and dloss/db = 2/(n q) * colsums(error). The update is
written out by hand too (optimizers.HandSGD, HandAdam): for plain SGD, w -= lr * dw.
"""

from __future__ import annotations

import numpy as np

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
    x, y = data.x_numpy, data.y_numpy
    w = start.weight.copy()  # (q, p)
    b = start.bias.copy()  # (q,)
    update, schedule = build_optimizer(
        optimizer_spec, [w, b] if settings.intercept else [w], by_hand=True
    )

    for epoch in monitor.epochs(w, b):
        anchor = monitor.anchor(w, b)  # mini-batches: SVRG's anchor (None: plain SGD)
        for x_batch, y_batch in monitor.batches(x, y):
            # step 1: prediction (forward pass)
            y_pred = x_batch @ w.T + b
            # step 2: compute loss (mean squared error)
            error = y_pred - y_batch
            loss = np.mean(error**2)
            # step 3: compute gradients (backward pass, derived by hand)
            dw = 2 * (error.T @ x_batch) / error.size
            db = 2 * error.sum(axis=0) / error.size
            if anchor is not None:
                # variance reduction: this batch's gradient at the anchor (the parameters
                # the epoch began with) taken away, the full gradient there added
                error_at_anchor = x_batch @ anchor.weight.T + anchor.bias - y_batch
                dw += anchor.full_weight_grad - 2 * (error_at_anchor.T @ x_batch) / error.size
                db += anchor.full_bias_grad - 2 * error_at_anchor.sum(axis=0) / error.size
            # step 4: update weights and bias (plain SGD: w -= lr * dw; b -= lr * db); over
            # blocks of rows, once the last block's gradients hold the sum of them all
            if monitor.step_due(loss, dw, db if settings.intercept else None):
                update.step([dw, db] if settings.intercept else [dw])
        schedule.step()

    return Parameters(w, b)
