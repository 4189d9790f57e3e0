"""``ebnn search``: the command (registered in ``ebnn.cli``); a thin layer over the package."""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
import tomllib
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.markup import escape

from ebnn.data_options import FolderPath, data_dir_option, data_option, dataset_option
from ebnn.toml_value import toml_value
from sim.counts import MillisecondsParam
from sim.interrupts import signals_interrupt
from sim.output_guard import GuardedCommand, PipeConsole
from toolchain.memory_map import REGION_SIZE
from toolchain.profiles import DEFAULT_TARGET, TARGETS
from toolchain.sizes import SIZE

MIN_BUDGET = 64  # bytes of SRAM or flash below which no firmware fits: a budget's typo (2, 2k)

err = PipeConsole(stderr=True, highlight=False)
DEFAULT_TRIALS = 20
DEFAULT_FOLDS = 5  # --cv-folds of a search's first --cv run
EXIT_INTERRUPTED = 130


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(2)


LOCK_NAME = ".lock"  # in a search's folder: held (flock) while a search, resume or report runs


def _lock(output: Path) -> None:
    """Hold ``output``'s lock, or fail in one line when another ebnn search holds it: two
    processes in one study trained the same trial and one ended in Optuna's traceback."""
    import fcntl

    from ebnn.search.study import unlinked

    try:
        # (a link there from a folder made elsewhere is replaced, never written through)
        fd = os.open(unlinked(output / LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                     0o644)
    except OSError as exc:
        _fail(f"{output}: cannot write ({exc.strerror or exc})")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held; any other error: a file system without locks, go on
        holder = os.read(fd, 32).decode(errors="replace").strip()
        os.close(fd)
        _fail(f"{output} is in use by another ebnn search"
              + (f" (pid {holder})" if holder.isdigit() else "")
              + ": wait for it to end, or stop it")
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # released when the command ends (in-process callers run others)
        ctx.call_on_close(lambda: os.close(fd))


EXIT_EMPTY = 3  # a search that ran but holds no model within the budget
MAX_JOBS = 256  # worker processes: each holds the images and torch (~55 MB idle)

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def parse_duration(text: str) -> float:
    """Seconds in ``2h``, ``90m``, ``1h30m``, ``45s`` or a plain number of seconds."""
    t = text.strip().lower()
    try:
        seconds = float(t)
    except ValueError:
        m = _DURATION.fullmatch(t)
        if not t or m is None or not any(m.groups()):
            raise click.BadParameter(f"{text!r}: give a duration such as 2h, 90m, 1h30m or "
                                     "45s") from None
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = 3600 * h + 60 * mi + s
    if not 0 < seconds < math.inf:
        raise click.BadParameter(f"{text!r}: must be a finite duration of more than 0 "
                                 "seconds")
    return seconds


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


@click.command("search", cls=GuardedCommand)
@click.argument("space", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("-o", "--output", type=FolderPath(file_okay=False), default=None,
              help="Folder of the search: the study (study.db), every trained candidate's "
                   "files (trials/), pareto.json, pareto.md, pareto.png, pareto/.")
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help=f"Target profile (`ebnn-sim targets`). Default: {DEFAULT_TARGET}.")
@click.option("--sram", type=SIZE, default=None,
              help="Peak SRAM budget (static data + stack), e.g. 2k. Default: the target's.")
@click.option("--flash", type=SIZE, default=None, help="Flash budget. Default: the target's.")
@click.option("--max-ms", type=MillisecondsParam(), default=None,
              help="Budget of milliseconds per inference at the target's clock (the worst "
                   "over the validation images): 16, or with a unit, 500us.")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help=f"Stop when the study holds this many trials (default {DEFAULT_TRIALS} "
                   "without --time; with --resume, the number the search was last given).")
@click.option("--time", "duration", default=None, metavar="DURATION",
              help="Start no new batch after this long, e.g. 2h or 30m.")
@click.option("--epochs", type=click.IntRange(min=1, max=10_000), default=None,
              help="Train every candidate this many epochs (overrides the space's).")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help="Candidates run at once (default: the CPUs of this machine; no more "
                   f"workers start than a batch holds; at most {MAX_JOBS}).")
@click.option("--batch", type=click.IntRange(min=1, max=1024), default=None,
              help="Candidates the sampler proposes at a time (default: --jobs). Results depend "
                   "on the seed and the batch, not on --jobs or the backend (on one CPU); kept "
                   "with the search.")
@dataset_option
@data_option
@data_dir_option
@click.option("--test-data-dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="IDX directory whose t10k files are the test split "
                                 "(reported, never used to choose), e.g. the official MNIST.")
@click.option("--test-data", type=click.Path(path_type=Path), default=None, metavar="PATH",
              help="The test split from a data path (.npz, .csv, a folder: its test split if "
                   "it has one, else all of it); reported, never used to choose.")
@click.option("--train-images", type=click.IntRange(min=1), default=None,
              help="Train on N training images only, every class in proportion (quick "
                   "searches; at least one per class).")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="local: a process pool of --jobs processes. ray: one Ray "
                                      "task per candidate.")
@click.option("--address", default=None,
              help="Ray cluster to use (else RAY_ADDRESS; else a local Ray of --jobs CPUs).")
@click.option("--seed", type=click.IntRange(min=0, max=2**31 - 1), default=None,
              help="Seed of the sampler (default 0).")
@click.option("--sram-objective/--no-sram-objective", default=None,
              help="Minimise peak SRAM as an objective (default: yes); without it SRAM is "
                   "only a constraint (the budget).")
@click.option("--cycles-objective/--no-cycles-objective", default=None,
              help="Minimise cycles as an objective (default: yes). With both off the "
                   "sampler looks for the most accurate model that fits the budgets alone.")
@click.option("--start", "starts", multiple=True,
              type=click.Path(path_type=Path, dir_okay=False), metavar="CONFIG.toml",
              help="A model config to try first (repeatable), e.g. your hand-made model: the "
                   "search starts from it. Its layers must lie in the space; its [train] "
                   "values are used where the space draws them.")
