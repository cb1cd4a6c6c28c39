"""Preconditioning: a change of variables, z = (x - center) @ inv(U), for training.

The tiers train y ~ z @ theta.T + b; the coefficients are reported on the original scale,
W = theta @ inv(U).T (a triangular solve) and bias = b - W @ center. U is upper triangular:

- ``"none"``: z = x (the tutorials).
- ``"scale"``: U = diag(sd), centred when there is an intercept: standardised columns.
- ``"orthogonal"``: U from the R factor of the least-squares reference (the same QR),
  z = (x - mean) @ inv(U) with z'z = n I and z orthogonal to the intercept: the loss is a
  round bowl, L = mu, and gradient descent at lr = 1/L lands on the answer in one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .reference import Reference, column_norms, right_solve_upper, row_chunks, solve_upper


@dataclass(frozen=True)
class Preconditioner:
    kind: str
    center: np.ndarray  # (p,)
    factor: np.ndarray  # (p, p) upper triangular U; the identity for "none"

    @property
    def is_identity(self) -> bool:
        return self.kind == "none"

    def apply(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """z = (x - center) @ inv(U) for x (n, p), written into out (default: x itself, in
        place; the identity leaves x as it is): row chunks in float64, one BLAS triangular
        solve each (backward stable, unlike multiplying by an inverse)."""
        out = x if out is None else out
        if self.is_identity:
            if out is not x:
                out[...] = x
            return out
        if self.kind == "scale":  # a diagonal U: the standardisation of lrtiers 0.1
            np.subtract(x, self.center.astype(x.dtype), out=out)
            out /= np.diag(self.factor).astype(x.dtype)
            return out
        u = torch.from_numpy(self.factor)
        center = torch.from_numpy(self.center)
        for rows in row_chunks(x.shape[0]):
            out[rows] = right_solve_upper(u, torch.from_numpy(x[rows]).to(torch.float64) - center)
        return out

    def to_original(self, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training-coordinate (theta, b) -> (W, bias) on the scale of x, in float64."""
        weight = np.asarray(weight, dtype=np.float64)
        bias = np.asarray(bias, dtype=np.float64)
        if self.is_identity:
            return weight, bias
        original = solve_upper(self.factor, weight.T).T
        return original, bias - original @ self.center

    def to_training(self, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(W, bias) on the scale of x -> training coordinates (for an explicit init)."""
        weight = np.asarray(weight, dtype=np.float64)
        bias = np.asarray(bias, dtype=np.float64)
        if self.is_identity:
            return weight, bias
        return weight @ self.factor.T, bias + weight @ self.center

    def design_transform(self, intercept: bool) -> np.ndarray:
        """T with [1, z] = [1, x] @ T (or z = x @ T): the training design from the original."""
        u_inv = solve_upper(self.factor, np.eye(self.factor.shape[0]))
        if not intercept:
            return u_inv
        p = u_inv.shape[0]
        t = np.zeros((p + 1, p + 1))
        t[0, 0] = 1.0
        t[0, 1:] = -self.center @ u_inv
        t[1:, 1:] = u_inv
        return t

    def curvature(self, ref: Reference, q: int) -> tuple[float, float]:
        """(L, mu): the largest and smallest eigenvalue of the Hessian of the MSE (averaged
        over n*q elements) in training coordinates, 2/(n q) sigma_i^2 of the training design."""
        sigma = ref.singular_values(
            None if self.is_identity else self.design_transform(ref.intercept)
        )
        with np.errstate(over="ignore"):
            scale = 2.0 / (ref.n * q)
            return float(scale * sigma[0] ** 2), float(scale * sigma[-1] ** 2)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "center": self.center, "factor": self.factor}


def scaling(center: np.ndarray, sd: np.ndarray) -> Preconditioner:
    """The "scale" preconditioner of columns with these means (or zeros) and spreads."""
    return Preconditioner("scale", center, np.diag(np.where(sd > 0, sd, 1.0)))


def build_preconditioner(kind: str, ref: Reference) -> Preconditioner:
    """The preconditioner of `kind` for the reference's kept columns, from its R factor:
    no pass over the data."""
    p = int(np.count_nonzero(~ref.feature_aliased))
    if kind == "none":
        return Preconditioner(kind, np.zeros(p), np.eye(p))
    # U'U = x_c'x_c / n from the reference's R of [1, x] (or x): the rows after the
    # intercept's are the R factor of the centred columns (without an intercept, centring
    # would change the model: x itself)
    s = ref.scale[ref.kept]  # r is of the columns divided by s: divide before multiplying
    if ref.intercept:
        # the intercept's column of ones has norm sqrt(n) = |r[0, 0]| s[0]
        center = ref.r[0, 1:] / ref.r[0, 0] * (s[1:] / s[0])
        u = ref.r[1:, 1:] / abs(ref.r[0, 0]) * (s[None, 1:] / s[0])
    else:
        center, u = np.zeros(p), ref.r / np.sqrt(ref.n) * s[None, :]
    u = u * np.sign(np.diag(u))[:, None]  # positive diagonal: z keeps the sign of x
    if kind == "scale":
        # the columns' spreads, the norms of U's columns: the population standard
        # deviations (without an intercept, the root mean squares)
        return scaling(center, column_norms(u))
    return Preconditioner(kind, center, u)


@dataclass(frozen=True)
class QuadraticLoss:
    """The training loss as the quadratic it is, from the reference's small R factor: no
    pass over the rows. With M the R factor of the training design (Z = Q M) and c the part
    of y in its column space (Q'y), parameters theta in training coordinates (the bias
    first, with an intercept) have the residual sums of squares sse* + |M theta - c|^2 per
    output and the MSE's gradient 2/(n q) M'(M theta - c): identities, as the least-squares
    residual is orthogonal to the design."""

    m: np.ndarray  # (k, k)
    c: np.ndarray  # (k, q)
    sse: np.ndarray  # (q,) the least-squares residual sums of squares
    n: int
    intercept: bool

    def __call__(self, weight: np.ndarray, bias: np.ndarray | None) -> tuple[np.ndarray, list]:
        """(sse (q,), [gradient of the weight (q, p), of the bias (q,) with an intercept])."""
        theta = np.asarray(weight, dtype=np.float64).T
        if self.intercept:
            theta = np.vstack([np.asarray(bias, dtype=np.float64)[None, :], theta])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging fit: inf, NaN
            gap = self.m @ theta - self.c
            sse = self.sse + np.einsum("ij,ij->j", gap, gap)
            grad = (2.0 / (self.n * gap.shape[1])) * (self.m.T @ gap)
        return sse, ([grad[1:].T, grad[0]] if self.intercept else [grad.T])


def quadratic_loss(ref: Reference, pre: Preconditioner) -> QuadraticLoss:
    """The QuadraticLoss of training on pre's coordinates: D[:, kept] = Q r diag(s), the
    training design D[:, kept] T, so M = r diag(s) T and c = r diag(s) b*."""
    s = ref.scale[ref.kept]
    m = (ref.r * s[None, :]) @ pre.design_transform(ref.intercept)
    c = ref.r @ (ref.coef[ref.kept] * s[:, None])
    return QuadraticLoss(m, c, ref.sse, ref.n, ref.intercept)
