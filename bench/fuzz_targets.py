"""The entry points that read untrusted files, as fuzz targets.

Each target takes the raw bytes of one file, writes them where the loader expects a file, and
calls the loader the way the CLI does. A target returns normally when the loader accepted the
input or refused it with its documented one-line error (``InvalidFirmware``, ``ArtifactError``,
...); anything else it raises is a bug the fuzzer reports. Hangs and memory blow-ups are caught
by the fuzzing engine's time and RSS limits (``bench/fuzz.py``), not here.

Used by the time-bounded property tests in CI (``tests/test_fuzz.py``, Hypothesis) and by the
long coverage-guided campaign (``make fuzz``, Atheris). Seeds are real files the project makes or
ships: an ELF built by the project's toolchain with DWARF, the shipped ``.ebnn``, configs,
budgets and reports, the sample PNG.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """One fuzzed entry point: ``check(data, workdir)`` and the file name it is fed as."""

    name: str
    filename: str
    check: Callable[[bytes, Path], None]
    what: str


def _write(workdir: Path, filename: str, data: bytes) -> Path:
    path = workdir / filename
    path.write_bytes(data)
    return path


def _elf(data: bytes, workdir: Path) -> None:
    from sim.elf import InvalidFirmware, load_elf

    path = _write(workdir, "fw.elf", data)
    try:
        image = load_elf(path)
    except InvalidFirmware:
        return
    # What every command does next with a loaded image: look up symbols and functions.
    for seg in image.segments:
        image.function_at(seg.address)


def _dwarf(data: bytes, workdir: Path) -> None:
    from sim.profile import SourceMap

    path = _write(workdir, "fw.elf", data)
    smap = SourceMap(path)
    for address in [0, 0x100, 0x1000, *list(smap.functions)[:8]]:
        where = smap.lookup(address)
        if where is not None:
            smap.line_text(*where)


def _artifact(data: bytes, workdir: Path) -> None:
    from ebnn.artifact import ArtifactError, load

    path = _write(workdir, "model.ebnn", data)
    try:
        load(path)
    except ArtifactError:
        return


def _config(data: bytes, workdir: Path) -> None:
    from ebnn.config import ConfigError, load_config

    path = _write(workdir, "model.toml", data)
    try:
        load_config(path)
    except ConfigError:
        return


def _budgets(data: bytes, workdir: Path) -> None:
    from sim.budgets import BudgetError, load_config

    path = _write(workdir, "budgets.toml", data)
    try:
        load_config(path)
    except BudgetError:
        return


def _report(data: bytes, workdir: Path) -> None:
    from sim.diff import DiffError, diff, load_report

    path = _write(workdir, "report.json", data)
    try:
        report = load_report(path)
    except DiffError:
        return
    diff(report, report)


def _png(data: bytes, workdir: Path) -> None:
    from sim.inputs import InputError, console_bytes

    path = _write(workdir, "input.png", data)
    try:
        console_bytes(path)
    except InputError:
        return


def _npy(data: bytes, workdir: Path) -> None:
    from sim.inputs import InputError, console_bytes

    path = _write(workdir, "input.npy", data)
    try:
        console_bytes(path)
    except InputError:
        return


def _npz(data: bytes, workdir: Path) -> None:
    from ebnn.data import DatasetError
    from ebnn.datafiles import load_path

    path = _write(workdir, "data.npz", data)
    try:
        load_path(path)
    except DatasetError:
        return


def _csv(data: bytes, workdir: Path) -> None:
    from ebnn.data import DatasetError
    from ebnn.datafiles import load_path

    path = _write(workdir, "data.csv", data)
    try:
        load_path(path)
    except DatasetError:
        return


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("elf", "fw.elf", _elf, "ELF loader (sim.elf.load_elf)"),
    Target("dwarf", "fw.elf", _dwarf, "DWARF source map (sim.profile.SourceMap)"),
    Target("artifact", "model.ebnn", _artifact, "model artifact (ebnn.artifact.load)"),
    Target("config", "model.toml", _config, "model config (ebnn.config.load_config)"),
    Target("budgets", "budgets.toml", _budgets, "budgets file (sim.budgets.load_config)"),
    Target("report", "report.json", _report, "diff's report reader (sim.diff)"),
    Target("png", "input.png", _png, "--input PNG (sim.inputs)"),
    Target("npy", "input.npy", _npy, "--input .npy (sim.inputs)"),
    Target("npz", "data.npz", _npz, "--data .npz (ebnn.datafiles)"),
    Target("csv", "data.csv", _csv, "--data .csv (ebnn.datafiles)"),
)}


def _seed_elf(workdir: Path) -> bytes:
    """A small program with DWARF, built by the project's own toolchain."""
    from toolchain.build import build

    out = workdir / "seed.elf"
    build([ROOT / "tests" / "programs" / "compute.c"], out, "curie", extra_cflags=["-g"])
    return out.read_bytes()


