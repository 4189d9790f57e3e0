"""The hand-made models shipped in ``examples/``, measured exactly as a search measures its
candidates (same target, same validation images), for the report and the plot.

A model counts when it was trained on the search's data with the same validation split (its
config's ``seed`` and ``val_fraction``), so none of the validation images was in its training
set. The measurements are kept in ``DIR/handmade.json``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ebnn.search.datasets import SearchData
from ebnn.search.study import Settings, unlinked

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CACHE = "handmade.json"


def comparable(art: Any, settings: Settings, data: SearchData, seed: int,
               val_fraction: float) -> bool:
    train = (art.metadata.get("config") or {}).get("train", {})
    return (tuple(art.input_shape) == data.train.image_shape
            and art.classes == data.train.classes
            and art.metadata.get("dataset") == data.name
            and train.get("seed", 0) == seed and train.get("val_fraction", 0.1) == val_fraction)


_NUMBERS = ("val_accuracy", "sram_peak", "flash", "cycles", "ms")


def _sound(h: object) -> bool:
    """Whether a cached record has what the report reads, of the types measure_handmade
    writes (a hand-edited handmade.json is measured again, never a traceback)."""
    def number(v: object) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    return (isinstance(h, dict) and isinstance(h.get("name"), str)
            and isinstance(h.get("ebnn"), str) and all(number(h.get(k)) for k in _NUMBERS)
            and (h.get("test_accuracy") is None or number(h["test_accuracy"]))
            and (h.get("cycles_median") is None or number(h["cycles_median"]))
            and "test_accuracy" in h)


def measure_handmade(directory: Path, settings: Settings, data: SearchData, seed: int,
                     val_fraction: float) -> list[dict[str, Any]]:
    """Measure (or read from the cache) every comparable example model."""
    cache = directory / CACHE
    if cache.is_file() and cache.stat().st_size <= 1 << 20:  # (a few KB: larger is not ours)
        try:
            cached = json.loads(cache.read_text())
            if isinstance(cached, list) and all(_sound(h) for h in cached):
                return cached
        except (ValueError, OSError):  # (a damaged cache is measured again)
            pass
    from ebnn.artifact import ArtifactError, load
    from ebnn.search.measure import MeasureError, measure_firmware

    found = []
    for path in sorted(EXAMPLES.glob("*/*.ebnn")) if EXAMPLES.is_dir() else []:
        try:
            art = load(path)
        except ArtifactError:
            continue
        if not comparable(art, settings, data, seed, val_fraction):
            continue
        with tempfile.TemporaryDirectory(prefix="ebnn-search-ref-") as tmp:
            try:
                fw, classes = measure_firmware(art, Path(tmp) / "model.elf", settings.budget,
                                               data.val.images, link_to_budget=False)
            except MeasureError:
                continue
        test = None
        if data.test is not None:
            from ebnn import reference

            test = float(np.mean(reference.run(art, data.test.images).classes
                                 == data.test.labels))
        found.append({"name": art.name, "ebnn": str(path),
                      "val_accuracy": float(np.mean(classes == data.val.labels)),
                      "test_accuracy": test,
                      "sram_peak": fw.sram_peak, "flash": fw.flash, "cycles": fw.cycles,
                      "cycles_median": fw.cycles_median,
                      "ms": settings.budget.ms(fw.cycles)})
    unlinked(cache).write_text(json.dumps(found, indent=2) + "\n")
    return found
