"""``ebnn search --cv K``: the K most accurate candidates re-ranked by k-fold cross-validation.

A search ranks candidates on a few hundred validation images, and at the top that is noise: on
the bundled MNIST (500 validation images, one error = 0.2%) the 15 KiB search's two best
scored 98.40% each and then 98.70% and 97.76% on the official 10,000 test images. After the
trials, the K trained candidates with the best validation accuracy (fewest cycles first among
equals) are each trained again ``folds`` times, once per fold of a stratified split of all the
search's labelled images (training + validation), and scored on the fold they did not see: every
image is held out once, so each candidate is judged on the whole set instead of 500 images.

Each fold's result is kept in the study as it arrives (a study user attribute ``cv/NNNNN``, so
Ctrl-C or a crash loses at most the folds in flight; ``--resume --cv K`` does the rest), with
its start and end time (the search's wall time includes them, failed and replaced folds too).
The last run's K, folds, seed and teacher are kept too (``cv``): only the candidates of that
shortlist, recomputed from the trials the study holds now, with those folds, count as
cross-validated.

With ``--cv-race`` the K candidates race through the folds instead (successive halving): every
one of them runs fold 1, the better half of those (by their mean accuracy over the folds run so
far, the shortlist's order among equals; never fewer than two) run fold 2, and so on; the
finalists run every fold and count as cross-validated (as does any other candidate whose every
fold has run, by an earlier plain ``--cv``). For 16 candidates and 4 folds that is 30 fold
trainings instead of 64, so a search can send every trained candidate to the folds, not only
the few its validation split ranks best (on 500 images that ranking can be no better than
chance). Rounds without a cut run in the batch before them, the fold teachers all at once. A
fold that fails stops the race at its round until ``--resume --cv K --cv-race`` runs it again.
Against a finalist, a candidate the race left behind is compared on the folds both ran
(:func:`ebnn.search.outputs.compared`), never on its validation score.

Fold models are scored by the numpy reference (:mod:`ebnn.reference`), which the candidate's
firmware matched bit for bit on every validation image; they are not kept. The candidate's model
(trained on the training part, measured in the simulator) stays the model the search reports;
``cv_accuracy`` only ranks it. The validation images that chose the shortlist are in the folds
too (a tenth of each), so some of that selection's optimism remains, much diluted.

A space with a ``teacher`` (distillation, ``[train] teacher``) is cross-validated with a teacher
per fold: the teacher's own config is trained once on each fold's training part (validated on
the held-out fold, so the student's check that its teacher never saw its validation images
holds) and every candidate's model of that fold learns from it, not from the search's teacher,
which trained on images of every fold. The fold teachers are kept in ``DIR/cv-teachers`` (their
record, with the time they took, in the study attribute ``cv/teacher``), so ``--resume`` trains
a missing one only.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ebnn.data import Dataset
from ebnn.search.datasets import SearchData
from ebnn.search.measure import unexpected_error
from ebnn.search.study import fitted, write_atomically

KEY = "cv/{:05d}"  # the study user attribute of a trial's cross-validation
RUN_KEY = "cv"  # the last --cv run: {"k", "folds", "seed", "teacher" (its sha256 or None),
#                 "race" (--cv-race; absent: False)}
TEACHER_KEY = "cv/teacher"  # the fold teachers: {"teacher", "folds", "seed", "results", ...}
TEACHERS = "cv-teachers"  # the folder in the search's DIR that keeps them


class CrossValError(Exception):
    """The folds cannot start (the space's teacher is unreadable or unusable); the study is
    unchanged."""


def fold_teacher(path: Path) -> tuple[str, dict[str, Any]]:
    """The sha256 of the teacher checkpoint at ``path`` and the config each fold's teacher is
    trained from: its own, with the epochs it was trained for. CrossValError (one line) when
    the file is unreadable, not a checkpoint, its config does not parse, or it learnt from a
    teacher of its own (its folds would need that teacher's folds too: not done)."""
    from ebnn.config import ConfigError, parse_config
    from ebnn.train import TrainError, load_checkpoint

    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise CrossValError(f"cannot read the teacher {path} ({exc.strerror or exc})") from None
    try:
        payload = load_checkpoint(path, blob)
        config = payload.get("config")
        if not isinstance(config, dict):
            raise CrossValError(f"the teacher {path}: its checkpoint holds no model config")
        parse_config(config, f"the teacher {path}: its config")
    except TrainError as exc:
        raise CrossValError(f"the teacher: {exc}") from None
    except ConfigError as exc:  # names the teacher already
        raise CrossValError(str(exc)) from None
    train = config.get("train") or {}
    if train.get("teacher"):
        raise CrossValError(f"the teacher {path} learnt from a teacher of its own; "
                            "cross-validation trains the teacher's config on each fold, which "
                            "would need that teacher's folds too: give a teacher trained "
                            "without one")
    epochs = payload.get("epochs") or train.get("epochs")
    return _sha(blob), {**config, "train": {**train, "epochs": epochs}}


@dataclass(frozen=True)
class FoldTask:
    number: int  # the trial whose config is cross-validated
    config: dict[str, Any]
    fold: int
    folds: int
    seed: int  # of the fold assignment
    train_limit: int | None = None
    teacher: bytes | None = None  # the fold's teacher checkpoint (replaces the config's)


@dataclass(frozen=True)
class TeacherTask:
    """Train the search's teacher's own config on one fold's training part."""

    config: dict[str, Any]
    fold: int
    folds: int
    seed: int
    train_limit: int | None = None


@dataclass
class TeacherOutcome:
    fold: int
    checkpoint: bytes | None  # None when it failed
    accuracy: float | None = None  # on the held-out fold
    reason: str = ""
    start: float = 0.0
    end: float = 0.0

    @property
    def label(self) -> str:
        return f"teacher fold {self.fold + 1}"


@dataclass
class FoldOutcome:
    number: int
    fold: int
    accuracy: float | None  # on the held-out fold; None when it failed
    reason: str = ""
    start: float = 0.0  # time.time() at the start and end (for the search's wall time)
    end: float = 0.0

    @property
    def label(self) -> str:
        return f"trial {self.number} fold {self.fold + 1}"


def fold_of(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each sample's fold (0..folds-1), stratified: each class's samples, in an order drawn
    from ``default_rng(seed)``, are dealt to the folds in turn (class sizes differ by at most
    one between folds), the next class continuing where the last stopped."""
    rng = np.random.default_rng(seed)
    out = np.empty(len(labels), np.int64)
    start = 0
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        out[idx] = (start + np.arange(len(idx))) % folds
        start = (start + len(idx)) % folds
    return out


def pool_of(data: SearchData, train_limit: int | None) -> Dataset:
    """All the search's labelled images: its training part (as limited by ``--train-images``)
    and its validation part."""
    train = data.subset(train_limit).train
    return replace(train, images=np.concatenate([train.images, data.val.images]),
                   labels=np.concatenate([train.labels, data.val.labels]),
                   source=f"{train.source} + validation")


def run_fold(task: FoldTask, data: SearchData) -> FoldOutcome:
    """Train ``task.config`` on every fold but one and score it on that one; never raises."""
    start = time.time()
    try:
        accuracy = _fold_accuracy(task, data)
        return FoldOutcome(task.number, task.fold, accuracy, start=start, end=time.time())
    except Exception as exc:  # a worker must report, whatever broke
        return FoldOutcome(task.number, task.fold, None, unexpected_error(exc), start, time.time())


def run_teacher_fold(task: TeacherTask, data: SearchData) -> TeacherOutcome:
    """Train the teacher's config on every fold but one (validated on that one); never
    raises."""
    start = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="ebnn-cv-teacher-") as tmp:
            pt = Path(tmp) / "teacher.pt"
            accuracy = _train_fold(task.config, f"the teacher, fold {task.fold + 1}", task.fold,
                                   task.folds, task.seed, task.train_limit, data, pt)
            return TeacherOutcome(task.fold, pt.read_bytes(), accuracy, start=start,
                                  end=time.time())
    except Exception as exc:  # a worker must report, whatever broke
        return TeacherOutcome(task.fold, None, None, unexpected_error(exc), start, time.time())


def _fold_accuracy(task: FoldTask, data: SearchData) -> float:
    with tempfile.TemporaryDirectory(prefix="ebnn-cv-") as tmp:
        config = task.config
        if task.teacher is not None:
            teacher = Path(tmp) / "teacher.pt"
            teacher.write_bytes(task.teacher)
            config = {**config, "train": {**config.get("train", {}), "teacher": str(teacher)}}
        return _train_fold(config, f"trial {task.number}", task.fold, task.folds, task.seed,
                           task.train_limit, data, Path(tmp) / "model.pt")


def _train_fold(config: dict[str, Any], source: str, fold: int, folds: int, seed: int,
                train_limit: int | None, data: SearchData, pt: Path) -> float:
    """Train ``config`` on the folds but ``fold`` into ``pt``; its accuracy on ``fold`` (the
    numpy reference of its export)."""
    from ebnn import reference
    from ebnn.config import parse_config
    from ebnn.export import export_checkpoint
    from ebnn.train import load_checkpoint, train

    pool = pool_of(data, train_limit)
    which = fold_of(pool.labels, folds, seed)

    def part(mask: np.ndarray, name: str) -> Dataset:
        return replace(pool, images=pool.images[mask], labels=pool.labels[mask],
                       source=f"{pool.source}, fold {fold + 1}/{folds}: {name}")

    held, rest = part(which == fold, "held out"), part(which != fold, "training")
    spec = parse_config(config, source)
    extra = data.train_extra()
    train(spec, rest, held, pt, extra=extra)
    art = export_checkpoint(load_checkpoint(pt))
    return float(np.mean(reference.run(art, held.images).classes == held.labels))


# -- the study's side -------------------------------------------------------------------------


def stored(attrs: dict[str, Any], number: int) -> dict[str, Any] | None:
    """Trial ``number``'s cross-validation in the study's user attributes ``attrs``."""
    value = attrs.get(KEY.format(number))
    return value if isinstance(value, dict) else None


def summary(record: dict[str, Any] | None, teacher_shas: list[str | None] | None = None
            ) -> tuple[float | None, list[float | None]]:
    """(mean accuracy when every fold is done, else None; each fold's accuracy or None). With
    ``teacher_shas`` (the fold teachers recorded now), a fold that learnt from another is not
    done (:func:`_current`)."""
    if record is None:
        return None, []
    shas = teacher_shas or []
    accs: list[float | None] = [
        f["accuracy"] if _current(f, shas[i] if i < len(shas) else None) else None
        for i, f in enumerate(record["results"])]
    done = [a for a in accs if a is not None]
    return (float(np.mean(done)) if len(done) == len(accs) else None), accs


def last_folds(attrs: dict[str, Any]) -> int | None:
    """The fold count of the study's last ``--cv`` run (user attributes ``attrs``), if any."""
    last = attrs.get(RUN_KEY)
    folds = last.get("folds") if isinstance(last, dict) else None
    return folds if isinstance(folds, int) and not isinstance(folds, bool) else None


def _setup(record: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What a cross-validation's folds depend on: fold count, seed, the teacher (its sha256)."""
    return record.get("folds"), record.get("seed"), record.get("teacher")


class CvState(NamedTuple):
    """What the last ``--cv`` run holds now."""

    k: int  # its K (0: none)
    folds: int
    listed: int  # its shortlist's size (recomputed from the trials held now: at most K)
    complete: int  # how many of the shortlist have every fold done
    race: bool = False  # --cv-race
    finished: bool = True  # every fold it will run has run (a race: its last round too)


def attach(attrs: dict[str, Any], records: list[dict[str, Any]]) -> CvState:
    """Set ``cv_accuracy`` and ``cv_folds`` on ``records``: only the candidates of the last
    ``--cv`` run's shortlist, recomputed from these records (trials added since can push one
    out), with that run's folds, seed and teacher; None and [] on the others (a candidate a
    race left behind keeps the folds it ran in ``cv_folds``, with None for the others)."""
    for r in records:
        r["cv_accuracy"], r["cv_folds"] = None, []
    last = attrs.get(RUN_KEY)
    if not isinstance(last, dict):
        return CvState(0, 0, 0, 0)
    listed = shortlist(records, last["k"])
    folds: dict[int, list[float | None]] = {}
    for r in listed:
        record = stored(attrs, r["number"])
        if record is None or _setup(record) != _setup(last):
            folds[r["number"]] = [None] * last["folds"]
            continue
        r["cv_accuracy"], r["cv_folds"] = summary(
            record, fold_teacher_shas(attrs) if last.get("teacher") else None)
        folds[r["number"]] = r["cv_folds"]
    complete = sum(r["cv_accuracy"] is not None for r in listed)
    race = bool(last.get("race"))
    if not race:
        return CvState(last["k"], last["folds"], len(listed), complete, False,
                       complete == len(listed))
    rounds = race_rounds([r["number"] for r in listed], folds, last["folds"])
    finished = len(rounds) == last["folds"] and all(
        folds[n][f] is not None for f, alive in enumerate(rounds) for n in alive)
    return CvState(last["k"], last["folds"], len(listed), complete, True, finished)


def race_sizes(k: int, folds: int) -> list[int]:
    """How many candidates of a race of ``k`` run each fold: all of them the first, then half
    of the last round's (rounded up), never fewer than two (one when ``k`` is 1)."""
    sizes = [k]
    while len(sizes) < folds:
        sizes.append(max(min(2, k), -(-sizes[-1] // 2)))
    return sizes


def race_rounds(order: list[int], accs: dict[int, list[float | None]], folds: int
                ) -> list[list[int]]:
    """The trials that run each fold of a race among ``order`` (the shortlist, best first):
    every one runs the first; the next runs the best of the last round's by their mean
    accuracy over the folds run so far (``accs[n][f]``, None while not done; rounded to 1e-9,
    so the order the folds were summed in cannot break a tie), ``order``'s among equals, as
    many as :func:`race_sizes` says. A round where as many go on as ran (no cut) follows at
    once; else the rounds end with the first one not every one of whose runners has done
    (the rounds after it are not known yet)."""
    rank = {n: i for i, n in enumerate(order)}
    sizes = race_sizes(len(order), folds)
    rounds = [list(order)]
    for f in range(folds - 1):
        alive = rounds[-1]
        if sizes[f + 1] >= len(alive):
            rounds.append(list(alive))
            continue
        if any(accs[n][g] is None for n in alive for g in range(f + 1)):
            break
        mean = {n: round(float(np.mean([a for a in accs[n][:f + 1] if a is not None])), 9)
                for n in alive}
        ranked = sorted(alive, key=lambda n: (-mean[n], rank[n]))
        rounds.append(sorted(ranked[:sizes[f + 1]], key=rank.__getitem__))
    return rounds


def _spent(record: dict[str, Any]) -> list[list[float]]:
    """[start, end] of every fold run a trial's record holds, failed or replaced ones too."""
    return [[f["start"], f["end"]] for f in record.get("results", []) if f] + list(
        record.get("earlier", []))


def intervals(attrs: dict[str, Any]) -> list[tuple[float, float]]:
    """(start, end) of every fold run, failed or replaced ones included: part of the search's
    wall time."""
    return [(a, b) for key, value in attrs.items()
            if key.startswith("cv/") and isinstance(value, dict) for a, b in _spent(value)]


def shortlist(records: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """The ``k`` feasible trained candidates with the best validation accuracy (fewest cycles,
    then earliest, first among equals); one per config."""
    ok = fitted(records)
    ok.sort(key=lambda r: (-r["val_accuracy"], r["final"]["cycles"], r["number"]))
    return ok[:k]


Progress = Callable[[Any, int, int], None]  # (FoldOutcome or TeacherOutcome, done, total)
Announce = Callable[[int, "tuple[int, int] | None", list[int]], None]  # n, race's folds, trials


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fold_teacher_shas(attrs: dict[str, Any]) -> list[str | None]:
    """The sha256 of each fold's teacher as recorded (None where it is not trained)."""
    record = attrs.get(TEACHER_KEY)
    if not isinstance(record, dict):
        return []
    return [r.get("sha256") if r else None for r in record.get("results", [])]


def _current(result: dict[str, Any] | None, teacher_sha: str | None) -> bool:
    """A candidate fold's result that stands: it finished, and (with fold teachers) learnt from
    the fold teacher recorded now (one trained again may differ in its last bits)."""
    return (result is not None and result["accuracy"] is not None
            and result.get("teacher_sha256") == teacher_sha)


def cross_validate(study: Any, records: list[dict[str, Any]], k: int, folds: int, seed: int,
                   train_limit: int | None, backend: Any, progress: Progress | None = None,
                   teacher: Path | None = None, keep: Path | None = None,
                   announce: Announce | None = None, race: bool = False) -> int:
    """Run the folds of the shortlist not done yet (all of them when the study holds another
    fold count, seed or teacher for a candidate; failed ones again), in one batch on
    ``backend``; with ``race``, the race's in turn, each batch the folds whose runners are
    known (a batch with a failed fold ends the race until it runs again). Each result,
    failures too, is stored the moment it arrives. With a ``teacher`` (the space's), the fold
    teachers those folds need that ``keep``/cv-teachers does not hold are trained first (a
    race's: every fold's, at once; one that fails is not trained again in this call).
    ``announce(n, folds, trials)`` before each batch: the number of folds about to run, the
    race's first and last fold in it (None: not a race) and the trials that run them;
    ``announce(0, None, shortlist)`` once when every fold asked for is done (not when none runs
    because their teachers failed). Returns the folds that failed (a fold whose teacher failed
    does not run, and counts as failed). ``progress(outcome, done, total)`` after each fold
    teacher (counted apart) and each fold: a race's count runs on over its batches, towards
    the folds its rounds plan (:func:`race_sizes`; the total shrinks when an earlier run did
    some of them)."""
    digest: str | None = None
    teachers: _FoldTeachers | None = None
    if teacher is not None:
        if keep is None:
            raise ValueError("a teacher needs the folder that keeps the fold teachers")
        digest, config = fold_teacher(teacher)  # before the study changes: it may be gone
        teachers = _FoldTeachers(study, config, digest, folds, seed, train_limit, keep)
    study.set_user_attr(RUN_KEY, {"k": k, "folds": folds, "seed": seed, "teacher": digest,
                                  **({"race": True} if race else {})})
    kept: dict[int, dict[str, Any]] = {}
    attrs = study.user_attrs
    listed = shortlist(records, k)
    for r in listed:
        record = stored(attrs, r["number"])
        if record is None or _setup(record) != (folds, seed, digest):
            record = {"folds": folds, "seed": seed, "teacher": digest,  # replaced,
                      "results": [None] * folds,
                      "earlier": [] if record is None else _spent(record)}  # time kept
        kept[r["number"]] = record

    def done(n: int, f: int) -> bool:
        return _current(kept[n]["results"][f], None if teachers is None else teachers.sha(f))

    def accuracies(n: int) -> list[float | None]:
        return [kept[n]["results"][f]["accuracy"] if done(n, f) else None for f in range(folds)]

    failed, ran = [0], [0]
    by_number = {r["number"]: r for r in listed}
    sizes = race_sizes(len(listed), folds)
    gave_up: set[int] = set()  # folds whose teacher failed in this run: not trained again
    known = [0]  # how many of the race's rounds are known (their runners chosen)

    def race_todo() -> list[tuple[int, int]]:
        rounds = race_rounds(list(by_number), {n: accuracies(n) for n in by_number}, folds)
        known[0] = len(rounds)
        return [(n, f) for f, alive in enumerate(rounds) for n in alive if not done(n, f)]

    def all_todo() -> list[tuple[int, int]]:
        return [(n, f) for n in by_number for f in range(folds) if not done(n, f)]

    def run(todo_of: Callable[[], list[tuple[int, int]]]) -> tuple[int, int]:
        """Train the fold teachers the folds not done need, then run ``todo_of()`` (trial,
        fold) in one batch, known only then (a teacher trained again makes its fold's results
        stale). Returns (folds run, folds failed)."""
        before = failed[0]
        if teachers is not None:
            # every fold some candidate has not done (a race's finalists run every fold)
            gave_up.update(teachers.train(sorted({f for _, f in all_todo()} - gave_up),
                                          backend, progress))
        todo = todo_of()
        failed[0] += sum(f in gave_up for _, f in todo)
        todo = [(n, f) for n, f in todo if f not in gave_up]
        tasks = [FoldTask(n, by_number[n]["config"], f, folds, seed, train_limit,
                          None if teachers is None else teachers.have[f]) for n, f in todo]
        if not tasks:
            return 0, failed[0] - before
        if announce is not None:
            shown = sorted({f for _, f in todo})
            announce(len(tasks), (shown[0], shown[-1]) if race else None,
                     [n for n in by_number if any(m == n for m, _ in todo)])
        # the progress counts on over a race's batches, towards the folds run so far, this
        # batch's and those of the rounds not known yet (as planned: fewer run when an earlier
        # run did some of them)
        total = ran[0] + len(tasks) + (sum(sizes[known[0]:]) if race else 0)

        def arrived(o: FoldOutcome) -> None:
            ran[0] += 1
            failed[0] += o.accuracy is None
            record = kept[o.number]
            earlier = record["results"][o.fold]
            if earlier is not None:  # run again (failed, or its fold teacher changed): time
                record.setdefault("earlier", []).append([earlier["start"], earlier["end"]])
            record["results"][o.fold] = {
                "accuracy": o.accuracy, "start": o.start, "end": o.end,
                **({"reason": o.reason} if o.reason else {}),
                **({} if teachers is None else {"teacher_sha256": teachers.sha(o.fold)})}
            study.set_user_attr(KEY.format(o.number), record)
            if progress is not None:
                progress(o, ran[0], total)

        backend.run_batch(tasks, arrived, run_fold)
        return len(tasks), failed[0] - before

    if race:  # each batch: the folds whose runners are known; then the next cut
        while True:
            count, bad = run(race_todo)
            if not count or bad:
                break
    else:
        run(all_todo)
    if announce is not None and not ran[0] and not failed[0]:
        announce(0, None, list(by_number))  # not "all done" when teachers failed
    return failed[0]


class _FoldTeachers:
    """The teacher of each fold: the search's teacher's own config (with the epochs it was
    trained for) trained on the fold's training part, kept in ``keep``/cv-teachers and
    recorded (sha256, accuracy on the held-out fold, time) in the study attribute
    ``cv/teacher``."""

    def __init__(self, study: Any, config: dict[str, Any], digest: str, folds: int, seed: int,
                 train_limit: int | None, keep: Path) -> None:
        self.config = config  # from fold_teacher()
        self.study, self.folds, self.seed, self.train_limit = study, folds, seed, train_limit
        self.folder = keep / TEACHERS
        setup = {"teacher": digest, "folds": folds, "seed": seed, "train_limit": train_limit}
        record = study.user_attrs.get(TEACHER_KEY)
        if not isinstance(record, dict) or any(record.get(k) != v for k, v in setup.items()):
            record = {**setup, "results": [None] * folds,  # replaced, its time kept
                      "earlier": _spent(record) if isinstance(record, dict) else []}
        self.record = record
        self.have: dict[int, bytes] = {}  # fold -> checkpoint, kept ones whose sha256 match
        for f in range(folds):
            path = self.path(f)
            blob = path.read_bytes() if path.is_file() else None
            if blob is not None and self.sha(f) == _sha(blob):
                self.have[f] = blob

    def path(self, fold: int) -> Path:
        return self.folder / f"fold-{fold + 1}-of-{self.folds}.pt"

    def sha(self, fold: int) -> str | None:
        result = self.record["results"][fold]
        return result.get("sha256") if result else None

    def train(self, needed: list[int], backend: Any, progress: Progress | None) -> set[int]:
        """Train the teachers of ``needed`` folds not kept; returns the folds whose teacher
        failed."""
        tasks = [TeacherTask(self.config, f, self.folds, self.seed, self.train_limit)
                 for f in needed if f not in self.have]
        done = [0]

        def arrived(o: TeacherOutcome) -> None:
            done[0] += 1
            before = self.record["results"][o.fold]
            if before is not None:  # run again (failed, or its file is gone): its time counts
                self.record["earlier"].append([before["start"], before["end"]])
            result: dict[str, Any] = {"accuracy": o.accuracy, "start": o.start, "end": o.end}
            if o.checkpoint is not None:
                write_atomically(self.path(o.fold), o.checkpoint)
                result["sha256"] = _sha(o.checkpoint)
                self.have[o.fold] = o.checkpoint
            else:
                result["reason"] = o.reason
            self.record["results"][o.fold] = result
            self.study.set_user_attr(TEACHER_KEY, self.record)
            if progress is not None:
                progress(o, done[0], len(tasks))

        if tasks:
            backend.run_batch(tasks, arrived, run_teacher_fold)
        return {f for f in needed if f not in self.have}
