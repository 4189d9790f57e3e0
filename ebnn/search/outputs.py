"""What a search leaves in DIR, re-made from the study alone (``ebnn search --report DIR``):

* ``pareto.json``: the Pareto set of the feasible trained candidates (accuracy ↑ and, unless
  turned off, cycles ↓ and SRAM ↓), each with its config, files and measurements. Two candidates'
  accuracies are compared cross-validated when ``--cv`` measured both
  (:mod:`ebnn.search.crossval`), else on validation;
* ``pareto.md``: the same as a Markdown table, with the search's totals;
* ``pareto.png``: accuracy vs peak SRAM, coloured by milliseconds per inference
  (:mod:`ebnn.search.plot`);
* ``pareto/NAME.{toml,pt,ebnn,elf}``: each Pareto model (copied from ``trials/NNNNN/``; the
  user's own files there are left alone, :func:`copy_models`);
  with ``--refit``, ``pareto/NAME-refit.*`` too: its config trained on every labelled image
  (:mod:`ebnn.search.refit`, copied from ``refits/NNNNN/``), an entry's ``refit``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebnn.search import crossval, refit
from ebnn.search.study import TRIALS_DIR, SearchError, Settings, fitted, unlinked

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
    seconds: float  # time with at least one trial (ask to tell), fold or refit running
    cv_k: int = 0  # the last --cv run's K (0: none) and folds; its shortlist (recomputed from
    folds: int = 0  # the trials held now: at most K) and how many of it have every fold done
    cv_listed: int = 0
    cross_validated: int = 0
    cv_race: bool = False  # the last --cv run raced (--cv-race)
    cv_finished: bool = True  # every fold it runs has run
    pruned: int = 0  # stopped early by --prune
    copies: int = 0  # a config trained before proposed again: its outcome copied (same_as)

    def line(self) -> str:
        """``N trials: a trained, b rejected (c before training), d failed[, e pruned][, f
        copies of earlier trials][, g unfinished]`` (an interrupt leaves trials unfinished:
        --resume runs them first)."""
        copies = ("" if not self.copies else ", 1 copy of an earlier trial" if self.copies == 1
                  else f", {self.copies} copies of earlier trials")
        return (f"{self.trials} trial{'' if self.trials == 1 else 's'}: {self.trained} trained, "
                f"{self.rejected} rejected "
                f"({self.rejected_before_training} before training), {self.failed} failed"
                + (f", {self.pruned} pruned" if self.pruned else "") + copies
                + (f", {self.running} unfinished" if self.running else ""))


def load_records(study: Any) -> tuple[list[dict[str, Any]], Summary]:
    """Every finished trial's outcome record (with ``number`` and its cross-validation:
    ``cv_accuracy``, ``cv_folds``), and the totals."""
    import optuna

    state = optuna.trial.TrialState
    records, running, starts, ends = [], 0, [], []
    attrs = study.user_attrs
    for t in study.get_trials(deepcopy=False):
        if t.state == state.RUNNING:
            running += 1
            continue
        if t.datetime_start is not None and t.datetime_complete is not None:
            starts.append(t.datetime_start)
            ends.append(t.datetime_complete)
        record = t.user_attrs.get("outcome")  # its shape checked as the study was opened
        if record is not None:
            records.append({**record, "number": t.number, "state": t.state.name,
                            "same_as": t.user_attrs.get("same_as")})
    cv = crossval.attach(attrs, records)
    seconds = busy_seconds([(a.timestamp(), b.timestamp()) for a, b in zip(starts, ends,
                                                                            strict=True)]
                           + crossval.intervals(attrs) + refit.intervals(attrs))
    summary = Summary(
        trials=len(records) + running,
        trained=sum(1 for r in records if r["trained"] and r["same_as"] is None),
        rejected=sum(1 for r in records if r["status"] in ("rejected", "invalid")),
        rejected_before_training=sum(1 for r in records if r["status"] in ("rejected", "invalid")
                                     and not r["trained"]),
        failed=sum(1 for r in records if r["status"] == "failed"),
        pruned=sum(1 for r in records if r["status"] == "pruned"),
        # the copies not counted above: of a trained candidate's outcome within the budget
        copies=sum(1 for r in records if r["same_as"] is not None and r["trained"]
                   and r["status"] == "ok"),
        running=running, seconds=seconds,
        cv_k=cv.k, folds=cv.folds, cv_listed=cv.listed, cross_validated=cv.complete,
        cv_race=cv.race, cv_finished=cv.finished)
    return records, summary


def common_reasons(records: list[dict[str, Any]], n: int) -> list[str]:
    """The ``n`` most common reasons candidates were rejected, invalid or failed, as
    ``"5 x REASON"``: reasons that differ only in their figures (bytes over the budget, a
    kernel's size) count together, shown by the first of them."""
    groups: dict[str, list[str]] = {}
    for r in records:
        if r["status"] == "ok" or not r.get("reason"):
            continue
        # records written before the trial's name was left out of its reason begin with it
        why = re.sub(r"^trial \d+: ", "", str(r["reason"]))[:200]
        groups.setdefault(re.sub(r"\d[\d,.]*", "#", why), []).append(why)
    top = sorted(groups.values(), key=len, reverse=True)[:n]
    return [f"{len(g)} x {g[0]}" + (" (figures differ)" if len(set(g)) > 1 else "")
            for g in top]


def busy_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one trial, fold or refit: a search resumed days later is
    not charged for the days between its runs."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def accuracy(r: dict[str, Any]) -> float:
    """A candidate's best accuracy estimate: cross-validated when it has one, else validation."""
    cv = r.get("cv_accuracy")
    return float(r["val_accuracy"] if cv is None else cv)


def rank(r: dict[str, Any]) -> tuple[int, float]:
    """Sort key, most accurate first. Cross-validated candidates (the shortlist of ``--cv``:
    the best on validation) come first, by their cross-validated accuracy; the others follow by
    validation accuracy. A candidate's 500-image validation score is never set against another's
    cross-validated one: the first is biased up at the top of a search (the best of many noisy
    scores), the second much less (and, trained on (F-1)/F of the images, slightly down)."""
    return (0 if r.get("cv_accuracy") is not None else 1, -accuracy(r))


def _objectives(a: dict[str, Any], b: dict[str, Any], with_sram: bool,
                with_cycles: bool = True) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The values of ``a`` and ``b``, all to minimise; their accuracies compared on the same
    measure (:func:`compared`)."""
    acc = compared(a, b)

    def values(r: dict[str, Any], accuracy: float) -> tuple[float, ...]:
        final = r["final"]
        return (-accuracy, *([float(final["cycles"])] if with_cycles else []),
                *([float(final["sram_peak"])] if with_sram else []))

    return values(a, acc[0]), values(b, acc[1])


def compared(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float]:
    """The accuracies of ``a`` and ``b`` on one measure: cross-validated when both have it;
    else their mean over the folds both ran, where they share one (a candidate a --cv-race
    left behind against a finalist: the measure the race cut them on); else validation."""
    if a.get("cv_accuracy") is not None and b.get("cv_accuracy") is not None:
        return float(a["cv_accuracy"]), float(b["cv_accuracy"])
    fa, fb = a.get("cv_folds") or [], b.get("cv_folds") or []
    common = [i for i, (x, y) in enumerate(zip(fa, fb, strict=False))
              if x is not None and y is not None]
    if common:
        return (float(sum(fa[i] for i in common)) / len(common),
                float(sum(fb[i] for i in common)) / len(common))
    return float(a["val_accuracy"]), float(b["val_accuracy"])


def pareto(records: list[dict[str, Any]], with_sram: bool,
           with_cycles: bool = True) -> list[dict[str, Any]]:
    """The non-dominated feasible trained candidates (one per distinct measurement, the
    earliest trial), most accurate first (:func:`rank`). With neither cycles nor SRAM: the
    most accurate (fewest cycles among equals)."""
    ok = fitted(records)
    if not (with_cycles or with_sram):
        # accuracy alone: the first in the report's order (compared pair by pair, accuracies
        # are not transitive when only some candidates are cross-validated)
        top = sorted(ok, key=lambda r: (*rank(r), r["final"]["cycles"], r["number"]))
        return top[:1]

    def beaten(r: dict[str, Any], o: dict[str, Any]) -> bool:
        vo, vr = _objectives(o, r, with_sram, with_cycles)
        return _dominates(vo, vr) or (vo == vr and o["number"] < r["number"])

    front = [r for r in ok if not any(beaten(r, o) for o in ok if o is not r)]
    return sorted(front, key=lambda r: (*rank(r), r["final"]["cycles"]))


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def model_name(settings: Settings, r: dict[str, Any]) -> str:
    """The file stem of candidate ``r``'s models in pareto/: its model's name as a plain file
    name (letters, digits, ``._-``; nothing that could lead out of the folder, whatever the
    study's database holds), then its trial number."""
    name = r["config"]["model"]["name"]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name if isinstance(name, str) else "")[:64]
    return f"{safe.lstrip('.') or 'model'}-t{int(r['number']):05d}"


def refit_of(study: Any, settings: Settings, r: dict[str, Any]) -> dict[str, Any] | None:
    """Candidate ``r``'s refit (``--refit``) when the study holds one that stands for it (its
    config, training images and budget); else None."""
    task = refit.RefitTask(r["number"], r["config"], settings.budget, settings.train_limit)
    return refit.stored(study.user_attrs, task)


def refit_entry(settings: Settings, r: dict[str, Any], record: dict[str, Any]
                ) -> dict[str, Any]:
    """pareto.json's ``refit`` of candidate ``r``: what its refit measured; its files when it
    is within the budget (``status`` ok), else ``reason``."""
    final = record["final"] or {}
    out: dict[str, Any] = {"status": record["status"], "train_images": record["images"]}
    if record["status"] != "ok":
        return {**out, "reason": record["reason"],
                **({"sram_peak": final["sram_peak"], "flash": final["flash"],
                    "cycles": final["cycles"]} if final else {})}
    name = model_name(settings, r) + "-refit"
    return {**out, **{s: f"{PARETO_DIR}/{name}.{s}" for s in SUFFIXES},
            "test_accuracy": record["test_accuracy"], "sram_peak": final["sram_peak"],
            "stack_peak": final["stack_peak"], "flash": final["flash"],
            "cycles": final["cycles"], "cycles_median": final["cycles_median"],
            "ms": settings.budget.ms(final["cycles"]),
            "seconds": record["end"] - record["start"]}


def entry(directory: Path, settings: Settings, r: dict[str, Any],
          refit_record: dict[str, Any] | None = None) -> dict[str, Any]:
    """One model of pareto.json (``refit`` None when it has no current refit)."""
    final, probe = r["final"], r["probe"]
    name = model_name(settings, r)
    files = {s: f"{PARETO_DIR}/{name}.{s}" for s in SUFFIXES}
    return {
        "name": name, "trial": r["number"], "config": r["config"],
        "toml": files["toml"], "pt": files["pt"], "ebnn": files["ebnn"], "elf": files["elf"],
        "stream": settings.stream,  # the .elf (and the figures) of `ebnn build --stream`
        "accuracy": accuracy(r), "val_accuracy": r["val_accuracy"],
        "cv_accuracy": r.get("cv_accuracy"), "cv_folds": r.get("cv_folds") or [],
        "test_accuracy": r["test_accuracy"],
        "torch_val_accuracy": r["torch_val_accuracy"],
        "sram_peak": final["sram_peak"], "stack_peak": final["stack_peak"],
        "flash": final["flash"], "cycles": final["cycles"],
        "cycles_median": final["cycles_median"],
        "ms": settings.budget.ms(final["cycles"]),
        # what the probe measured before training (less the slacks: lower bounds)
        "probe": {"sram_peak": probe["sram_peak"], "flash": probe["flash"],
                  "cycles": probe["cycles"]},
        "seconds": r["seconds"],
        "refit": None if refit_record is None else refit_entry(settings, r, refit_record),
    }


# What a search writes in pareto/ (:func:`model_name`, then -refit or not): any other file or
# folder there is the user's, and no report or resume removes or replaces it
OWN_FILE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*-t\d{5,}(?:-refit)?\."
                      rf"(?:{'|'.join(SUFFIXES)})")