@click.option("--prune", is_flag=True, default=None,
              help="Stop a candidate's training after a quarter or half of its epochs when "
                   "its validation accuracy there (BNs calibrated) is below the median of the "
                   "candidates before it at the same point. Give --batch about twice --jobs so "
                   "a worker whose candidate stopped takes the next. Kept with the search.")
@click.option("--stream", is_flag=True, default=None,
              help="Build and measure every candidate as `ebnn build --stream` builds it: the "
                   "input fed row by row (a sequence step by step), no input buffer; for inputs "
                   "too large for the SRAM whole, such as audio. Kept with the search.")
@click.option("--multivariate", is_flag=True, default=None,
              help="Multivariate TPE with groups: a joint model for each group of parameters "
                   "that occur together, so a later conv block's filters, kernel, padding and "
                   "pool are modelled together (without it, Optuna's default TPE). Kept with "
                   "the search.")
@click.option("--startup", type=click.IntRange(min=1), default=None, metavar="N",
              help="TPE proposes the first N finished trials at random before it models them "
                   "(default: Optuna's 10): more of the space is tried before the sampler "
                   "settles. Kept with the search.")
@click.option("--stratify", is_flag=True, default=None,
              help="Deal the space's shapes evenly over the first --startup candidates that "
                   "fit the budget: each takes the shape with the fewest so far, and one "
                   "rejected before training is drawn again in its shape. A shape most of "
                   "whose draws are over the budget is then tried as often as the others "
                   "(needs [space] shapes). Kept with the search.")
@click.option("--cv", "cv", type=click.IntRange(min=0), default=0, metavar="K",
              help="After the trials, re-rank the K candidates with the best validation "
                   "accuracy by k-fold cross-validation over the training and validation "
                   "images (each trained --cv-folds more times): the top of a search on a few "
                   "hundred validation images is mostly noise. Works with --resume on a "
                   "finished search.")
@click.option("--cv-folds", type=click.IntRange(min=2, max=20), default=None,
              help=f"Folds of --cv (default {DEFAULT_FOLDS}; with --resume, those of the "
                   "search's last --cv run, so that its folds are kept).")
@click.option("--cv-race", is_flag=True,
              help="Race the K through the folds instead: all of them run fold 1, the better "
                   "half of those (mean accuracy so far) fold 2, and so on, at least two to the "
                   "end; only those that run every fold count as cross-validated. 16 "
                   "candidates and 4 folds: 30 fold trainings instead of 64, so K can be every "
                   "trained candidate.")
@click.option("--refit", is_flag=True,
              help="After the trials (and --cv), train each Pareto model's config again on "
                   "every labelled image (training and validation) and measure it like a "
                   "candidate: pareto/NAME-refit.*, an entry's `refit`. The choice stays the "
                   "validation (or cv) accuracy's. Works with --resume on a finished search.")
@click.option("--resume", is_flag=True,
              help="Continue the search in -o: unfinished trials run again first.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, metavar="DIR",
              help="Only re-render pareto.json, pareto.md, pareto.png and pareto/ of the search "
                   "in DIR.")
def search_cmd(space: Path | None, output: Path | None, target: str | None, sram: int | None,
               flash: int | None, max_ms: float | None, trials: int | None,
               duration: str | None, epochs: int | None, jobs: int | None, batch: int | None,
               dataset: str | None, data: Path | None, data_dir: Path | None,
               test_data_dir: Path | None, test_data: Path | None,
               train_images: int | None, backend: str, address: str | None, seed: int | None,
               sram_objective: bool | None, cycles_objective: bool | None,
               starts: tuple[Path, ...], prune: bool | None, stream: bool | None,
               multivariate: bool | None,
               startup: int | None, stratify: bool | None, cv: int, cv_folds: int | None,
               cv_race: bool, refit: bool,
               resume: bool, report_dir: Path | None) -> None:
    """Search SPACE (TOML) for the eBNNs that fit a device, each candidate measured on the
    emulated target: firmware built and run for exact peak SRAM, flash and cycles.

    \b
    ebnn search examples/search/mnist.toml --target curie --sram 2k --time 2h -o out/s2k
    ebnn search -o out/s2k --resume --time 1h     continue (Ctrl-C keeps finished trials)
    ebnn search -o out/s2k --resume --cv 5        re-rank the 5 best by cross-validation
    ebnn search -o out/s2k --resume --cv 20 --cv-race   race the 20 best through the folds
    ebnn search -o out/s2k --resume --refit       the Pareto models trained on every image
    ebnn search --report out/s2k                  re-render the outputs

    Candidates certainly over the SRAM, flash or --max-ms budget are rejected before
    training (their firmware's lower bounds, measured with untrained weights); the others are
    trained and measured again, which decides. Optuna (TPE) proposes candidates in batches of
    --batch (default --jobs); objectives: validation accuracy, cycles and peak SRAM
    (--no-cycles-objective --no-sram-objective: the most accurate model that fits). See
    docs/search.md.
    """
    from ebnn.search.study import DB_NAME, SETTINGS_NAME, SearchError, Settings

    if space is None and output is None and report_dir is None and not resume:
        ctx = click.get_current_context()  # (nothing given: what to give)
        click.echo(ctx.get_help(), err=True)
        ctx.exit(2)
    seconds = None if duration is None else _duration(duration)
    report = report_dir is not None
    if report and (resume or output is not None):
        _fail("--report DIR re-renders a search: no -o or --resume with it")
    if report_dir is not None:
        output = report_dir
    if output is None:
        _fail("give the search's folder with -o DIR")
    if (report or resume) and not output.is_dir():
        _fail(f"{output}: no such folder (no search there)")
    for option, value in (("--sram", sram), ("--flash", flash)):
        if value == 0:
            _fail(f"{option} 0: a budget must be more than 0 bytes")
        if value is not None and value < MIN_BUDGET:
            _fail(f"{option} {value} B: less than any firmware's own start-up code and stack "
                  f"take (did you mean {value}k?)")
        if value is not None and value > REGION_SIZE:
            _fail(f"{option} {value:,} B: more than the Cortex-M memory map holds "
                  f"({REGION_SIZE >> 20} MiB); no firmware could be built for it")
    if max_ms is not None and not math.isfinite(max_ms):
        _fail(f"--max-ms {max_ms}: give a finite number of milliseconds")
    if address is not None and backend != "ray":
        _fail("--address is for --backend ray")
    if test_data is not None and test_data_dir is not None:
        _fail("--test-data and --test-data-dir both name a test split: give one")
    if report and cv:
        _fail("--report DIR re-renders a search: --cv runs one (-o DIR --resume --cv K)")
    if cv_race and not cv:
        _fail("--cv-race races the --cv K candidates through the folds: give --cv K too")
    if cv_folds is not None and not cv:
        _fail("--cv-folds is the folds of --cv K: give --cv K too")
    if report and refit:
        _fail("--report DIR re-renders a search: --refit runs one (-o DIR --resume --refit)")
    if report and (trials is not None or duration is not None or jobs is not None
                   or address is not None or backend != "local"):
        _fail("--report DIR re-renders a search: --trials, --time, --jobs and --backend run "
              "one (-o DIR --resume)")
    if starts and (resume or report):
        _fail("--start is for a new search: a search resumed goes on from its own trials")
    given = {"target": target, "sram": sram, "flash": flash, "max_ms": max_ms,
             "epochs": epochs, "dataset": dataset, "data_path": data,
             "data_dir": data_dir,
             "test_dir": test_data_dir, "test_data": test_data, "train_limit": train_images,
             "seed": seed,
             "minimize_sram": sram_objective, "minimize_cycles": cycles_objective,
             "batch": batch, "prune": prune, "multivariate": multivariate, "startup": startup,
             "stratify": stratify, "stream": stream}
    moved: dict[str, str] = {}
    try:
        if report or resume:
            settings = Settings.load(output)
            settings, moved = _same(settings, space, given)
        else:
            if space is None:
                _fail("give the SPACE.toml to search (or -o DIR --resume, or --report DIR)")
            if (output / DB_NAME).exists() or (output / SETTINGS_NAME).exists():
                _fail(f"{output} holds a search already: --resume to continue it, --report "
                      f"{output} to re-render it, or another -o")
            settings = _new_settings(space, {**given, "batch": batch or jobs or _cpus()})
            settings = replace(settings, start=[str(p) for p in starts] or None)
    except SearchError as exc:
        _fail(str(exc))
    if report:
        _report(output, settings, moved)
        return
    jobs = jobs or _cpus()
    if not cv and not refit:  # no more workers than a batch of trials runs at once (each
        jobs = min(jobs, settings.batch)  # holds the images and torch); folds use more
    try:
        _search(output, settings, resume, trials, seconds, jobs, backend, address,
                (cv, cv_folds, cv_race), refit, moved)
    except KeyboardInterrupt:  # outside the search loop (it handles its own): click said
        err.print("interrupted", markup=False)  # "Aborted!" and exit 1
        sys.exit(EXIT_INTERRUPTED)


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except click.BadParameter as exc:
        _fail(f"--time {exc.message}")


