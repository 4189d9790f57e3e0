"""`ebnn search`: a tiny search end to end with both backends, resume, rejection before
training, and every reported model inside the budget in the simulator.

The toy space has a first conv of 2 or 4 filters (fits 2 KiB or not, depending on its stride
and pool) or 48 filters (over 2 KiB whatever the weights); 1 epoch on 300 images.
"""

import io
import json
import re
import shutil
import struct
import traceback
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import optuna
import pytest
import torch
from click.testing import CliRunner
from rich.console import Console

from ebnn import cli as ebnn_cli
from ebnn import reference
from ebnn.artifact import load as load_artifact
from ebnn.config import parse_config
from ebnn.data import load_dataset, split_train_val
from ebnn.export import export_checkpoint
from ebnn.search import command, crossval
from ebnn.search import outputs as outputs_mod
from ebnn.search import refit as refit_mod
from ebnn.search.backends import InProcess
from ebnn.search.crossval import FoldOutcome
from ebnn.search.datasets import load_search_data
from ebnn.search.measure import Budget, Firmware, Task, probe_lower_bounds, run_task
from ebnn.search.outputs import load_records
from ebnn.search.outputs import pareto as pareto_front
from ebnn.search.space import load_space
from ebnn.search.study import Driver, Settings, fitted, open_study
from ebnn.train import load_checkpoint, split_digest, train
from sim.cli import main as sim_main

TOY = """\
[model]
name = "toy"
input = [28, 28, 1]
classes = 10

[space]
blocks = [1, 2]
kinds = ["conv", "linear"]

[space.first]
filters = [2, 4, 48]
kernel = 3
stride = [1, 2]
pool = [1, 2]

[space.conv]
filters = [4, 8]
kernel = 3
pool = 2

[space.linear]
units = [16]

[space.train]
epochs = 3
lr = { low = 0.01, high = 0.05, log = true }
"""

TRIALS = 3
# 1 epoch on 300 training images (every class), a 2 KiB SRAM budget, batches of 2
ARGS = ("--sram", "2k", "--trials", TRIALS, "--epochs", "1", "--train-images", "300",
        "--batch", "2", "--seed", "3")


class Ran(NamedTuple):
    returncode: int
    stderr: str


def ebnn(*args: object, width: int = 100) -> Ran:
    """`ebnn ARGS` in this process, stderr captured as a pipe (plain progress lines)."""
    console = Console(stderr=True, highlight=False, color_system=None, width=width)
    with mock.patch.object(command, "err", console):
        res = CliRunner().invoke(ebnn_cli.main, [str(a) for a in args], env={"NO_COLOR": "1"})
    stderr = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        stderr += "".join(traceback.format_exception(res.exception))
    return Ran(res.exit_code, stderr)


def one_line_error(ran: Ran) -> str:
    assert ran.returncode == 2, ran.stderr
    lines = [ln for ln in ran.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), ran.stderr
    return lines[0]


def fresh(tmp: Path) -> Path:
    """An output folder whose hand-made models are already measured (none: the toy space's
    models are not comparable to them), so the tests do not spend time on them."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "handmade.json").write_text("[]\n")
    return tmp


@pytest.fixture(scope="module")
def space_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("space") / "toy.toml"
    path.write_text(TOY)
    return path


def write_idx(path: Path, array: np.ndarray) -> None:
    path.write_bytes(struct.pack(">HBB", 0, 0x08, array.ndim)
                     + struct.pack(f">{array.ndim}I", *array.shape)
                     + np.ascontiguousarray(array, np.uint8).tobytes())


@pytest.fixture(scope="module")
def test_dir(tmp_path_factory) -> Path:
    """A small test split in IDX files: 200 images of the bundled MNIST."""
    folder = tmp_path_factory.mktemp("idx")
    ds = load_dataset("mnist")
    write_idx(folder / "t10k-images-idx3-ubyte", ds.images[:200, :, :, 0])
    write_idx(folder / "t10k-labels-idx1-ubyte", ds.labels[:200])
    return folder


@pytest.fixture(scope="module")
def local(tmp_path_factory, space_file, test_dir) -> Path:
    out = fresh(tmp_path_factory.mktemp("local") / "s")
    ran = ebnn("search", space_file, *ARGS, "--jobs", "1", "--test-data-dir", test_dir,
               "-o", out)
    assert ran.returncode == 0, ran.stderr
    (out.parent / "stderr.txt").write_text(ran.stderr)
    return out


def outcomes(directory: Path) -> dict[int, dict]:
    study = optuna.load_study(study_name="ebnn-search",
                              storage=f"sqlite:///{directory / 'study.db'}")
    return {t.number: {"state": t.state.name, **t.user_attrs.get("outcome", {})}
            for t in study.get_trials()}


def essentials(directory: Path) -> list[tuple]:
    """What must not depend on the backend: per trial, its config and measurements."""
    return [(n, o["state"], o["config"], o["status"], o["val_accuracy"], o["final"], o["probe"])
            for n, o in sorted(outcomes(directory).items())]


def test_search_end_to_end(local, test_dir):
    test = load_dataset("mnist", data_dir=test_dir, split="test")
    test_images, test_labels = test.images, test.labels
    results = outcomes(local)
    assert len(results) == TRIALS
    assert all(o["state"] == "COMPLETE" for o in results.values())
    entries = json.loads((local / "pareto.json").read_text())
    assert entries, "no candidate fitted 2 KiB"
    for e in entries:
        for key in ("config", "ebnn", "elf", "val_accuracy", "sram_peak", "flash", "cycles",
                    "ms"):
            assert key in e
        # the test split's accuracy is the reference's (the firmware's, bit for bit)
        ref = reference.run(load_artifact(local / e["ebnn"]), test_images)
        assert e["test_accuracy"] == np.mean(ref.classes == test_labels)
        for key in ("toml", "pt", "ebnn", "elf"):
            assert (local / e[key]).is_file()
        assert e["sram_peak"] <= 2048
        assert e["ms"] == pytest.approx(e["cycles"] / 32e3)
    table = (local / "pareto.md").read_text()
    assert all(e["name"] in table for e in entries)
    assert (local / "pareto.png").stat().st_size > 10_000
    # the probe's lower bounds (its figures less the slacks, docs/search.md) are under the
    # trained model's figures
    trained = [o for o in results.values() if o["final"] is not None]
    assert trained
    assert any(o["status"] == "rejected" and not o["trained"] for o in results.values())
    # progress: one plain line per trial when stderr is not a terminal
    log = (local.parent / "stderr.txt").read_text()
    assert f"done {TRIALS}, rejected " in log
    assert sum(line.startswith("trial ") for line in log.splitlines()) == TRIALS
    for o in trained:
        bound = probe_lower_bounds(Firmware(**o["probe"]))
        assert bound.sram_peak <= o["final"]["sram_peak"]
        assert bound.flash <= o["final"]["flash"]
        assert bound.cycles <= o["final"]["cycles_min"]


def test_every_reported_model_runs_inside_the_budget(local, tmp_path):
    """`ebnn-sim run ELF --sram 2k`, as a user would check it."""
    entries = json.loads((local / "pareto.json").read_text())
    for e in entries:
        report = tmp_path / f"{e['name']}.json"
        res = CliRunner().invoke(sim_main, ["run", str(local / e["elf"]), "--sram", "2k",
                                            "--json", str(report)])
        assert res.exit_code == 0, res.output
        measured = json.loads(report.read_text())
        assert measured["sram"]["size"] == 2048
        assert measured["sram"]["peak"] == e["sram_peak"] <= 2048


def test_over_budget_is_rejected_before_training(tmp_path):
    space = load_space_text(tmp_path)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    big = {"model": {"name": "big", "input": [28, 28, 1], "classes": 10,
                     "layers": [{"type": "conv", "filters": 48, "kernel": 3}]},
           "train": {"epochs": 1}}
    with mock.patch("ebnn.train.train", side_effect=AssertionError("trained")) as train:
        out = run_task(Task(0, big, Budget("curie", 1024, 200_000, None, 32_000_000)), data)
    assert out.status == "rejected" and out.reason.startswith("before training: SRAM ")
    assert not out.trained and out.final is None and not out.files
    assert out.probe is not None and out.probe.sram_peak > 1024
    train.assert_not_called()


@pytest.mark.parametrize(("flash", "words"), [
    (100_000, "> 100,000 B (the linker)"),
    (10_000_000, "> curie's 200,704 B (the linker)"),  # a budget above the part's flash
])
def test_a_candidate_over_the_flash_is_rejected_in_one_line(tmp_path, flash, words):
    """The probe's firmware does not link: the rejection says how much flash it needs, in the
    budget's words, on one line (not the linker's lines)."""
    space = load_space_text(tmp_path)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    wide = {"model": {"name": "wide", "input": [28, 28, 1], "classes": 10,
                      "layers": [{"type": "conv", "filters": 4, "kernel": 4, "stride": 2},
                                 {"type": "linear", "units": 3072}]},  # 676 x 3072 bits
            "train": {"epochs": 1}}
    with mock.patch("ebnn.train.train", side_effect=AssertionError("trained")) as train:
        out = run_task(Task(0, wide, Budget("curie", 15360, flash, None, 32_000_000)), data)
    assert out.status == "rejected" and "\n" not in out.reason
    need = int(out.reason.split("flash ")[1].split(" B")[0].replace(",", ""))
    assert out.reason == f"before training: flash {need:,} B {words}"
    assert need > 676 * 3072 // 8 > 200_704
    train.assert_not_called()


def test_a_build_failure_is_one_line_with_its_first_error():
    from ebnn.search.measure import _first_error

    gcc = ("compilation failed:\n/tmp/x/ebnn.c: In function 'f':\n"
           "/tmp/x/ebnn.c:3:5: error: unused variable 'y' [-Werror=unused-variable]\n"
           "    3 |     int y;\n      |         ^\ncc1: all warnings being treated as errors")
    assert _first_error(gcc) == ("/tmp/x/ebnn.c:3:5: error: unused variable 'y' "
                                 "[-Werror=unused-variable] (+4 more lines)")
    assert _first_error("source file not found: x.c") == "source file not found: x.c"


def load_space_text(tmp_path: Path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY)
    return load_space(path)


def test_ray_backend_gives_the_same_results(local, cv, refitted, space_file, test_dir,
                                            tmp_path):
    out = fresh(tmp_path / "ray")
    ran = ebnn("search", space_file, *ARGS, "--jobs", "2", "--backend", "ray",
               "--test-data-dir", test_dir, "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert essentials(out) == essentials(local)
    assert pareto(out) == pareto(local)
    # the folds of --cv and the refits are Ray tasks too, with the same results
    ran = ebnn("search", "-o", out, "--resume", *CV, "--jobs", "2", "--backend", "ray")
    assert ran.returncode == 0, ran.stderr
    assert pareto(out) == pareto(cv)
    ran = ebnn("search", "-o", out, "--resume", "--refit", "--jobs", "2", "--backend", "ray")
    assert ran.returncode == 0, ran.stderr
    assert pareto(out) == pareto(refitted)


def pareto(directory: Path) -> list[dict]:
    """pareto.json without the wall times (the candidates' and their refits')."""
    return [{k: v if k != "refit" or v is None else {**v, "seconds": None} if "seconds" in v
             else v for k, v in e.items() if k != "seconds"}
            for e in json.loads((directory / "pareto.json").read_text())]


class StopAfterFirst(InProcess):
    """Tells one outcome, then the run is interrupted (as by Ctrl-C) before the next."""

    def run_batch(self, tasks, done):
        done(run_task(tasks[0], self._data))
        raise KeyboardInterrupt


def local_again(local: Path, space_file: Path, out: Path, backend: type[InProcess]) -> Driver:
    """A driver of the search the CLI started in `local`, writing to ``out``, on ``backend``."""
    settings = Settings.load(local)
    settings.save(out)
    space = load_space(space_file)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    study = open_study(out, settings, create=True)
    return Driver(out, settings, space, study, backend(data), data)


def test_resume_after_an_interrupted_run(local, space_file, tmp_path):
    out = fresh(tmp_path / "resumed")
    # the search the CLI started in `local`, interrupted inside its first batch
    driver = local_again(local, space_file, out, StopAfterFirst)
    with pytest.raises(KeyboardInterrupt):
        driver.run(TRIALS, None)
    states = {n: o["state"] for n, o in outcomes(out).items()}
    assert "RUNNING" in states.values()
    running = list(states.values()).count("RUNNING")
    shown = ebnn("search", "--report", out)  # the totals count them apart
    assert f"failed, {running} unfinished" in shown.stderr, shown.stderr
    assert f"{running} unfinished;" in (out / "pareto.md").read_text()
    ran = ebnn("search", "-o", out, "--resume", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    # nothing lost, nothing run twice, and the same study as the uninterrupted search
    assert essentials(out) == essentials(local)


@pytest.mark.parametrize("options", [(), ("--no-cycles-objective", "--no-sram-objective"),
                                     ("--multivariate",)])
def test_a_trial_interrupted_while_it_is_proposed_is_proposed_again(local, space_file,
                                                                    tmp_path, options):
    """Ctrl-C after a trial was asked and had drawn a parameter, before its config was
    recorded: --resume proposes it again as it was (not failed, not lost from --trials, not a
    different config from the parameter it had drawn), and the study is the uninterrupted one.
    One objective and --multivariate make TPE multivariate, whose search space keeps to the
    first study it sees (one sampler for the study in memory and the real one: a traceback)."""
    if options:  # the uninterrupted search with these options
        local = fresh(tmp_path / "whole")
        ran = ebnn("search", space_file, *ARGS, *options, "--jobs", "1", "-o", local)
        assert ran.returncode == 0, ran.stderr
    out = fresh(tmp_path / "asked")
    driver = local_again(local, space_file, out, InProcess)
    suggest = optuna.trial.Trial._suggest
    drawn = []

    def interrupted(trial, name, distribution):
        if trial.number == 1:
            drawn.append(name)
            if len(drawn) == 2:
                raise KeyboardInterrupt
        return suggest(trial, name, distribution)

    with mock.patch.object(optuna.trial.Trial, "_suggest", interrupted), \
            pytest.raises(KeyboardInterrupt):
        driver.run(TRIALS, None)
    asked = optuna.load_study(study_name="ebnn-search",
                              storage=f"sqlite:///{out / 'study.db'}").trials[1]
    assert asked.state.name == "RUNNING" and "config" not in asked.user_attrs
    assert list(asked.params) == drawn[:1]
    ran = ebnn("search", "-o", out, "--resume", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert essentials(out) == essentials(local)
    assert f"{TRIALS} trials:" in ran.stderr and "0 failed" in ran.stderr


@pytest.mark.parametrize("full", ["files", "study"])
def test_a_full_disk_stops_the_search_in_one_line_and_resume_goes_on(local, space_file,
                                                                     tmp_path, full):
    """No space left for the model files of trial 1 and every later one (nor for the report),
    or for the study's database once: the search stops with one line saying what could not be
    written and how to go on, exit 1 (it printed a traceback; then two lines and exit 2 when
    the report did not fit either), the finished trials kept, and --resume gives the
    uninterrupted study once there is room again."""
    import contextlib
    import errno
    import sqlite3
    import warnings

    from ebnn.search import study as study_mod

    out = fresh(tmp_path / full)
    if full == "files":
        write = study_mod.write_atomically

        def no_room(path, data):
            if path.parent.name >= "00001":
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            write(path, data)

        def no_room_left(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        patches = [mock.patch.object(study_mod, "write_atomically", no_room),
                   mock.patch.object(outputs_mod, "write_report", no_room_left)]
        words = f"cannot write {out}/trials/00001/"
    else:
        tell = optuna.study.Study.tell

        def no_room(study, trial, *args, **kwargs):
            if getattr(trial, "number", trial) == 1:
                raise optuna.exceptions.StorageInternalError(
                    "An exception is raised during the commit.") from sqlite3.OperationalError(
                    "database or disk is full")
            return tell(study, trial, *args, **kwargs)

        patches = [mock.patch.object(optuna.study.Study, "tell", no_room)]
        words = f"cannot write the study in {out}/study.db (database or disk is full)"
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        ran = ebnn("search", space_file, *ARGS, "--jobs", "1", "-o", out)
    assert ran.returncode == 1 and "Traceback" not in ran.stderr, ran.stderr
    errors = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], ran.stderr
    assert errors[0].endswith(f"continue with `ebnn search -o {out} --resume`")
    assert outcomes(out)[0]["state"] == "COMPLETE"
    # the report, where it fitted
    assert ("the report was not written either" in errors[0]) == (full == "files")
    assert (out / "pareto.json").is_file() == (full == "study")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = ebnn("search", "-o", out, "--resume", "--jobs", "1")
    assert again.returncode == 0, again.stderr
    assert essentials(out) == essentials(local)
    # trial 1's constraints, recorded before its tell failed, are not set again noisily
    assert not [w for w in caught if "is ignored because" in str(w.message)]


def test_a_study_that_cannot_be_created_on_a_full_disk_says_so(space_file, tmp_path):
    """Optuna's own text ("invalid data in the commit, e.g. exceeding max length") hid SQLite's
    "database or disk is full", and no --resume was named (running the command again is
    refused: the folder holds the search's settings)."""
    import sqlite3

    def full(*args, **kwargs):
        raise optuna.exceptions.StorageInternalError(
            "An exception is raised during the commit.") from sqlite3.OperationalError(
            "database or disk is full")

    out = fresh(tmp_path / "s")
    with mock.patch.object(optuna, "create_study", full):
        line = one_line_error(ebnn("search", space_file, *ARGS, "-o", out))
    assert line == (f"error: {out}/study.db: cannot be written (database or disk is full): make "
                    f"room, then continue with `ebnn search -o {out} --resume`")
    again = ebnn("search", "-o", out, "--resume", "--trials", "1", "--jobs", "1")
    assert again.returncode in (0, 3) and len(outcomes(out)) == 1, again.stderr  # it ran


def test_a_search_whose_folder_is_removed_says_so_and_writes_nothing(space_file, tmp_path):
    """The folder removed under a running search: it cannot be resumed, so it is not said to
    be, and nothing is written into a folder made again (trial files, the report)."""
    from ebnn.search import study as study_mod

    out = fresh(tmp_path / "gone")
    write = study_mod.write_trial_files

    def removed(directory, o):
        if o.number == 1:
            shutil.rmtree(directory)
        write(directory, o)

    with mock.patch.object(study_mod, "write_trial_files", removed):
        ran = ebnn("search", space_file, *ARGS, "--jobs", "1", "-o", out)
    assert ran.returncode == 1, ran.stderr
    errors = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: the search's folder {out} was removed while it ran: its study "
                      "is gone; start the search again"], ran.stderr
    assert not out.exists()