def own_file(path: Path) -> bool:
    """Whether ``path`` in pareto/ is one of the search's model files (a file or a symbolic
    link named as :func:`model_name` names them; never a folder)."""
    return (OWN_FILE.fullmatch(path.name) is not None
            and (path.is_symlink() or not path.is_dir()))


def copy_models(directory: Path, settings: Settings, front: list[dict[str, Any]],
                refits: list[dict[str, Any] | None]) -> None:
    """``pareto/``'s models anew: built beside the folder first (a model file gone from
    ``trials/`` leaves pareto/ as it was and raises FileNotFoundError); then the search's own
    files of an earlier report that are no longer in the Pareto set are removed (a symbolic
    link, not what it points to) and the new ones put in. Anything else in pareto/ (notes, a
    library exported from a model there) is left as it is."""
    out = unlinked(directory / PARETO_DIR)  # (a link to a folder elsewhere: not written into)
    new = unlinked(directory / (PARETO_DIR + ".new"))
    _stage(directory, settings, new, front, refits)
    if not out.is_dir():
        new.rename(out)
        return
    names = sorted(p.name for p in new.iterdir())
    taken = [out / n for n in names if (out / n).is_dir() and not (out / n).is_symlink()]
    if taken:
        shutil.rmtree(new)
        raise SearchError(f"{taken[0]} is a folder: a Pareto model's file goes there; move "
                          "the folder")
    for path in sorted(out.iterdir()):
        if own_file(path) and path.name not in names:
            path.unlink()
    for name in names:
        os.replace(new / name, out / name)
    new.rmdir()


