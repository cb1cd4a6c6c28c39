"""The nn.Linear model the "module" and "dataloader" tiers train."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils import skip_init

from .contract import Parameters


class LinearRegression(nn.Module):
    """y = x W' + b as an nn.Module (seed 002's MyLinearRegression)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, **factory):
        super().__init__()
        # skip_init: the starting values were drawn already (as nn.Linear(p, q) draws them
        # after torch.manual_seed(seed)); drawing again would move the RNG the DataLoader
        # shuffles with, and the tutorial code would no longer match bit for bit.
        self.linear = skip_init(nn.Linear, in_features, out_features, bias=bias, **factory)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def build_model(start: Parameters, intercept: bool, device) -> LinearRegression:
    q, p = start.weight.shape
    weight = torch.from_numpy(start.weight)
    model = LinearRegression(p, q, bias=intercept, dtype=weight.dtype, device=device)
    with torch.no_grad():
        model.linear.weight.copy_(weight)
        if intercept:
            model.linear.bias.copy_(torch.from_numpy(start.bias))
    return model


def final_parameters(model: LinearRegression, start: Parameters) -> Parameters:
    lin = model.linear
    bias = lin.bias.detach().cpu().numpy() if lin.bias is not None else start.bias.copy()
    return Parameters(lin.weight.detach().cpu().numpy(), bias)