def _new_settings(space: Path, given: dict[str, Any]) -> Any:
    from ebnn.config import read_toml_text
    from ebnn.search.space import SpaceError, load_space
    from ebnn.search.study import OPTUNA_STARTUP, Settings

    try:
        loaded = load_space(space)
        text = read_toml_text(space)  # read whole a moment ago
    except SpaceError as exc:
        _fail(str(exc))
    except (OSError, ValueError) as exc:  # changed since
        _fail(f"{space}: cannot read ({exc})")
    if given["stratify"] and len(loaded.shape_names) < 2:
        _fail(f"--stratify deals the space's shapes: {space} lists fewer than two "
              "([space] shapes)")
    t = TARGETS[given["target"] or DEFAULT_TARGET]
    max_cycles = (None if given["max_ms"] is None
                  else math.floor(given["max_ms"] * t.clock_hz / 1000))
    if max_cycles is not None and max_cycles < 1:
        _fail(f"--max-ms {given['max_ms']:g} is less than one cycle at {t.name}'s "
              f"{t.clock_hz:,} Hz: no model runs in it")
    return Settings(
        space=text, target=t.name, sram=t.sram if given["sram"] is None else given["sram"],
        flash=t.flash if given["flash"] is None else given["flash"],
        max_cycles=max_cycles, clock_hz=t.clock_hz, seed=given["seed"] or 0,
        minimize_sram=True if given["minimize_sram"] is None else given["minimize_sram"],
        minimize_cycles=True if given["minimize_cycles"] is None else given["minimize_cycles"],
        epochs=given["epochs"], dataset=given["dataset"],
        data_dir=None if given["data_dir"] is None else str(given["data_dir"].resolve()),
        data_path=None if given["data_path"] is None else str(given["data_path"].resolve()),
        test_dir=None if given["test_dir"] is None else str(given["test_dir"].resolve()),
        test_data=None if given["test_data"] is None else str(given["test_data"].resolve()),
        train_limit=given["train_limit"], batch=given["batch"], prune=bool(given["prune"]),
        multivariate=bool(given["multivariate"]), startup=given["startup"] or OPTUNA_STARTUP,
        stratify=bool(given["stratify"]), stream=bool(given["stream"]))


# the option of each setting whose name is not the option's
_OPTIONS = {"data_path": "--data", "test_dir": "--test-data-dir", "test_data": "--test-data",
            "train_limit": "--train-images",
            "minimize_sram": "--sram-objective/--no-sram-objective",
            "minimize_cycles": "--cycles-objective/--no-cycles-objective"}


# the settings that are a path to the data: another path to the same data (its digest, checked
# as it is read) is taken
DATA_PATHS = ("data_dir", "test_dir", "data_path", "test_data")


