"""``--prune``: stop a candidate's training early when it is learning worse than the others.

Every candidate of E epochs is scored after a quarter and after half of them (its *rungs*): the
validation accuracy it would have if its training ended there, BNs calibrated as at the end
(``ebnn.train.calibrated_accuracy``; the running statistics mid-training rank models poorly).
Below the median of every earlier candidate's score at the same fraction of its own epochs, it
stops and is told to Optuna as PRUNED: Optuna's MedianPruner, with the medians taken over every
candidate that reached the rung, not over those that finished alone, so the bar does not rise
as the pruned drop out. The candidates that stop at a quarter cost a quarter, those at half
cost half: a candidate costs half a training on average, and the search trains up to twice as
many in the same time (with batches larger than the workers: docs/search.md).

The thresholds are fixed when a candidate joins a batch, from the trials finished then, and
kept in its trial (user attribute ``rungs``): a candidate's fate depends on the finished trials
alone (not on which of its batch finished first, the number of jobs or the backend), and a
search resumed after an interrupt prunes what the uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np

FRACTIONS = (0.25, 0.5)  # of a candidate's epochs
MIN_SEEN = 5  # no threshold at a rung fewer candidates have reached

Rung = tuple[int, float]  # (epoch, 1-based; the score to reach there)
M = TypeVar("M")  # the model trained (``ebnn.model.EBNN``; no torch import here)


def rung_epochs(epochs: int) -> list[int]:
    """The epochs (1-based) at which a candidate of ``epochs`` epochs is scored, one per
    fraction of ``FRACTIONS`` that falls before its last epoch (a short one may score the same
    epoch for two fractions). Rounded half to even: 90 epochs are scored at 22 and 45."""
    at = [max(1, round(f * epochs)) for f in FRACTIONS]
    return [e for e in at if e < epochs]


def rungs(epochs: int, scores: Iterable[Sequence[float]]) -> list[Rung]:
    """The rungs of a candidate of ``epochs`` epochs against the ``scores`` (one per fraction
    reached) of the candidates finished before it, pruned ones too: the median at each
    fraction. A fraction at the epoch of the one before, or that fewer than ``MIN_SEEN``
    candidates reached, has no rung."""
    seen = list(scores)
    out: list[Rung] = []
    for k, epoch in enumerate(rung_epochs(epochs)):
        if any(e == epoch for e, _ in out):
            continue
        values = [s[k] for s in seen if len(s) > k]
        if len(values) >= MIN_SEEN:
            out.append((epoch, float(np.median(values))))
    return out


class Pruned(Exception):
    """Raised from the training loop at a rung the candidate did not reach."""

    def __init__(self, epoch: int, epochs: int, accuracy: float, threshold: float) -> None:
        super().__init__(f"after epoch {epoch} of {epochs}: validation (BNs calibrated) "
                         f"{100 * accuracy:.2f}% < {100 * threshold:.2f}% (the median of the "
                         "candidates before it there)")


def after_epoch(rungs: Sequence[Rung], epochs: int, score: Callable[[M], float],
                scores: list[float]) -> Callable[[int, M], None]:
    """The ``after_epoch`` hook of ``ebnn.train.train``: at each of :func:`rung_epochs` it
    appends ``score(model)`` to ``scores`` (once per fraction there) and raises
    :class:`Pruned` if it is under that epoch's threshold in ``rungs``."""
    at = rung_epochs(epochs)
    bar = dict(rungs)

    def hook(epoch: int, model: M) -> None:
        if epoch not in at:
            return
        accuracy = score(model)
        scores.extend([accuracy] * at.count(epoch))
        threshold = bar.get(epoch)
        if threshold is not None and accuracy < threshold:
            raise Pruned(epoch, epochs, accuracy, threshold)

    return hook
