"""Hostile files from the hardening review: each is one line and exit 2, in bounded memory,
and reads or writes nothing the user did not hand over (docs/security.md).

Memory bounds are proved by running the command in a process whose address space is capped
(``RLIMIT_AS``): without the bound it would fail there with a MemoryError traceback."""

import json
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner, Result

from ebnn.artifact import MAX_HEADER_BYTES, ArtifactError, load, save
from ebnn.cli import main
from ebnn.input_files import MAX_INPUTS, InputFilesError, input_file_paths, load_input_files
from sim.inputs import MAX_CSV_BYTES, InputError, read_csv
from sim.register_map import load_map
from sim.toml_guard import MAX_KEY_PARTS, key_parts

ROOT = Path(__file__).resolve().parent.parent
ADDRESS_SPACE = 1536 << 20  # far more than any refusal needs, far less than the bombs take


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@dataclass
class Capped:
    returncode: int
    stderr: str
    peak_rss: int  # bytes: the peak resident set of the Python started (not of its fork)


# Runs `-m MODULE args` or `-c CODE args` and, as it exits, writes its VmHWM to the file
# $HOSTILE_PEAK_FILE names: wait4's ru_maxrss would count the forked copy of pytest as well.
_BOOT = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["HOSTILE_PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(_peak)
kind, target = sys.argv[1:3]
sys.argv = [target if kind == "-m" else "-c", *sys.argv[3:]]
if kind == "-m":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
"""


def run_capped(module: str, *args: str | os.PathLike[str], timeout: float = 60) -> Capped:
    """``python -m module args`` with its address space capped at ADDRESS_SPACE."""
    return _run_python(["-m", module, *map(str, args)], timeout)


def run_capped_code(code: str, *args: str | os.PathLike[str], timeout: float = 60) -> Capped:
    """``python -c code args`` with its address space capped at ADDRESS_SPACE."""
    return _run_python(["-c", code, *map(str, args)], timeout)


def _run_python(argv: list[str], timeout: float) -> Capped:
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HOSTILE_PEAK_FILE": str(peak)}
        try:
            proc = subprocess.run([sys.executable, "-c", _BOOT, *argv], env=env,
                                  preexec_fn=_capped, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, errors="replace",
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            return Capped(-9, f"killed after {timeout} s: {exc.stderr!r}", 1 << 62)
        kb = int(peak.read_text()) if peak.exists() else 1 << 52  # (it did not end by itself)
        return Capped(proc.returncode, proc.stderr, kb * 1024)


def assert_one_line(res: Capped, *words: str) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2, res.stderr[-2000:]
    assert len(lines) == 1, res.stderr[-2000:]
    for word in words:
        assert word in lines[0]
    return lines[0]


# --- H8: a dotted-key bomb (tomllib's memory is quadratic in one key's parts) ---

def _dotted_bomb(path: Path, parts: int = 30_000) -> Path:
    """60 KB of ``a.a.a… = 1``: tomllib would take over 4 GB for it."""
    path.write_text("a" + ".a" * (parts - 1) + " = 1\n")
    return path


def test_a_dotted_key_bomb_in_a_model_config_is_one_line(tmp_path: Path) -> None:
    res = run_capped("ebnn.cli", "summary", _dotted_bomb(tmp_path / "bomb.toml"))
    assert_one_line(res, "bomb.toml", f"more than {MAX_KEY_PARTS} parts")
    assert res.peak_rss < 300 << 20


def test_a_dotted_key_bomb_in_a_register_map_is_one_line(firmware, tmp_path: Path) -> None:
    elf = firmware("hello.c", target="stm32l031")  # a target with an I2C controller
    bomb = _dotted_bomb(tmp_path / "dev.toml")
    res = run_capped("sim.cli", "run", elf, "--i2c", f"0x48={bomb}", "--run-for", "1ms")
    assert_one_line(res, "dev.toml", f"more than {MAX_KEY_PARTS} parts")


def test_a_dotted_table_header_bomb_is_refused_too(tmp_path: Path) -> None:
    bomb = tmp_path / "head.toml"
    bomb.write_text("[" + ".".join(["t"] * 30_000) + "]\nx = 1\n")
    assert_one_line(run_capped("ebnn.cli", "summary", bomb), f"more than {MAX_KEY_PARTS} parts")


@pytest.mark.parametrize("text, parts", [
    ('a.b.c = 1.5\n[x.y]\nz = 2020-01-01T00:00:00.5\n', 3),
    ('s = "a.b.c.d.e"\nt = \'a.b.c.d\'\n# a.b.c.d.e.f\n', 1),
    ('m = """a.b.c.d\n\\"""x.y.z.w""" \nn = \'\'\'a.b.c.d\n\'\'\'\'\'\n', 1),
    ('"q.q".\'r.r\' . s = 1', 3),
    ('x = {a.b = 1, c.d.e = [1.5, 2.5]}', 3),
])
def test_key_parts_skip_strings_and_comments(text: str, parts: int) -> None:
    assert key_parts(text) == parts


