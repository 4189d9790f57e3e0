"""``ebnn export-c``: the model as a self-contained C99 library folder for any firmware.

The C is ``ebnn.codegen``'s (the same ``ebnn build`` compiles with its harness); this module
names it (the prefix), lays it out for a build system and adds what each one needs:

- ``plain``: ``NAME.h``, ``NAME.c``, ``ebnn_kernels.h``;
- ``cmake``: the same plus ``CMakeLists.txt`` (``add_library(NAME ...)``) and ``example/main.c``;
- ``arduino``: an Arduino library (specification 1.5): ``library.properties``, ``src/``,
  ``keywords.txt``, ``examples/NAME/NAME.ino``;
- ``zephyr``: a Zephyr module: ``zephyr/module.yml``, ``CMakeLists.txt`` (``zephyr_library()``),
  ``Kconfig``, ``include/NAME.h``, ``src/``, a sample in ``samples/NAME/``.

Every example classifies the model's sample image and compares all its scores with the
reference's, so a board shows at once whether the port is bit-exact. See docs/deploy.md.
"""

import re
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path, PurePosixPath

import numpy as np

from ebnn.artifact import Artifact
from ebnn.codegen import (
    KERNELS,
    GeneratedC,
    generate,
    generated_names,
    kernels_path,
    model_label,
)
from ebnn.ctext import c_array
from sim.formats import write_bytes

LAYOUTS = ("plain", "cmake", "arduino", "zephyr")

# File names a prefix must not take: its NAME.h would shadow the C library's headers (or the
# Arduino core's) on an include path, or overwrite the kernel header. Compared ignoring case,
# as on the file systems of Windows and macOS.
_TAKEN = {"assert", "complex", "ctype", "errno", "fenv", "float", "inttypes", "iso646",
          "limits", "locale", "math", "setjmp", "signal", "stdalign", "stdarg", "stdatomic",
          "stdbool", "stddef", "stdint", "stdio", "stdlib", "stdnoreturn", "string", "tgmath",
          "threads", "time", "uchar", "wchar", "wctype", "arduino", KERNELS[:-2]}
# the headers of what firmware is built with beside the library: an RTOS's, CMSIS's, a vendor
# HAL's and the main.h STM32CubeMX generates (a FreeRTOS.h of the model's shadowed FreeRTOS's)
_FIRMWARE_HEADERS = {
    **dict.fromkeys(("freertos", "task", "queue", "semphr", "timers", "list", "croutine",
                     "event_groups", "stream_buffer", "message_buffer", "portable", "projdefs",
                     "portmacro", "freertosconfig"), "FreeRTOS's"),
    **dict.fromkeys(("cmsis_os", "cmsis_os2", "cmsis_gcc", "cmsis_compiler", "arm_math"),
                    "CMSIS's"),
    "main": "the main.h STM32CubeMX generates",
}
# stm32l0xx.h, stm32l0xx_hal.h, stm32f7xx_it.h; core_cm0plus.h; system_stm32l0xx.h; nrf.h,
# nrf52.h, nrf52_bitfields.h
_VENDOR_HEADER = re.compile(r"stm32[a-z]\d\w*xx(_\w+)?|core_cm\d\w*|system_stm32\w+|nrf|nrf5\d+\w*",
                            re.IGNORECASE)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# target names CMake keeps for itself (policy CMP0037; the IDE generators' too): the cmake
# layout's add_library(NAME) would fail to configure
_CMAKE_TARGETS = {"all", "clean", "help", "install", "test", "package", "package_source",
                  "edit_cache", "rebuild_cache", "list_install_components", "depend",
                  "preinstall", "ALL_BUILD", "ZERO_CHECK", "RUN_TESTS", "INSTALL", "PACKAGE"}


class LibraryError(Exception):
    """The library cannot be exported or built; ``str()`` is one line for the user."""


