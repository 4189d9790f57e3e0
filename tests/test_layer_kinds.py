"""Layer kinds are records looked up in one registry: every kind implements every hook, and a kind
the registry does not know is an error with one line wherever it turns up (config, artifact in
memory, artifact file), never a silent fall-through to another kind."""

import copy
import inspect
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ebnn import artifact, codegen, reference
from ebnn.artifact import ArtifactError
from ebnn.cli import main as ebnn_main
from ebnn.config import ConfigError, parse_config
from ebnn.layers import HIDDEN_KINDS, KINDS, LayerError, LayerKind, kind
from ebnn.train import spec_to_config

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mnist" / "mnist.ebnn"

# conv -> conv -> linear -> linear: every kind, and every pair of kinds that may follow
CONFIG = {"model": {"name": "kinds", "input": [9, 11, 3], "classes": 4, "layers": [
    {"type": "conv", "filters": 5, "kernel": [2, 3], "stride": 1, "padding": 1, "pool": 2},
    {"type": "conv", "filters": 6, "kernel": 2, "pool": 2, "pool_stride": 1},
    {"type": "linear", "units": 7},
    {"type": "linear", "units": 5}]}}


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_registry() -> None:
    assert sorted(KINDS) == ["conv", "conv1d", "linear", "output"]
    assert sorted(HIDDEN_KINDS) == ["conv", "conv1d", "linear"]
    assert [k.name for k in KINDS.values() if k.is_output] == ["output"]
    assert all(k.name == name for name, k in KINDS.items())


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_implements_every_hook(name: str) -> None:
    record = KINDS[name]
    cls = type(record)
    assert LayerKind.__abstractmethods__  # the hooks
    assert not inspect.isabstract(cls)
    for hook in LayerKind.__abstractmethods__:
        assert getattr(cls, hook) is not getattr(LayerKind, hook), hook
    assert isinstance(record.keys, tuple) and all(isinstance(k, str) for k in record.keys)
    assert isinstance(record.is_output, bool)
    fields = artifact.Layer.__dataclass_fields__
    assert record.params and all(p in fields for p in record.params)
    assert all(issubclass(dtype, np.integer) for dtype in record.params.values())


def test_a_kind_missing_a_hook_cannot_be_made() -> None:
    class Half(LayerKind):
        name = "half"

        def describe(self, element: object) -> str:
            return ""

    with pytest.raises(TypeError, match="abstract"):
        Half()  # type: ignore[abstract]


@pytest.mark.parametrize("error", [LayerError, ConfigError, ArtifactError])
def test_unknown_kind_names_the_known_kinds(error: type[Exception]) -> None:
    with pytest.raises(error) as exc:
        kind("pool", "layer 3", error)
    assert one_line(exc) == ("layer 3: unknown layer type 'pool' "
                             "(known: conv, conv1d, linear, output)")
    with pytest.raises(error, match=r"\(known: conv, conv1d, linear\)"):
        kind(["conv"], "layer 1", error, HIDDEN_KINDS)


@pytest.mark.parametrize("layer, words", [
    ({"type": "dense", "units": 3}, "unknown layer type 'dense' (known: conv, conv1d, linear)"),
    ({"units": 3}, "unknown layer type None"),
    ({"type": "output", "units": 3}, "unknown layer type 'output'"),  # appended, not listed
    ({"type": "linear", "units": 3, "kernel": 3}, "unknown key(s) kernel (a linear layer"),
])
def test_unknown_kinds_and_keys_in_a_config(layer: dict, words: str) -> None:
    config = copy.deepcopy(CONFIG)
    config["model"]["layers"].append(layer)
    with pytest.raises(ConfigError) as exc:
        parse_config(config, "bad.toml")
    assert words in one_line(exc)


@pytest.mark.parametrize("layers, words", [
    ([{"type": "linear", "units": 3}],
     "the first layer must be a conv or conv1d on the input pixels"),
    ([{"type": "conv", "filters": 2}, {"type": "linear", "units": 3},
      {"type": "conv", "filters": 2}], "layer 3: a conv cannot follow a linear layer"),
])
def test_which_kind_may_follow_which(layers: list, words: str) -> None:
    config = copy.deepcopy(CONFIG)
    config["model"]["layers"] = layers
    with pytest.raises(ConfigError) as exc:
        parse_config(config, "bad.toml")
    assert words in one_line(exc)


# conv1d -> conv1d -> conv -> linear on a sequence [T, C]: a conv may follow a conv1d (kh = 1)
SEQ_CONFIG = {"model": {"name": "seq", "input": [37, 6], "classes": 3, "layers": [
    {"type": "conv1d", "filters": 5, "kernel": 5, "stride": 2, "padding": 2, "pool": 3,
     "pool_stride": 2},
    {"type": "conv1d", "filters": 6, "kernel": 3},
    {"type": "conv", "filters": 4, "kernel": [1, 2], "pool": [1, 2]},
    {"type": "linear", "units": 5}]}}


def test_config_round_trips_through_every_hidden_kind() -> None:
    spec, seq = parse_config(CONFIG), parse_config(SEQ_CONFIG)
    assert {layer.type for layer in (*spec.layers, *seq.layers)} == set(HIDDEN_KINDS)
    for s in (spec, seq):
        assert parse_config(spec_to_config(s)) == s
    assert spec.shapes() == [(5, 5, 5), (3, 3, 6), (7,), (5,)]
    # T = 37, padding 2, kernel 5, stride 2 -> 19 steps, pool 3/2 -> 9; then 7; then 6 -> 3
    assert seq.input == (1, 37, 6)
    assert seq.shapes() == [(1, 9, 5), (1, 7, 6), (1, 3, 4), (5,)]
    assert seq.layers[0].kernel == (1, 5) and seq.layers[0].padding == (0, 2)


