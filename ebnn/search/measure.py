"""One candidate, start to end, measured on the emulated target. Runs in a worker process
(a local pool or a Ray task): it takes a picklable :class:`Task` and the search's images and
returns a picklable :class:`Outcome` holding the model files' bytes, so no folder needs to be
shared with the machine that runs it.

1. **Probe.** The candidate with untrained (seeded random) weights is exported, its firmware
   generated, built for the target and run in the simulator on one validation image. No
   kernel exits early (the hidden conv counts every pool window, bit-sliced); the generated
   first layer's compares may compile to branches, which moves an inference's cycles by a
   fraction of a percent with the data. Cycles, flash and SRAM depend on the weights through
   the first layer's straight-line code (it sums each window's taps once per weight-sign
   pattern its filters use, then tests each filter that is not a constant bit;
   ``ebnn.layers.first_conv``) and through how GCC compiles the constants (immediates,
   registers, folded tables). The probe's first layer has the fewest operations of any weights
   that compute something: one filter tested (against the cheapest threshold, "any ink"), the
   others constant, one sign pattern. (With every filter constant the model gives every input
   the same class; it is never worth finding.) That bounds the operations, not what GCC makes
   of them, so the probe's figures count as lower bounds less a slack
   (:func:`probe_lower_bounds`: 2% of the cycles, 128 B of flash, 16 B of SRAM), measured on
   trained models against their probes. A candidate whose bounds are over a budget is
   rejected here, before any training; the others are trained and measured again (step 3),
   which decides.
2. **Train** (``ebnn.train.train``; the config's epochs, which ``--epochs`` overrides; with
   ``--prune`` it is scored at its rungs and stops at one it misses, ``ebnn.search.pruning``),
   **export** (``ebnn.export.export_model``) and **build** linked for the SRAM and flash budget
   (``ebnn.build.build_firmware``).
3. **Re-measure.** The firmware runs in exactly the budget's memories (``sim.session.run`` with
   the budgets: a stack overflow faults) and on every validation image
   (``ebnn.verify.run_firmware``): accuracy is the firmware's, cycles are per inference (the
   worst and the median over the validation images). The firmware must agree with the
   reference on every validation image; the test accuracy (when a test split exists) is the
   reference's, which the firmware equals bit for bit, and never chooses anything.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ebnn.search.datasets import SearchData

RUN_TIMEOUT = 600.0  # seconds of wall time for one firmware run: a guard, not a budget
# What a trained model may measure under its probe (GCC's instruction choice, immediates,
# stack frames and folded constants vary with the weights): re-probed, the 225 trained
# candidates of five searches and the 7 hand-made models were at most 8 B of SRAM under their
# probe and never under it in flash or cycles; first layers constructed to be cheap were up to
# 1.8% of the cycles and 76 B of flash under it (docs/search.md). The probe's bounds are its
# figures less these.
PROBE_SRAM_SLACK = 16  # bytes
PROBE_FLASH_SLACK = 128  # bytes
PROBE_CYCLE_SLACK = 0.02  # a fraction of the probe's cycles


@dataclass(frozen=True)
class Budget:
    target: str
    sram: int  # bytes: peak SRAM (static + stack) must be at most this
    flash: int  # bytes
    max_cycles: int | None  # per inference, worst over the validation images
    clock_hz: int
    stream: bool = False  # built as `ebnn build --stream` builds (row by row, no input buffer)

    def ms(self, cycles: float) -> float:
        return cycles / self.clock_hz * 1e3


@dataclass
class Firmware:
    """What one build of a candidate measured in the simulator."""

    sram_peak: int
    flash: int
    cycles: int  # per inference: the worst over the images run
    cycles_median: float
    cycles_min: int
    stack_peak: int = 0


@dataclass(frozen=True)
class Task:
    number: int  # the Optuna trial number
    config: dict[str, Any]  # the model config (TOML shape)
    budget: Budget
    train_limit: int | None = None  # train on N training images only (every class)
    probe: Firmware | None = None  # step 1's measurement, when the driver made it already
    prune: bool = False  # --prune: score it at its rungs (ebnn.search.pruning)
    rungs: tuple[tuple[int, float], ...] = ()  # --prune: (epoch, score to reach there)


@dataclass
class Outcome:
    number: int
    status: str  # "ok" | "rejected" (over a budget) | "invalid" (not a model) | "failed"
    # | "pruned" (stopped at a rung of --prune)
    reason: str = ""
    probe: Firmware | None = None
    final: Firmware | None = None
    trained: bool = False
    val_accuracy: float | None = None  # the firmware's, on the validation images
    torch_val_accuracy: float | None = None
    test_accuracy: float | None = None
    files: dict[str, bytes] = field(default_factory=dict)  # model.toml, .pt, .ebnn, .elf
    seconds: dict[str, float] = field(default_factory=dict)  # probe, train, measure
    epochs: int | None = None  # the epochs it was to train
    # --prune: one per fraction of pruning.FRACTIONS reached (one epoch may score two)
    rung_scores: list[float] = field(default_factory=list)


def _probe_artifact(spec: Any, sample: np.ndarray) -> Any:
    """The candidate exported with seeded random weights, the fewest operations any weights
    that compute something give its first layer: one sign pattern (all weights +1), filter 0
    tested against the cheapest threshold (the raw pixel sum >= 1), the others constant bits;
    every hidden layer's bits tested as acc >= 0 (direction +1, the cheapest test)."""
    import torch

    from ebnn.export import export_model
    from ebnn.model import EBNN

    torch.manual_seed(spec.train.seed)
    art = export_model(EBNN(spec))
    for layer in art.layers:
        if layer.kind == "output":
            continue
        filters = layer.out_shape[-1]
        layer.threshold = np.zeros(filters, np.int32)
        layer.direction = np.ones(filters, np.int8)
        if layer.first:
            layer.weights = np.ones_like(layer.weights)
            # the sum of 2x - 255 over the taps >= 2 - 255 * taps: raw sum >= 1
            layer.threshold[0] = 2 - 255 * layer.fan_in
            layer.direction[1:] = 0
    art.sample = sample
    return art


