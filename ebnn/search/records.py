"""The shapes of what ebnn search keeps in its study's database, checked once when a study is
opened: a search folder is an input like any file (handed over, edited, damaged), and a record
of the wrong shape must be one line naming it, not a traceback deep in the ranking or the
report. Only types are checked here; what the values mean is the readers' business.

A shape is a type (``int`` excludes ``bool``; ``float`` means any real number), a
:class:`Optional`, a :class:`ListOf`, a :class:`DictOf`, or a dict of key -> shape (the
record's required keys; ``Maybe(shape)`` for a key older records may lack; keys not named are
allowed)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_NUMBER = 1 << 63  # a whole number in a record (a count, bytes, cycles) is at most this


@dataclass(frozen=True)
class Optional:
    shape: Any  # None or this


@dataclass(frozen=True)
class ListOf:
    shape: Any
    length: int | None = None  # exactly this many items


@dataclass(frozen=True)
class DictOf:
    shape: Any  # every value (keys are strings in JSON)


@dataclass(frozen=True)
class Maybe:
    shape: Any  # a dict key that may be absent


SPAN = ListOf(float, 2)  # [start, end], seconds since the epoch
FIRMWARE = {"sram_peak": int, "flash": int, "cycles": int, "cycles_median": Maybe(float),
            "cycles_min": Maybe(int), "stack_peak": Maybe(int)}  # Maybe: older searches
OUTCOME = {"status": str, "reason": str, "probe": Optional(FIRMWARE),
           "final": Optional(FIRMWARE), "trained": bool, "val_accuracy": Optional(float),
           "torch_val_accuracy": Optional(float), "test_accuracy": Optional(float),
           "seconds": DictOf(float), "epochs": Maybe(Optional(int)),
           "rung_scores": Maybe(ListOf(float)),
           "config": {"model": {"name": str, "layers": ListOf({"type": str})}}}
FOLD = Optional({"accuracy": Optional(float), "start": float, "end": float,
                 "reason": Maybe(str), "teacher_sha256": Maybe(str), "sha256": Maybe(str)})
CV_RUN = {"k": int, "folds": int, "seed": int, "teacher": Maybe(Optional(str)),
          "race": Maybe(bool)}
CV = {"folds": int, "seed": int, "results": ListOf(FOLD), "earlier": Maybe(ListOf(SPAN))}
REFIT = {"setup": dict, "status": str, "reason": str, "final": Optional(FIRMWARE),
         "test_accuracy": Optional(float), "start": float, "end": float,
         "earlier": Maybe(ListOf(SPAN))}
TRIAL_ATTRS = {"same_as": Maybe(Optional(int)), "probe": Maybe(Optional(FIRMWARE)),
               "probe_seconds": Maybe(float), "rungs": Maybe(ListOf(ListOf(float, 2))),
               "config": Maybe(dict), "outcome": Maybe(OUTCOME)}


NOT_OURS = " (not what ebnn search writes)"


def problem(value: Any, shape: Any, where: str = "") -> str | None:
    """Where ``value`` departs from ``shape`` (a path such as ``final.cycles``; "" for
    ``value`` itself), or None."""
    if isinstance(shape, Optional):
        return None if value is None else problem(value, shape.shape, where)
    if isinstance(shape, ListOf):
        if not isinstance(value, list) or shape.length not in (None, len(value)):
            return where
        return next((p for i, v in enumerate(value)
                     if (p := problem(v, shape.shape, f"{where}[{i}]")) is not None), None)
    if isinstance(shape, DictOf):
        if not isinstance(value, dict):
            return where
        return next((p for k, v in value.items()
                     if (p := problem(v, shape.shape, _join(where, str(k)))) is not None), None)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return where
        for key, inner in shape.items():
            if key not in value:
                if not isinstance(inner, Maybe):
                    return f"{_join(where, key)} (missing)"
                continue
            p = problem(value[key], inner.shape if isinstance(inner, Maybe) else inner,
                        _join(where, key))
            if p is not None:
                return p
        return None
    if shape is float:  # a finite number a float holds (no NaN, no int past float's range)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and (
            abs(value) <= MAX_NUMBER if isinstance(value, int) else math.isfinite(value))
    elif shape is int:  # (an int is used as a float too: 10**400 would overflow there)
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_NUMBER
    else:
        ok = isinstance(value, shape)
    return None if ok else where


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def study_problem(study: Any) -> str | None:
    """The first record of the study whose shape is not what ebnn search writes, described in
    a few words, or None."""
    for t in study.get_trials(deepcopy=False):
        p = problem(t.user_attrs, TRIAL_ATTRS)
        if p is not None:
            return f"trial {t.number}: its {p or 'record'} in the study is damaged{NOT_OURS}"
    for key, value in study.user_attrs.items():
        if key == "cv":
            shape: Any = CV_RUN
        elif key == "cv/teacher":
            shape = {"results": ListOf(FOLD), "earlier": Maybe(ListOf(SPAN))}
        elif key.startswith("cv/"):
            shape = CV
        elif key.startswith("refit/"):
            shape = REFIT
        else:
            continue
        p = problem(value, Optional(shape))  # None: as if never written
        if p is not None:
            return f"the study's {key} record" + (f": its {p}" if p else "") + \
                f" is damaged{NOT_OURS}"
    return None
