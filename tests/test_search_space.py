"""The search space: parsing, the configs a trial draws, and their TOML form."""

import itertools
import tomllib
from pathlib import Path

import optuna
import pytest

from ebnn.config import parse_config
from ebnn.layers import KINDS
from ebnn.search.command import parse_duration
from ebnn.search.outputs import pareto
from ebnn.search.space import SpaceError, config_toml, load_space, parse_space
from ebnn.search.study import _sampler

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "search" / "mnist.toml"

BASE = {"model": {"name": "s", "input": [28, 28, 1], "classes": 10}}


def space(**tables):
    return parse_space({**BASE, "space": tables})


def test_example_space_draws_valid_configs():
    s = load_space(EXAMPLE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    kinds = set()
    for _ in range(30):
        config = s.suggest(study.ask(), epochs=2)
        assert config["train"]["epochs"] == 2
        layers = config["model"]["layers"]
        assert layers[0]["type"] == "conv"
        kinds.update(layer["type"] for layer in layers[1:])
        # a linear block is never followed by a conv
        types = [layer["type"] for layer in layers]
        assert "conv" not in types[types.index("linear"):] if "linear" in types else True
        spec = parse_config(tomllib.loads(config_toml(config)))
        assert spec == parse_config(config)
    assert kinds == {"conv", "linear"}


def test_fixed_trial_picks_what_it_is_told():
    s = space(blocks=[1, 2], kinds=["linear"], conv={"filters": [4, 8], "kernel": [[3, 5], 2]},
              linear={"units": [16, 32]},
              train={"lr": {"low": 0.01, "high": 0.1, "log": True}, "shift": [1, 2],
                     "epochs": 3})
    trial = optuna.trial.FixedTrial({"blocks": 2, "b1.filters": 8, "b1.kernel": "[3, 5]",
                                     "b2.kind": "linear", "b2.units": 32, "train.lr": 0.02,
                                     "train.shift": 2})
    config = s.suggest(trial)
    assert config["model"]["layers"] == [
        {"type": "conv", "filters": 8, "kernel": [3, 5]}, {"type": "linear", "units": 32}]
    assert config["train"] == {"lr": 0.02, "shift": 2, "epochs": 3}


@pytest.mark.parametrize(("tables", "words"), [
    ({"blocks": [2, 1]}, "blocks must be"),
    ({"blocks": 0}, "blocks must be"),
    ({"kinds": ["pool"]}, "kinds must list"),
    ({"conv": {"units": [3]}}, "unknown key(s) units"),
    ({"conv": {"filters": []}}, "empty list"),
    ({"conv": {"filters": {"low": 8, "high": 4}}}, "low <= high"),
    ({"train": {"lr": {"low": 0, "high": 1, "log": True}}}, "log range needs low > 0"),
    ({"train": {"seed": [0, 1]}}, "seed must be one value"),
    ({"train": {"val_fraction": 0}}, "val_fraction must be > 0"),
    ({"train": {"speed": 1}}, "unknown key(s) speed"),
    ({"extra": 1}, "[space]: unknown extra; it takes blocks, kinds, shapes and the tables "
     "[space.first], [space.train], [space.conv]"),
    # a table named as one, and the names it may have (review L6: "unknown key(s) dense")
    ({"dense": {"units": [8]}}, "[space]: unknown [space.dense]; it takes"),
    ({"kind": ["conv"]}, "[space]: unknown kind (did you mean kinds?)"),
    ({"train": {"epoch": 3}}, "[space.train]: unknown key(s) epoch (did you mean epochs?); it "
     "takes epochs, batch_size, lr,"),
    # a value no candidate can take: refused at once, not by every trial that draws it
    ({"conv": {"filters": "many"}}, 'filters = "many" can never be used'),
    ({"conv": {"filters": [8, -4]}}, "filters = -4 can never be used"),
    ({"conv": {"filters": {"low": 1, "high": 1e9}}},
     "filters = {low = 1, high = 1000000000.0} holds values no candidate can take"),
    ({"conv": {"filters": {"low": 4, "high": 64, "step": 4.0}}}, "got 4.0"),  # floats drawn
    ({"linear": {"units": [16, 2.5]}}, "units = 2.5 can never be used"),
    ({"first": {"filters": 4, "stride": 0}}, "stride = 0 can never be used"),
    ({"train": {"lr": "fast"}}, 'lr = "fast" can never be used'),
    ({"train": {"lr": {"low": -1.0, "high": 0.1}}}, "lr = {low = -1.0, high = 0.1} holds"),
    ({"train": {"epochs": [0, 5]}}, "epochs = 0 can never be used"),
    ({"train": {"seed": -1}}, "seed = -1 can never be used"),
    ({"train": {"rotate": [10, 120]}}, "rotate = 120 can never be used"),
    # a kind later blocks may have, without the key it has no default for: every trial
    # drawing it failed at run time (reported as a rejection)
    ({"blocks": [1, 2], "kinds": ["conv", "linear"], "conv": {"filters": 8}},
     "[space.linear]: needs units (a linear block has no default)"),
    ({"blocks": 1, "conv": {"kernel": 3}}, "[space.conv]: needs filters"),
    ({"first": {"kernel": 3}, "conv": {"filters": 8}}, "[space.first]: needs filters"),
    # pool_stride was not checked at all: every trial drawing "x" was invalid at run time
    ({"conv": {"filters": 8, "pool": 2, "pool_stride": [[5, "x"]]}}, "pool_stride"),
    ({"conv": {"filters": 8, "pool": 2, "pool_stride": [2, 0]}}, "pool_stride = 0 can never"),
    # inconsistent though harmless: a kind listed twice (drawn twice as often), a table no
    # block can use (search review finding 9)
    ({"blocks": [1, 2], "kinds": ["conv", "linear", "linear"], "conv": {"filters": 8},
      "linear": {"units": 8}}, "[space] kinds lists linear more than once"),
    ({"blocks": 2, "kinds": ["conv"], "conv": {"filters": 8}, "linear": {"units": 8}},
     "[space.linear] is never used: no block of the space is a linear (kinds conv)"),
    ({"shapes": [["conv", "conv"]], "conv": {"filters": 8}, "linear": {"units": 8}},
     "[space.linear] is never used: no block of the space is a linear (shapes conv-conv)"),
    ({"blocks": 1, "kinds": ["conv", "linear"], "conv": {"filters": 8}, "linear": {"units": 8}},
     "[space.linear] is never used: no block of the space is a linear (one block, a conv)"),
])
def test_bad_spaces_are_refused_with_one_line(tables, words):
    with pytest.raises(SpaceError) as info:
        space(**tables)
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "a b", ".hidden", "", "x" * 65, 3])
def test_a_model_name_that_is_no_plain_file_name_is_refused(name):
    """The name begins the search's file names: one with a path in it would write elsewhere."""
    with pytest.raises(SpaceError, match="must be a plain name"):
        parse_space({"model": {**BASE["model"], "name": name}, "space": {}})


