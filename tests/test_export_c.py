"""`ebnn export-c`: the model as a portable C library, bit for bit the reference everywhere.

Two different small random models (built as in tests/test_ebnn_exact.py) are exported
with the prefixes alpha and beta and linked into one user program (tests/programs/two_models.c),
which runs them through both entry points: cross-compiled for every target with the project's
start-up code and run in the simulator, and compiled natively by the host's gcc and clang. The
cmake layout is built with cmake; the Arduino sketch and the Zephyr sample, whose cores cannot be
installed here, are checked against their published specifications and compiled and run on the
host against small stand-ins for the Arduino and Zephyr APIs (tests/programs/stubs/).
"""

import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from helpers import PROGRAMS, assert_single_error_line, run_cli_in_process
from test_ebnn_cli import ebnn, one_line_error
from test_ebnn_exact import random_model

from ebnn import artifact, reference
from ebnn.artifact import Artifact
from ebnn.build import build_firmware
from ebnn.codegen import generate
from ebnn.export import export_model
from ebnn.library import LibraryError, check_prefix, library_files, run_native
from ebnn.verify import parse_scores, verify_native
from sim import Simulator, load_elf
from toolchain.build import build
from toolchain.profiles import TARGETS

STUBS = PROGRAMS / "stubs"
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror"]
STRICT = [*WARNINGS, "-Wmissing-prototypes", "-Wmissing-declarations", "-Wshadow",
          "-Wconversion", "-Wsign-conversion"]
IMAGES = 6
# Two different small models (kept small: every test compiles them), with padding, pools, a
# stride, RGB and grey input, channel counts that are not multiples of 32, every layer kind;
# "strided" has a single hidden layer (its scratch is one buffer).
MODELS = {
    "mixed": {"input": [8, 9, 3], "classes": 4, "layers": [
        {"type": "conv", "filters": 6, "kernel": 3, "padding": 1, "pool": 2},
        {"type": "conv", "filters": 10, "kernel": 2, "pool": 2, "pool_stride": 1},
        {"type": "linear", "units": 12}]},
    "strided": {"input": [10, 7, 1], "classes": 3, "layers": [
        {"type": "conv", "filters": 5, "kernel": 3, "stride": 2, "padding": 1}]},
}


@dataclass
class Model:
    prefix: str
    art: Artifact
    path: Path  # the .ebnn file
    images: np.ndarray
    ref: reference.ReferenceResult


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Model]:
    out = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(17)
    result = {}
    for prefix, (name, seed) in {"alpha": ("mixed", 11), "beta": ("strided", 12)}.items():
        art = export_model(random_model(name, seed, MODELS))
        images = rng.integers(0, 256, (IMAGES, *art.input_shape), dtype=np.uint8)
        art.sample = images[0]
        path = out / f"{prefix}.ebnn"
        artifact.save(art, path)
        art = artifact.load(path)
        result[prefix] = Model(prefix, art, path, images, reference.run(art, images))
    return result


def export(model: Model, directory: Path, layout: str = "plain") -> Path:
    """The library of ``model`` exported by the CLI, as a user would."""
    run = ebnn("export-c", model.path, "-o", directory, "--prefix", model.prefix,
               "--layout", layout)
    assert run.returncode == 0, run.stderr
    return directory


