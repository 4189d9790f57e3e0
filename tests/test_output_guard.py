"""An output that would replace one of the command's inputs, or another of its outputs, is
refused before the command runs (`ebnn export a.pt -o a.pt` replaced the trained checkpoint)."""

import shutil
from pathlib import Path

import pytest
from test_ebnn_cli import ebnn, one_line_error

from sim.output_guard import clash

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "examples" / "mnist-tiny"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("guard")
    for suffix in ("pt", "ebnn", "toml"):
        shutil.copy(TINY / f"mnist-tiny.{suffix}", d / f"m.{suffix}")
    assert ebnn("build", d / "m.ebnn", "-o", d / "m.elf").returncode == 0
    (d / "link.json").symlink_to(d / "m.ebnn")
    return d


@pytest.mark.parametrize(("args", "words"), [
    (["export", "{d}/m.pt", "-o", "{d}/m.pt"], "--output {d}/m.pt would replace the input"),
    (["train", "{d}/m.toml", "-o", "{d}/m.toml"], "--output {d}/m.toml would replace the input"),
    # the curves go to OUTPUT.png: the model just written would become the plot
    (["train", "{d}/m.toml", "-o", "{d}/new.png"], "the curves {d}/new.png would replace"),
    (["eval", "{d}/m.ebnn", "--json", "{d}/link.json"], "would replace the input {d}/m.ebnn"),
    (["summary", "{d}/m.ebnn", "--json", "{d}/m.ebnn"], "would replace the input"),
    (["build", "{d}/m.ebnn", "-o", "{d}/m.ebnn"], "would replace the input"),
])
def test_ebnn_refuses_an_output_that_is_an_input(files, args, words):
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    line = one_line_error(ebnn(*[a.format(d=files) for a in args]))
    assert words.format(d=files) in line and line.endswith("give it another name")
    assert {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(("args", "words"), [
    (["run", "{d}/m.elf", "--json", "{d}/m.elf"], "--json {d}/m.elf would replace the input"),
    (["run", "{d}/m.elf", "--input", "{d}/in.png", "--json", "{d}/in.png"], "the input"),
    (["profile", "{d}/m.elf", "--json", "{d}/p.json", "--html", "{d}/p.json"],
     "--html {d}/p.json would replace --json ({d}/p.json)"),
    (["verify", "{d}/m.elf", "--model", "{d}/m.ebnn", "--json", "{d}/m.ebnn"], "the input"),
])
def test_ebnn_sim_refuses_an_output_that_is_an_input(files, cli, args, words):
    shutil.copy(TINY / "sample-0.png", files / "in.png")
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    result = cli(*[a.format(d=files) for a in args], json=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert words.format(d=files) in result.stderr
    assert {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("args", [["run", "{d}/m.elf", "--json", "-"],
                                  ["check", "--junit", "-"]])
def test_a_dash_is_refused_not_written_as_a_file_named_dash(files, cli, tmp_path, args):
    """`--json -` wrote a file named '-' in the current directory without a word."""
    result = cli(*[a.format(d=files) for a in args], json=False, cwd=tmp_path)
    assert result.returncode == 2 and "give a file name ('-' is not standard output" in (
        result.stderr)
    assert not (tmp_path / "-").exists()


def test_streams_and_distinct_files_are_no_clash(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x")
    assert clash({"--json": b}, [a]) is None
    assert clash({"--json": Path("/dev/stdout")}, [Path("/dev/stdin")]) is None  # a terminal
    b.hardlink_to(a)  # another name of the same file
    assert "would replace the input" in (clash({"--json": b}, [a]) or "")


def test_an_output_that_cannot_be_written_is_refused_before_the_work(files, cli, tmp_path):
    # ebnn-sim build under a regular file was a FileExistsError traceback; ebnn eval ran the
    # whole evaluation first and then said 'File exists'
    blocker = tmp_path / "afile"
    blocker.write_text("")
    line = one_line_error(ebnn("eval", files / "m.ebnn", "--json", blocker / "x.json"))
    assert line == f"error: cannot write {blocker / 'x.json'}: {blocker} is not a directory"
    result = cli("build", ROOT / "tests" / "programs" / "hello.c", "-o", blocker / "x.elf",
                 json=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{blocker} is not a directory" in result.stderr


def test_ctrl_c_outside_a_commands_own_handling_exits_130():
    # Ctrl-C while data loaded or a plot was saved: click's 'Aborted!' and exit 1 (which is
    # run's 'firmware exited non-zero')
    import click
    from click.testing import CliRunner

    from sim.output_guard import GuardedCommand

    @click.command(cls=GuardedCommand)
    def slow() -> None:
        raise KeyboardInterrupt

    result = CliRunner().invoke(slow, [])
    assert result.exit_code == 130 and result.stderr.strip() == "interrupted"


def test_special_files_and_a_cc_with_flags_are_named_for_what_they_are(files):
    line = one_line_error(ebnn("export", "/dev/null", "-o", files / "y.ebnn"))
    assert line == "error: /dev/null: not a regular file"
    from ebnn.library import LibraryError, host_compiler

    with pytest.raises(LibraryError, match="'gcc -m32': name one program"):
        host_compiler("gcc -m32")
