"""Mini-batch order: the one definition every tier shares.

``DataLoader(dataset, batch_size, shuffle=True)`` draws, per epoch, a base seed for its
workers and then a seed for RandomSampler, which makes its own generator and takes
``randperm(n)``. BatchIndexSampler yields the same batches from the same draws, but as
index tensors (or slices, without shuffling) instead of lists of Python ints, so that a
batch is fetched with one indexing operation rather than one __getitem__ per row.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


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
        seed = int(torch.empty((), dtype=torch.int64).random_(generator=self.generator).item())
        generator = torch.Generator()
        generator.manual_seed(seed)
        yield from torch.randperm(self.n, generator=generator).split(self.batch_size)


def epoch_batches(
    n: int, batch_size: int, shuffle: bool, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor | slice]:
    """One epoch's batches as a DataLoader(..., generator=generator) iterator over
    BatchIndexSampler would give them, including the base seed every DataLoader iterator
    draws first."""
    torch.empty((), dtype=torch.int64).random_(generator=generator)  # the base seed
    return iter(BatchIndexSampler(n, batch_size, shuffle, generator))