def _seed_dwarf(workdir: Path) -> bytes:
    """One compile unit with DWARF and no runtime: the fast seed of the DWARF target."""
    from toolchain.build import build

    out = workdir / "seed-dwarf.elf"
    build([ROOT / "bench" / "programs" / "fuzz_dwarf_seed.c"], out, "curie", extra_cflags=["-g"],
          runtime=False)
    return out.read_bytes()


def _seed_npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(28 * 28, dtype=np.uint8).reshape(28, 28))
    return buf.getvalue()


def seeds(name: str, workdir: Path | None = None) -> list[bytes]:
    """Valid inputs for target ``name``: the fuzzer mutates these."""
    ex = ROOT / "examples"
    if name in ("elf", "dwarf"):
        make = _seed_elf if name == "elf" else _seed_dwarf
        if workdir is None:
            with tempfile.TemporaryDirectory() as tmp:
                return [make(Path(tmp))]
        return [make(workdir)]
    if name == "artifact":
        return [(ex / m / f"{m}.ebnn").read_bytes() for m in ("ebnn-simple", "mnist")]
    if name == "config":
        return [p.read_bytes() for p in sorted(ex.glob("*/*.toml"))]
    if name == "budgets":
        return [(ex / "budgets.toml").read_bytes()]
    if name == "report":
        return [p.read_bytes() for p in sorted((ex / "reports").glob("*.json"))]
    if name == "png":
        return [(ex / "mnist" / "digit-7.png").read_bytes()]
    if name == "npy":
        return [_seed_npy()]
    if name == "npz":
        buf = io.BytesIO()
        rng = np.random.default_rng(0)
        np.savez(buf, x=rng.integers(0, 256, (6, 4, 4), np.uint8), y=np.arange(6) % 3,
                 x_test=rng.random((3, 4, 4)).astype(np.float32), y_test=np.arange(3))
        return [buf.getvalue()]
    if name == "csv":
        rows = ["label," + ",".join(f"p{i}" for i in range(4))]
        rows += [f"{i % 2},{i},{2 * i},{3 * i},{4 * i}" for i in range(6)]
        return ["\n".join(rows).encode() + b"\n", b"label,a,b\n0,0.5,-1.25\n1,2e3,7\n"]
    raise KeyError(name)


def mutations(data: bytes, rng: np.random.Generator, count: int) -> Iterator[bytes]:
    """``count`` random mutations of ``data``: byte flips, truncations, insertions, splices of
    interesting integers (the CI-sized fallback of a coverage-guided mutator)."""
    interesting = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80",
                   b"\xff\xff\xff\xff", b"9" * 40, b"[" * 64, b"1e400", b"NaN", b"-1"]
    for _ in range(count):
        buf = bytearray(data)
        for _ in range(int(rng.integers(1, 8))):
            op = int(rng.integers(0, 5))
            pos = int(rng.integers(0, max(len(buf), 1)))
            if op == 0 and buf:
                buf[pos % len(buf)] = int(rng.integers(0, 256))
            elif op == 1:
                del buf[pos:]
            elif op == 2:
                buf[pos:pos] = interesting[int(rng.integers(0, len(interesting)))]
            elif op == 3 and buf:
                end = min(len(buf), pos + int(rng.integers(1, 64)))
                del buf[pos:end]
            elif op == 4 and len(buf) >= 4:
                word = interesting[int(rng.integers(4, 7))]
                buf[pos:pos + 4] = word
        yield bytes(buf)
