"""The nn.Linear model the "module" and "dataloader" tiers train."""

from __future__ import annotations

import torch
import torch.nn as nn

from .contract import Parameters


class LinearRegression(nn.Linear):
    """y = x W' + b as an nn.Module (seed 002's MyLinearRegression).

    Seed 002 wraps an nn.Linear in its module (self.linear = nn.Linear(...)); as a subclass
    of nn.Linear it is the same model, with one module call per step instead of two.
    """

    def reset_parameters(self) -> None:
        # No draws: the starting values were drawn already (as nn.Linear(p, q) draws them
        # after torch.manual_seed(seed)) and build_model copies them in; drawing again would
        # move the RNG the DataLoader shuffles with, and the tutorial code would no longer
        # match bit for bit.
        pass


def build_model(start: Parameters, intercept: bool, device: torch.device | str) -> LinearRegression:
    q, p = start.weight.shape
    weight = torch.from_numpy(start.weight)
    model = LinearRegression(p, q, bias=intercept, dtype=weight.dtype, device=device)
    with torch.no_grad():
        model.weight.copy_(weight)
        if intercept:
            model.bias.copy_(torch.from_numpy(start.bias))
    return model


def final_parameters(model: LinearRegression, start: Parameters) -> Parameters:
    bias = model.bias.detach().cpu().numpy() if model.bias is not None else start.bias.copy()
    return Parameters(model.weight.detach().cpu().numpy(), bias)
