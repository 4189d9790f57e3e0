"""Helpers for the simulator tests: building test programs and running them.

Programs live in tests/programs/ and are built with the project's own toolchain
(``toolchain.build``), each (sources, target, defines, runtime, sram) combination once per
session. They run either through the Python API (``sim.load_elf`` + ``sim.Simulator``/``sim.run``)
or through the installed ``ebnn-sim`` command in a subprocess, the way a user runs them.
"""

import contextlib
import functools
import json
import math
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sim
from toolchain.build import build

PROGRAMS = Path(__file__).parent / "programs"
EBNN_SIM = Path(sys.executable).with_name("ebnn-sim")


class Firmware:
    """Builds test programs on demand, caching each distinct build for the session."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._cache: dict[tuple, Path] = {}
        self._lock = threading.Lock()

    def __call__(
        self,
        *sources: str,
        target: str = "curie",
        defines: Mapping[str, str | int | None] | None = None,
        runtime: bool = True,
        sram: int | None = None,
    ) -> Path:
        """Path of the ELF built from ``sources`` (names in tests/programs/)."""
        defs = tuple(sorted((defines or {}).items()))
        key = (sources, target, defs, runtime, sram)
        with self._lock:
            if key not in self._cache:
                stem = "-".join(Path(s).stem for s in sources)
                tag = "_".join(f"{k}{'' if v is None else '=' + str(v)}" for k, v in defs)
                name = f"{len(self._cache):03d}-{stem}-{target}{'-' + tag if tag else ''}.elf"
                out = self.out_dir / name.replace("/", "_")
                build([PROGRAMS / s for s in sources], out, target, defines=dict(defs),
                      runtime=runtime, sram=sram)
                self._cache[key] = out
            return self._cache[key]

    def image(self, *sources: str, **kwargs: Any) -> sim.FirmwareImage:
        return sim.load_elf(self(*sources, **kwargs))


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None  # the --json report, when one was written

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _read_report(json_path: Path | None) -> dict[str, Any] | None:
    if json_path is not None and json_path.exists():
        return json.loads(json_path.read_text())
    return None


def run_cli(
    *args: str | os.PathLike,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    json_path: Path | None = None,
    timeout: float = 60,
    preexec_fn: Callable[[], None] | None = None,
) -> CliResult:
    """Run ``ebnn-sim ARGS`` in a subprocess; with ``json_path``, add ``--json`` and parse it."""
    cmd = [str(EBNN_SIM), *map(str, args)]
    if json_path is not None:
        cmd += ["--json", str(json_path)]
    full_env = dict(os.environ)
    full_env.pop("FORCE_COLOR", None)  # plain text, as in a pipe
    full_env.update({"NO_COLOR": "1", "COLUMNS": "80"})
    full_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=full_env,
                          timeout=timeout, check=False, preexec_fn=preexec_fn)
    return CliResult(proc.returncode, proc.stdout, proc.stderr, _read_report(json_path))


def run_cli_in_process(
    *args: str | os.PathLike,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    json_path: Path | None = None,
) -> CliResult:
    """The same command through click's CliRunner, without starting a Python process (about
    0.5 s of imports saved per call). An exception escaping the command is appended to stderr
    as the traceback Python would print, so "no Traceback" checks hold for both runners."""
    from click.testing import CliRunner
    from rich.console import Console

    import sim.cli

    argv = [str(a) for a in args]
    if json_path is not None:
        argv += ["--json", str(json_path)]
    full_env = {"NO_COLOR": "1", "COLUMNS": "80", **(env or {})}
    # A console made now, for the runner's captured (non-terminal) stderr, as a fresh process
    # writing to a pipe would make it.
    saved = sim.cli.err
    sim.cli.err = Console(stderr=True, highlight=False, color_system=None, width=80)
    try:
        with contextlib.chdir(cwd or Path.cwd()):
            result = CliRunner().invoke(sim.cli.main, argv, env=full_env)
    finally:
        sim.cli.err = saved
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return CliResult(result.exit_code, result.stdout, stderr, _read_report(json_path))


def assert_single_error_line(result: CliResult) -> str:
    """Exit code 2, one line on stderr that starts with ``error:``, no traceback anywhere."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.error_lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    return lines[0]


def report_without_wall_time(report: sim.RunReport) -> dict[str, Any]:
    d = report.to_dict()
    d.pop("wall_seconds")
    return d



def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@functools.cache
def _import_cpu_seconds() -> float:
    """CPU seconds a fresh Python takes to import what the ebnn-sim commands import."""
    probe = subprocess.Popen([sys.executable, "-c", "import sim.cli, sim.profile, sim.budgets"])
    _, status, usage = os.wait4(probe.pid, 0)
    probe.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def wait_until_running(proc: subprocess.Popen, extra: float = 1.0, limit: float = 120) -> None:
    """Wait until ``proc`` (an ebnn-sim command) has used ``extra`` CPU seconds more than its
    imports take, i.e. it is past start-up and emulating: on a loaded machine a fixed sleep
    can send Ctrl-C while Python is still importing. CPU time, unlike wall time, does not
    stretch with the machine's load."""
    imports = _import_cpu_seconds()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if cpu_seconds(proc.pid) > imports + extra:
            return
        time.sleep(0.2)
    raise AssertionError("the command did not get past its start-up")


