"""Counts and milliseconds on the command lines (sim/counts.py): 30k cycles, 0.5ms, and
one-line refusals (new-user review F10: '30k' is not a valid integer range)."""

import click
import pytest

from sim.counts import MillisecondsParam, parse_count
from tests.helpers import run_cli_in_process


@pytest.mark.parametrize("text, count", [
    ("30000", 30_000), ("30k", 30_000), ("30K", 30_000), ("1.5M", 1_500_000), ("2G", 2 * 10**9),
    ("30_000", 30_000), ("1,000", 1_000), (" 7 ", 7), ("0.5k", 500),
    ("9223372036854775807", (1 << 63) - 1),  # exact: no float on the way
    # in decimal: in binary floating point 4.1 x 10^6 is 4099999.99... (s52 review M4)
    ("4.1M", 4_100_000), ("16.1k", 16_100), ("99.9k", 99_900), ("8.2M", 8_200_000),
])
def test_counts_take_decimal_multiples(text, count):
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["30x", "1.5", "0.0001k", "-3", "", "k", "1e3", "inf"])
def test_a_count_that_is_not_a_whole_number_is_refused(text):
    with pytest.raises(ValueError, match=r"give a whole number, e\.g\. 30000 or 30k"):
        parse_count(text)


@pytest.mark.parametrize("args, message", [
    (("--max-cycles", "30x"), "'30x': give a whole number"),
    (("--max-instructions", "0"), "'0' is out of range: give 1 to"),
])
def test_bad_counts_are_one_line_usage_errors(firmware, args, message):
    proc = run_cli_in_process("run", firmware("spin.c"), *args)
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_cycle_budget_in_thousands_is_a_budget(firmware):
    """--max-cycles 0.01k on firmware that takes more (hello.c: 57 cycles): over budget
    (exit 3), as 10 is; 1k holds."""
    ran = [run_cli_in_process("run", firmware("hello.c"), "--max-cycles", budget)
           for budget in ("0.01k", "10", "1k")]
    assert [r.returncode for r in ran] == [3, 3, 0]


@pytest.mark.parametrize("text, ms", [("16", 16.0), ("0.5", 0.5), ("500us", 0.5),
                                      ("0.5ms", 0.5), ("2s", 2000.0)])
def test_milliseconds_take_a_unit(text, ms):
    assert MillisecondsParam().convert(text, None, None) == pytest.approx(ms)


@pytest.mark.parametrize("text", ["0", "-1", "fast", "5 min"])
def test_bad_milliseconds_are_refused(text):
    with pytest.raises(click.BadParameter):
        MillisecondsParam().convert(text, None, None)
