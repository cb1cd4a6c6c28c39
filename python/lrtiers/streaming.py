"""The blocks of a fit's rows, for arrays in memory and streamed files alike (lr_fit's one
pipeline, fit._run): which rank reads which, and passes over them in block order.

The rows of a source fall into blocks: block b holds rows [b B, (b + 1) B), B =
``settings.block_rows`` (a constant of the algorithm). A pass reads this rank's blocks in
one sequential read (Source.blocks: every byte decoded once) and computes each block's
contribution (its R factor, loss, gradient) from that block alone; the contributions are
added in block order. How the rows are read (the source's ``chunk_rows``) and how many
processes share the blocks (``world_size``, distributed.py) change neither a contribution
nor the order of the sum: the bits depend on B only.

- The reference: one pass, each block's R factor of [D, y] (reference.reference_over_blocks);
  refinement passes only where they gain digits. Non-finite values are looked for in that
  first pass, once.
- Full batches: each tier runs its own loop over the blocks, computing each block's loss
  and gradient alone; after the last block the monitor (BlockMonitor.step_due) puts the sum
  of every block's gradient, weighted by rows / n and added in block order across the
  ranks, into the tier's gradients, and the tier takes its own optimizer step: gradient
  accumulation, as PyTorch does it, in a fixed order. A rank with no block runs its loop
  once on a placeholder row and steps with the others' sum.
- Evaluations (the history's loss and gradient norm, the final residual sum of squares)
  need no pass: the loss is a quadratic whose terms the reference knows
  (precondition.QuadraticLoss). At the defaults a fit reads the data twice: the reference,
  and one epoch. Validation rows cost a pass per evaluation.
- Mini-batches: the order batches.py defines (DataLoader's, over blocks): the blocks in a
  seeded order and each block's rows in a seeded order as it is read, batches cut across
  block boundaries. With several processes the rank that holds a block reads it and
  broadcasts it: every rank takes the same steps (SGD's steps are sequential; the reading
  is shared).
- Validation (files): in each block, a seeded permutation of its rows (from the seed and the
  block number) holds out floor(rows * validation) of them; arrays in memory come with
  their validation rows apart (fit._split).

Arrays in memory are a source too (sources.ArraySource): their reference is the same
blocked QR, and the tiers train on all their rows at once, as the tutorials do. Peak memory
of a streamed fit is a few blocks and a reader's batch, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .batches import sampler_generator, shuffled_blocks
from .distributed import Group
from .errors import SettingError, StreamedValueError
from .monitor import Monitor
from .precondition import Preconditioner
from .reference import Reference, reference_over_blocks
from .sources import ArraySource, Source

if TYPE_CHECKING:
    from .tiers.contract import TrainingData


@dataclass(frozen=True)
class Layout:
    """Where the blocks are: rows, block size, the validation split, and this rank's share."""

    n_rows: int
    block_rows: int
    validation: float | None
    seed: int
    world_size: int

    @property
    def n_blocks(self) -> int:
        return -(-self.n_rows // self.block_rows)

    def rows_of(self, block: int) -> tuple[int, int]:
        start = block * self.block_rows
        return start, min(start + self.block_rows, self.n_rows)

    def owner(self, block: int) -> int:
        """The rank that reads a block: ranks hold contiguous, nearly equal ranges."""
        return next(r for r in range(self.world_size) if block < self.share(r)[1])

    def share(self, rank: int) -> tuple[int, int]:
        return (
            rank * self.n_blocks // self.world_size,
            (rank + 1) * self.n_blocks // self.world_size,
        )

    def held_out(self, block: int, rows: int) -> np.ndarray | None:
        """The block's validation rows (a boolean mask), None without validation."""
        if self.validation is None:
            return None
        order = np.random.default_rng([self.seed, block]).permutation(rows)
        mask = np.zeros(rows, dtype=bool)
        mask[order[: int(rows * self.validation)]] = True
        return mask

    def part_sizes(self, part: str) -> list[int]:
        """Rows of the training or the validation part in each block, counted without
        reading."""
        sizes = []
        for block in range(self.n_blocks):
            start, stop = self.rows_of(block)
            held = 0 if self.validation is None else int((stop - start) * self.validation)
            sizes.append(held if part == "val" else stop - start - held)
        return sizes

    def part_rows(self, part: str) -> int:
        return sum(self.part_sizes(part))


class BlockData:
    """A fit's rows as blocks of a source: this rank's blocks read in one sequential pass
    each time (the reference's, each epoch's, each evaluation's), as read for the reference
    and in training form (aliased columns dropped, preconditioned, on the fit's device) for
    the tiers. Non-finite values are looked for once, in the first pass."""

    def __init__(
        self,
        source: Source,
        layout: Layout,
        group: Group,
        dtype: str,
        device: str,
        val: ArraySource | None = None,
    ):
        self.source, self.layout, self.group = source, layout, group
        self.dtype, self.device = dtype, device
        self.val = val  # validation rows given apart (in memory); else held out of each block
        self.kept: np.ndarray | None = None
        self.pre: Preconditioner | None = None
        self.n_train = layout.part_rows("train")
        self.n_val = layout.part_rows("val") if val is None else val.n_rows
        self._checked = False  # every block looked at for non-finite values
        self.keep_rows = True  # rows in memory are read again after training (refinement)

    @property
    def in_memory(self) -> bool:
        return isinstance(self.source, ArraySource)

    # -- reading ---------------------------------------------------------------------

    def _check_finite(self, block: int, x: np.ndarray, y: np.ndarray) -> None:
        for values, names in ((x, self.source.feature_names), (y, self.source.target_names)):
            if not np.isfinite(values).all():
                row, col = np.argwhere(~np.isfinite(values))[0]
                start = self.layout.rows_of(block)[0]
                raise StreamedValueError(
                    self.source.path, start + int(row), names[col], float(values[row, col])
                )

    def _split(self, block: int, x: np.ndarray, y: np.ndarray, part: str) -> tuple:
        held = self.layout.held_out(block, x.shape[0])
        if held is None:
            return x, y
        keep = held if part == "val" else ~held
        return x[keep], y[keep]

    def raw_blocks(self, part: str = "train") -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """This rank's blocks (block, x, y) of a part in one sequential read, in the fit's
        dtype (float32 fits round the values once)."""
        first, last = self.layout.share(self.group.rank)
        blocks = self.source.blocks(self.layout.block_rows, first, last, self.dtype)
        for block, (x, y) in enumerate(blocks, start=first):
            if not self._checked:
                self._check_finite(block, x, y)
            x, y = self._split(block, x, y, part)
            if x.shape[0]:
                yield block, x, y
        self._checked = True

    def over_blocks(self, work: Callable, part: str = "train") -> list:
        """[work(x, y) for every block of the part, in block order], on every rank: each
        rank works on its own blocks, then the lists are gathered."""
        if part == "val" and self.val is not None:
            return [work(x, y) for x, y in self.val.blocks(self.layout.block_rows)]
        mine = [work(x, y) for _, x, y in self.raw_blocks(part)]
        return self.group.gather(mine)

    def training_form(self, x: np.ndarray, y: np.ndarray, as_numpy: bool) -> tuple:
        """A block (or rows in memory) as the tiers train on it: aliased columns dropped,
        preconditioned: in place on a block read from a file (the fit's own) and on rows in
        memory (lr_fit's own copies) unless they are read again (keep_rows: refinement)."""
        assert self.kept is not None and self.pre is not None
        own = not (self.in_memory and self.keep_rows)
        if not self.kept.all():
            x, own = np.ascontiguousarray(x[:, self.kept]), True
        if not self.pre.is_identity:
            x = self.pre.apply(x, out=None if own else np.empty_like(x))
        if as_numpy:
            return x, y
        return torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)

    def placeholder(self, as_numpy: bool) -> tuple:
        """One row of zeros in the training form, for a rank that holds no block."""
        assert self.kept is not None
        p, q = int(np.count_nonzero(self.kept)), len(self.source.target_names)
        x, y = np.zeros((1, p), dtype=self.dtype), np.zeros((1, q), dtype=self.dtype)
        if as_numpy:
            return x, y
        return torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)

    def training_blocks(self, part: str, as_numpy: bool) -> Iterator[tuple[int, Any, Any]]:
        """This rank's blocks of a part in training form."""
        for block, x, y in self.raw_blocks(part):
            yield (block, *self.training_form(x, y, as_numpy))

    def every_block(self, block: int, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Any block on every rank (mini-batches visit them all): the rank that holds it
        reads it and sends it."""
        layout, group = self.layout, self.group
        p = len(self.source.feature_names)
        if group.size == 1:
            x, y = next(self.source.blocks(layout.block_rows, block, block + 1, self.dtype))
            return self._split(block, x, y, part)
        owner = layout.owner(block)
        start, stop = layout.rows_of(block)
        values = None
        if group.rank == owner:
            x, y = next(self.source.blocks(layout.block_rows, block, block + 1, self.dtype))
            values = np.hstack([x, y]).astype(np.float64)  # sent as float64: exact
        values = group.broadcast(values, owner, (stop - start, p + len(self.source.target_names)))
        values = values.astype(self.dtype, copy=False)
        x, y = np.ascontiguousarray(values[:, :p]), np.ascontiguousarray(values[:, p:])
        return self._split(block, x, y, part)


def ordered_sum(parts: list, start: Any) -> Any:
    """parts added to start one after the other, in the order given (block order)."""
    total = start
    for part in parts:
        total = total + part
    return total


# ---------------------------------------------------------------------------- reference


def streamed_reference(
    data: BlockData, intercept: bool, alias_tol: float, leverage: bool = False
) -> Reference:
    """The least-squares reference of the training rows: one pass (the R factor of [D, y],
    and with leverage=True a bound on the rows' leverage), and refinement passes only where
    they gain digits (reference.reference_over_blocks)."""
    p, q = len(data.source.feature_names), len(data.source.target_names)
    return reference_over_blocks(
        data.over_blocks, data.n_train, p, q, intercept, alias_tol, leverage=leverage
    )


# ---------------------------------------------------------------------------- training


def _as_float64(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64).cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _put(total: np.ndarray, grad: Any) -> None:
    """The summed gradient written into the tier's own gradient (array or tensor), which
    its optimizer then steps with."""
    if isinstance(grad, torch.Tensor):
        with torch.no_grad():
            grad.copy_(torch.from_numpy(total))
    else:
        grad[...] = total


class BlockMonitor(Monitor):
    """The monitor of a fit whose rows are read block by block: its full batches are the
    blocks (gradients accumulated, step_due), its mini-batches are cut from blocks read in
    batches.py's order."""

    def __init__(self, data: BlockData, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stream = data
        self.n = data.n_train
        self._block_parts: list = []
        self._block_rows: int | None = None  # rows of the block being trained on (None: none)
        self._last_block = True

    # -- batches ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        """The dataloader tier's loader (TrainingData.loader): one epoch's batches."""
        return iter(self.batches(self.data.x, self.data.y))

    def batches(self, x: Any, y: Any) -> Iterator[tuple[Any, Any]]:
        as_numpy = isinstance(x, np.ndarray)
        if self.full_batch:
            return self._blocks(as_numpy)
        return self._streamed_minibatches(as_numpy)

    def _blocks(self, as_numpy: bool) -> Iterator[tuple[Any, Any]]:
        """This rank's training blocks, in order, each known to be the last or not (one
        block read ahead). A rank that holds none still goes through its tier's loop once,
        on one placeholder row whose gradient is not part of any sum, so that it reaches
        the step (with the other ranks' sum) as they do."""
        self._block_parts = []
        blocks = self.stream.training_blocks("train", as_numpy)
        current = next(blocks, None)
        if current is None:
            self._block_rows, self._last_block = None, True
            yield self.stream.placeholder(as_numpy)
            return
        while current is not None:
            following = next(blocks, None)
            _, xb, yb = current
            self._block_rows, self._last_block = xb.shape[0], following is None
            yield xb, yb
            current = following

    def _streamed_minibatches(self, as_numpy: bool) -> Iterator[tuple[Any, Any]]:
        """One epoch's batches in the order batches.py defines (the DataLoader's, over
        blocks), each block read when it is visited."""
        sizes = self.stream.layout.part_sizes("train")
        # as every DataLoader iterator does: the base seed, then the sampler's generator
        torch.empty((), dtype=torch.int64).random_(generator=self.data.generator)
        visits: Iterator[tuple[int, torch.Tensor | None]] = (
            shuffled_blocks(sizes, sampler_generator(self.data.generator))
            if self.shuffle
            else ((block, None) for block in range(len(sizes)))
        )
        size = self.batch_size
        assert size is not None
        carry: tuple | None = None
        for block, order in visits:
            if not sizes[block]:
                continue
            x, y = self.stream.every_block(block, "train")
            if order is not None:
                x, y = x[order.numpy()], y[order.numpy()]
            if carry is not None:
                x, y = np.concatenate([carry[0], x]), np.concatenate([carry[1], y])
            whole = x.shape[0] // size * size
            for start in range(0, whole, size):
                yield self.stream.training_form(
                    x[start : start + size].copy(), y[start : start + size], as_numpy
                )
            carry = (x[whole:], y[whole:]) if whole < x.shape[0] else None
        if carry is not None:
            yield self.stream.training_form(carry[0].copy(), carry[1], as_numpy)

    # -- full-batch steps: gradients accumulated over the blocks ----------------------

    def step_due(self, loss: Any, *grads: Any) -> bool:
        """A block's loss and gradients (of its own mean), kept weighted by its share of the
        rows; after this rank's last block, every rank's are gathered and added in block
        order, written into the tier's gradients and booked: the tier steps with the
        full-batch gradient, the same bits whatever the chunk size or number of processes."""
        if not self.full_batch:
            return True
        if self._block_rows is not None:
            share = self._block_rows / self.n
            self._block_parts.append(
                (
                    float(loss.item()) * share,
                    [None if g is None else _as_float64(g) * share for g in grads],
                )
            )
        if not self._last_block:
            return False
        parts = self.stream.group.gather(self._block_parts)
        total_loss = ordered_sum([part[0] for part in parts], 0.0)
        for i, grad in enumerate(grads):
            if grad is not None:
                _put(ordered_sum([part[1][i] for part in parts], 0.0), grad)
        self.record(np.float64(total_loss), *grads)
        return True

    # -- evaluations: passes over the blocks -----------------------------------------

    def _val_loss(self) -> float | None:
        """The validation rows' MSE: a pass over them (held out of every block)."""
        if self.stream.n_val == 0:
            return None
        weight_t, bias = self._weight_t, self._bias
        assert weight_t is not None

        def block_sse(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            z, y = self.stream.training_form(x, y, as_numpy=False)
            with torch.no_grad():
                error = z @ weight_t.to(z.device) - y
                if bias is not None:
                    error += bias.to(z.device)
                return torch.sum(error * error, dim=0, dtype=torch.float64).cpu().numpy()

        q = len(self.stream.source.target_names)
        sse = ordered_sum(self.stream.over_blocks(block_sse, "val"), np.zeros(q))
        return float(np.sum(sse)) / (self.stream.n_val * q)

    def _call_back(self, epoch: int, loss: float) -> object:
        """The callback runs on every rank; any rank's stop stops them all."""
        answer = super()._call_back(epoch, loss)
        group = self.stream.group
        if group.size == 1:
            return answer
        from .monitor import _says_stop

        return False if group.any(_says_stop(answer)) else None

    def _agreed(self, rule: str | None) -> str | None:
        """A stopping rule's decision: every rank computes it from the same numbers (sums in
        block order), and the first rank that says stop decides for all, so that no rank can
        run an epoch the others do not."""
        group = self.stream.group
        if group.size == 1:
            return rule
        return next((said for said in group.gather([rule]) if said is not None), None)


def check_streamable(settings: Any) -> None:
    """What a streamed fit cannot do, said before reading anything."""
    if settings.optimizer == "lbfgs":
        raise SettingError(
            "optimizer",
            "optimizer 'lbfgs' needs the data in memory (its line search evaluates the loss "
            "many times a step); streamed sources support 'sgd', 'momentum', 'nesterov', 'adam'",
        )
    if isinstance(settings.validation, tuple):
        raise SettingError(
            "validation",
            "validation data cannot be given with a streamed source: use a fraction "
            "(validation=0.2 holds out a seeded fifth of every block)",
        )


def layout_for(source: Source, settings: Any, group: Group) -> Layout:
    """The blocks of a fit's rows. A file's validation rows are held out of each block; arrays
    in memory come with theirs apart (split before, as R asks for them)."""
    return Layout(
        n_rows=int(source.n_rows),
        block_rows=settings.block_rows,
        validation=None if isinstance(source, ArraySource) else settings.validation,
        seed=settings.seed,
        world_size=group.size,
    )


def placeholder_tensors(p: int, q: int, dtype: str, device: str, validation: bool) -> TrainingData:
    """The TrainingData of a streamed fit: empty tensors that carry the shape, dtype and
    device the tiers read off them (the rows come from the monitor's batches)."""
    from .tiers import TrainingData

    torch_dtype = getattr(torch, dtype)
    x = torch.empty((0, p), dtype=torch_dtype, device=device)
    y = torch.empty((0, q), dtype=torch_dtype, device=device)
    return TrainingData(
        x,
        y,
        np.empty((0, p), dtype=dtype),
        np.empty((0, q), dtype=dtype),
        x_val=x if validation else None,
        y_val=y if validation else None,
    )


def with_world(settings: Any, group: Group) -> Any:
    return (
        replace(settings, world_size=group.size) if settings.world_size != group.size else settings
    )