def die_on_odd(task: int, data: object) -> int:
    """A backend task for tests: the worker dies on an odd task (as the OOM killer would
    end it), returns an even one."""
    import time

    if task % 2:
        os._exit(1)
    time.sleep(0.5)
    return task


class FakeTimers:
    """The exception model's clock and device timers, as a device uses them: ``now`` is set by
    the test; one timer per owner, as the model keeps them; the earliest planned is ``due``
    (None: none) and its ``action``."""

    def __init__(self, now: int = 0) -> None:
        self.now = now
        self.timers: dict[object, tuple[int, Callable[[], None]]] = {}

    @property
    def due(self) -> int | None:
        return min((when for when, _ in self.timers.values()), default=None)

    @property
    def action(self) -> Callable[[], None] | None:
        planned = sorted(self.timers.values(), key=lambda t: t[0])
        return planned[0][1] if planned else None

    def has_timer(self, owner: object) -> bool:
        return owner in self.timers

    def set_timer(self, owner: object, when: int | None, action: Callable[[], None],
                  wakes: bool | Callable[[], bool] = True) -> None:
        if when is None:
            self.timers.pop(owner, None)
        else:
            self.timers[owner] = (when, action)


class FakeDeviceHost:
    """Just enough simulator for register-level device tests (sim.devices.DeviceHost): no
    other device (a part's peripheral is then always clocked), no console input; what the
    device lists as unmodelled, sends to the console and drives on its interrupt lines is
    kept for the test."""

    def __init__(self, now: int = 0) -> None:
        self.exceptions = FakeTimers(now)
        self.listed: list[tuple[str, int, int, int | None]] = []
        self.whys: list[str] = []  # the why of each listed access
        self.sent = bytearray()
        self.lines: dict[int, bool] = {}
        self.clock_hz = 32_000_000
        self.clocks: list[tuple[int, int, str]] = []  # what set_clock was told
        self.warnings: list[str] = []

    def set_clock(self, hz: int, wait_states: int, source: str) -> None:
        self.clock_hz = hz
        self.clocks.append((hz, wait_states, source))

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def analog_code(self, channel: int, at: int | None = None) -> int | None:
        return None

    def analog_input(self, channel: int) -> None:
        return None

    def seconds_at(self, cycle: int) -> float:
        return cycle / self.clock_hz

    def cycle_at(self, seconds: float, since: int | None = None) -> int:
        since = self.exceptions.now if since is None else since
        return max(since, math.ceil(seconds * self.clock_hz - 1e-6))

    def unmodelled(self, device: Any, offset: int, size: int, value: int | None,
                   why: str = "") -> None:
        self.listed.append((device.name, offset, size, value))
        self.whys.append(why)

    def device(self, name: str) -> None:
        return None

    def store_cycle(self) -> int:
        return self.exceptions.now if self.acting is None else self.acting

    acting: int | None = None

    def acting_at(self, cycle: int | None) -> int | None:
        old, self.acting = self.acting, cycle
        return old

    stalled_until = 0  # the last stall_fetches

    def stall_fetches(self, until: int) -> None:
        self.stalled_until = until

    def console_write(self, data: bytes) -> None:
        self.sent += data

    def console_read(self) -> int | None:
        return None

    def set_irq_level(self, irq: int, high: bool, source: object = None) -> None:
        self.lines[irq] = high


def check_one(cli: Callable[..., Any], tmp_path: Path, elf: Path, line: str,
              name: str = "budgets") -> tuple[Any, dict[str, Any] | None]:
    """``ebnn-sim check`` of one budget table for ``elf`` (a 1 KiB stack budget) with the
    extra key ``line`` (``'pin = "PA0=b.csv"'``), written to ``name``.toml in ``tmp_path``:
    the command's result, and its one run's report (None when the check did not pass)."""
    config = tmp_path / f"{name}.toml"
    config.write_text(f'[[budget]]\nelf = "{elf}"\nstack = "1k"\n{line}\n')
    out = tmp_path / f"{name}.json"
    res = cli("check", "--config", config, "--json", out, json=False)
    if res.returncode != 0:
        return res, None
    [result] = json.loads(out.read_text())["elfs"]
    return res, result["report"]


def build_example(cli: Callable[..., Any], tmp_path: Path, example: str, *defines: str) -> Path:
    """examples/``example`` built for the stm32l031 with its interrupt vectors (``-D`` each of
    ``defines``) into ``tmp_path``: the ELF (the build must succeed)."""
    elf = tmp_path / f"{Path(example).stem}{''.join('-' + d.lower() for d in defines)}.elf"
    flags = [arg for define in defines for arg in ("-D", define)]
    root = Path(__file__).resolve().parents[1]
    built = cli("build", root / "examples" / example, "-t", "stm32l031", "--irq-vectors",
                *flags, "-o", elf, json=False)
    assert built.returncode == 0, built.stderr
    return elf
