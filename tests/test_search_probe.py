"""The search's probe (ebnn/search/measure.py, step 1): its lower bounds (its figures less the
slacks) are under what the trained model measures, so no candidate that fits is rejected
before training. Checked against every shipped hand-made model (trained weights; conv, conv1d,
padding, pools) and a model with hidden linear layers trained here for one epoch:
its config's probe against its artifact's firmware on the same target, on a few images."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from ebnn.artifact import Artifact
from ebnn.artifact import load as load_artifact
from ebnn.config import load_config, parse_config
from ebnn.export import export_checkpoint
from ebnn.search.datasets import load_search_data
from ebnn.search.measure import (
    PROBE_CYCLE_SLACK,
    PROBE_FLASH_SLACK,
    PROBE_SRAM_SLACK,
    Budget,
    Firmware,
    Task,
    _probe_artifact,
    measure_firmware,
    over_budget,
    probe_lower_bounds,
    probe_task,
)
from ebnn.train import load_checkpoint, train

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HANDMADE = sorted(p.parent.name for p in EXAMPLES.glob("*/*.ebnn"))
CURIE = Budget("curie", 80 * 1024, 200_704, None, 32_000_000)
CURIE_STREAM = Budget("curie", 80 * 1024, 200_704, None, 32_000_000, stream=True)


def measure(art: Artifact, tmp_path: Path, name: str, images: int = 1,
            budget: Budget = CURIE) -> Firmware:
    """``art``'s firmware on ``images`` images: a blank one, then seeded random pixels."""
    batch = np.random.default_rng(0).integers(0, 256, (images, *art.input_shape), np.uint8)
    batch[0] = 0
    fw, _ = measure_firmware(art, tmp_path / f"{name}.elf", budget, batch,
                             link_to_budget=False)
    return fw


def assert_bounded(bound: Firmware, real: Firmware) -> None:
    """The probe's lower bounds are under what the trained model measured."""
    assert bound.cycles <= real.cycles_min
    assert bound.flash <= real.flash
    assert bound.sram_peak <= real.sram_peak


def test_every_hand_made_model_is_checked():
    assert len(HANDMADE) >= 7 and {"mnist", "basicmotions", "mnist1d"} <= set(HANDMADE)


@pytest.mark.parametrize("budget", [CURIE, CURIE_STREAM], ids=["whole", "stream"])
@pytest.mark.parametrize("name", HANDMADE)
def test_the_probe_bounds_the_trained_model_from_below(name, budget, tmp_path):
    """Built whole and streamed (`ebnn search --stream`): the stream's first layer runs the
    same straight-line window code a row at a time."""
    spec = load_config(EXAMPLES / name / f"{name}.toml")
    trained = load_artifact(EXAMPLES / name / f"{name}.ebnn")
    probe = measure(_probe_artifact(spec, np.zeros(trained.input_shape, np.uint8)), tmp_path,
                    "probe", budget=budget)
    real = measure(trained, tmp_path, "trained", images=4, budget=budget)
    assert_bounded(probe_lower_bounds(probe), real)
    # the probe itself, without the slacks, already is under these models' figures but SRAM
    assert probe.cycles <= real.cycles_min and probe.flash <= real.flash
    print(f"{name} {'stream' if budget.stream else 'whole'}: probe/trained cycles "
          f"{probe.cycles / real.cycles_min:.3f}, SRAM {probe.sram_peak - real.sram_peak:+d} B, "
          f"flash {probe.flash - real.flash:+d} B")


def test_the_lower_bounds_are_the_probe_less_its_slacks():
    bound = probe_lower_bounds(Firmware(1000, 4000, 100_000, 100_000.0, 100_000, 200))
    assert (bound.sram_peak, bound.flash, bound.cycles) == (
        1000 - PROBE_SRAM_SLACK, 4000 - PROBE_FLASH_SLACK,
        int(100_000 * (1 - PROBE_CYCLE_SLACK)))


def test_a_model_within_its_own_cycles_passes_the_probe(tmp_path):
    """The hand-made mnist model with its own measured cycles as the budget is not rejected
    before training (a probe with random first-layer weights needed 2% more cycles than the
    trained model and rejected it); one cycle under the probe's bound is."""
    spec = load_config(EXAMPLES / "mnist" / "mnist.toml")
    real = measure(load_artifact(EXAMPLES / "mnist" / "mnist.ebnn"), tmp_path, "trained")
    data = load_search_data(None, None, spec.train.val_fraction, spec.train.seed)
    config = tomllib.loads((EXAMPLES / "mnist" / "mnist.toml").read_text())
    fits = probe_task(Task(0, config, Budget("curie", real.sram_peak, real.flash, real.cycles,
                                             32_000_000)), data)
    assert fits.status == "ok", fits.reason
    assert fits.probe is not None and fits.probe.cycles <= real.cycles
    bound = probe_lower_bounds(fits.probe).cycles
    tight = probe_task(Task(0, config, Budget("curie", real.sram_peak, real.flash, bound - 1,
                                              32_000_000)), data)
    assert tight.status == "rejected"
    assert tight.reason == f"before training: at least {bound:,} cycles > {bound - 1:,}"


