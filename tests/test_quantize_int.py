"""NAME_quantize_i16 / NAME_quantize_i32 (NAME_input.c): integer readings to a float model's
input bytes with integers alone, for cores without an FPU (ebnn/quantize_int.py).

Each is checked against the reference quantisation itself (``reference.quantize_input`` of the
integers): the int16 one for every value and every channel, the int32 one around every limit of
its tables, at the type's ends and at random; for the shipped float models and for what fit()
makes of awkward data (tiny and huge scales, zero points near +-2^31, constant channels). Built
for the cores with the strict flags, they use no floating point; a firmware that does not call
them links to the same bytes as before; their cost is what NAME.h says.
"""

import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_export_c import STRICT, native

from ebnn import artifact, reference
from ebnn.artifact import Artifact
from ebnn.codegen import CYCLES, FLOAT_CYCLES, generate
from ebnn.quantize import InputQuant, fit
from ebnn.quantize_int import INT16, INT32, table
from sim.cli import main as sim_main
from toolchain.build import build
from toolchain.profiles import TARGETS

EXAMPLES = Path(__file__).parents[1] / "examples"
FLOAT_MODELS = ["basicmotions", "digits", "mnist1d"]  # the shipped models of float data

MAIN = r"""
#include <stdio.h>
#include "q.h"
/* reads int16 (argv[1] "16") or int32 ("32") readings from stdin, writes the bytes of
 * q_quantize_i16/_i32 to stdout; "float": int32 readings through q_quantize((float)x) */
int main(int argc, char **argv)
{
    static int16_t x16[1 << 20];
    static int32_t x32[1 << 20];
    static float xf[1 << 20];
    static uint8_t out[1 << 20];
    size_t n;
    if (argc < 2)
        return 2;
    if (argv[1][0] == '1') {
        n = fread(x16, sizeof x16[0], sizeof x16 / sizeof x16[0], stdin);
        q_quantize_i16(x16, out, (uint32_t)n);
    } else {
        n = fread(x32, sizeof x32[0], sizeof x32 / sizeof x32[0], stdin);
        if (argv[1][0] == 'f') {
            for (size_t i = 0; i < n; i++)
                xf[i] = (float)x32[i];
            q_quantize(xf, out, (uint32_t)n);
        } else {
            q_quantize_i32(x32, out, (uint32_t)n);
        }
    }
    return fwrite(out, 1, n, stdout) == n ? 0 : 1;
}
"""


def expected_bytes(art: Artifact, readings: np.ndarray) -> np.ndarray:
    """The reference's bytes (x / 5e-324 overflows to inf on the way to 255: no warning)."""
    with np.errstate(over="ignore"):
        return reference.quantize_input(art, readings)


def shipped(name: str) -> Artifact:
    return artifact.load(EXAMPLES / name / f"{name}.ebnn")


def awkward() -> dict[str, InputQuant]:
    """Quantisations fit() and hand-written artifacts can hold at their limits."""
    rng = np.random.default_rng(9)
    # a constant channel (scale 1), one far from 0 against its range (zero point ~ -2^31),
    # a range narrower than one reading, one wider than int16, integer PCM-like data
    data = np.stack([np.full(300, 7.0), 8e6 + rng.random(300), -5.9e6 - rng.random(300),
                     0.3 * rng.random(300), rng.normal(0, 3e5, 300),
                     rng.integers(-32768, 32768, 300).astype(np.float64)], axis=1)
    fitted = fit(data.astype(np.float32))
    assert fitted.scale[0] == 1.0 and max(abs(z) for z in fitted.zero_point) > 2e9
    return {
        "fitted": fitted,
        # subnormal, huge, ties at every other reading, +-2^31 - 1, bytes changing beyond
        # 2^24, where a float32 no longer holds every reading
        "extreme": InputQuant(scale=(5e-324, 1e308, 2.0, 0.5, 1e-3, 333333.25),
                              zero_point=(0, 2**31 - 1, 128, -2**31 + 1, 2**31 - 1, -300)),
        # limits at the types' ends: byte 2 from int16's lowest reading up, byte 255 from its
        # highest, bytes changing next to -2^31 (where a float32 holds every 128th reading)
        "edges": InputQuant(scale=(1.0, 1.0, 1.0, 1.0, 2.0, 0.5),
                            zero_point=(2**31 - 1, 32769, 255 - 32767, 0, -1, 3)),
    }


