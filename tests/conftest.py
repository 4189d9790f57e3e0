"""Fixtures: test firmware built once per session, and the ``ebnn-sim`` command."""

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from helpers import CliResult, Firmware, run_cli, run_cli_in_process

# A shell's background job (`cmd &` without job control) or a CI runner may start the tests with
# SIGINT ignored, and an ignored signal stays ignored across exec: the Ctrl-C tests (ebnn train,
# search, the worker pools) check how our code handles SIGINT, so they start from Python's
# usual disposition, which every process the tests start then gets by default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Firmware:
    return Firmware(tmp_path_factory.mktemp("firmware"))


@pytest.fixture
def cli(tmp_path: Path):
    """``cli("run", elf, ...)`` -> CliResult; for ``run`` the --json report is parsed too.

    By default the command runs in this process (click's CliRunner); ``process=True`` starts
    the installed ``ebnn-sim`` script instead, exactly as a user would.
    """
    counter = iter(range(1000))

    def invoke(*args: str | os.PathLike, json: bool | None = None, process: bool = False,
               **kwargs: Any) -> CliResult:
        want_json = args[:1] == ("run",) if json is None else json
        path = tmp_path / f"report-{next(counter)}.json" if want_json else None
        runner = run_cli if process else run_cli_in_process
        return runner(*args, json_path=path, **kwargs)

    return invoke


# The longest files first: `--dist loadfile` (make test) hands a worker a whole file, so a
# file of several minutes started last holds the run up alone (test_readme.py's bench
# commands take ~6 min; measured with --durations, session 28: alphabetical order left it for
# last and the suite took 12-16 min on 2 cores). Other files keep their order.
SLOW_FILES = ("test_readme.py", "test_search.py", "test_search_pruning.py",
              "test_ebnn_exact.py", "test_hardening.py", "test_search_stratify.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))  # stable