def check_prefix(prefix: str) -> None:
    """LibraryError unless ``prefix`` makes valid, unreserved C names that collide with
    nothing the kernel header defines."""
    if not _IDENTIFIER.fullmatch(prefix):
        why = ("C reserves names starting with '_' for the compiler and library"
               if prefix.startswith("_") else "it must be a C identifier: a letter, then "
               "letters, digits or '_'")
        raise LibraryError(f"prefix {prefix!r} is not usable: {why}")
    if prefix.lower() in _TAKEN:
        what = {KERNELS[:-2]: "the kernel header", "arduino": "the Arduino core's header"}.get(
            prefix.lower(), "a standard C header")
        raise LibraryError(f"prefix {prefix!r} is not usable: its header {prefix}.h would "
                           f"shadow {what}")
    firmware = _FIRMWARE_HEADERS.get(prefix.lower()) or (
        "a vendor's device header" if _VENDOR_HEADER.fullmatch(prefix) else None)
    if firmware is not None:  # (compared without case: filesystems that ignore it)
        raise LibraryError(f"prefix {prefix!r} is not usable: its header {prefix}.h would "
                           f"shadow {firmware} (give --prefix another name)")
    kernels = kernels_path().read_text()
    kernel_names = set(re.findall(r"\b(?:ebnn|EBNN)_\w+", kernels))
    kernel_names |= set(re.findall(r"^#define (\w+)", kernels, re.M))
    clash = sorted(kernel_names.intersection(generated_names(prefix)))
    if clash:
        raise LibraryError(f"prefix {prefix!r} is not usable: {clash[0]} is defined by "
                           f"{KERNELS}")


def default_prefix(art: Artifact) -> str:
    """The model's name with every character that C does not allow in names as '_'."""
    return re.sub(r"\W", "_", art.name, flags=re.ASCII)


def _expected(gen: GeneratedC) -> str:
    """``static const int32_t expected[K]``: the reference's scores for the sample image."""
    return c_array("int32_t", "expected", np.array(gen.sample_scores, np.int64), per_line=6)


# ---- the example main (cmake layout, native check): stdio, any host or board with a console

def example_main(gen: GeneratedC) -> str:
    """C99 main: checks the sample image's scores, then classifies every image on stdin
    (``<PREFIX>_INPUT_SIZE`` raw bytes each) and prints ``scores: ...`` and ``class: k`` per
    image, the lines of the firmware harness."""
    p, up = gen.prefix, gen.prefix.upper()
    return f"""/*
 * {p}_example: classifies the model's sample image and checks all its scores against the
 * reference's (bit for bit), then classifies every image on stdin ({up}_INPUT_SIZE raw
 * bytes each, uint8 HWC) and prints per image the lines
 *     scores: s0 s1 ... s{{K-1}}
 *     class: k
 * Exit status 0; 1 when the sample's scores differ; 2 on a truncated image.
 * Generated by `ebnn export-c`. Plain C99 and stdio: a host, or a board with a console.
 */
#include <stdio.h>
#include <string.h>

#include "{p}.h"

{_expected(gen)}
static void print_scores(const int32_t *scores, int cls)
{{
    printf("scores:");
    for (int k = 0; k < {up}_CLASSES; k++)
        printf(" %ld", (long)scores[k]);
    printf("\\nclass: %d\\n", cls);
}}

int main(void)
{{
    static uint8_t image[{up}_INPUT_SIZE];
    static uint32_t scratch[{up}_SCRATCH_WORDS];
    int32_t scores[{up}_CLASSES];
    int cls = {p}_infer_with({p}_sample, scores, scratch);
    int ok = cls == {up}_SAMPLE_CLASS && memcmp(scores, expected, sizeof scores) == 0;
    fprintf(stderr, "{p}: sample %s\\n", ok ? "ok" : "MISMATCH");
    if (!ok)
        return 1;
    for (;;) {{
        size_t got = fread(image, 1, sizeof image, stdin);
        if (got == 0)
            return 0;
        if (got < sizeof image) {{
            fprintf(stderr, "error: truncated input image\\n");
            return 2;
        }}
        print_scores(scores, {p}_infer_with(image, scores, scratch));
    }}
}}
"""


