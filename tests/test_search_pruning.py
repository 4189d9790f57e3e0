"""`ebnn search --prune`: the rungs' thresholds, a training stopped at a rung, a pruned search
end to end, its resume after an interrupt, and Optuna's sampler with pruned trials."""

import random
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch

from ebnn.config import parse_config
from ebnn.data import load_dataset, split_train_val
from ebnn.search import pruning
from ebnn.search.backends import InProcess
from ebnn.search.datasets import load_search_data
from ebnn.search.measure import Firmware, Outcome, run_task
from ebnn.search.outputs import load_records
from ebnn.search.space import load_space
from ebnn.search.study import Driver, Settings, _sampler, open_study
from ebnn.train import calibrated_accuracy, train
from tests.test_search import TOY, ebnn, fresh, outcomes

# 4 epochs: rungs at epochs 1 and 2
SPACE = TOY.replace("epochs = 3", "epochs = 4")
TRIALS = 14
ARGS = ("--sram", "2k", "--trials", TRIALS, "--train-images", "300", "--batch", "2",
        "--seed", "3", "--no-cycles-objective", "--no-sram-objective", "--prune")


def test_rungs_are_the_median_of_every_candidate_at_the_same_fraction():
    assert pruning.rung_epochs(4) == [1, 2] and pruning.rung_epochs(120) == [30, 60]
    assert pruning.rung_epochs(2) == [1, 1] and pruning.rung_epochs(1) == []
    # scores at a quarter and half; the last candidate was pruned at its quarter
    scores = [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5], [0.9, 0.8], [0.05]]
    assert pruning.rungs(4, scores) == [
        (1, pytest.approx(np.median([0.1, 0.2, 0.3, 0.4, 0.9, 0.05]))),
        (2, pytest.approx(np.median([0.2, 0.3, 0.4, 0.5, 0.8])))]
    # a candidate of 8 epochs is checked at epochs 2 and 4, against the same fractions
    assert [e for e, _ in pruning.rungs(8, scores)] == [2, 4]
    # too few candidates reached a rung: none there (the pruned one did not reach half)
    assert [e for e, _ in pruning.rungs(4, scores[1:])] == [1]
    assert pruning.rungs(4, scores[:4]) == []
    # no rung at the last epoch, one an epoch
    assert pruning.rungs(1, scores) == []
    assert [e for e, _ in pruning.rungs(2, scores)] == [1]


def test_rungs_score_the_model_as_calibrated_and_stop_the_training_there(tmp_path):
    ds = load_dataset("mnist")
    train_set, val_set = split_train_val(ds, 0.1, 0)
    train_set = train_set.head(300)
    spec = parse_config({"model": {"name": "p", "input": [28, 28, 1], "classes": 10,
                                   "layers": [{"type": "conv", "filters": 2, "kernel": 3}]},
                         "train": {"epochs": 4, "bn_calibrate": 1}}, "test")
    calls: list[int] = []

    def score(model) -> float:
        calls.append(len(calls))
        return calibrated_accuracy(model, train_set.images, val_set, spec.train)

    # scored at a quarter and half: the training is the one without the hook (the accuracy
    # after each epoch is measured with the running statistics the score calibrated)
    plain, plain_history = train(spec, train_set, val_set, tmp_path / "plain.pt")
    scores: list[float] = []
    scored, history = train(spec, train_set, val_set, tmp_path / "scored.pt",
                            after_epoch=pruning.after_epoch([], 4, score, scores))
    assert len(calls) == 2 and len(scores) == 2
    assert history.val_acc == plain_history.val_acc
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(),
                                                 scored.state_dict().values(), strict=True))
    # the score at the last epoch is the model's own calibrated accuracy
    assert calibrated_accuracy(scored, train_set.images, val_set, spec.train) == \
        pytest.approx(history.val_acc[-1])
    # statistics it did not calibrate, and the training mode, are put back
    with torch.no_grad():
        for k, v in scored.state_dict().items():
            if "running_mean" in k:
                v.add_(0.5)
    scored.train()
    before = {k: v.clone() for k, v in scored.state_dict().items()}
    calibrated_accuracy(scored, train_set.images, val_set, spec.train)
    assert scored.training
    assert all(torch.equal(before[k], v) for k, v in scored.state_dict().items())
    # a rung missed: stopped after that epoch, no final model
    scores = []
    with pytest.raises(pruning.Pruned, match=r"after epoch 2 of 4: validation .* < 101\.00%"):
        train(spec, train_set, val_set, tmp_path / "m.pt",
              after_epoch=pruning.after_epoch([(2, 1.01)], 4, score, scores))
    assert len(scores) == 2
    assert not (tmp_path / "m.pt").exists()
    assert torch.load(tmp_path / "m.pt.ckpt", weights_only=False)["epoch"] == 2


