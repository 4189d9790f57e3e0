"""`python -m bench search`: how a search's best is set against a hand-made model (chosen on
validation, judged on test), and the results page's section."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report, search  # noqa: E402

HAND = {"name": "mnist", "val_accuracy": 0.98, "test_accuracy": 0.9802, "sram_peak": 1128,
        "flash": 11428, "cycles": 218692, "ms": 6.83}


def model(name: str, val: float, test: float | None, sram: int, cycles: int) -> dict:
    return {"name": name, "val_accuracy": val, "test_accuracy": test, "sram_peak": sram,
            "flash": 9000, "cycles": cycles, "cycles_median": cycles, "ms": cycles / 32000,
            "config": {"model": {"layers": [{"type": "conv", "filters": 8, "kernel": 3}]}}}


def test_the_choice_is_made_on_validation_within_the_handmade_budget():
    front = [model("big", 0.99, 0.99, 1500, 300000),  # more accurate, but over the cycles
             model("a", 0.982, 0.981, 1100, 200000),
             model("b", 0.981, 0.985, 1000, 150000)]  # better on test: not what chooses
    v = search.dominating(front, HAND)
    assert v["model"] == "a" and v["dominates"]


def test_a_cross_validated_accuracy_ranks_before_the_validation_one():
    a, b = model("a", 0.984, 0.977, 1100, 200000), model("b", 0.984, 0.985, 1120, 210000)
    assert search.dominating([a, b], HAND)["model"] == "a"  # equal on validation: cycles
    a["cv_accuracy"], b["cv_accuracy"] = 0.975, 0.981
    v = search.dominating([a, b], HAND)
    assert v["model"] == "b" and v["cv_accuracy"] == 0.981 and v["dominates"]
    # one not cross-validated ranks behind those that were, whatever its validation score
    c = model("c", 0.983, 0.99, 1000, 100000)
    assert search.dominating([a, b, c], HAND)["model"] == "b"


def test_a_model_that_is_worse_on_test_does_not_dominate():
    v = search.dominating([model("a", 0.99, 0.975, 1100, 200000)], HAND)
    assert v["model"] == "a" and not v["dominates"]


def test_equal_in_every_measure_is_not_domination():
    v = search.dominating([model("same", 0.98, 0.9802, 1128, 218692)], HAND)
    assert not v["dominates"]


def test_nothing_within_the_budget():
    v = search.dominating([model("slow", 0.99, 0.99, 1100, 500000)], HAND)
    assert v == {"model": None, "dominates": False}


def test_the_section_shows_the_verdict_and_the_goal():
    entry = {"name": "mnist-2k", "command": ".venv/bin/ebnn search ...", "totals": "9 trials: "
             "8 trained, 1 rejected (1 before training), 0 failed; 3.0 min from ...",
             "settings": {"sram": 2048, "max_cycles": None, "clock_hz": 32_000_000},
             "search_seconds": 1800.0, "best": "a",
             "pareto": [model("a", 0.982, 0.981, 1100, 200000)], "handmade": [HAND],
             "versus": {"handmade": "mnist", **search.dominating(
                 [model("a", 0.982, 0.981, 1100, 200000)], HAND)}}
    goal = {**entry, "name": "mnist-15k", "versus": None,
            "settings": {"sram": 15360, "max_cycles": 1_600_000, "clock_hz": 32_000_000},
            "goal": {"test_accuracy": 0.986, "chosen": 0.981,
                     "highest_in_pareto": 0.983, "met": False}, "note": "Not a clean estimate."}
    taught = {**entry, "name": "mnist-2k-taught", "search_seconds": 2400.0,
              "teacher_search": {"name": "mnist-15k", "search_seconds": 5400.0}}
    data = {"date": "D", "command": "python -m bench search", "bench_seconds": 1.0,
            "searches": [entry, goal, taught]}
    text = report.search_section({"search": data}, "img")
    assert "a: 98.10% test, 200,000 cycles, 1,100 B vs mnist: **dominates**" in text
    assert "goal test ≥ 98.6%: not met" in text and "15,360 B, 50 ms" in text
    assert "_mnist-15k:_ Not a clean estimate." in text
    assert ("not met (the chosen model 98.10%, highest in the Pareto set 98.30%); see the note"
            in text)
    assert "![mnist-2k](img/search-mnist-2k.png)" in text
    assert "| mnist-2k | 2,048 B | 30 min |" in text
    assert "| mnist-2k-taught | 2,048 B | 40 min + 90 |" in text  # + its teacher's search
    assert "_Not measured yet" in report.search_section({"search": None}, "img")


def test_a_resumed_search_is_not_charged_for_the_pause():
    from ebnn.search.outputs import busy_seconds

    # two overlapping trials, a pause of an hour, one more trial
    assert busy_seconds([(0, 60), (30, 100), (3700, 3760)]) == 160
    assert busy_seconds([]) == 0


def test_every_start_fits_its_space():
    """A bench search's --start config lies in its space (else `ebnn search` refuses it)."""
    import tomllib

    from ebnn.search.space import load_space

    starts = [s for s in search.SEARCHES if s.start is not None]
    assert starts
    for s in starts:
        config = tomllib.loads((ROOT / "examples" / s.start).read_text())
        load_space(ROOT / "examples" / "search" / s.space).params_of(config, s.start)


