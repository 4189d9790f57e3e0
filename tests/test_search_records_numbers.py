"""Numbers in a hand-edited study (``ebnn search --report DIR``): a whole number too large for
a float (10**400: OverflowError deep in the ranking) and NaN are damaged records, one line."""

import math

import pytest

from ebnn.search.records import FIRMWARE, OUTCOME, problem

FINAL = {"sram_peak": 968, "flash": 2620, "cycles": 13639}


@pytest.mark.parametrize(("key", "value"), [("cycles", 10**400), ("flash", -(10**30)),
                                            ("cycles_median", math.nan),
                                            ("cycles_median", math.inf)])
def test_numbers_out_of_range_are_damaged(key, value):
    assert problem({**FINAL, key: value}, FIRMWARE) == key


def test_a_nan_accuracy_is_damaged():
    outcome = {"status": "ok", "reason": "", "probe": None, "final": FINAL, "trained": True,
               "val_accuracy": math.nan, "torch_val_accuracy": None, "test_accuracy": None,
               "seconds": {}, "config": {"model": {"name": "m", "layers": [{"type": "conv"}]}}}
    assert problem(outcome, OUTCOME) == "val_accuracy"
    assert problem({**outcome, "val_accuracy": 0.5}, OUTCOME) is None