def _stage(directory: Path, settings: Settings, new: Path, front: list[dict[str, Any]],
           refits: list[dict[str, Any] | None]) -> None:
    """The Pareto models' files copied into ``new`` (removed again when one cannot be)."""
    if new.is_dir():
        shutil.rmtree(new)
    new.mkdir(parents=True)
    try:
        for r, record in zip(front, refits, strict=True):
            name = model_name(settings, r)
            sources = [(directory / TRIALS_DIR / f"{r['number']:05d}", name)]
            if record is not None and record["status"] == "ok":
                sources.append((refit.folder(directory, r["number"]), f"{name}-refit"))
            for src, stem in sources:
                for suffix in SUFFIXES:
                    shutil.copyfile(_own(directory, src / f"model.{suffix}"),
                                    new / f"{stem}.{suffix}")
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def _own(directory: Path, path: Path) -> Path:
    """``path``, a file the search wrote in ``directory``: SearchError for a link, or a path
    that leads out of the folder (a trial's model.toml linked to ~/.aws/credentials was
    copied into pareto/: s53 hardening review H7)."""
    if path.is_symlink() or directory.resolve() not in path.resolve().parents:
        raise SearchError(f"{path}: a symbolic link, or out of the search's folder: not a file "
                          "the search wrote")
    return path


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def cv_options(k: int, folds: int, race: bool) -> str:
    """The ``ebnn search`` options that run (or continue) a cross-validation."""
    return f"--cv {k} --cv-folds {folds}" + (" --cv-race" if race else "")


