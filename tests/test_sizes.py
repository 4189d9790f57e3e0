"""Memory sizes (toolchain/sizes.py) on every command that takes them: ``1G`` is a size, one
beyond the 32-bit address space is refused by the parser, and one beyond the memory map's 512
MiB by each command that maps or links memory; a budget on a peak may be up to 4 GiB."""

from pathlib import Path

import pytest
from helpers import PROGRAMS, assert_single_error_line
from test_ebnn_cli import ebnn, one_line_error

from toolchain.sizes import MAX_SIZE, parse_size

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits" / "digits.ebnn"
SPACE = ROOT / "examples" / "search" / "digits.toml"
HUGE = "9" * 5000  # int() of it is refused by Python with words about its own limit


@pytest.mark.parametrize("text, size", [
    ("1G", 1 << 30), ("1gb", 1 << 30), ("2GiB", 2 << 30), ("4G", MAX_SIZE), ("4096M", MAX_SIZE),
    ("0004G", MAX_SIZE), (MAX_SIZE, MAX_SIZE), ("15k", 15 << 10),
])
def test_sizes_up_to_the_address_space_parse(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text, words", [
    ("5G", "size '5G' is more than a 32-bit address space holds (4 GiB)"),
    ("4097M", "size '4097M' is more than a 32-bit address space holds"),
    ("4294967297", "size '4294967297' is more than a 32-bit address space holds"),
    pytest.param(HUGE, f"size '{'9' * 20}...' is more than a 32-bit address space holds",
                 id="5000-digits"),
    (MAX_SIZE + 1, "size 4,294,967,297 bytes is more than a 32-bit address space holds"),
    pytest.param(10 ** 5000, "size a 16610-bit number of bytes is more than a 32-bit address "
                 "space", id="huge-int"),
    ("1T", "not a size: '1T'"),
])
def test_sizes_beyond_the_address_space_are_one_line(text, words):
    with pytest.raises(ValueError) as e:
        parse_size(text)
    assert words in str(e.value) and "\n" not in str(e.value) and len(str(e.value)) < 120


@pytest.fixture(scope="module")
def elf(tmp_path_factory) -> Path:
    from helpers import run_cli_in_process

    out = tmp_path_factory.mktemp("sizes") / "hello.elf"
    assert run_cli_in_process("build", PROGRAMS / "hello.c", "-o", out).returncode == 0
    return out


# (the ebnn-sim command, its arguments before the option)
SIM_COMMANDS = {
    "run": lambda elf, tmp: ["run", elf],
    "profile": lambda elf, tmp: ["profile", elf],
    "build": lambda elf, tmp: ["build", PROGRAMS / "hello.c", "-o", tmp / "b.elf"],
}


@pytest.mark.parametrize("command", sorted(SIM_COMMANDS))
@pytest.mark.parametrize("option", ["--sram", "--flash"])
def test_ebnn_sim_refuses_memory_beyond_the_map(cli, elf, tmp_path, command, option):
    """1G was "not a size" (examples: ... 1M), as if the spelling were wrong; it is a size,
    which no Cortex-M memory map holds."""
    args = SIM_COMMANDS[command](elf, tmp_path)
    what = "SRAM" if option == "--sram" else "flash"
    line = assert_single_error_line(cli(*args, option, "1G", json=False))
    assert f"{what} size" in line and "does not fit the Cortex-M memory map: at most 512 MiB" \
        in line
    beyond = cli(*args, option, "5G", json=False)
    assert beyond.returncode == 2 and "Traceback" not in beyond.stderr
    assert "is more than a 32-bit address space holds (4 GiB)" in beyond.stderr
    assert not (tmp_path / "b.elf").exists()


@pytest.mark.parametrize("option", ["--sram", "--flash"])
def test_ebnn_build_refuses_memory_beyond_the_map(tmp_path, option):
    what = "SRAM" if option == "--sram" else "flash"
    line = one_line_error(ebnn("build", DIGITS, "-o", tmp_path / "d.elf", option, "1G"))
    assert f"{what} size 1,073,741,824 bytes does not fit the Cortex-M memory map" in line
    beyond = ebnn("build", DIGITS, "-o", tmp_path / "d.elf", option, HUGE)
    assert beyond.returncode == 2 and "Traceback" not in beyond.stderr
    assert "more than a 32-bit address space holds" in beyond.stderr
    assert "int_max_str_digits" not in beyond.stderr
    assert not (tmp_path / "d.elf").exists()


@pytest.mark.parametrize("option", ["--sram", "--flash"])
def test_ebnn_search_refuses_a_budget_beyond_the_map(tmp_path, option):
    line = one_line_error(ebnn("search", SPACE, "-o", tmp_path / "s", option, "1G"))
    assert f"{option} 1,073,741,824 B: more than the Cortex-M memory map holds" in line
    assert not (tmp_path / "s").exists()


def test_a_peak_budget_beyond_the_map_is_only_compared(cli, elf, tmp_path):
    """--max-sram and --max-stack map nothing: a budget of 1G is met by any peak."""
    result = cli("run", elf, "--max-sram", "1G", "--max-stack", "4G")
    assert result.returncode == 0 and result.report["sram"]["size"] == 15 << 10
    beyond = cli("run", elf, "--max-sram", "5G", json=False)
    assert beyond.returncode == 2 and "32-bit address space" in beyond.stderr


def test_a_budgets_file_size_beyond_the_address_space_is_one_line(cli, elf, tmp_path):
    cfg = tmp_path / "b.toml"
    cfg.write_text(f'[[budget]]\nelf = "{elf}"\nsram = "1G"\n')
    assert cli("check", "--config", cfg, json=False).returncode == 0
    cfg.write_text(f'[[budget]]\nelf = "{elf}"\nsram = "8G"\n')
    line = assert_single_error_line(cli("check", "--config", cfg, json=False))
    assert "sram: size '8G' is more than a 32-bit address space holds" in line