def _same(settings: Any, space: Path | None, given: dict[str, Any]
          ) -> tuple[Any, dict[str, str]]:
    """A search is continued or re-rendered with the settings it began with: those settings,
    with any data path given anew (a data set moved or copied: :func:`_load` checks that it is
    the same data), and the path each of those replaces."""
    stored = asdict(settings)
    t = TARGETS[settings.target]
    moved: dict[str, str] = {}
    for key, value in given.items():
        if value is None or key == "max_ms":
            continue
        if key in DATA_PATHS:
            value = str(Path(value).resolve())
        if key == "target":  # a profile's name as the settings keep it
            value = TARGETS[value].name if value in TARGETS else value
        if (key in DATA_PATHS and stored.get(key) not in (None, value)
                and settings.data_digest is not None):
            moved[key] = stored[key]
            continue
        if stored.get(key) != value:
            option = _OPTIONS.get(key, "--" + key.replace("_", "-"))
            was = stored.get(key)
            on, _, off = option.partition("/")
            ran = (f"it ran with {on}" if was is True else
                   f"it ran with {off}" if was is False and off else
                   f"it ran without {on}" if was is False or was is None else
                   f"it ran with {toml_value(was)}")
            _fail(f"{option} differs from the search in this folder ({ran}); leave it out to "
                  "keep it")
    if given["max_ms"] is not None and settings.max_cycles != math.floor(
            given["max_ms"] * t.clock_hz / 1000):
        _fail("--max-ms differs from the search in this folder; leave it out to keep it")
    if space is not None:
        from ebnn.config import loads_toml, read_toml_text

        try:  # the same tables and values: comments and layout may differ
            given_space = loads_toml(read_toml_text(space))
        except OSError as exc:
            _fail(f"{space}: cannot read ({exc.strerror or exc})")
        except tomllib.TOMLDecodeError as exc:
            _fail(f"{space}: not valid TOML ({exc})")
        except ValueError as exc:  # too long, not UTF-8
            _fail(f"{space}: cannot read ({exc})")
        try:
            same = given_space == loads_toml(settings.space)
        except tomllib.TOMLDecodeError:
            same = False  # the kept space is damaged: reported as the search is read
        if not same:
            _fail(f"{space} is not the space this search began with; leave it out to keep it")
    return replace(settings, **{key: str(Path(given[key]).resolve()) for key in moved}), moved


def _load(settings: Any, training: bool = True, moved: dict[str, str] | None = None
          ) -> tuple[Any, Any]:
    """The space and the images of a search (``training`` False: to re-render it, which
    trains nothing, so a teacher the folder names is not read); ``moved``: the data paths
    given anew (:func:`_same`), each with the one it replaces: taken when the data is the
    same."""
    from ebnn.config import loads_toml
    from ebnn.data import DatasetError
    from ebnn.search.datasets import load_search_data
    from ebnn.search.space import SpaceError, parse_space

    try:
        space = parse_space(loads_toml(settings.space), "space", strict=False)
        data = load_search_data(settings.dataset,
                                None if settings.data_dir is None else Path(settings.data_dir),
                                space.val_fraction, space.seed,
                                None if settings.test_dir is None else Path(settings.test_dir),
                                None if settings.data_path is None else Path(settings.data_path),
                                tuple(space.input),
                                None if settings.test_data is None else Path(settings.test_data))
    except (SpaceError, DatasetError, tomllib.TOMLDecodeError) as exc:
        _fail(str(exc) + _gone_hint(settings))
    for note in data.notes:
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    if data.train.image_shape != space.input or data.train.classes != space.classes:
        _fail(f"the space's models take {_samples(space, space.input)} in {space.classes} "
              f"classes; {data.name} has {_samples(space, data.train.image_shape)} in "
              f"{data.train.classes}"
              + ("" if settings.data_dir is None else
                 f" (--data-dir reads {data.name}'s own IDX files; IDX files of your own task: "
                 "--data DIR)"))
    if settings.data_digest not in (None, data.digest()):
        # one digest covers every split: name the test split's source too, it may be the one
        test = ("" if data.test is None or data.test.source == data.train.source
                else f"; test split {data.test.source}")
        if moved:
            _fail(f"the data ({data.source}{test}) is not the data this search began with "
                  f"(at {', '.join(moved.values())}): its images or labels differ, and "
                  "candidates trained on other images cannot be ranked together; give the "
                  "path of the same data, or start a new search in another folder")
        _fail(f"the data ({data.source}{test}) is not the data this search began with: its "
              "images or labels changed, and candidates trained on other images cannot be "
              "ranked together; put the data back, or start a new search in another folder")
    for key, old in (moved or {}).items():
        option = _OPTIONS.get(key, "--" + key.replace("_", "-"))
        err.print(f"note: {option} {getattr(settings, key)}: the data this search began with "
                  f"at {old} (the same images and labels)"
                  + ("; this search now reads it there" if training else
                     "; a report keeps no path: `-o DIR --resume` with it keeps the new one"),
                  markup=False, soft_wrap=True)
    if training and space.train.get("teacher"):  # refused once here, not in every trial
        from ebnn.train import TrainError, check_teacher

        try:
            check_teacher(space.train["teacher"], space.input, space.classes, data.val)
        except TrainError as exc:
            _fail(str(exc))
    return space, data


def _samples(space: Any, shape: tuple[int, ...]) -> str:
    """Samples of ``shape`` as the space's input calls them: sequences [T, C] (kept as
    1 x T images of C channels) or images [H, W, C]."""
    if space.first_kind == "conv1d" and len(shape) == 3 and shape[0] == 1:
        return f"sequences [T, C] = {list(shape[1:])}"
    return f"images {list(shape)}"


def _gone_hint(settings: Any) -> str:
    """What to do when a data path the search keeps is gone: give the new one."""
    for key in DATA_PATHS:
        path = getattr(settings, key)
        if path is not None and not Path(path).exists():
            option = _OPTIONS.get(key, "--" + key.replace("_", "-"))
            return (f" (moved? give its new path with {option}: the search checks that it "
                    "is the same data)")
    return ""


