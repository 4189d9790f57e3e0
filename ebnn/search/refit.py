"""``ebnn search --refit``: each Pareto model's config trained again on all the labelled images.

A search chooses on validation images (or by ``--cv``), so its candidates never train on them:
on the bundled MNIST a tenth of the 5,000 labelled images only ever choose. Once the choice is
made they need not stay out. ``--refit`` trains each Pareto model's config (its recipe, epochs
and seed unchanged) on the training and validation images together (``crossval.pool_of``), the
way scikit-learn's ``GridSearchCV(refit=True)`` does, and measures the result like a candidate:
exported, built in the budget's memories and run in the simulator on the validation images for
its peak SRAM, flash and cycles per inference (a trained model's cycles move with its weights,
so the refit model is checked against the budget again), its firmware equal to the numpy
reference on every one of them, and scored on the test split when there is one. Its accuracy on
the validation images is not reported (it trained on them); the accuracy that chose it stays
the candidate's validation or cross-validated one.

Each refit is kept the moment it arrives: its files in ``DIR/refits/NNNNN/`` and its record
(status, measurements, start and end time, which count in the search's wall time) in the study
user attribute ``refit/NNNNN``; ``--resume --refit`` runs only the Pareto models without a
current one. A refit over a budget or whose firmware disagrees with the reference is recorded
with the reason and not offered; the candidate's own model stays in ``pareto/`` either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ebnn.search.crossval import pool_of
from ebnn.search.datasets import SearchData
from ebnn.search.measure import (
    UNEXPECTED,
    Budget,
    Firmware,
    MeasureError,
    measure_trained,
    unexpected_error,
)
from ebnn.search.study import write_atomically

KEY = "refit/{:05d}"  # the study user attribute of a trial's refit
REFITS_DIR = "refits"  # DIR/refits/NNNNN/model.{toml,pt,ebnn,elf}


@dataclass(frozen=True)
class RefitTask:
    number: int  # the trial whose config is trained again
    config: dict[str, Any]
    budget: Budget
    train_limit: int | None = None

    def setup(self) -> dict[str, Any]:
        """What a stored refit must match to stand for this one (the search's data is fixed
        with its settings)."""
        budget = asdict(self.budget)
        if not budget["stream"]:  # as refits stored before --stream recorded their budget
            del budget["stream"]
        return {"config": self.config, "train_limit": self.train_limit, "budget": budget}


@dataclass
class RefitOutcome:
    number: int
    status: str  # "ok" | "rejected" (over a budget) | "failed"
    reason: str = ""
    images: int = 0  # trained on
    final: Firmware | None = None
    test_accuracy: float | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    start: float = 0.0  # time.time() at the start and end (for the search's wall time)
    end: float = 0.0

    @property
    def label(self) -> str:
        return f"trial {self.number} refit"


def run_refit(task: RefitTask, data: SearchData) -> RefitOutcome:
    """Train ``task.config`` on all the labelled images and measure it; never raises."""
    out = RefitOutcome(task.number, "ok", start=time.time())
    try:
        _refit(task, data, out)
    except Exception as exc:  # a worker must report, whatever broke
        out.status, out.reason, out.files = "failed", unexpected_error(exc), {}
    out.end = time.time()
    return out


def _refit(task: RefitTask, data: SearchData, out: RefitOutcome) -> None:
    import tempfile

    from ebnn.config import parse_config
    from ebnn.search.space import config_toml
    from ebnn.train import train

    spec = parse_config(task.config, f"trial {task.number}")
    pool = pool_of(data, task.train_limit)
    out.images = len(pool)
    none = replace(pool, images=pool.images[:0], labels=pool.labels[:0],
                   source=f"{pool.source}: no validation (--refit)")
    extra = data.train_extra()
    with tempfile.TemporaryDirectory(prefix="ebnn-refit-") as tmp:
        work = Path(tmp)
        train(spec, pool, none, work / "model.pt", extra=extra)
        try:
            m = measure_trained(work / "model.pt", work, task.budget, data,
                                config_toml(task.config),
                                {"search_trial": task.number, "search_refit": True})
        except MeasureError as exc:  # over the budget: it stands; broken (the toolchain, the
            # generated C): as an unexpected error, run again by the next --refit
            out.status, out.reason = (("rejected", str(exc)) if exc.budget
                                      else ("failed", f"{UNEXPECTED}{exc}"))
            return
    out.final = m.final
    if m.over is not None:
        out.status, out.reason = "rejected", m.over
    elif m.disagree:  # the same again on a resume: it stands, as a rejection does
        out.status = "failed"
        out.reason = f"firmware and reference disagree on {m.disagree} validation images"
    else:
        out.test_accuracy, out.files = m.test_accuracy, m.files


# -- the study's side -------------------------------------------------------------------------


def stored(attrs: dict[str, Any], task: RefitTask) -> dict[str, Any] | None:
    """Trial ``task.number``'s stored refit when it stands for ``task`` (the same config,
    training images and budget), whatever its status; else None."""
    record = attrs.get(KEY.format(task.number))
    if not isinstance(record, dict) or record.get("setup") != task.setup():
        return None
    return record


def pending(attrs: dict[str, Any], tasks: list[RefitTask]) -> list[RefitTask]:
    """The refits to run: those the study holds none of for their task, and those that broke
    with an unexpected error (a rejection or a disagreement with the reference is what the
    same training gives again: it stands)."""
    def stands(record: dict[str, Any] | None) -> bool:
        return record is not None and not (record["status"] == "failed"
                                           and record["reason"].startswith(UNEXPECTED))
    return [t for t in tasks if not stands(stored(attrs, t))]


def folder(directory: Path, number: int) -> Path:
    return directory / REFITS_DIR / f"{number:05d}"


def refit(study: Any, todo: list[RefitTask], backend: Any, directory: Path,
          progress: Callable[[RefitOutcome, int, int], None] | None = None) -> int:
    """Run the refits ``todo`` (those :func:`pending`) in one batch on ``backend``; each is
    stored the moment it arrives (its files first). Returns how many broke with an unexpected
    error (they are pending again)."""
    by_number = {t.number: t for t in todo}
    done, failed = [0], [0]

    def arrived(o: RefitOutcome) -> None:
        done[0] += 1
        failed[0] += o.status == "failed" and o.reason.startswith(UNEXPECTED)
        for name, blob in o.files.items():
            write_atomically(folder(directory, o.number) / name, blob)
        before = study.user_attrs.get(KEY.format(o.number))
        earlier = [] if not isinstance(before, dict) else [
            *before.get("earlier", []), [before["start"], before["end"]]]
        study.set_user_attr(KEY.format(o.number), {
            "setup": by_number[o.number].setup(), "status": o.status,
            "reason": o.reason, "images": o.images,
            "final": None if o.final is None else asdict(o.final),
            "test_accuracy": o.test_accuracy, "start": o.start, "end": o.end,
            "earlier": earlier})
        if progress is not None:
            progress(o, done[0], len(todo))

    if todo:
        backend.run_batch(todo, arrived, run_refit)
    return failed[0]


def intervals(attrs: dict[str, Any]) -> list[tuple[float, float]]:
    """(start, end) of every refit run, failed or replaced ones included: part of the search's
    wall time."""
    return [(a, b) for key, value in attrs.items()
            if key.startswith("refit/") and isinstance(value, dict)
            for a, b in [*value.get("earlier", []), [value["start"], value["end"]]]]