def test_values_that_fit_only_some_layers_stay_the_trials_to_reject():
    # a kernel that fits a first layer's 28 x 28 but not a later, smaller map; a pool stride
    # valid only with the pool drawn; an open end (init > 0) a continuous range never draws
    s = space(conv={"filters": 8, "kernel": [3, 20], "pool": [1, 2], "pool_stride": 2},
              train={"init": {"low": 0.0, "high": 1.0}})
    assert s.layer["conv"]["kernel"] == [3, 20]


def test_a_kept_space_is_read_again_without_the_newer_rules():
    """A search begun before the name and value rules resumes: its stored space is not
    refused for them (parse_space(strict=False), as --resume and --report read it)."""
    data = {"model": {**BASE["model"], "name": "MNIST search (2k)"},
            "space": {"train": {"lr": {"low": 0.0, "high": 0.1}}}}
    with pytest.raises(SpaceError):
        parse_space(data)
    assert parse_space(data, strict=False).name == "MNIST search (2k)"


def test_a_model_error_is_named_as_one():
    with pytest.raises(SpaceError, match=r"\[model\]: 'classes'"):
        parse_space({"model": {**BASE["model"], "classes": 1}, "space": {"train": {"lr": 0.01}}})


def test_model_table_is_checked():
    with pytest.raises(SpaceError, match="layers"):
        parse_space({"model": {**BASE["model"], "layers": []}, "space": {}})
    with pytest.raises(SpaceError, match="input"):
        parse_space({"model": {**BASE["model"], "input": [28]}, "space": {}})