def _write_outputs(output: Path, settings: Any, study: Any, space: Any, data: Any,
                   fail: bool = True) -> Any:
    """The outputs written: (Pareto entries, summary). When they cannot be, one line and exit
    2, or (``fail`` False: a search already stopping for a full disk) the reason returned."""
    from ebnn.search.handmade import measure_handmade
    from ebnn.search.outputs import write_report
    from ebnn.search.study import SearchError

    try:
        reference = measure_handmade(output, settings, data, space.seed, space.val_fraction)
        return write_report(output, settings, study, reference)
    except KeyboardInterrupt:  # the study holds everything: the outputs can be written again
        err.print(f"interrupted while writing the outputs; the study keeps every finished "
                  f"trial: `ebnn search --report {output}` writes them", markup=False,
                  soft_wrap=True)
        sys.exit(EXIT_INTERRUPTED)
    except FileNotFoundError as exc:  # a model file of trials/ or refits/ deleted
        why = (f"{output}: cannot write the report: {exc.filename} is missing (the outputs "
               "written before stay as they were)")
    except SearchError as exc:
        why = f"{output}: cannot write the report: {exc}"
    except OSError as exc:
        why = f"{output}: cannot write the report ({exc.strerror or exc})"
    if fail:
        _fail(why)
    return why


def _report(output: Path, settings: Any, moved: dict[str, str] | None = None) -> None:
    from ebnn.search.study import SearchError, open_study

    _lock(output)
    space, data = _load(settings, training=False, moved=moved)
    try:
        study = open_study(output, settings, create=False)
    except SearchError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{output}: cannot read ({exc.strerror or exc})")
    entries, summary = _write_outputs(output, settings, study, space, data)
    _print_result(output, entries, summary)
    _exit_if_empty(study, entries, summary)


SHOWN = 5  # Pareto models listed on the console (pareto.md lists them all)


def _print_result(output: Path, entries: list[dict[str, Any]], summary: Any) -> None:
    # soft_wrap: one line each, whatever the width (a log or CI grepped line by line; rich
    # wraps at 80 columns when stderr is not a terminal)
    err.print(summary.line(), markup=False, soft_wrap=True)
    err.print(f"Pareto set of {len(entries)}: {output / 'pareto.md'}", markup=False,
              soft_wrap=True)  # a path stays whole (and clickable) in a terminal
    for e in entries[:SHOWN]:
        cv = ("" if e.get("cv_accuracy") is None
              else f" ({100 * e['cv_accuracy']:.2f}% cross-validated)")
        err.print(f"  {e['name']}: {100 * e['val_accuracy']:.2f}% validation{cv}, "
                  f"{e['sram_peak']:,} B SRAM, {e['cycles']:,} cycles ({e['ms']:.2f} ms)",
                  markup=False, soft_wrap=True)
        f = e.get("refit")
        if f is not None:
            test = ("" if f.get("test_accuracy") is None
                    else f"{100 * f['test_accuracy']:.2f}% test, ")
            err.print(f"    refit on {f['train_images']:,} images: " + (
                f"{test}{f['sram_peak']:,} B SRAM, {f['cycles']:,} cycles ({f['ms']:.2f} ms)"
                if f["status"] == "ok" else f"{f['status']}: {f['reason']}"), markup=False,
                soft_wrap=True)
    if len(entries) > SHOWN:  # "Pareto set of 6" then five lines read as a model lost
        err.print(f"  ... and {len(entries) - SHOWN} more (pareto.md)", markup=False)