@pytest.fixture(scope="module")
def space_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("space") / "toy4.toml"
    path.write_text(SPACE)
    return path


@pytest.fixture(scope="module")
def pruned(tmp_path_factory, space_file) -> tuple[Path, str]:
    out = fresh(tmp_path_factory.mktemp("pruned") / "s")
    ran = ebnn("search", space_file, *ARGS, "--jobs", "1", "-o", out)
    assert ran.returncode == 0, ran.stderr
    return out, ran.stderr


def study_of(directory: Path) -> optuna.Study:
    return optuna.load_study(study_name="ebnn-search",
                             storage=f"sqlite:///{directory / 'study.db'}")


def test_a_pruned_search_stops_those_under_the_median(pruned):
    out, stderr = pruned
    trials = study_of(out).get_trials()
    state = optuna.trial.TrialState
    stopped = [t for t in trials if t.state == state.PRUNED]
    assert stopped and len(stopped) < len(trials)
    for t in trials:
        o = t.user_attrs["outcome"]
        if o["status"] in ("rejected", "invalid") or "same_as" in t.user_attrs:
            continue
        # the thresholds are the medians of the scores finished when the trial was asked
        before = [u.user_attrs["outcome"]["rung_scores"] for u in trials
                  if u.datetime_complete is not None and u.datetime_complete < t.datetime_start
                  and u.user_attrs["outcome"]["rung_scores"] and "same_as" not in u.user_attrs]
        rungs = [tuple(r) for r in t.user_attrs["rungs"]]
        assert rungs == [(e, pytest.approx(a)) for e, a in pruning.rungs(4, before)]
        scores = dict(zip([1, 2], o["rung_scores"], strict=False))
        missed = [(e, a) for e, a in rungs if e in scores and scores[e] < a]
        if t.state == state.PRUNED:
            # stopped at the first rung it missed: no more epochs, no model, no firmware
            epoch, bar = missed[0]
            assert max(scores) == epoch and o["status"] == "pruned"
            assert o["reason"].startswith(f"after epoch {epoch} of 4: validation ")
            assert f"< {100 * bar:.2f}%" in o["reason"]
            assert o["final"] is None and not o["trained"]
            assert not (out / "trials" / f"{t.number:05d}" / "model.pt").exists()
            # Optuna holds its scores (one objective): TPE ranks the pruned by them
            assert t.intermediate_values == scores
        else:
            assert t.state == state.COMPLETE and not missed and list(scores) == [1, 2]
    _, summary = load_records(study_of(out))
    line = summary.line()
    assert summary.pruned == len(stopped) and line.endswith(f" failed, {len(stopped)} pruned")
    assert line in stderr and line in (out / "pareto.md").read_text()
    assert f"trial {stopped[0].number}: pruned: after epoch" in stderr


class StopInBatch(InProcess):
    """Runs batches until the one holding trial ``number``, tells that one's first task and
    is interrupted (as by Ctrl-C) before the next."""

    def __init__(self, data, number: int) -> None:
        super().__init__(data)
        self.number = number

    def run_batch(self, tasks, done):
        for task in tasks:
            done(run_task(task, self._data))
            if any(t.number >= self.number for t in tasks):
                raise KeyboardInterrupt


