"""Every command in the README and in docs/ runs as written.

The shell blocks are extracted and run by bash in a scratch copy of the repository (its tracked
files, the built simulator hook and the real ``.venv``), the way a new user pastes them after
the two set-up commands:

- The README's blocks run first, in order (``test_readme_commands_run_as_written``).
- Each page of ``docs/`` then runs in its own copy of the state the README left (its
  ``out/`` folder, minus the README's search folder, which docs/search.md makes again), so a
  page can use ``out/mnist.elf`` and ``out/mnist.ebnn`` as the README made them.

```sh`` and ```bash`` blocks hold commands that must exit 0. ```console`` blocks are
transcripts: their ``$ `` lines are run, and an ``error: ...`` line shown in the output must
be what the command prints (exit non-zero); otherwise it must exit 0. Output lines in the docs
are not compared otherwise: they depend on the shortened training below.

Long commands are shortened with options their ``--help`` documents: ``ebnn train`` gets
``--epochs 1 --train-images 500``, ``ebnn-sim verify`` gets ``--limit 20``, ``ebnn search``
gets ``--trials 2 --epochs 1 --train-images 300`` and ``python -m bench`` gets ``--quick --out
out/bench``. The ``make`` targets are not run here: ``make test`` is what CI runs, ``make
demo`` is the long form of the README's pipeline block and ``make bench`` of the ``python -m
bench`` parts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))

#: Documented options that make a long command short; appended to the command.
SHORTEN = {
    "ebnn train": ["--epochs", "1", "--train-images", "500"],
    "ebnn-sim verify": ["--limit", "20"],
    "ebnn search": ["--trials", "2", "--epochs", "1", "--train-images", "300"],
    "python -m bench": ["--quick", "--out", "out/bench"],
}

_BLOCK = re.compile(r"^```(sh|bash|console)\n(.*?)^```", re.M | re.S)


def _joined(lines: list[str]) -> list[str]:
    """Continuation lines (ending in a backslash) joined to the next one."""
    out: list[str] = []
    pending = ""
    for line in lines:
        line = pending + line
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        out.append(line)
    return out


def _code(line: str) -> str:
    """A shell line without its trailing ``  # comment``."""
    return re.split(r"\s#\s", " " + line, maxsplit=1)[0].strip()


def shell_commands(markdown: str) -> list[str]:
    """The commands of every sh/bash block, continuation lines joined, comments dropped."""
    commands: list[str] = []
    for kind, block in _BLOCK.findall(markdown):
        if kind == "console":
            continue
        commands += [c for c in map(_code, _joined(block.splitlines())) if c]
    return commands


def transcripts(markdown: str) -> list[tuple[str, list[str]]]:
    """Every ``$ command`` of the console blocks, with the output lines shown under it."""
    out: list[tuple[str, list[str]]] = []
    for kind, block in _BLOCK.findall(markdown):
        if kind != "console":
            continue
        for line in _joined(block.splitlines()):
            if line.startswith("$ "):
                out.append((_code(line[2:]), []))
            elif out:
                out[-1][1].append(line)
    return out


def steps(markdown: str) -> list[tuple[str, list[str]]]:
    """All commands of a page in order: (command, output lines a transcript shows)."""
    found: list[tuple[int, str, list[str]]] = []
    for m in _BLOCK.finditer(markdown):
        block = m.group(0)
        if m.group(1) == "console":
            found += [(m.start(), c, shown) for c, shown in transcripts(block)]
        else:
            found += [(m.start(), c, []) for c in shell_commands(block)]
    return [(c, shown) for _, c, shown in sorted(found, key=lambda f: f[0])
            if not c.startswith("make ")]


def shortened(command: str) -> str:
    for prefix, extra in SHORTEN.items():
        if re.search(rf"(^|/){re.escape(prefix)}\b", command):
            if prefix == "ebnn search" and " --report " in f"{command} ":
                # a report runs nothing: the options that run a search are refused with it
                extra = [a for a in extra if a not in ("--trials", SHORTEN[prefix][1])]
            return f"{command} {' '.join(extra)}"
    return command


def run_steps(page: str, cwd: Path) -> None:
    env = {**os.environ, "CI": "true", "HOME": str(cwd / "home"), "COLUMNS": "80"}
    (cwd / "home").mkdir(exist_ok=True)
    for command, shown in steps(page):
        cmd = shortened(command)
        proc = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=900, check=False)
        said = f"(exit {proc.returncode}): {cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        assert "Traceback" not in proc.stderr, said
        errors = [line for line in shown if line.startswith("error:")]
        if errors:
            assert proc.returncode != 0, f"expected to fail {said}"
            for line in errors:
                assert line in proc.stderr.splitlines(), f"expected {line!r} {said}"
        else:
            assert proc.returncode == 0, f"failed {said}"


