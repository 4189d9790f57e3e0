"""``ebnn search --cv K --cv-race``: the K candidates race through the folds (successive
halving). Folds are faked here (a table of accuracies), so every round's choice is known."""

from __future__ import annotations

from typing import Any

import pytest

from ebnn.search import crossval
from ebnn.search.crossval import FoldOutcome, FoldTask, TeacherOutcome
from ebnn.search.outputs import Summary, _cv_text


@pytest.mark.parametrize(("k", "folds", "sizes"), [
    (16, 4, [16, 8, 4, 2]),
    (8, 4, [8, 4, 2, 2]),
    (5, 3, [5, 3, 2]),
    (3, 4, [3, 2, 2, 2]),
    (2, 2, [2, 2]),
    (1, 3, [1, 1, 1]),
])
def test_each_round_runs_half_the_last_never_fewer_than_two(k, folds, sizes):
    assert crossval.race_sizes(k, folds) == sizes


def test_rounds_keep_the_best_by_mean_so_far_the_shortlists_order_among_equals():
    accs: dict[int, list[float | None]] = {
        7: [0.90, 0.99, None], 3: [0.95, 0.90, None], 5: [0.80, None, None],
        9: [0.95, 0.85, None], 1: [0.70, None, None]}
    rounds = crossval.race_rounds([7, 3, 5, 9, 1], accs, 3)
    # fold 1: 3 and 9 tie at .95 (3 first in the shortlist), then 7; fold 2: means .945, .925,
    # .90: 7 and 3 go on; fold 3 is not done, so the race ends there for now
    assert rounds == [[7, 3, 5, 9, 1], [7, 3, 9], [7, 3]]
    # a round with a fold not done (failed) ends what is known
    accs[9][1] = None
    assert crossval.race_rounds([7, 3, 5, 9, 1], accs, 3) == [[7, 3, 5, 9, 1], [7, 3, 9]]


def test_rounds_without_a_cut_are_known_at_once():
    none: dict[int, list[float | None]] = {n: [None] * 4 for n in (4, 2, 6)}
    # three candidates: fold 1 decides the two finalists, who then run folds 2-4
    assert crossval.race_rounds([4, 2, 6], none, 4) == [[4, 2, 6]]
    after = {4: [0.9, None, None, None], 2: [0.8, None, None, None], 6: [0.95, None, None, None]}
    assert crossval.race_rounds([4, 2, 6], after, 4) == [[4, 2, 6], [4, 6], [4, 6], [4, 6]]
    # two candidates (or one): no cut ever, every fold at once
    assert crossval.race_rounds([4, 2], none, 3) == [[4, 2]] * 3
    assert crossval.race_rounds([4], none, 2) == [[4]] * 2


class Study:
    def __init__(self) -> None:
        self.user_attrs: dict[str, Any] = {}

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value


class Backend:
    """Runs each batch in order with accuracies from ``table[(trial, fold)]`` (None: the fold
    fails); records the batches; interrupted (as by Ctrl-C) after ``stop_after`` folds."""

    def __init__(self, table: dict[tuple[Any, int], float | None],
                 stop_after: int | None = None) -> None:
        self.table, self.stop_after = table, stop_after
        self.batches: list[list[tuple[int, int]]] = []
        self.ran = 0

    def run_batch(self, tasks: list[Any], arrived: Any, fn: Any) -> None:
        if fn is crossval.run_teacher_fold:  # a fold teacher's checkpoint is its fold's name
            self.batches.append([("teacher", t.fold) for t in tasks])
            for t in tasks:
                ok = self.table.get(("teacher", t.fold), 1.0) is not None
                arrived(TeacherOutcome(t.fold, f"teacher {t.fold}".encode() if ok else None,
                                       0.9 if ok else None, "" if ok else "boom", 1.0, 2.0))
            return
        assert fn is crossval.run_fold
        self.batches.append([(t.number, t.fold) for t in tasks])
        for t in tasks:
            if self.stop_after is not None and self.ran >= self.stop_after:
                raise KeyboardInterrupt
            self.ran += 1
            acc = self.table[(t.number, t.fold)]
            arrived(FoldOutcome(t.number, t.fold, acc, "" if acc is not None else "boom",
                                10.0 * self.ran, 10.0 * self.ran + 5))