def cmake_lists(art: Artifact, gen: GeneratedC) -> str:
    p, up = gen.prefix, gen.prefix.upper()
    sources = f"{p}.c" + (f" {p}_input.c" if gen.quantize_source is not None else "")
    return f"""# {p}: the eBNN model "{model_label(art)}" as a C99 static library
# (generated by `ebnn export-c`).
#
#   add_subdirectory(path/to/{p})                    # in your project's CMakeLists.txt
#   target_link_libraries(your_app PRIVATE {p})     # then #include "{p}.h"
#
# Built on its own for the host (cmake -S . -B build && cmake --build build), it also builds
# {p}_example, which checks the sample image's scores and classifies raw images from stdin
# ({up}_BUILD_EXAMPLE: ON then, OFF when cross-compiling or added to another project).
cmake_minimum_required(VERSION 3.13)
project({p} LANGUAGES C)

set({up}_TOP_LEVEL OFF)  # built on its own: the example too, unless cross-compiling
if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_SOURCE_DIR AND NOT CMAKE_CROSSCOMPILING)
  set({up}_TOP_LEVEL ON)
endif()

add_library({p} STATIC {sources})
target_include_directories({p} PUBLIC ${{CMAKE_CURRENT_SOURCE_DIR}})
set_target_properties({p} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)

# Unoptimised (-O0) the model's C is about 6 times larger and its deepest frame over 10 times
# deeper (mnist: 80,864 B of code and const data, a 2,912 B frame, against 13,392 B and 176 B
# at -Og): -Og in Debug builds, and -O2 when there is no build type (CMake's default, which
# adds no -O at all) and neither CMAKE_C_FLAGS nor the including project's compile options
# (add_compile_options(-Os)) choose a level; unless this is OFF.
option({up}_OPTIMIZE_DEBUG
       "Compile {p}.c with -Og in Debug builds, -O2 with no build type nor -O flag" ON)
if({up}_OPTIMIZE_DEBUG AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options({p} PRIVATE $<$<CONFIG:Debug>:-Og>)
  get_directory_property({up}_INHERITED_OPTIONS COMPILE_OPTIONS)
  if(NOT CMAKE_C_FLAGS MATCHES "(^| )-O" AND NOT "${{{up}_INHERITED_OPTIONS}}" MATCHES "(^|;)-O")
    target_compile_options({p} PRIVATE $<$<STREQUAL:$<CONFIG>,>:-O2>)
  endif()
endif()

option({up}_NO_STATIC_SCRATCH
       "Compile out the static scratch and {p}_infer (every caller uses {p}_infer_with)" OFF)
if({up}_NO_STATIC_SCRATCH)
  target_compile_definitions({p} PUBLIC {up}_NO_STATIC_SCRATCH)
endif()

option({up}_BUILD_EXAMPLE "Build {p}_example (it uses stdio)"
       ${{{up}_TOP_LEVEL}})
if({up}_BUILD_EXAMPLE)
  add_executable({p}_example example/main.c)
  target_link_libraries({p}_example PRIVATE {p})
  set_target_properties({p}_example PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON
                        C_EXTENSIONS OFF)
endif()
"""


# ---- Arduino (library specification 1.5) -------------------------------------------------

def library_properties(art: Artifact, gen: GeneratedC) -> str:
    h, w, c = art.input_shape
    return (f"name={gen.prefix}\n"
            "version=1.0.0\n"
            "author=ebnn-sim export-c\n"
            "maintainer=ebnn-sim export-c\n"
            f"sentence=The eBNN model {model_label(art)}: classifies a "
            + (f"{w}x{c} uint8 sequence (steps x channels) " if art.sequence
               else f"{h}x{w}x{c} uint8 image ")
            + f"into {art.classes} classes with integer-only C.\n"
            f"paragraph={gen.prefix}_infer(image, scores) returns the class and fills all "
            "scores, bit for bit what the model computes; no heap, no floating point, weights "
            f"in flash, {gen.scratch_words * 4} bytes of scratch. Needs a 32-bit board (ARM, "
            "ESP32, RISC-V); not AVR.\n"
            "category=Data Processing\n"
            "url=https://github.com/kunglab/ebnn\n"
            "architectures=*\n"
            f"includes={gen.prefix}.h\n")


