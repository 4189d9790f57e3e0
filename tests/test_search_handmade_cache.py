"""A hand-edited handmade.json in a search folder (``ebnn search --report DIR``): measured
again, never a traceback."""

import json

import pytest

import ebnn.search.handmade as handmade


@pytest.mark.parametrize("cache", ["[1]", "[null]", '[{"test_accuracy": "x"}]',
                                   '[{"test_accuracy": 0.5}]'])
def test_a_damaged_cache_is_measured_again(tmp_path, monkeypatch, cache):
    (tmp_path / handmade.CACHE).write_text(cache)
    monkeypatch.setattr(handmade, "EXAMPLES", tmp_path / "no-examples")  # nothing to measure
    assert handmade.measure_handmade(tmp_path, None, None, 0, 0.1) == []
    assert json.loads((tmp_path / handmade.CACHE).read_text()) == []


def test_a_sound_cache_is_kept(tmp_path, monkeypatch):
    record = {"name": "m", "ebnn": "m.ebnn", "val_accuracy": 0.9, "test_accuracy": None,
              "sram_peak": 1000, "flash": 3000, "cycles": 100, "cycles_median": 100.0,
              "ms": 0.1}
    (tmp_path / handmade.CACHE).write_text(json.dumps([record]))
    monkeypatch.setattr(handmade, "EXAMPLES", tmp_path / "no-examples")
    assert handmade.measure_handmade(tmp_path, None, None, 0, 0.1) == [record]
