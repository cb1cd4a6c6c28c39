"""The one source of truth for tier names and lr_fit()'s defaults.

The R package reads these through :func:`lrtiers.defaults` instead of retyping them.
"""

from __future__ import annotations

#: The five training tiers, in the order the tutorials build them up.
TIERS: tuple[str, ...] = ("numpy", "autograd", "optim", "module", "dataloader")

#: One line per tier: what it adds over the one before.
TIER_DESCRIPTIONS: dict[str, str] = {
    "numpy": "pure NumPy: forward pass, MSE, hand-derived gradients, parameter update",
    "autograd": "torch tensors with requires_grad, loss.backward(), update under no_grad()",
    "optim": "autograd + nn.MSELoss + torch.optim.SGD (zero_grad / backward / step)",
    "module": "the model as an nn.Module (nn.Linear) trained with loss + optimizer",
    "dataloader": (
        "TensorDataset + DataLoader mini-batches with shuffling, model + loss + optimizer"
    ),
}

#: lr_fit()'s keyword defaults (callback aside). lr="auto" is the step 1/L.
DEFAULTS: dict[str, object] = {
    "tier": "module",
    "epochs": 1000,
    "lr": "auto",
    "batch_size": None,
    "shuffle": True,
    "seed": None,
    "intercept": True,
    "init": "default",
    "dtype": "float64",
    "device": "cpu",
    "standardize": False,
    "validation": None,
    "tol": None,
    "threads": None,
}

DTYPES: tuple[str, ...] = ("float64", "float32")
INITS: tuple[str, ...] = ("default", "zeros")

#: A fit counts as converged when its final loss is within this relative distance of the
#: closed-form least-squares optimum (float32 cannot resolve much below 1e-4 of a loss).
CONVERGENCE_RTOL: dict[str, float] = {"float64": 1e-6, "float32": 1e-4}

#: The loss "explodes" when it grows this many times above the initial loss.
DIVERGENCE_FACTOR: float = 1e8
