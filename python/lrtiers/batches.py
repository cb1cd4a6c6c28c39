"""Mini-batch order: the one definition every tier, and every source of rows, shares.

``DataLoader(dataset, batch_size, shuffle=True)`` draws, per epoch, a base seed for its
workers and then a seed for RandomSampler, which makes its own generator and takes
``randperm(n)``: the order of rows in memory (every tier's, as the tutorials' loops take
them). A file read block by block cannot be visited in any order: its rows are visited
as DataLoader's draws allow, block by block: from the sampler's generator, a permutation
of the blocks, then a permutation of each block's rows as it is read (shuffled_blocks),
batches cut from that stream across block boundaries. With one block (rows up to
block_rows) this is exactly DataLoader's order: a file and the same rows in memory give
the same batches. BatchIndexSampler yields them as index tensors (or slices, without
shuffling) instead of lists of Python ints, so that a batch is fetched with one indexing
operation rather than one __getitem__ per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


def sampler_generator(generator: torch.Generator | None) -> torch.Generator:
    """RandomSampler's own generator, seeded from DataLoader's (torch's global one: None)."""
    seed = int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())
    own = torch.Generator()
    own.manual_seed(seed)
    return own


def shuffled_blocks(
    sizes: Sequence[int], generator: torch.Generator
) -> Iterator[tuple[int, torch.Tensor]]:
    """(block, the order of its rows) in the order an epoch visits them, drawn from the
    sampler's generator as they are visited (a block's permutation only when it is read)."""
    visits = [0] if len(sizes) == 1 else torch.randperm(len(sizes), generator=generator).tolist()
    for block in visits:
        yield block, torch.randperm(sizes[block], generator=generator)


class BatchIndexSampler(Sampler):
    """Batches of row indices in RandomSampler/SequentialSampler + BatchSampler order."""

    def __init__(
        self, n: int, batch_size: int, shuffle: bool, generator: torch.Generator | None = None
    ):
        self.n, self.batch_size, self.shuffle = n, batch_size, shuffle
        self.generator = generator  # None: torch's global generator, as DataLoader's default

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor | slice]:
        if not self.shuffle:  # views, no copies
            for start in range(0, self.n, self.batch_size):
                yield slice(start, min(start + self.batch_size, self.n))
            return
        # RandomSampler.__iter__ with DataLoader's generator, draw for draw
        generator = sampler_generator(self.generator)
        yield from torch.randperm(self.n, generator=generator).split(self.batch_size)


def epoch_batches(
    n: int, batch_size: int, shuffle: bool, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor | slice]:
    """One epoch's batches as a DataLoader(..., generator=generator) iterator over
    BatchIndexSampler would give them, including the base seed every DataLoader iterator
    draws first."""
    torch.empty((), dtype=torch.int64).random_(generator=generator)  # the base seed
    return iter(BatchIndexSampler(n, batch_size, shuffle, generator))