@pytest.mark.parametrize(("model", "layer", "words"), [
    ({"input": [8, 8, 1]}, {"type": "conv1d", "filters": 2},
     "a conv1d layer reads a sequence [T, C]; its input is 8x8x1"),
    ({"input": [10, 2]}, {"type": "conv1d", "filters": 2, "kernel": [1, 3]},
     "'kernel' must be an integer in 1..4096"),
    ({"input": [10, 2]}, {"type": "conv1d", "filters": 2, "kernel": 13},
     "kernel 13 does not fit a sequence of 10 steps"),
    ({"input": [10, 2]}, {"type": "conv1d", "filters": 2, "pool": 1, "pool_stride": 2},
     "'pool_stride' = 2 needs a 'pool' > 1"),
    ({"input": [10, 2]}, {"type": "conv1d", "filters": 2, "units": 3},
     "unknown key(s) units"),
    ({"input": [10, 2, 3, 4]}, {"type": "conv1d", "filters": 2},
     "input must be [H, W, C] (an image) or [T, C] (a sequence)"),
    ({"input": [9, 9, 1]}, {"type": "conv", "filters": 2, "pool": [2, 1], "pool_stride": [2, 2]},
     "'pool_stride' = 2 needs a 'pool' > 1 on that axis"),
    ({"input": [9, 9, 1]}, {"type": "conv", "filters": 2, "stride": [1, 2, 3]},
     "'stride' must be an integer or [sh, sw]"),
])
def test_conv1d_and_per_axis_keys_are_checked(model: dict, layer: dict, words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"model": {"classes": 2, **model, "layers": [layer]}}, "bad.toml")
    assert words in one_line(exc)


def test_sequence_configs_refuse_image_distortions() -> None:
    config = copy.deepcopy(SEQ_CONFIG)
    config["train"] = {"rotate": 10.0}
    with pytest.raises(ConfigError) as exc:
        parse_config(config, "seq.toml")
    assert "takes only 'shift', along time" in one_line(exc)


@pytest.fixture
def art() -> artifact.Artifact:
    return artifact.load(EXAMPLE)


@pytest.mark.parametrize("use", ["validate", "save", "reference", "codegen"])
def test_unknown_kind_in_an_artifact_in_memory(art, tmp_path, use: str) -> None:
    art.layers[1].kind = "pool"
    run = {"validate": lambda: artifact.validate(art),
           "save": lambda: artifact.save(art, tmp_path / "x.ebnn"),
           "reference": lambda: reference.run(art, art.sample),
           "codegen": lambda: codegen.generate(art)}[use]
    with pytest.raises(ArtifactError) as exc:
        run()
    assert one_line(exc) == ("layer 1: unknown layer type 'pool' "
                             "(known: conv, conv1d, linear, output)")
    assert not (tmp_path / "x.ebnn").exists()


@pytest.mark.parametrize("index, kind_name, words", [
    (2, "linear", "layer 2: the last layer must be the output layer, not a linear"),
    (1, "output", "layer 1: the output layer must be the last"),
    (0, "linear", "layer 0: the first layer must be a conv or conv1d on the input pixels"),
])
def test_kinds_in_the_wrong_place_of_an_artifact(art, index: int, kind_name: str,
                                                  words: str) -> None:
    art.layers[index].kind = kind_name
    with pytest.raises(ArtifactError) as exc:
        artifact.validate(art)
    assert words in one_line(exc)


def test_unknown_kind_in_a_saved_artifact(art, tmp_path) -> None:
    """Saved, then its header edited: load (and so every command) refuses it in one line."""
    path = tmp_path / "m.ebnn"
    artifact.save(art, path)
    arrays = dict(np.load(path, allow_pickle=False))
    header = json.loads(arrays["header"].tobytes())
    header["layers"][1]["kind"] = "pool"
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(ArtifactError) as exc:
        artifact.load(path)
    assert one_line(exc) == (f"{path}: layer 1: unknown layer type 'pool' "
                             "(known: conv, conv1d, linear, output)")
    res = CliRunner().invoke(ebnn_main, ["eval", str(path)])
    assert res.exit_code == 2 and "unknown layer type 'pool'" in res.stderr


def test_describe_and_summary(art) -> None:
    assert KINDS["conv"].describe([1, 2, 3]) == "y=1, x=2, channel=3"
    assert KINDS["linear"].describe([4]) == "unit 4"
    labels = [artifact.layer_kind(layer, "").summary(layer) for layer in art.layers]
    assert labels == ["conv7 4x4/s2", "conv96 3x3 pool2", "out10"]
    assert KINDS["conv1d"].describe([0, 5, 2]) == "t=5, channel=2"
    layer = copy.copy(art.layers[1])
    layer.stride, layer.pool, layer.pool_stride = (1, 2), (2, 3), (1, 3)
    assert KINDS["conv"].summary(layer) == "conv96 3x3/s1x2 pool2x3/s1x3"
    layer.kind, layer.kernel, layer.stride = "conv1d", (1, 5), (1, 2)
    layer.pool, layer.pool_stride = (1, 3), (1, 2)
    assert KINDS["conv1d"].summary(layer) == "conv1d96 k5/s2 pool3/s2"


def test_unknown_kind_in_a_spec_built_in_memory() -> None:
    from ebnn.config import LayerSpec, ModelSpec
    from ebnn.model import EBNN

    spec = ModelSpec("m", (8, 8, 1), 2, (LayerSpec("conv", 2), LayerSpec("pool", 3)))
    for use in (lambda: EBNN(spec), lambda: spec_to_config(spec)):
        with pytest.raises(ConfigError) as exc:
            use()
        assert one_line(exc).endswith(
            "layer 2: unknown layer type 'pool' (known: conv, conv1d, linear)")