@pytest.fixture(scope="module")
def libraries(models, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("libs")
    return {p: export(m, out / p) for p, m in models.items()}


def pairs(models: dict[str, Model]) -> bytes:
    """The console input of two_models.c: alpha image, beta image, alpha image, ..."""
    a, b = models["alpha"].images, models["beta"].images
    return b"".join(a[i].tobytes() + b[i].tobytes() for i in range(IMAGES))


def assert_program_output_is_exact(stdout: str, models: dict[str, Model],
                                   static: bool = True) -> None:
    """Every line of two_models.c equals the reference: class and every score."""
    lines = stdout.splitlines()
    entries = ["infer", "infer_with"] if static else ["infer_with"]
    expected = [f"{p}_{e}" for p in ("alpha", "beta") for e in entries]
    assert len(lines) == IMAGES * len(expected), stdout
    for i in range(IMAGES):
        for j, name in enumerate(expected):
            label, values = lines[i * len(expected) + j].split(": ")
            ref = models[name.split("_")[0]].ref
            got = [int(v) for v in values.split()]
            assert label == name
            assert got == [int(ref.classes[i]), *(int(s) for s in ref.scores[i])], (name, i)


# ---- the same C on every target, in one firmware with two models ----------------------------

@pytest.mark.parametrize("target", sorted(TARGETS))
def test_two_models_in_one_firmware_on_every_target(models, libraries, target, tmp_path):
    elf = build([libraries["alpha"] / "alpha.c", libraries["beta"] / "beta.c",
                 PROGRAMS / "two_models.c"], tmp_path / f"two-{target}.elf", target,
                include_dirs=[libraries["alpha"], libraries["beta"]],
                extra_cflags=["-Werror"]).elf
    report = Simulator(load_elf(elf)).run(stdin=io.BytesIO(pairs(models)))
    assert report.status == "ok" and report.exit_code == 0, report.problem
    assert_program_output_is_exact(report.stdout, models)


def native(compiler: str, sources: list[Path], include: list[Path], out: Path,
           flags: list[str] | tuple[str, ...] = ()) -> Path:
    if shutil.which(compiler) is None:
        pytest.fail(f"{compiler} is not installed (make toolchain installs it)")
    proc = subprocess.run([compiler, *flags, *(f"-I{d}" for d in include), *map(str, sources),
                           "-o", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("compiler, flags", [
    ("gcc", ["-O2", *STRICT]),
    ("clang", ["-O2", *STRICT]),
    ("gcc", ["-O0", *WARNINGS]),
    ("gcc", ["-O1", *WARNINGS, "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]),
], ids=["gcc", "clang", "gcc-O0", "gcc-sanitizers"])
def test_two_models_in_one_native_program(models, libraries, compiler, flags, tmp_path):
    exe = native(compiler, [libraries["alpha"] / "alpha.c", libraries["beta"] / "beta.c",
                            PROGRAMS / "two_models.c"],
                 [libraries["alpha"], libraries["beta"]], tmp_path / "two", flags)
    run = subprocess.run([str(exe)], input=pairs(models), capture_output=True, check=False)
    assert run.returncode == 0, run.stderr.decode()
    assert_program_output_is_exact(run.stdout.decode(), models)


@pytest.mark.parametrize("shape", [[1, 1, 3], [2, 9, 1]])
def test_an_image_smaller_than_the_kernel_builds_clean_and_exact(shape):
    """A padded 3x3 kernel over a 1x1 (or 2-row) image: no window lies inside the image, and
    the generated test for one (y0 <= -2) made clang -Wall fail a -Werror build (s54 C review
    L3); both compilers build it clean and give the reference's scores."""
    spec = {"px": {"input": shape, "classes": 3, "layers": [
        {"type": "conv", "filters": 5, "kernel": 3, "padding": 1},
        {"type": "conv", "filters": 33, "kernel": 3, "padding": 1}]}}
    art = export_model(random_model("px", 2, spec))
    images = np.random.default_rng(4).integers(0, 256, (8, *art.input_shape), dtype=np.uint8)
    ref = reference.run(art, images)
    for compiler in ("gcc", "clang"):
        out = run_native(art, images, compiler, ("-O2", "-Werror", "-Wshadow", "-Wconversion"))
        scores, classes = parse_scores(out, art.classes)
        assert np.array_equal(scores, ref.scores) and np.array_equal(classes, ref.classes)


def test_every_global_symbol_carries_the_prefix(libraries, tmp_path):
    for prefix, lib in libraries.items():
        obj = native("gcc", [lib / f"{prefix}.c"], [lib], tmp_path / f"{prefix}.o",
                     ["-c", "-O2", *STRICT])
        nm = subprocess.run(["nm", "-g", "--defined-only", str(obj)], capture_output=True,
                            text=True, check=True).stdout
        names = [line.split()[-1] for line in nm.splitlines()]
        assert f"{prefix}_infer" in names and f"{prefix}_infer_with" in names
        assert f"{prefix}_layer0" in names and f"{prefix}_output_layer" in names
        assert [n for n in names if not n.startswith(f"{prefix}_")] == []


def test_caller_supplied_scratch_only(models, libraries, tmp_path):
    """<PREFIX>_NO_STATIC_SCRATCH compiles out the static buffers and <prefix>_infer; the
    caller's scratch of <PREFIX>_SCRATCH_WORDS words is all <prefix>_infer_with needs."""
    exe = native("gcc", [libraries["alpha"] / "alpha.c", libraries["beta"] / "beta.c",
                         PROGRAMS / "two_models.c"],
                 [libraries["alpha"], libraries["beta"]], tmp_path / "two",
                 ["-O2", *STRICT, "-DALPHA_NO_STATIC_SCRATCH", "-DBETA_NO_STATIC_SCRATCH"])
    symbols = subprocess.run(["nm", str(exe)], capture_output=True, text=True,
                             check=True).stdout
    assert "alpha_buf" not in symbols and "alpha_infer\n" not in symbols
    assert "beta_infer_with" in symbols
    run = subprocess.run([str(exe)], input=pairs(models), capture_output=True, check=False)
    assert run.returncode == 0, run.stderr.decode()
    assert_program_output_is_exact(run.stdout.decode(), models, static=False)


IN_SCRATCH_MAIN = r"""
#include <stdio.h>
#include "alpha.h"
int main(void)
{
    int32_t scores[ALPHA_CLASSES];
    if (fread(ALPHA_INPUT_BUFFER, 1, ALPHA_INPUT_SIZE, stdin) != ALPHA_INPUT_SIZE)
        return 2;
    alpha_infer(ALPHA_INPUT_BUFFER, scores);
    for (int k = 0; k < ALPHA_CLASSES; k++)
        printf("%ld ", (long)scores[k]);
    return 0;
}
"""


def test_image_in_scratch_defined_for_one_side_only_does_not_link(models, libraries, tmp_path):
    """<PREFIX>_IMAGE_IN_SCRATCH for the application but not for <prefix>.c used to link and
    write the whole image over the end of the smaller scratch; now the link fails, naming the
    work buffer. Defined for both, the image in the scratch gives the reference's scores."""
    lib = libraries["alpha"]
    (tmp_path / "main.c").write_text(IN_SCRATCH_MAIN)
    obj = native("gcc", [lib / "alpha.c"], [lib], tmp_path / "alpha.o", ["-c", "-O2", *STRICT])
    proc = subprocess.run(["gcc", "-DALPHA_IMAGE_IN_SCRATCH", f"-I{lib}", str(tmp_path / "main.c"),
                           str(obj), "-o", str(tmp_path / "bad")], capture_output=True,
                          text=True, check=False)
    assert proc.returncode != 0 and "alpha_work" in proc.stderr, proc.stderr
    exe = native("gcc", [lib / "alpha.c", tmp_path / "main.c"], [lib], tmp_path / "good",
                 ["-O2", "-DALPHA_IMAGE_IN_SCRATCH"])
    alpha = models["alpha"]
    run = subprocess.run([str(exe)], input=alpha.images[1].tobytes(), capture_output=True,
                         check=False)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode().split() == [str(int(v)) for v in alpha.ref.scores[1]]


def test_header_documents_the_api(models, libraries):
    for prefix, model in models.items():
        header = (libraries[prefix] / f"{prefix}.h").read_text()
        up = prefix.upper()
        h, w, c = model.art.input_shape
        gen = generate(model.art, prefix)
        for macro, value in [("INPUT_SIZE", h * w * c), ("INPUT_HEIGHT", h), ("INPUT_WIDTH", w),
                             ("INPUT_CHANNELS", c), ("CLASSES", model.art.classes),
                             ("SCRATCH_WORDS", gen.scratch_words),
                             ("SAMPLE_CLASS", int(model.ref.classes[0]))]:
            assert f"#define {up}_{macro} {value}\n" in header
        assert f"int {prefix}_infer(const uint8_t *input, int32_t *scores);" in header
        assert (f"int {prefix}_infer_with(const uint8_t *input, int32_t *scores, "
                "uint32_t *scratch);") in header
        text = " ".join(w for w in header.split() if w != "*")
        assert "row-major HWC order" in text and "2v/255 - 1: 0 is -1.0, 255 is +1.0" in text
        assert f"Classifies one image (input[{up}_INPUT_SIZE])" in text
        assert 'extern "C"' in header  # C++ (Arduino sketches) can include it
        # the kernel header is the project's, the source includes it from its own folder
        source = (libraries[prefix] / f"{prefix}.c").read_text()
        assert '#include "ebnn_kernels.h"' in source and "static const" in source
        assert (libraries[prefix] / "ebnn_kernels.h").read_text() == (
            Path(__file__).parents[1] / "firmware" / "ebnn_kernels.h").read_text()


def test_header_gives_class_names_and_quantisation_to_compile_with(tmp_path):
    # the names and the scale/zero point were only in the artifact or a comment: firmware
    # authors had to copy them out by hand
    from dataclasses import replace

    art = artifact.load(Path(__file__).parents[1] / "examples" / "basicmotions" /
                        "basicmotions.ebnn")
    # escaped in C, printed as the data gave them (non-ASCII was "_": two names could be one)
    names = ["Badminton", "Running", 'Stand*/"x\\??/', "Gehen 日本 ä"]
    art = replace(art, metadata={**art.metadata, "class_names": names})
    gen = generate(art, "imu")
    (tmp_path / "imu.h").write_text(gen.header)
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "imu.h"\n'
        "static const char *const names[] = IMU_CLASS_NAMES;\n"
        "static const double scale[] = IMU_INPUT_SCALE;\n"
        "static const int32_t zero_point[] = IMU_INPUT_ZERO_POINT;\n"
        "int main(void) {\n"
        "  for (int i = 0; i < IMU_CLASSES; i++) printf(\"%s\\n\", names[i]);\n"
        "  for (int c = 0; c < IMU_INPUT_CHANNELS; c++)\n"
        "    printf(\"%.17g %d\\n\", scale[c], (int)zero_point[c]);\n"
        "  return (int)(sizeof names / sizeof names[0]) != IMU_CLASSES;\n}\n")
    exe = tmp_path / "main"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", exe,
                    tmp_path / "main.c"], check=True)
    lines = subprocess.run([exe], check=True, capture_output=True, text=True).stdout.split("\n")
    assert lines[:4] == names
    q = art.input_quant
    assert [(float(a), int(b)) for a, b in (ln.split() for ln in lines[4:10])] == list(
        zip(q.scale, q.zero_point, strict=True))
    assert "IMU_CLASS_NAMES" not in generate(replace(art, metadata={}), "imu").header
    from ebnn.library import arduino_sketch  # a sequence model's sketch reads sequences

    assert "classifies sequences sent over the serial" in arduino_sketch(gen)
    # the header speaks of sequences too (it said "Classifies one image")
    flat = " ".join(w for w in gen.header.split() if w != "*")
    assert "Classifies one sequence (input[IMU_INPUT_SIZE])" in flat
    assert "image" not in flat.replace("ebnn-sim", ""), [
        ln for ln in gen.header.splitlines() if "image" in ln]


# the core without a divide instruction, and one with the DSP extension and an FPU
@pytest.mark.parametrize("target", ["stm32l031", "nrf52832"])
def test_library_needs_no_c_library(libraries, target, tmp_path):
    """Compiled for the bare core with no C library at all (-ffreestanding, no picolibc), the
    library builds and calls nothing it does not define: no libc, no compiler runtime."""
    flags = TARGETS[target].cflags
    for prefix, lib in libraries.items():
        obj = tmp_path / f"{prefix}.o"
        proc = subprocess.run(["arm-none-eabi-gcc", *flags, "-O2", "-ffreestanding", *STRICT,
                               "-c", str(lib / f"{prefix}.c"), "-o", str(obj)],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True,
                                   text=True, check=True).stdout
        assert undefined == ""


def test_shipped_models_need_no_c_library(tmp_path):
    """The same for every shipped model: a hidden conv over padding zeroed its window mask
    with `= {0}`, which gcc compiles to a memset call (clang: __aeabi_memclr4)."""
    for path in sorted((Path(__file__).parents[1] / "examples").glob("*/*.ebnn")):
        lib = tmp_path / path.stem
        run = ebnn("export-c", path, "-o", lib, "--prefix", "m")
        assert run.returncode == 0, run.stderr
        for cc in (["arm-none-eabi-gcc", *TARGETS["stm32l031"].cflags],
                   ["clang", "--target=thumbv6m-none-eabi"]):
            obj = tmp_path / f"{path.stem}.o"
            proc = subprocess.run([*cc, "-O2", "-ffreestanding", *STRICT, "-c",
                                   str(lib / "m.c"), "-o", str(obj)],
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, (path, cc, proc.stderr)
            undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)],
                                       capture_output=True, text=True, check=True).stdout
            assert undefined == "", (path, cc[0], undefined)