def test_a_pruned_search_resumes_as_if_never_interrupted(pruned, space_file, tmp_path):
    local, _ = pruned
    out = fresh(tmp_path / "resumed")
    settings = Settings.load(local)
    settings.save(out)
    space = load_space(space_file)
    data = load_search_data(None, None, space.val_fraction, space.seed)
    last_pruned = max(t.number for t in study_of(local).get_trials()
                      if t.state == optuna.trial.TrialState.PRUNED)
    study = open_study(out, settings, create=True)
    driver = Driver(out, settings, space, study, StopInBatch(data, last_pruned), data)
    with pytest.raises(KeyboardInterrupt):
        driver.run(TRIALS, None)
    assert "RUNNING" in {o["state"] for o in outcomes(out).values()}
    ran = ebnn("search", "-o", out, "--resume", "--jobs", "2")  # and in a pool of two
    assert ran.returncode == 0, ran.stderr

    def essentials(directory: Path) -> list[tuple]:
        return [(t.number, t.state.name, t.user_attrs["outcome"]["status"],
                 t.user_attrs["outcome"]["val_accuracy"], t.user_attrs["outcome"]["rung_scores"],
                 t.user_attrs.get("rungs")) for t in study_of(directory).get_trials()]

    assert essentials(out) == essentials(local)


def test_tpe_proposes_among_pruned_trials_of_several_objectives(tmp_path):
    """Optuna keeps no intermediate values for several objectives: the pruned trial is told
    without them and the sampler still proposes past its startup trials."""
    settings = Settings(space="", target="curie", sram=2048, flash=65536, max_cycles=None,
                        clock_hz=32_000_000, prune=True)
    study = open_study(tmp_path, settings, create=True)
    assert len(study.directions) == 3
    driver = Driver(tmp_path, settings, None, study, None, None)  # type: ignore[arg-type]
    rng = random.Random(0)
    for n in range(14):
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        probe = Firmware(1000, 4000, 9000, 9000.0, 9000)
        if n % 3:
            o = Outcome(n, "ok", probe=probe, final=probe, trained=True, val_accuracy=x,
                        epochs=4, rung_scores=[x, x])
        else:
            o = Outcome(n, "pruned", "after epoch 1 of 4", probe=probe, epochs=4,
                        rung_scores=[rng.random()])
        driver.tell(trial, o, {"model": {}, "train": {"epochs": 4}})
    states = [t.state for t in study.get_trials()]
    assert states.count(optuna.trial.TrialState.PRUNED) == 5
    study.sampler = _sampler(0, 14)
    assert 0 <= study.ask().suggest_float("x", 0, 1) <= 1  # TPE, not its random startup
    assert len(driver.scores) == 14 and driver.tally.pruned == 5


def test_a_pruned_config_asked_again_is_a_pruned_copy_whose_scores_count_once(tmp_path):
    settings = Settings(space="", target="curie", sram=2048, flash=65536, max_cycles=None,
                        clock_hz=32_000_000, minimize_sram=False, minimize_cycles=False,
                        prune=True)
    study = open_study(tmp_path, settings, create=True)
    driver = Driver(tmp_path, settings, None, study, None, None)  # type: ignore[arg-type]
    config = {"model": {"name": "c"}, "train": {"epochs": 4}}
    probe = Firmware(1000, 4000, 9000, 9000.0, 9000)
    driver.tell(study.ask(), Outcome(0, "pruned", "after epoch 1 of 4", probe=probe, epochs=4,
                                     rung_scores=[0.3]), config)
    assert driver._copy_seen(study.ask(), config)
    copy = study_of(tmp_path).trials[1]
    assert copy.state == optuna.trial.TrialState.PRUNED and copy.user_attrs["same_as"] == 0
    assert copy.intermediate_values == {1: 0.3}
    assert driver.scores == [[0.3]] and driver.tally.pruned == 2
    # a resumed search's driver counts it once too
    assert Driver(tmp_path, settings, None, study, None, None).scores == [[0.3]]  # type: ignore[arg-type]
