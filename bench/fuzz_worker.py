"""One Atheris (libFuzzer) process for one fuzz target: ``python -m bench.fuzz_worker TARGET
[libFuzzer arguments...]``. Started by ``bench/fuzz.py``, which sets the corpus, run count,
per-input timeout and RSS limit and reads libFuzzer's statistics from stderr.

The project's packages and pyelftools are instrumented so the mutator is guided by their
coverage (instrumenting numpy and the standard library too makes every input several times
slower for little gain: their parsers are reached through ours).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["sim", "ebnn", "toolchain", "elftools"]):
    import ebnn.artifact
    import ebnn.config
    import ebnn.datafiles
    import sim.budgets
    import sim.diff
    import sim.elf
    import sim.inputs
    import sim.profile

from bench.fuzz_targets import TARGETS


def main() -> None:
    name = sys.argv[1]
    target = TARGETS[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"ebnn-fuzz-{name}-"))

    def one_input(data: bytes) -> None:
        target.check(data, workdir)

    atheris.Setup([sys.argv[0], *sys.argv[2:]], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    # the instrumented modules are imported for their coverage, not used by name here
    del ebnn, sim
    main()