def keywords(gen: GeneratedC) -> str:
    p, up = gen.prefix, gen.prefix.upper()
    words = [(f"{p}_infer", "KEYWORD2"), (f"{p}_infer_with", "KEYWORD2"),
             (f"{p}_sample", "LITERAL1")] + [
        (f"{up}_{m}", "LITERAL1") for m in ("INPUT_SIZE", "INPUT_HEIGHT", "INPUT_WIDTH",
                                            "INPUT_CHANNELS", "CLASSES", "SCRATCH_WORDS",
                                            "SCRATCH_SIZE", "SAMPLE_CLASS")]
    return "".join(f"{k}\t{v}\n" for k, v in words)


def arduino_sketch(gen: GeneratedC) -> str:
    p, up = gen.prefix, gen.prefix.upper()
    what, one = (("sequences", "one uint8 sequence, time-major: steps x channels")
                 if gen.sequence else
                 ("images", "one uint8 image, row-major height x width x channels"))
    return f"""// {p}: checks the model on this board, then classifies {what} sent over the serial
// port.
//
// At start-up it classifies the sample built into the library and compares all scores with
// the reference's, computed at export ("{p}: sample ok"). Then every {up}_INPUT_SIZE raw
// bytes received ({one}) are answered with
//     scores: s0 s1 ... s{{K-1}}
//     class: k
// Generated by `ebnn export-c --layout arduino`.
#include <string.h>

#include <{p}.h>

{_expected(gen)}static uint8_t image[{up}_INPUT_SIZE];
static int32_t scores[{up}_CLASSES];
static size_t received = 0;

static void printScores(int cls) {{
  Serial.print("scores:");
  for (int k = 0; k < {up}_CLASSES; k++) {{
    Serial.print(' ');
    Serial.print((long)scores[k]);
  }}
  Serial.print("\\nclass: ");
  Serial.println(cls);
}}

void setup() {{
  Serial.begin(115200);
  while (!Serial) {{
  }}
  unsigned long start = micros();
  int cls = {p}_infer({p}_sample, scores);
  unsigned long took = micros() - start;
  bool ok = cls == {up}_SAMPLE_CLASS && memcmp(scores, expected, sizeof scores) == 0;
  Serial.print("{p}: sample ");
  Serial.print(ok ? "ok" : "MISMATCH");
  Serial.print(", ");
  Serial.print(took);
  Serial.println(" us");
}}

void loop() {{
  while (received < {up}_INPUT_SIZE && Serial.available() > 0) {{
    image[received++] = (uint8_t)Serial.read();
  }}
  if (received == {up}_INPUT_SIZE) {{
    printScores({p}_infer(image, scores));
    received = 0;
  }}
}}
"""


# ---- Zephyr module ---------------------------------------------------------------------------

def kconfig_symbol(prefix: str) -> str:
    """The module's Kconfig symbol: namespaced, so that a prefix such as ``adc`` cannot clash
    with Zephyr's own ``CONFIG_ADC``."""
    return f"EBNN_MODEL_{prefix.upper()}"


def _kconfig_help(text: str) -> str:
    return "".join(f"\t  {line}\n" for line in textwrap.wrap(text, 64))


