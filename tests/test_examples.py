"""The shipped examples are consistent: each trained checkpoint exports to the artifact beside
it, byte for byte, and each config still describes the network in its artifact."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from ebnn.artifact import load
from ebnn.cli import main as ebnn_main
from ebnn.config import load_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODELS = sorted(p.parent.name for p in EXAMPLES.glob("*/*.ebnn"))


def test_examples_exist():
    assert {"mnist", "mnist-tiny", "ebnn-simple", "fashion-mnist"} <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_checkpoint_exports_to_the_shipped_artifact(name, tmp_path):
    folder = EXAMPLES / name
    out = tmp_path / f"{name}.ebnn"
    res = CliRunner().invoke(ebnn_main, ["export", str(folder / f"{name}.pt"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == (folder / f"{name}.ebnn").read_bytes()


@pytest.mark.parametrize("name", MODELS)
def test_config_describes_the_artifact(name):
    spec = load_config(EXAMPLES / name / f"{name}.toml")
    art = load(EXAMPLES / name / f"{name}.ebnn")
    assert art.name == spec.name and tuple(art.input_shape) == spec.input
    assert [tuple(layer.out_shape) for layer in art.hidden] == spec.shapes()
