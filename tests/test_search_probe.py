"""The search's probe (ebnn/search/measure.py, step 1): what it measures before training is a
lower bound of what the trained model measures, so no candidate that fits is rejected before
training. Checked against every shipped hand-made model (trained weights, every geometry the
examples have: conv, conv1d, linear, padding, pools): its config's probe against its
artifact's firmware on the same target."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from ebnn.artifact import load as load_artifact
from ebnn.config import load_config
from ebnn.search.datasets import load_search_data
from ebnn.search.measure import (
    PROBE_SRAM_SLACK,
    Budget,
    Firmware,
    Task,
    _probe_artifact,
    measure_firmware,
    over_budget,
    probe_task,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HANDMADE = sorted(p.parent.name for p in EXAMPLES.glob("*/*.ebnn"))
CURIE = Budget("curie", 80 * 1024, 200_704, None, 32_000_000)


def measure(art, tmp_path: Path, name: str) -> Firmware:
    image = np.zeros((1, *art.input_shape), np.uint8)
    fw, _ = measure_firmware(art, tmp_path / f"{name}.elf", CURIE, image, link_to_budget=False)
    return fw


@pytest.mark.parametrize("name", HANDMADE)
def test_the_probe_is_a_lower_bound_of_the_trained_model(name, tmp_path):
    assert len(HANDMADE) >= 6
    spec = load_config(EXAMPLES / name / f"{name}.toml")
    trained = load_artifact(EXAMPLES / name / f"{name}.ebnn")
    probe = measure(_probe_artifact(spec, np.zeros(trained.input_shape, np.uint8)), tmp_path,
                    "probe")
    real = measure(trained, tmp_path, "trained")
    assert probe.cycles <= real.cycles_min
    assert probe.flash <= real.flash
    assert probe.sram_peak - PROBE_SRAM_SLACK <= real.sram_peak
    print(f"{name}: probe/trained cycles {probe.cycles / real.cycles:.3f}, SRAM "
          f"{probe.sram_peak - real.sram_peak:+d} B, flash {probe.flash - real.flash:+d} B")


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
    tight = probe_task(Task(0, config, Budget("curie", real.sram_peak, real.flash,
                                              fits.probe.cycles - 1, 32_000_000)), data)
    assert tight.status == "rejected"
    assert tight.reason == (f"before training: at least {fits.probe.cycles:,} cycles > "
                            f"{fits.probe.cycles - 1:,}")


@pytest.mark.parametrize(("sram", "flash", "cycles", "why"), [
    (1000 + PROBE_SRAM_SLACK, 4000, 9000, None),
    (1001 + PROBE_SRAM_SLACK, 4000, 9000, "SRAM at least 1,001 B > 1,000 B"),
    (1000, 4001, 9001, "flash at least 4,001 B > 4,000 B; at least 9,001 cycles > 9,000"),
])
def test_a_probe_is_over_the_budget_only_beyond_its_bounds(sram, flash, cycles, why):
    budget = Budget("curie", 1000, 4000, 9000, 32_000_000)
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
    probe = Firmware(1000 + PROBE_SRAM_SLACK, 4000, 9001, 9001.0, 9001)
    rejected = Outcome(0, "rejected", "before training: at least 9,001 cycles > 9,000",
                       probe=probe)
    _, constraints = driver._values(rejected)
    assert constraints["sram"] == 0 and constraints["cycles"] == 1
    trained = Outcome(1, "rejected", "after training: SRAM 1,016 B > 1,000 B", probe=probe,
                      final=Firmware(1000 + PROBE_SRAM_SLACK, 4000, 8000, 8000.0, 8000),
                      trained=True)
    _, constraints = driver._values(trained)
    assert constraints["sram"] == PROBE_SRAM_SLACK and constraints["cycles"] < 0