def test_report_rerenders(local):
    before = (local / "pareto.json").read_text()
    (local / "pareto.json").unlink()
    ran = ebnn("search", "--report", local, width=80)
    assert ran.returncode == 0, ran.stderr
    assert (local / "pareto.json").read_text() == before
    # Issue 16: a CI log's 80 columns; no line is cut there (the line naming the report, or a
    # longer result line, runs longer, whole: review L3); this search's other lines fit
    lines = ran.stderr.splitlines()
    assert f"Pareto set of {len(json.loads(before))}: {local / 'pareto.md'}" in lines
    assert all(len(line) <= 80 for line in lines if not line.startswith("Pareto set")), lines


@pytest.mark.parametrize(("args", "words"), [
    (("-o", "{tmp}/none", "--resume"), "none: no such folder (no search there)"),
    (("{space}", "-o", "{tmp}/x", "--time", "2x"), "--time '2x'"),
    (("-o", "{tmp}/x"), "give the SPACE.toml"),
    (("{space}",), "with -o DIR"),
    (("--report", "{local}", "-o", "{local}"), "no -o or --resume with it"),
    (("{tmp}/missing.toml", "-o", "{tmp}/x"), "no such file"),
    (("{local}/search.json", "-o", "{tmp}/x"), "not valid TOML"),
    (("{space}", "-o", "{local}"), "holds a search already"),
    (("-o", "{local}", "--resume", "--sram", "1k"), "--sram differs from the search in this folder "
     "(it ran with 2048)"),
    (("-o", "{local}", "--resume", "--target", "stm32l031"), "--target differs"),
    (("--report", "{local}", "--target", "stm32l031"), "--target differs"),
    (("-o", "{local}", "--resume", "--train-images", "200"), "--train-images differs from the "
     "search in this folder (it ran with 300)"),
    (("-o", "{local}", "--resume", "--no-cycles-objective"),
     "--cycles-objective/--no-cycles-objective differs from the search in this folder (it ran "
     "with --cycles-objective)"),
    (("-o", "{local}", "--resume", "--prune"), "--prune differs from the search in this folder "
     "(it ran without --prune)"),
    (("-o", "{local}", "--resume", "--multivariate"), "--multivariate differs"),
    (("-o", "{local}", "--resume", "--startup", "20"), "--startup differs"),
    (("{space}", "-o", "{tmp}/x", "--address", "a:1"), "--address is for --backend ray"),
    (("-o", "{local}", "--resume", "--cv-race"), "give --cv K too"),
    (("-o", "{local}", "--resume", "--cv-folds", "3"), "--cv-folds is the folds of --cv K"),
    (("{space}", "-o", "{tmp}/x", "--max-ms", "nan"), "--max-ms nan: give a finite number"),
    (("{space}", "-o", "{tmp}/x", "--max-ms", "inf"), "--max-ms inf: give a finite number"),
    (("{space}", "-o", "{tmp}/x", "--max-ms", "1e-9"), "less than one cycle"),
    (("{space}", "-o", "{tmp}/x", "--sram", "0"), "--sram 0: a budget must be more than 0"),
    (("{space}", "-o", "{tmp}/x", "--sram", "2"), "--sram 2 B: less than any firmware's own "
     "start-up code and stack take (did you mean 2k?)"),
    (("{space}", "-o", "{tmp}/x", "--time", "inf"), "must be a finite duration"),
    (("{space}", "-o", "{tmp}/x", "--sram", "1024M"), "more than the Cortex-M memory map"),
    (("--report", "{local}", "--trials", "9"), "--trials, --time, --jobs and --backend run one"),
    (("--report", "{local}", "--backend", "ray"), "--trials, --time, --jobs and --backend"),
    (("/dev/zero", "-o", "{tmp}/x"), "far more than a config holds"),
    (("{space}", "-o", "{tmp}/x", "--flash", "0"), "--flash 0: a budget must be more than 0"),
])
def test_user_mistakes_are_one_line(local, space_file, tmp_path, args, words):
    args = [a.format(tmp=tmp_path, space=space_file, local=local) for a in args]
    assert words in one_line_error(ebnn("search", *args))


def test_a_report_or_resume_of_no_folder_and_a_model_config_as_space_say_so(tmp_path):
    """Review L6: 'no search here (search.json is missing)' for a folder that does not exist;
    'unknown table(s) train' for a model config given as the space."""
    for args in (("--report", tmp_path / "none"), ("-o", tmp_path / "none", "--resume")):
        assert f"{tmp_path / 'none'}: no such folder (no search there)" in one_line_error(
            ebnn("search", *args))
    config = tmp_path / "m.toml"
    config.write_text('[model]\nname = "m"\ninput = [8, 8, 1]\nclasses = 2\n[[model.layers]]\n'
                      'type = "conv"\nfilters = 2\n[train]\nepochs = 1\n')
    assert ("this is a model config (ebnn train CONFIG), not a search space" in one_line_error(
        ebnn("search", config, "-o", tmp_path / "s")))