def zephyr_files(art: Artifact, gen: GeneratedC) -> dict[str, str]:
    p, up, sym = gen.prefix, gen.prefix.upper(), kconfig_symbol(gen.prefix)
    sources = f"src/{p}.c" + (f" src/{p}_input.c" if gen.quantize_source is not None else "")
    h, w, c = art.input_shape
    module = f"name: {p}\nbuild:\n  cmake: .\n  kconfig: Kconfig\n"
    cmake = f"""# Zephyr module: the eBNN model "{model_label(art)}"
# (generated by `ebnn export-c --layout zephyr`).
# Add the module (west.yml, or EXTRA_ZEPHYR_MODULES) and set CONFIG_{sym}=y.
if(CONFIG_{sym})
  zephyr_library()
  zephyr_library_sources({sources})
  zephyr_include_directories(include)
  if(NOT CONFIG_{sym}_STATIC_SCRATCH)
    zephyr_compile_definitions({up}_NO_STATIC_SCRATCH)
  endif()
endif()
"""
    kconfig = (
        f"config {sym}\n\tbool \"eBNN model {model_label(art)} ({p}_infer)\"\n\thelp\n"
        + _kconfig_help(f'The eBNN model "{model_label(art)}" as integer-only C: {p}_infer() and '
                        f"{p}_infer_with() classify a {h}x{w}x{c} uint8 image into "
                        f"{art.classes} classes (include/{p}.h). Weights are const (flash); "
                        "no heap, no floating point.")
        + f"\nconfig {sym}_STATIC_SCRATCH\n\tbool \"Static scratch for {p}_infer()\"\n"
        f"\tdefault y\n\tdepends on {sym}\n\thelp\n"
        + _kconfig_help(f"{gen.scratch_words * 4} bytes of static RAM for {p}_infer(). Say n "
                        f"when every caller brings its own scratch to {p}_infer_with() "
                        f"({up}_SCRATCH_WORDS words), e.g. one per thread."))
    sample = f"samples/{p}"
    sample_cmake = f"""cmake_minimum_required(VERSION 3.20.0)
# The module this sample belongs to (two folders up); an application adds it the same way, or
# through its west manifest.
list(APPEND EXTRA_ZEPHYR_MODULES ${{CMAKE_CURRENT_LIST_DIR}}/../..)
find_package(Zephyr REQUIRED HINTS $ENV{{ZEPHYR_BASE}})
project({p}_sample)

target_sources(app PRIVATE src/main.c)
"""
    prj = f"CONFIG_{sym}=y\nCONFIG_PRINTK=y\n"
    sample_yaml = f"""sample:
  name: eBNN model {model_label(art)}
  description: Classifies the model's sample image in a thread and checks its scores bit for bit
common:
  tags: ebnn
  harness: console
  harness_config:
    type: one_line
    regex:
      - "{p}: sample ok"
tests:
  sample.ebnn.{p}:
    integration_platforms:
      - qemu_cortex_m3
"""
    main = f"""/*
 * {p} sample: a thread classifies the model's sample image and checks all its scores against
 * the reference's, bit for bit ("{p}: sample ok"), with its own scratch, so that further
 * threads could run the model at the same time. Generated by `ebnn export-c --layout zephyr`.
 */
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include "{p}.h"

{_expected(gen)}
static void classify(void *a, void *b, void *c)
{{
    static uint32_t scratch[{up}_SCRATCH_WORDS];
    int32_t scores[{up}_CLASSES];
    (void)a;
    (void)b;
    (void)c;
    uint32_t start = k_cycle_get_32();
    int cls = {p}_infer_with({p}_sample, scores, scratch);
    uint32_t cycles = k_cycle_get_32() - start;
    printk("scores:");
    for (int k = 0; k < {up}_CLASSES; k++)
        printk(" %d", (int)scores[k]);
    printk("\\nclass: %d\\n", cls);
    int ok = cls == {up}_SAMPLE_CLASS && memcmp(scores, expected, sizeof scores) == 0;
    printk("{p}: sample %s, %u cycles\\n", ok ? "ok" : "MISMATCH", (unsigned)cycles);
}}

/* 1 KiB of stack: the model's layers need {gen.stack_bytes} bytes of local arrays plus frames. */
K_THREAD_DEFINE({p}_thread, 1024, classify, NULL, NULL, NULL, 7, 0, 0);
"""
    return {"zephyr/module.yml": module, "CMakeLists.txt": cmake, "Kconfig": kconfig,
            f"{sample}/CMakeLists.txt": sample_cmake, f"{sample}/prj.conf": prj,
            f"{sample}/sample.yaml": sample_yaml, f"{sample}/src/main.c": main}


# ---- export ----------------------------------------------------------------------------------