def _search(output: Path, settings: Any, resume: bool, trials: int | None,
            seconds: float | None, jobs: int, backend_name: str, address: str | None,
            cv: tuple[int, int | None, bool] = (0, None, False), refit: bool = False,
            moved: dict[str, str] | None = None) -> None:
    from optuna.exceptions import StorageInternalError

    from ebnn.search.backends import BackendError, WorkerLost, make_backend
    from ebnn.search.crossval import CrossValError, last_folds
    from ebnn.search.outputs import cv_options
    from ebnn.search.study import SETTINGS_NAME, Driver, FolderGone, SearchError, open_study

    space, data = _load(settings, moved=moved)
    if settings.train_limit is not None and settings.train_limit < data.train.classes:
        _fail(f"--train-images {settings.train_limit}: fewer than the data's "
              f"{data.train.classes} classes; every class needs a training image")
    _check_input_fits(space, settings)
    from toolchain.build import ToolchainError, find_compiler

    try:  # without it every candidate would fail in turn, each counted against --trials
        find_compiler()
    except ToolchainError as exc:
        _fail(f"{exc} (every candidate's firmware is built and run)")
    if settings.data_digest is None:  # a new search (or one begun before the check): kept
        settings = replace(settings, data_digest=data.digest())
    given_trials = trials is not None
    if cv[0] and space.train.get("teacher"):
        _check_fold_teacher(space.train["teacher"])
    if refit and space.train.get("teacher"):
        _fail("--refit: not for a space with a teacher (its teacher validated on the images "
              "the refit trains on; train the chosen config with `ebnn train` instead)")
    first = [] if resume else _start_params(space, settings.start or [], settings.epochs)
    # `--resume --cv K` or `--resume --refit` alone: the trials an interrupt left unfinished,
    # then the folds and refits only
    cv_only = resume and (cv[0] > 0 or refit) and trials is None and seconds is None
    if trials is None and not cv_only:
        # --resume keeps the cap last given, --time or not; a new search without --time
        # (or a resumed one that had none) stops at the default
        if resume and settings.trials is not None:
            trials = settings.trials
        elif seconds is None:
            trials = DEFAULT_TRIALS
    try:  # before anything is written: a backend that cannot start leaves no search behind
        backend = make_backend(backend_name, data, jobs, address)
    except BackendError as exc:
        _fail(str(exc))
    try:
        output.mkdir(parents=True, exist_ok=True)
        _lock(output)
        # only a --trials the user gave is kept: the default caps no later --time
        cap = trials if given_trials else settings.trials
        if resume:  # the study first: settings are not rewritten for one that cannot open
            study = open_study(output, settings, create=False, may_start=True)
            settings = replace(settings, trials=cap)
            settings.save(output)
        else:
            settings = replace(settings, trials=cap)
            settings.save(output)
            study = open_study(output, settings, create=True)
        for params in first:  # asked before anything the sampler proposes
            study.enqueue_trial(params)
        # --cv-folds not given: the last --cv run's when resuming (its folds' results are kept)
        folds = cv[1] or (last_folds(study.user_attrs) if resume else None) or DEFAULT_FOLDS
        run_cv = (cv[0], folds, cv[2])
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        held = sum(state != "WAITING" for state in states)
        unfinished = states.count("RUNNING")  # an interrupt's: run again first
    except (OSError, SearchError) as exc:
        backend.close()
        _fail(str(exc) if isinstance(exc, SearchError)
              else f"{output}: cannot write ({exc.strerror or exc})")
    except BaseException:  # Ctrl-C too: no worker is left behind
        backend.close()
        raise
    idle = resume and not cv_only and trials is not None and held >= trials
    if idle:
        which = ("given" if given_trials else "it was last given" if settings.trials is not None
                 else "of the default")
        err.print(f"the study holds {held} trial(s), the --trials {trials} {which}: no new "
                  "trial (a larger --trials goes on)"
                  + (f"; its {unfinished} unfinished run again" if unfinished else ""),
                  markup=False, soft_wrap=True)
    if not idle or unfinished or cv[0] or refit:  # else nothing runs: no "searching ..."
        _banner(settings, space, data, jobs, backend_name)
    if run_cv[0]:
        _warn_thin_folds(data, settings.train_limit, run_cv[1])
    interrupted = in_cv = in_refit = False
    cv_error: str | None = None
    lost: str | None = None
    unwritten: str | None = None  # what the search could not record
    gone: str | None = None  # the search's folder removed under it
    # a termination request (kill, a batch system's time limit) stops the search as Ctrl-C does
    with _Progress(trials) as progress, signals_interrupt():
        driver = Driver(output, settings, space, study, backend, data, progress.update)
        progress.watch(driver.tally)
        try:
            driver.run(0 if cv_only else trials, seconds)
            if cv[0]:
                in_cv = True
                _cross_validate(study, settings, space, backend, run_cv, progress, output)
            if refit:
                in_refit, in_cv = True, False
                _refit(study, settings, backend, progress, output)
        except KeyboardInterrupt:
            interrupted = True
        except CrossValError as exc:
            cv_error = str(exc)
        except WorkerLost as exc:  # the finished work is kept: the outputs are written
            lost = str(exc)
        except FolderGone as exc:  # nothing left to go on with, nor to write the outputs to
            gone = str(exc)
        except (OSError, StorageInternalError) as exc:  # a full disk
            unwritten = _write_failure(output, exc)
        finally:
            backend.close()
    if unwritten is not None and not (output / SETTINGS_NAME).is_file():
        gone = str(FolderGone(output))  # the study could not be written: it was removed
    if gone is not None:
        err.print(f"[bold red]error:[/] {escape(gone)}", soft_wrap=True)
        sys.exit(1)
    # what a --resume must add to go on where this run stopped
    again = ((f" {cv_options(*run_cv)}" if in_cv else "")
             + (" --refit" if refit and (in_cv or in_refit) else ""))
    if unwritten is not None:  # the disk is likely still full: the outputs may not fit either
        written = _write_outputs(output, settings, study, space, data, fail=False)
        if isinstance(written, str):
            _stopped(f"{unwritten}; the report was not written either", output, again)
            sys.exit(1)
        _print_result(output, *written)
        _stopped(unwritten, output, again)
        sys.exit(1)
    entries, summary = _write_outputs(output, settings, study, space, data)
    _print_result(output, entries, summary)
    options = cv_options(*run_cv)
    if interrupted:
        kept = " and folds" if in_cv else " and refits" if in_refit else ""
        after = ""  # interrupted in the trials: the folds and refits asked for come after
        if not (in_cv or in_refit) and (cv[0] or refit):
            after = (f", then `ebnn search -o {output} --resume"
                     + (f" {options}" if cv[0] else "")
                     + (" --refit" if refit else "") + "`")
        err.print(f"interrupted: finished trials{kept} are kept in "
                  f"{output}; continue with `ebnn search -o {output} --resume{again}`{after}",
                  markup=False, soft_wrap=True)
        sys.exit(EXIT_INTERRUPTED)
    if cv_error is not None:  # the trials' outputs are written; the folds wait for --resume
        _fail(f"--cv: {cv_error}; no fold ran: put the teacher back and continue with "
              f"`ebnn search -o {output} --resume {options}`")
    if lost is not None:
        _stopped(lost, output, again)
        sys.exit(1)
    _exit_if_empty(study, entries, summary)


def _banner(settings: Any, space: Any, data: Any, jobs: int, backend_name: str) -> None:
    """What the search runs: the budgets' warnings, then ``searching TARGET (...)``."""
    b = settings.budget
    for warning in TARGETS[settings.target].beyond_part(b.sram, b.flash):
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    err.print(f"searching {settings.target} ({'streaming firmware, ' if b.stream else ''}"
              f"SRAM ≤ {b.sram:,} B, flash ≤ {b.flash:,} B"
              + ("" if b.max_cycles is None else f", ≤ {b.max_cycles:,} cycles")
              + f") on {len(data.subset(settings.train_limit).train)} training and "
              f"{len(data.val)} validation "
              f"{'sequences' if space.first_kind == 'conv1d' else 'images'} of {data.name}; "
              f"{jobs} job(s), "
              f"{backend_name} backend", markup=False, soft_wrap=True)


def _check_input_fits(space: Any, settings: Any) -> None:
    """One line, before any trial, when the input alone is over the SRAM budget: every
    candidate built whole holds it in SRAM and would be rejected in turn (--stream holds
    none of it)."""
    size = math.prod(space.input)
    if settings.stream or size <= settings.sram:
        return
    sequence = space.first_kind == "conv1d"
    shape = list(space.input[1:] if sequence else space.input)
    _fail(f"the space's input {shape} is {size:,} B, more than the SRAM budget "
          f"({settings.sram:,} B) before any layer runs: no candidate fits built whole; "
          f"--stream feeds it {'step by step' if sequence else 'row by row'}, with no input "
          "buffer")


def _stopped(why: str, output: Path, again: str) -> None:
    err.print(f"[bold red]error:[/] {escape(why)}; the search stopped there, its finished work "
              f"is kept in {escape(str(output))}: continue with `ebnn search -o "
              f"{escape(str(output))} --resume{again}`", soft_wrap=True)


