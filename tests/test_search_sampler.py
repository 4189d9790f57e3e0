"""`ebnn search --multivariate`: TPE with a joint model per group of parameters, kept with
the search; without it, Optuna's TPE as it comes (what searches made before the option used)."""

import dataclasses
import json
import zlib
from pathlib import Path

import optuna
import pytest

from ebnn.search.space import load_space
from ebnn.search.study import Settings, _sampler, trial_seed

optuna.logging.set_verbosity(optuna.logging.WARNING)

# a space whose later blocks' kinds are drawn: conditional parameters, which only the grouped
# sampler models jointly
SPACE = Path(__file__).resolve().parent.parent / "examples" / "search" / "mnist-15k-cold.toml"
TRIALS = 24


def _accuracy(config: dict) -> float:
    """A made-up validation accuracy, fixed for a config (no training: the sampler is tested)."""
    return zlib.crc32(json.dumps(config, sort_keys=True).encode()) / 2**32


def _proposals(sampler_of, n: int = TRIALS) -> list[dict]:
    """The configs a seeded one-objective search proposes, asked one at a time as the driver
    asks them, ``sampler_of(number)`` proposing trial ``number``."""
    space = load_space(SPACE)
    study = optuna.create_study(direction="maximize")
    configs = []
    for number in range(n):
        study.sampler = sampler_of(number)
        trial = study.ask()
        config = space.suggest(trial, None)
        study.tell(trial, _accuracy(config))
        configs.append(config)
    return configs


@pytest.fixture(scope="module")
def plain() -> list[dict]:
    return _proposals(lambda n: _sampler(3, n))


@pytest.fixture(scope="module")
def grouped() -> list[dict]:
    return _proposals(lambda n: _sampler(3, n, True))


def test_without_the_option_the_sampler_is_optunas_tpe_as_it_comes(plain):
    """Searches made before --multivariate resume with the sampler they began with."""
    assert plain == _proposals(
        lambda n: optuna.samplers.TPESampler(seed=trial_seed(3, n), constant_liar=False))


def test_grouped_tpe_proposes_otherwise_past_its_startup_and_is_seeded(plain, grouped):
    # the first 10 are TPE's random start, the same either way; then the models differ
    assert grouped[:10] == plain[:10]
    assert grouped[10:] != plain[10:]
    # and a search's proposals still depend on its seed and trial numbers alone
    assert _proposals(lambda n: _sampler(3, n, True)) == grouped


def test_the_grouped_sampler_warns_nothing(recwarn):
    _proposals(lambda n: _sampler(3, n, True), 12)
    assert not [w for w in recwarn if issubclass(w.category, optuna.exceptions.ExperimentalWarning)]


def test_the_option_is_kept_with_the_search_and_old_searches_load_without_it(tmp_path):
    settings = Settings(space="", target="curie", sram=2048, flash=65536, max_cycles=None,
                        clock_hz=32_000_000, multivariate=True)
    settings.save(tmp_path)
    assert Settings.load(tmp_path).multivariate is True
    old = dataclasses.asdict(settings)
    del old["multivariate"]  # search.json of a search made before the option
    (tmp_path / "search.json").write_text(json.dumps(old))
    assert Settings.load(tmp_path).multivariate is False


def test_startup_keeps_tpe_random_for_that_many_trials_and_is_seeded(plain):
    """--startup N: the first N proposals are TPE's random ones (the same as the default's first
    10), then TPE models the trials; the default stays Optuna's 10."""
    longer = _proposals(lambda n: _sampler(3, n, startup=16))
    assert longer[:10] == plain[:10]
    assert longer[10:16] != plain[10:16]  # random where the default already models
    random = _proposals(lambda n: optuna.samplers.RandomSampler(seed=trial_seed(3, n)), 16)
    assert longer[:16] == random
    assert _proposals(lambda n: _sampler(3, n, startup=16)) == longer
    assert _proposals(lambda n: _sampler(3, n, startup=10)) == plain


def test_startup_is_kept_with_the_search_and_old_searches_load_without_it(tmp_path):
    settings = Settings(space="", target="curie", sram=2048, flash=65536, max_cycles=None,
                        clock_hz=32_000_000, startup=40)
    settings.save(tmp_path)
    assert Settings.load(tmp_path).startup == 40
    old = dataclasses.asdict(settings)
    del old["startup"]
    (tmp_path / "search.json").write_text(json.dumps(old))
    assert Settings.load(tmp_path).startup == 10  # Optuna's default, what it ran with


def test_a_new_search_keeps_the_startup_it_was_given():
    from ebnn.search.command import _new_settings

    given = {"target": None, "sram": None, "flash": None, "max_ms": None, "epochs": None,
             "dataset": None, "data_path": None, "data_dir": None, "test_dir": None,
             "test_data": None,
             "train_limit": None, "seed": None, "minimize_sram": None, "minimize_cycles": None,
             "batch": 2, "prune": None, "multivariate": None, "stratify": None,
             "stream": None}
    assert _new_settings(SPACE, {**given, "startup": 32}).startup == 32
    assert _new_settings(SPACE, {**given, "startup": None}).startup == 10