# --- H9: a .ebnn whose JSON header is an object-count bomb ---

TINY = ROOT / "examples" / "mnist-tiny" / "mnist-tiny.ebnn"


def _artifact_with_header(path: Path, header: bytes) -> Path:
    """The tiny example with ``header`` as its header member, deflated as an attacker would."""
    with zipfile.ZipFile(TINY) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "header.npy":
                out.writestr(info.filename, src.read(info))
        with out.open("header.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, np.frombuffer(header, np.uint8))
    return path


def test_a_header_of_millions_of_empty_lists_is_one_line(tmp_path: Path) -> None:
    with zipfile.ZipFile(TINY) as src:
        header = json.loads(np.lib.format.read_array(src.open("header.npy")).tobytes())
    text = json.dumps({**header, "metadata": {"x": ["BOMB"]}}).encode()
    bomb = b"[]" + b",[]" * 20_000_000  # 60 MB: over 1 GB of lists in json.loads
    art = _artifact_with_header(tmp_path / "bomb.ebnn", text.replace(b'"BOMB"', bomb))
    assert art.stat().st_size < 1 << 20
    res = run_capped("ebnn.cli", "summary", art)
    assert_one_line(res, "bomb.ebnn", f"header of {len(text) + len(bomb) - 6:,} bytes",
                    f"at most {MAX_HEADER_BYTES:,}")
    assert res.peak_rss < 300 << 20  # refused before it is read, let alone parsed


def test_a_header_too_large_to_load_is_not_saved(tmp_path: Path) -> None:
    art = load(TINY)
    art.metadata = {"notes": "x" * MAX_HEADER_BYTES}
    with pytest.raises(ArtifactError, match="header takes over"):
        save(art, tmp_path / "big.ebnn")
    assert not (tmp_path / "big.ebnn").exists()


# --- M13: export-c never writes through a link planted in its folder ---

DIGITS = ROOT / "examples" / "digits" / "digits.ebnn"


def _export_c(*args: str | os.PathLike[str]) -> Result:
    return CliRunner().invoke(main, ["export-c", str(DIGITS), *map(str, args)])


def test_export_c_replaces_a_planted_link_not_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH=/usr/bin\n")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "ebnn_kernels.h").symlink_to(victim)
    (lib / "digits.c").symlink_to(tmp_path / "dangling")
    res = _export_c("-o", lib)
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "export PATH=/usr/bin\n"
    assert not (tmp_path / "dangling").exists()
    for name in ("ebnn_kernels.h", "digits.c"):
        assert not (lib / name).is_symlink() and (lib / name).stat().st_size > 100


def test_export_c_refuses_a_folder_link_inside_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "src").symlink_to(outside)
    res = _export_c("-o", lib, "--layout", "arduino")
    assert res.exit_code == 2, res.output
    assert len(res.output.strip().splitlines()) == 1 and "symbolic link" in res.output
    assert list(outside.iterdir()) == []