def scratch_copy(dest: Path) -> Path:
    """The repository's tracked files, its built extension and a link to its .venv."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for built in (ROOT / "sim").glob("_blockhook*.so"):
        shutil.copy2(built, dest / "sim" / built.name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def test_commands_are_extracted() -> None:
    md = ("text\n```sh\nmake demo   # set up\nls \\\n  -l  # long\n```\n"
          "```\nnot a shell block\n```\n```sh\n.venv/bin/ebnn train x.toml -o y.pt  # go\n```\n"
          "```console\n$ ebnn-sim run a.elf --input b.png  # c\nerror: b.png: no\n"
          "$ true\nok\n```\n")
    assert shell_commands(md) == ["make demo", "ls    -l", ".venv/bin/ebnn train x.toml -o y.pt"]
    assert transcripts(md) == [("ebnn-sim run a.elf --input b.png", ["error: b.png: no"]),
                               ("true", ["ok"])]
    assert [c for c, _ in steps(md)] == ["ls    -l", ".venv/bin/ebnn train x.toml -o y.pt",
                                         "ebnn-sim run a.elf --input b.png", "true"]
    assert shortened(".venv/bin/ebnn train x.toml -o y.pt") == \
        ".venv/bin/ebnn train x.toml -o y.pt --epochs 1 --train-images 500"
    assert shortened(".venv/bin/ebnn-sim run a.elf") == ".venv/bin/ebnn-sim run a.elf"
    assert shortened(".venv/bin/python -m bench models").endswith("--quick --out out/bench")
    assert shortened(".venv/bin/python -m bench report").endswith("--quick --out out/bench")
    assert shortened(".venv/bin/ebnn search --report out/s").endswith(
        "--report out/s --epochs 1 --train-images 300")


def test_a_transcript_error_must_be_what_the_command_prints(tmp_path: Path) -> None:
    page = "```console\n$ echo 'error: other' >&2; exit 2\nerror: expected\n```\n"
    with pytest.raises(AssertionError, match="expected 'error: expected'"):
        run_steps(page, tmp_path)
    page = "```console\n$ true\nerror: it fails\n```\n"
    with pytest.raises(AssertionError, match="expected to fail"):
        run_steps(page, tmp_path)
    run_steps("```console\n$ echo 'error: it fails' >&2; exit 2\nerror: it fails\n```\n",
              tmp_path)


@pytest.fixture(scope="module")
def readme_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the repository after the README's commands ran in it."""
    if not (ROOT / ".venv" / "bin" / "ebnn-sim").exists():
        pytest.fail("the README's commands need .venv: run `make test` (it creates it)")
    work = scratch_copy(tmp_path_factory.mktemp("readme"))
    page = (ROOT / "README.md").read_text()
    assert len(steps(page)) >= 10  # the README's pipeline, simulator and CI blocks
    run_steps(page, work)
    return work


def test_readme_commands_run_as_written(readme_state: Path) -> None:
    out = readme_state / "out"
    assert (out / "mnist.elf").is_file()
    assert (out / "budgets.xml").is_file()
    assert (out / "profile.html").is_file()
    assert json.loads((out / "s2k" / "pareto.json").read_text())


@pytest.mark.parametrize("doc", [d for d in DOCS if steps(d.read_text())],
                         ids=lambda d: d.name)
def test_docs_commands_run_as_written(doc: Path, readme_state: Path, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(readme_state, work, symlinks=True, ignore=shutil.ignore_patterns("s2k"))
    run_steps(doc.read_text(), work)
    if doc.name == "ci.md":  # the shipped reports are what the page's commands make
        for name in ("mnist-tiny", "mnist"):
            made = json.loads((work / "examples" / "reports" / f"{name}.json").read_text())
            shipped = json.loads((ROOT / "examples" / "reports" / f"{name}.json").read_text())
            # (and by this cycle model: a diff against them notes no other one)
            for key in ("instructions", "cycles", "sram", "flash", "cycle_model",
                        "cycles_method"):
                assert made[key] == shipped[key], (name, key)


def test_readme_results_table_is_the_one_bench_rendered() -> None:
    """The README's results are bench's headline (bench/results/headline.md), not a hand copy:
    a number re-measured by `make bench` must reach the README too."""
    headline = (ROOT / "bench" / "results" / "headline.md").read_text()
    assert headline.strip() in (ROOT / "README.md").read_text()
