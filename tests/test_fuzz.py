"""Fuzzing in CI, time-bounded: every entry point that reads an untrusted file
(bench/fuzz_targets.py) gets mutated versions of real inputs from Hypothesis and must either
accept them or refuse them with its documented one-line error. The long coverage-guided
campaign is ``make fuzz`` (bench/fuzz.py, Atheris); its runner is tested here on one target
with a few hundred inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fuzz  # noqa: E402
from bench.fuzz_targets import TARGETS, seeds  # noqa: E402

# Hypothesis's example database goes to a temporary folder, not .hypothesis/ in the checkout.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="ebnn-hypothesis-"))

_SEEDS: dict[str, list[bytes]] = {}


def _seeds(name: str) -> list[bytes]:
    if name not in _SEEDS:
        _SEEDS[name] = seeds(name)
    return _SEEDS[name]


_INTERESTING = [b"\x00", b"\xff", b"\x7f\xff\xff\xff", b"\xff\xff\xff\xff", b"9" * 40,
                b"[" * 2000, b"1e400", b"NaN", b"-1", b"\x80\x00\x00\x00"]

_EDIT = st.tuples(st.integers(0, 3), st.floats(0, 1, allow_nan=False),
                  st.integers(0, 255), st.integers(0, len(_INTERESTING) - 1))


def _mutate(data: bytes, edits: list[tuple[int, float, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, where, byte, which in edits:
        pos = int(where * len(buf))
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = byte
        elif op == 1:
            del buf[pos:]
        elif op == 2:
            buf[pos:pos] = _INTERESTING[which]
        else:
            del buf[pos:pos + 1 + byte]
    return bytes(buf)


@pytest.mark.parametrize("name", list(TARGETS))
def test_seeds_are_accepted(name: str, tmp_path: Path) -> None:
    """The seeds are valid inputs (otherwise the fuzzer would start from rejected files)."""
    for data in _seeds(name):
        TARGETS[name].check(data, tmp_path)


@pytest.mark.parametrize("name", list(TARGETS))
def test_mutated_inputs_accepted_or_refused_in_one_line(name: str) -> None:
    target = TARGETS[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"ebnn-fuzz-{name}-"))
    pool = _seeds(name)

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(pool) - 1), st.lists(_EDIT, min_size=1, max_size=6))
    def one(index: int, edits: list[tuple[int, float, int, int]]) -> None:
        target.check(_mutate(pool[index], edits), workdir)

    one()


def test_hostile_npy_header_is_one_line(tmp_path: Path) -> None:
    """Found by the campaign: a .npy header that numpy's tokenizer cannot finish raised
    tokenize.TokenError (a traceback) from --input and from a .ebnn member."""
    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (2, \n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    for name in ("npy", "artifact"):
        if name == "artifact":
            import zipfile

            path = tmp_path / "m.ebnn"
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("header.npy", data)
            blob = path.read_bytes()
        else:
            blob = data
        TARGETS[name].check(blob, tmp_path)  # refused with the loader's error, not a traceback


def test_npy_header_with_a_huge_dimension_is_refused(tmp_path: Path) -> None:
    """Found by the campaign: shape (0, 10**30) holds no bytes, so a size check on the product
    passed, and numpy then overflowed (OverflowError traceback) reading it."""
    import zipfile

    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (0, 10**30), }"
    header = header.replace(b"10**30", str(10**30).encode())
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    TARGETS["npy"].check(data, tmp_path)
    for name, member in (("artifact", "header.npy"), ("npz", "x.npy")):
        path = tmp_path / f"m.{name}"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(member, data)
            if name == "npz":
                zf.writestr("y.npy", data)
        TARGETS[name].check(path.read_bytes(), tmp_path)


def test_csv_with_stray_carriage_returns_and_nul_is_refused_or_read(tmp_path: Path) -> None:
    """Found by the campaign: a lone carriage return or a NUL byte in a --data .csv raised the
    csv module's own error (a traceback)."""
    for data in (b"\n\n\xea\xe2\xe2\r\x00\xe6", b"label,a\r0,1\r1,2\r", b"label,a\n0,\x001\n"):
        TARGETS["csv"].check(data, tmp_path)


def test_npz_with_a_member_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """Found by the campaign: zipfile decodes a name flagged UTF-8 and raised
    UnicodeDecodeError from --data .npz."""
    crash = _seeds("npz")[0]
    name = b"x.npy"
    i = crash.index(name, len(crash) // 2)  # in the central directory
    flags = i - 46 + 8  # general purpose flags of that central directory entry
    data = bytearray(crash)
    data[flags + 1] |= 0x08  # bit 11: the name is UTF-8
    data[i] = 0xED  # ... and it is not
    TARGETS["npz"].check(bytes(data), tmp_path)


def test_parse_log_reads_libfuzzer_statistics() -> None:
    log = ("#2\tINITED cov: 40 ft: 41 corp: 1/1b exec/s: 0 rss: 80Mb\n"
           "#512\tNEW    cov: 66 ft: 90 corp: 9/300b exec/s: 256 rss: 81Mb\n"
           "Done 3000 runs in 19 second(s)\n")
    res = fuzz.parse_log(log)
    assert res == {"runs": 3000, "seconds": 19, "coverage": 66, "finding": None,
                   "input": None, "exception": None}
    crash = ("#7\tNEW    cov: 12 ft: 13\n === Uncaught Python exception: ===\n"
             "TokenError: ('EOF in multi-line statement', (2, 0))\n"
             "==1== ERROR: libFuzzer: fuzz target exited\n"
             "Test unit written to /x/npy-crash-abc\n")
    res = fuzz.parse_log(crash)
    assert res["finding"] == "crash" and res["input"] == "/x/npy-crash-abc"
    assert res["exception"].startswith("TokenError")
    assert fuzz.parse_log("==1== ERROR: libFuzzer: timeout after 10 seconds\n")["finding"] == \
        "hang"


def test_campaign_runs_a_target_and_writes_counts(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.fuzz", "--runs", "300", "--time", "120",
         "--out", str(tmp_path), "report"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "fuzz.json").read_text())
    (entry,) = data["targets"]
    assert entry["target"] == "report" and entry["finding"] is None
    assert entry["runs"] >= 300 and entry["coverage"] > 0


def test_campaign_refuses_unknown_target(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.fuzz", "--out", str(tmp_path), "nope"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "unknown target 'nope'" in proc.stderr