def test_export_c_refuses_a_fifo_where_a_file_goes(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    os.mkfifo(lib / "digits.h")
    (lib / "digits.c").symlink_to(lib / "digits.h")  # read for its banner: would block
    res = run_capped("ebnn.cli", "export-c", DIGITS, "-o", lib, timeout=20)  # (a hang: killed)
    assert_one_line(res, "digits.h", "not a regular file")


# --- M3: links and paths leading out of what the user named; errors quoting their contents ---

SECRET = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "home" / "credentials"
    secret.parent.mkdir()
    secret.write_text("[default]\n" + SECRET)
    return secret


def test_an_input_folders_link_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("1,2\n")
    (folder / "sub" / "b.csv").symlink_to(_secret(tmp_path))
    with pytest.raises(InputFilesError, match="symbolic link to a file outside") as info:
        input_file_paths([folder])
    assert "AKIA" not in str(info.value)


def test_an_input_folders_link_inside_it_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("1,2\n")
    (folder / "sub" / "b.csv").symlink_to(folder / "a.csv")
    assert input_file_paths([folder])[0] == [folder / "a.csv", folder / "sub" / "b.csv"]


def test_ebnn_eval_does_not_read_a_linked_secret(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "a.csv").symlink_to(_secret(tmp_path))
    res = CliRunner().invoke(main, ["eval", str(DIGITS), "--input", str(folder)])
    assert res.exit_code == 2, res.output
    assert "symbolic link" in res.output and "AKIA" not in res.output


@pytest.mark.parametrize("name", ["ABSOLUTE", "../home/credentials.csv", "up.csv"])
def test_a_register_series_outside_the_maps_folder_is_refused(tmp_path: Path, name: str
                                                              ) -> None:
    secret = _secret(tmp_path)
    (tmp_path / "home" / "credentials.csv").symlink_to(secret)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "up.csv").symlink_to(secret)
    name = str(secret) if name == "ABSOLUTE" else name
    (maps / "dev.toml").write_text(f'[series]\n0 = {{ file = "{name}" }}\n')
    with pytest.raises(InputError, match="outside the map's folder") as info:
        load_map(maps / "dev.toml", "0x48")
    assert "AKIA" not in str(info.value)


def test_a_register_series_in_a_subfolder_is_read(tmp_path: Path) -> None:
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "t.csv").write_text("0,1\n1,2\n")
    (tmp_path / "dev.toml").write_text('[series]\n0 = { file = "rec/t.csv" }\n')
    registers, _ = load_map(tmp_path / "dev.toml", "0x48")
    assert registers.series


