"""Inputs that are not regular files (a FIFO blocked the run's start for ever, SIGTERM and
--timeout included; /dev/zero as a second input let SYS_READ ask for 4 GiB) and an
--output-dir that is a file: one line each, before the run."""

from pathlib import Path

import pytest

from sim.session import RunSpec, SessionError, prepare


def test_an_input_that_is_a_device_is_refused(firmware, tmp_path):
    ok = tmp_path / "in.txt"
    ok.write_text("hi")
    with pytest.raises(SessionError, match="/dev/zero: not a file: an input is a regular file"):
        prepare(firmware("hello.c"), RunSpec(inputs=[ok, Path("/dev/zero")]))


def test_an_output_dir_that_is_a_file_is_one_plain_line(firmware):
    with pytest.raises(SessionError) as info:
        prepare(firmware("hello.c"), RunSpec(output_dir=Path("/dev/null")))
    assert str(info.value) == "/dev/null: not a directory (--output-dir)"
