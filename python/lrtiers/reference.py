"""The least-squares answer every tier is judged against, computed as lm() does and a little
better: Householder QR with lm()'s rule for aliased columns, then iterative refinement with
the residual in extended precision.

The design ``D = [1, x]`` (or ``x`` alone) and the responses ``y`` are reduced to the R factor
of ``[D, y]`` block by block (tall-skinny QR: each block of rows is stacked under the R so
far and reduced again), so the same reference can be computed in one pass over data that do
not fit in memory. Each column is scaled by a power of two before anything is squared: the
scaling is exact, and values from 1e-300 to 1e+300 neither overflow nor underflow.

Aliasing follows lm() (LINPACK dqrdc2, tolerance 1e-7): a column whose part orthogonal to
the columns before it has a norm below 1e-7 times its own norm is aliased; it gets no
coefficient (NaN), is left out of training and contributes nothing to predictions. The rule
is applied to the small R factor, which has the same column norms as D at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import torch

from .settings import DEFAULTS

CHUNK_ROWS = 1 << 15
#: lm()'s tolerance for aliased columns (lm.fit(tol = 1e-07)).
ALIAS_TOL = 1e-7
#: Refinement steps at most; each costs one pass over the data in extended precision.
REFINEMENT_STEPS = 3
#: Refinement runs when the (column-scaled) design's condition number is above this, where
#: it gains digits, or when the data are this small (elements of D), where it is cheap.
REFINE_ABOVE_CONDITION = 1e3
REFINE_BELOW_SIZE = 2_000_000


def row_chunks(n: int, rows: int = CHUNK_ROWS) -> Iterator[slice]:
    """Row slices of CHUNK_ROWS rows: passes over X without full-size temporaries."""
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


# ---------------------------------------------------------------------------- the R factor


def _power_of_two_at_least(values: np.ndarray) -> np.ndarray:
    """2**e with values <= 2**e < 2 values (0 for zeros): dividing by it is exact."""
    _, exponent = np.frexp(values)
    return np.where(values > 0, np.ldexp(1.0, exponent), 0.0)


def design_block(x: np.ndarray, y: np.ndarray | None, intercept: bool) -> np.ndarray:
    """[1, x, y] (or [x, y]) in float64 for a block of rows, written once into a new array."""
    n, p = x.shape
    k = int(intercept)
    d = np.empty((n, k + p + (0 if y is None else y.shape[1])))
    if intercept:
        d[:, 0] = 1.0
    d[:, k : k + p] = x
    if y is not None:
        d[:, k + p :] = y
    return d


def column_norms(a: np.ndarray) -> np.ndarray:
    """2-norms of the columns of a, scaled by their largest element before squaring (columns
    of 1e+300 neither overflow nor, of 1e-300, underflow)."""
    largest = np.max(np.abs(a), axis=0, initial=0.0)
    safe = np.where(largest > 0, largest, 1.0)
    return np.linalg.norm(a / safe, axis=0) * safe


def aliased_columns(r: np.ndarray, tol: float = ALIAS_TOL) -> np.ndarray:
    """lm()'s rule (dqrdc2's limited pivoting) applied to an R factor: column j is aliased
    when its part orthogonal to the non-aliased columns before it has a norm below tol times
    its own norm. Householder steps on the small R keep the norms of the full design."""
    a = np.array(r, dtype=np.float64)
    rows, k = a.shape
    norms = np.linalg.norm(a, axis=0)
    norms[norms == 0] = 1.0
    aliased = np.zeros(k, dtype=bool)
    row = 0
    for j in range(k):
        rest = a[row:, j]
        size = np.linalg.norm(rest) if row < rows else 0.0
        if size < tol * norms[j] or size == 0:
            aliased[j] = True
            continue
        # reflect rest onto -sign(rest[0]) * size * e1, and the columns after it with it
        v = rest.copy()
        v[0] += np.copysign(size, rest[0])
        v /= np.linalg.norm(v)
        a[row:, j + 1 :] -= 2.0 * np.outer(v, v @ a[row:, j + 1 :])
        row += 1
    return aliased


def solve_upper(r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """r^-1 b for an upper-triangular r, by back substitution."""
    x = np.array(b, dtype=np.float64)
    for i in range(r.shape[0] - 1, -1, -1):
        x[i] -= r[i, i + 1 :] @ x[i + 1 :]
        x[i] /= r[i, i]
    return x


def solve_upper_transposed(r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """r'^-1 b for an upper-triangular r, by forward substitution."""
    x = np.array(b, dtype=np.float64)
    for i in range(r.shape[0]):
        x[i] -= r[:i, i] @ x[:i]
        x[i] /= r[i, i]
    return x


