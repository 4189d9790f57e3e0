"""`[train] teacher`: a model trained to match a trained eBNN's scores as well as the labels."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from ebnn import cli
from ebnn.config import ConfigError, load_config, parse_config
from ebnn.data import load_dataset, split_train_val
from ebnn.train import TrainError, load_checkpoint, train


def config(filters: int, **train_keys: object) -> dict:
    return {"model": {"name": "m", "input": [28, 28, 1], "classes": 10,
                      "layers": [{"type": "conv", "filters": filters, "kernel": 3,
                                  "stride": 2}]},
            "train": {"epochs": 3, "batch_size": 64, "lr": 0.03, "init": 0.1, "shift": 0,
                      **train_keys}}


@pytest.fixture(scope="module")
def split():
    """1,500 bundled MNIST images, split as `ebnn train` splits them (seed 0, 10%)."""
    return split_train_val(load_dataset("mnist").head(1500), 0.1, 0)


@pytest.fixture(scope="module")
def teacher(split, tmp_path_factory) -> Path:
    pt = tmp_path_factory.mktemp("teacher") / "teacher.pt"
    _, history = train(parse_config(config(8)), *split, pt)
    assert history.val_acc[-1] > 0.6
    return pt


def test_a_student_learns_from_the_teacher_alone(split, teacher, tmp_path):
    """Trained on shuffled labels, a model learns nothing; with the teacher's scores as its
    whole loss (teacher_weight 1) it learns the digits all the same."""
    train_set, val = split
    shuffled = replace(train_set, labels=np.random.default_rng(0).permutation(
        train_set.labels))
    _, alone = train(parse_config(config(4)), shuffled, val, tmp_path / "alone.pt")
    _, taught = train(parse_config(config(4, teacher=str(teacher), teacher_weight=1.0)),
                      shuffled, val, tmp_path / "taught.pt")
    assert alone.val_acc[-1] < 0.3 < 0.6 < taught.val_acc[-1]
    saved = load_checkpoint(tmp_path / "taught.pt")["config"]["train"]
    assert saved["teacher"] == str(teacher) and saved["teacher_weight"] == 1.0


@pytest.mark.parametrize(("change", "words"), [
    ({"teacher": "missing.pt"}, "no such file"),
    ({"seed": 1}, "validated on other images"),
    ({"val_fraction": 0.2}, "validated on other images"),
    ({"data": 1400}, "validated on other images"),  # other data: another validation part
])
def test_a_teacher_that_does_not_fit_is_refused(split, teacher, tmp_path, change, words):
    """Its validation images must be this model's: then it did not train on them."""
    keys = {"teacher": str(tmp_path / change.pop("teacher")) if "teacher" in change
            else str(teacher)}
    n = change.pop("data", 1500)
    spec = parse_config(config(4, **keys, **change))
    data = split_train_val(load_dataset("mnist").head(n), spec.train.val_fraction,
                           spec.train.seed)
    with pytest.raises(TrainError, match=words) as info:
        train(spec, *data, tmp_path / "s.pt")
    assert str(info.value).startswith("[train] teacher")


def test_a_teacher_from_before_the_check_is_refused(split, teacher, tmp_path):
    payload = load_checkpoint(teacher)
    del payload["val_digest"]
    old = tmp_path / "old.pt"
    torch.save(payload, old)
    with pytest.raises(TrainError, match="older version"):
        train(parse_config(config(4, teacher=str(old))), *split, tmp_path / "s.pt")


def test_a_teacher_of_other_classes_is_refused(split, teacher, tmp_path):
    other = config(4, teacher=str(teacher))
    other["model"]["classes"] = 12
    train_set, val = split
    with pytest.raises(TrainError, match="in 10 classes, this model"):
        train(parse_config(other), replace(train_set, classes=12), replace(val, classes=12),
              tmp_path / "s.pt")


def test_a_relative_teacher_is_relative_to_the_config(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "m.toml"
    path.write_text('[model]\nname = "m"\ninput = [28, 28, 1]\nclasses = 10\n\n'
                    '[[model.layers]]\ntype = "conv"\nfilters = 4\n\n'
                    '[train]\nteacher = "t/teacher.pt"\n')
    assert load_config(path).train.teacher == str(tmp_path / "sub" / "t" / "teacher.pt")


@pytest.mark.parametrize(("keys", "words"), [
    ({"teacher": 5}, "'teacher' must be the path"),
    ({"teacher_weight": 0.0}, "teacher_weight must be in (0, 1]"),
    ({"teacher_weight": 1.5}, "teacher_weight must be in (0, 1]"),
    ({"teacher_temperature": 0.0}, "teacher_temperature"),
])
def test_bad_teacher_keys_are_config_errors(keys, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        parse_config(config(4, **keys))


def test_ebnn_train_with_a_missing_teacher_is_one_line(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[model]\nname = "m"\ninput = [28, 28, 1]\nclasses = 10\n\n'
                    '[[model.layers]]\ntype = "conv"\nfilters = 4\n\n'
                    '[train]\nepochs = 1\nteacher = "none.pt"\n')
    res = CliRunner().invoke(cli.main, ["train", str(path), "--train-images", "200",
                                        "-o", str(tmp_path / "m.pt")])
    assert res.exit_code == 2, res.output
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: [train] teacher: {tmp_path / 'none.pt'}: no such file"]
    assert "Traceback" not in res.stderr