def test_ebnn_build_is_export_c_with_prefix_ebnn(models, tmp_path):
    """`ebnn build` compiles the exported library (prefix ebnn) with the harness: the same
    files, and the symbols verify and the profiler rely on."""
    model = models["alpha"]
    result, gen = build_firmware(model.art, tmp_path / "fw.elf", "curie")
    src = tmp_path / "fw-src"
    assert {p.name: p.read_text() for p in src.iterdir()} == library_files(
        model.art, "ebnn", "plain")
    symbols = load_elf(result.elf).symbols
    for name in ("ebnn_infer", "ebnn_layer0", "ebnn_layer2", "ebnn_output_layer", "ebnn_work",
                 "ebnn_report"):
        assert name in symbols, name
    # the image is read into the scratch: its only buffer is the library's, of WORK words
    assert load_elf(result.elf).static_ram == 4 * gen.plan.work_words + 4 * model.art.classes


# ---- layouts ---------------------------------------------------------------------------------

def cmake(*args: str | Path, cwd: Path | None = None) -> None:
    proc = subprocess.run(["cmake", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cmake_layout_builds_and_is_exact(models, tmp_path):
    """The library folder on its own builds its example, which checks the sample and
    classifies stdin; as two add_subdirectory()s it links into one application."""
    flags = "-Wall -Wextra -pedantic -Werror"
    compiler = "gcc"  # clang builds the same files in test_two_models_in_one_native_program
    libs = {p: export(m, tmp_path / "app" / p, "cmake") for p, m in models.items()}
    build_dir = tmp_path / "build-alpha"
    cmake("-S", libs["alpha"], "-B", build_dir, f"-DCMAKE_C_COMPILER={compiler}",
          f"-DCMAKE_C_FLAGS={flags}")
    cmake("--build", build_dir)
    # cross-compiling (or -DALPHA_BUILD_EXAMPLE=OFF), the folder builds the library alone:
    # the example needs a host's stdio
    quiet = tmp_path / "build-quiet"
    cmake("-S", libs["alpha"], "-B", quiet, f"-DCMAKE_C_COMPILER={compiler}",
          "-DALPHA_BUILD_EXAMPLE=OFF")
    cmake("--build", quiet)
    assert (quiet / "libalpha.a").exists() and not (quiet / "alpha_example").exists()
    # a Debug build optimises the model's C (-O0 made it 6x larger, its frames 10x deeper:
    # a Debug firmware overflowed a 32 KiB part; s52 integration review MEDIUM-3), unless
    # ALPHA_OPTIMIZE_DEBUG=OFF
    # ALPHA_OPTIMIZE_DEBUG=OFF; and with no build type (CMake's default: no -O at all, a
    # 65 KB library for a 32 KB part; s54 C review M2) at -O2 unless CMAKE_C_FLAGS has a level
    for option, build_type, c_flags, level in (
            ("ON", "Debug", "", "-Og"), ("OFF", "Debug", "", None), ("ON", "", "", "-O2"),
            ("ON", "", "-Os", None), ("OFF", "", "", None), ("ON", "Release", "", None)):
        debug = tmp_path / f"build-{option}-{build_type}-{c_flags}"
        cmake("-S", libs["alpha"], "-B", debug, f"-DCMAKE_C_COMPILER={compiler}",
              f"-DCMAKE_BUILD_TYPE={build_type}", f"-DCMAKE_C_FLAGS={c_flags}",
              "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", f"-DALPHA_OPTIMIZE_DEBUG={option}")
        commands = json.loads((debug / "compile_commands.json").read_text())
        words = next(c["command"] for c in commands if c["file"].endswith("alpha.c")).split()
        added = [w for w in words if w in ("-Og", "-O2")]
        assert added == ([level] if level else []), words
        assert "-std=c99" in words, words  # C99 as the docs say, not gnu99
    run = subprocess.run([str(build_dir / "alpha_example")], input=models["alpha"].images
                         .tobytes(), capture_output=True, check=False)
    assert run.returncode == 0 and b"alpha: sample ok" in run.stderr, run.stderr
    scores, classes = parse_scores(run.stdout.decode(), models["alpha"].art.classes)
    assert np.array_equal(scores, models["alpha"].ref.scores)
    assert np.array_equal(classes, models["alpha"].ref.classes)

    app = tmp_path / "app"
    shutil.copy(PROGRAMS / "two_models.c", app)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_subdirectory(alpha)\n"
        "add_subdirectory(beta)\nadd_executable(app two_models.c)\n"
        "target_link_libraries(app PRIVATE alpha beta)\n")
    cmake("-S", app, "-B", app / "build", f"-DCMAKE_C_COMPILER={compiler}",
          f"-DCMAKE_C_FLAGS={flags}")
    cmake("--build", app / "build")
    assert not (app / "build" / "alpha" / "alpha_example").exists()  # only when top level
    # an application's own level (add_compile_options(-Os)) is kept: no -O2 after it (s54
    # review M1: the library grew 6-24% at -Os -O2)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_compile_options(-Os)\n"
        "add_subdirectory(alpha)\n")
    cmake("-S", app, "-B", app / "build-os", f"-DCMAKE_C_COMPILER={compiler}",
          "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON")
    commands = json.loads((app / "build-os" / "compile_commands.json").read_text())
    words = next(c["command"] for c in commands if c["file"].endswith("alpha.c")).split()
    assert "-Os" in words and "-O2" not in words, words
    run = subprocess.run([str(app / "build" / "app")], input=pairs(models), capture_output=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert_program_output_is_exact(run.stdout.decode(), models)


# Arduino library specification 1.5 (arduino.github.io/arduino-cli/library-specification):
# library.properties' required fields, and the allowed categories.
ARDUINO_FIELDS = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category",
                  "url", "architectures")
