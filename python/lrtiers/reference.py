"""The closed-form least-squares answer every tier is judged against, and the step bound.

Both come from one centred Gram matrix accumulated in float64, in row chunks so that a
float32 fit never needs a float64 copy of X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_ROWS = 1 << 15


def row_chunks(n: int):
    """Row slices of CHUNK_ROWS rows: passes over X without full-size temporaries."""
    for start in range(0, n, CHUNK_ROWS):
        yield slice(start, min(start + CHUNK_ROWS, n))


@dataclass(frozen=True)
class Reference:
    """Closed-form solution and curvature of the MSE loss on one training design."""

    weight: np.ndarray  # (q, p) least-squares coefficients
    bias: np.ndarray  # (q,)
    loss: float  # the minimal MSE
    lipschitz: float  # L, the Lipschitz constant of the loss gradient
    gram: np.ndarray  # (p, p) centred (with an intercept) cross-products of x
    x_mean: np.ndarray  # (p,) column means of x (zeros without an intercept)
    n: int
    intercept: bool

    def xtx_inv(self, shift=None, scale=None) -> np.ndarray:
        """(X'X)^-1 of the design [1, x] (or x alone without an intercept), for OLS
        standard errors: Var(coef) = sigma^2 (X'X)^-1, coefficients ordered bias first.
        shift/scale map a standardised x back to the original one (x = shift + scale z)."""
        p = self.gram.shape[0]
        gram, mean = self.gram, self.x_mean
        if scale is not None:
            gram = gram * np.outer(scale, scale)
            mean = shift + scale * mean
        norms = _column_norms(gram)
        inv = np.linalg.pinv(gram / np.outer(norms, norms), hermitian=True) / np.outer(norms, norms)
        if not self.intercept:
            return inv
        out = np.empty((p + 1, p + 1))
        out[0, 0] = 1.0 / self.n + mean @ inv @ mean
        out[0, 1:] = out[1:, 0] = -inv @ mean
        out[1:, 1:] = inv
        return out

    @property
    def lr_auto(self) -> float:
        """The step 1/L: monotone descent on any data."""
        return 1.0 / self.lipschitz

    @property
    def lr_max(self) -> float:
        """The largest stable step 2/L for full-batch gradient descent."""
        return 2.0 / self.lipschitz


def column_means(a: np.ndarray) -> np.ndarray:
    """Column means in float64, summed in row chunks."""
    total = np.zeros(a.shape[1])
    for rows in row_chunks(a.shape[0]):
        total += a[rows].sum(axis=0, dtype=np.float64)
    return total / a.shape[0]


def column_scale(x: np.ndarray, center: bool) -> tuple[np.ndarray, np.ndarray]:
    """(shift, scale) that standardise x's columns, in float64, in row chunks (no full-size
    temporary): the mean and the population standard deviation, or, without centring, zero
    and the root mean square."""
    n, p = x.shape
    shift = column_means(x) if center else np.zeros(p)
    squares = np.zeros(p)
    for rows in row_chunks(n):
        deviation = x[rows].astype(np.float64) - shift
        squares += np.einsum("ij,ij->j", deviation, deviation)
    return shift, np.sqrt(squares / n)


def _column_norms(gram: np.ndarray) -> np.ndarray:
    """Column norms from a Gram matrix (zeros as 1), to scale it before solving: the Gram
    matrix squares X's condition number."""
    norms = np.sqrt(np.diag(gram))
    norms[norms == 0] = 1.0
    return norms


def _top_eigenvalue(matrix: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(matrix)[-1])


def least_squares(x: np.ndarray, y: np.ndarray, intercept: bool) -> Reference:
    """Solve min MSE(x @ W.T + b, y) in float64; L of the loss averaged over n*q elements."""
    n, p = x.shape
    q = y.shape[1]
    x_mean = column_means(x) if intercept else np.zeros(p)
    y_mean = column_means(y) if intercept else np.zeros(q)
    gram = np.zeros((p, p))
    cross = np.zeros((p, q))
    for rows in row_chunks(n):
        xc = x[rows].astype(np.float64) - x_mean
        gram += xc.T @ xc
        cross += xc.T @ (y[rows].astype(np.float64) - y_mean)
    # Scale columns to unit norm before solving: the Gram matrix squares X's condition.
    scale = _column_norms(gram)
    coef = np.linalg.lstsq(gram / np.outer(scale, scale), cross / scale[:, None], rcond=None)[0]
    weight = (coef / scale[:, None]).T
    bias = y_mean - weight @ x_mean if intercept else np.zeros(q)
    loss = float(np.sum(residual_ss(x, y, weight, bias))) / (n * q)
    # Hessian of the loss w.r.t. one output's (w, b): 2/(n q) [X 1]'[X 1], uncentred.
    if intercept:
        aug = np.empty((p + 1, p + 1))
        aug[:p, :p] = gram + n * np.outer(x_mean, x_mean)
        aug[:p, p] = aug[p, :p] = n * x_mean
        aug[p, p] = n
    else:
        aug = gram
    lipschitz = 2.0 / (n * q) * _top_eigenvalue(aug)
    return Reference(
        weight, bias, loss, max(lipschitz, np.finfo(float).tiny), gram, x_mean, n, intercept
    )


def residual_ss(x: np.ndarray, y: np.ndarray, weight, bias) -> np.ndarray:
    """Residual sum of squares per output, (q,), in float64."""
    weight = np.asarray(weight, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    sse = np.zeros(y.shape[1])
    for rows in row_chunks(x.shape[0]):
        resid = x[rows].astype(np.float64) @ weight.T + bias - y[rows]
        sse += np.sum(resid * resid, axis=0)
    return sse
