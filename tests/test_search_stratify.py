"""`ebnn search --stratify`: the random start deals the space's shapes evenly over the
candidates that fit, a rejected one drawn again in its shape."""

import optuna
import pytest
from test_search import ebnn, fresh, one_line_error, outcomes

from ebnn.search.space import shape_name
from ebnn.search.stratify import GIVE_UP, next_shape
from ebnn.search.study import Settings

SHAPES = ("conv", "conv-conv", "conv-linear")


def test_the_shape_with_the_fewest_that_fit_comes_next():
    assert next_shape(SHAPES, [], 6) == "conv"
    assert next_shape(SHAPES, [("conv", True)], 6) == "conv-conv"
    # conv-conv's candidate was rejected: drawn again in conv-conv
    assert next_shape(SHAPES, [("conv", True), ("conv-conv", False)], 6) == "conv-conv"
    assert next_shape(SHAPES, [("conv", True), ("conv-conv", True)], 6) == "conv-linear"
    # the first listed among equals
    assert next_shape(SHAPES, [(s, True) for s in SHAPES], 6) == "conv"


def test_dealing_ends_once_enough_fit_or_every_shape_is_given_up():
    assert next_shape(SHAPES, [(s, True) for s in SHAPES] * 2, 6) is None
    assert next_shape(SHAPES, [(s, True) for s in SHAPES] * 2, 7) == "conv"
    never = [("conv-conv", False)] * GIVE_UP
    # conv-conv never fits in GIVE_UP draws: given up, the others go on
    assert next_shape(SHAPES, [("conv", True), ("conv-linear", True), *never], 6) == "conv"
    assert next_shape(SHAPES, [(s, False) for s in SHAPES] * GIVE_UP, 6) is None
    # one that fitted once is not given up, however often rejected since
    assert next_shape(SHAPES, [("conv-conv", True), *never, ("conv", True), ("conv", True),
                               ("conv-linear", True), ("conv-linear", True)], 9) == "conv-conv"


# conv-conv fits 2 KiB only with a 4-filter second conv (128 or 192 filters of 26x26 bits do
# not, whatever the weights): most of its draws are rejected before training, the others' never
STRATA = """\
[model]
name = "strata"
input = [28, 28, 1]
classes = 10

[space]
shapes = [["conv"], ["conv", "conv"], ["conv", "linear"]]

[space.first]
filters = 2
kernel = 3

[space.conv]
filters = [4, 128, 192]
kernel = 3
padding = 1

[space.linear]
units = [16]

[space.train]
epochs = 1
"""


@pytest.fixture(scope="module")
def strata(tmp_path_factory):
    space = tmp_path_factory.mktemp("strata") / "strata.toml"
    space.write_text(STRATA)
    return space


STRATIFIED = ("--sram", "2k", "--train-images", "300", "--batch", "2", "--jobs", "1",
              "--seed", "5", "--startup", "6", "--stratify", "--no-sram-objective",
              "--no-cycles-objective")


def assert_dealt(out) -> None:
    """The first six candidates that fit are two of each shape, and while they are dealt a
    rejected candidate's next one has its shape."""
    rows = sorted(outcomes(out).items())
    shape = {n: shape_name([layer["type"] for layer in o["config"]["model"]["layers"]])
             for n, o in rows}
    fits = [n for n, o in rows if o["status"] != "rejected"]
    rejected = [n for n, o in rows if o["status"] == "rejected"]
    assert rejected, "the space's conv-conv draws with 128 or 192 filters are over 2 KiB"
    assert sorted(shape[n] for n in fits[:6]) == sorted(
        ["conv", "conv", "conv-conv", "conv-conv", "conv-linear", "conv-linear"])
    for n in rejected:
        if n + 1 in shape and len([f for f in fits if f < n]) < 6:
            assert shape[n + 1] == shape[n] == "conv-conv"
    study = optuna.load_study(study_name="ebnn-search", storage=f"sqlite:///{out / 'study.db'}")
    assert not study.get_trials(states=(optuna.trial.TrialState.WAITING,))


def test_a_stratified_start_deals_the_shapes_that_fit_evenly(strata, tmp_path):
    out = fresh(tmp_path / "s")
    ran = ebnn("search", strata, *STRATIFIED, "--trials", "12", "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert_dealt(out)
    assert Settings.load(out).stratify  # kept with the search


def test_a_resumed_search_deals_on_from_the_trials_it_holds(strata, tmp_path):
    out = fresh(tmp_path / "s")
    ran = ebnn("search", strata, *STRATIFIED, "--trials", "3", "-o", out)
    assert ran.returncode == 0, ran.stderr
    ran = ebnn("search", "-o", out, "--resume", "--trials", "12", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    assert len(outcomes(out)) == 12
    assert_dealt(out)


def test_stratify_needs_shapes(tmp_path):
    space = tmp_path / "blocks.toml"
    space.write_text(STRATA.replace('shapes = [["conv"], ["conv", "conv"], ["conv", "linear"]]',
                                    'blocks = [1, 2]\nkinds = ["conv", "linear"]'))
    line = one_line_error(ebnn("search", space, "--stratify", "--trials", "1", "-o",
                               tmp_path / "o"))
    assert "--stratify" in line and "shapes" in line