def measure_firmware(art: Any, elf: Path, budget: Budget, images: np.ndarray,
                     link_to_budget: bool) -> tuple[Firmware, np.ndarray]:
    """Build ``art`` for the budget's target and run it in the simulator: once on
    ``images[0]`` for the memory peaks (in the budget's memories when ``link_to_budget``, else
    the target's), then on all ``images`` for cycles per inference. Returns the measurement and
    the firmware's classes. Raises MeasureError when the firmware does not build or run."""
    from ebnn.build import build_firmware
    from ebnn.verify import VerifyError, run_firmware
    from sim import session
    from sim.elf import InvalidFirmware
    from sim.runner import PAGE, ImageError
    from toolchain.build import MemoryOverflow, ToolchainError

    # linked for the budget in whole pages (the simulator maps 1 KiB pages); the budget itself
    # is then checked on the measured peaks
    sram = -(-budget.sram // PAGE) * PAGE if link_to_budget else None
    flash = -(-budget.flash // PAGE) * PAGE if link_to_budget else None
    try:
        build_firmware(art, elf, budget.target, sram=sram, flash=flash, stream=budget.stream)
    except MemoryOverflow as exc:  # the budget's words: what it needs against what is allowed
        allowed = {"flash": budget.flash, "sram": budget.sram}
        raise MeasureError("; ".join(
            ("static SRAM" if mem == "sram" else mem) + f" {need:,} B > "  # the stack not in it
            + (f"{allowed[mem]:,} B" if need > allowed[mem]
               else f"{budget.target}'s {exc.linked[mem]:,} B")  # a budget above the part's
            + " (the linker)" for mem, need in exc.needed.items()), budget=True) from None
    except ToolchainError as exc:
        raise MeasureError(f"does not build for {budget.target}"
                           f"{' in the budget' if link_to_budget else ''}: "
                           f"{_first_error(str(exc))}") from None
    first = np.ascontiguousarray(images[:1], np.uint8).tobytes()
    spec = session.RunSpec(target=budget.target, sram=sram, flash=flash, stdin=first,
                           timeout=RUN_TIMEOUT,
                           budgets={"sram": budget.sram, "flash": budget.flash}
                           if link_to_budget else {})
    try:
        report = session.run(elf, spec)
    except session.SessionError as exc:
        raise MeasureError(f"does not run: {exc.with_elf}") from None
    problem = report.problem
    if problem is not None and report.status != "over_budget":
        overflow = report.fault is not None and report.fault.kind == "stack_overflow"
        # the stack overflowed the SRAM it had (the budget's, or the whole part's for a
        # probe): too big for the budget either way
        raise MeasureError(f"firmware run failed: {problem}", budget=overflow)
    try:
        _, classes, _, cycles, _ = run_firmware(elf, images, budget.target,
                                                timeout=RUN_TIMEOUT)
    except (VerifyError, ImageError, InvalidFirmware) as exc:
        raise MeasureError(str(exc)) from None
    if len(cycles) != len(images):
        raise MeasureError(f"the firmware classified {len(cycles)} of {len(images)} images")
    return Firmware(report.sram_peak, report.flash_used, int(max(cycles)),
                    float(np.median(cycles)), int(min(cycles)), report.stack_peak), classes


def _first_error(message: str) -> str:
    """The first of the toolchain's lines that says ``error``, with how many more there are
    (one line, however much gcc wrote)."""
    lines = [ln.strip() for ln in message.splitlines()[1:] if ln.strip()] or [message.strip()]
    first = next((ln for ln in lines if "error" in ln), lines[0])
    more = len(lines) - 1
    return first[:300] + (f" (+{more} more line{'s' if more > 1 else ''})" if more else "")


class MeasureError(Exception):
    """The candidate's firmware cannot be built or run; ``str()`` is one line. ``budget``: for
    the budget's sake (it does not fit: a rejection); otherwise something is broken (the
    toolchain, the generated C, the firmware: a failure, tried again on a repeat)."""

    def __init__(self, message: str, budget: bool = False) -> None:
        super().__init__(message)
        self.budget = budget


def probe_lower_bounds(probe: Firmware) -> Firmware:
    """What a probe's measurement bounds from below: its figures less the slacks
    (:data:`PROBE_SRAM_SLACK`, :data:`PROBE_FLASH_SLACK`, :data:`PROBE_CYCLE_SLACK`)."""
    cycles = int(probe.cycles * (1 - PROBE_CYCLE_SLACK))
    return Firmware(probe.sram_peak - PROBE_SRAM_SLACK, probe.flash - PROBE_FLASH_SLACK,
                    cycles, float(cycles), cycles, probe.stack_peak)


def over_budget(fw: Firmware, budget: Budget, *, probe: bool) -> str | None:
    """Why ``fw`` breaks the budget, or None. ``probe``: ``fw`` is a probe's, which breaks
    it only when its lower bounds (:func:`probe_lower_bounds`) do."""
    why = []
    at_least = "at least " if probe else ""
    if probe:
        fw = probe_lower_bounds(fw)
    if fw.sram_peak > budget.sram:
        why.append(f"SRAM {at_least}{fw.sram_peak:,} B > {budget.sram:,} B")
    if fw.flash > budget.flash:
        why.append(f"flash {at_least}{fw.flash:,} B > {budget.flash:,} B")
    if budget.max_cycles is not None and fw.cycles > budget.max_cycles:
        why.append(f"{at_least}{fw.cycles:,} cycles > {budget.max_cycles:,}")
    return "; ".join(why) or None


UNEXPECTED = "unexpected error: "  # how a worker's report of an exception begins


def unexpected_error(exc: Exception) -> str:
    """A worker's one-line report of an exception it did not expect."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return UNEXPECTED + last


def _guard(step: Any, task: Task, data: SearchData) -> Outcome:
    try:
        result: Outcome = step(task, data)
        return result
    except Exception as exc:  # a worker must report, whatever broke
        return Outcome(task.number, "failed", unexpected_error(exc))


def probe_task(task: Task, data: SearchData) -> Outcome:
    """Step 1 only: status ``ok`` with ``probe`` set when the candidate may be trained, else
    ``rejected``, ``invalid`` or ``failed``; never raises."""
    return _guard(_probe, task, data)


def run_task(task: Task, data: SearchData) -> Outcome:
    """The whole life of one candidate (the probe skipped when ``task.probe`` holds it);
    never raises (a failure is an Outcome)."""
    return _guard(_run_task, task, data)


def _spec(task: Task, data: SearchData, out: Outcome) -> Any:
    """The candidate's ModelSpec, or None with ``out`` marked invalid."""
    from ebnn.config import ConfigError, parse_config

    try:
        spec = parse_config(task.config, f"trial {task.number}")
    except ConfigError as exc:  # the progress line names the trial already
        out.status, out.reason = "invalid", str(exc).removeprefix(f"trial {task.number}: ")
        return None
    if spec.input != data.train.image_shape or spec.classes != data.train.classes:
        out.status = "invalid"
        out.reason = (f"the model takes {spec.input} images in {spec.classes} classes, the data "
                      f"has {data.train.image_shape} in {data.train.classes}")
        return None
    return spec


def _probe(task: Task, data: SearchData) -> Outcome:
    out = Outcome(task.number, "ok")
    spec = _spec(task, data, out)
    if spec is None:
        return out
    with tempfile.TemporaryDirectory(prefix="ebnn-probe-") as tmp:
        t0 = time.perf_counter()
        try:
            probe, _ = measure_firmware(_probe_artifact(spec, data.val.images[0]),
                                        Path(tmp) / "probe.elf", task.budget,
                                        data.val.images[:1], link_to_budget=False)
        except MeasureError as exc:
            out.status = "rejected" if exc.budget else "failed"
            out.reason = f"before training: {exc}"
            return out
    out.probe = probe
    out.seconds["probe"] = time.perf_counter() - t0
    why = over_budget(probe, task.budget, probe=True)
    if why is not None:
        out.status, out.reason = "rejected", f"before training: {why}"
    return out


def _run_task(task: Task, data: SearchData) -> Outcome:
    from ebnn.search.space import config_toml

    if task.probe is None:
        out = _probe(task, data)
        if out.status != "ok":
            return out
    else:
        out = Outcome(task.number, "ok", probe=task.probe)
    spec = _spec(task, data, out)
    if spec is None:
        return out
    with tempfile.TemporaryDirectory(prefix="ebnn-search-") as tmp:
        return _train_and_measure(task, spec, data, Path(tmp), out, config_toml(task.config))


def _train_and_measure(task: Task, spec: Any, data: SearchData, work: Path, out: Outcome,
                       toml: str) -> Outcome:
    from ebnn.search.pruning import Pruned, after_epoch
    from ebnn.train import calibrated_accuracy, train

    budget = task.budget
    train_set = data.subset(task.train_limit).train
    t0 = time.perf_counter()
    pt = work / "model.pt"
    extra = data.train_extra()
    out.epochs = spec.train.epochs

    def score(model: Any) -> float:
        return calibrated_accuracy(model, train_set.images, data.val, spec.train)

    hook = (after_epoch(task.rungs, spec.train.epochs, score, out.rung_scores) if task.prune
            else None)
    try:
        _, history = train(spec, train_set, data.val, pt, extra=extra, after_epoch=hook)
    except Pruned as exc:
        out.status, out.reason = "pruned", str(exc)
        out.seconds["train"] = time.perf_counter() - t0
        return out
    out.trained = True
    out.seconds["train"] = time.perf_counter() - t0
    out.torch_val_accuracy = history.val_acc[-1]
    t0 = time.perf_counter()
    try:
        m = measure_trained(pt, work, budget, data, toml, {"search_trial": task.number})
    except MeasureError as exc:
        out.status = "rejected" if exc.budget else "failed"
        out.reason = f"after training: {exc}"
        return out
    out.final = m.final
    out.seconds["measure"] = time.perf_counter() - t0
    if m.over is not None:
        out.status, out.reason = "rejected", f"after training: {m.over}"
    if m.disagree:
        out.status = "failed"
        out.reason = f"firmware and reference disagree on {m.disagree} validation images"
    out.val_accuracy, out.test_accuracy, out.files = m.val_accuracy, m.test_accuracy, m.files
    return out


@dataclass
class Measured:
    """A trained model's measurement (:func:`measure_trained`)."""

    final: Firmware
    over: str | None  # why it breaks the budget (:func:`over_budget`), or None
    disagree: int  # validation images on which firmware and reference disagree
    val_accuracy: float  # the firmware's
    test_accuracy: float | None  # the reference's, when there is a test split
    files: dict[str, bytes]  # model.toml, .pt, .ebnn, .elf


def measure_trained(pt: Path, work: Path, budget: Budget, data: SearchData, toml: str,
                    metadata: dict[str, Any]) -> Measured:
    """Step 3 for the checkpoint ``pt``: exported the way ``ebnn export`` does (``metadata``
    added), built in the budget's memories in ``work`` and run on every validation image,
    compared with the reference there, scored on the test split. MeasureError when its
    firmware does not build or run."""
    from ebnn import reference
    from ebnn.artifact import save
    from ebnn.export import export_checkpoint
    from ebnn.train import load_checkpoint

    art = export_checkpoint(load_checkpoint(pt))
    art.metadata.update(metadata)
    save(art, work / "model.ebnn")
    elf = work / "model.elf"
    final, classes = measure_firmware(art, elf, budget, data.val.images, link_to_budget=True)
    ref = reference.run(art, data.val.images)
    test_accuracy = None
    if data.test is not None:
        test = reference.run(art, data.test.images)
        test_accuracy = float(np.mean(test.classes == data.test.labels))
    return Measured(
        final, over_budget(final, budget, probe=False), int(np.sum(ref.classes != classes)),
        float(np.mean(classes == data.val.labels)), test_accuracy,
        {"model.toml": toml.encode(), "model.pt": pt.read_bytes(),
         "model.ebnn": (work / "model.ebnn").read_bytes(), "model.elf": elf.read_bytes()})
