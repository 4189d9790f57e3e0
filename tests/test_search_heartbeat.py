"""`ebnn search` outside a terminal (a CI log) says what it is doing after a while without a
line (review s53 L11: a trial trains for minutes and the log showed only the banner); in a
terminal the live bar does, and no heartbeat is printed."""

from types import SimpleNamespace
from unittest import mock

from click.testing import CliRunner
from rich.console import Console
from test_search import ARGS, ebnn, fresh

from ebnn import cli as ebnn_cli
from ebnn.search import command

SPACE = """
[model]
name = "beat"
input = [28, 28, 1]
classes = 10

[space]
blocks = [1, 2]
kinds = ["conv", "linear"]

[space.first]
filters = [4, 8]
kernel = 3
pool = 2

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


def test_the_heartbeat_line_says_which_trials_train_and_the_best_so_far():
    progress = command._Progress(40)
    progress._tally = SimpleNamespace(training=[7], batch_started=4808.0, started=4000.0,
                                      done=6, best={"val_accuracy": 0.971,
                                                    "final": {"sram_peak": 1412}})
    with mock.patch.object(command.time, "monotonic", return_value=5000.0):
        assert progress.heartbeat_line() == ("search: trial 7 of 40 training for 3m12s, "
                                             "16m40s elapsed, best so far 97.1% at 1,412 B")
        progress._tally.training, progress.total = [], None
        progress._tally.best = None
        assert progress.heartbeat_line() == ("search: 6 trials done, choosing the next, "
                                             "16m40s elapsed, best so far none yet")
        progress._tally.training = [3, 4, 5, 6, 7]
        assert progress.heartbeat_line().startswith(
            "search: trials 3, 4, 5, 6, ... training for 3m12s, ")


def test_a_search_in_a_log_beats_while_a_trial_trains(tmp_path, monkeypatch):
    monkeypatch.setattr(command, "HEARTBEAT_SECONDS", 0.05)
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    ran = ebnn("search", space, *ARGS, "--jobs", "1", "-o", fresh(tmp_path / "s"))
    assert ran.returncode == 0, ran.stderr
    beats = [ln for ln in ran.stderr.splitlines() if ln.startswith("search: trial")]
    assert beats, ran.stderr
    assert all(" of 3 training for " in ln and ", best so far " in ln for ln in beats), beats
    assert any(ln.startswith("trial 0: ") for ln in ran.stderr.splitlines())


def test_no_heartbeat_in_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(command, "HEARTBEAT_SECONDS", 0.05)
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    console = Console(stderr=True, force_terminal=True, color_system=None, width=100)
    with mock.patch.object(command, "err", console):
        res = CliRunner().invoke(ebnn_cli.main, ["search", str(space), *map(str, ARGS),
                                                 "--jobs", "1", "-o",
                                                 str(fresh(tmp_path / "s"))])
    assert res.exit_code == 0, res.stderr
    assert "trial 0: " in res.stderr  # the live bar's lines, above it
    assert "search: trial" not in res.stderr and "training for" not in res.stderr