ARDUINO_CATEGORIES = ("Display", "Communication", "Signal Input/Output", "Sensors",
                      "Device Control", "Timing", "Data Storage", "Data Processing", "Other")


def test_arduino_layout_follows_the_library_specification(models, tmp_path):
    model = models["alpha"]
    lib = export(model, tmp_path / "alpha", "arduino")
    props = dict(line.split("=", 1) for line in
                 (lib / "library.properties").read_text().splitlines())
    assert [f for f in ARDUINO_FIELDS if not props.get(f)] == []
    assert props["name"] == "alpha" and props["includes"] == "alpha.h"
    assert re.fullmatch(r"\d+\.\d+\.\d+", props["version"])  # semver
    assert props["category"] in ARDUINO_CATEGORIES
    assert props["url"].startswith("https://") and props["architectures"] == "*"
    # 1.5 layout: sources under src/ (recursive compilation), examples/<name>/<name>.ino
    assert sorted(p.name for p in (lib / "src").iterdir()) == ["alpha.c", "alpha.h",
                                                              "ebnn_kernels.h"]
    sketch = lib / "examples" / "alpha" / "alpha.ino"
    assert sketch.is_file()
    for line in (lib / "keywords.txt").read_text().splitlines():
        word, kind = line.split("\t")
        assert kind in ("KEYWORD1", "KEYWORD2", "LITERAL1") and word.startswith(("alpha",
                                                                                 "ALPHA"))
    # The sketch is C++ (the IDE adds #include <Arduino.h>): compile it against the stub core
    # and run it, the library compiled as C as the IDE does, images fed through Serial.
    cpp = tmp_path / "sketch.cpp"
    cpp.write_text("#include <Arduino.h>\n" + sketch.read_text())
    obj = native("gcc", [lib / "src" / "alpha.c"], [lib / "src"], tmp_path / "alpha.o",
                 ["-c", "-O2", *WARNINGS])
    exe = native("g++", [cpp, STUBS / "arduino_main.cpp", obj], [STUBS, lib / "src"],
                 tmp_path / "sketch", ["-std=c++11", "-Wall", "-Wextra", "-pedantic", "-Werror"])
    run = subprocess.run([str(exe)], input=model.images.tobytes(), capture_output=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    assert re.search(r"^alpha: sample ok, \d+ us$", out, re.M), out
    scores, classes = parse_scores(out.split("sample ok", 1)[1], model.art.classes)
    assert np.array_equal(scores, model.ref.scores)
    assert np.array_equal(classes, model.ref.classes)


def module_yml(text: str) -> dict[str, object]:
    """The two levels of zephyr/module.yml this layout writes ("key: value", nested by two
    spaces)."""
    result: dict[str, object] = {}
    section: dict[str, str] | None = None
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if line.startswith("  "):
            assert section is not None
            section[key] = value.strip()
        elif value.strip():
            result[key] = value.strip()
        else:
            section = {}
            result[key] = section
    return result


def test_zephyr_layout_is_a_module(models, tmp_path):
    model = models["beta"]
    lib = export(model, tmp_path / "beta", "zephyr")
    # zephyr/module.yml (Zephyr's module description): build.cmake is the folder with the
    # module's CMakeLists.txt, build.kconfig its Kconfig file, relative to the module root
    meta = module_yml((lib / "zephyr" / "module.yml").read_text())
    assert meta["name"] == "beta"
    build_keys = meta["build"]
    assert isinstance(build_keys, dict)
    cmake_lists = (lib / build_keys["cmake"] / "CMakeLists.txt").read_text()
    kconfig = (lib / build_keys["kconfig"]).read_text()
    assert "if(CONFIG_EBNN_MODEL_BETA)" in cmake_lists and "zephyr_library()" in cmake_lists
    for call, path in re.findall(r"(zephyr_library_sources|zephyr_include_directories)\((\S+)\)",
                                 cmake_lists):
        assert (lib / path).exists(), (call, path)
    assert (lib / "include" / "beta.h").is_file()
    symbols = re.findall(r"^config (\w+)\n\tbool \"[^\"]+\"", kconfig, re.M)
    assert symbols == ["EBNN_MODEL_BETA", "EBNN_MODEL_BETA_STATIC_SCRATCH"]
    sample = lib / "samples" / "beta"
    assert "CONFIG_EBNN_MODEL_BETA=y" in (sample / "prj.conf").read_text()
    sample_cmake = (sample / "CMakeLists.txt").read_text()
    assert "find_package(Zephyr" in sample_cmake and "EXTRA_ZEPHYR_MODULES" in sample_cmake
    assert "tests:\n  sample.ebnn.beta:" in (sample / "sample.yaml").read_text()
    # the sample's main.c on the host, against a stand-in for the kernel APIs it uses
    (tmp_path / "run.c").write_text("void stub_thread_beta_thread(void);\n"
                                    "int main(void)\n{\n    stub_thread_beta_thread();\n"
                                    "    return 0;\n}\n")
    exe = native("gcc", [sample / "src" / "main.c", lib / "src" / "beta.c", tmp_path / "run.c"],
                 [STUBS, lib / "include"], tmp_path / "sample", ["-O2", *WARNINGS])
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^beta: sample ok, \d+ cycles$", run.stdout, re.M), run.stdout
    scores, _ = parse_scores(run.stdout, model.art.classes)
    assert np.array_equal(scores[0], reference.run(model.art, model.art.sample).scores[0])


# ---- the native cross-check (`ebnn-sim verify --native`) -------------------------------------

def test_run_native_equals_reference(models):
    model = models["beta"]
    scores, classes = parse_scores(run_native(model.art, model.images, "clang"),
                                   model.art.classes)
    assert np.array_equal(scores, model.ref.scores)
    assert np.array_equal(classes, model.ref.classes)
    with pytest.raises(LibraryError, match="not found"):
        run_native(model.art, model.images, "no-such-cc")


def test_verify_native_counts_mismatches(models, monkeypatch):
    """A host build that computes another score for image 2 (as a compiler bug would) is a
    mismatch at image 2."""
    import ebnn.library

    model = models["beta"]
    assert verify_native(model.art, model.images, "gcc").mismatches == 0
    honest = ebnn.library.run_native

    def miscompiled(*args, **kwargs):
        lines = honest(*args, **kwargs).splitlines(keepends=True)
        first, *rest = lines[4].split()[1:]  # image 2's scores line
        lines[4] = " ".join(["scores:", str(int(first) + 1), *rest]) + "\n"
        return "".join(lines)

    monkeypatch.setattr(ebnn.library, "run_native", miscompiled)
    assert verify_native(model.art, model.images, "gcc").to_dict() == {
        "compiler": "gcc", "compared": IMAGES, "mismatches": 1, "mismatch_indices": [2],
        "status": "mismatch"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped mnist-tiny model and its firmware (MNIST-shaped, so verify has images)."""
    art_path = Path(__file__).parents[1] / "examples" / "mnist-tiny" / "mnist-tiny.ebnn"
    elf = tmp_path_factory.mktemp("tiny") / "tiny.elf"
    build_firmware(artifact.load(art_path), elf, "curie")
    return art_path, elf


def test_verify_native_cli(tiny, tmp_path):
    art_path, elf = tiny
    result = run_cli_in_process("verify", elf, "--model", art_path, "--limit", "20", "--native",
                                "--cc", "clang", json_path=tmp_path / "v.json")
    assert result.returncode == 0, result.stderr
    assert result.report is not None
    assert result.report["mismatches"] == 0 and result.report["compared"] == 20
    assert result.report["native"] == {"compiler": "clang", "compared": 20, "mismatches": 0,
                                       "mismatch_indices": [], "status": "ok"}
    assert "native (clang): 0 mismatches in 20 images" in result.stderr
    line = assert_single_error_line(run_cli_in_process(
        "verify", elf, "--model", art_path, "--native", "--cc", "no-such-cc"))
    assert "'no-such-cc' not found" in line


# ---- the command and its fault paths ---------------------------------------------------------

def test_default_prefix_is_the_model_name(models, tmp_path):
    run = ebnn("export-c", models["alpha"].path, "-o", tmp_path / "lib")
    assert run.returncode == 0, run.stderr
    name = models["alpha"].art.name  # "mixed"
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == sorted(
        [f"{name}.c", f"{name}.h", "ebnn_kernels.h"])


def test_model_name_that_is_no_c_identifier(models, tmp_path):
    """The default prefix of a model called `3 "layer" */ net` is no C identifier: an error
    asking for --prefix. With one, the name (quotes, comment end and all) cannot break the C."""
    art = models["alpha"].art
    art_path = tmp_path / "odd.ebnn"
    odd = Artifact('3 "layer" */ net\\', art.input_shape, art.classes, art.layers,
                   art.metadata, art.sample)
    artifact.save(odd, art_path)
    line = one_line_error(ebnn("export-c", art_path, "-o", tmp_path / "lib"))
    assert "'3__layer_____net_'" in line and "--prefix" in line
    for layout in ("cmake", "zephyr", "arduino"):
        run = ebnn("export-c", art_path, "-o", tmp_path / layout, "--prefix", "net3",
                   "--layout", layout)
        assert run.returncode == 0, run.stderr
    assert '#define NET3_MODEL_NAME "3 _layer_ __ net_"' in (tmp_path / "cmake" / "net3.h"
                                                             ).read_text()
    native("gcc", [tmp_path / "cmake" / "net3.c", tmp_path / "cmake" / "example" / "main.c"],
           [tmp_path / "cmake"], tmp_path / "net3", ["-O1", *WARNINGS])
    for text in ((tmp_path / "zephyr" / "Kconfig").read_text(),
                 (tmp_path / "arduino" / "library.properties").read_text()):
        assert "3 _layer_ __ net_" in text and '"layer"' not in text


@pytest.mark.parametrize("prefix, words", [
    ("9lives", "C identifier"), ("my-model", "C identifier"), ("_model", "reserves"),
    ("stdint", "standard C header"), ("ebnn_kernels", "kernel header"),
    ("Arduino", "Arduino core"), ("", "C identifier"),
    # a FreeRTOS.h of the model's shadowed the RTOS's in an RTOS project (s52 review L6)
    ("FreeRTOS", "shadow FreeRTOS's"), ("task", "FreeRTOS's"), ("cmsis_os2", "CMSIS's"),
    ("main", "STM32CubeMX"), ("stm32l0xx_hal", "vendor's device header"),
    ("core_cm4", "vendor's device header"),
])
def test_bad_prefixes_are_refused(models, tmp_path, prefix, words):
    line = one_line_error(ebnn("export-c", models["alpha"].path, "-o", tmp_path / "lib",
                               "--prefix", prefix))
    assert words in line
    assert not (tmp_path / "lib").exists()
    with pytest.raises(LibraryError, match=words):
        check_prefix(prefix)


@pytest.mark.parametrize("prefix", ["test", "all", "install", "ALL_BUILD"])
def test_cmake_target_names_are_refused_for_the_cmake_layout(models, tmp_path, prefix):
    # add_library(test) configured, then failed once the parent project enable_testing()s
    line = one_line_error(ebnn("export-c", models["alpha"].path, "-o", tmp_path / "lib",
                               "--prefix", prefix, "--layout", "cmake"))
    assert "CMake keeps the target name" in line
    assert not (tmp_path / "lib").exists()
    assert ebnn("export-c", models["alpha"].path, "-o", tmp_path / "plain", "--prefix",
                prefix).returncode == 0  # a plain library may be called so


def test_an_empty_output_folder_is_refused(models, tmp_path):
    # -o "" wrote the library into the current folder
    run = ebnn("export-c", models["alpha"].path, "-o", "")
    assert run.returncode == 2 and "an empty path" in run.stderr
    assert "Traceback" not in run.stderr


def test_prefix_clashing_with_the_kernel_header(monkeypatch, tmp_path):
    """A prefix whose names the kernel header defines too (none does today: this guards the
    kernels' future macros) is refused."""
    import ebnn.library

    kernels = tmp_path / "ebnn_kernels.h"
    kernels.write_text(ebnn.library.kernels_path().read_text() + "#define GAMMA_CLASSES 3\n")
    monkeypatch.setattr(ebnn.library, "kernels_path", lambda: kernels)
    with pytest.raises(LibraryError, match=r"GAMMA_CLASSES is defined by ebnn_kernels\.h"):
        check_prefix("gamma")
    for prefix in ("ebnn", "ebnn_conv", "ebnn_output", "EBNN"):
        check_prefix(prefix)


def test_usage_errors_are_one_line(models, tmp_path):
    path = models["alpha"].path
    assert "'mbed'" in one_line_error(ebnn("export-c", path, "-o", tmp_path / "x", "--layout",
                                           "mbed"))
    assert "no such file" in one_line_error(ebnn("export-c", tmp_path / "missing.ebnn", "-o",
                                                 tmp_path / "x"))
    (tmp_path / "file").write_text("")
    assert "not a directory" in one_line_error(ebnn("export-c", path, "-o", tmp_path / "file"))
    (tmp_path / "bad.ebnn").write_bytes(b"not an artifact")
    assert "bad.ebnn" in one_line_error(ebnn("export-c", tmp_path / "bad.ebnn", "-o",
                                             tmp_path / "x"))
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "src").write_text("")  # the arduino layout needs a folder src/ here
    assert "cannot write" in one_line_error(ebnn("export-c", path, "-o", blocked, "--layout",
                                                 "arduino"))


def test_export_c_help_explains():
    run = ebnn("export-c", "--help")
    assert run.returncode == 0
    text = " ".join(run.stdout.split())
    for words in ("NAME_infer_with", "NAME_SCRATCH_WORDS", "plain", "cmake", "arduino",
                  "zephyr", "--prefix", "docs/deploy.md"):
        assert words in text, words


def test_deploy_docs_table_is_what_the_recipe_measures(tmp_path):
    """docs/deploy.md's code and const data of the shipped models, by its own recipe."""
    root = Path(__file__).parents[1]
    text = (root / "docs" / "deploy.md").read_text()
    rows = re.findall(r"^\| `([\w-]+)` \| ([\d,]+) B \| ([\d,]+) B \|", text, re.M)
    assert len(rows) >= 4, rows
    for name, code, const in rows:
        lib = tmp_path / name
        assert ebnn("export-c", root / "examples" / name / f"{name}.ebnn", "-o",
                    lib).returncode == 0
        source = next(lib.glob("*.c"))
        obj = tmp_path / f"{name}.o"
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-O2",
                        "-ffunction-sections", "-fdata-sections", "-c", str(source), "-I",
                        str(lib), "-o", str(obj)], check=True)
        sizes = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], capture_output=True,
                               text=True, check=True).stdout.splitlines()
        total = {".text": 0, ".rodata": 0}
        for line in sizes:
            parts = line.split()
            for kind in total:
                if parts and parts[0].startswith(kind):
                    total[kind] += int(parts[1])
        assert (total[".text"], total[".rodata"]) == (
            int(code.replace(",", "")), int(const.replace(",", ""))), name