def cases() -> dict[str, Artifact]:
    base = shipped("basicmotions")
    out = {name: shipped(name) for name in FLOAT_MODELS}
    out.update({name: replace(base, input_quant=q) for name, q in awkward().items()})
    return out


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, Path]:
    """The host program of each case's q_quantize_i16/_i32, built by gcc under the strict
    warnings."""
    out = {}
    for name, art in cases().items():
        where = tmp_path_factory.mktemp(name)
        for file, text in generate(art, "q").files.items():
            (where / file).write_text(text)
        (where / "main.c").write_text(MAIN)
        out[name] = native("gcc", [where / "q_input.c", where / "main.c"], [where],
                           where / "q", ["-O2", *STRICT])
    return out


def run(program: Path, readings: np.ndarray, mode: str = "") -> np.ndarray:
    """The bytes the program's q_quantize_i16 or _i32 (by the readings' type) or, with mode
    "float", q_quantize((float)x) gives ``readings``."""
    mode = mode or ("16" if readings.dtype == np.int16 else "32")
    got = subprocess.run([str(program), mode], input=readings.tobytes(), capture_output=True,
                         check=True).stdout
    return np.frombuffer(got, np.uint8).reshape(readings.shape)


@pytest.mark.parametrize("name", list(cases()))
def test_int16_is_the_reference_for_every_reading(programs, name):
    """All 65,536 readings on every channel: the C byte is the reference's byte."""
    art = cases()[name]
    channels = art.input_quant.channels
    readings = np.repeat(np.arange(-32768, 32768, dtype=np.int16)[:, None], channels, axis=1)
    expected = expected_bytes(art, readings)  # int16: exact as a float32 too
    assert np.array_equal(run(programs[name], readings), expected)
    assert len(np.unique(expected)) > 1  # a test that sees bytes, not one constant


@pytest.mark.parametrize("name", list(cases()))
def test_int32_is_the_reference_around_every_limit(programs, name):
    """Where the byte changes (each limit and the reading after it), the type's ends, and
    random readings of every magnitude: the C byte is the reference's for the reading as a
    float32 (as data files load it), and q_quantize's for (float)x."""
    art = cases()[name]
    quant = art.input_quant
    limits = table(quant, INT32).limits.T  # (255, C)
    rng = np.random.default_rng(4)
    magnitude = 2.0 ** rng.uniform(0, 31, (4000, quant.channels))
    readings = np.concatenate([
        limits, np.minimum(limits + 1, 2**31 - 1), np.maximum(limits - 1, -(2**31)),
        np.full((1, quant.channels), -(2**31)), np.full((1, quant.channels), 2**31 - 1),
        np.round(rng.choice([-1, 1], magnitude.shape) * magnitude).clip(-(2**31), 2**31 - 1),
        np.repeat(np.arange(-3000, 3000)[:, None], quant.channels, axis=1)]).astype(np.int32)
    expected = expected_bytes(art, readings.astype(np.float32))
    assert np.array_equal(run(programs[name], readings), expected)
    assert np.array_equal(run(programs[name], readings, "float"), expected)
    assert len(np.unique(expected)) > 1
    if name == "extreme":  # readings past 2^24 whose float32 has another byte than they
        assert not np.array_equal(expected_bytes(art, readings), expected)


def test_tables_are_found_for_every_quantisation_without_a_mistake():
    """The export-time check, which compares a table with the reference for every int16
    reading, is a real one: a table one limit off is refused."""
    from ebnn.quantize_int import IntTable, check

    quant = shipped("basicmotions").input_quant
    good = table(quant, INT16)
    limits = good.limits.copy()
    limits[2, 100] -= 1
    with pytest.raises(AssertionError, match="differs from the reference"):
        check(quant, IntTable(INT16, good.base, limits))
    limits = table(quant, INT32).limits.copy()
    limits[0, 7] += 1
    with pytest.raises(AssertionError, match="differs from the reference"):
        check(quant, IntTable(INT32, good.base, limits))