def library_files(art: Artifact, prefix: str, layout: str) -> dict[str, str]:
    """Relative path -> text of every file of the library in ``layout``."""
    if layout not in LAYOUTS:
        raise LibraryError(f"unknown layout {layout!r} (choose {', '.join(LAYOUTS)})")
    check_prefix(prefix)
    if layout == "cmake" and prefix in _CMAKE_TARGETS:
        raise LibraryError(f"prefix {prefix!r} is not usable with --layout cmake: CMake keeps "
                           "the target name for itself; give another --prefix")
    gen = generate(art, prefix)
    files = gen.files
    if layout == "plain":
        return files
    if layout == "cmake":
        return {**files, "CMakeLists.txt": cmake_lists(art, gen),
                "example/main.c": example_main(gen)}
    if layout == "arduino":
        return {"library.properties": library_properties(art, gen),
                "keywords.txt": keywords(gen),
                **{f"src/{name}": text for name, text in files.items()},
                f"examples/{prefix}/{prefix}.ino": arduino_sketch(gen)}
    header = f"{prefix}.h"
    return {f"include/{header}": files[header],
            **{f"src/{n}": t for n, t in files.items() if n != header},
            **zephyr_files(art, gen)}


def export_library(art: Artifact, directory: Path, prefix: str,
                   layout: str = "plain") -> list[Path]:
    """Write the library to ``directory`` (created; files of the same names are replaced,
    others left alone); the paths written. Nothing is written through a symbolic link inside
    ``directory`` (a folder from elsewhere may hold one to ``~/.bashrc``): a link where a file
    goes is replaced by the file, a link where a folder goes is refused."""
    files = library_files(art, prefix, layout)
    if directory.exists() and not directory.is_dir():
        raise LibraryError(f"{directory}: exists and is not a directory")
    paths = {rel: _path_inside(directory, rel) for rel in files}
    _refuse_other_roles(directory, files, prefix)
    _refuse_case_twins(directory, files, prefix)
    written = []
    try:
        for rel, text in files.items():
            _write_file(paths[rel], text.encode())
            written.append(paths[rel])
        # a model of float data exported here before left its quantiser, which a build of
        # every .c (Arduino's) would compile against a header that no longer declares it
        quantiser = f"{prefix}_input.c"
        for folder in (directory, directory / "src"):
            old = folder / quantiser
            if (old.relative_to(directory).as_posix() not in files
                    and _role(old, quantiser) == "the input quantisation"):
                old.unlink()
    except OSError as exc:
        raise LibraryError(f"{directory}: cannot write the library ({exc.strerror or exc})"
                           ) from None
    return written


def _path_inside(directory: Path, rel: str) -> Path:
    """``directory / rel``; LibraryError when a folder on the way there (below ``directory``)
    is a symbolic link, or what is there is neither a regular file, a link nor nothing: the
    file would land outside the folder, or block on a FIFO."""
    path = directory
    for part in PurePosixPath(rel).parts[:-1]:
        path = path / part
        if path.is_symlink():
            raise LibraryError(f"{path}: a symbolic link; the library is written only inside "
                               f"{directory}, never through links")
    path = path / PurePosixPath(rel).name
    if path.exists() and not path.is_symlink() and not path.is_file():
        raise LibraryError(f"{path}: not a regular file; the library cannot replace it")
    return path


def _write_file(path: Path, data: bytes) -> None:
    """``data`` into ``path`` whole; a symbolic link there is replaced, its target untouched."""
    if path.is_symlink():
        path.unlink()
    write_bytes(path, data)  # each file whole: a failure leaves no stub


_ROLES = ("the eBNN model", "the input quantisation")  # the first words of each .c's banner


