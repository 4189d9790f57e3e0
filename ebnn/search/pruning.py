"""``--prune``: stop a candidate's training early when it is learning worse than the others.

A candidate of E epochs is checked after a quarter and after half of them (its *rungs*): if its
validation accuracy there (the PyTorch model's, computed after every epoch anyway) is below
the median of every earlier candidate's at the same fraction of its own epochs, it stops and
is told to Optuna as PRUNED. The candidates that stop at a quarter cost a quarter, those at half
cost half: with a median the search trains about twice as many candidates in the same time
(Optuna's MedianPruner, with the thresholds taken over every candidate that reached the rung,
not over those that finished alone, so the bar does not rise as the pruned drop out).

The thresholds are fixed when a candidate joins a batch, from the trials finished then, and
kept in its trial (user attribute ``rungs``): a candidate's fate depends on the finished trials
alone (not on which of its batch finished first, the number of jobs or the backend), and a
search resumed after an interrupt prunes what the uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

FRACTIONS = (0.25, 0.5)  # of a candidate's epochs
MIN_SEEN = 5  # no threshold at a rung fewer candidates have reached

Rung = tuple[int, float]  # (epoch, 1-based; the validation accuracy to reach there)


def rung_epoch(epochs: int, fraction: float) -> int:
    """The epoch (1-based) at ``fraction`` of ``epochs``."""
    return max(1, round(fraction * epochs))


def rungs(epochs: int, curves: Iterable[tuple[int, Sequence[float]]]) -> list[Rung]:
    """The rungs of a candidate of ``epochs`` epochs against ``curves``: (epochs, validation
    accuracy after each epoch run) of the candidates finished before it (pruned ones too, up to
    where they stopped). A rung at the last epoch, at the epoch of the rung before, or that
    fewer than ``MIN_SEEN`` curves reach is left out."""
    seen = list(curves)
    out: list[Rung] = []
    for fraction in FRACTIONS:
        epoch = rung_epoch(epochs, fraction)
        if epoch >= epochs or any(e == epoch for e, _ in out):  # one rung an epoch
            continue
        values = [curve[rung_epoch(n, fraction) - 1] for n, curve in seen
                  if len(curve) >= rung_epoch(n, fraction)]
        if len(values) >= MIN_SEEN:
            out.append((epoch, float(np.median(values))))
    return out


class Pruned(Exception):
    """Raised from the training loop at a rung the candidate did not reach."""

    def __init__(self, epoch: int, epochs: int, accuracy: float, threshold: float) -> None:
        super().__init__(f"after epoch {epoch} of {epochs}: validation "
                         f"{100 * accuracy:.2f}% < {100 * threshold:.2f}% (the median of the "
                         "candidates before it there)")


def check(rungs: Sequence[Rung], epochs: int) -> Callable[[int, float], None]:
    """The ``after_epoch`` hook of ``ebnn.train.train`` that raises :class:`Pruned`."""
    bar = dict(rungs)

    def after_epoch(epoch: int, accuracy: float) -> None:
        threshold = bar.get(epoch)
        if threshold is not None and accuracy < threshold:
            raise Pruned(epoch, epochs, accuracy, threshold)

    return after_epoch