def _write_failure(output: Path, exc: BaseException) -> str:
    """One line for a search that could not record its work (a full disk, a folder removed):
    what could not be written, and why."""
    from ebnn.search.study import storage_cause

    if isinstance(exc, OSError):
        where = exc.filename if exc.filename else output
        return f"cannot write {where} ({exc.strerror or exc})"
    return f"cannot write the study in {output / 'study.db'} ({storage_cause(exc)})"


def _exit_if_empty(study: Any, entries: list[dict[str, Any]], summary: Any) -> None:
    """No model in the Pareto set (nothing fitted, or nothing trained): exit 3 with the most
    common reasons, so a script does not go on as if there were one (search or --report)."""
    if entries:
        return
    from ebnn.search.outputs import common_reasons, load_records

    common = "".join(f"; {why}" for why in common_reasons(load_records(study)[0], 2))
    unfinished = (f", {summary.running} unfinished: `--resume` runs them" if summary.running
                  else "")
    err.print(f"no model in the Pareto set ({summary.rejected} rejected, "
              f"{summary.failed} failed{unfinished}){common}", markup=False, soft_wrap=True)
    sys.exit(EXIT_EMPTY)


def _check_fold_teacher(teacher: str) -> None:
    """--cv trains the teacher's own config on each fold: refused at once when it cannot."""
    from ebnn.search.crossval import CrossValError, fold_teacher

    try:
        fold_teacher(Path(teacher))
    except CrossValError as exc:
        _fail(f"--cv: {exc}")


def _warn_thin_folds(data: Any, train_limit: int | None, folds: int) -> None:
    """A warning when a class has fewer labelled samples than there are folds (as
    scikit-learn's StratifiedKFold warns): some folds then hold none of it and the folds'
    accuracies swing."""
    import numpy as np

    from ebnn.search.crossval import pool_of

    labels = pool_of(data, train_limit).labels
    classes, counts = np.unique(labels, return_counts=True)
    if not len(counts) or counts.min() >= folds:
        return
    c = int(classes[int(np.argmin(counts))])
    names = getattr(data.train, "class_names", None) or ()
    name = names[c] if c < len(names) else str(c)
    err.print(f"warning: --cv-folds {folds}: class {name} has only {int(counts.min())} labelled "
              f"sample(s), fewer than the folds: some folds hold none of it and the folds' "
              f"accuracies swing (--cv-folds {max(2, int(counts.min()))} or fewer is steadier)",
              markup=False, soft_wrap=True)


def _cross_validate(study: Any, settings: Any, space: Any, backend: Any,
                    cv: tuple[int, int, bool], progress: _Progress, output: Path) -> None:
    from ebnn.search.crossval import TEACHERS, cross_validate, shortlist
    from ebnn.search.outputs import cv_options, load_records

    k, folds, race = cv
    records, _ = load_records(study)
    chosen = shortlist(records, k)
    if not chosen:
        err.print("--cv: no trained candidate to cross-validate", markup=False)
        return

    def announce(n: int, fold: tuple[int, int] | None, numbers: list[int]) -> None:
        trials = ", ".join(str(t) for t in numbers)
        if not n:
            text = (f"raced {len(numbers)} candidate(s) (trials {trials}) through {folds} "
                    "folds already: every fold of the race has run" if race else
                    f"cross-validated {len(numbers)} candidate(s) (trials {trials}) already: "
                    f"every one of their {folds} folds has run")
        elif fold is None:
            text = (f"cross-validating {len(numbers)} candidate(s) (trials {trials}), {folds} "
                    f"folds each: {n} to run")
        else:
            which = (f"fold {fold[0] + 1}" if fold[0] == fold[1]
                     else f"folds {fold[0] + 1}-{fold[1] + 1}")
            text = (f"racing {len(chosen)} candidate(s) through {folds} folds: {which} "
                    + ("for every one" if fold[0] == 0 and len(numbers) == len(chosen) else
                       f"for the {len(numbers)} best so far") + f" (trials {trials}): {n} to run")
        err.print(text, markup=False, soft_wrap=True)

    teacher = space.train.get("teacher")
    if teacher:
        err.print(f"each fold's candidates learn from the teacher's config trained on that "
                  f"fold's training part (kept in {output / TEACHERS})", markup=False,
                  soft_wrap=True)
    progress.restart("cross-validating")
    failed = cross_validate(study, records, k, folds, space.seed, settings.train_limit, backend,
                            progress.fold, Path(teacher) if teacher else None, output,
                            announce, race)
    if failed:
        again = f"`--resume {cv_options(k, folds, race)}` runs them again"
        err.print(f"--cv: {failed} fold(s) failed (reasons above); "
                  + (f"the race waits at them until {again}" if race else
                     f"their candidates are not ranked as cross-validated until {again}"),
                  markup=False, soft_wrap=True)


def _refit(study: Any, settings: Any, backend: Any, progress: _Progress, output: Path) -> None:
    from ebnn.search.outputs import load_records, pareto
    from ebnn.search.refit import RefitTask, pending, refit

    records, _ = load_records(study)
    front = pareto(records, settings.minimize_sram, settings.minimize_cycles)
    if not front:
        err.print("--refit: no trained candidate fits the budget: nothing to refit",
                  markup=False)
        return
    tasks = [RefitTask(r["number"], r["config"], settings.budget, settings.train_limit)
             for r in front]
    todo = pending(study.user_attrs, tasks)
    if not todo:
        return
    err.print(f"refitting {len(todo)} Pareto model(s) (trials "
              f"{', '.join(str(t.number) for t in todo)}) on every labelled image",
              markup=False, soft_wrap=True)
    progress.restart("refitting")
    failed = refit(study, todo, backend, output, progress.refit)
    if failed:
        err.print(f"--refit: {failed} refit(s) broke (reasons above); `--resume --refit` "
                  "runs them again", markup=False, soft_wrap=True)