def test_build_sources_are_replaced_together(models, tmp_path, monkeypatch):
    """An interrupted `ebnn build` left a header of one model beside the source of another
    (s51 new-user review): the files are written under temporary names, then renamed in
    place together; a failure half-way leaves the old ones and no temporary file. Other
    files in the folder stay, and a folder that is a symbolic link works (s52 review M2)."""
    import ebnn.build as eb

    real = tmp_path / "real"
    real.mkdir()
    src = tmp_path / "m-src"
    src.symlink_to(real)
    first = generate(models["alpha"].art, "ebnn")
    eb.write_sources(first, src)
    (src / "my_main.c").write_text("int main(void) { return 0; }\n")
    write, calls = Path.write_bytes, []

    def failing(self, data):
        calls.append(self)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(KeyboardInterrupt):
        eb.write_sources(generate(models["beta"].art, "ebnn"), src)
    monkeypatch.undo()
    assert (src / "ebnn.c").read_text() == first.source
    assert sorted(p.name for p in real.iterdir()) == sorted([*first.files, "my_main.c"])
    second = generate(models["beta"].art, "ebnn")
    eb.write_sources(second, src)
    assert (src / "ebnn.c").read_text() == second.source and src.is_symlink()
    assert sorted(p.name for p in real.iterdir()) == sorted([*second.files, "my_main.c"])