def _cv_text(summary: Summary) -> str:
    """What pareto.md says of the last --cv run."""
    options = cv_options(summary.cv_k, summary.folds, summary.cv_race)
    if summary.cv_race:
        head = (f"Cross-validated by a race (`{options}`): the {summary.cv_listed} most accurate "
                f"on validation ran the first of {summary.folds} folds over the training and "
                "validation images, the better half of them each next fold; "
                f"{summary.cross_validated} ran every fold.")
    else:
        head = (f"Cross-validated (`{options}`): {summary.cross_validated} of the "
                f"{summary.cv_listed} most accurate on validation, {summary.folds} folds over "
                "the training and validation images.")
    return (head + " They come first, ranked by that accuracy (cv); the others follow by "
            "validation accuracy (a validation score is never set against a cross-validated "
            "one)." + ("" if summary.cv_finished else
                       f" Folds of the {'race' if summary.cv_race else 'shortlist'} have not "
                       f"run yet: `ebnn search -o DIR --resume {options}`."))


def markdown(settings: Settings, entries: list[dict[str, Any]], summary: Summary,
             reference: list[dict[str, Any]], reasons: list[str] | None = None) -> str:
    """pareto.md; ``reasons``: :func:`common_reasons`, said where the Pareto set is empty."""
    b = settings.budget
    cyc = ("no latency budget" if b.max_cycles is None
           else f"≤ {b.max_cycles:,} cycles ({b.ms(b.max_cycles):g} ms)")
    lines = [
        f"# Search on {settings.target}{' (streaming firmware)' if b.stream else ''}: "
        f"SRAM ≤ {b.sram:,} B, flash ≤ {b.flash:,} B, {cyc}",
        "",
        *([f"Started from {', '.join(f'`{p}`' for p in settings.start)} (asked first).", ""]
          if settings.start else []),
        summary.line() + f"; {summary.seconds / 60:.1f} min with a trial, fold or refit running.",
        "",
        "Accuracy on the validation images is the firmware's (run in the simulator); test "
        "accuracy, where there is a test split, is only reported. Cycles: worst over the "
        "validation images (median in brackets); ms at the target's clock.",
        "",
        *([_cv_text(summary), ""] if summary.cv_k else []),
        "| model | val accuracy |" + (" cv accuracy |" if summary.cross_validated else "")
        + " test accuracy | peak SRAM (B) | flash (B) | cycles | ms | layers |",
        "| --- | ---: |" + (" ---: |" if summary.cross_validated else "")
        + " ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    if not entries:
        lines[-2:] = [empty_text(summary, reasons)]
    for e in entries:
        cv = f" {_pct(e['cv_accuracy'])} |" if summary.cross_validated else ""
        lines.append(
            f"| {e['name']} | {_pct(e['val_accuracy'])} |{cv} {_pct(e['test_accuracy'])} | "
            f"{e['sram_peak']:,} | {e['flash']:,} | {e['cycles']:,} "
            f"({e['cycles_median']:,.0f}) | {e['ms']:.2f} | {layers_text(e['config'])} |")
    refits = [e for e in entries if e.get("refit")]
    if refits:
        lines += ["", "Refit (`--refit`): each config trained again on every labelled image "
                  "(training and validation), measured the same way on the validation images "
                  "(which it trained on: no accuracy there); `pareto/NAME-refit.*`."
                  + ("" if len(refits) == len(entries) else
                     f" {len(entries) - len(refits)} of the {len(entries)} Pareto models have "
                     "no refit yet: `ebnn search -o DIR --resume --refit`."), "",
                  "| model | trained on | test accuracy | peak SRAM (B) | flash (B) | cycles | ms "
                  "|", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for e in refits:
            f = e["refit"]
            if f["status"] != "ok":
                lines.append(f"| {e['name']} | {f['train_images']:,} | {f['status']}: "
                             f"{f['reason']} | | | | |")
                continue
            lines.append(f"| {e['name']}-refit | {f['train_images']:,} | "
                         f"{_pct(f['test_accuracy'])} | {f['sram_peak']:,} | {f['flash']:,} | "
                         f"{f['cycles']:,} ({f['cycles_median']:,.0f}) | {f['ms']:.2f} |")
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


def empty_text(summary: Summary, reasons: list[str] | None) -> str:
    """pareto.md's line for an empty Pareto set: why (no candidate within the budget, or, when
    an interrupt came before any trial finished, none finished yet)."""
    again = (f" {summary.running} unfinished: `ebnn search -o DIR --resume` runs them"
             if summary.running else "")
    if summary.trials == summary.running:
        return ("No model in the Pareto set yet: no trial finished before the search was "
                f"interrupted ({again.strip() or 'none started'}).")
    why = f"most common reasons: {'; '.join(reasons)}" if reasons else ""
    notes = "; ".join(n for n in (why, again.strip()) if n)
    return ("No model in the Pareto set: no candidate was trained within the budget"
            + (f" ({notes})." if notes else "."))


def layers_text(config: dict[str, Any]) -> str:
    parts = []
    for layer in config["model"]["layers"]:
        if layer["type"] in ("conv", "conv1d"):
            k = layer.get("kernel", 3)
            k = (f"k{k}" if layer["type"] == "conv1d" else
                 f"{k[0]}x{k[1]}" if isinstance(k, list) else f"{k}x{k}")
            text = f"{layer['type']} {layer['filters']} {k}"
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
    front = pareto(records, settings.minimize_sram, settings.minimize_cycles)
    refits = [refit_of(study, settings, r) for r in front]
    copy_models(directory, settings, front, refits)
    entries = [entry(directory, settings, r, f) for r, f in zip(front, refits, strict=True)]
    unlinked(directory / "pareto.json").write_text(json.dumps(entries, indent=2) + "\n")
    unlinked(directory / "pareto.md").write_text(markdown(settings, entries, summary, reference,
                                                          common_reasons(records, 3)))
    plot_search(unlinked(directory / "pareto.png"), settings, records, entries, reference)
    return entries, summary