def rec(n: int, val: float) -> dict[str, Any]:
    return {"number": n, "status": "ok", "same_as": None, "val_accuracy": val,
            "final": {"cycles": 100, "sram_peak": 1000}, "config": {"n": n}}


# the shortlist by validation accuracy: 7, 3, 5, 9, 1
RECORDS = [rec(1, 0.90), rec(3, 0.96), rec(5, 0.95), rec(7, 0.97), rec(9, 0.94), rec(2, 0.5)]
TABLE: dict[tuple[int, int], float | None] = {
    (7, 0): 0.90, (3, 0): 0.95, (5, 0): 0.80, (9, 0): 0.95, (1, 0): 0.70,
    (7, 1): 0.99, (3, 1): 0.90, (9, 1): 0.85,
    (7, 2): 0.92, (3, 2): 0.97}


def race(study: Study, backend: Backend, announced: list[Any] | None = None,
         **more: Any) -> int:
    def announce(n: int, fold: int | None, trials: list[int]) -> None:
        if announced is not None:
            announced.append((n, fold, trials))

    return crossval.cross_validate(study, [dict(r) for r in RECORDS], 5, 3, 0, None, backend,
                                   announce=announce, race=True, **more)


def test_a_race_runs_the_better_half_through_each_next_fold():
    study, backend, announced = Study(), Backend(TABLE), []
    assert race(study, backend, announced) == 0
    assert backend.batches == [[(7, 0), (3, 0), (5, 0), (9, 0), (1, 0)],
                               [(7, 1), (3, 1), (9, 1)],
                               [(7, 2), (3, 2)]]  # 10 folds, not 15
    assert announced == [(5, (0, 0), [7, 3, 5, 9, 1]), (3, (1, 1), [7, 3, 9]),
                         (2, (2, 2), [7, 3])]
    assert study.user_attrs["cv"] == {"k": 5, "folds": 3, "seed": 0, "teacher": None,
                                      "race": True}
    records = [dict(r) for r in RECORDS]
    state = crossval.attach(study.user_attrs, records)
    assert state == crossval.CvState(5, 3, 5, 2, True, True)
    by = {r["number"]: r for r in records}
    # only the finalists count as cross-validated; the others keep the folds they ran
    assert by[7]["cv_accuracy"] == pytest.approx((0.90 + 0.99 + 0.92) / 3)
    assert by[3]["cv_accuracy"] == pytest.approx((0.95 + 0.90 + 0.97) / 3)
    assert by[9]["cv_accuracy"] is None and by[9]["cv_folds"] == [0.95, 0.85, None]
    assert by[5]["cv_folds"] == [0.80, None, None] and by[2]["cv_folds"] == []
    # run again: nothing to do, said once
    again, announced = Backend(TABLE), []
    assert race(study, again, announced) == 0
    assert again.batches == [] and announced == [(0, None, [7, 3, 5, 9, 1])]


def test_a_failed_fold_stops_the_race_at_its_round_until_it_runs_again():
    study = Study()
    broken = Backend({**TABLE, (9, 1): None})
    assert race(study, broken) == 1
    assert len(broken.batches) == 2  # no third round: who goes on is not known
    state = crossval.attach(study.user_attrs, [dict(r) for r in RECORDS])
    assert state.race and not state.finished and state.complete == 0
    fixed = Backend(TABLE)
    assert race(study, fixed) == 0
    assert fixed.batches == [[(9, 1)], [(7, 2), (3, 2)]]
    assert crossval.attach(study.user_attrs, [dict(r) for r in RECORDS]).finished