@pytest.mark.parametrize(("text", "seconds"), [("2h", 7200), ("90m", 5400), ("1h30m", 5400),
                                                ("45s", 45), ("12.5", 12.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def record(number, acc, cycles, sram, status="ok"):
    return {"number": number, "status": status, "same_as": None, "val_accuracy": acc,
            "final": {"cycles": cycles, "sram_peak": sram}}


def test_pareto_keeps_the_non_dominated_and_drops_repeats():
    records = [record(0, 0.90, 100, 900), record(1, 0.95, 200, 1000),
               record(2, 0.94, 250, 1000),  # dominated by 1
               record(3, 0.95, 200, 1000),  # the same as 1: the earlier one is kept
               record(4, 0.99, 50, 100, status="rejected")]
    assert [r["number"] for r in pareto(records, with_sram=True)] == [1, 0]
    # without SRAM as an objective, a smaller SRAM no longer saves a slower model
    records.append(record(5, 0.90, 150, 10))
    assert [r["number"] for r in pareto(records, with_sram=False)] == [1, 0]
    assert [r["number"] for r in pareto(records, with_sram=True)] == [1, 0, 5]


SHAPES = [["conv", "conv"], ["conv", "linear"], ["conv", "conv", "conv"],
          ["conv", "conv", "linear"], ["conv", "linear", "linear"]]


def test_shapes_draw_one_of_the_listed_kind_sequences():
    s = space(shapes=SHAPES, conv={"filters": [8, 16]}, linear={"units": [32]})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    seen = set()
    for _ in range(60):
        trial = study.ask()
        config = s.suggest(trial)
        kinds = [layer["type"] for layer in config["model"]["layers"]]
        assert kinds in SHAPES
        assert trial.params["shape"] == "-".join(kinds)
        assert not {"blocks", "b2.kind", "b3.kind"} & set(trial.params)
        seen.add("-".join(kinds))
        study.tell(trial, 0.5)
    assert len(seen) == len(SHAPES)


@pytest.mark.parametrize(("tables", "joint", "alone"), [
    ({"shapes": SHAPES}, "shape", "b3.filters"),
    ({"blocks": [2, 3], "kinds": ["conv", "linear"]}, "blocks", "b3.kind"),
])
def test_the_search_sampler_models_the_shape_jointly_with_one_objective(tables, joint, alone):
    """What ``shapes`` is for: the search's own TPE (one objective, accuracy alone) puts the
    shape in its joint model with the first layer and the recipe; block by block, a third
    block's kind stands alone. With several objectives TPE models every parameter alone."""
    s = space(**tables, first={"filters": 8, "stride": [1, 2]}, conv={"filters": [8, 16]},
              linear={"units": [32]}, train={"shift": [1, 2]})
    for directions, expect in ((["maximize"], {joint, "b1.stride", "train.shift"}),
                               (["maximize", "minimize", "minimize"], set())):
        study = optuna.create_study(directions=directions,
                                    sampler=optuna.samplers.RandomSampler(seed=3))
        for _ in range(30):
            trial = study.ask()
            s.suggest(trial)
            study.tell(trial, [0.5] * len(directions))
        inferred = set(_sampler(0, 30).infer_relative_search_space(study, study.trials[-1]))
        if expect:
            assert expect <= inferred and alone not in inferred
        else:
            assert inferred == set()


def test_blocks_are_drawn_in_order_each_kind_before_its_keys():
    """The order the sampler is asked in fixes a seeded search's proposals: searches made
    before ``shapes`` existed must resume as they began."""
    asked: list[str] = []

    class Recorder:
        def suggest_categorical(self, name, choices):
            asked.append(name)
            return "conv" if "conv" in choices else choices[0]

        def suggest_int(self, name, low, high, step=1, log=False):
            asked.append(name)
            return high

        def suggest_float(self, name, low, high, step=None, log=False):
            asked.append(name)
            return low

    s = space(blocks=[1, 3], kinds=["conv", "linear"], conv={"filters": [8, 16], "pool": [1, 2]},
              linear={"units": 16}, train={"shift": [1, 2]})
    s.suggest(Recorder())
    assert asked == ["blocks", "b1.filters", "b1.pool", "b2.kind", "b2.filters", "b2.pool",
                     "b3.kind", "b3.filters", "b3.pool", "train.shift"]
    asked.clear()
    space(shapes=SHAPES, conv={"filters": [8, 16]}, linear={"units": 16}).suggest(Recorder())
    assert asked == ["shape", "b1.filters", "b2.filters"]


def test_the_shapes_example_is_the_cold_space_with_shapes():
    """examples/search/mnist-15k-shapes.toml makes the models mnist-15k-cold.toml makes."""
    folder = EXAMPLE.parent
    cold, shapes = (load_space(folder / f"mnist-15k-{n}.toml") for n in ("cold", "shapes"))
    assert (shapes.first, shapes.layer, shapes.train) == (cold.first, cold.layer, cold.train)
    assert (shapes.blocks, set(shapes.kinds)) == (cold.blocks, set(cold.kinds))
    sequences = set()
    for n in range(cold.blocks[0], cold.blocks[1] + 1):
        for kinds in itertools.product(cold.kinds, repeat=n - 1):
            seq = ("conv", *kinds)
            if all(KINDS[b].may_follow(KINDS[a]) for a, b in itertools.pairwise(seq)):
                sequences.add(seq)
    assert set(shapes.shapes) == sequences


def test_shapes_map_a_config_back_to_its_parameters():
    s = space(shapes=SHAPES, conv={"filters": [8, 16]}, linear={"units": [32, 64]})
    config = {**BASE, "model": {**BASE["model"], "layers": [
        {"type": "conv", "filters": 16}, {"type": "conv", "filters": 8},
        {"type": "linear", "units": 64}]}}
    params = s.params_of(config, "start.toml")
    assert params["shape"] == "conv-conv-linear"
    assert s.suggest(optuna.trial.FixedTrial(params))["model"]["layers"] == \
        config["model"]["layers"]
    two_convs_only = space(shapes=[["conv", "conv"]], conv={"filters": [8, 16]})
    with pytest.raises(SpaceError,
                       match=r"conv-conv-linear, not among the space's shapes \(conv-conv\)"):
        two_convs_only.params_of(config, "start.toml")
    # one shape: nothing to draw
    config["model"]["layers"] = config["model"]["layers"][:2]
    assert "shape" not in two_convs_only.params_of(config, "start.toml")
    assert space(shapes=[["conv"]], conv={"filters": 8}).blocks == (1, 1)


@pytest.mark.parametrize(("tables", "words"), [
    ({"shapes": SHAPES, "blocks": [2, 3]}, "shapes replaces blocks and kinds"),
    ({"shapes": SHAPES, "kinds": ["conv"]}, "shapes replaces blocks and kinds"),
    ({"shapes": []}, "shapes must be a list of kind sequences"),
    ({"shapes": ["conv"]}, "shapes must be a list of kind sequences"),
    ({"shapes": [[]]}, "shapes must be a list of kind sequences"),
    ({"shapes": [["conv", "pool"]]}, "shape conv-pool: pool is not a layer type"),
    ({"shapes": [["linear"]]}, "shape linear: the first block must be a conv"),
    ({"shapes": [["conv", "linear", "conv"]]},
     "shape conv-linear-conv: a conv cannot follow a linear"),
    ({"shapes": [["conv"] * 17]}, "more than 16 blocks"),
    ({"shapes": [["conv"], ["conv"]]}, "shape conv is listed twice"),
])
def test_bad_shapes_are_refused_with_one_line(tables, words):
    with pytest.raises(SpaceError) as info:
        space(**tables)
    assert words in str(info.value) and "\n" not in str(info.value)


SEQUENCE = {"model": {"name": "s", "input": [50, 3], "classes": 3}}


def test_a_sequence_space_begins_with_a_conv1d():
    s = parse_space({**SEQUENCE, "space": {
        "blocks": [1, 2], "kinds": ["conv1d", "linear"],
        "first": {"filters": [4, 8], "kernel": [3, 5]}, "conv1d": {"filters": 8},
        "linear": {"units": 16}}})
    assert s.first_kind == "conv1d"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    kinds = set()
    for _ in range(20):
        config = s.suggest(study.ask())
        layers = config["model"]["layers"]
        assert layers[0]["type"] == "conv1d"
        kinds.update(layer["type"] for layer in layers[1:])
        spec = parse_config(config)
        assert s.params_of(config, "drawn") is not None and spec.input == (1, 50, 3)
    assert kinds == {"conv1d", "linear"}
    # the default kinds follow the input too
    assert parse_space({**SEQUENCE, "space": {"conv1d": {"filters": 4}}}).kinds == ("conv1d",)


@pytest.mark.parametrize(("tables", "words"), [
    ({"shapes": [["conv", "linear"]], "conv": {"filters": 4}, "linear": {"units": 8}},
     "the first block must be a conv1d (the input is a sequence [T, C])"),
    ({"first": {"filters": 4, "kernel": [[1, 3]]}}, "kernel"),
])
def test_bad_sequence_spaces_are_refused_with_one_line(tables, words):
    with pytest.raises(SpaceError) as info:
        parse_space({**SEQUENCE, "space": tables})
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("units, batch, message", [
    (16, 48, None),
    (32, 40, None),
    (12, 48, r"start\.toml: layer 2 units = 12 is not in the space's range integers 8 to 32 "
             r"in steps of 8"),
    (40, 48, r"layer 2 units = 40 is not in the space's range integers 8 to 32 in steps of 8"),
    (16, 50, r"\[train\] batch_size = 50 is not in the space's range integers 32 to 64 in "
             r"steps of 8"),
])
def test_a_start_config_must_lie_on_a_ranges_steps(units, batch, message):
    """A value between a range's steps is one the space never draws: refused in one line
    (search review finding 2: Optuna warned in its own words and the trial trained it)."""
    s = space(shapes=[["conv", "linear"]], first={"filters": 4, "kernel": 3},
              linear={"units": {"low": 8, "high": 32, "step": 8}},
              train={"batch_size": {"low": 32, "high": 64, "step": 8}})
    config = {**BASE, "model": {**BASE["model"], "layers": [
        {"type": "conv", "filters": 4, "kernel": 3}, {"type": "linear", "units": units}]},
        "train": {"batch_size": batch}}
    if message is None:
        params = s.params_of(config, "start.toml")
        made = s.suggest(optuna.trial.FixedTrial(params))
        assert made["model"]["layers"][1]["units"] == units
        assert made["train"]["batch_size"] == batch
    else:
        with pytest.raises(SpaceError, match=message):
            s.params_of(config, "start.toml")


@pytest.mark.parametrize("tables, message", [
    ({"first": {"filters": 4, "kernel": [29, 30]}},
     "does not fit a 28x28 input"),
    ({"shapes": [["conv", "conv1d"]], "first": {"filters": 4, "kernel": 3},
      "conv1d": {"filters": 4, "kernel": 3}}, "layer 2: a conv1d layer reads a sequence"),
])
def test_a_space_with_no_model_in_it_is_refused_when_read(tables, message):
    """Every trial of such a space would be rejected as invalid, after the whole search
    (search review finding 5); a space where only some candidates are models is kept."""
    with pytest.raises(SpaceError, match="none of 1,000 candidates drawn at random from the "
                       "space is a model") as err:
        space(**tables)
    assert message in str(err.value)
    some = space(first={"filters": 4, "kernel": [29, 3]})  # half of them fit
    assert some.first["kernel"] == [29, 3]


@pytest.mark.parametrize("first, message", [
    ({"filters": [True, 8], "kernel": 3},
     "filters = true can never be used ('filters' must be an integer in 1..4096, got true)"),
    ({"filters": 4, "kernel": 3, "pool": [0, 2]},
     "pool = 0 can never be used ('pool' must be an integer or [ph, pw] in 1..4096, got 0)"),
    ({"filters": 4, "kernel": "x"}, 'kernel = "x" can never be used'),
])
def test_values_in_messages_are_spelled_as_toml_spells_them(first, message):
    """As the user wrote them in the file (search review finding 12: True, 'x', [0, 0])."""
    with pytest.raises(SpaceError) as err:
        space(first=first)
    assert message in str(err.value)
