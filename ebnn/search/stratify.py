"""`ebnn search --stratify`: the random start deals the space's shapes evenly.

TPE draws a categorical parameter by how its values fared so far. A shape most of whose draws
are over the budget (three convs on MNIST at 50 ms: most are too slow) is thus judged by its
rejections, and with few trials its few candidates that fit may never train: in the 15 KiB
searches the three-conv shape was trained 2 to 4 times in 50 to 75 trials. With
``--stratify`` the first ``--startup`` candidates that fit the budget are dealt over the
shapes in turn: the next candidate takes the shape with the fewest that fit so far, and one
rejected before training is drawn again in the same shape (probing costs seconds, training
minutes). The other parameters are drawn as the sampler would (at random in TPE's start).
"""

from __future__ import annotations

from collections.abc import Sequence

# a shape none of whose first GIVE_UP draws fits the budget is left to the sampler
GIVE_UP = 20


def next_shape(shapes: Sequence[str], drawn: Sequence[tuple[str, bool]],
               candidates: int) -> str | None:
    """The shape the next candidate takes while the first ``candidates`` that fit are dealt
    over ``shapes``; ``drawn``: each earlier candidate's shape and whether it fitted. The shape
    with the fewest that fitted (the first listed among equals); None once ``candidates``
    fitted, or when every shape is given up (GIVE_UP draws, none fitted)."""
    fitted = dict.fromkeys(shapes, 0)
    draws = dict.fromkeys(shapes, 0)
    for shape, fits in drawn:
        if shape in draws:
            draws[shape] += 1
            fitted[shape] += fits
    if sum(fitted.values()) >= candidates:
        return None
    open_ = [s for s in shapes if fitted[s] or draws[s] < GIVE_UP]
    return min(open_, key=lambda s: fitted[s]) if open_ else None