QUANT_MAIN = r"""
#include <stdio.h>
#include "imu.h"
/* reads float32 values from stdin, writes imu_quantize's bytes to stdout */
int main(void)
{
    static float x[16384];
    static uint8_t out[16384];
    size_t n = fread(x, sizeof x[0], sizeof x / sizeof x[0], stdin);
    imu_quantize(x, out, (uint32_t)n);
    return fwrite(out, 1, n, stdout) == n ? 0 : 1;
}
"""


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_the_generated_quantiser_is_the_reference_bit_for_bit(tmp_path, compiler):
    """A float model's <prefix>_quantize (<prefix>_input.c): the firmware's own conversion of
    its readings, which every user wrote by hand from a comment (s52 integration review L10),
    gives the bytes the reference reads: ties to even (scales that make x / scale land on
    halves), values far outside (clamped), negative zero points, under strict warnings."""
    from dataclasses import replace

    from ebnn.quantize import InputQuant

    art = artifact.load(Path(__file__).parents[1] / "examples" / "basicmotions" /
                        "basicmotions.ebnn")
    art = replace(art, input_quant=InputQuant(scale=(0.25, 0.5, 1.0, 0.1, 3.0, 1e-3),
                                              zero_point=(128, 0, -3, 255, 7, 300)))
    gen = generate(art, "imu")
    assert set(gen.files) == {"imu.h", "imu.c", "ebnn_kernels.h", "imu_input.c"}
    for name, text in gen.files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.c").write_text(QUANT_MAIN)
    exe = native(compiler, [tmp_path / "imu_input.c", tmp_path / "main.c"], [tmp_path],
                 tmp_path / "q", ["-O2", *STRICT, "-Wdouble-promotion", "-Wfloat-equal"])
    rng = np.random.default_rng(3)
    halves = (np.arange(-300, 300) / 2).astype(np.float32)  # k + 0.5 steps at scale 1
    values = np.concatenate([
        rng.normal(0, 50, 1800), halves * 0.25, halves * 0.5, halves, halves * 3.0,
        [1e30, -1e30, 3.4e38, -3.4e38, 0.0, -0.0, 1e-40]]).astype(np.float32)
    values = values[: len(values) // 6 * 6]
    out = subprocess.run([str(exe)], input=values.tobytes(), capture_output=True,
                         check=True).stdout
    expected = reference.quantize_input(art, values.reshape(-1, 6))
    assert np.array_equal(np.frombuffer(out, np.uint8), expected.ravel())


def test_the_generated_quantiser_holds_for_zero_points_far_from_zero(tmp_path):
    """Readings far from 0 against their range (a channel in [8e6, 8e6 + 1]: fit() gives it a
    zero point of -2.04e9) are bytes for the reference; the C clamped x / scale at 1e9 before
    adding the zero point and gave 0 or 255 for every one of them (s54 C review M1)."""
    from dataclasses import replace

    from ebnn.quantize import fit

    art = artifact.load(Path(__file__).parents[1] / "examples" / "basicmotions" /
                        "basicmotions.ebnn")
    rng = np.random.default_rng(5)
    offsets = np.array([8e6, -5.9e6, 1e3, 0.0, -2e6, 5.0])
    data = (offsets + rng.random((500, 6)) * np.array([1, 1, 10, 1, 0.5, 1])).astype(np.float32)
    quant = fit(data)
    assert max(abs(z) for z in quant.zero_point) > 2e9
    art = replace(art, input_quant=quant)
    for name, text in generate(art, "imu").files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.c").write_text(QUANT_MAIN)
    exe = native("gcc", [tmp_path / "imu_input.c", tmp_path / "main.c"], [tmp_path],
                 tmp_path / "q", ["-O2", *STRICT])
    extremes = np.repeat(np.array([[np.nan], [np.inf], [-np.inf], [3.4e38], [-3.4e38]]), 6, 1)
    values = np.concatenate([data, offsets[None, :] - 1, offsets[None, :] + 2,
                             extremes]).astype(np.float32)
    out = subprocess.run([str(exe)], input=values.tobytes(), capture_output=True,
                         check=True).stdout
    expected = reference.quantize_input(art, values)
    assert np.array_equal(np.frombuffer(out, np.uint8), expected.ravel())
    for channel in (0, 1):  # float32 holds few values there, but in range, not clamped
        assert set(expected[: len(data), channel].tolist()) - {0, 255}


@pytest.mark.parametrize("compiler", [
    ["arm-none-eabi-gcc", "-mfloat-abi=hard"],
    ["clang", "--target=arm-none-eabi", "-mfloat-abi=hard", "-ffreestanding"],
    ["clang", "--target=arm-none-eabi", "-mfloat-abi=softfp", "-ffreestanding"]],
    ids=["gcc", "clang-hard", "clang-softfp"])
@pytest.mark.parametrize("model", ["mnist", "basicmotions", "fashion-mnist"])
def test_the_library_uses_no_fpu_or_mve_register_on_the_m55(tmp_path, model, compiler):
    """The entry points are integer-only like the layers: on the Cortex-M55 GCC zeroed a
    stream's counters through MVE registers in NAME_stream_begin/_row, making a sample
    interrupt that calls them an FP context (a NOCP fault with the FPU off; s54 C review L4);
    clang vectorised layer loops with MVE too (s55 library review M1). ebnn-sim runs no M55:
    the object code is checked."""
    lib = tmp_path / "lib"
    prefix = model.replace("-", "_")
    for name, text in generate(artifact.load(Path(__file__).parents[1] / "examples" / model /
                                             f"{model}.ebnn"), prefix).files.items():
        (lib / name).parent.mkdir(exist_ok=True)
        (lib / name).write_text(text)
    obj = tmp_path / f"{model}.o"
    subprocess.run([*compiler, "-mcpu=cortex-m55", "-mthumb", "-O2", "-std=c99", "-Wall",
                    "-Werror", "-c", str(lib / f"{prefix}.c"), f"-I{lib}", "-o", str(obj)],
                   check=True)
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], capture_output=True,
                             text=True, check=True).stdout
    assert f"<{prefix}_stream_row>:" in listing
    fp = [line for line in listing.splitlines()
          if re.search(r"\t(v[a-z0-9.]+|stcl?|ldcl?)\t", line)]
    assert not fp, fp[:5]


