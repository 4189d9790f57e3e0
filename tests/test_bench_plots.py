"""The results page's plots as a person sees them (issue 16): no legend over the data, every
axis labelled, the paper's budget drawn as a budget, not as a measured point."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from matplotlib.transforms import Bbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common, report  # noqa: E402


@pytest.fixture()
def drawn(monkeypatch, tmp_path) -> dict[str, Any]:
    """Each plot's figure, laid out as saved (drawn to a file, kept open for inspection)."""
    figs: dict[str, Any] = {}

    def keep(fig: Any, path: Path) -> Path:
        fig.savefig(tmp_path / path.name, bbox_inches="tight")
        figs[path.stem] = fig
        return path

    monkeypatch.setattr(report, "_save", keep)
    res = report.load_results(common.RESULTS, quick=False)
    assert report.plot_pareto(res, tmp_path / "pareto.png")
    assert report.plot_cores(res, tmp_path / "cores.png")
    yield figs
    for fig in figs.values():
        report._plt().close(fig)


def _legends(fig: Any) -> list[Any]:
    return list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]


def test_legends_cover_no_data(drawn):
    for name, fig in drawn.items():
        renderer = fig.canvas.get_renderer()
        boxes = [leg.get_window_extent(renderer) for leg in _legends(fig)]
        assert boxes, name
        for ax in fig.axes:
            artists = list(ax.patches) + list(ax.collections) + list(ax.texts)
            for artist in artists:
                if not artist.get_visible():
                    continue
                # what is drawn of it: clipped to the axes (a log-scale bar starts far below)
                extent = Bbox.intersection(artist.get_window_extent(renderer),
                                           ax.get_window_extent(renderer))
                if extent is None or extent.width <= 0 or extent.height <= 0:
                    continue
                for box in boxes:
                    assert not box.overlaps(extent), f"{name}: legend covers {artist}"


def test_axes_are_labelled(drawn):
    for name, fig in drawn.items():
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                assert ax.get_ylabel(), f"{name}: colour bar without a unit"
                continue
            assert ax.get_title() or ax.get_xlabel(), name
        assert any(ax.get_ylabel() or ax.get_title() for ax in fig.axes), name


def test_paper_budget_is_a_line_not_a_measured_point(drawn):
    ax = drawn["pareto"].axes[0]
    xs = [float(line.get_xdata()[0]) for line in ax.get_lines()
          if "budget" in line.get_label()]
    assert report.PAPER["memory_bytes"] in xs
    for coll in ax.collections:  # the measured points: none at the paper's budget
        for x, _ in coll.get_offsets():
            assert x != report.PAPER["memory_bytes"]
