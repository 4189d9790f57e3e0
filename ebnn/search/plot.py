"""The search's plot: accuracy against peak SRAM.

Measured points are filled: every trained candidate that fits (grey), the Pareto set (coloured
by milliseconds per inference at the target's clock) and the hand-made models measured the same
way (black stars). Quoted anchors, whose memory is a bound the authors state rather than a peak
anyone measured, are hollow left-pointing triangles at that bound ("at most this much"); the
search's own SRAM budget is a dashed vertical line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ebnn.search.study import Settings, fitted

# (label, accuracy, memory bound in bytes, what the memory is); QUOTED from ../shared/facts.md,
# not measured here. Test-set accuracies of models trained on MNIST's full 60,000 images.
MNIST_ANCHORS = (
    ("SpArSe (quoted)", 0.9864, 2000, "< 2 KB RAM"),
    ("eBNN paper (quoted)", 0.95, 15 * 1000, "15 KB usable memory"),
)


def anchors_for(settings: Settings) -> tuple[tuple[str, float, int, str], ...]:
    """The quoted anchors a search's plot shows: MNIST's for a search on MNIST (the bundled
    images, --dataset mnist, or MNIST's own files with --data-dir), none for other data
    (--data, another --dataset), whose accuracies they are not comparable with."""
    mnist = settings.dataset == "mnist" or (settings.dataset is None
                                            and settings.data_path is None)
    return MNIST_ANCHORS if mnist else ()


def plot_search(path: Path, settings: Settings, records: list[dict[str, Any]],
                entries: list[dict[str, Any]], reference: list[dict[str, Any]]) -> None:
    import logging

    import matplotlib

    # the log axis's tick labels ask for a math font this machine may lack: matplotlib falls
    # back to DejaVu and said so some 20 times among the search's progress lines
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    fits = fitted(records)
    ax.scatter([r["final"]["sram_peak"] for r in fits],
               [100 * r["val_accuracy"] for r in fits], s=12, c="0.7",
               label=f"trained candidates that fit ({len(fits)})", zorder=2)
    if entries:
        points = ax.scatter([e["sram_peak"] for e in entries],
                            [100 * e["val_accuracy"] for e in entries],
                            c=[e["ms"] for e in entries], cmap="viridis", s=40,
                            edgecolors="black", linewidths=0.5, zorder=4,
                            label=f"Pareto set ({len(entries)})")
        fig.colorbar(points, ax=ax, label="ms per inference (worst over validation)")
        cv = [e for e in entries if e.get("cv_accuracy") is not None]
        if cv:  # --cv: where each one's folds put it, below or above its validation score
            ax.scatter([e["sram_peak"] for e in cv], [100 * e["cv_accuracy"] for e in cv],
                       marker="D", s=30, facecolors="none", edgecolors="tab:blue", zorder=4,
                       label=f"cross-validated accuracy of those (--cv, {len(cv)})")
            for e in cv:
                ax.plot([e["sram_peak"]] * 2, [100 * e["val_accuracy"], 100 * e["cv_accuracy"]],
                        color="tab:blue", linewidth=0.8, zorder=3)
    for i, h in enumerate(reference):
        ax.scatter([h["sram_peak"]], [100 * h["val_accuracy"]], marker="*", s=140, c="black",
                   zorder=5, label="hand-made models, measured the same way" if i == 0 else None)
        ax.annotate(f"{h['name']} (hand-made)", (h["sram_peak"], 100 * h["val_accuracy"]),
                    textcoords="offset points", xytext=(6, -10), fontsize=8)
    anchors = anchors_for(settings)
    for i, (label, acc, bound, what) in enumerate(anchors):
        ax.scatter([bound], [100 * acc], marker="<", s=70, facecolors="none",
                   edgecolors="tab:red", zorder=5,
                   label="quoted, at the memory bound stated (not measured)" if i == 0 else None)
        ax.annotate(f"{label}: {100 * acc:.2f}% test, {what}", (bound, 100 * acc),
                    textcoords="offset points", xytext=(-6, 6), ha="right", fontsize=8,
                    color="tab:red")
    ax.axvline(settings.sram, color="tab:red", linestyle="--", linewidth=1,
               label=f"SRAM budget {settings.sram:,} B")
    ax.set_xscale("log")
    ax.set_xlabel("peak SRAM, static + stack (bytes, measured in the simulator)")
    ax.set_ylabel("accuracy (%): validation or cv (measured)"
                  + (", test (quoted)" if anchors else ""))
    ax.set_title(f"ebnn search on {settings.target}: accuracy vs SRAM")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
