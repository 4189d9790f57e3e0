"""What a search leaves in DIR, re-made from the study alone (``ebnn search --report DIR``):

* ``pareto.json``: the Pareto set of the feasible trained candidates (validation accuracy ↑,
  cycles ↓ and, unless turned off, SRAM ↓), each with its config, files and measurements;
* ``pareto.md``: the same as a Markdown table, with the search's totals;
* ``pareto.png``: accuracy vs peak SRAM, coloured by milliseconds per inference
  (:mod:`ebnn.search.plot`);
* ``pareto/NAME.{toml,pt,ebnn,elf}``: each Pareto model (copied from ``trials/NNNNN/``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebnn.search.study import TRIALS_DIR, Settings

PARETO_DIR = "pareto"
SUFFIXES = ("toml", "pt", "ebnn", "elf")


@dataclass(frozen=True)
class Summary:
    trials: int
    trained: int
    rejected: int  # over a budget (before or after training) or not a model
    rejected_before_training: int
    failed: int
    running: int  # left unfinished (interrupted)
    seconds: float  # time with at least one trial running (ask to tell)


def load_records(study: Any) -> tuple[list[dict[str, Any]], Summary]:
    """Every finished trial's outcome record (with ``number``), and the totals."""
    import optuna

    state = optuna.trial.TrialState
    records, running, starts, ends = [], 0, [], []
    for t in study.get_trials(deepcopy=False):
        if t.state == state.RUNNING:
            running += 1
            continue
        if t.datetime_start is not None and t.datetime_complete is not None:
            starts.append(t.datetime_start)
            ends.append(t.datetime_complete)
        record = t.user_attrs.get("outcome")
        if record is not None:
            records.append({**record, "number": t.number, "state": t.state.name,
                            "same_as": t.user_attrs.get("same_as")})
    seconds = busy_seconds([(a.timestamp(), b.timestamp()) for a, b in zip(starts, ends,
                                                                            strict=True)])
    summary = Summary(
        trials=len(records) + running,
        trained=sum(1 for r in records if r["trained"] and r["same_as"] is None),
        rejected=sum(1 for r in records if r["status"] in ("rejected", "invalid")),
        rejected_before_training=sum(1 for r in records if r["status"] in ("rejected", "invalid")
                                     and not r["trained"]),
        failed=sum(1 for r in records if r["status"] == "failed"),
        running=running, seconds=seconds)
    return records, summary


def busy_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one trial: a search resumed days later is not charged for
    the days between its runs."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def _objectives(r: dict[str, Any], with_sram: bool) -> tuple[float, ...]:
    """All to minimise."""
    final = r["final"]
    values = (-r["val_accuracy"], float(final["cycles"]))
    return (*values, float(final["sram_peak"])) if with_sram else values


def pareto(records: list[dict[str, Any]], with_sram: bool) -> list[dict[str, Any]]:
    """The non-dominated feasible trained candidates (one per distinct measurement, the
    earliest trial), most accurate first."""
    ok = [r for r in records if r["status"] == "ok" and r["same_as"] is None
          and r["final"] is not None and r["val_accuracy"] is not None]
    values = {r["number"]: _objectives(r, with_sram) for r in ok}
    front = [r for r in ok
             if not any(_dominates(values[o["number"]], values[r["number"]])
                        or (values[o["number"]] == values[r["number"]]
                            and o["number"] < r["number"]) for o in ok)]
    return sorted(front, key=lambda r: (-r["val_accuracy"], r["final"]["cycles"]))


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def model_name(settings: Settings, r: dict[str, Any]) -> str:
    return f"{r['config']['model']['name']}-t{r['number']:05d}"


def entry(directory: Path, settings: Settings, r: dict[str, Any]) -> dict[str, Any]:
    """One model of pareto.json."""
    final, probe = r["final"], r["probe"]
    name = model_name(settings, r)
    files = {s: f"{PARETO_DIR}/{name}.{s}" for s in SUFFIXES}
    return {
        "name": name, "trial": r["number"], "config": r["config"],
        "toml": files["toml"], "pt": files["pt"], "ebnn": files["ebnn"], "elf": files["elf"],
        "val_accuracy": r["val_accuracy"], "test_accuracy": r["test_accuracy"],
        "torch_val_accuracy": r["torch_val_accuracy"],
        "sram_peak": final["sram_peak"], "stack_peak": final["stack_peak"],
        "flash": final["flash"], "cycles": final["cycles"],
        "cycles_median": final["cycles_median"],
        "ms": settings.budget.ms(final["cycles"]),
        "probe": {"sram_peak": probe["sram_peak"], "flash": probe["flash"],
                  "cycles_lower_bound": probe["cycles"]},
        "seconds": r["seconds"],
    }