# ---------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Reference:
    """The least-squares solution on one training design, and what training needs of it.

    Coefficients ``coef`` are (k, q) for the k columns of D = [1, x] (intercept first) or x;
    aliased columns have NaN. ``r`` is the R factor of the non-aliased columns of the scaled
    design: D[:, kept] @ diag(1/scale[kept]) = Q r.
    """

    coef: np.ndarray  # (k, q), NaN where aliased
    aliased: np.ndarray  # (k,) bool
    r: np.ndarray  # (rank, rank) R factor of the kept, scaled columns
    scale: np.ndarray  # (k,) powers of two the columns of D were divided by
    sse: np.ndarray  # (q,) residual sum of squares at coef
    n: int
    intercept: bool
    refinement_steps: int
    #: (q,) sqrt(sse), computed without underflow (sse of y ~ 1e-200 is 0 in float64, its
    #: square root is not); None: sqrt(sse)
    residual_norm: np.ndarray | None = None
    #: (q,) the root mean square of each y column, centred with an intercept (Adam's
    #: lr = "auto" is a fraction of it), from the R factor of [D, y]
    y_spread: np.ndarray | None = None
    #: a bound on the rows' leverage (the diagonal of D's hat matrix), from the pass that
    #: made r (block_leverage); 1 (the bound of every leverage) where it was not asked for
    max_leverage: float = 1.0

    @property
    def rank(self) -> int:
        return int(np.count_nonzero(~self.aliased))

    @property
    def kept(self) -> np.ndarray:
        return ~self.aliased

    @property
    def feature_aliased(self) -> np.ndarray:
        return self.aliased[1:] if self.intercept else self.aliased

    @property
    def weight(self) -> np.ndarray:
        """(q, p) coefficients of x, NaN where aliased."""
        return (self.coef[1:] if self.intercept else self.coef).T.copy()

    @property
    def bias(self) -> np.ndarray:
        q = self.coef.shape[1]
        return self.coef[0].copy() if self.intercept else np.zeros(q)

    @property
    def loss(self) -> float:
        """The minimal MSE over all n*q elements."""
        return float(np.sum(self.sse)) / (self.n * self.coef.shape[1])

    @property
    def df_residual(self) -> int:
        return self.n - self.rank

    def xtx_inv(self) -> np.ndarray:
        """(D'D)^-1 from the R factor (r^-1 r^-T, unscaled), for OLS standard errors:
        Var(coef) = sigma^2 (D'D)^-1; NaN rows and columns for aliased coefficients."""
        k = self.aliased.size
        out = np.full((k, k), np.nan)
        r_inv = solve_upper(self.r, np.eye(self.rank))
        s = 1.0 / self.scale[self.kept]
        with np.errstate(over="ignore", under="ignore"):  # columns of 1e-300: it is 1e600
            unscaled = (s[:, None] * r_inv) @ (r_inv.T * s[None, :])
        out[np.ix_(self.kept, self.kept)] = unscaled
        return out

    def std_errors(self) -> np.ndarray:
        """(k, q) OLS standard errors at the optimum (NaN where aliased or df = 0):
        sigma |row j of r^-1| / scale_j, without forming (D'D)^-1, which can overflow
        where the standard errors do not."""
        k, q = self.coef.shape
        out = np.full((k, q), np.nan)
        df = self.df_residual
        if df <= 0 or self.rank == 0:
            return out
        norm = np.sqrt(self.sse) if self.residual_norm is None else self.residual_norm
        r_inv = solve_upper(self.r, np.eye(self.rank))
        root = np.linalg.norm(r_inv, axis=1) / self.scale[self.kept]  # sqrt(diag (D'D)^-1)
        out[self.kept] = np.outer(root, norm / np.sqrt(df))
        return out

    def singular_values(self, transform: np.ndarray | None = None) -> np.ndarray:
        """Singular values of D[:, kept] @ transform (the design in training coordinates),
        largest first; transform None is the identity. Computed from r, never from D."""
        m = self.r * self.scale[self.kept][None, :]  # D[:, kept] = Q r diag(scale)
        if transform is not None:
            m = m @ transform
        return np.linalg.svd(m, compute_uv=False)

    def condition_number(self) -> float:
        """Of the kept columns of the design scaled to unit norm (what limits accuracy)."""
        m = self.r / np.linalg.norm(self.r, axis=0)
        s = np.linalg.svd(m, compute_uv=False)
        return float(s[0] / s[-1])


