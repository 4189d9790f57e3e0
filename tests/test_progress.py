"""Progress in a terminal and in a CI log (issue 16): outside a terminal, plain lines at a
steady pace and one at the end."""

import io

from rich.console import Console

from sim.progress import ProgressLine


def _plain_console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=80), buf


def test_plain_lines_at_the_given_pace_and_at_the_end():
    con, buf = _plain_console()
    with ProgressLine(con, "verifying", 4, interval=0) as p:
        for _ in range(4):
            p.update(advance=1)
    lines = buf.getvalue().splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "verifying: 1/4 (25%)", "verifying: 2/4 (50%)", "verifying: 3/4 (75%)",
        "verifying: 4/4 (100%)"]
    assert "left" in lines[0] and "left" not in lines[-1]


def test_slow_pace_prints_only_the_final_line():
    con, buf = _plain_console()
    with ProgressLine(con, "training", interval=3600) as p:
        p.update(10, total=100, description="epoch 1/10")
        p.update(100, total=100, description="epoch 10/10")
    assert buf.getvalue().splitlines() == ["epoch 10/10: 100/100 (100%), 0 s"]


def test_no_final_line_after_an_error():
    con, buf = _plain_console()
    try:
        with ProgressLine(con, "x", 2, interval=3600) as p:
            p.update(advance=1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert buf.getvalue() == ""


def test_interval_from_environment(monkeypatch):
    con, buf = _plain_console()
    monkeypatch.setenv("EBNN_PROGRESS_SECONDS", "0")
    with ProgressLine(con, "a", 3) as p:
        p.update(advance=1)
    assert buf.getvalue().splitlines()[0].startswith("a: 1/3 (33%)")
    monkeypatch.setenv("EBNN_PROGRESS_SECONDS", "nan")  # ignored: the default pace
    with ProgressLine(con, "b", 3) as p:
        assert p._interval == 5.0


def test_terminal_draws_a_bar_not_lines():
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=True, width=80)
    with ProgressLine(con, "verifying", 2, interval=0) as p:
        p.update(advance=2)
    assert "verifying" in buf.getvalue() and "2/2" in buf.getvalue()
    assert "(100%)" not in buf.getvalue()  # the bar's own format, not the plain line