def _start_params(space: Any, paths: list[str], epochs: int | None = None
                  ) -> list[dict[str, Any]]:
    """The trial parameters of each --start config (one-line error when one does not fit);
    a warning names the [train] values its trial does not train with."""
    from ebnn.config import loads_toml, read_toml_text
    from ebnn.search.space import SpaceError

    found = []
    for path in paths:
        try:
            config = loads_toml(read_toml_text(Path(path)))
            found.append(space.params_of(config, f"--start {path}"))
            _warn_not_taken(path, space.train_not_taken(config, found[-1], epochs))
        except OSError as exc:
            _fail(f"--start {path}: cannot read ({exc.strerror or exc})")
        except tomllib.TOMLDecodeError as exc:
            _fail(f"--start {path}: not valid TOML ({exc})")
        except SpaceError as exc:
            _fail(str(exc))
        except ValueError as exc:  # too long, not UTF-8
            _fail(f"--start {path}: cannot read ({exc})")
    return found


def _warn_not_taken(path: str, changed: list[tuple[str, Any, Any]]) -> None:
    """pareto.md says "Started from PATH": say which of its [train] values it is not."""
    if not changed:
        return
    err.print(f"warning: --start {path}: its [train] "
              f"{', '.join(f'{k} = {toml_value(a)}' for k, a, _ in changed)} "
              f"{'is' if len(changed) == 1 else 'are'} not what the search trains it with ("
              f"{', '.join(f'{k} = {toml_value(b)}' for k, _, b in changed)}: the space's "
              "value or the default); the space must draw or fix a value for it to be used",
              markup=False, soft_wrap=True)


# seconds without a line, outside a terminal, before the search says what it is doing
HEARTBEAT_SECONDS = 60.0


def _clock(seconds: float) -> str:
    """``3m12s``, ``1h04m``, ``45s``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class _Progress:
    """A live line on a terminal; one plain line per trial otherwise (logs, CI), and there a
    heartbeat after :data:`HEARTBEAT_SECONDS` without one (a trial trains for minutes: a CI
    log showed nothing but the banner), saying which trials train and the best so far."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.live = err.is_terminal
        self._progress: Any = None
        self._tally: Any = None
        self._last = time.monotonic()  # when a line was last printed
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def watch(self, tally: Any) -> None:
        """The search's tally, for the heartbeat (outside a terminal only)."""
        self._tally = tally
        if not self.live and self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, name="search-heartbeat",
                                          daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(max(0.01, min(HEARTBEAT_SECONDS, 5.0))):
            if time.monotonic() - self._last >= HEARTBEAT_SECONDS:
                self._print(self.heartbeat_line())

    def heartbeat_line(self) -> str:
        t = self._tally
        now = time.monotonic()
        of = f" of {self.total}" if self.total is not None else ""
        if t.training:
            nums = ", ".join(map(str, t.training[:4])) + (", ..." if len(t.training) > 4 else "")
            since = f" for {_clock(now - t.batch_started)}" if t.batch_started else ""
            doing = f"trial{'s' if len(t.training) > 1 else ''} {nums}{of} training{since}"
        else:
            doing = f"{t.done}{of} trials done, choosing the next"
        best = t.best
        final = (best or {}).get("final") or {}
        best_text = ("none yet" if best is None else
                     f"{100 * (best['val_accuracy'] or 0):.1f}%"
                     + (f" at {final['sram_peak']:,} B" if "sram_peak" in final else ""))
        return (f"search: {doing}, {_clock(now - t.started)} elapsed, best so far "
                f"{best_text}")

    def _print(self, line: str) -> None:
        self._last = time.monotonic()
        err.print(line, markup=False, soft_wrap=True)

    def __enter__(self) -> _Progress:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), console=err)
            self._progress.__enter__()
            self._task = self._progress.add_task("searching", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    def restart(self, what: str) -> None:
        """A new bar (the cross-validation's folds) under the trials' one."""
        if self._progress is not None:
            self._task = self._progress.add_task(what, total=None)

    def fold(self, o: Any, done: int, total: int) -> None:
        what = (f"{100 * o.accuracy:.2f}%" if o.accuracy is not None
                else f"failed: {o.reason}")
        self._step(f"{o.label}: {what} ({done}/{total} folds)", done, total,
                   f"cross-validating: {done}/{total} folds")

    def refit(self, o: Any, done: int, total: int) -> None:
        if o.status == "ok":
            test = "" if o.test_accuracy is None else f"{100 * o.test_accuracy:.2f}% test, "
            what = (f"{test}{o.final.sram_peak:,} B, {o.final.cycles:,} cycles "
                    f"(trained on {o.images:,} images)")
        else:
            what = f"{o.status}: {o.reason}"
        self._step(f"{o.label}: {what} ({done}/{total})", done, total,
                   f"refitting: {done}/{total}")

    def _step(self, line: str, done: int, total: int, description: str) -> None:
        """One fold or refit done: its line, and the bar moved on."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total,
                                  description=description)
            self._progress.console.print(line, markup=False, soft_wrap=True)
        else:
            self._print(line)

    def update(self, tally: Any) -> None:
        o = tally.last
        best = tally.best
        best_text = ("none yet" if best is None else
                     f"{100 * best['val_accuracy']:.2f}% (trial {best['number']}, "
                     f"{best['final']['sram_peak']:,} B, {best['final']['cycles']:,} cycles)")
        what = o.status if o.status != "ok" else (
            f"{100 * (o.val_accuracy or 0):.2f}%, {o.final.sram_peak:,} B, "
            f"{o.final.cycles:,} cycles" if o.final else "ok")
        if o.reason:
            what += f": {o.reason}"
        if tally.last_same_as is not None:  # not trained again: it counts once
            what = f"same as trial {tally.last_same_as} ({what})"
        pruned = f", pruned {tally.pruned}" if tally.pruned else ""
        summary = (f"done {tally.done}, rejected {tally.rejected}, failed {tally.failed}"
                   f"{pruned}; best {best_text}")
        if self._progress is not None:
            self._progress.update(self._task, completed=tally.done, description=summary)
            self._progress.console.print(f"trial {o.number}: {what}", markup=False,
                                         soft_wrap=True)
        else:
            self._print(f"trial {o.number}: {what} | {summary}")