def test_an_interrupted_race_goes_on_where_it_stopped():
    study = Study()
    with pytest.raises(KeyboardInterrupt):
        race(study, Backend(TABLE, stop_after=6))  # round 1 and one fold of round 2
    rest = Backend(TABLE)
    race(study, rest)
    assert rest.batches == [[(3, 1), (9, 1)], [(7, 2), (3, 2)]]
    assert crossval.attach(study.user_attrs, [dict(r) for r in RECORDS]) == crossval.CvState(
        5, 3, 5, 2, True, True)


def test_a_race_after_a_full_cross_validation_uses_its_folds():
    """Folds a plain --cv ran (same folds and seed) are not run again by a race."""
    study = Study()
    crossval.cross_validate(study, [dict(r) for r in RECORDS], 1, 3, 0, None,
                            Backend({**TABLE, (7, 1): 0.5}))  # 7's three folds, no race
    backend = Backend({**TABLE, (9, 2): 0.93})
    race(study, backend)
    # 7's stored folds are its; its fold 2 (0.5) ranks it last of round 2: 3 and 9 go on
    assert backend.batches == [[(3, 0), (5, 0), (9, 0), (1, 0)], [(3, 1), (9, 1)],
                               [(3, 2), (9, 2)]]
    records = [dict(r) for r in RECORDS]
    state = crossval.attach(study.user_attrs, records)
    assert state == crossval.CvState(5, 3, 5, 3, True, True)  # 7 ran every fold too
    assert [r["number"] for r in records if r["cv_accuracy"] is not None] == [3, 7, 9]


def test_two_candidates_race_every_fold_in_one_batch():
    study, backend = Study(), Backend({(n, f): 0.9 for n in (7, 3) for f in range(3)})
    crossval.cross_validate(study, [dict(r) for r in RECORDS], 2, 3, 0, None, backend,
                            race=True)
    assert backend.batches == [[(7, 0), (3, 0), (7, 1), (3, 1), (7, 2), (3, 2)]]


def test_one_left_behind_never_pushes_a_finalist_out_of_the_pareto_set():
    """Set against a finalist, a candidate the race left behind is judged on the folds both
    ran (what the race cut them on), not on its higher validation score."""
    from ebnn.search.outputs import pareto

    study = Study()
    race(study, Backend(TABLE))
    records = [dict(r, final={"cycles": c, "sram_peak": 1000})
               for r, c in zip(RECORDS, (100, 300, 50, 200, 60, 10), strict=True)]
    records[2]["val_accuracy"] = 0.965  # 5: still on the shortlist, now above finalist 3
    crossval.attach(study.user_attrs, records)
    assert [r["number"] for r in records if r["cv_accuracy"] is not None] == [3, 7]
    front = [r["number"] for r in pareto(records, with_sram=False)]
    # on validation 5 (96.5%, 50 cycles) would dominate finalist 3 (96%, 300 cycles); on the
    # fold both ran it scored 80% against 95%: 3 stays
    assert 3 in front and 7 in front
    # 9 (fold 1 95%, 60 cycles) beats 1 (fold 1 70%, 100 cycles); 2, never raced, is set
    # against the others on validation (50%) with the fewest cycles
    assert 9 in front and 5 in front and 2 in front and 1 not in front


def test_the_table_says_how_the_race_stands():
    base = dict(trials=5, trained=5, rejected=0, rejected_before_training=0, failed=0,
                running=0, seconds=60.0, cv_k=5, folds=3, cv_listed=5)
    done = _cv_text(Summary(**base, cross_validated=2, cv_race=True, cv_finished=True))
    assert "by a race (`--cv 5 --cv-folds 3 --cv-race`)" in done and "2 ran every fold" in done
    assert "--resume" not in done
    waiting = _cv_text(Summary(**base, cross_validated=0, cv_race=True, cv_finished=False))
    assert "Folds of the race have not run yet" in waiting
    assert "`ebnn search -o DIR --resume --cv 5 --cv-folds 3 --cv-race`" in waiting