def test_search_with_nothing_given_shows_its_usage():
    ran = ebnn("search")
    assert ran.returncode == 2 and re.match(r"Usage: \S+ search \[OPTIONS\] \[SPACE\]", ran.stderr)


def test_a_finished_search_resumed_says_no_new_trial_and_not_searching(local, tmp_path):
    """'no new trial', then the 'searching curie ...' banner, read as if it searched after all
    (review L8)."""
    out = tmp_path / "s"
    shutil.copytree(local, out)
    ran = ebnn("search", "-o", out, "--resume", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    text = " ".join(ran.stderr.split())
    assert "the --trials 3 it was last given: no new trial (a larger --trials goes on)" in text
    assert "searching" not in text and "Pareto set of " in text
    assert len(study_of(out).trials) == TRIALS


def test_the_default_trials_cap_no_later_time(local, tmp_path):
    """A search given no --trials keeps none: the default caps a plain --resume, not a later
    --resume --time (which goes on until its time is up)."""
    out = tmp_path / "s"
    shutil.copytree(local, out)
    path = out / "search.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "trials": None}))
    with mock.patch.object(command, "DEFAULT_TRIALS", TRIALS):  # the study holds as many
        ran = ebnn("search", "-o", out, "--resume", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert "the --trials 3 of the default: no new trial" in " ".join(ran.stderr.split())
    assert json.loads(path.read_text())["trials"] is None
    ran = ebnn("search", "-o", out, "--resume", "--time", "1s", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert len(study_of(out).trials) > TRIALS


def test_a_damaged_study_is_one_line_and_not_replaced(local, space_file, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    db = out / "study.db"
    db.write_bytes(b"garbage" * 100)
    for args in (("--report", out), ("-o", out, "--resume")):
        assert "study.db: not a readable study" in one_line_error(ebnn("search", *args))
    assert db.read_bytes() == b"garbage" * 100
    db.unlink()  # the study gone, its trials still there: nothing is made up in its place
    for args in (("--report", out), ("-o", out, "--resume")):
        assert ("study.db: missing: the study (every outcome) is gone; start the search again"
                in one_line_error(ebnn("search", *args)))
    assert not db.exists()
    # and a new search does not write over the trials and settings left
    before = (out / "search.json").read_text()
    assert "holds a search already" in one_line_error(ebnn("search", space_file, "-o", out))
    assert (out / "search.json").read_text() == before


def test_a_backend_that_cannot_start_leaves_no_search_behind(space_file, tmp_path):
    out = tmp_path / "s"
    line = one_line_error(ebnn("search", space_file, *ARGS, "-o", out, "--backend", "ray",
                               "--address", "::garbage::"))
    assert "cannot start or reach ::garbage::" in line
    assert not out.exists()  # so the same command with a good address starts it, no --resume


def test_ctrl_c_while_the_outputs_are_written_says_how_to_write_them(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    with mock.patch.object(outputs_mod, "write_report", side_effect=KeyboardInterrupt):
        ran = ebnn("search", "--report", out)
    assert ran.returncode == command.EXIT_INTERRUPTED, ran.stderr
    assert f"`ebnn search --report {out}` writes them" in " ".join(ran.stderr.split())
    assert ebnn("search", "--report", out).returncode == 0


def test_a_model_file_gone_from_trials_is_named_and_the_outputs_stay(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    best = json.loads((out / "pareto.json").read_text())[0]
    gone = out / "trials" / f"{best['trial']:05d}" / "model.elf"
    gone.unlink()
    before = {p.name: p.read_bytes() for p in (out / "pareto").iterdir()}
    line = one_line_error(ebnn("search", "--report", out))
    assert f"{gone} is missing" in line
    assert {p.name: p.read_bytes() for p in (out / "pareto").iterdir()} == before
    assert not (out / "pareto.new").exists()


def test_a_report_leaves_the_users_files_in_pareto(local, tmp_path):
    """pareto/ is the natural place for a library exported from a Pareto model, or notes:
    a report (or resume) removes only the search's own files there that are no longer in the
    Pareto set (a link of that name, not what it points to)."""
    out = tmp_path / "s"
    shutil.copytree(local, out)
    folder = out / "pareto"
    (folder / "NOTES.md").write_text("my notes\n")
    (folder / "lib").mkdir()
    (folder / "lib" / "model.c").write_text("int x;\n")
    (folder / "toy-t00001-stream-src").mkdir()  # `ebnn build --stream -o pareto/...elf`'s
    (folder / "toy-t00001-stream.elf").write_bytes(b"elf")
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"keep me")
    (folder / "mine.bin").symlink_to(outside)
    (folder / "toy-t00097.ebnn").write_bytes(b"stale")  # an earlier report's, now beaten
    (folder / "toy-t00098-refit.pt").symlink_to(outside)
    ran = ebnn("search", "--report", out)
    assert ran.returncode == 0, ran.stderr
    assert (folder / "NOTES.md").read_text() == "my notes\n"
    assert (folder / "lib" / "model.c").read_text() == "int x;\n"
    assert (folder / "toy-t00001-stream-src").is_dir()
    assert (folder / "toy-t00001-stream.elf").read_bytes() == b"elf"
    assert (folder / "mine.bin").is_symlink() and (folder / "mine.bin").read_bytes() == b"keep me"
    assert not (folder / "toy-t00097.ebnn").exists()
    assert not (folder / "toy-t00098-refit.pt").is_symlink()
    assert outside.read_bytes() == b"keep me"
    entries = json.loads((out / "pareto.json").read_text())
    models = {Path(e[s]).name: out / "trials" / f"{e['trial']:05d}" / f"model.{s}"
              for e in entries for s in ("toml", "pt", "ebnn", "elf")}
    users = {"NOTES.md", "lib", "toy-t00001-stream-src", "toy-t00001-stream.elf", "mine.bin"}
    assert {p.name for p in folder.iterdir()} == set(models) | users
    assert all((folder / name).read_bytes() == src.read_bytes() for name, src in models.items())
    assert not (out / "pareto.new").exists()


@pytest.mark.parametrize("n", [5, 7])
def test_the_console_says_how_many_pareto_models_it_does_not_list(tmp_path, n):
    """It said "Pareto set of 6" and listed five (review L1)."""
    console = Console(file=io.StringIO(), width=200, color_system=None, highlight=False)
    names = [f"m-t{i:05d}" for i in range(n)]
    entries = [{"name": name, "val_accuracy": 0.5, "sram_peak": 100, "cycles": 1000, "ms": 0.1}
               for name in names]
    summary = outputs_mod.Summary(trials=n, trained=n, rejected=0, rejected_before_training=0,
                                  failed=0, running=0, seconds=1.0)
    with mock.patch.object(command, "err", console):
        command._print_result(tmp_path, entries, summary)
    lines = console.file.getvalue().splitlines()
    assert lines[1] == f"Pareto set of {n}: {tmp_path / 'pareto.md'}"
    assert [ln.split(":")[0].strip() for ln in lines[2:7]] == names[:5]
    assert lines[7:] == ([] if n == 5 else [f"  ... and {n - 5} more (pareto.md)"])


def test_the_result_lines_are_not_wrapped_outside_a_terminal(tmp_path):
    """A log's result lines were cut at 80 columns ("... (2.23\nms)", review L3)."""
    console = Console(file=io.StringIO(), width=40, color_system=None, highlight=False)
    entry = {"name": "basicmotions-search-t00000", "val_accuracy": 0.875, "sram_peak": 992,
             "cycles": 71406, "ms": 2.23, "cv_accuracy": 0.8,
             "refit": {"train_images": 1000, "status": "ok", "test_accuracy": 0.9,
                       "sram_peak": 992, "cycles": 71406, "ms": 2.23}}
    summary = outputs_mod.Summary(trials=12, trained=10, rejected=1, rejected_before_training=1,
                                  failed=1, running=0, seconds=1.0, pruned=2, copies=1)
    with mock.patch.object(command, "err", console):
        command._print_result(tmp_path / ("long" * 10), [entry], summary)
    assert console.file.getvalue().splitlines() == [
        "12 trials: 10 trained, 1 rejected (1 before training), 1 failed, 2 pruned, 1 copy of "
        "an earlier trial",
        f"Pareto set of 1: {tmp_path / ('long' * 10) / 'pareto.md'}",
        "  basicmotions-search-t00000: 87.50% validation (80.00% cross-validated), 992 B SRAM, "
        "71,406 cycles (2.23 ms)",
        "    refit on 1,000 images: 90.00% test, 992 B SRAM, 71,406 cycles (2.23 ms)"]


def test_a_copy_of_an_earlier_trial_is_marked_and_counted(tmp_path):
    """A config proposed again is told its earlier outcome: its progress line looked like a
    new result, and the totals left it out ("6 trials: 1 trained, 4 rejected, 0 failed",
    review L2)."""
    from ebnn.search.measure import Outcome

    settings = Settings(space="", target="curie", sram=2048, flash=65536, max_cycles=None,
                        clock_hz=32_000_000, minimize_sram=False, minimize_cycles=False)
    study = open_study(tmp_path, settings, create=True)
    console = Console(file=io.StringIO(), width=300, color_system=None, highlight=False)
    with mock.patch.object(command, "err", console):
        progress = command._Progress(None)
        driver = Driver(tmp_path, settings, None, study, None, None,  # type: ignore[arg-type]
                        progress.update)
        fw = Firmware(1000, 4000, 9000, 9000.0, 9000)
        config = {"model": {"name": "c"}, "train": {"epochs": 4}}
        driver.tell(study.ask(), Outcome(0, "ok", probe=fw, final=fw, trained=True,
                                         val_accuracy=0.5), config)
        driver.tell(study.ask(), Outcome(1, "rejected", "SRAM over", probe=fw), {"x": 1})
        assert driver._copy_seen(study.ask(), config)
    lines = console.file.getvalue().splitlines()
    assert lines[2].startswith("trial 2: same as trial 0 (50.00%, 1,000 B, 9,000 cycles) |")
    assert not lines[0].startswith("trial 0: same")
    _, summary = load_records(study)
    assert summary.line() == ("3 trials: 1 trained, 1 rejected (1 before training), 0 failed, "
                              "1 copy of an earlier trial")


def test_an_empty_pareto_set_of_an_interrupted_search_does_not_blame_the_budget():
    """Interrupted before any trial finished, pareto.md said that no candidate was trained
    within the budget (review L9)."""
    settings = Settings(space="", target="curie", sram=2048, flash=65536, max_cycles=None,
                        clock_hz=32_000_000)

    def text(reasons: list[str], **counts: int) -> str:
        summary = outputs_mod.Summary(**{"trials": 0, "trained": 0, "rejected": 0,
                                         "rejected_before_training": 0, "failed": 0,
                                         "running": 0, "seconds": 0.0, **counts})
        return outputs_mod.markdown(settings, [], summary, [], reasons)

    assert ("No model in the Pareto set yet: no trial finished before the search was "
            "interrupted (2 unfinished: `ebnn search -o DIR --resume` runs them).") in text(
        [], trials=2, running=2)
    assert ("No model in the Pareto set: no candidate was trained within the budget (most "
            "common reasons: 2 x SRAM over; 1 unfinished: `ebnn search -o DIR --resume` runs "
            "them).") in text(["2 x SRAM over"], trials=3, running=1, rejected=2,
                              rejected_before_training=2)
    assert ("No model in the Pareto set: no candidate was trained within the budget (most "
            "common reasons: 2 x SRAM over).") in text(["2 x SRAM over"], trials=2, rejected=2,
                                                       rejected_before_training=2)


def test_a_folder_where_a_pareto_model_goes_is_one_line(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    first = out / json.loads((out / "pareto.json").read_text())[0]["ebnn"]
    first.unlink()
    first.mkdir()
    (first / "x").write_text("mine")
    line = one_line_error(ebnn("search", "--report", out))
    assert f"{first} is a folder: a Pareto model's file goes there" in line
    assert (first / "x").read_text() == "mine"


@pytest.mark.parametrize(("edit", "words"), [
    ({"target": "foo"}, "unknown target 'foo'"),
    ({"sram": "2k"}, "sram = '2k' is not int"),
    ({"minimize_cycles": False}, "not the same search's"),  # another search's settings
])
def test_a_hand_edited_settings_file_is_one_line(local, tmp_path, edit, words):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    path = out / "search.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    before = len(study_of(out).trials)
    for args in (("--report", out), ("-o", out, "--resume", "--trials", "9")):
        assert words in one_line_error(ebnn("search", *args))
    assert len(study_of(out).trials) == before


def test_resume_takes_the_space_with_other_comments(local, space_file, tmp_path):
    other = tmp_path / "space.toml"
    other.write_text("# the same space, commented\n" + space_file.read_text() + "\n# end\n")
    out = tmp_path / "s"
    shutil.copytree(local, out)
    ran = ebnn("search", other, "-o", out, "--resume", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert essentials(out) == essentials(local)


def test_a_search_stopped_before_its_study_was_stored_resumes(local, tmp_path):
    """Ctrl-C in the first second can leave search.json and no study: --resume starts it."""
    out = tmp_path / "s"
    out.mkdir()
    shutil.copy(local / "search.json", out / "search.json")
    # a report only reads: it says how to go on, and makes no study
    assert "--resume starts it" in one_line_error(ebnn("search", "--report", out))
    assert not (out / "study.db").exists()
    ran = ebnn("search", "-o", out, "--resume", "--trials", "1", "--jobs", "1")
    assert len(study_of(out).trials) == 1 and (out / "pareto.json").exists()
    fitted = json.loads((out / "pareto.json").read_text())  # its one trial may not fit: exit 3
    assert ran.returncode == (0 if fitted else command.EXIT_EMPTY), ran.stderr


# -- --cv: the best candidates re-ranked by cross-validation -----------------------------------

CV = ("--cv", "2", "--cv-folds", "2")


@pytest.fixture(scope="module")
def cv(local, tmp_path_factory) -> Path:
    """The `local` search, then `--resume --cv 2 --cv-folds 2` (no new trials: folds only)."""
    out = tmp_path_factory.mktemp("cv") / "s"
    shutil.copytree(local, out)
    ran = ebnn("search", "-o", out, "--resume", *CV, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    (out.parent / "stderr.txt").write_text(ran.stderr)
    return out


def study_of(directory: Path):
    return optuna.load_study(study_name="ebnn-search",
                             storage=f"sqlite:///{directory / 'study.db'}")


def test_cv_reranks_the_most_accurate_by_their_folds(local, cv):
    assert essentials(cv) == essentials(local)  # no trial was added or changed
    records, summary = load_records(study_of(cv))
    top = crossval.shortlist(records, 2)
    assert len(top) == 2
    entries = {e["trial"]: e for e in json.loads((cv / "pareto.json").read_text())}
    for r in records:
        folds = r["cv_folds"]
        if r["number"] in {t["number"] for t in top}:
            assert len(folds) == 2 and all(0 <= a <= 1 for a in folds)
            assert r["cv_accuracy"] == pytest.approx(np.mean(folds))
            if r["number"] in entries:
                e = entries[r["number"]]
                assert e["accuracy"] == e["cv_accuracy"] == r["cv_accuracy"]
        else:
            assert folds == [] and r["cv_accuracy"] is None
    # listed cross-validated first, by that accuracy
    listed = json.loads((cv / "pareto.json").read_text())
    tiers = [e["cv_accuracy"] is None for e in listed]
    assert tiers == sorted(tiers)
    scored = [e["cv_accuracy"] for e in listed if e["cv_accuracy"] is not None]
    assert scored == sorted(scored, reverse=True)
    table = (cv / "pareto.md").read_text()
    assert "| cv accuracy |" in table
    assert "2 of the 2 most accurate on validation, 2 folds" in table
    # the folds' time is part of the search's wall time
    assert summary.seconds > load_records(study_of(local))[1].seconds
    assert f"{summary.seconds / 60:.1f} min with a trial, fold or refit running" in table
    log = (cv.parent / "stderr.txt").read_text()
    assert "cross-validating 2 candidate(s)" in log and "2 folds each: 4 to run" in log
    assert "(4/4 folds)" in log


@pytest.mark.parametrize("again", [CV, CV[:2]], ids=["same-folds", "folds-left-out"])
def test_cv_again_on_a_cross_validated_search_says_every_fold_ran(cv, tmp_path, again):
    """Without --cv-folds, --resume takes the last run's (2 here, not the default 5)."""
    out = tmp_path / "s"
    shutil.copytree(cv, out)
    runs = InterruptAfter(None)
    with mock.patch.object(crossval, "run_fold", runs):
        ran = ebnn("search", "-o", out, "--resume", *again, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert runs.calls == 0
    assert "every one of their 2 folds has run" in ran.stderr
    assert "cross-validating" not in ran.stderr
    assert pareto(out) == pareto(cv)


def test_a_fold_is_the_config_trained_without_it_and_scored_on_it(cv):
    """Fold 2 of the best candidate, computed again by hand: the stored accuracy is its."""
    settings = Settings.load(cv)
    space = load_space_text(cv.parent)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    records, _ = load_records(study_of(cv))
    best = crossval.shortlist(records, 1)[0]
    pool = crossval.pool_of(data, settings.train_limit)
    limit = settings.train_limit
    assert np.array_equal(pool.images, np.concatenate([data.train.sample(limit).images,
                                                       data.val.images]))
    assert np.array_equal(pool.labels, np.concatenate([data.train.sample(limit).labels,
                                                       data.val.labels]))
    which = crossval.fold_of(pool.labels, 2, space.seed)
    held = which == 1
    spec = parse_config(best["config"], "best")
    pt = cv.parent / "fold.pt"
    train(spec, replace(pool, images=pool.images[~held], labels=pool.labels[~held]),
          replace(pool, images=pool.images[held], labels=pool.labels[held]), pt)
    art = export_checkpoint(load_checkpoint(pt))
    accuracy = np.mean(reference.run(art, pool.images[held]).classes == pool.labels[held])
    assert best["cv_folds"][1] == accuracy


RUN_FOLD = crossval.run_fold
RUN_TEACHER_FOLD = crossval.run_teacher_fold


class InterruptAfter:
    """``run`` (run_fold by default) that runs ``n`` tasks, then is interrupted (as by
    Ctrl-C); counts its calls."""

    def __init__(self, n: int | None, run=RUN_FOLD) -> None:
        self.n, self.calls, self.run = n, 0, run

    def __call__(self, task, data):
        self.calls += 1
        if self.n is not None and self.calls > self.n:
            raise KeyboardInterrupt
        return self.run(task, data)


def test_resume_with_time_keeps_the_trials_last_given(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    ran = ebnn("search", "-o", out, "--resume", "--time", "1h", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert (f"the study holds {TRIALS} trial(s), the --trials {TRIALS} it was last given: no "
            "new trial") in " ".join(ran.stderr.split())
    assert essentials(out) == essentials(local)
    assert json.loads((out / "search.json").read_text())["trials"] == TRIALS


def test_cv_resumes_after_an_interrupt(local, cv, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    first = InterruptAfter(1)
    with mock.patch.object(crossval, "run_fold", first):
        ran = ebnn("search", "-o", out, "--resume", *CV, "--jobs", "1")
    assert ran.returncode == command.EXIT_INTERRUPTED, ran.stderr
    assert sum(len([a for a in r["cv_folds"] if a is not None])
               for r in load_records(study_of(out))[0]) == 1  # the finished fold is kept
    rest = InterruptAfter(None)
    with mock.patch.object(crossval, "run_fold", rest):
        ran = ebnn("search", "-o", out, "--resume", *CV, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert rest.calls == 3  # only the folds not done
    assert pareto(out) == pareto(cv)


def failing(fold: int):
    """run_fold whose fold ``fold`` fails (as a worker reports a failure)."""
    def run(task, data):
        if task.fold == fold:
            return FoldOutcome(task.number, task.fold, None, "unexpected error: boom", 1.0, 2.0)
        return RUN_FOLD(task, data)
    return run


def test_failed_folds_are_kept_and_run_again(local, cv, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    with mock.patch.object(crossval, "run_fold", failing(1)):
        ran = ebnn("search", "-o", out, "--resume", *CV, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert "--cv: 2 fold(s) failed" in ran.stderr and "boom" in ran.stderr
    records, summary = load_records(study_of(out))
    assert summary.cross_validated == 0 and summary.cv_listed == 2
    assert all(r["cv_accuracy"] is None for r in records)
    assert ("Folds of the shortlist have not run yet: `ebnn search -o DIR --resume --cv 2 "
            "--cv-folds 2`") in " ".join((out / "pareto.md").read_text().split())
    rest = InterruptAfter(None)
    with mock.patch.object(crossval, "run_fold", rest):
        ran = ebnn("search", "-o", out, "--resume", *CV, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert rest.calls == 2  # the failed ones only
    assert pareto(out) == pareto(cv)
    # the failed runs' time stays in the wall time
    assert (1.0, 2.0) in crossval.intervals(study_of(out).user_attrs)


def fake_fold(task, data):
    """A fold scored without training (the race's choices are tests/test_search_race.py's)."""
    return FoldOutcome(task.number, task.fold, 0.5 + 0.01 * task.number, "", 1.0, 2.0)


def test_cv_race_from_the_command_line(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    race = ("--cv", "2", "--cv-folds", "2", "--cv-race")
    with mock.patch.object(crossval, "run_fold", fake_fold):
        ran = ebnn("search", "-o", out, "--resume", *race, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    log = " ".join(ran.stderr.split())
    top = [r["number"] for r in crossval.shortlist(load_records(study_of(out))[0], 2)]
    trials = ", ".join(map(str, top))
    # two candidates: no cut, so both run both folds in one batch
    assert (f"racing 2 candidate(s) through 2 folds: folds 1-2 for every one (trials {trials}): "
            "4 to run") in log
    assert study_of(out).user_attrs["cv"]["race"] is True
    records, summary = load_records(study_of(out))
    assert summary.cv_race and summary.cv_finished and summary.cross_validated == 2
    assert {r["number"]: r["cv_accuracy"] for r in records if r["cv_accuracy"] is not None} \
        == {n: pytest.approx(0.5 + 0.01 * n) for n in top}
    table = " ".join((out / "pareto.md").read_text().split())
    assert "Cross-validated by a race (`--cv 2 --cv-folds 2 --cv-race`)" in table
    with mock.patch.object(crossval, "run_fold", fake_fold):
        again = ebnn("search", "-o", out, "--resume", *race, "--jobs", "1")
    assert again.returncode == 0, again.stderr
    assert "every fold of the race has run" in " ".join(again.stderr.split())


def test_a_failed_fold_holds_the_race_and_says_how_to_go_on(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    race = ("--cv", "2", "--cv-folds", "2", "--cv-race")

    def fold_2_fails(task, data):
        return (FoldOutcome(task.number, task.fold, None, "unexpected error: boom", 1.0, 2.0)
                if task.fold == 1 else fake_fold(task, data))

    with mock.patch.object(crossval, "run_fold", fold_2_fails):
        ran = ebnn("search", "-o", out, "--resume", *race, "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    log = " ".join(ran.stderr.split())
    assert ("--cv: 2 fold(s) failed (reasons above); the race waits at them until `--resume "
            "--cv 2 --cv-folds 2 --cv-race` runs them again") in log
    assert ("Folds of the race have not run yet: `ebnn search -o DIR --resume --cv 2 "
            "--cv-folds 2 --cv-race`") in " ".join((out / "pareto.md").read_text().split())
    with mock.patch.object(crossval, "run_fold", fake_fold):
        ran = ebnn("search", "-o", out, "--resume", *race, "--jobs", "1")
    assert "through 2 folds: fold 2 for the 2 best so far" in " ".join(ran.stderr.split())
    assert load_records(study_of(out))[1].cv_finished


def test_only_the_last_runs_shortlist_counts():
    def rec(n, val):
        return {"number": n, "status": "ok", "same_as": None, "val_accuracy": val,
                "final": {"cycles": 100, "sram_peak": 1000}}

    done = {"folds": 2, "seed": 0, "results": [{"accuracy": 0.9, "start": 0, "end": 1}] * 2}
    attrs = {"cv": {"k": 1, "folds": 2, "seed": 0}, "cv/00000": done, "cv/00001": done}
    records = [rec(0, 0.95), rec(1, 0.90)]
    assert crossval.attach(attrs, records)[:4] == (1, 2, 1, 1)
    assert records[0]["cv_accuracy"] == 0.9 and records[1]["cv_accuracy"] is None
    # a trial added since with a better validation score takes the shortlist's place
    records = [rec(0, 0.95), rec(1, 0.90), rec(2, 0.97)]
    assert crossval.attach(attrs, records)[:4] == (1, 2, 1, 0)
    assert all(r["cv_accuracy"] is None for r in records)
    # folds of another fold count do not count
    attrs["cv"] = {"k": 2, "folds": 3, "seed": 0}
    assert crossval.attach(attrs, [rec(0, 0.95), rec(1, 0.9)])[:4] == (2, 3, 2, 0)
    # nor folds that learnt from another teacher (or from none, when the run had one)
    attrs["cv"] = {"k": 2, "folds": 2, "seed": 0, "teacher": "ab12"}
    assert crossval.attach(attrs, [rec(0, 0.95), rec(1, 0.9)])[:4] == (2, 2, 2, 0)
    attrs["cv/00000"] = {**done, "teacher": "ab12"}
    assert crossval.attach(attrs, [rec(0, 0.95), rec(1, 0.9)])[:4] == (2, 2, 2, 1)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("folds", [2, 3, 5])
def test_folds_are_stratified_and_cover_every_sample_once(seed, folds):
    labels = np.random.default_rng(seed).integers(0, 4, 203)
    which = crossval.fold_of(labels, folds, seed)
    assert which.shape == labels.shape and set(which) == set(range(folds))  # none empty
    sizes = np.bincount(which, minlength=folds)
    assert sizes.max() - sizes.min() <= 1
    for c in range(4):
        per_class = np.bincount(which[labels == c], minlength=folds)
        assert per_class.max() - per_class.min() <= 1
    assert np.array_equal(which, crossval.fold_of(labels, folds, seed))


def test_pareto_ranks_by_cross_validated_accuracy():
    def rec(n, val, cv, cycles):
        return {"number": n, "status": "ok", "same_as": None, "val_accuracy": val,
                "cv_accuracy": cv, "final": {"cycles": cycles, "sram_peak": 1000}}

    # 1 beats 0 on validation and cycles, but 0 is better cross-validated: both stay
    records = [rec(0, 0.98, 0.985, 900), rec(1, 0.985, 0.97, 300), rec(2, 0.95, None, 800)]
    assert [r["number"] for r in pareto_front(records, True)] == [0, 1]
    without = [{**r, "cv_accuracy": None} for r in records]
    assert [r["number"] for r in pareto_front(without, True)] == [1]
    # a validation score is never set against a cross-validated one: 3 lost its tie with 4 on
    # validation (more cycles) and stays behind it, though 4's folds scored lower; 5 is faster
    records = [rec(3, 0.982, None, 900), rec(4, 0.982, 0.975, 500), rec(5, 0.98, None, 400)]
    assert [r["number"] for r in pareto_front(records, True)] == [4, 5]


@pytest.fixture(scope="module")
def search_teacher(tmp_path_factory) -> Path:
    """A teacher validated on the search's validation images (1 epoch on 300 images)."""
    pt = tmp_path_factory.mktemp("teacher") / "teacher.pt"
    full = load_dataset("mnist")
    train_set, val = split_train_val(full, 0.1, 0)
    spec = parse_config({"model": {"name": "t", "input": [28, 28, 1], "classes": 10,
                                   "layers": [{"type": "conv", "filters": 4, "kernel": 3,
                                               "stride": 2}]}, "train": {"epochs": 1}})
    train(spec, train_set.head(300), val, pt)
    return pt


def taught(space_file: Path, tmp_path: Path, teacher: str) -> Path:
    space = tmp_path / "taught.toml"
    space.write_text(space_file.read_text().replace(
        "[space.train]\n", f"[space.train]\nteacher = {json.dumps(teacher)}\n"))
    return space


@pytest.fixture(scope="module")
def taught_cv(space_file, search_teacher, tmp_path_factory) -> Path:
    """A 2-trial toy search with the teacher, then --cv 1 --cv-folds 2."""
    tmp = tmp_path_factory.mktemp("taught-cv")
    out = fresh(tmp / "s")
    space = taught(space_file, tmp, str(search_teacher))
    args = [a for a in ARGS if a not in ("--trials", TRIALS)]
    ran = ebnn("search", space, *args, "--trials", "2", "--jobs", "1", "--cv", "1",
               "--cv-folds", "2", "-o", out)
    assert ran.returncode == 0, ran.stderr
    (tmp / "stderr.txt").write_text(ran.stderr)
    return out


def held_out(directory: Path, fold: int, folds: int):
    """(training part, held-out part) of ``fold`` of a search's labelled images."""
    settings = Settings.load(directory)
    space = load_space_text(directory.parent)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    pool = crossval.pool_of(data, settings.train_limit)
    held = crossval.fold_of(pool.labels, folds, space.seed) == fold
    return (replace(pool, images=pool.images[~held], labels=pool.labels[~held]),
            replace(pool, images=pool.images[held], labels=pool.labels[held]))


def test_cv_with_a_teacher_trains_one_teacher_per_fold(taught_cv, search_teacher):
    """Each fold's teacher is the teacher's config trained without that fold (its recorded
    validation images are the held-out fold), and the fold's candidate learnt from it."""
    study = study_of(taught_cv)
    record = study.user_attrs[crossval.TEACHER_KEY]
    teacher_config = load_checkpoint(search_teacher)["config"]
    for fold in range(2):
        pt = taught_cv / crossval.TEACHERS / f"fold-{fold + 1}-of-2.pt"
        payload = load_checkpoint(pt)
        rest, held = held_out(taught_cv, fold, 2)
        assert payload["val_digest"] == split_digest(held) != split_digest(rest)
        assert payload["config"] == teacher_config
        assert 0 < record["results"][fold]["accuracy"] <= 1
    records, _ = load_records(study)
    best = crossval.shortlist(records, 1)[0]
    assert len(best["cv_folds"]) == 2 and best["cv_accuracy"] is not None
    # fold 2 again by hand, learning from the fold teacher: the stored accuracy is its
    rest, held = held_out(taught_cv, 1, 2)
    config = {**best["config"], "train": {**best["config"]["train"], "teacher": str(
        taught_cv / crossval.TEACHERS / "fold-2-of-2.pt")}}
    pt = taught_cv.parent / "fold.pt"
    train(parse_config(config, "best"), rest, held, pt)
    art = export_checkpoint(load_checkpoint(pt))
    assert best["cv_folds"][1] == np.mean(reference.run(art, held.images).classes == held.labels)
    # the teachers' time is part of the search's wall time
    spent = crossval.intervals(study.user_attrs)
    assert all((r["start"], r["end"]) in spent for r in record["results"])
    folds = study.user_attrs[crossval.KEY.format(best["number"])]["results"]
    assert [f["teacher_sha256"] for f in folds] == [r["sha256"] for r in record["results"]]
    log = (taught_cv.parent / "stderr.txt").read_text()
    assert "teacher fold 1: " in log and "teacher fold 2: " in log


def test_report_does_not_read_the_teacher_its_folder_names(taught_cv, tmp_path):
    """--report trains nothing: a search folder edited to name another teacher (a .pt the
    folder chose, read by torch.load) is re-rendered without reading it (hostile review 13)."""
    out = tmp_path / "s"
    shutil.copytree(taught_cv, out)
    settings = json.loads((out / "search.json").read_text())
    assert "teacher" in settings["space"]
    settings["space"] = re.sub(r'teacher = "[^"]*"', 'teacher = "/nonexistent/evil.pt"',
                               settings["space"])
    (out / "search.json").write_text(json.dumps(settings))
    ran = ebnn("search", "--report", out)
    assert ran.returncode == 0, ran.stderr
    assert "evil.pt" not in ran.stderr


class Counted:
    """A fold function that records the folds it ran (and may change what they return)."""

    def __init__(self, run, change=None) -> None:
        self.run, self.change, self.calls = run, change, []

    def __call__(self, task, data):
        self.calls.append(task.fold)
        out = self.run(task, data)
        return out if self.change is None else self.change(task, out)


def resumed_cv(out: Path, teachers: Counted, folds: Counted) -> Ran:
    with mock.patch.object(crossval, "run_teacher_fold", teachers), \
            mock.patch.object(crossval, "run_fold", folds):
        return ebnn("search", "-o", out, "--resume", "--cv", "1", "--cv-folds", "2",
                    "--jobs", "1")


def test_cv_with_a_teacher_keeps_its_fold_teachers(taught_cv, tmp_path):
    """--resume --cv trains a fold teacher again only when a fold needs it; a candidate's fold
    runs again when its fold teacher changed, and only then."""
    out = tmp_path / "s"
    shutil.copytree(taught_cv, out)
    before = study_of(out).user_attrs
    # every fold is done: no teacher is trained, even with the kept ones gone
    shutil.rmtree(out / crossval.TEACHERS)
    teachers, folds = Counted(RUN_TEACHER_FOLD), Counted(RUN_FOLD)
    assert resumed_cv(out, teachers, folds).returncode == 0
    assert teachers.calls == [] and folds.calls == []
    # fold 1's record made stale: its teacher is trained again, and differs (another file)
    study = study_of(out)
    record = study.user_attrs[crossval.TEACHER_KEY]
    record["results"][0]["sha256"] = "0" * 64
    study.set_user_attr(crossval.TEACHER_KEY, record)

    def other(task, o):  # a checkpoint with one more key: loads the same, another sha256
        payload = torch.load(io.BytesIO(o.checkpoint), weights_only=True)
        buf = io.BytesIO()
        torch.save({**payload, "note": "retrained"}, buf)
        return replace(o, checkpoint=buf.getvalue())

    teachers, folds = Counted(RUN_TEACHER_FOLD, other), Counted(RUN_FOLD)
    assert resumed_cv(out, teachers, folds).returncode == 0
    assert teachers.calls == [0] and folds.calls == [0]
    after = study_of(out).user_attrs
    record = after[crossval.TEACHER_KEY]
    assert len(record["earlier"]) == 1  # the replaced fold teacher's time is kept
    key = next(k for k in before if k.startswith("cv/0"))
    results = after[key]["results"]
    assert results[0]["teacher_sha256"] == record["results"][0]["sha256"] != "0" * 64
    assert results[1] == before[key]["results"][1]
    assert len(after[key]["earlier"]) == 1


def test_a_failed_fold_teacher_skips_its_folds_until_resumed(taught_cv, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(taught_cv, out)
    study = study_of(out)
    for key in [k for k in study.user_attrs if k.startswith("cv/")]:
        study.set_user_attr(key, None)  # as before any --cv
    shutil.rmtree(out / crossval.TEACHERS)

    def broken(task, o):
        return crossval.TeacherOutcome(task.fold, None, None, "unexpected error: boom",
                                       o.start, o.end) if task.fold == 1 else o

    teachers, folds = Counted(RUN_TEACHER_FOLD, broken), Counted(RUN_FOLD)
    ran = resumed_cv(out, teachers, folds)
    assert ran.returncode == 0, ran.stderr
    assert teachers.calls == [0, 1] and folds.calls == [0]
    assert "teacher fold 2: failed: unexpected error: boom" in ran.stderr
    assert "--cv: 1 fold(s) failed" in ran.stderr
    records, _ = load_records(study_of(out))
    assert crossval.shortlist(records, 1)[0]["cv_accuracy"] is None
    teachers, folds = Counted(RUN_TEACHER_FOLD), Counted(RUN_FOLD)
    assert resumed_cv(out, teachers, folds).returncode == 0
    assert teachers.calls == [1] and folds.calls == [1]
    records, _ = load_records(study_of(out))
    assert crossval.shortlist(records, 1)[0]["cv_accuracy"] is not None


@pytest.fixture(scope="module")
def pupil(search_teacher, tmp_path_factory) -> Path:
    """A checkpoint distilled from ``search_teacher`` (validated on the same images)."""
    full = load_dataset("mnist")
    train_set, val = split_train_val(full, 0.1, 0)
    spec = parse_config({"model": {"name": "t2", "input": [28, 28, 1], "classes": 10,
                                   "layers": [{"type": "conv", "filters": 2, "kernel": 3,
                                               "stride": 2}]},
                         "train": {"epochs": 1, "teacher": str(search_teacher)}})
    pt = tmp_path_factory.mktemp("pupil") / "pupil.pt"
    train(spec, train_set.head(300), val, pt)
    return pt


@pytest.mark.parametrize(("change", "words"), [
    ("delete", "cannot read the teacher {teacher} (No such file or directory)"),
    ("garbage", "the teacher: {teacher}: not a readable model checkpoint"),
    ("taught", "the teacher {teacher} learnt from a teacher of its own"),
])
def test_a_teacher_changed_before_the_folds_is_a_one_line_error(
        taught_cv, search_teacher, pupil, tmp_path, change, words):
    """The teacher deleted, broken or replaced by one distilled from another while the trials
    ran: the report is written, no fold runs, the study's --cv records are untouched, and the
    error says how to go on."""
    out = tmp_path / "s"
    shutil.copytree(taught_cv, out)
    teacher = tmp_path / "teacher.pt"
    shutil.copy(search_teacher, teacher)
    settings = out / "search.json"
    settings.write_text(settings.read_text().replace(str(search_teacher), str(teacher)))
    study = study_of(out)
    for key in [k for k in study.user_attrs if k.startswith("cv")]:
        study.set_user_attr(key, None)  # as before any --cv
    (out / "pareto.json").unlink()
    run = Driver.run

    def trials_then_changed(self, *args, **kwargs):
        run(self, *args, **kwargs)
        if change == "delete":
            teacher.unlink()
        elif change == "garbage":
            teacher.write_bytes(b"garbage")
        else:
            shutil.copy(pupil, teacher)

    teachers, folds = Counted(RUN_TEACHER_FOLD), Counted(RUN_FOLD)
    with mock.patch.object(Driver, "run", trials_then_changed):
        ran = resumed_cv(out, teachers, folds)
    assert ran.returncode == 2 and "Traceback" not in ran.stderr, ran.stderr
    line = ran.stderr.strip().splitlines()[-1]
    assert line.startswith("error: --cv: " + words.format(teacher=teacher)), line
    assert "put the teacher back" in line and "--resume --cv 1 --cv-folds 2" in line
    assert teachers.calls == [] and folds.calls == []
    assert (out / "pareto.json").is_file()
    assert all(v is None for k, v in study_of(out).user_attrs.items() if k.startswith("cv"))


def test_cv_refuses_a_teacher_that_had_a_teacher(space_file, pupil, tmp_path):
    """A teacher distilled from another would need that teacher's folds: one-line error."""
    space = taught(space_file, tmp_path, str(pupil))
    words = "learnt from a teacher of its own"
    assert words in one_line_error(ebnn("search", space, "--cv", "2", "-o", tmp_path / "x"))


def test_a_search_with_a_teacher_trains_its_candidates_with_it(space_file, search_teacher,
                                                             tmp_path):
    out = fresh(tmp_path / "s")
    space = taught(space_file, tmp_path, str(search_teacher))
    args = [a for a in ARGS if a not in ("--trials", TRIALS)]
    ran = ebnn("search", space, *args, "--trials", "2", "--jobs", "1", "-o", out)
    assert ran.returncode == 0, ran.stderr
    trained = [o for o in outcomes(out).values() if o.get("trained")]
    assert trained and all(o["status"] == "ok" for o in trained)
    for o in trained:
        pt = out / "trials" / f"{o['number']:05d}" / "model.pt"
        assert load_checkpoint(pt)["config"]["train"]["teacher"] == str(search_teacher)


@pytest.mark.parametrize(("teacher", "words"), [
    ("t.pt", "teacher must be one absolute path"),
    ("/nowhere/t.pt", "no such file"),
    ("{other}", "validated on other images"),
])
def test_a_search_refuses_a_teacher_that_does_not_fit_at_once(space_file, search_teacher,
                                                              tmp_path, teacher, words):
    other = tmp_path / "other.pt"  # validated on other images: a 20% split
    full = load_dataset("mnist").head(1000)
    spec = parse_config({"model": {"name": "t", "input": [28, 28, 1], "classes": 10,
                                   "layers": [{"type": "conv", "filters": 2, "kernel": 3,
                                               "stride": 2}]}, "train": {"epochs": 1}})
    train(spec, *split_train_val(full, 0.2, 0), other)
    space = taught(space_file, tmp_path, teacher.format(other=other))
    assert words in one_line_error(ebnn("search", space, *ARGS, "-o", tmp_path / "x"))


def test_cv_with_report_is_one_line(local):
    assert "--cv runs one" in one_line_error(ebnn("search", "--report", local, "--cv", "2"))


def test_accuracy_alone_when_cycles_and_sram_are_not_objectives(local, space_file, tmp_path):
    """--no-cycles-objective --no-sram-objective: one objective (validation accuracy), the
    budgets still constraints, and the Pareto set is the most accurate model."""
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space_file, *ARGS, "--jobs", "1", "--no-cycles-objective",
               "--no-sram-objective", "-o", out)
    assert ran.returncode == 0, ran.stderr
    study = study_of(out)
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE]
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert done and all(len(t.values) == 1 for t in done)
    records, _ = load_records(study)
    best = max(r["val_accuracy"] for r in fitted(records))
    front = json.loads((out / "pareto.json").read_text())
    assert [e["val_accuracy"] for e in front] == [best]
    # the same trials as the default search (the sampler starts at random), and any over the
    # budget still rejected before training
    statuses = {n: o["status"] for n, o in outcomes(out).items()}
    assert statuses == {n: o["status"] for n, o in outcomes(local).items()}
    assert "rejected" in statuses.values()


def test_pareto_without_cycles_or_sram_is_the_most_accurate():
    def rec(n, val, cycles, sram):
        return {"number": n, "status": "ok", "same_as": None, "val_accuracy": val,
                "final": {"cycles": cycles, "sram_peak": sram}}

    records = [rec(0, 0.97, 100, 900), rec(1, 0.98, 900, 1500), rec(2, 0.98, 800, 1600)]
    assert [r["number"] for r in pareto_front(records, False, False)] == [2]
    # compared pair by pair, a cv, a val-only and another cv candidate beat each other in a
    # ring (3 > 4 on val, 4 > 5 on val, 5 > 3 on cv): still the one the report ranks first
    ring = [rec(3, 0.99, 100, 900), rec(4, 0.985, 100, 900), rec(5, 0.98, 100, 900)]
    ring[0]["cv_accuracy"], ring[2]["cv_accuracy"] = 0.97, 0.98
    assert [r["number"] for r in pareto_front(ring, False, False)] == [5]
    assert [r["number"] for r in pareto_front(records, False, True)] == [2, 0]
    assert [r["number"] for r in pareto_front(records, True, False)] == [1, 0]


# -- --refit: the Pareto models' configs trained on every labelled image ----------------------

RUN_REFIT = refit_mod.run_refit


@pytest.fixture(scope="module")
def refitted(cv, tmp_path_factory) -> Path:
    """The `cv` search, then `--resume --refit` (no new trials or folds: refits only)."""
    out = tmp_path_factory.mktemp("refit") / "s"
    shutil.copytree(cv, out)
    ran = ebnn("search", "-o", out, "--resume", "--refit", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    (out.parent / "stderr.txt").write_text(ran.stderr)
    return out


def test_a_damaged_refit_record_is_one_line(refitted, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(refitted, out)
    _edit_study_attr(out / "study.db", "refit/", lambda r: {**r, "start": None})
    for args in (["--report", out], ["-o", out, "--resume", "--refit", "--jobs", "1"]):
        line = one_line_error(ebnn("search", *args))
        assert "record: its start is damaged (not what ebnn search writes)" in line, line


def without_refit(directory: Path) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "refit"} for e in pareto(directory)]


def test_refit_trains_each_pareto_config_on_every_labelled_image(cv, refitted, test_dir):
    assert essentials(refitted) == essentials(cv)
    assert without_refit(refitted) == without_refit(cv)  # the choice is the candidates'
    assert all(e["refit"] is None for e in pareto(cv))
    settings = Settings.load(refitted)
    space = load_space_text(refitted.parent)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    pool = crossval.pool_of(data, settings.train_limit)
    test = load_dataset("mnist", data_dir=test_dir, split="test")
    entries = pareto(refitted)
    assert entries
    for e in entries:
        f = e["refit"]
        assert f is not None and f["train_images"] == len(pool) == 300 + len(data.val)
        if f["status"] != "ok":  # over the budget with its own weights: said, not offered
            assert f["reason"] and "elf" not in f
            continue
        # the same as training the config by hand on the training and validation images
        spec = parse_config(e["config"], "refit")
        none = replace(pool, images=pool.images[:0], labels=pool.labels[:0])
        pt = refitted.parent / f"{e['name']}.pt"
        train(spec, pool, none, pt)
        by_hand = export_checkpoint(load_checkpoint(pt))
        art = load_artifact(refitted / f["ebnn"])
        assert art.metadata["val_accuracy"] is None  # it had no validation images
        assert art.metadata["search_refit"] is True and art.metadata["search_trial"] == e["trial"]
        for mine, theirs in zip(art.layers, by_hand.layers, strict=True):
            assert np.array_equal(mine.weights, theirs.weights)
            assert np.array_equal(mine.threshold, theirs.threshold)
        ref = reference.run(art, test.images)
        assert f["test_accuracy"] == np.mean(ref.classes == test.labels)
        assert f["sram_peak"] <= 2048 and f["ms"] == pytest.approx(f["cycles"] / 32e3)
        for key in ("toml", "pt", "ebnn", "elf"):
            assert (refitted / f[key]).is_file() and f[key].endswith(f"-refit.{key}")
        # inside the budget in the simulator, as a user checks it
        report = refitted.parent / f"{e['name']}-refit.json"
        res = CliRunner().invoke(sim_main, ["run", str(refitted / f["elf"]), "--sram", "2k",
                                            "--json", str(report)])
        assert res.exit_code == 0, res.output
        assert json.loads(report.read_text())["sram"]["peak"] == f["sram_peak"]
    assert any(e["refit"]["status"] == "ok" for e in entries)
    table = (refitted / "pareto.md").read_text()
    assert "Refit (`--refit`)" in table and f"{entries[0]['name']}" in table
    # the refits' time is part of the search's wall time
    spent = refit_mod.intervals(study_of(refitted).user_attrs)
    assert len(spent) == len(entries) and all(b > a for a, b in spent)
    assert load_records(study_of(refitted))[1].seconds > load_records(study_of(cv))[1].seconds
    log = (refitted.parent / "stderr.txt").read_text()
    assert f"refitting {len(entries)} Pareto model(s)" in log
    assert f"refit on {len(pool):,} images" in log


def interrupt_refit_after(n: int | None) -> InterruptAfter:
    return InterruptAfter(n, RUN_REFIT)


def test_refit_resumes_after_an_interrupt(cv, refitted, tmp_path):
    entries = pareto(refitted)
    if len(entries) < 2:
        pytest.fail("the toy search's Pareto set should hold two models or more")
    out = tmp_path / "s"
    shutil.copytree(cv, out)
    first = interrupt_refit_after(1)
    with mock.patch.object(refit_mod, "run_refit", first):
        ran = ebnn("search", "-o", out, "--resume", "--refit", "--jobs", "1")
    assert ran.returncode == command.EXIT_INTERRUPTED, ran.stderr
    assert "--resume --refit`" in ran.stderr and "finished trials and refits" in ran.stderr
    assert sum(e["refit"] is not None for e in pareto(out)) == 1  # the finished one is kept
    assert (f"{len(entries) - 1} of the {len(entries)} Pareto models have no refit yet: "
            "`ebnn search -o DIR --resume --refit`") in (out / "pareto.md").read_text()
    rest = interrupt_refit_after(None)
    with mock.patch.object(refit_mod, "run_refit", rest):
        ran = ebnn("search", "-o", out, "--resume", "--refit", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert rest.calls == len(entries) - 1  # only the refits not done
    assert pareto(out) == entries


def test_failed_and_over_budget_refits(cv, tmp_path):
    """A failed refit is said, kept (its time too) and run again by `--resume --refit`; one
    over the budget is reported with its reason and without files."""
    out = tmp_path / "s"
    shutil.copytree(cv, out)
    over = Firmware(3000, 9000, 50_000, 50_000.0, 50_000)

    def run(task, data):
        if task.number == pareto(cv)[0]["trial"]:
            return refit_mod.RefitOutcome(task.number, "failed", "unexpected error: boom",
                                          start=1.0, end=2.0)
        return refit_mod.RefitOutcome(task.number, "rejected", "SRAM 3,000 B > 2,048 B",
                                      images=800, final=over, start=3.0, end=4.0)

    with mock.patch.object(refit_mod, "run_refit", run):
        ran = ebnn("search", "-o", out, "--resume", "--refit", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert "--refit: 1 refit(s) broke" in ran.stderr and "boom" in ran.stderr
    entries = pareto(out)
    assert len(entries) >= 2
    assert entries[0]["refit"] == {"status": "failed", "train_images": 0,
                                   "reason": "unexpected error: boom"}
    assert "failed: unexpected error: boom" in (out / "pareto.md").read_text()
    for e in entries[1:]:
        assert e["refit"] == {"status": "rejected", "train_images": 800,
                              "reason": "SRAM 3,000 B > 2,048 B", "sram_peak": 3000,
                              "flash": 9000, "cycles": 50_000}
        assert not list((out / "pareto").glob(f"{e['name']}-refit.*"))
    attrs = study_of(out).user_attrs
    assert (1.0, 2.0) in refit_mod.intervals(attrs)
    assert "rejected: SRAM 3,000 B > 2,048 B" in (out / "pareto.md").read_text()
    calls = interrupt_refit_after(None)
    with mock.patch.object(refit_mod, "run_refit", calls):
        ran = ebnn("search", "-o", out, "--resume", "--refit", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert calls.calls == 1  # the failed one only: a rejection stands
    assert pareto(out)[0]["refit"]["status"] != "failed"
    assert f"refitting 1 Pareto model(s) (trials {entries[0]['trial']})" in ran.stderr
    assert (1.0, 2.0) in refit_mod.intervals(study_of(out).user_attrs)  # its time kept


def test_refit_mistakes_are_one_line(local, space_file, search_teacher, tmp_path):
    assert "--refit runs one" in one_line_error(ebnn("search", "--report", local, "--refit"))
    space = taught(space_file, tmp_path, str(search_teacher))
    words = one_line_error(ebnn("search", space, *ARGS, "--refit", "-o", fresh(tmp_path / "s")))
    assert "--refit: not for a space with a teacher" in words


def test_which_refits_run_again():
    """Only a refit that broke unexpectedly runs again: a rejection, or firmware that disagrees
    with the reference, is what the same training gives again."""
    budget = Budget("curie", 2048, 200_000, None, 32_000_000)
    tasks = [refit_mod.RefitTask(n, {"n": n}, budget) for n in range(5)]
    attrs = {refit_mod.KEY.format(t.number): {"setup": t.setup(), "status": status,
                                              "reason": reason}
             for t, (status, reason) in zip(tasks, [
                 ("ok", ""), ("rejected", "SRAM 3,000 B > 2,048 B"),
                 ("failed", "firmware and reference disagree on 2 validation images"),
                 ("failed", "unexpected error: boom")], strict=False)}
    assert [t.number for t in refit_mod.pending(attrs, tasks)] == [3, 4]
    # a refit made for another budget or config does not stand for this one
    other = replace(tasks[0], budget=replace(budget, sram=1024))
    assert refit_mod.pending(attrs, [other]) == [other]


def test_an_interrupt_says_how_to_go_on_with_the_folds_and_refits(local, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(local, out)
    with mock.patch.object(Driver, "run", side_effect=KeyboardInterrupt):
        ran = ebnn("search", "-o", out, "--resume", "--trials", TRIALS + 1, *CV, "--refit",
                   "--jobs", "1")
    assert ran.returncode == command.EXIT_INTERRUPTED, ran.stderr
    assert (f"continue with `ebnn search -o {out} --resume`, then `ebnn search -o {out} "
            "--resume --cv 2 --cv-folds 2 --refit`") in " ".join(ran.stderr.split())
    with mock.patch.object(crossval, "run_fold", InterruptAfter(0)):
        ran = ebnn("search", "-o", out, "--resume", *CV, "--refit", "--jobs", "1")
    assert ran.returncode == command.EXIT_INTERRUPTED, ran.stderr
    assert "--resume --cv 2 --cv-folds 2 --refit`" in " ".join(ran.stderr.split())


def _edit_outcomes(db: Path, edit) -> None:
    """Apply ``edit`` to every trial's stored outcome record (as a hostile folder could)."""
    import sqlite3

    con = sqlite3.connect(db)
    rows = list(con.execute("select trial_id, value_json from trial_user_attributes "
                            "where key = 'outcome'"))
    for tid, value in rows:
        con.execute("update trial_user_attributes set value_json = ? where trial_id = ? and "
                    "key = 'outcome'", (json.dumps(edit(json.loads(value))), tid))
    con.commit()
    con.close()


def test_report_writes_inside_its_folder_whatever_the_study_names(local, tmp_path):
    # a model name from the study's database was a path: --report copied the models there
    out = tmp_path / "s"
    shutil.copytree(local, out)
    escaped = tmp_path / "escaped"
    escaped.mkdir()

    def rename(record):
        if isinstance(record.get("config"), dict):
            record["config"]["model"]["name"] = f"{escaped}/../escaped/owned"
        return record

    _edit_outcomes(out / "study.db", rename)
    ran = ebnn("search", "--report", out)
    assert ran.returncode == 0, ran.stderr
    assert list(escaped.iterdir()) == []
    names = [p.name for p in (out / "pareto").iterdir()]
    assert names and all("/" not in n and not n.startswith(".") and n.startswith("_tmp_")
                         for n in names), names


def _damage_ok(field: str, value):
    def edit(record):
        if record.get("status") == "ok":
            *path, last = field.split(".")
            inner = record
            for key in path:
                inner = inner[key]
            inner[last] = value
        return record
    return edit


@pytest.mark.parametrize(("edit", "words"), [
    (lambda record: {"status": 1}, "its outcome.status in the study is damaged"),
    (_damage_ok("val_accuracy", "x"), "its outcome.val_accuracy in the study is damaged"),
    (_damage_ok("final.cycles", "y"), "its outcome.final.cycles in the study is damaged"),
    (_damage_ok("config", []), "its outcome.config in the study is damaged"),
])
def test_a_damaged_outcome_record_is_one_line(local, tmp_path, edit, words):
    # a value of the wrong type in an outcome the checks let through ranked the candidates
    # into a TypeError traceback
    out = tmp_path / "s"
    shutil.copytree(local, out)
    _edit_outcomes(out / "study.db", edit)
    before = (out / "study.db").read_bytes()
    for args in (["--report", out], ["-o", out, "--resume", "--trials", TRIALS, "--jobs", "1"]):
        line = one_line_error(ebnn("search", *args))
        assert words in line and "(not what ebnn search writes)" in line, line
    assert (out / "study.db").read_bytes() == before


def _edit_study_attr(db: Path, prefix: str, edit) -> None:
    """Apply ``edit`` to the study's user attributes whose key starts with ``prefix``."""
    import sqlite3

    con = sqlite3.connect(db)
    for key, value in list(con.execute("select key, value_json from study_user_attributes")):
        if key.startswith(prefix):
            con.execute("update study_user_attributes set value_json = ? where key = ?",
                        (json.dumps(edit(json.loads(value))), key))
    con.commit()
    con.close()


def test_a_damaged_fold_record_is_one_line(cv, tmp_path):
    # --resume --cv read a fold's accuracy of the wrong type: a traceback in the ranking
    out = tmp_path / "s"
    shutil.copytree(cv, out)
    _edit_study_attr(out / "study.db", "cv/0",
                     lambda r: {**r, "results": [{"accuracy": "x", "start": 0, "end": 1}]})
    line = one_line_error(ebnn("search", "-o", out, "--resume", *CV, "--jobs", "1"))
    assert "record: its results[0].accuracy is damaged (not what ebnn search writes)" in line


def test_a_folder_in_use_by_another_search_is_refused(local, tmp_path):
    # two --resume runs at once trained the same trial; one ended in Optuna's traceback
    import fcntl
    import os

    out = tmp_path / "s"
    shutil.copytree(local, out)
    fd = os.open(out / command.LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    os.write(fd, b"4242")
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        for args in (("--report", out), ("-o", out, "--resume", "--trials", "99")):
            line = one_line_error(ebnn("search", *args))
            assert "in use by another ebnn search (pid 4242)" in line
    finally:
        os.close(fd)
    assert ebnn("search", "--report", out).returncode == 0  # released: it goes on


def test_a_broken_toolchain_is_a_failure_not_a_rejection(tmp_path):
    # a missing compiler (or C that does not compile) was told to Optuna as over the budget,
    # kept, and copied to every later trial of the same config
    from toolchain.build import ToolchainError

    space = load_space_text(tmp_path)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    small = {"model": {"name": "small", "input": [28, 28, 1], "classes": 10,
                       "layers": [{"type": "conv", "filters": 4, "kernel": 3}]},
             "train": {"epochs": 1}}
    broken = ToolchainError("arm-none-eabi-gcc not found; install it")
    with mock.patch("ebnn.build.build_firmware", side_effect=broken):
        out = run_task(Task(0, small, Budget("curie", 15360, 200_000, None, 32_000_000)), data)
    assert out.status == "failed" and "does not build for curie" in out.reason, out.reason


def test_a_search_with_nothing_in_the_budget_exits_3(space_file, tmp_path):
    # every candidate over 800 B of SRAM (its 784-byte input fits; less is refused before any
    # trial): it exited 0 with an empty Pareto set
    out = fresh(tmp_path / "s")
    ran = ebnn("search", space_file, "--sram", "800", "--trials", "2", "--epochs", "1",
               "--train-images", "300", "--batch", "2", "--seed", "3", "--flash", "512k",
               "-o", out)
    assert ran.returncode == command.EXIT_EMPTY, ran.stderr
    said = " ".join(ran.stderr.split())
    assert "warning: flash 512 KiB is more than curie's 196 KiB" in said
    # the two reasons differ only in their bytes: counted together (search review finding 6)
    assert re.search(r"no model in the Pareto set \(2 rejected, 0 failed\); 2 x before "
                     r"training: SRAM at least [\d,]+ B > 800 B( \(figures differ\))?$",
                     said), said
    assert json.loads((out / "pareto.json").read_text()) == []
    # --report says it too, with the same exit (finding 4: it exited 0), and so does pareto.md
    again = ebnn("search", "--report", out)
    assert again.returncode == command.EXIT_EMPTY, again.stderr
    assert "no model in the Pareto set (2 rejected, 0 failed); 2 x before training: SRAM" in (
        " ".join(again.stderr.split()))
    assert "No model in the Pareto set: no candidate was trained within the budget (most " \
        "common reasons: 2 x before training: SRAM at least" in (out / "pareto.md").read_text()


def test_a_worker_that_dies_stops_the_batch_instead_of_hanging():
    # a Pool replaces a dead worker and never finishes its task: run_batch polled for ever
    from helpers import die_on_odd

    from ebnn.search.backends import LocalPool, WorkerLost

    pool = LocalPool({}, 2)  # type: ignore[arg-type]  # any data: the task ignores it
    got: list[int] = []
    try:
        with pytest.raises(WorkerLost, match="a worker process died"):
            pool.run_batch([0, 1, 2], got.append, die_on_odd)
    finally:
        pool.close()


def test_a_worker_that_dies_between_batches_stops_the_next_one():
    # the next batch's submit raised BrokenProcessPool: a traceback, no outputs written
    from helpers import die_on_odd

    from ebnn.search.backends import LocalPool, WorkerLost

    pool = LocalPool({}, 2)  # type: ignore[arg-type]  # any data: the task ignores it
    got: list[int] = []
    try:
        pool.run_batch([0, 2], got.append, die_on_odd)
        assert sorted(got) == [0, 2]
        for process in list(pool._pool._processes.values()):  # idle now: the OOM killer
            process.kill()
            process.join(10)
        with pytest.raises(WorkerLost, match="a worker process died"):
            pool.run_batch([4], got.append, die_on_odd)
    finally:
        pool.close()


def test_a_cluster_address_where_nothing_answers_is_one_line(space_file, tmp_path):
    # ray.init retried 127.0.0.1:1 for over 11 minutes, deaf to Ctrl-C and SIGTERM
    out = tmp_path / "s"
    line = one_line_error(ebnn("search", space_file, *ARGS, "-o", out, "--backend", "ray",
                               "--address", "127.0.0.1:1"))
    assert "cannot start or reach 127.0.0.1:1: nothing answers there" in line
    assert not out.exists()


def test_a_refit_whose_firmware_does_not_build_runs_again():
    # a refit that met a missing compiler was kept as a rejection for good
    from ebnn.search import refit as refit_mod
    from ebnn.search.measure import UNEXPECTED

    task = refit_mod.RefitTask(3, {"model": {"name": "m"}}, Budget("curie", 2048, 200_000,
                                                                     None, 32_000_000), None)
    key = refit_mod.KEY.format(3)
    broken = {"setup": task.setup(), "status": "failed",
              "reason": f"{UNEXPECTED}does not build for curie: gcc not found"}
    over = {"setup": task.setup(), "status": "rejected", "reason": "SRAM 3,000 B > 2,048 B"}
    assert refit_mod.pending({key: broken}, [task]) == [task]
    assert refit_mod.pending({key: over}, [task]) == []


def test_a_refit_that_meets_a_broken_toolchain_is_failed_not_rejected(tmp_path):
    from ebnn.search import refit as refit_mod
    from ebnn.search.measure import UNEXPECTED
    from toolchain.build import ToolchainError

    space = load_space_text(tmp_path)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    small = {"model": {"name": "small", "input": [28, 28, 1], "classes": 10,
                       "layers": [{"type": "conv", "filters": 4, "kernel": 3, "stride": 2}]},
             "train": {"epochs": 1}}
    task = refit_mod.RefitTask(0, small, Budget("curie", 15360, 200_000, None, 32_000_000), 200)
    with mock.patch("ebnn.build.build_firmware", side_effect=ToolchainError("gcc not found")):
        out = refit_mod.run_refit(task, data)
    assert out.status == "failed" and out.reason.startswith(UNEXPECTED), out.reason
    assert "does not build for curie" in out.reason


def test_sigterm_to_the_whole_process_group_stops_the_search(space_file, tmp_path):
    # a batch system's time limit signals every process of the job: the pool workers died
    # holding a queue lock and the search waited for it for ever (only SIGKILL ended it)
    import os
    import signal
    import subprocess
    import sys

    out = fresh(tmp_path / "s")
    exe = Path(sys.executable).with_name("ebnn")
    proc = subprocess.Popen(
        [str(exe), "search", str(space_file), "--sram", "2k", "--trials", "6", "--epochs", "5",
         "--train-images", "300", "--jobs", "2", "-o", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stderr is not None
    # the first candidate finished: its worker waits idle (holding the queue's read lock, in
    # multiprocessing.Pool) while the other trains on
    line = ""
    while not line.startswith("trial "):
        line = proc.stderr.readline()
        assert line, "the search ended before a trial finished"
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        rest = proc.communicate(timeout=90)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the search did not stop within 90 s of SIGTERM")
    assert proc.returncode == command.EXIT_INTERRUPTED, rest
    assert "interrupted: finished trials are kept" in rest and "Traceback" not in rest
    assert (out / "study.db").is_file() and (out / "pareto.json").is_file()


def test_the_plot_quotes_mnist_anchors_only_for_mnist(local):
    """SpArSe's and the eBNN paper's MNIST accuracies beside a search on the bundled MNIST,
    --dataset mnist or MNIST's own files (--data-dir); not beside one on the user's own --data
    or another data set (search review finding 3: every --data search's plot showed them)."""
    from ebnn.search.plot import MNIST_ANCHORS, anchors_for

    settings = Settings.load(local)
    assert settings.dataset is None and settings.data_dir is None
    assert anchors_for(settings) == MNIST_ANCHORS
    assert anchors_for(replace(settings, dataset="mnist", data_dir="/idx")) == MNIST_ANCHORS
    assert anchors_for(replace(settings, data_dir="/idx")) == MNIST_ANCHORS
    for other in ({"data_path": "shapes/"}, {"dataset": "digits"},
                  {"dataset": "fashion-mnist", "data_dir": "/idx"}):
        assert anchors_for(replace(settings, **other)) == (), other


def test_common_reasons_count_reasons_that_differ_only_in_their_figures():
    from ebnn.search.outputs import common_reasons

    records = [
        {"status": "invalid", "reason": "trial 0: layer 1: kernel 17x17 does not fit 16x16"},
        {"status": "invalid", "reason": "layer 1: kernel 20x20 does not fit 16x16"},
        {"status": "rejected", "reason": "before training: SRAM at least 1,396 B > 200 B"},
        {"status": "rejected", "reason": "before training: SRAM at least 1,396 B > 200 B"},
        {"status": "rejected", "reason": "before training: SRAM at least 396 B > 200 B"},
        {"status": "failed", "reason": "does not build for curie: no compiler"},
        {"status": "ok", "reason": None},
    ]
    assert common_reasons(records, 2) == [
        "3 x before training: SRAM at least 1,396 B > 200 B (figures differ)",
        "2 x layer 1: kernel 17x17 does not fit 16x16 (figures differ)"]
    assert common_reasons(records[5:], 3) == ["1 x does not build for curie: no compiler"]


def test_a_search_without_the_cross_compiler_stops_before_its_first_trial(space_file,
                                                                           tmp_path):
    """Every candidate is built: without arm-none-eabi-gcc each failed in turn, all counted
    against --trials, so a --resume with the compiler back had none left (review finding 11)."""
    with mock.patch("toolchain.build.shutil.which", return_value=None):
        line = one_line_error(ebnn("search", space_file, *ARGS, "-o", tmp_path / "s"))
    assert "arm-none-eabi-gcc not found" in line and "apt-get install" in line
    assert not (tmp_path / "s").exists()


def test_fewer_training_images_than_classes_is_refused(space_file, tmp_path):
    """--train-images promises every class: below the class count some had none (search
    review finding 10)."""
    line = one_line_error(ebnn("search", space_file, "--train-images", "9", "--trials", "1",
                               "-o", tmp_path / "s"))
    assert line == ("error: --train-images 9: fewer than the data's 10 classes; every class "
                    "needs a training image")
    assert not (tmp_path / "s").exists()


def test_a_report_writes_through_no_link_and_copies_no_linked_trial_file(local, tmp_path):
    """A search folder from elsewhere: pareto.md, pareto.json, pareto.png and .lock linked to
    files outside were overwritten by --report, and a trial's model.toml linked to a secret
    was copied into pareto/ (s53 hardening review H7). Links are replaced, never written
    through, and a linked trial file is refused."""
    out = tmp_path / "s"
    shutil.copytree(local, out)
    victims = {}
    for name in ("pareto.md", "pareto.json", "pareto.png", ".lock", "search.json"):
        victim = tmp_path / f"victim-{name.strip('.')}"
        victim.write_text("keep me\n")
        victims[name] = victim
        (out / name).unlink(missing_ok=True)
        if name == "search.json":
            (out / name).write_text((local / name).read_text())
            continue
        (out / name).symlink_to(victim)
    ran = ebnn("search", "--report", out)
    assert ran.returncode == 0, ran.stderr
    assert all(v.read_text() == "keep me\n" for v in victims.values())
    assert not (out / "pareto.md").is_symlink() and (out / "pareto.md").read_text().startswith(
        "#")
    number = json.loads((out / "pareto.json").read_text())[0]["trial"]  # a Pareto model's
    trial = out / "trials" / f"{number:05d}"
    secret = tmp_path / "secret"
    secret.write_text("AWS_SECRET\n")
    (trial / "model.toml").unlink()
    (trial / "model.toml").symlink_to(secret)
    ran = ebnn("search", "--report", out)
    assert ran.returncode == 2 and "a symbolic link" in ran.stderr, ran.stderr
    assert "AWS_SECRET" not in "".join(p.read_text(errors="replace")
                                       for p in (out / "pareto").glob("*.toml"))


def test_a_damaged_model_in_an_outcome_or_an_oversized_folder_file_is_one_line(
        local, tmp_path, monkeypatch):
    """An outcome's model without a name, or whose layers are a number, gave KeyError and
    TypeError tracebacks; a 99 MB study.db took 2.6 GB (s53 hardening review M6, M10)."""
    from ebnn.search.records import OUTCOME, problem

    good = {"name": "m", "layers": [{"type": "conv"}]}
    shape = OUTCOME["config"]
    assert problem({"model": good}, shape) is None
    assert problem({"model": {"layers": []}}, shape) is not None
    assert problem({"model": {"name": "m", "layers": 5}}, shape) is not None
    out = tmp_path / "s"
    shutil.copytree(local, out)
    import ebnn.search.study as study

    monkeypatch.setattr(study, "MAX_STUDY_BYTES", 1024)
    with pytest.raises(study.SearchError, match="more than the 0 MiB a study"):
        study.open_study(out, study.Settings.load(out), create=False)
    monkeypatch.setattr(study, "MAX_SETTINGS_BYTES", 16)
    with pytest.raises(study.SearchError, match="not a search's settings"):
        study.Settings.load(out)