def least_squares(
    x: np.ndarray,
    y: np.ndarray,
    intercept: bool,
    refine: bool = True,
    alias_tol: float = ALIAS_TOL,
    block_rows: int = cast(int, DEFAULTS["block_rows"]),
) -> Reference:
    """min ||D b - y|| for each column of y, D = [1, x] or x, for arrays in memory: the
    reference a fit of them gets (reference_over_blocks over blocks of block_rows rows)."""
    n = x.shape[0]

    def over_blocks(part: Callable) -> list:
        return [part(x[rows], y[rows]) for rows in row_chunks(n, block_rows)]

    return reference_over_blocks(
        over_blocks, n, x.shape[1], y.shape[1], intercept, alias_tol, refine
    )


#: CholeskyQR2 is backward stable where the block's condition number is below about 1e8
#: (u^-1/2), but its R is not Householder's to the last digits: it is used only where the
#: answer needs no refinement (NIST's Wampler5, condition ~1e5 scaled, lost a digit with
#: it); above, or when the Gram matrix is not positive definite (aliased columns), the
#: block takes Householder's QR.
CHOLESKY_QR_CONDITION = REFINE_ABOVE_CONDITION


def block_factor(
    x: np.ndarray, y: np.ndarray, intercept: bool, leverage: bool = False
) -> tuple[np.ndarray, np.ndarray, float]:
    """One block's part of the tall-skinny QR: the R factor of its [D, y] with every column
    divided by a power of two at least its largest value (exact: no column of 1e+300
    overflows when squared, none of 1e-300 underflows), those powers, and (leverage=True)
    block_leverage's bound on its rows' leverage (else 1)."""
    d = design_block(x, y, intercept)
    largest = _power_of_two_at_least(np.maximum(d.max(axis=0), -d.min(axis=0)))
    d /= np.where(largest > 0, largest, 1.0)
    r = _cholesky_qr2(d)
    r = cast(np.ndarray, np.linalg.qr(d, mode="r")) if r is None else r
    return r, largest, block_leverage(d, r) if leverage else 1.0


def block_leverage(d: np.ndarray, r: np.ndarray) -> float:
    """The largest leverage of a block's rows in [D, y] (squared row norms of d r^-1): a bound
    on their leverage in D among all the rows (a block's rows are a subset, and y's column
    only adds), exact for D alone up to y's part where the rows are one block. One
    triangular solve over the block; 1 (the bound of every leverage) where r is singular or
    the block has fewer rows than columns."""
    if r.shape[0] != r.shape[1]:
        return 1.0
    with np.errstate(all="ignore"):
        q = right_solve_upper(torch.from_numpy(r), torch.from_numpy(d))
        largest = float(np.max(np.einsum("ij,ij->i", q, q))) if q.size else 0.0
    return min(largest, 1.0) if math.isfinite(largest) else 1.0


