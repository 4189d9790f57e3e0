"""`python -m bench throughput` measures a model end to end (its quick mode here): the bench
stopped at every model for a session when eval_inputs' signature changed and no test ran it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common, throughput  # noqa: E402


def test_throughput_measures_a_model_in_quick_mode():
    example = next(e for e in common.discover() if e.name == "digits")
    with common.progress() as prog:
        entry = throughput.measure_model(example, quick=True, repeats=1, prog=prog)
    assert "error" not in entry, entry
    checks = entry["checks"]
    assert checks["bare_output_equals_run"] and checks["profile_count_equals_run"]
    assert checks["run_count_stable"]
    assert checks["verify_mismatches"] == 0
