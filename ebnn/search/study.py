"""The search driver: an Optuna study asked and told in batches, stored in ``DIR/study.db``.

Candidates are asked one at a time and probed in this process (``measure.probe_task``: the
firmware with untrained weights, a second or two); one over the budget is told at once, the
others fill a batch of ``--batch`` (default ``--jobs``) candidates, which then train in parallel
(``ebnn.search.backends``), each outcome told the moment it arrives. The next candidate is
asked only when the batch is told. Each ask uses a TPE sampler seeded with the search seed and
the trial's number that ignores RUNNING trials, so every proposal depends only on the finished
trials: a search's trials depend on its seed and batch size, not on which candidate finished
first, the number of jobs or the backend (on one CPU: training rounds differently on another);
and a search resumed after an interrupt does what the uninterrupted one would have done.
Trials left RUNNING (in the database, with the configs they were asked with) come first: a
probed one joins the batch again, one interrupted in its probe is probed again, one interrupted
before its config was recorded is proposed again as it was.

With ``--prune`` (``ebnn.search.pruning``) a candidate learning worse than the earlier ones at
a quarter or half of its epochs stops there and is told PRUNED; its thresholds are fixed when it
joins a batch (user attribute ``rungs``), from the finished trials alone.

Objectives: validation accuracy (maximise), and unless turned off, cycles per inference and peak
SRAM (minimise); with both off the sampler maximises accuracy alone. Constraints
(``trial.set_constraint``, > 0 is violated): SRAM over budget, flash over budget, cycles over
budget, and ``valid`` (1 for a config that is not a model). A rejected candidate is told as a
completed trial with accuracy 0 and its violated constraint, so the sampler learns where the
infeasible region is; a candidate that failed for another reason is told FAIL.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from ebnn.search import pruning, stratify
from ebnn.search.backends import Backend
from ebnn.search.datasets import SearchData
from ebnn.search.measure import (
    Budget,
    Firmware,
    Outcome,
    Task,
    probe_lower_bounds,
    probe_task,
)
from ebnn.search.records import study_problem
from ebnn.search.space import Space
from sim.formats import write_bytes

STUDY_NAME = "ebnn-search"
DB_NAME = "study.db"
# the largest study and settings read (a search of 1,000 trials writes a few MiB and 1 KB;
# a hostile 99 MB study.db took 2.6 GB)
MAX_STUDY_BYTES = 64 << 20
MAX_SETTINGS_BYTES = 1 << 20
SETTINGS_NAME = "search.json"
TRIALS_DIR = "trials"
CONSTRAINTS = ("sram", "flash", "cycles", "valid")


class SearchError(Exception):
    """The search cannot start or continue; ``str()`` is one line for the user."""


OPTUNA_STARTUP = 10  # TPESampler's default n_startup_trials, what searches before --startup used


@dataclass(frozen=True)
class Settings:
    """What defines a search (kept in DIR/search.json; ``--resume`` must not change it)."""

    space: str  # the SPACE.toml text
    target: str
    sram: int
    flash: int
    max_cycles: int | None
    clock_hz: int
    seed: int = 0  # the sampler's
    batch: int = 1  # trials the sampler proposes at a time
    trials: int | None = None  # the last --trials asked for (a --resume without one goes on to it)
    minimize_sram: bool = True
    minimize_cycles: bool = True
    epochs: int | None = None
    dataset: str | None = None
    data_dir: str | None = None
    data_path: str | None = None  # --data PATH
    test_dir: str | None = None
    test_data: str | None = None  # --test-data PATH
    train_limit: int | None = None
    start: list[str] | None = None  # --start configs, asked first (for the record)
    prune: bool = False  # --prune
    multivariate: bool = False  # --multivariate
    startup: int = OPTUNA_STARTUP  # --startup: the finished trials TPE proposes at random
    stratify: bool = False  # --stratify: the first `startup` candidates that fit, shape by shape
    data_digest: str | None = None  # SearchData.digest() (None: a search begun before the check)
    stream: bool = False  # --stream: candidates built as `ebnn build --stream` builds

    @property
    def budget(self) -> Budget:
        return Budget(self.target, self.sram, self.flash, self.max_cycles, self.clock_hz,
                      self.stream)

    def save(self, directory: Path) -> None:
        unlinked(directory / SETTINGS_NAME).write_text(json.dumps(asdict(self), indent=2)
                                                      + "\n")

    @staticmethod
    def load(directory: Path) -> Settings:
        path = directory / SETTINGS_NAME
        try:
            if path.stat().st_size > MAX_SETTINGS_BYTES:  # (a search writes about 1 KB)
                raise ValueError(f"{path.stat().st_size:,} bytes")
            settings = Settings(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise SearchError(f"{directory}: no search here ({SETTINGS_NAME} is missing)") from None
        except (OSError, ValueError, TypeError) as exc:
            raise SearchError(f"{path}: not a search's settings ({exc})") from None
        problem = settings._problem()
        if problem:
            raise SearchError(f"{path}: not a search's settings ({problem})")
        return settings

    def _problem(self) -> str | None:
        """What in a (hand-edited) search.json no search wrote: a value of the wrong type, an
        unknown target, a budget of no bytes; None when it is sound."""
        from toolchain.profiles import TARGETS

        types: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "bool": (bool,),
                                              "float": (int, float), "list[str]": (list,)}
        for f in fields(self):
            value = getattr(self, f.name)
            kinds = [k.strip() for k in str(f.type).split("|")]
            if value is None and "None" in kinds:
                continue
            if not any(isinstance(value, types.get(k, (object,)))
                       and (k == "bool") == isinstance(value, bool)
                       for k in kinds if k != "None"):
                return f"{f.name} = {value!r:.40} is not {' or '.join(kinds)}"
        if self.target not in TARGETS:
            return f"unknown target {self.target!r:.40}"
        if min(self.sram, self.flash, self.clock_hz, self.batch, self.startup,
               1 if self.max_cycles is None else self.max_cycles) < 1:
            return "sram, flash, clock_hz, max_cycles, batch and startup must be more than 0"
        if self.start is not None and not all(isinstance(p, str) for p in self.start):
            return "start must list config paths"
        return None


@dataclass
class Tally:
    """Progress: what the study holds so far."""

    done: int = 0  # trials finished (any state)
    rejected: int = 0  # over a budget or not a model
    failed: int = 0
    pruned: int = 0
    best: dict[str, Any] | None = None  # the most accurate feasible trial's outcome
    last: Outcome | None = None
    last_same_as: int | None = None  # the trial whose outcome the last one copied
    started: float = field(default_factory=time.monotonic)
    training: list[int] = field(default_factory=list)  # the trials of the batch in training
    batch_started: float | None = None  # when that batch started (time.monotonic)

    def add(self, outcome: dict[str, Any]) -> None:
        self.done += 1
        status = outcome["status"]
        if status in ("rejected", "invalid"):
            self.rejected += 1
        elif status == "failed":
            self.failed += 1
        elif status == "pruned":
            self.pruned += 1
        elif self.best is None or (outcome["val_accuracy"] or 0) > (
                self.best["val_accuracy"] or 0):
            self.best = outcome


def outcome_record(o: Outcome, config: dict[str, Any]) -> dict[str, Any]:
    """The JSON an outcome is kept as (the trial's user attribute ``outcome``)."""
    record = asdict(o)
    record.pop("files")
    record["config"] = config
    return record


def fitted(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trained candidates that fit the budget, measured once each (a config seen before is
    only a copy, ``same_as``): what the Pareto set, ``--cv`` and the plot choose among."""
    return [r for r in records if r["status"] == "ok" and r["same_as"] is None
            and r["final"] is not None and r["val_accuracy"] is not None]


def storage_url(directory: Path) -> str:
    return f"sqlite:///{(directory / DB_NAME).resolve()}"


def open_study(directory: Path, settings: Settings, create: bool,
               may_start: bool = False) -> Any:
    """The search's study: a new one (``create``), else the one in ``directory``. With
    ``may_start`` (``--resume``), a search stopped before its study was stored (no trial kept,
    no report written) starts one now; otherwise a missing or empty study is a SearchError."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions: list[Literal["minimize", "maximize"]] = ["maximize"]
    directions += ["minimize"] * (settings.minimize_cycles + settings.minimize_sram)
    storage = storage_url(directory)
    db = directory / DB_NAME
    trained = directory / TRIALS_DIR
    # a search stopped before its study was stored holds no trial to lose: it starts afresh
    untouched = not (trained.is_dir() and any(trained.iterdir())) and not (
        directory / "pareto.json").exists()
    fresh = create or (may_start and untouched)
    how = ("; --resume starts it" if untouched and not may_start
           else "; start the search again in another folder")
    if not (db.is_file() or fresh):  # Optuna would make an empty one
        raise SearchError(f"{db}: missing: the study (every outcome) is gone{how}")
    if db.is_file() and db.stat().st_size > MAX_STUDY_BYTES:  # (SQLAlchemy's rows: ~25x it)
        raise SearchError(f"{db}: {db.stat().st_size:,} bytes, more than the "
                          f"{MAX_STUDY_BYTES >> 20} MiB a study of ebnn search holds")
    try:
        if create:
            return optuna.create_study(study_name=STUDY_NAME, storage=storage,
                                       directions=directions)
        try:
            study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        except KeyError:  # no such study in the file
            if not fresh:
                raise SearchError(f"{db}: holds no study of a search{how}") from None
            return optuna.create_study(study_name=STUDY_NAME, storage=storage,
                                       directions=directions)
        if [d.name.lower() for d in study.directions] != directions:
            raise SearchError(f"{db}: its study has {len(study.directions)} objective(s), "
                              f"{SETTINGS_NAME} asks for {len(directions)}: not the same "
                              "search's")
        damaged = study_problem(study)
        if damaged is not None:
            raise SearchError(f"{db}: {damaged}")
        return study
    except SearchError:
        raise
    except Exception as exc:  # SQLAlchemy's and Optuna's errors on a damaged database
        cause = storage_cause(exc)
        if "disk is full" in cause or "No space left" in cause:
            raise SearchError(f"{db}: cannot be written ({cause}): make room, then continue "
                              f"with `ebnn search -o {directory} --resume`") from None
        raise SearchError(f"{db}: not a readable study ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def storage_cause(exc: BaseException) -> str:
    """The first line of what the database said under Optuna's StorageInternalError (whose own
    text is generic): SQLite's "database or disk is full", say."""
    cause = exc.__cause__ or exc.__context__ or exc
    text = str(getattr(cause, "orig", None) or cause)
    return text.splitlines()[0] if text else type(cause).__name__


def trial_seed(seed: int, number: int) -> int:
    """The seed of the sampler that proposes trial ``number`` of a search seeded ``seed``."""
    return (seed * 1_000_003 + number) % 2**32


def _sampler(seed: int, number: int, multivariate: bool = False,
             startup: int = OPTUNA_STARTUP) -> Any:
    """The sampler that proposes trial ``number``; RUNNING trials (the batch being filled)
    are ignored, so what it proposes depends on the finished trials alone.

    Without ``multivariate`` it is Optuna's TPE as it comes (Optuna 5 models the parameters
    every trial has jointly when there is one objective, each on its own when there are
    several): searches made before ``--multivariate`` existed resume with the sampler they
    began with. ``multivariate`` (``--multivariate``): multivariate TPE with ``group=True``,
    a joint model for each group of parameters that occur together, so the parameters of a
    block whose kind is drawn are modelled jointly too. ``startup`` (``--startup``): how many
    finished trials TPE proposes at random before it models them (default Optuna's, 10, what
    searches made before the option used)."""
    import optuna

    seed = trial_seed(seed, number)
    if not multivariate:
        return optuna.samplers.TPESampler(seed=seed, constant_liar=False,
                                          n_startup_trials=startup)
    with warnings.catch_warnings():  # group is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, constant_liar=False, multivariate=True,
                                          group=True, n_startup_trials=startup)


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


class FolderGone(Exception):
    """The search's folder (its settings, its study) was removed while the search ran."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"the search's folder {directory} was removed while it ran: its "
                         "study is gone; start the search again")


def unlinked(path: Path) -> Path:
    """``path``, a symbolic link there removed first: what the search writes in its folder
    goes there, never through a link planted in a search folder from elsewhere (pareto.md ->
    ~/.bashrc was overwritten: s53 hardening review H7)."""
    if path.is_symlink():
        path.unlink()
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` in ``path`` (its folder made), whole or not at all: written beside it, then
    renamed over it."""
    write_bytes(path, data)


def write_trial_files(directory: Path, o: Outcome) -> None:
    if o.files and not (directory / SETTINGS_NAME).is_file():  # not made again by writing
        raise FolderGone(directory)
    folder = directory / TRIALS_DIR / f"{o.number:05d}"
    for name, data in o.files.items():
        write_atomically(folder / name, data)


class Driver:
    """Runs the batches; ``progress(tally)`` after each told trial."""

    def __init__(self, directory: Path, settings: Settings, space: Space, study: Any,
                 backend: Backend, data: SearchData,
                 progress: Callable[[Tally], None] | None = None) -> None:
        self.directory, self.settings, self.space = directory, settings, space
        self.data = data
        self.study, self.backend = study, backend
        self.progress = progress
        self.tally = Tally()
        self.finished: dict[str, dict[str, Any]] = {}  # config key -> outcome record
        # --prune: each trained candidate's scores, one per fraction reached
        self.scores: list[list[float]] = []
        import optuna

        self._optuna = optuna
        state = optuna.trial.TrialState
        for t in study.get_trials(deepcopy=False):
            if t.state.is_finished():
                record = t.user_attrs.get("outcome")
                if record is not None:
                    self.tally.add(record)
                    if t.state in (state.COMPLETE, state.PRUNED):
                        self.finished.setdefault(_key(record["config"]), record)
                    if t.user_attrs.get("same_as") is None and record.get("rung_scores"):
                        self.scores.append(list(record["rung_scores"]))
                else:
                    self.tally.done += 1

    # -- telling ---------------------------------------------------------------------------

    def _values(self, o: Outcome) -> tuple[list[float], dict[str, float]]:
        b = self.settings.budget
        # a probe's figures count as the lower bounds they are (it may fit by them)
        fw: Firmware | None = o.final or (o.probe and probe_lower_bounds(o.probe))
        constraints = dict.fromkeys(CONSTRAINTS, 0.0)
        if o.status == "invalid":
            constraints["valid"] = 1.0
        elif fw is None:  # did not build or run: over the memories of the target
            constraints["sram"] = constraints["flash"] = 1.0
        else:
            constraints["sram"] = float(fw.sram_peak - b.sram)
            constraints["flash"] = float(fw.flash - b.flash)
            if b.max_cycles is not None:
                constraints["cycles"] = float(fw.cycles - b.max_cycles)
        if o.status == "rejected" and all(v <= 0 for v in constraints.values()):
            constraints["valid"] = 1.0  # rejected for a reason no budget names
        values = [o.val_accuracy if o.status == "ok" and o.val_accuracy is not None else 0.0]
        if self.settings.minimize_cycles:
            values.append(float(fw.cycles) if fw else 0.0)
        if self.settings.minimize_sram:
            values.append(float(fw.sram_peak) if fw else 0.0)
        return values, constraints

    def tell(self, trial: Any, o: Outcome, config: dict[str, Any],
             same_as: int | None = None) -> None:
        """Record and tell ``o``; ``same_as``: the trial of the same config measured before,
        whose outcome ``o`` copies (its rung scores are not counted again)."""
        copy = same_as is not None
        write_trial_files(self.directory, o)  # before the tell: a told trial has its files
        record = outcome_record(o, config)
        trial.set_user_attr("outcome", record)
        if not copy and o.rung_scores:
            self.scores.append(list(o.rung_scores))
        with warnings.catch_warnings():
            # a trial whose tell failed half-way (a full disk) is told again on --resume: the
            # constraints and scores it recorded then stand, and Optuna warns that it keeps them
            warnings.filterwarnings("ignore", message="The (constraint|reported) value is "
                                    "ignored because")
            self._tell(trial, o, config, record)
        self.tally.add(record)
        self.tally.last, self.tally.last_same_as = o, same_as
        if trial.number in self.tally.training:
            self.tally.training = [n for n in self.tally.training if n != trial.number]
        if self.progress is not None:
            self.progress(self.tally)

    def _tell(self, trial: Any, o: Outcome, config: dict[str, Any],
              record: dict[str, Any]) -> None:
        state = self._optuna.trial.TrialState
        if o.status == "failed":
            self.study.tell(trial, state=state.FAIL)
        elif o.status == "pruned":
            for k in CONSTRAINTS:  # it fitted the budget when probed
                trial.set_constraint(k, 0.0)
            if len(self.study.directions) == 1 and o.epochs:  # Optuna keeps them for one
                for epoch, score in dict(zip(pruning.rung_epochs(o.epochs),  # objective only
                                             o.rung_scores, strict=False)).items():
                    trial.report(score, epoch)
            self.study.tell(trial, state=state.PRUNED)
            self.finished.setdefault(_key(config), record)
        else:
            values, constraints = self._values(o)
            for k, v in constraints.items():
                trial.set_constraint(k, v)
            self.study.tell(trial, values)
            self.finished.setdefault(_key(config), record)

    # -- the loop --------------------------------------------------------------------------

    def _deal_shape(self) -> None:
        """--stratify: fix the next candidate's shape (``stratify.next_shape``), unless a
        trial waits to be asked (--start's, or one enqueued before an interrupt)."""
        if not self.settings.stratify:
            return
        state = self._optuna.trial.TrialState
        trials = self.study.get_trials(deepcopy=False)
        if any(t.state == state.WAITING for t in trials):
            return
        drawn = [(t.params["shape"], _fits(t, state)) for t in trials if "shape" in t.params]
        shape = stratify.next_shape(self.space.shape_names, drawn, self.settings.startup)
        if shape is not None:
            self.study.enqueue_trial({"shape": shape})

    def _task(self, number: int, config: dict[str, Any], probe: Firmware | None,
              rungs: tuple[tuple[int, float], ...] = ()) -> Task:
        return Task(number, config, self.settings.budget, self.settings.train_limit, probe,
                    self.settings.prune, rungs)

    def _rungs(self, trial: Any, config: dict[str, Any]) -> tuple[tuple[int, float], ...]:
        """--prune: the candidate's thresholds from the trials finished now, kept in the
        trial (a resumed search uses the same)."""
        if not self.settings.prune:
            return ()
        from ebnn.config import TrainSpec

        epochs = int(config["train"].get("epochs", TrainSpec.epochs))
        rungs = pruning.rungs(epochs, self.scores)
        trial.set_user_attr("rungs", rungs)
        return tuple(rungs)

    def _copy_seen(self, trial: Any, config: dict[str, Any]) -> bool:
        """Tell the outcome of the same config measured before, if there is one."""
        seen = self.finished.get(_key(config))
        if seen is None:
            return False
        copy = Outcome(trial.number, seen["status"], seen["reason"], _firmware(seen["probe"]),
                       _firmware(seen["final"]), seen["trained"], seen["val_accuracy"],
                       seen["torch_val_accuracy"], seen["test_accuracy"],
                       epochs=seen.get("epochs"), rung_scores=seen.get("rung_scores") or [])
        trial.set_user_attr("same_as", seen["number"])
        self.tell(trial, copy, config, same_as=seen["number"])
        return True

    def _consider(self, trial: Any, config: dict[str, Any],
                  members: list[Member]) -> None:
        """Probe a candidate here: told at once if rejected, else a member of the batch."""
        if self._copy_seen(trial, config):
            return
        twin = next((m for m in members if _key(m[1]) == _key(config)), None)
        if twin is not None:
            members.append((trial, config, twin[2], twin[3]))
            return
        o = probe_task(self._task(trial.number, config, None), self.data)
        if o.status != "ok" or o.probe is None:
            self.tell(trial, o, config)
            return
        trial.set_user_attr("probe", asdict(o.probe))
        trial.set_user_attr("probe_seconds", o.seconds.get("probe", 0.0))
        members.append((trial, config, o.probe, self._rungs(trial, config)))

    def _run(self, members: list[Member]) -> None:
        """Train and measure the batch's members (a config twice: once) and tell them."""
        unique: dict[str, Task] = {}
        for trial, config, probe, rungs in members:
            unique.setdefault(_key(config), self._task(trial.number, config, probe, rungs))
        by_first: dict[int, list[tuple[Any, dict[str, Any]]]] = {}
        for trial, config, _, _ in members:
            by_first.setdefault(unique[_key(config)].number, []).append((trial, config))
            trial.set_user_attr("batch_started", True)  # a resume runs it with no new members

        def done(o: Outcome) -> None:
            for trial, config in by_first[o.number]:
                first = trial.number == o.number
                seconds = {"probe": float(trial.user_attrs.get("probe_seconds", 0.0)),
                           **o.seconds}
                same = replace(o, number=trial.number, files=o.files if first else {},
                               seconds=seconds)
                if not first:
                    trial.set_user_attr("same_as", o.number)
                self.tell(trial, same, config, same_as=None if first else o.number)

        self.tally.training = sorted(trial.number for trial, *_ in members)
        self.tally.batch_started = time.monotonic()
        try:
            self.backend.run_batch(list(unique.values()), done)
        finally:
            self.tally.training, self.tally.batch_started = [], None

    def _ask_again(self, t: Any, finished: list[Any], number: int) -> Any:
        """Trial ``t``, asked as sampler ``number`` and interrupted before its config was
        recorded, ready to be proposed again as it was: the same sampler, asked in a study in
        memory holding the finished trials (none has finished since; the sampler ignores the
        RUNNING ones) and ``t``'s fixed parameters (a shape --stratify dealt, --start's config),
        proposes what the search not interrupted did. Asking ``t`` itself would not: the
        parameters it had drawn before the interrupt are kept in it, and drawing past them
        shifts every later draw."""
        optuna = self._optuna

        def sampler() -> Any:  # one each: a multivariate TPE keeps to the first study it sees
            return _sampler(self.settings.seed, number, self.settings.multivariate,
                            self.settings.startup)

        memory = optuna.create_study(directions=self.study.directions, sampler=sampler())
        memory.add_trials(finished)
        fixed = t.system_attrs.get("fixed_params")
        if fixed:
            memory.enqueue_trial(fixed)
        self.space.suggest(memory.ask(), self.settings.epochs)
        with warnings.catch_warnings():  # PartialFixedSampler is marked experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self.study.sampler = optuna.samplers.PartialFixedSampler(
                memory.get_trials(deepcopy=False)[-1].params, sampler())
        return optuna.trial.Trial(self.study, t._trial_id)

    def _unfinished(self, members: list[Member]) -> bool:
        """The trials an interrupted search left RUNNING, in order: a probed one is a member of
        the batch again, one interrupted in its probe is probed again (as it would have been),
        one interrupted before its config was recorded is proposed again, as it was.
        True when that batch had started training: the rest of it runs as it is (a member asked
        now would be proposed before its batch-mates finished, unlike in the search not
        interrupted); else the batch is still being filled."""
        started = False
        state = self._optuna.trial.TrialState
        counted = (state.RUNNING, state.COMPLETE, state.PRUNED, state.FAIL)
        trials = self.study.get_trials(deepcopy=False)
        for t in [t for t in trials if t.state == state.RUNNING]:
            config = t.user_attrs.get("config")
            if config is None:  # interrupted between its ask and recording its config
                number = sum(u.number < t.number and u.state in counted for u in trials)
                trial = self._ask_again(t, [u for u in trials if u.state.is_finished()], number)
                config = self.space.suggest(trial, self.settings.epochs)
                trial.set_user_attr("config", config)
                self._consider(trial, config, members)
                continue
            trial = self._optuna.trial.Trial(self.study, t._trial_id)
            if t.user_attrs.get("probe") is not None:
                rungs = self._rungs(trial, config) if "rungs" not in t.user_attrs else tuple(
                    (int(e), float(a)) for e, a in t.user_attrs["rungs"])
                members.append((trial, config, Firmware(**t.user_attrs["probe"]), rungs))
                started = started or bool(t.user_attrs.get("batch_started"))
            else:
                self._consider(trial, config, members)
        return started

    def run(self, trials: int | None, seconds: float | None) -> None:
        """Batches until the study holds ``trials`` trials or ``seconds`` have passed.

        A batch is filled by asking and probing candidates one at a time in this process
        (those over the budget are told at once) until it holds ``batch`` candidates to train;
        then they train in parallel. Trials left RUNNING by an interrupted search come first.
        Each ask uses a sampler seeded with the search seed and the trial's number, and the
        sampler ignores RUNNING trials, so each proposal depends only on the finished trials.
        """
        deadline = None if seconds is None else time.monotonic() + seconds
        members: list[Member] = []
        started = self._unfinished(members)
        while True:
            state = self._optuna.trial.TrialState
            total = len(self.study.get_trials(deepcopy=False, states=(
                state.RUNNING, state.COMPLETE, state.PRUNED, state.FAIL)))  # not --start's waiting
            full = len(members) >= self.settings.batch or started
            started = False
            out_of_trials = trials is not None and total >= trials
            out_of_time = deadline is not None and time.monotonic() >= deadline
            if full or out_of_trials or out_of_time:
                if members:
                    self._run(members)
                    members = []
                if out_of_trials or out_of_time:
                    return
                continue
            self.study.sampler = _sampler(self.settings.seed, total, self.settings.multivariate,
                                         self.settings.startup)
            self._deal_shape()
            trial = self.study.ask()
            config = self.space.suggest(trial, self.settings.epochs)
            trial.set_user_attr("config", config)
            self._consider(trial, config, members)


# a candidate of the batch being filled: its trial, config, probe and --prune rungs
Member = tuple[Any, dict[str, Any], Firmware, tuple[tuple[int, float], ...]]


def _fits(t: Any, state: Any) -> bool:
    """A trial asked before: did its candidate fit the budget (trained, or training now)? A
    copy of a config measured before counts as its original (a shape with few configs is
    dealt its share too)."""
    record = t.user_attrs.get("outcome")
    if record is None:  # a member of the batch being filled, or its twin
        return bool(t.state == state.RUNNING)
    return bool(record.get("trained")) or record["status"] in ("ok", "pruned")


def _firmware(d: dict[str, Any] | None) -> Firmware | None:
    return None if d is None else Firmware(**d)