def test_the_progress_counts_on_over_the_races_batches():
    seen: list[tuple[int, int, int]] = []
    race(Study(), Backend(TABLE),
         progress=lambda o, done, total: seen.append((o.number, done, total)))
    # 5, 3 and 2 folds (the planned rounds 5, 3, 2): one count from 1 to 10
    assert [(d, t) for _, d, t in seen] == [(d, 10) for d in range(1, 11)]
    assert [n for n, _, _ in seen] == [7, 3, 5, 9, 1, 7, 3, 9, 7, 3]


def test_a_resumed_race_counts_only_what_is_left():
    """Two candidates run every fold in one batch; when only a first fold failed, the race
    resumed counts that one fold, not the rounds after it, which are done."""
    study = Study()
    table = {(n, f): 0.9 for n in (7, 3) for f in range(3)}
    assert crossval.cross_validate(study, [dict(r) for r in RECORDS], 2, 3, 0, None,
                                   Backend({**table, (3, 0): None}), race=True) == 1
    seen: list[tuple[int, int]] = []
    crossval.cross_validate(study, [dict(r) for r in RECORDS], 2, 3, 0, None, Backend(table),
                            lambda o, done, total: seen.append((done, total)), race=True)
    assert seen == [(1, 1)]


@pytest.fixture
def fold_teacher(monkeypatch):
    """The space's teacher as crossval reads it: a digest and the config to train per fold."""
    monkeypatch.setattr(crossval, "fold_teacher", lambda path: ("d" * 64, {"teacher": 1}))


def test_a_race_trains_every_folds_teacher_at_once_and_each_fold_learns_from_its_own(
        fold_teacher, tmp_path):
    tasks: list[FoldTask] = []

    class Seen(Backend):
        def run_batch(self, batch: list[Any], arrived: Any, fn: Any) -> None:
            tasks.extend(t for t in batch if isinstance(t, FoldTask))
            super().run_batch(batch, arrived, fn)

    study, backend = Study(), Seen(TABLE)
    assert race(study, backend, teacher=tmp_path / "t.pt", keep=tmp_path) == 0
    assert backend.batches == [[("teacher", 0), ("teacher", 1), ("teacher", 2)],
                               [(7, 0), (3, 0), (5, 0), (9, 0), (1, 0)],
                               [(7, 1), (3, 1), (9, 1)], [(7, 2), (3, 2)]]
    assert all(t.teacher == f"teacher {t.fold}".encode() for t in tasks) and len(tasks) == 10
    kept = sorted(p.name for p in (tmp_path / crossval.TEACHERS).iterdir())
    assert kept == ["fold-1-of-3.pt", "fold-2-of-3.pt", "fold-3-of-3.pt"]
    shas = crossval.fold_teacher_shas(study.user_attrs)
    folds = study.user_attrs[crossval.KEY.format(7)]["results"]
    assert [f["teacher_sha256"] for f in folds] == shas and None not in shas
    assert crossval.attach(study.user_attrs, [dict(r) for r in RECORDS]).finished


def test_a_failed_fold_teacher_is_tried_once_and_holds_the_race_at_its_fold(
        fold_teacher, tmp_path):
    study, backend = Study(), Backend({**TABLE, ("teacher", 2): None})
    # the finalists' fold 3 cannot run: 2 folds failed, the teacher not trained again
    assert race(study, backend, teacher=tmp_path / "t.pt", keep=tmp_path) == 2
    assert backend.batches == [[("teacher", 0), ("teacher", 1), ("teacher", 2)],
                               [(7, 0), (3, 0), (5, 0), (9, 0), (1, 0)],
                               [(7, 1), (3, 1), (9, 1)]]
    assert not crossval.attach(study.user_attrs, [dict(r) for r in RECORDS]).finished
    again = Backend(TABLE)  # --resume: that teacher only, then the finalists' fold 3
    assert race(study, again, teacher=tmp_path / "t.pt", keep=tmp_path) == 0
    assert again.batches == [[("teacher", 2)], [(7, 2), (3, 2)]]
    assert crossval.attach(study.user_attrs, [dict(r) for r in RECORDS]).finished