def copy_models(directory: Path, settings: Settings, front: list[dict[str, Any]]) -> None:
    out = directory / PARETO_DIR
    if out.is_dir():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for r in front:
        src = directory / TRIALS_DIR / f"{r['number']:05d}"
        name = model_name(settings, r)
        for suffix in SUFFIXES:
            shutil.copyfile(src / f"model.{suffix}", out / f"{name}.{suffix}")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def markdown(settings: Settings, entries: list[dict[str, Any]], summary: Summary,
             reference: list[dict[str, Any]]) -> str:
    b = settings.budget
    cyc = ("no latency budget" if b.max_cycles is None
           else f"≤ {b.max_cycles:,} cycles ({b.ms(b.max_cycles):g} ms)")
    lines = [
        f"# Search on {settings.target}: SRAM ≤ {b.sram:,} B, flash ≤ {b.flash:,} B, {cyc}",
        "",
        *([f"Started from {', '.join(f'`{p}`' for p in settings.start)} (asked first).", ""]
          if settings.start else []),
        f"{summary.trials} trials: {summary.trained} trained, {summary.rejected} rejected "
        f"({summary.rejected_before_training} before training), {summary.failed} failed"
        + (f", {summary.running} unfinished" if summary.running else "")
        + f"; {summary.seconds / 60:.1f} min with trials running.",
        "",
        "Accuracy on the validation images is the firmware's (run in the simulator); test "
        "accuracy, where there is a test split, is only reported. Cycles: worst over the "
        "validation images (median in brackets); ms at the target's clock.",
        "",
        "| model | val accuracy | test accuracy | peak SRAM (B) | flash (B) | cycles | ms "
        "| layers |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for e in entries:
        lines.append(
            f"| {e['name']} | {_pct(e['val_accuracy'])} | {_pct(e['test_accuracy'])} | "
            f"{e['sram_peak']:,} | {e['flash']:,} | {e['cycles']:,} "
            f"({e['cycles_median']:,.0f}) | {e['ms']:.2f} | {layers_text(e['config'])} |")
    if reference:
        lines += ["", "Hand-made models, measured the same way (same validation images):", "",
                  "| model | val accuracy | test accuracy | peak SRAM (B) | flash (B) | cycles "
                  "| ms |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for h in reference:
            lines.append(f"| {h['name']} | {_pct(h['val_accuracy'])} | "
                         f"{_pct(h.get('test_accuracy'))} | {h['sram_peak']:,} | "
                         f"{h['flash']:,} | {h['cycles']:,} | {h['ms']:.2f} |")
    return "\n".join(lines) + "\n"


def layers_text(config: dict[str, Any]) -> str:
    parts = []
    for layer in config["model"]["layers"]:
        if layer["type"] == "conv":
            k = layer.get("kernel", 3)
            k = f"{k[0]}x{k[1]}" if isinstance(k, list) else f"{k}x{k}"
            text = f"conv {layer['filters']} {k}"
            if layer.get("stride", 1) != 1:
                text += f"/{layer['stride']}"
            if layer.get("padding", 0):
                text += f" p{layer['padding']}"
            if layer.get("pool", 1) != 1:
                text += f" pool {layer['pool']}"
            parts.append(text)
        else:
            parts.append(f"{layer['type']} {layer.get('units', '')}".strip())
    return ", ".join(parts)


def write_report(directory: Path, settings: Settings, study: Any,
                 reference: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Summary]:
    """Write pareto.json, pareto.md, pareto.png and pareto/; returns the entries."""
    from ebnn.search.plot import plot_search

    records, summary = load_records(study)
    front = pareto(records, settings.minimize_sram)
    copy_models(directory, settings, front)
    entries = [entry(directory, settings, r) for r in front]
    (directory / "pareto.json").write_text(json.dumps(entries, indent=2) + "\n")
    (directory / "pareto.md").write_text(markdown(settings, entries, summary, reference))
    plot_search(directory / "pareto.png", settings, records, entries, reference)
    return entries, summary
