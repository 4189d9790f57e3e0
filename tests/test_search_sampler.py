"""`ebnn search --multivariate`: TPE over the space's parameters jointly, kept with the search."""

import json
import zlib
from pathlib import Path

import optuna
import pytest

from ebnn.search.space import load_space
from ebnn.search.study import _sampler
from tests.test_search import TOY

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _accuracy(config: dict) -> float:
    """A made-up validation accuracy, fixed for a config (no training: the sampler is tested)."""
    return zlib.crc32(json.dumps(config, sort_keys=True).encode()) / 2**32


def _proposals(space_file: Path, multivariate: bool, n: int = 16) -> list[dict]:
    """The configs a seeded search proposes, asked one at a time as the driver asks them."""
    space = load_space(space_file)
    study = optuna.create_study(direction="maximize")
    configs = []
    for number in range(n):
        study.sampler = _sampler(3, number, multivariate)
        trial = study.ask()
        config = space.suggest(trial, None)
        study.tell(trial, _accuracy(config))
        configs.append(config)
    return configs


@pytest.fixture(scope="module")
def space_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("space") / "toy.toml"
    path.write_text(TOY)
    return path


def test_multivariate_tpe_proposes_otherwise_past_its_startup_and_is_seeded(space_file):
    plain = _proposals(space_file, False)
    joint = _proposals(space_file, True)
    # the first 10 are TPE's random start, the same either way; then the models differ
    assert joint[:10] == plain[:10]
    assert joint[10:] != plain[10:]
    # and a search's proposals still depend on its seed and trial numbers alone
    assert _proposals(space_file, True) == joint


def test_the_multivariate_sampler_warns_nothing(space_file, recwarn):
    _proposals(space_file, True, 12)
    assert not [w for w in recwarn if issubclass(w.category, optuna.exceptions.ExperimentalWarning)]