def test_a_csv_error_quotes_only_the_start_of_a_cell(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("1,2\n" + SECRET.replace(" = ", ",") + "3,4\n\x1b]0;pwned\x07,5\n")
    with pytest.raises(InputError) as info:
        read_csv(path)
    assert "line 2, column 1 is 'aws_access_k'..." in str(info.value)
    assert "AKIA" not in str(info.value)
    path.write_text("1,2\n3,4\n\x1b]0;pwned\x07,5\n")
    with pytest.raises(InputError) as info:
        read_csv(path)
    assert "is '\\x1b]0;pwned\\x07'" in str(info.value) and "\x1b" not in str(info.value)


# --- M8: --data image folders check an image's size before decoding it ---

def test_a_huge_palette_png_in_a_data_folder_is_refused_before_decoding(tmp_path: Path
                                                                       ) -> None:
    from PIL import Image

    folder = tmp_path / "data" / "1"
    folder.mkdir(parents=True)
    im = Image.new("P", (10_000, 10_000))  # 100 M pixels: 300 MB as RGB, more to compare
    im.putpalette([0, 0, 0, 255, 0, 0])
    im.save(folder / "big.png", compress_level=1)
    del im
    res = run_capped("ebnn.cli", "eval", DIGITS, "--data", tmp_path / "data")
    assert_one_line(res, "big.png", "10000x10000 pixels")  # nor PIL's warning
    assert res.peak_rss < 300 << 20


# --- M7: a CSV input is parsed within a bounded multiple of a bounded size ---

def test_a_csv_input_over_its_cap_is_refused_before_parsing(firmware, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"  # 40 MB on one line: numpy's parser took 1.1 GB for it
    big.write_text("1" + ",1" * 20_000_000 + "\n")
    res = run_capped("sim.cli", "run", firmware("hello.c"), "--input", big, "--timeout", "5")
    assert_one_line(res, "big.csv", f"more than {MAX_CSV_BYTES >> 20} MiB", ".npy")
    assert res.peak_rss < 300 << 20


def test_a_csv_error_on_a_long_line_says_where(tmp_path: Path) -> None:
    """2 M cells on one line, the last not a number: its line and column are found without a
    Python string per cell (which took 50 bytes each)."""
    bad = tmp_path / "bad.csv"
    bad.write_text("h\n" + "1," * 2_000_000 + "x\n\n")
    code = ("import sys; from pathlib import Path; from sim.inputs import read_csv\n"
            "try: read_csv(Path(sys.argv[1]))\nexcept Exception as e: sys.exit(f'{e}')")
    res = run_capped_code(code, bad)
    assert res.returncode == 1 and "line 2, column 2000001 is 'x'" in res.stderr, res.stderr
    assert res.peak_rss < 300 << 20


@pytest.mark.parametrize("text, rows", [
    ("1,2\n3,4\n", [[1, 2], [3, 4]]), ("a,b\n1,2\n", [[1, 2]]), ("0,1,2,3\n5,6,7,8\n",
                                                                [[5, 6, 7, 8]]),
    ("0,1,2\n5,6,7\n", [[0, 1, 2], [5, 6, 7]]), ("\ufeffx,y\r\n\n\n1,2\r\n", [[1, 2]]),
    ("1, nan\n-inf,+.5e1\n", [[1, np.nan], [-np.inf, 5]]),
])
def test_csv_headers_are_still_told_from_rows(tmp_path: Path, text: str, rows: list) -> None:
    path = tmp_path / "in.csv"
    path.write_text(text)
    np.testing.assert_array_equal(read_csv(path), np.array(rows, np.float64))


@pytest.mark.parametrize("text, where", [
    ("1,2\n3,\n", "line 2, column 2 is ''"), ("1,2\n\n\n3,4\n,\n", "line 5, column 1 is ''"),
    ("a,b\n1,2\n3,x y\n", "line 3, column 2 is 'x y'"),
])
def test_csv_errors_still_say_where(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=where):
        read_csv(path)


# --- M9: the inputs of a folder are held once, within an honest cap ---

MNIST = ROOT / "examples" / "mnist" / "mnist.ebnn"


def test_input_folders_over_the_cap_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    folder = tmp_path / "bins"
    folder.mkdir()
    for i in range(5):  # 5 x 85,000 MNIST inputs: 318 MiB (sparse files: no disk)
        with folder.joinpath(f"x{i}.bin").open("wb") as f:
            f.truncate(784 * 85_000)
    code = ("import sys; from pathlib import Path; from ebnn.artifact import load\n"
            "from ebnn.input_files import load_input_files\n"
            "load_input_files(load(sys.argv[1]), [Path(sys.argv[2])])")
    res = run_capped_code(code, MNIST, folder)
    assert "x4.bin: the inputs so far are more than 256 MiB" in res.stderr, res.stderr[-500:]
    assert res.peak_rss < 600 << 20


def test_input_folders_of_over_a_million_inputs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(bytes(64 << 20))  # 1 Mi inputs of the 8 x 8 digits model
    (tmp_path / "b.bin").write_bytes(bytes(64))
    with pytest.raises(InputFilesError, match="b.bin: the inputs so far are more than "
                                              f"{MAX_INPUTS:,} inputs"):
        load_input_files(load(DIGITS), [tmp_path])


# --- M6: tracebacks that were one line too few ---

@pytest.mark.parametrize("value", ["0x" + "F" * 100_000, "-" + "9" * 4000,
                                   "[1, 0x" + "F" * 2000 + "]"])
def test_a_huge_integer_in_a_model_config_is_one_line(tmp_path: Path, value: str) -> None:
    config = tmp_path / "m.toml"
    config.write_text('[model]\nname = "x"\ninput = [8, 8, 1]\nclasses = 10\n'
                      f'[[model.layers]]\ntype = "conv"\nfilters = {value}\n')
    res = CliRunner().invoke(main, ["summary", str(config)])
    assert res.exit_code == 2 and not isinstance(res.exception, ValueError), res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "'filters' must be" in lines[0] and " bits)" in lines[0]
    assert len(lines[0]) < 400


def test_running_out_of_memory_in_a_command_is_one_line() -> None:
    from sim.output_guard import GuardedGroup

    @click.group(cls=GuardedGroup)
    def group() -> None:
        pass

    @group.command()
    def greedy() -> None:
        raise MemoryError

    res = CliRunner().invoke(group, ["greedy"])
    assert res.exit_code == 2 and not isinstance(res.exception, MemoryError)
    assert res.output.strip().splitlines() == [
        "error: out of host memory: an input asks for more than this machine can give"]


def test_build_sources_are_not_staged_through_a_planted_link(tmp_path: Path) -> None:
    """ebnn build stages NAME-src/'s files at .NAME.PID.tmp: a link there (a folder from
    elsewhere holding one for every PID) must not be written through."""
    from ebnn.build import write_sources
    from ebnn.codegen import generate

    gen = generate(load(DIGITS), "ebnn")
    victim = tmp_path / "bashrc"
    victim.write_text("keep\n")
    src = tmp_path / "fw-src"
    src.mkdir()
    for name in gen.files:
        (src / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    write_sources(gen, src)
    assert victim.read_text() == "keep\n"
    assert sorted(p.name for p in src.iterdir()) == sorted(gen.files)