def export(art: Artifact, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    for file, text in generate(art, "q").files.items():
        (where / file).write_text(text)
    return where


def functions(listing: str, name: str) -> str:
    """The disassembly of function ``name`` in an objdump listing."""
    found = re.search(rf"<{name}>:\n(.*?)(?:\n\n|\Z)", listing, re.S)
    assert found, name
    return found.group(1)


@pytest.mark.parametrize("target", ["stm32l031", "curie", "nrf52832"])
def test_the_integer_quantisers_build_clean_and_use_no_floating_point(tmp_path, target):
    """For the M0+, the M3 and the M4F: C99 under the strict warnings, and no floating-point
    instruction or runtime call in q_quantize_i16/_i32 (the float q_quantize beside them
    calls the soft double runtime, which is what they avoid). The M55 with its FPU and MVE
    on is checked too: no FP or vector register (a NOCP fault with the FPU off)."""
    lib = export(cases()["fitted"], tmp_path / "lib")
    for cflags in (TARGETS[target].cflags, ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"]):
        obj = tmp_path / "q_input.o"
        proc = subprocess.run(["arm-none-eabi-gcc", *cflags, "-O2", "-ffreestanding",
                               "-ffunction-sections", *STRICT, "-Wdouble-promotion",
                               "-c", str(lib / "q_input.c"), f"-I{lib}", "-o", str(obj)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        listing = subprocess.run(["arm-none-eabi-objdump", "-dr", str(obj)],
                                 capture_output=True, text=True, check=True).stdout
        assert "__aeabi_" in functions(listing, "q_quantize") or "vdiv" in functions(
            listing, "q_quantize")  # the check below would see floating point
        for name in ("q_quantize_i16", "q_quantize_i32"):
            body = functions(listing, name)
            fp = [line for line in body.splitlines()
                  if re.search(r"\t(v[a-z0-9.]+|stcl?|ldcl?)\t", line) or "__aeabi" in line
                  or re.search(r"\tbl\t", line)]
            assert not fp, (name, fp[:5])


FIRMWARE = r"""
#include <stdio.h>
#include "q.h"
/* a firmware of the float model that calls the float quantiser only */
int main(void)
{
    static const float x[Q_INPUT_SIZE] = {0.5f, -1.0f, 2.0f};
    static uint8_t input[Q_INPUT_SIZE];
    int32_t scores[Q_CLASSES];
    q_quantize(x, input, Q_INPUT_SIZE);
    printf("%d\n", q_infer(input, scores));
    return 0;
}
"""


def flash_image(elf: Path, out: Path) -> bytes:
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(out)], check=True)
    return out.read_bytes()


@pytest.mark.parametrize("target", ["stm32l031", "curie"])
def test_a_firmware_that_does_not_call_them_is_unchanged(tmp_path, target):
    """With --gc-sections (the project's builds, Arduino's, most vendors'), the tables and code
    of uncalled integer quantisers are dropped: the firmware's bytes are those of the library
    with both compiled out (Q_NO_QUANTIZE_I16/_I32), i.e. of NAME_input.c before them."""
    lib = export(shipped("basicmotions"), tmp_path / "lib")
    (tmp_path / "main.c").write_text(FIRMWARE)
    images = []
    for name, defines in (("with", {}), ("without", {"Q_NO_QUANTIZE_I16": None,
                                                      "Q_NO_QUANTIZE_I32": None})):
        elf = build([lib / "q.c", lib / "q_input.c", tmp_path / "main.c"],
                    tmp_path / f"{name}.elf", target, include_dirs=[lib], defines=defines,
                    extra_cflags=["-Werror"]).elf
        images.append(flash_image(elf, tmp_path / f"{name}.bin"))
        syms = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                              check=True).stdout
        assert "q_quantize_i16" not in syms and " q_quantize\n" in syms
    assert images[0] == images[1]


PROFILED = r"""
#include "q.h"
#define N 600
static int16_t x16[N];
static int32_t x32[N];
static float xf[N];
static uint8_t out[N];
int main(void)
{
    unsigned sum = 0;
    for (int i = 0; i < N; i++) {  /* readings across the model's range and beyond */
        x16[i] = (int16_t)((i * 7) % 61 - 30);
        x32[i] = x16[i];
        xf[i] = (float)x16[i];
    }
    q_quantize_i16(x16, out, N);
    for (int i = 0; i < N; i++)
        sum += out[i];
    q_quantize_i32(x32, out, N);
    for (int i = 0; i < N; i++)
        sum += out[i];
    q_quantize(xf, out, N);
    for (int i = 0; i < N; i++)
        sum += out[i];
    return sum == 0;
}
"""

# docs/deploy.md's table of the three quantisers
DOC_ROW = re.compile(r"^  \| `NAME_(quantize(?:_i16|_i32)?)` \| "
                     r"stm32l031(?: \(M0\+\))?: ~([\d,]+); curie(?: \(M3\))?: ~([\d,]+) \| "
                     r"([\d,]+) B of code \(M0\+\), ([\d,]+) B ",
                     re.M)


def doc_rows() -> dict[str, tuple[int, ...]]:
    """function -> (M0+ cycles, M3 cycles, M0+ code bytes, bytes per channel) as the docs say."""
    text = (Path(__file__).parents[1] / "docs" / "deploy.md").read_text()
    rows = {f"q_{name}": tuple(int(v.replace(",", "")) for v in values)
            for name, *values in DOC_ROW.findall(text)}
    assert set(rows) == {"q_quantize", "q_quantize_i16", "q_quantize_i32"}, rows
    return rows


@pytest.mark.parametrize("target, core", [("stm32l031", "m0plus"), ("curie", "m3")])
def test_the_cost_per_value_is_what_the_header_and_docs_say(tmp_path, target, core):
    """`ebnn-sim profile` of the three quantisers on 600 readings of a 6-channel model: the
    cycles per value NAME.h states (CYCLES, FLOAT_CYCLES) and docs/deploy.md's table, within
    15% (one number covers the int16 and the int32 function in NAME.h)."""
    from click.testing import CliRunner

    lib = export(shipped("basicmotions"), tmp_path / "lib")
    header = re.sub(r"\s*\n \*\s*", " ", (lib / "q.h").read_text())
    assert (f"about {CYCLES['m0plus']} cycles per value on a Cortex-M0+ and {CYCLES['m3']} on "
            f"an M3 (-O2), where q_quantize's soft double arithmetic costs about "
            f"{FLOAT_CYCLES['m0plus']} and {FLOAT_CYCLES['m3']}") in header
    (tmp_path / "main.c").write_text(PROFILED)
    elf = build([lib / "q_input.c", tmp_path / "main.c"], tmp_path / "p.elf", target,
                include_dirs=[lib]).elf
    result = CliRunner().invoke(sim_main, ["profile", str(elf), "--json",
                                           str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    cost = {f["name"]: f["inclusive"]["cycles"] / 600
            for f in json.loads((tmp_path / "p.json").read_text())["functions"]}
    said = {"q_quantize": int(FLOAT_CYCLES[core].replace(",", "")),
            "q_quantize_i16": CYCLES[core], "q_quantize_i32": CYCLES[core]}
    for name, (m0plus, m3, _, _) in doc_rows().items():
        for claim in (said[name], m0plus if core == "m0plus" else m3):
            assert abs(cost[name] - claim) <= 0.15 * claim, (name, cost[name], claim)
    assert cost["q_quantize"] > 15 * cost["q_quantize_i16"]  # what they are for


def test_the_flash_is_what_the_header_and_docs_say(tmp_path):
    """docs/deploy.md's code size (M0+, -O2, basicmotions) and bytes per channel, and NAME.h's
    table bytes, are what the compiler makes of NAME_input.c."""
    lib = export(shipped("basicmotions"), tmp_path / "lib")
    obj = tmp_path / "q_input.o"
    subprocess.run(["arm-none-eabi-gcc", *TARGETS["stm32l031"].cflags, "-O2",
                    "-ffunction-sections", "-fdata-sections", "-c", str(lib / "q_input.c"),
                    f"-I{lib}", "-o", str(obj)], check=True)
    sizes = {parts[0]: int(parts[1]) for parts in (line.split() for line in subprocess.run(
        ["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True,
        check=True).stdout.splitlines()) if len(parts) >= 2 and parts[1].isdigit()}
    rodata = sorted(v for k, v in sizes.items() if k.startswith(".rodata.limit"))
    assert rodata == [6 * (INT16.bytes_per_channel() - 1), 6 * (INT32.bytes_per_channel() - 1)]
    rows = doc_rows()
    for name in rows:
        assert sizes[f".text.{name}"] == rows[name][2], name
    assert rows["q_quantize_i16"][3] == INT16.bytes_per_channel() == 511
    assert rows["q_quantize_i32"][3] == INT32.bytes_per_channel() == 1021
    assert rows["q_quantize"][3] == 8 + 4  # a double scale and an int32_t zero point
    header = re.sub(r"\s*\n \*\s*", " ", (lib / "q.h").read_text())
    assert ("q_quantize_i16 511 bytes of flash per channel (3066 here), q_quantize_i32 1021 "
            "bytes of flash per channel (6126 here)") in header
