"""Every command in the README runs as written.

The README's shell blocks are extracted and run, in order, by bash in a scratch copy of the
repository's examples (with the real ``.venv``), the way a new user pastes them after the two
set-up commands. Long commands are shortened with options their ``--help`` documents:
``ebnn train`` gets ``--epochs 1``, ``ebnn-sim verify`` gets ``--limit 20`` and ``ebnn search``
gets ``--trials 2 --epochs 1 --train-images 300``. The set-up
commands themselves (``make demo``, ``make test``) are not run here: ``make test`` is what CI
runs, and ``make demo`` is the long form of the pipeline block below it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Documented options that make a long command short; inserted before the command's comment.
SHORTEN = {
    "ebnn train": ["--epochs", "1"],
    "ebnn-sim verify": ["--limit", "20"],
    "ebnn search": ["--trials", "2", "--epochs", "1", "--train-images", "300"],
}


def shell_commands(markdown: str) -> list[str]:
    """The commands of every ```sh block, continuation lines joined, comments dropped."""
    commands: list[str] = []
    for block in re.findall(r"^```(?:sh|bash|console)\n(.*?)^```", markdown, re.M | re.S):
        pending = ""
        for line in block.splitlines():
            line = pending + line
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            code = re.split(r"\s#\s", " " + line, maxsplit=1)[0].strip()
            if code:
                commands.append(code)
    return commands


def shortened(command: str) -> str:
    for prefix, extra in SHORTEN.items():
        if re.search(rf"(^|/){re.escape(prefix)}\b", command):
            return f"{command} {' '.join(extra)}"
    return command


def test_shell_commands_are_extracted() -> None:
    md = ("text\n```sh\nmake demo   # set up\nls \\\n  -l  # long\n```\n"
          "```\nnot a shell block\n```\n```sh\n.venv/bin/ebnn train x.toml -o y.pt  # go\n```\n")
    assert shell_commands(md) == ["make demo", "ls    -l", ".venv/bin/ebnn train x.toml -o y.pt"]
    assert shortened(".venv/bin/ebnn train x.toml -o y.pt") == \
        ".venv/bin/ebnn train x.toml -o y.pt --epochs 1"
    assert shortened(".venv/bin/ebnn-sim run a.elf") == ".venv/bin/ebnn-sim run a.elf"


def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    venv = ROOT / ".venv"
    if not (venv / "bin" / "ebnn-sim").exists():
        pytest.fail("the README's commands need .venv: run `make test` (it creates it)")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".venv").symlink_to(venv)
    commands = [c for c in shell_commands((ROOT / "README.md").read_text())
                if not c.startswith("make ")]
    assert len(commands) >= 10, commands  # the README's pipeline, simulator and CI blocks
    env = {**os.environ, "CI": "true"}
    for command in commands:
        cmd = shortened(command)
        proc = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=600, check=False)
        assert proc.returncode == 0, (
            f"README command failed (exit {proc.returncode}): {cmd}\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        assert "Traceback" not in proc.stderr, cmd
    assert (tmp_path / "out" / "mnist.elf").is_file()
    assert (tmp_path / "out" / "budgets.xml").is_file()
    assert (tmp_path / "out" / "profile.html").is_file()