def test_a_taught_search_learns_from_its_teacher_searchs_choice(tmp_path):
    """The taught search's space is the shipped one with the teacher search's chosen model
    (the cross-validated one first, as the page chooses) as [space.train] teacher."""
    import json

    from ebnn.search.space import load_space

    s = next(x for x in search.SEARCHES if x.teacher is not None)
    teacher_dir = tmp_path / s.teacher
    teacher_dir.mkdir()
    a, b = model("a", 0.99, None, 1100, 200000), model("b", 0.98, None, 1000, 100000)
    b["cv_accuracy"] = 0.97  # cross-validated: chosen before a's higher validation score
    directory = tmp_path / s.name
    (teacher_dir / "pareto.json").write_text("[]")
    assert search.teacher_pt(s, directory) is None  # the teacher search chose no model
    for n, e in enumerate((a, b)):
        e["trial"] = n + 7
        (teacher_dir / "trials" / f"{n + 7:05d}").mkdir(parents=True)
        (teacher_dir / "trials" / f"{n + 7:05d}" / "model.pt").write_bytes(b"pt")
    (teacher_dir / "pareto.json").write_text(json.dumps([a, b]))
    search.write_taught_space(s, directory)
    path = search.taught_space(s, directory)
    assert search.command(s, directory, False)[2] == str(path)
    space = load_space(path)
    # b's checkpoint in its trial folder, which a re-render of the teacher search keeps
    assert space.train["teacher"] == str((teacher_dir / "trials" / "00008" / "model.pt").resolve())
    shipped = load_space(search.SPACES / s.space)
    assert {k: v for k, v in space.train.items() if k != "teacher"} == shipped.train


def collected(s: search.Search, tmp_path: Path, front: list[dict]) -> dict:
    """bench's record of search ``s`` whose folder holds the Pareto set ``front``."""
    import json
    from unittest import mock

    directory = tmp_path / s.name
    directory.mkdir(exist_ok=True)
    (directory / "search.json").write_text(json.dumps(
        {"sram": 15360, "max_cycles": 1_600_000, "clock_hz": 32_000_000}))
    (directory / "handmade.json").write_text("[]")
    (directory / "pareto.md").write_text("3 trials: 1 trained, ...\n")
    (directory / "pareto.json").write_text(json.dumps(front))
    with mock.patch.object(search, "_study_seconds", return_value=60.0):
        return search.collect(s, directory, ["ebnn", "search"], False, None)


def test_a_refit_search_is_judged_on_its_refit_model(tmp_path):
    """Registered with --refit, a search hands over its choice's config trained on every
    labelled image: the goal is judged on that model's test accuracy, its row is on the page;
    without --refit (or with a refit over the budget) on the candidate's own."""
    from dataclasses import replace

    s = replace(next(x for x in search.SEARCHES if x.goal_test is not None), refit=True)
    assert "--refit" in search.command(s, tmp_path / s.name, False)
    assert "--refit" not in search.command(replace(s, refit=False), tmp_path / s.name, False)
    best = model("a", 0.985, 0.9859, 1604, 1_539_558)
    best["refit"] = {"status": "ok", "train_images": 5000, "test_accuracy": 0.9866,
                     "sram_peak": 1604, "flash": 97_284, "cycles": 1_539_600, "ms": 48.11}
    assert search.shipped_refit(s, best) == best["refit"]
    assert search.shipped_refit(replace(s, refit=False), best) is None
    over = {**best, "refit": {"status": "rejected", "train_images": 5000, "reason": "r"}}
    assert search.shipped_refit(s, over) is None
    entry = collected(s, tmp_path, [best])
    assert entry["goal"]["chosen"] == 0.9866 and entry["goal"]["chosen_refit"]
    assert entry["goal"]["met"]  # 98.59% as the candidate, 98.66% refit
    text = report.search_section({"search": {"date": "D", "command": "c", "bench_seconds": 1.0,
                                             "searches": [entry]}}, "img")
    assert "the chosen model refit on every labelled image 98.66%" in text
    assert "| a-refit (5,000 images) | — |" in text
    assert "1,539,558 cycles; refit on every labelled image: 98.66% test |" in text


def test_a_registered_refit_that_is_missing_does_not_meet_the_goal(tmp_path):
    from dataclasses import replace

    s = replace(next(x for x in search.SEARCHES if x.goal_test is not None), refit=True)
    best = model("a", 0.985, 0.99, 1604, 1_539_558)  # the candidate is above the goal
    best["refit"] = {"status": "rejected", "train_images": 5000, "reason": "SRAM 16,000 B > x"}
    for refit, words in ((best["refit"], "rejected: SRAM 16,000 B > x"), (None, "no refit")):
        entry = collected(s, tmp_path, [{**best, "refit": refit}])
        g = entry["goal"]
        assert not g["met"] and g["chosen"] == 0.99 and not g["chosen_refit"]
        assert g["refit_missing"] == words
        text = report.search_section({"search": {"date": "D", "command": "c",
                                                 "bench_seconds": 1.0, "searches": [entry]}},
                                     "img")
        assert f"not met (the chosen model 99.00%, its registered refit missing ({words})" in text


def test_the_searches_total_hours_are_summed_from_their_measured_wall_times():
    res = {"search": {"searches": [{"search_seconds": 5400.0}, {"search_seconds": 1800.0}]}}
    assert report.search_hours(res) == "2.0 hours in all as measured"
    assert report.search_hours({}).startswith("many hours")


def test_a_raced_search_runs_and_resumes_its_race(tmp_path):
    s = search.Search("raced", "mnist.toml", ("--sram", "15k"), "1m", cv=8, cv_race=True)
    cmd = search.command(s, tmp_path / "raced", False)
    assert cmd[cmd.index("--cv"):cmd.index("--cv") + 5] == ["--cv", "8", "--cv-folds", "4",
                                                           "--cv-race"]
    assert search.cv_args(s, True) == ["--cv", "1", "--cv-folds", "2", "--cv-race"]
    plain = search.Search("plain", "mnist.toml", ("--sram", "15k"), "1m", cv=3)
    assert "--cv-race" not in search.command(plain, tmp_path / "plain", False)