@pytest.mark.parametrize("target", ["stm32l031", "nrf52832"])
def test_the_generated_quantiser_builds_for_the_cores(tmp_path, target):
    """For the M0+ (no FPU) and the M4F (single precision): clean under the strict flags, and
    it needs only the compiler runtime's double arithmetic, no C library."""
    art = artifact.load(Path(__file__).parents[1] / "examples" / "basicmotions" /
                        "basicmotions.ebnn")
    for name, text in generate(art, "imu").files.items():
        (tmp_path / name).write_text(text)
    obj = tmp_path / "imu_input.o"
    proc = subprocess.run(["arm-none-eabi-gcc", *TARGETS[target].cflags, "-O2", "-ffreestanding",
                           *STRICT, "-Wdouble-promotion", "-c", str(tmp_path / "imu_input.c"),
                           f"-I{tmp_path}", "-o", str(obj)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True,
                               text=True, check=True).stdout.split()
    assert all(name == "U" or name.startswith("__aeabi_") for name in undefined), undefined



def test_a_model_of_bytes_exported_over_a_float_one_leaves_no_quantiser(tmp_path):
    """Re-exporting a uint8 model where a float one was left its NAME_input.c, which an
    Arduino build (every .c of src/) compiled against a header without NAME_quantize (s52
    review round 3). The stale quantiser goes; a file of the user's stays."""
    root = Path(__file__).parents[1] / "examples"
    lib = tmp_path / "lib"
    for layout, where in (("arduino", lib / "src"), ("plain", lib)):
        assert ebnn("export-c", root / "basicmotions" / "basicmotions.ebnn", "-o", lib,
                    "--prefix", "m", "--layout", layout).returncode == 0
        assert (where / "m_input.c").is_file()
        (where / "mine.c").write_text("/* the user's */\n")
        assert ebnn("export-c", root / "mnist-tiny" / "mnist-tiny.ebnn", "-o", lib,
                    "--prefix", "m", "--layout", layout).returncode == 0
        assert not (where / "m_input.c").exists() and (where / "mine.c").is_file()


def test_prefixes_whose_files_collide_in_one_folder_are_refused(tmp_path):
    """Prefix 'm' of a float model writes m_input.c, the name of prefix 'm_input''s model
    source: exported into one folder, one replaced the other, or a later uint8 export of 'm'
    deleted the model 'm_input''s source as a stale quantiser (s52 review). Now refused, and
    nothing of the first export is lost."""
    root = Path(__file__).parents[1] / "examples"
    floats = root / "basicmotions" / "basicmotions.ebnn"
    uint8 = root / "mnist-tiny" / "mnist-tiny.ebnn"
    for first, second in ((("m_input", uint8), ("m", floats)), (("m", floats), ("m_input", uint8)),
                          (("m_input", uint8), ("m", uint8))):
        lib = tmp_path / f"{first[0]}-{second[0]}-{second[1].stem}"
        assert ebnn("export-c", first[1], "-o", lib, "--prefix", first[0]).returncode == 0
        before = (lib / "m_input.c").read_bytes()
        proc = ebnn("export-c", second[1], "-o", lib, "--prefix", second[0])
        if second[1] == floats or first[1] == floats:
            assert proc.returncode == 2, proc.stderr
            assert "would replace" in proc.stderr and "Traceback" not in proc.stderr
        else:  # a uint8 'm' writes no m_input.c: the other model's source stays
            assert proc.returncode == 0, proc.stderr
        assert (lib / "m_input.c").read_bytes() == before


def test_a_prefix_differing_in_case_only_is_refused_in_one_folder(tmp_path):
    """'mnist' then 'Mnist' in one folder: both headers guard with MNIST_H and name the same
    macros (an include of both failed: 'Mnist_sample' undeclared), and on a case-insensitive
    file system the second export replaced the first (s55 library review LOW 4)."""
    model = Path(__file__).parents[1] / "examples" / "mnist" / "mnist.ebnn"
    assert ebnn("export-c", model, "-o", tmp_path, "--prefix", "mnist").returncode == 0
    before = (tmp_path / "mnist.c").read_bytes()
    proc = ebnn("export-c", model, "-o", tmp_path, "--prefix", "Mnist")
    assert proc.returncode == 2 and not (tmp_path / "Mnist.c").exists(), proc.stderr
    assert ("prefix 'Mnist' is not usable in" in proc.stderr
            and "mnist.c there holds the model of prefix 'mnist', which differs in case only"
            in " ".join(proc.stderr.split()))
    assert (tmp_path / "mnist.c").read_bytes() == before
    assert ebnn("export-c", model, "-o", tmp_path, "--prefix", "mnist").returncode == 0
