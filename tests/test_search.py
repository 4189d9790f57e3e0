"""`ebnn search`: a tiny search end to end with both backends, resume, rejection before
training, and every reported model inside the budget in the simulator.

The toy space has a first conv of 2 or 4 filters (fits 2 KiB or not, depending on its stride
and pool) or 48 filters (over 2 KiB whatever the weights); 1 epoch on 300 images.
"""

import json
import struct
import traceback
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import optuna
import pytest
from click.testing import CliRunner
from rich.console import Console

from ebnn import cli as ebnn_cli
from ebnn import reference
from ebnn.artifact import load as load_artifact
from ebnn.data import load_dataset
from ebnn.search import command
from ebnn.search.backends import InProcess
from ebnn.search.datasets import load_search_data
from ebnn.search.measure import Budget, Task, run_task
from ebnn.search.space import load_space
from ebnn.search.study import Driver, Settings, open_study
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
# 1 epoch on the first 300 training images, a 2 KiB SRAM budget, batches of 2
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
    # the probe with untrained weights measured the trained model's SRAM to within the first
    # layer's sign-specialised stack frame (docs/search.md), and a lower bound of its cycles
    trained = [o for o in results.values() if o["final"] is not None]
    assert trained
    assert any(o["status"] == "rejected" and not o["trained"] for o in results.values())
    # progress: one plain line per trial when stderr is not a terminal
    log = (local.parent / "stderr.txt").read_text()
    assert f"done {TRIALS}, rejected " in log
    assert sum(line.startswith("trial ") for line in log.splitlines()) == TRIALS
    for o in trained:
        assert abs(o["probe"]["sram_peak"] - o["final"]["sram_peak"]) <= 32
        assert o["probe"]["cycles"] <= o["final"]["cycles_min"]


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


def load_space_text(tmp_path: Path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY)
    return load_space(path)


def test_ray_backend_gives_the_same_results(local, space_file, test_dir, tmp_path):
    out = fresh(tmp_path / "ray")
    ran = ebnn("search", space_file, *ARGS, "--jobs", "2", "--backend", "ray",
               "--test-data-dir", test_dir, "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert essentials(out) == essentials(local)
    assert pareto(out) == pareto(local)


def pareto(directory: Path) -> list[dict]:
    """pareto.json without the wall times."""
    return [{k: v for k, v in e.items() if k != "seconds"}
            for e in json.loads((directory / "pareto.json").read_text())]


class StopAfterFirst(InProcess):
    """Tells one outcome, then the run is interrupted (as by Ctrl-C) before the next."""

    def run_batch(self, tasks, done):
        done(run_task(tasks[0], self._data))
        raise KeyboardInterrupt


def test_resume_after_an_interrupted_run(local, space_file, tmp_path):
    out = fresh(tmp_path / "resumed")
    # the search the CLI started in `local`, interrupted inside its first batch
    settings = Settings.load(local)
    settings.save(out)
    space = load_space(space_file)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    study = open_study(out, settings, create=True)
    driver = Driver(out, settings, space, study, StopAfterFirst(data), data)
    with pytest.raises(KeyboardInterrupt):
        driver.run(TRIALS, None)
    states = {n: o["state"] for n, o in outcomes(out).items()}
    assert "RUNNING" in states.values()
    ran = ebnn("search", "-o", out, "--resume", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    # nothing lost, nothing run twice, and the same study as the uninterrupted search
    assert essentials(out) == essentials(local)


def test_report_rerenders(local):
    before = (local / "pareto.json").read_text()
    (local / "pareto.json").unlink()
    ran = ebnn("search", "--report", local, width=80)
    assert ran.returncode == 0, ran.stderr
    assert (local / "pareto.json").read_text() == before
    # Issue 16: a CI log's 80 columns; only the line naming the report may run longer, whole
    lines = ran.stderr.splitlines()
    assert f"Pareto set of {len(json.loads(before))}: {local / 'pareto.md'}" in lines
    assert all(len(line) <= 80 for line in lines if not line.startswith("Pareto set")), lines


@pytest.mark.parametrize(("args", "words"), [
    (("-o", "{tmp}/none", "--resume"), "no search here"),
    (("{space}", "-o", "{tmp}/x", "--time", "2x"), "--time '2x'"),
    (("-o", "{tmp}/x"), "give the SPACE.toml"),
    (("{space}",), "with -o DIR"),
    (("--report", "{local}", "-o", "{local}"), "no -o or --resume with it"),
    (("{tmp}/missing.toml", "-o", "{tmp}/x"), "no such file"),
    (("{local}/search.json", "-o", "{tmp}/x"), "not valid TOML"),
    (("{space}", "-o", "{local}"), "holds a search already"),
    (("-o", "{local}", "--resume", "--sram", "1k"), "--sram differs"),
    (("{space}", "-o", "{tmp}/x", "--address", "a:1"), "--address is for --backend ray"),
])
def test_user_mistakes_are_one_line(local, space_file, tmp_path, args, words):
    args = [a.format(tmp=tmp_path, space=space_file, local=local) for a in args]
    assert words in one_line_error(ebnn("search", *args))
