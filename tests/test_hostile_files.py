"""Hostile files from the hardening review: each is one line and exit 2, in bounded memory,
and reads or writes nothing the user did not hand over (docs/security.md).

Memory bounds are proved by running the command in a process whose address space is capped
(``RLIMIT_AS``): without the bound it would fail there with a MemoryError traceback."""

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from sim.toml_guard import MAX_KEY_PARTS, key_parts

ROOT = Path(__file__).resolve().parent.parent
ADDRESS_SPACE = 1536 << 20  # far more than any refusal needs, far less than the bombs take


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_capped(module: str, *args: str | os.PathLike[str], timeout: float = 60
               ) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` with its address space capped at ADDRESS_SPACE."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], env=env,
                          preexec_fn=_capped, capture_output=True, text=True, timeout=timeout)


def assert_one_line(res: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2, res.stderr[-2000:]
    assert len(lines) == 1, res.stderr[-2000:]
    for word in words:
        assert word in lines[0]
    return lines[0]


# --- H8: a dotted-key bomb (tomllib's memory is quadratic in one key's parts) ---

def _dotted_bomb(path: Path, parts: int = 30_000) -> Path:
    """60 KB of ``a.a.a… = 1``: tomllib would take over 4 GB for it."""
    path.write_text("a" + ".a" * (parts - 1) + " = 1\n")
    return path


def test_a_dotted_key_bomb_in_a_model_config_is_one_line(tmp_path: Path) -> None:
    res = run_capped("ebnn.cli", "summary", _dotted_bomb(tmp_path / "bomb.toml"))
    assert_one_line(res, "bomb.toml", f"more than {MAX_KEY_PARTS} parts")


def test_a_dotted_key_bomb_in_a_register_map_is_one_line(firmware, tmp_path: Path) -> None:
    elf = firmware("hello.c", target="stm32l031")  # a target with an I2C controller
    bomb = _dotted_bomb(tmp_path / "dev.toml")
    res = run_capped("sim.cli", "run", elf, "--i2c", f"0x48={bomb}", "--run-for", "1ms")
    assert_one_line(res, "dev.toml", f"more than {MAX_KEY_PARTS} parts")


def test_a_dotted_table_header_bomb_is_refused_too(tmp_path: Path) -> None:
    bomb = tmp_path / "head.toml"
    bomb.write_text("[" + ".".join(["t"] * 30_000) + "]\nx = 1\n")
    assert_one_line(run_capped("ebnn.cli", "summary", bomb), f"more than {MAX_KEY_PARTS} parts")


@pytest.mark.parametrize("text, parts", [
    ('a.b.c = 1.5\n[x.y]\nz = 2020-01-01T00:00:00.5\n', 3),
    ('s = "a.b.c.d.e"\nt = \'a.b.c.d\'\n# a.b.c.d.e.f\n', 1),
    ('m = """a.b.c.d\n\\"""x.y.z.w""" \nn = \'\'\'a.b.c.d\n\'\'\'\'\'\n', 1),
    ('"q.q".\'r.r\' . s = 1', 3),
    ('x = {a.b = 1, c.d.e = [1.5, 2.5]}', 3),
])
def test_key_parts_skip_strings_and_comments(text: str, parts: int) -> None:
    assert key_parts(text) == parts
