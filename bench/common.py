"""What the model benchmarks share: paths, the example models, their test data, the host, JSON.

The example models are found, not listed: every folder of ``examples/`` with a model config
(``*.toml``) or an artifact (``*.ebnn``) is an example, and one without its artifact is
reported as missing, never skipped silently.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
EXAMPLES = REPO / "examples"
RESULTS = BENCH_DIR / "results"
QUICK_RESULTS = RESULTS / "quick"
DOCS = REPO / "docs"
BUILD = REPO / "build" / "bench"  # ELFs and generated C; build/ is ignored by git

#: The official MNIST test set, when the machine has it beside the repository.
OFFICIAL_MNIST = REPO.parent / "shared" / "data" / "mnist"
MAIN_MODEL = "mnist"  # the example whose firmware is verified on the full test set
TARGET = "curie"  # the paper's platform: 32 MHz, 15 KiB usable SRAM


@dataclass
class Example:
    name: str  # folder name under examples/
    folder: Path
    config: Path | None
    artifact: Path | None
    torch_model: Path | None  # a shipped .pt (normally not shipped)

    @property
    def is_main(self) -> bool:
        return self.name == MAIN_MODEL


def discover(examples: Path | None = None) -> list[Example]:
    """Every example folder with a model config or artifact, the main model first."""
    examples = examples or EXAMPLES
    found = []
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        # a model config has a [model] table (examples/search/ holds search spaces, others
        # budgets or a device's registers)
        configs = sorted(c for c in folder.glob("*.toml")
                         if re.search(r"^\[model\]", text := c.read_text(), re.M)
                         and not re.search(r"^\[space\]", text, re.M))
        artifacts = sorted(folder.glob("*.ebnn"))
        if not configs and not artifacts:
            continue  # not a model example (e.g. examples/demo: plain C)

        def pick(files: list[Path], folder: Path = folder) -> Path | None:
            named = [f for f in files if f.stem == folder.name]
            return (named or files or [None])[0]

        artifact = pick(artifacts)
        pts = sorted(folder.glob("*.pt"))
        found.append(Example(folder.name, folder, pick(configs), artifact, pick(pts)))
    found.sort(key=lambda e: (not e.is_main, e.name))
    return found


def rel(path: Path | str | None) -> str | None:
    """``path`` relative to the repository when inside it (for the results page)."""
    if path is None:
        return None
    p = Path(path)
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:
        return str(p)


# --- test data ---------------------------------------------------------------------------------

@dataclass
class TestData:
    dataset: str  # "mnist" | "fashion-mnist"
    split: str  # "test" | "validation"
    label: str  # for people: which images these are
    official: bool  # the data set's official test split
    images: np.ndarray
    labels: np.ndarray
    source: str
    data_dir: Path | None  # what `ebnn-sim verify --data-dir` needs to see the same images
    cli_args: tuple[str, ...]  # the `ebnn eval` / `ebnn-sim verify` options for these images


@cache
def _load_test_data(dataset: str, metadata_json: str,
                    input_shape: tuple[int, ...], classes: int) -> TestData:
    from types import SimpleNamespace

    from ebnn.evaluate import eval_dataset

    # all eval_dataset reads of an artifact
    art = SimpleNamespace(metadata=json.loads(metadata_json), input_shape=input_shape,
                          classes=classes)
    if dataset == "mnist":
        if (OFFICIAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file() or \
                (OFFICIAL_MNIST / "t10k-images-idx3-ubyte").is_file():
            ds, split = eval_dataset(art, None, OFFICIAL_MNIST, "test")
            label = f"MNIST official test set ({len(ds):,} images)"
            return TestData("mnist", split, label, True, ds.images, ds.labels, ds.source,
                            OFFICIAL_MNIST, ("--data-dir", str(OFFICIAL_MNIST)))
        ds, split = eval_dataset(art, "mnist", None, "validation")
        label = (f"MNIST bundled validation split ({len(ds):,} images held out in training; "
                 f"NOT the official test set, which was not found at {OFFICIAL_MNIST})")
        return TestData("mnist", split, label, False, ds.images, ds.labels, ds.source, None,
                        ("--split", "validation"))
    ds, split = eval_dataset(art, dataset, None, "test")
    label = f"{dataset} test split ({len(ds):,} images)"
    return TestData(dataset, split, label, True, ds.images, ds.labels, ds.source, None,
                    ("--dataset", dataset, "--split", "test"))


def test_data(art: Any) -> TestData:
    """The images a model is evaluated on: its data set's official test split when present."""
    dataset = art.metadata.get("dataset") or "mnist"
    cfg = art.metadata.get("config") or {}
    # Only the validation split depends on the model (its seed and fraction).
    key = json.dumps({"config": {"train": cfg.get("train", {})}}, sort_keys=True)
    return _load_test_data(dataset, key, tuple(art.input_shape), art.classes)


# --- building ----------------------------------------------------------------------------------

def build_elf(artifact: Path, target: str, name: str, stream: bool = False) -> Path:
    """Build ``artifact`` for ``target`` under build/bench/ (ToolchainError on failure); with
    ``stream``, ``ebnn build --stream``'s firmware (the image fed row by row)."""
    from ebnn.artifact import load
    from ebnn.build import build_firmware

    out = BUILD / f"{name}-{target}{'-stream' if stream else ''}.elf"
    build_firmware(load(artifact), out, target, stream=stream)
    return out


# --- the host ----------------------------------------------------------------------------------

def _version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def _first_line(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def host() -> dict[str, Any]:
    gcc = _first_line(["arm-none-eabi-gcc", "--version"])
    qemu = _first_line(["qemu-system-arm", "--version"])
    m = re.search(r"(\d+\.\d+(\.\d+)?)", qemu or "")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "machine": platform.machine(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "unicorn": _version("unicorn"),
        "capstone": _version("capstone"),
        "pyelftools": _version("pyelftools"),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "arm-none-eabi-gcc": gcc,
        "qemu-system-arm": m.group(1) if m else None,
        "ebnn-sim": _version("ebnn-sim"),
    }


def stamp(command: str) -> dict[str, Any]:
    """When, where and by which command a result was measured."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": command,
        "host": host(),
        "loadavg_at_start": [round(v, 2) for v in os.getloadavg()],
        "git": git_describe(),
    }


def git_describe() -> str | None:
    """The commit measured (``git describe --always --dirty``)."""
    return _first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"])


def result_header(benchmark: str, quick: bool) -> dict[str, Any]:
    """The opening keys of a benchmark's JSON: its name, mode and ``stamp``."""
    return {"benchmark": benchmark, "mode": "quick" if quick else "full",
            **stamp(f"python -m bench {benchmark}" + (" --quick" if quick else ""))}


# --- output ------------------------------------------------------------------------------------

def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_plain) + "\n")
    tmp.replace(path)
    return path


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return rel(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- progress ----------------------------------------------------------------------------------

def console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def progress() -> Iterator[Any]:
    """A rich progress display on stderr: bars for image counts, spinners for the rest."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console(), transient=False) as p:
        yield p

