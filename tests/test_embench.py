"""Third-party firmware: Embench-IoT builds with the project's toolchain and verifies itself.

The sources are not in this repository: they are read from ``../shared/thirdparty/embench-iot``
beside the checkout, where CI keeps them. Each benchmark runs Embench's own
``verify_benchmark()`` and exits 0 when it passed; `benchmark()` is measured between the board
layer's ``start_trigger`` and ``stop_trigger`` marks (bench/embench.py, `python -m bench
embench`).
"""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(REPO))

from bench import embench  # noqa: E402


@pytest.fixture(scope="module")
def root() -> Path:
    found = embench.embench_root()
    assert found is not None, embench.missing_line()
    return found


@pytest.mark.parametrize("target", ["curie", "stm32l031"])
@pytest.mark.parametrize("name", ["crc32", "nettle-sha256"])
def test_embench_builds_and_self_verifies(root, tmp_path, name, target):
    v = embench.variant(target)
    built = embench.build_benchmark(root, name, v, use_cache=False, build_dir=tmp_path)
    assert built.error is None, built.error
    row = embench.measure(root, built, use_cache=False)
    assert row["status"] == "ok", row.get("fault")
    assert row["exit_code"] == 0  # Embench's verify_benchmark() passed
    assert row["verified"]
    # benchmark() ran between the two marks and is most of the run
    assert 0.5 * row["instructions"] < row["bench_instructions"] < row["instructions"]
    assert row["bench_cycles"] >= row["bench_instructions"]
    # both fit the part: linked and run with its own memories
    assert (row["sram_linked"], row["flash_linked"]) == (v.profile().sram, v.profile().flash)
    assert row["sram_peak"] <= row["sram_linked"]


def test_the_docs_say_the_accuracy_claim_is_in_sample_and_for_o2():
    """The cycle model's accuracy against Embench's hardware numbers is measured on the same 19
    benchmarks its load/store rule was tuned on, built at -O2 only (bench/embench.py):
    cycle-model.md says so, so that nobody reads the ±15% as a bound for -Os, -O0 or other
    firmware (s53 profiling review M5)."""
    assert embench.OPT == "-O2"  # the only level measured: the docs say so
    text = " ".join((REPO / "docs" / "cycle-model.md").read_text().split())
    assert "**It is in-sample.**" in text and "no benchmark was held out" in text
    assert "**It is for GCC -O2 code only.**" in text
    assert "no measured error bound" in text