def _role(path: Path, name: str) -> str | None:
    """What a generated ``name`` (a .c of ``export-c``) at ``path`` holds, from its banner:
    one of _ROLES; None for a file of the user's (or none), or a link (replaced, never read:
    it may lead to a FIFO or outside the folder)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            head = f.read(200).decode(errors="replace")
    except OSError:  # (none, a folder, unreadable: writing it will say)
        return None
    return next((r for r in _ROLES if head.startswith(f"/* {name}: {r}")), None)


def _refuse_other_roles(directory: Path, files: dict[str, str], prefix: str) -> None:
    """LibraryError if a .c about to be written holds another export's other part: prefix
    'm''s quantiser m_input.c over the model of prefix 'm_input', or the reverse."""
    for rel, text in files.items():
        name = PurePosixPath(rel).name
        new, old = (next((r for r in _ROLES if text.startswith(f"/* {name}: {r}")), None),
                    _role(directory / rel, name))
        if new is not None and old is not None and old != new:
            other = name.removesuffix(".c")
            theirs = (f"the model of prefix {other!r}" if old == _ROLES[0]
                      else f"the input quantisation of prefix {other.removesuffix('_input')!r}")
            raise LibraryError(f"prefix {prefix!r} is not usable in {directory}: its {name} "
                               f"would replace {theirs} there (give --prefix another name)")


def _refuse_case_twins(directory: Path, files: dict[str, str], prefix: str) -> None:
    """LibraryError if the folder (of a .c about to be written) holds another export's model
    whose prefix differs from ``prefix`` in case only: both headers would use the same
    upper-case macros (``MNIST_H``, ``MNIST_CLASSES``), and on a case-insensitive file system
    (macOS, Windows) one export would replace the other's files."""
    for rel in files:
        path = directory / rel
        if path.suffix != ".c" or not path.parent.is_dir():
            continue
        for other in path.parent.iterdir():
            name = other.name
            if (name != path.name and name.lower() == path.name.lower()
                    and _role(other, name) is not None):
                raise LibraryError(
                    f"prefix {prefix!r} is not usable in {directory}: {other.name} there holds "
                    f"the model of prefix {other.stem.removesuffix('_input')!r}, which differs in "
                    "case only: their headers' macros would collide (and on a case-insensitive "
                    "file system their files): give --prefix another name")


# ---- the library on the host: a fast cross-check of the generated C -------------------------

def host_compiler(name: str | None = None) -> str:
    """Path of the host C compiler ``name`` (default: cc), or LibraryError. ``name`` is one
    program: $CC holding flags as well (``gcc -m32``, which make splits) is refused as such."""
    if name is not None and len(name.split()) > 1 and shutil.which(name) is None:
        raise LibraryError(f"host C compiler {name!r}: name one program (flags such as "
                           f"{name.split()[1]!r} are not taken here)")
    found = shutil.which(name or "cc")
    if found is None:
        raise LibraryError(f"host C compiler {name or 'cc'!r} not found (install gcc or clang, "
                           "or name another)")
    return found


def run_native(art: Artifact, images: np.ndarray, compiler: str | None = None,
               cflags: tuple[str, ...] = ("-O2",)) -> str:
    """Build the library (prefix ``ebnn``) with ``example_main`` for the host and run
    ``images`` through it; its standard output: a ``scores:`` and a ``class:`` line per image,
    as the firmware harness prints them. No emulator: the same C on the host's CPU, compiled
    ``-std=c99 -Wall -Wextra -pedantic`` and ``cflags``."""
    cc = host_compiler(compiler)
    gen = generate(art, "ebnn")
    with tempfile.TemporaryDirectory(prefix="ebnn-native-") as tmp:
        out = Path(tmp)
        for name, text in {**gen.files, "main.c": example_main(gen)}.items():
            (out / name).write_text(text)
        exe = out / "ebnn-native"
        cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-pedantic", *cflags, f"-I{out}",
               str(out / "ebnn.c"), str(out / "main.c"), "-o", str(exe)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            first = next((ln for ln in proc.stderr.splitlines() if "error" in ln),
                         proc.stderr.strip() or f"exit status {proc.returncode}")
            raise LibraryError(f"{Path(cc).name} could not build the library: {first.strip()}")
        data = np.ascontiguousarray(images, np.uint8).tobytes()
        run = subprocess.run([str(exe)], input=data, capture_output=True, check=False)
    if run.returncode != 0:
        why = run.stderr.decode(errors="replace").strip().splitlines()
        raise LibraryError(f"the library built by {Path(cc).name} failed (exit status "
                           f"{run.returncode}){': ' + why[-1] if why else ''}")
    return run.stdout.decode()
