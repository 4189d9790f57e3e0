"""Every output format of ``ebnn-sim``, one module per format, each taking typed results.

- :mod:`sim.formats.text`: rich tables for the terminal (run summary, profile, check, diff,
  targets);
- :mod:`sim.formats.json`: the JSON documents (run report, profile, check results);
- :mod:`sim.formats.junit`: JUnit XML of check results;
- :mod:`sim.formats.markdown`: a diff as GitHub Markdown;
- :mod:`sim.formats.speedscope`: a profile as a speedscope flame graph;
- :mod:`sim.formats.html`: a profile as one self-contained HTML page.
"""

import os
from pathlib import Path


class OutputError(Exception):
    """An output file that cannot be written; ``str()`` is one line for the user."""


def write_text(path: Path, text: str) -> None:
    """``text`` into ``path`` atomically: written to a temporary file beside it, then renamed
    over it, so an interrupted or failed command never leaves a half-written file. Parent
    directories are created. OutputError with one line when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_writable(path: Path | None) -> None:
    """OutputError unless ``path`` could be written: it is not a directory, and its nearest
    existing ancestor is a directory. Commands call this before a long run, so that a typo in
    an output path does not cost the run."""
    if path is None:
        return
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {path}: {parent} is not a directory")
            return