@pytest.mark.parametrize(("sram", "flash", "cycles", "why"), [
    (1000 + PROBE_SRAM_SLACK, 4000 + PROBE_FLASH_SLACK, 9000, None),
    (1001 + PROBE_SRAM_SLACK, 4000, 9000, "SRAM at least 1,001 B > 1,000 B"),
    (1000, 4001 + PROBE_FLASH_SLACK, 9000, "flash at least 4,001 B > 4,000 B"),
    (1000, 4000, 10_000, "at least 9,800 cycles > 9,000"),
])
def test_a_probe_is_over_the_budget_only_beyond_its_bounds(sram, flash, cycles, why):
    budget = Budget("curie", 1000, 4000, 9000, 32_000_000)
    assert PROBE_CYCLE_SLACK == 0.02  # the 9,800 above
    assert over_budget(Firmware(sram, flash, cycles, cycles, cycles), budget, probe=True) == why


def test_a_trained_model_is_over_the_budget_by_one_byte():
    budget = Budget("curie", 1000, 4000, 9000, 32_000_000)
    assert over_budget(Firmware(1001, 4000, 9000, 9000, 9000), budget, probe=False) == (
        "SRAM 1,001 B > 1,000 B")
    assert over_budget(Firmware(1000, 4000, 9000, 9000, 9000), budget, probe=False) is None


def test_a_probe_tells_the_sampler_its_sram_as_a_lower_bound(tmp_path):
    """A candidate rejected before training for its cycles whose probe SRAM is within the
    slack over the budget is told as over the cycles only (its SRAM may fit)."""
    from ebnn.search.measure import Outcome
    from ebnn.search.study import Driver, Settings, open_study

    settings = Settings(space="", target="curie", sram=1000, flash=65536, max_cycles=9000,
                        clock_hz=32_000_000, minimize_sram=False, minimize_cycles=False)
    study = open_study(tmp_path, settings, create=True)
    driver = Driver(tmp_path, settings, None, study, None, None)  # type: ignore[arg-type]
    probe = Firmware(1000 + PROBE_SRAM_SLACK, 4000, 10_000, 10_000.0, 10_000)
    rejected = Outcome(0, "rejected", "before training: at least 9,800 cycles > 9,000",
                       probe=probe)
    _, constraints = driver._values(rejected)
    assert constraints["sram"] == 0 and constraints["cycles"] == 800
    trained = Outcome(1, "rejected", "after training: SRAM 1,016 B > 1,000 B", probe=probe,
                      final=Firmware(1000 + PROBE_SRAM_SLACK, 4000, 8000, 8000.0, 8000),
                      trained=True)
    _, constraints = driver._values(trained)
    assert constraints["sram"] == PROBE_SRAM_SLACK and constraints["cycles"] < 0


def test_the_probe_bounds_a_trained_model_with_hidden_linear_layers(tmp_path):
    """No hand-made model has a hidden linear layer (its kernel tests each unit's direction)."""
    config = {"model": {"name": "lin", "input": [28, 28, 1], "classes": 10,
                        "layers": [{"type": "conv", "filters": 4, "kernel": 3, "stride": 2},
                                   {"type": "linear", "units": 64},
                                   {"type": "linear", "units": 32}]},
              "train": {"epochs": 1, "seed": 0, "val_fraction": 0.1}}
    spec = parse_config(config, "lin")
    data = load_search_data(None, None, 0.1, 0)
    train(spec, data.subset(300).train, data.val, tmp_path / "lin.pt")
    trained = export_checkpoint(load_checkpoint(tmp_path / "lin.pt"))
    for layer in trained.layers[1:3]:  # directions a longer training gives: +1, -1 and 0
        assert layer.kind == "linear" and layer.direction is not None
        layer.direction[1::3] = -1
        layer.direction[2::3] = 0
    bound = probe_lower_bounds(measure(_probe_artifact(spec, data.val.images[0]), tmp_path,
                                       "probe"))
    assert_bounded(bound, measure(trained, tmp_path, "trained", images=4))
