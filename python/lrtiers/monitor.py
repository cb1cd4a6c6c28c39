"""The monitor: everything around a tier's loop (see tiers/contract.py for when a tier calls
it). It keeps the history (full training-set MSE and gradient norm after each epoch,
validation loss), stops the fit once it has converged (or on a rule that does not look at
the reference: tol, grad_tol, early_stopping; or on the user's callback), and detects
divergence.

Full batch with a one-step optimizer costs no extra pass over X: the loss and gradient a
tier computes at the start of epoch k are exactly those at the end of epoch k - 1, so the
monitor books them one epoch late and evaluates only the final parameters itself.
Mini-batch epochs, and L-BFGS (several evaluations per epoch), get one evaluation each.

The bookkeeping is kept cheap enough to disappear next to the tutorial's own loop on tiny
data: an epoch reads its loss once (the number every stopping rule needs) and keeps a copy
of its gradient; the gradient norms are reduced later, many epochs at a time (GradNorms).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .batches import epoch_batches
from .errors import DivergenceError
from .precondition import QuadraticLoss
from .tiers.contract import Anchor, TrainingData
from .verdict import STOP_MARGIN_DIGITS, Target

#: The loss "explodes" when it grows this many times above the initial loss.
DIVERGENCE_FACTOR: float = 1e8
#: A loss that has not gone below its best for this many epochs has stalled (round-off):
#: the fit then stops as soon as the verdict's digits are reached, without the margin.
STALL_EPOCHS: int = 10
#: Gradients waiting for their norms hold at most this many numbers.
GRAD_BUFFER_ELEMENTS: int = 1 << 16
#: CPU gradients this small (in all) are kept as lists of floats: cheaper than tensor copies.
SMALL_GRADIENT: int = 256


@dataclass
class History:
    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def _tensor(value: Any) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _as_is(grad: Any) -> Any:
    return grad


def _copy(grad: torch.Tensor) -> torch.Tensor:
    return grad.detach().clone()


def _snapshot_method(grads: list) -> Callable:
    """How to keep a tier's gradients as they are now, unchanged by later in-place updates
    (optimizer.step(), grad.zero_()): NumPy gradients as they are (the numpy tier computes
    new arrays every step), small CPU tensors as nested lists of floats, others as copies."""
    if all(isinstance(g, np.ndarray) for g in grads):
        return _as_is
    if sum(g.numel() for g in grads) <= SMALL_GRADIENT and not any(g.is_cuda for g in grads):
        return torch.Tensor.tolist
    return _copy


def _stack(parts: tuple) -> np.ndarray:
    """One part (weight or bias) of many epochs' gradients as an (epochs, size) float64
    array: the same numbers whichever form the snapshots took."""
    if isinstance(parts[0], torch.Tensor):
        stacked = torch.stack(parts).to(dtype=torch.float64).cpu().numpy()
    else:
        stacked = np.array(parts, dtype=np.float64)
    return stacked.reshape(len(parts), stacked.size // len(parts))


class GradNorms:
    """Gradient norms per epoch, computed late.

    add() keeps an epoch's gradient parts (weight, bias): those a tier computed ("tier"), or
    those of the monitor's own evaluation ("monitor"). The norms, in float64, are reduced
    many epochs at a time, vectorised: when about GRAD_BUFFER_ELEMENTS numbers are waiting,
    and at the end. Where the reductions fall depends on the sizes only: the same bits run
    after run.
    """

    def __init__(self) -> None:
        self.norms: list[float] = []
        self._runs: list[tuple[str, float, list]] = []  # (source, scale, one entry per epoch)
        self._run: tuple[str, float, list] = ("", math.nan, [])  # the last of them
        self._rows = 0  # epochs per reduction, from the size of the first entry

    def add(self, entry: Sequence[Any], source: str, scale: float = 1.0) -> None:
        """entry: the gradient's parts; source: who computed them (runs of one source)."""
        run = self._run
        if run[0] != source or run[1] != scale:
            run = self._run = (source, scale, [])
            self._runs.append(run)
            if not self._rows:
                size = sum(
                    p.numel() if isinstance(p, torch.Tensor) else np.size(p)
                    for p in entry
                    if p is not None
                )
                self._rows = max(1, GRAD_BUFFER_ELEMENTS // max(size, 1))
        entries = run[2]
        entries.append(entry)
        if len(entries) >= self._rows:
            self.flush()

    def latest(self) -> float:
        """The norm of the last epoch's entry, now (grad_tol needs it at once): as flush()
        computes it."""
        source, scale, entries = self._run
        if not entries:
            return self.norms[-1]
        total = 0.0
        for part in (_stack((c,)) * scale for c in entries[-1] if c is not None):
            total += float(np.einsum("ij,ij->i", part, part)[0])
        return math.sqrt(total)

    def drop_last(self) -> None:
        """Forget the last epoch's entry (reduced already or not)."""
        if self._run[2]:
            self._run[2].pop()
        else:
            self.norms.pop()

    def flush(self) -> None:
        for source, scale, entries in self._runs:
            if not entries:
                continue
            # weight, then bias (None: untrained)
            parts = [_stack(c) for c in zip(*entries, strict=True) if c[0] is not None]
            total = np.zeros(len(entries))
            for part in parts:
                part = part * scale
                total += np.einsum("ij,ij->i", part, part)
            self.norms.extend(np.sqrt(total).tolist())
        self._runs, self._run = [], ("", math.nan, [])


def _worst(weight: np.ndarray, bias: np.ndarray, target: Target) -> tuple | None:
    """Where the coefficient farthest from the target (relative to its yardstick) is."""
    errors = np.abs(weight - target.weight) / target.weight_scale
    worst: tuple[str, Any] | None = None
    if errors.size:
        worst = ("weight", np.unravel_index(int(np.argmax(errors)), errors.shape))
    if target.intercept:
        bias_errors = np.abs(bias - target.bias) / target.bias_scale
        if worst is None or np.max(bias_errors) > errors[worst[1]]:
            worst = ("bias", int(np.argmax(bias_errors)))
    return worst


def _far_off(
    probe: tuple | None, weight: np.ndarray, bias: np.ndarray, target: Target, needed: float
) -> bool:
    """Whether one coefficient alone (computed as Target.digits computes each) is surely
    short of `needed` digits: then so is the worst one, and the fit has not converged.
    Near the threshold (0.1%), or for no probe, it says no and the full test decides."""
    if probe is None:
        return False
    part, index = probe
    if part == "weight":
        error = abs(weight[index] - target.weight[index]) / target.weight_scale[index]
    else:
        error = abs(bias[index] - target.bias[index]) / target.bias_scale[index]
    return error > 1.001 * 10.0**-needed  # NaN: no, the full test decides


def _says_stop(answer: object) -> bool:
    """A callback stops the fit by returning False, Python's or NumPy's (np.False_); any
    other answer (None, True, a number) lets it go on."""
    return answer is False or (isinstance(answer, np.bool_) and not answer)


class Patience:
    """Epochs in a row without improvement (scikit-learn's n_iter_no_change): a value improves
    when it goes below best * (1 - tol) (tol None or 0: below best at all). Exhausted once
    `patience` epochs in a row have not improved. The lowest value and its epoch are kept."""

    def __init__(
        self, tol: float | None, patience: int, best: float = math.inf, best_epoch: int = 0
    ):
        self.factor = 1.0 - (tol or 0.0)
        self.patience = patience
        self.best, self.best_epoch = best, best_epoch
        self.wait = 0

    def update(self, epoch: int, value: float) -> bool:
        """Books an epoch's value; whether it is the lowest so far."""
        # an infinite best (none yet) times a factor <= 0 would be NaN or -inf
        threshold = self.best * self.factor if math.isfinite(self.best) else self.best
        self.wait = 0 if value < threshold else self.wait + 1
        if value < self.best:
            self.best, self.best_epoch = value, epoch
            return True
        return False

    @property
    def exhausted(self) -> bool:
        return self.wait >= self.patience


class CallbackStopIteration(Exception):
    """Carries a StopIteration raised in the user's callback out of the tier's loop."""

    def __init__(self, error: StopIteration):
        super().__init__(error)
        self.error = error


@dataclass
class StopRule:
    """Stop once converged: the target, and the map from training coordinates to it."""

    target: Target
    to_original: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Monitor:
    def __init__(
        self,
        data: TrainingData,
        *,
        tier: str,
        epochs: int,
        batch_size: int | None,
        shuffle: bool,
        books_late: bool,
        tol: float | None,
        n_iter_no_change: int,
        grad_tol: float | None,
        early_stopping: bool,
        callback: Callable[[int, float], object] | None,
        intercept: bool,
        stop_rule: StopRule | None,
        divergence: Callable[[int, float], DivergenceError],
        quadratic: QuadraticLoss,
        variance_reduction: bool = False,
    ):
        self.data = data
        self.tier = tier
        self.n_epochs = epochs
        self.n = data.x.shape[0]
        self.batch_size = batch_size
        self.full_batch = batch_size is None
        self.books_late = books_late and self.full_batch
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.grad_tol = grad_tol
        self.early_stopping = early_stopping
        self.callback = callback
        self.intercept = intercept
        self.stop_rule = stop_rule
        self.divergence = divergence
        self.quadratic = quadratic
        self.variance_reduction = variance_reduction and not self.full_batch
        self.initial_loss: float | None = None
        self.stop_reason = "epochs"
        self._history = History()
        self._grad_norms = GradNorms()
        self._snapshot: Callable = _as_is
        self._stop = False
        # the rules that do not look at the reference (a collective call over ranks each epoch)
        self._rules = tol is not None or grad_tol is not None or early_stopping
        self._checks = stop_rule is not None or self._rules or callback is not None
        self._loss_patience: Patience | None = None  # tol on the training loss
        self._val_patience = Patience(tol, n_iter_no_change)  # early_stopping
        self._initial_grad_norm = math.nan  # grad_tol's yardstick, set when it is given
        self._best_params: list | None = None  # early_stopping: the lowest validation loss's
        self.best_epoch: int | None = None  # early_stopping: the epoch put back
        self._loss_limit = math.inf  # a loss above it (or NaN) may have diverged: check it
        self._gate_loss: float | None = None  # the last loss that passed the loss test
        self._probe: tuple | None = None  # the coefficient that failed the digits test last
        self._params: tuple = ()
        self._kept: list | None = None  # the parameters a full-batch stop was decided on
        self._best = (math.inf, 0)  # the lowest loss so far, and its epoch
        self._weight_t: torch.Tensor | None = None  # the live weight, transposed (a view)
        self._bias: torch.Tensor | None = None
        self._epoch = 0
        self._last_sse = np.zeros(0)  # residual sums of squares of the last evaluation
        self._last_grads: list = []  # and its gradients (weight's, bias's with an intercept)

    @property
    def history(self) -> History:
        """The history so far (one entry per epoch run)."""
        self._grad_norms.flush()
        h = self._history
        h.grad_norm = self._grad_norms.norms
        h.epoch = list(range(1, len(h.loss) + 1))
        return h

    # -- what tiers call --------------------------------------------------------------

    def epochs(self, *params: Any) -> Iterator[int]:
        """Epoch numbers 1..epochs; params are the live parameter arrays/tensors."""
        self._params = params
        weight, bias = (params + (None,))[:2]
        # views of the live parameters (the tiers update them in place)
        self._weight_t = _tensor(weight).detach().t()
        self._bias = _tensor(bias).detach() if bias is not None and self.intercept else None
        if self.grad_tol is not None:
            self._initial_grad_norm = self._gradient_norm_now()
        if not self.books_late or self.n_epochs == 0:
            self._set_initial_loss(self._evaluate(booked=False))
        for epoch in range(1, self.n_epochs + 1):
            self._epoch = epoch
            yield epoch
            if not self.books_late:
                self._end_epoch(epoch, self._evaluate())
            elif not self._stop and self._reached():
                # decided on the parameters this epoch ended with: no step to undo
                self._stop, self.stop_reason = True, "converged"
            if self._stop:
                break
        if self._kept is not None:
            self._put_back()  # the stop belongs to the epoch before: as if epochs had said so
            # and its books as epochs = k keeps them: the monitor's own evaluation of the
            # final parameters, not the tier's step (the same numbers up to round-off)
            self._grad_norms.drop_last()
            self._history.loss[-1] = self._evaluate()
        elif self.books_late and self._epoch > 0:
            self._end_epoch(self._epoch, self._evaluate())
        if self.early_stopping and self.stop_reason != "converged":
            self._restore_best()

    def anchor(self, weight: Any, bias: Any) -> Anchor | None:
        """SVRG's anchor for the epoch that begins: copies of the live parameters, and the
        full gradient at them, which the monitor's evaluation at the end of the last epoch
        (or the initial one) computed from the quadratic: no pass over the rows."""
        if not self.variance_reduction:
            return None
        grad_weight = self._last_grads[0]
        grad_bias = self._last_grads[1] if self.intercept else np.zeros(grad_weight.shape[0])
        if isinstance(weight, np.ndarray):
            dtype = weight.dtype
            return Anchor(
                weight.copy(), bias.copy(), grad_weight.astype(dtype), grad_bias.astype(dtype)
            )

        def like(grad: np.ndarray, live: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(grad)).to(live.device, live.dtype)

        def copy(live: torch.Tensor | None) -> torch.Tensor | None:
            if live is None:
                return None
            return live.detach().clone().requires_grad_(live.requires_grad)

        return Anchor(
            copy(weight),
            copy(bias),
            like(grad_weight, weight),
            like(grad_bias, weight),
        )

    def batches(self, x: Any, y: Any) -> Iterable[tuple[Any, Any]]:
        """Full batch: (x, y) itself, rows in order. Otherwise the DataLoader tier's batches,
        in its order (shuffled when shuffle=True)."""
        if self.full_batch:
            return ((x, y),)
        return self._minibatches(x, y)

    def _minibatches(self, x: Any, y: Any) -> Iterator[tuple[Any, Any]]:
        assert self.batch_size is not None  # not a full batch
        for rows in epoch_batches(self.n, self.batch_size, self.shuffle, self.data.generator):
            if isinstance(x, np.ndarray) and isinstance(rows, torch.Tensor):
                rows_numpy = rows.numpy()
                yield x[rows_numpy], y[rows_numpy]
            else:
                yield x[rows], y[rows]

    def step_due(self, loss: Any, *grads: Any) -> bool:
        """Called after each batch's backward pass, with its loss and gradients: whether the
        tier takes its optimizer step now. In memory every batch is a step (a full batch's
        loss and gradients are booked first); over blocks of rows (streaming.py) only the
        last block's, once its gradients hold the sum of every block's."""
        self.record(loss, *grads)
        return True

    def record(self, loss: Any, *grads: Any) -> None:
        """A full-batch step's loss and gradients, taken before its update: they belong to
        the parameters the previous epoch ended with. Other steps are not booked."""
        if not self.books_late:
            return
        loss = loss.item()  # a 0-d tensor or a NumPy scalar
        if self._epoch == 1:
            self._set_initial_loss(loss)
            self._snapshot = _snapshot_method([g for g in grads if g is not None])
            return
        snapshot = self._snapshot
        entry: Sequence[Any] = grads
        if snapshot is not _as_is:
            entry = [snapshot(g) for g in grads if g is not None]
        self._grad_norms.add(entry, "tier")
        self._end_epoch(self._epoch - 1, loss)

    # -- bookkeeping ------------------------------------------------------------------

    def _evaluate(self, booked: bool = True) -> float:
        """Full training-set MSE at the current parameters, in float64, from the quadratic
        the loss is (precondition.QuadraticLoss: no pass over the rows); its gradient goes
        to the gradient norms (booked=False: the initial loss, which has none)."""
        weight = _numpy(self._params[0])
        bias = _numpy(self._params[1]) if self.intercept else None
        sse, grads = self.quadratic(weight, bias)
        self._last_sse, self._last_grads = sse, grads
        if booked:
            self._grad_norms.add(grads, "monitor")
        return float(np.sum(sse)) / (self.quadratic.n * sse.size)

    def residual_ss(self) -> np.ndarray:
        """(q,) residual sums of squares at the final parameters (the last evaluation's)."""
        return self._last_sse

    def _val_loss(self) -> float | None:
        if self.data.x_val is None:
            return None
        assert self._weight_t is not None and self.data.y_val is not None  # epochs() began
        with torch.no_grad():
            pred = self.data.x_val @ self._weight_t
            if self._bias is not None:
                pred += self._bias
            return float(torch.mean((pred - self.data.y_val) ** 2))

    def _set_initial_loss(self, loss: float) -> None:
        self.initial_loss = loss
        self._check_divergence(0, loss)
        reference = loss if loss and math.isfinite(loss) else 1.0
        # _check_divergence's test as one comparison: loss <= limit fails for NaN, +inf
        # and losses above the limit (the largest float when the limit overflows)
        self._loss_limit = min(DIVERGENCE_FACTOR * max(reference, 1e-300), sys.float_info.max)

    def _check_divergence(self, epoch: int, loss: float) -> None:
        reference = (
            self.initial_loss if self.initial_loss and math.isfinite(self.initial_loss) else 1.0
        )
        if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(reference, 1e-300):
            raise self.divergence(epoch, loss)

    def _converged(self, loss: float, stalled: bool = False) -> bool:
        """The stop rule: the verdict's loss test, then its digits test with the margin
        (without it once the loss has stalled: the margin is out of reach, the verdict not).
        Two shortcuts give the same answers at a fraction of the cost: the loss test
        passes for any loss at or below one that passed (it is monotone), and the
        coefficient that failed the digits test last is looked at alone first."""
        rule = self.stop_rule
        if rule is None:
            return False
        target = rule.target
        if self._gate_loss is None or not loss <= self._gate_loss:
            assert self.initial_loss is not None  # set before the first epoch's end
            if not target.loss_ok(loss, self.initial_loss):
                return False  # the loss test is cheap and necessary: coefficients only then
            self._gate_loss = loss
        return self._digits_reached(stalled)

    def _reached(self) -> bool:
        """The stop rule of a full-batch epoch, on the parameters it ended with: their loss
        is booked only with the next step (or the final evaluation), so the coefficients
        alone decide; 7 + 1 digits of every coefficient relative to max(|b*|, SE) leave a
        loss gap far inside the verdict's loss test. No pass over the data, and no epoch
        run only to be undone."""
        if self.stop_rule is None:
            return False
        return self._digits_reached(stalled=self._epoch - 1 - self._best[1] >= STALL_EPOCHS)

    def _digits_reached(self, stalled: bool) -> bool:
        rule = self.stop_rule
        assert rule is not None
        target = rule.target
        weight, bias = self._params[0], self._params[1]
        bias = _numpy(bias) if self.intercept else np.zeros(target.bias.shape)
        weight, bias = rule.to_original(_numpy(weight), bias)
        needed = target.digits_required + (0.0 if stalled else STOP_MARGIN_DIGITS)
        if self._probe is not None and _far_off(self._probe, weight, bias, target, needed):
            return False
        if target.digits(weight, bias) >= needed:
            return True
        self._probe = _worst(weight, bias, target)
        return False

    def _end_epoch(self, epoch: int, loss: float) -> None:
        if not loss <= self._loss_limit:
            self._check_divergence(epoch, loss)
        self._history.loss.append(loss)
        if loss < self._best[0]:
            self._best = (loss, epoch)
        if self.data.x_val is not None:
            val_loss = self._val_loss()
            assert val_loss is not None  # there are validation rows
            self._history.val_loss.append(val_loss)
        if self._checks:
            self._stop_checks(epoch, loss)

    def _stop_checks(self, epoch: int, loss: float) -> None:
        # (a full batch's stop rule runs at the end of its epoch: _reached)
        if not self.books_late and self._converged(
            loss, stalled=epoch - self._best[1] >= STALL_EPOCHS
        ):
            self._request_stop("converged")
        if self._rules:
            rule = self._agreed(self._rule_says(epoch, loss))
            if rule is not None:
                self._request_stop(rule)
        if self.callback is not None and _says_stop(self._call_back(epoch, loss)):
            self._request_stop("callback")

    def _rule_says(self, epoch: int, loss: float) -> str | None:
        """The rules that do not look at the reference, on the epoch's numbers: which one
        stops the fit now (None: none). With early_stopping, tol is the validation loss's."""
        stop = None
        if self.early_stopping:
            if self._val_patience.update(epoch, self._history.val_loss[-1]):
                self._best_params = self._copy_trained()  # the live ones are this epoch's
            if self._val_patience.exhausted:
                stop = "early_stopping"
        elif self.tol is not None:
            if self._loss_patience is None:  # the starting values' loss is the first best
                assert self.initial_loss is not None  # set before the first epoch's end
                self._loss_patience = Patience(self.tol, self.n_iter_no_change, self.initial_loss)
            self._loss_patience.update(epoch, loss)
            if self._loss_patience.exhausted:
                stop = "tol"
        if (
            stop is None
            and self.grad_tol is not None
            and self._grad_norms.latest() <= self.grad_tol * self._initial_grad_norm
        ):
            stop = "grad_tol"
        return stop

    def _agreed(self, rule: str | None) -> str | None:
        """Every process's decision (BlockMonitor: any rank's stop stops them all)."""
        return rule

    def _gradient_norm_now(self) -> float:
        """The norm of the training loss's gradient at the live parameters, in float64, from
        the quadratic (no pass over the rows)."""
        weight = _numpy(self._params[0])
        bias = _numpy(self._params[1]) if self.intercept else None
        grads = self.quadratic(weight, bias)[1]
        return math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))

    def _copy_trained(self) -> list:
        return [p.copy() if isinstance(p, np.ndarray) else _copy(p) for p in self._trained()]

    def _restore_best(self) -> None:
        """early_stopping: put back the parameters of the epoch with the lowest validation
        loss (kept when it was booked), and evaluate them: the final loss and residual sums
        of squares are theirs. The history keeps the epochs as they ran."""
        if self._best_params is None:
            return  # no epoch ran
        self.best_epoch = self._val_patience.best_epoch
        self._put_back(self._best_params)
        self._evaluate(booked=False)

    def final_loss(self) -> float:
        """The full training-set MSE at the final parameters: the last evaluation's."""
        sse = self._last_sse
        return float(np.sum(sse)) / (self.quadratic.n * sse.size)

    def _call_back(self, epoch: int, loss: float) -> object:
        assert self.callback is not None  # called only when there is one
        try:
            return self.callback(epoch, loss)
        except StopIteration as exc:
            # raised through epochs() (a generator) it would turn into "RuntimeError:
            # generator raised StopIteration" (PEP 479): carried out, lr_fit raises it as is
            raise CallbackStopIteration(exc) from None

    def _request_stop(self, reason: str) -> None:
        if self._stop:
            return
        self._stop, self.stop_reason = True, reason
        if self.books_late:
            # decided in record(), before this epoch's update, on the parameters the last
            # epoch ended with: keep them, to put back once the tier's step is done
            self._kept = self._copy_trained()

    def _trained(self) -> list:
        weight, bias = (self._params + (None,))[:2]
        return [weight] if bias is None or not self.intercept else [weight, bias]

    def _put_back(self, kept_params: list | None = None) -> None:
        """Write kept parameters (default: those a full-batch stop kept) into the live ones."""
        kept_params = self._kept if kept_params is None else kept_params
        assert kept_params is not None  # a full-batch stop kept them
        with torch.no_grad():
            for live, kept in zip(self._trained(), kept_params, strict=True):
                if isinstance(live, np.ndarray):
                    live[...] = kept
                else:
                    live.copy_(kept)
