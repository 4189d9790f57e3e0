"""`python -m bench models --only NAME`: re-measures some examples and updates their entries in
models.json, keeping the others, and the results page says which rows were measured when."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common, models, report  # noqa: E402


def _entry(name: str, acc: float) -> dict:
    return {"name": name, "accuracy": {"reference": acc}}


def test_update_replaces_and_adds_entries_in_example_order():
    full = {"date": "D1", "command": "python -m bench models", "bench_seconds": 90.0,
            "models": [_entry("mnist", 0.98), _entry("ebnn-simple", 0.92)]}
    update = {"date": "D2", "command": "python -m bench models --only digits,ebnn-simple",
              "bench_seconds": 30.0, "loadavg_at_start": [1.5, 1.0, 1.0], "git": "abc",
              "models": [_entry("digits", 0.98), _entry("ebnn-simple", 0.93)]}
    merged = models.merge_update(full, update, ["mnist", "digits", "ebnn-simple"])
    assert [e["name"] for e in merged["models"]] == ["mnist", "digits", "ebnn-simple"]
    assert merged["models"][2]["accuracy"]["reference"] == 0.93  # re-measured
    assert merged["date"] == "D1" and merged["command"] == "python -m bench models"
    assert merged["updates"] == [{"date": "D2", "command": update["command"],
                                  "loadavg_at_start": [1.5, 1.0, 1.0], "git": "abc",
                                  "bench_seconds": 30.0, "models": ["digits", "ebnn-simple"]}]
    order = ["mnist", "digits", "ebnn-simple"]
    again = models.merge_update(merged, {**update, "date": "D3", "models": [_entry("digits", 1)]},
                                order)
    assert [u["date"] for u in again["updates"]] == ["D2", "D3"]  # D2 still has ebnn-simple
    both = models.merge_update(again, {**update, "date": "D4"}, order)
    assert [u["date"] for u in both["updates"]] == ["D4"]  # re-measures all of D2's and D3's


def test_only_refuses_unknown_names_and_a_missing_full_run(tmp_path, capsys):
    def said() -> str:  # rich wraps the message where the temporary path ends
        return " ".join(capsys.readouterr().err.split())

    assert models.main(quick=True, out=tmp_path, only=["no-such-example"]) == 2
    assert "no example named no-such-example" in said()
    assert models.main(quick=True, out=tmp_path, only=["digits"]) == 2
    assert "without --only first" in said()
    assert not (tmp_path / "models.json").exists()


def test_page_says_which_rows_an_update_measured():
    res = report.load_results(common.RESULTS, quick=False)
    # an update later than every measurement on the page, so the page's date range ends at it
    data = json.loads(json.dumps(res["models"]))
    data["updates"] = [{"date": "2030-01-01 18:00:00 +0000", "git": "abc1234",
                        "command": "python -m bench models --only digits",
                        "loadavg_at_start": [2.0, 2.0, 2.0], "bench_seconds": 40.0,
                        "models": ["digits"]}]
    text = report.models_section({**res, "models": data}, "img")
    assert ("Re-measured 2030-01-01 18:00:00 +0000 by `python -m bench models --only digits` "
            "in 40.0 s (load average 2.00 at the start; git `abc1234`): `digits`") in text
    assert "2030-01-01 18:00:00 +0000" in report.host_section({**res, "models": data})