def right_solve_upper(u: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """z with z u = b, u upper triangular: one BLAS triangular solve, asked as u' z' = b' (on
    the transposed views: torch's right-hand solve copies its operands, three times the
    time). The result is column-major."""
    return torch.linalg.solve_triangular(u.T, b.T, upper=False, left=True).T.numpy()


def _cholesky_qr2(d: np.ndarray) -> np.ndarray | None:
    """The R factor of d by CholeskyQR2 (Yamamoto, Nakatsukasa, Yanagisawa and Fukaya,
    2015): R1 from the Cholesky factor of d'd, then R2 from that of Q1'Q1 with Q1 = d R1^-1,
    R = R2 R1. Three passes over the block with level-3 BLAS, where Householder's QR of a
    tall, narrow block makes one per column; None where d is too ill-conditioned for it."""
    if d.shape[0] < d.shape[1]:
        return None
    try:
        r1 = np.linalg.cholesky(d.T @ d).T
        if not np.linalg.cond(r1) < CHOLESKY_QR_CONDITION:
            return None
        q1 = right_solve_upper(torch.from_numpy(r1), torch.from_numpy(d))
        r2 = np.linalg.cholesky(q1.T @ q1).T
    except np.linalg.LinAlgError:  # not positive definite: rank-deficient or nearly
        return None
    return r2 @ r1


def reference_over_blocks(
    over_blocks: Callable[[Callable], list],
    n: int,
    p: int,
    q: int,
    intercept: bool,
    alias_tol: float,
    refine: bool = True,
    leverage: bool = False,
) -> Reference:
    """The reference of rows given as blocks: over_blocks(part) is [part(x, y) for each
    block, in block order] (arrays in memory, or a source read block by block on one or many
    processes, streaming.py). One pass: each block's R factor of [D, y] (block_factor), the
    factors rescaled to common powers of two (exact) and reduced in block order; then the
    answer from the stacked R (solve_from_r), with refinement passes only where they gain
    digits. The bits depend on the block size only. leverage=True (mini-batches: lr="auto"
    bounds their curvature with it) also bounds the rows' leverage, at one more triangular
    solve per block."""
    factors = over_blocks(lambda x, y: block_factor(x, y, intercept, leverage))
    largest = np.max([f[1] for f in factors], axis=0)
    scale = np.where(largest > 0, largest, 1.0)
    r = np.zeros((0, p + int(intercept) + q))
    for block_r, block_largest, _ in factors:
        ratio = np.where(block_largest > 0, block_largest, 1.0) / scale  # powers of two: exact
        r = cast(np.ndarray, np.linalg.qr(np.vstack([r, block_r * ratio]), mode="r"))
    ref = solve_from_r(r, scale, n, p, q, intercept, alias_tol, refine, over_blocks)
    return replace(ref, max_leverage=max(f[2] for f in factors))


def solve_from_r(
    r_rows: np.ndarray,
    scale: np.ndarray,
    n: int,
    p: int,
    q: int,
    intercept: bool,
    alias_tol: float,
    refine: bool,
    over_blocks: Callable[[Callable], list],
) -> Reference:
    """The answer from the R factor of [D, y] / scale (r_rows, at most k + q rows): aliasing,
    the solve, then refinement. The passes over the data are the caller's:
    over_blocks(part) is [part(x, y) for each block of rows, in order] (in memory, or
    streamed: streaming.py), used only by the refinement; without it the residual sums of
    squares come from the R factor."""
    k = p + int(intercept)
    r_full = np.zeros((k + q, k + q))
    r_full[: r_rows.shape[0]] = r_rows  # fewer rows than columns: pad R with zeros
    aliased = aliased_columns(r_full[:k, :k], alias_tol)
    kept = ~aliased
    # R of the kept columns with Q'y beside it: drop the aliased columns and reduce again
    reduced = cast(
        np.ndarray, np.linalg.qr(np.hstack([r_full[:, :k][:, kept], r_full[:, k:]]), mode="r")
    )
    rank = int(np.count_nonzero(kept))
    r = reduced[:rank, :rank]
    scale_d, scale_y = scale[:k], scale[k:]
    coef_scaled = solve_upper(r, reduced[:rank, rank:])
    coef_kept = coef_scaled * scale_y[None, :] / scale_d[kept][:, None]

    # what the R factor of [D, y] says without another pass: the spread of y (its part
    # orthogonal to the intercept's column) and the residual sums of squares (the part of y
    # orthogonal to the kept columns), both of the columns divided by scale
    y_rows = r_full[1:, k:] if intercept else r_full[:, k:]
    y_spread = scale[k:] * np.sqrt(np.sum(y_rows * y_rows, axis=0) / n)
    residual_rows = reduced[rank:, rank:]
    budget = 0
    if refine and rank:
        cond = np.linalg.cond(r / np.linalg.norm(r, axis=0))
        if cond > REFINE_ABOVE_CONDITION or n * k <= REFINE_BELOW_SIZE:
            budget = REFINEMENT_STEPS
    if budget:
        coef_kept, scaled_sse, steps = _refine(
            over_blocks, intercept, kept, r, scale_d, scale_y, coef_kept, budget
        )
    else:
        scaled_sse, steps = np.sum(residual_rows * residual_rows, axis=0), 0
    # the residuals were divided by scale_y (powers of two) before squaring: no underflow
    with np.errstate(under="ignore", over="ignore"):
        sse = (scaled_sse * scale_y**2).astype(np.float64)
        residual_norm = (np.sqrt(scaled_sse) * scale_y).astype(np.float64)
    coef = np.full((k, q), np.nan)
    coef[kept] = coef_kept
    return Reference(coef, aliased, r, scale_d, sse, n, intercept, steps, residual_norm, y_spread)


def _refine(
    over_blocks: Callable[[Callable], list],
    intercept: bool,
    kept: np.ndarray,
    r: np.ndarray,
    scale_d: np.ndarray,
    scale_y: np.ndarray,
    coef: np.ndarray,
    budget: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Iterative refinement: the residual and D'residual in extended precision
    (np.longdouble), the correction from the semi-normal equations r'r d = D'residual with
    the same r, while corrections shrink. Returns (coef, sse per output of the residuals
    divided by scale_y, in extended precision, steps taken)."""
    extended = np.longdouble
    steps, previous, done = 0, np.inf, False
    s = scale_d[kept][:, None]
    unit = scale_y.astype(extended)
    while True:
        coef_ext = coef.astype(extended)

        def part(
            x: np.ndarray, y: np.ndarray, coef_ext: np.ndarray = coef_ext
        ) -> tuple[np.ndarray, np.ndarray]:
            d = design_block(x, None, intercept)[:, kept].astype(extended)
            resid = y.astype(extended) - d @ coef_ext
            scaled = resid / unit
            return d.T @ resid, np.sum(scaled * scaled, axis=0)

        gradient = np.zeros(coef.shape, dtype=extended)
        sse = np.zeros(coef.shape[1], dtype=extended)
        for block_gradient, block_sse in over_blocks(part):  # added in block order
            gradient += block_gradient
            sse += block_sse
        if done or steps == budget:
            return coef, sse, steps
        # D = Q r diag(s): D'D d = g is r'r (s d) = g / s
        # the gradient of the scaled columns (dividing by powers of two is exact) fits float64
        # where D'residual itself may not (columns of 1e+300)
        gradient = (gradient / s.astype(extended)).astype(np.float64)
        correction = solve_upper(r, solve_upper_transposed(r, gradient)) / s
        size = float(np.max(np.abs(correction) / np.maximum(np.abs(coef), np.finfo(float).tiny)))
        if not np.isfinite(size) or size >= previous:
            return coef, sse, steps
        coef, steps, previous = coef + correction, steps + 1, size
        done = bool(size < np.finfo(float).eps)
