"""The search driver: an Optuna study asked and told in batches, stored in ``DIR/study.db``.

Each batch asks ``batch`` trials (``--batch``, default ``--jobs``) from a TPE sampler seeded
with the search seed and the batch's index, runs them (``ebnn.search.backends``) and tells each
outcome the moment it arrives; the next batch is asked only when the whole batch is told. So
the trials a search proposes depend on the seed and the batch size only (not on which candidate
finished first, the number of jobs or the backend), and a search resumed after an interrupt
proposes what the uninterrupted one would have: trials left unfinished (still RUNNING in the
database) are run again first, with the same configs.

Objectives: validation accuracy (maximise), cycles per inference (minimise) and, unless turned
off, peak SRAM (minimise). Constraints (``trial.set_constraint``, > 0 is violated): SRAM over
budget, flash over budget, cycles over budget, and ``valid`` (1 for a config that is not a
model). A rejected candidate is told as a completed trial with accuracy 0 and its violated
constraint, so the sampler learns where the infeasible region is; a candidate that failed for
another reason is told FAIL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ebnn.search.backends import Backend
from ebnn.search.measure import Budget, Firmware, Outcome, Task
from ebnn.search.space import Space

STUDY_NAME = "ebnn-search"
DB_NAME = "study.db"
SETTINGS_NAME = "search.json"
TRIALS_DIR = "trials"
CONSTRAINTS = ("sram", "flash", "cycles", "valid")


class SearchError(Exception):
    """The search cannot start or continue; ``str()`` is one line for the user."""


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
    epochs: int | None = None
    dataset: str | None = None
    data_dir: str | None = None
    test_dir: str | None = None
    train_limit: int | None = None

    @property
    def budget(self) -> Budget:
        return Budget(self.target, self.sram, self.flash, self.max_cycles, self.clock_hz)

    def save(self, directory: Path) -> None:
        (directory / SETTINGS_NAME).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @staticmethod
    def load(directory: Path) -> Settings:
        path = directory / SETTINGS_NAME
        try:
            return Settings(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise SearchError(f"{directory}: no search here ({SETTINGS_NAME} is missing)") from None
        except (OSError, ValueError, TypeError) as exc:
            raise SearchError(f"{path}: not a search's settings ({exc})") from None


@dataclass
class Tally:
    """Progress: what the study holds so far."""

    done: int = 0  # trials finished (any state)
    rejected: int = 0  # over a budget or not a model
    failed: int = 0
    best: dict[str, Any] | None = None  # the most accurate feasible trial's outcome
    last: Outcome | None = None
    started: float = field(default_factory=time.monotonic)

    def add(self, outcome: dict[str, Any]) -> None:
        self.done += 1
        status = outcome["status"]
        if status in ("rejected", "invalid"):
            self.rejected += 1
        elif status == "failed":
            self.failed += 1
        elif self.best is None or (outcome["val_accuracy"] or 0) > (
                self.best["val_accuracy"] or 0):
            self.best = outcome


def outcome_record(o: Outcome, config: dict[str, Any]) -> dict[str, Any]:
    """The JSON an outcome is kept as (the trial's user attribute ``outcome``)."""
    record = asdict(o)
    record.pop("files")
    record["config"] = config
    return record


def storage_url(directory: Path) -> str:
    return f"sqlite:///{(directory / DB_NAME).resolve()}"


def open_study(directory: Path, settings: Settings, create: bool) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions: list[Literal["minimize", "maximize"]] = ["maximize", "minimize"]
    if settings.minimize_sram:
        directions.append("minimize")
    storage = storage_url(directory)
    if create:
        return optuna.create_study(study_name=STUDY_NAME, storage=storage,
                                   directions=directions)
    return optuna.load_study(study_name=STUDY_NAME, storage=storage)


def _sampler(seed: int, batch: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed * 1_000_003 + batch)


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def write_trial_files(directory: Path, o: Outcome) -> None:
    if not o.files:
        return
    folder = directory / TRIALS_DIR / f"{o.number:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in o.files.items():
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(folder / name)


class Driver:
    """Runs the batches; ``progress(tally)`` after each told trial."""

    def __init__(self, directory: Path, settings: Settings, space: Space, study: Any,
                 backend: Backend, progress: Callable[[Tally], None] | None = None) -> None:
        self.directory, self.settings, self.space = directory, settings, space
        self.study, self.backend = study, backend
        self.progress = progress
        self.tally = Tally()
        self.finished: dict[str, dict[str, Any]] = {}  # config key -> outcome record
        self.batch = 0
        import optuna

        self._optuna = optuna
        for t in study.get_trials(deepcopy=False):
            if "batch" in t.user_attrs:
                self.batch = max(self.batch, int(t.user_attrs["batch"]) + 1)
            if t.state.is_finished():
                record = t.user_attrs.get("outcome")
                if record is not None:
                    self.tally.add(record)
                    if t.state == optuna.trial.TrialState.COMPLETE:
                        self.finished.setdefault(_key(record["config"]), record)
                else:
                    self.tally.done += 1

    # -- telling ---------------------------------------------------------------------------

    def _values(self, o: Outcome) -> tuple[list[float], dict[str, float]]:
        b = self.settings.budget
        fw: Firmware | None = o.final or o.probe
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
        values = [o.val_accuracy if o.status == "ok" and o.val_accuracy is not None else 0.0,
                  float(fw.cycles) if fw else 0.0]
        if self.settings.minimize_sram:
            values.append(float(fw.sram_peak) if fw else 0.0)
        return values, constraints

    def tell(self, trial: Any, o: Outcome, config: dict[str, Any]) -> None:
        write_trial_files(self.directory, o)  # before the tell: a told trial has its files
        record = outcome_record(o, config)
        trial.set_user_attr("outcome", record)
        state = self._optuna.trial.TrialState
        if o.status == "failed":
            self.study.tell(trial, state=state.FAIL)
        else:
            values, constraints = self._values(o)
            for k, v in constraints.items():
                trial.set_constraint(k, v)
            self.study.tell(trial, values)
            self.finished.setdefault(_key(config), record)
        self.tally.add(record)
        self.tally.last = o
        if self.progress is not None:
            self.progress(self.tally)

    # -- the loop --------------------------------------------------------------------------

    def _task(self, number: int, config: dict[str, Any]) -> Task:
        return Task(number, config, self.settings.budget, self.settings.train_limit)

    def _run(self, trials: list[tuple[Any, dict[str, Any]]]) -> None:
        """Run the trials (copying outcomes of configs measured before) and tell them."""
        tasks, by_number = [], {}
        for trial, config in trials:
            seen = self.finished.get(_key(config))
            if seen is not None:
                copy = Outcome(trial.number, seen["status"], seen["reason"],
                               _firmware(seen["probe"]), _firmware(seen["final"]),
                               seen["trained"], seen["val_accuracy"],
                               seen["torch_val_accuracy"], seen["test_accuracy"])
                trial.set_user_attr("same_as", seen["number"])
                self.tell(trial, copy, config)
                continue
            tasks.append(self._task(trial.number, config))
            by_number[trial.number] = (trial, config)
        # duplicates inside the batch run once
        unique: dict[str, Task] = {}
        for task in tasks:
            unique.setdefault(_key(task.config), task)
        first_of = {t.number: unique[_key(t.config)].number for t in tasks}

        def done(o: Outcome) -> None:
            for number, first in sorted(first_of.items()):
                if first == o.number:
                    trial, config = by_number[number]
                    same = Outcome(number, o.status, o.reason, o.probe, o.final, o.trained,
                                   o.val_accuracy, o.torch_val_accuracy, o.test_accuracy,
                                   o.files if number == first else {}, o.seconds)
                    if number != first:
                        trial.set_user_attr("same_as", first)
                    self.tell(trial, same, config)

        self.backend.run_batch(list(unique.values()), done)

    def resume_unfinished(self) -> int:
        """Run the trials an interrupted search left RUNNING; how many there were."""
        running = [t for t in self.study.get_trials(deepcopy=False)
                   if t.state == self._optuna.trial.TrialState.RUNNING]
        trials = []
        for t in running:
            config = t.user_attrs.get("config")
            trial = self._optuna.trial.Trial(self.study, t._trial_id)
            if config is None:  # interrupted between ask and recording its config
                self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
                self.tally.done += 1
                continue
            trials.append((trial, config))
        if trials:
            self._run(trials)
        return len(running)

    def run(self, trials: int | None, seconds: float | None) -> None:
        """Batches until the study holds ``trials`` trials or ``seconds`` have passed."""
        deadline = None if seconds is None else time.monotonic() + seconds
        self.resume_unfinished()
        while True:
            total = len(self.study.get_trials(deepcopy=False))
            if trials is not None and total >= trials:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            n = self.settings.batch if trials is None else min(self.settings.batch,
                                                               trials - total)
            self.study.sampler = _sampler(self.settings.seed, self.batch)
            batch = []
            for _ in range(n):
                trial = self.study.ask()
                config = self.space.suggest(trial, self.settings.epochs)
                trial.set_user_attr("config", config)
                trial.set_user_attr("batch", self.batch)
                batch.append((trial, config))
            self.batch += 1
            self._run(batch)


def _firmware(d: dict[str, Any] | None) -> Firmware | None:
    return None if d is None else Firmware(**d)
