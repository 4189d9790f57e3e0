"""Accuracy vs peak SRAM vs latency of every example model on the Curie-class target.

For each example (``bench.common.discover``):

- accuracy of the integer reference (``ebnn.evaluate``) on its data set's test split: the
  official MNIST test set (``../shared/data/mnist``) when the machine has it, otherwise the
  validation split held out in training, labelled as such; Fashion-MNIST's test split;
- torch-vs-reference agreement when a ``.pt`` is shipped beside the artifact (it normally is
  not; the column then says so);
- the firmware built for ``curie`` (Cortex-M3, 32 MHz, 15 KiB SRAM): static RAM, stack peak,
  peak SRAM and flash of ``ebnn-sim run`` on the embedded sample;
- ``ebnn-sim verify --jobs 2`` run as a command (timed as a whole, interpreter start-up
  included): the main model on every test image, the others on a sample. It gives the
  mismatches (must be 0), the firmware's own accuracy and the instructions and cycles of each
  inference (median and max over the images).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.floor import layer_floors

FULL_SAMPLE = 1_000  # images verified for the models other than the main one
QUICK = {"accuracy": 300, "main": 200, "sample": 50}


def describe(art: Any) -> str:
    """A short architecture string: conv16 3x3 pool2 → fc64 → out10 (each layer's kind's
    summary)."""
    from ebnn.artifact import layer_kind

    return " → ".join(layer_kind(layer, f"layer {i}").summary(layer)
                      for i, layer in enumerate(art.layers))


def config_drift(config: Path | None, art: Any) -> list[str]:
    """How the example's config now differs from the one the artifact was trained with.

    An artifact trained from an older version of its config is still measured (the numbers are
    the shipped artifact's), but the page says so: the config no longer reproduces it.
    """
    from dataclasses import asdict, fields

    from ebnn.config import ConfigError, TrainSpec, load_config, parse_config

    trained = art.metadata.get("config")
    if config is None or not trained:
        return []
    # Training options this version no longer has cannot be set by the config either: skipped.
    known = {f.name for f in fields(TrainSpec)}
    train = {k: v for k, v in (trained.get("train") or {}).items() if k in known}
    diffs = []
    try:
        now = load_config(config)
        then = parse_config({**trained, "train": train}, "artifact metadata")
    except (ConfigError, OSError) as exc:
        return [f"cannot compare: {exc}"]
    if now.layers != then.layers or now.input != then.input or now.classes != then.classes:
        diffs.append("the layers")
    a, b = asdict(now.train), asdict(then.train)
    diffs += [f"{k} {b.get(k)} -> {v}" for k, v in a.items() if b.get(k) != v]
    return diffs


def sample_run(elf: Path) -> dict[str, Any]:
    """`ebnn-sim run ELF` on the embedded sample: the memory a deployment needs."""
    from sim import Simulator, load_elf
    from sim.runner import RunOptions

    report = Simulator(load_elf(elf), RunOptions()).run()
    cls = None
    for line in report.stdout.splitlines():
        if line.startswith("class:"):
            cls = int(line.split()[1])
    return {
        "status": report.status, "exit_code": report.exit_code,
        "instructions": report.instructions, "cycles": report.cycles,
        "time_ms": report.time_ms, "static": report.static, "stack_peak": report.stack_peak,
        "heap_peak": report.heap_peak, "sram_peak": report.sram_peak,
        "sram_size": report.sram_size, "flash_used": report.flash_used,
        "flash_size": report.flash_size, "class": cls,
        "fault": report.fault.message if report.fault else None,
    }


def layer_cycles(elf: Path) -> list[dict[str, Any]]:
    """`ebnn-sim profile ELF` on the embedded sample: each layer's inclusive cycles and
    instructions (the profiler's eBNN layer groups)."""
    from ebnn.sim_plugin import layer_groups
    from sim import Simulator, load_elf
    from sim.profile import Profiler
    from sim.runner import RunOptions

    image = load_elf(elf)
    prof = Profiler(Simulator(image, RunOptions()), groups=layer_groups(image)).run()
    return [{"layer": lp.name, "cycles": lp.inclusive.cycles,
             "instructions": lp.inclusive.instructions} for lp in prof.layers]


def verify_command(elf: Path, artifact: Path, td: common.TestData, limit: int | None,
                   json_path: Path) -> list[str]:
    from bench.sim_speed import ebnn_sim_command

    cmd = [*ebnn_sim_command(), "verify", str(elf), "--model", str(artifact), *td.cli_args,
           "--jobs", "2", "--json", str(json_path)]
    if limit is not None and limit < len(td.labels):
        cmd += ["--limit", str(limit)]
    return cmd


def run_verify(elf: Path, artifact: Path, td: common.TestData, limit: int | None
               ) -> dict[str, Any]:
    """`ebnn-sim verify ... --jobs 2` as a whole command: its JSON, exit code and wall time."""
    with tempfile.TemporaryDirectory(prefix="ebnn-bench-verify-") as tmp:
        out = Path(tmp) / "verify.json"
        cmd = verify_command(elf, artifact, td, limit, out)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        data = json.loads(out.read_text()) if out.is_file() else None
    shown = [c if not c.startswith("/") else common.rel(c) for c in cmd]
    shown[0] = "ebnn-sim"
    i = shown.index("--json")
    del shown[i : i + 2]  # a temporary file
    if data is None:
        return {"command": " ".join(shown), "exit_code": proc.returncode, "wall_s": wall,
                "error": (proc.stderr or proc.stdout).strip()[-800:]}
    return {"command": " ".join(shown), "exit_code": proc.returncode, "wall_s": wall, **data}


def measure_one(ex: common.Example, quick: bool, prog: Any) -> dict[str, Any]:
    from ebnn.artifact import load
    from ebnn.codegen import layer_function, output_function

    entry: dict[str, Any] = {"name": ex.name, "main": ex.is_main,
                             "config": common.rel(ex.config),
                             "artifact": common.rel(ex.artifact)}
    if ex.artifact is None:
        entry["missing"] = (f"no artifact: examples/{ex.name}/ has no .ebnn (train and export "
                            f"{common.rel(ex.config)} to add it)")
        return entry
    task = prog.add_task(f"{ex.name}: loading the test data", total=None)
    art = load(ex.artifact)
    td = common.test_data(art)
    meta = art.metadata
    entry.update({
        "config_drift": config_drift(ex.config, art),
        "architecture": describe(art),
        "weight_bits": art.weight_bits(),
        "dataset": td.dataset, "split": td.split, "data": td.label,
        "official_test_set": td.official, "data_source": td.source,
        "val_accuracy_at_training": meta.get("val_accuracy"),
        "trained_on": meta.get("dataset_source"),
        "epochs": ((meta.get("config") or {}).get("train") or {}).get("epochs"),
    })

    # Accuracy of the integer reference: `ebnn eval` (ebnn.evaluate), with --pt when shipped.
    from ebnn.evaluate import evaluate

    n = min(QUICK["accuracy"] if quick else len(td.labels), len(td.labels))
    with_pt = f" and torch ({ex.torch_model.name})" if ex.torch_model else ""
    prog.update(task, description=f"{ex.name}: reference accuracy{with_pt} on {n:,} images")
    t0 = time.perf_counter()
    r = evaluate(art, dataset=None if td.data_dir else td.dataset, data_dir=td.data_dir,
                 split=td.split,
                 torch_model=ex.torch_model, limit=n)
    entry["accuracy"] = {"images": r["images"], "reference": r["accuracy"],
                         "seconds": round(time.perf_counter() - t0, 2)}
    if r.get("torch_agreement") is not None:
        entry["accuracy"].update(torch=r["torch_accuracy"], torch_agreement=r["torch_agreement"],
                                 torch_disagreements=r.get("torch_disagreements"))
    elif meta.get("torch_agreement") is not None:
        entry["accuracy"]["torch_agreement_recorded"] = meta["torch_agreement"]

    # The firmware for the Curie-class target and what it needs.
    prog.update(task, description=f"{ex.name}: building for {common.TARGET}")
    elf = common.build_elf(ex.artifact, common.TARGET, ex.name)
    entry["elf"] = common.rel(elf)
    entry["run"] = sample_run(elf)
    entry["run"]["sample_label"] = meta.get("sample_label")
    entry["layers"] = layer_cycles(elf)
    floors = dict(zip([*(layer_function(i) for i in range(len(art.hidden))), output_function()],
                      layer_floors(art), strict=True))
    for lay in entry["layers"]:  # the estimated floor beside each layer's cycles
        lay["floor"] = floors.get(lay["layer"])
    # the same model streamed: `ebnn build --stream`, the image fed row by row
    stream_elf = common.build_elf(ex.artifact, common.TARGET, ex.name, stream=True)
    entry["stream_run"] = {"elf": common.rel(stream_elf), **sample_run(stream_elf)}
    prog.update(task, completed=1, total=1,
                description=f"{ex.name}: {entry['accuracy']['reference']:.2%} reference, "
                            f"{entry['run']['sram_peak']:,} B peak SRAM")

    # Bit-exact verification of the firmware, as the command users run.
    if ex.is_main:
        limit = QUICK["main"] if quick else None
    else:
        limit = QUICK["sample"] if quick else FULL_SAMPLE
    images = min(limit or len(td.labels), len(td.labels))
    vtask = prog.add_task(f"{ex.name}: ebnn-sim verify --jobs 2 on {images:,} images",
                          total=None)
    entry["verify"] = run_verify(elf, ex.artifact, td, limit)
    v = entry["verify"]
    ok = v.get("mismatches") == 0 and v.get("exit_code") == 0
    prog.update(vtask, completed=1, total=1,
                description=f"{ex.name}: verify {images:,} images: "
                            f"{v.get('mismatches', '?')} mismatches in {v['wall_s']:.1f} s"
                            + ("" if ok else " [red](FAILED)[/]"))
    from toolchain.profiles import get_target

    cycles = (v.get("cycles") or {}).get("median")
    clock = get_target(common.TARGET).clock_hz
    entry["clock_hz"] = clock
    entry["latency_ms"] = cycles / clock * 1e3 if cycles else None
    return entry


def merge_update(previous: dict[str, Any], update: dict[str, Any],
                 order: list[str]) -> dict[str, Any]:
    """``previous`` (a full run's models.json) with the entries ``update`` re-measured put in
    place (or added), in ``order`` (the examples' order). The full run's stamp is kept and the
    update is appended to its ``updates``, so the page says which models were measured when."""
    fresh = {e["name"]: e for e in update["models"]}
    kept = {e["name"]: e for e in previous.get("models", []) if e["name"] not in fresh}
    merged = {**kept, **fresh}
    names = [n for n in order if n in merged] + sorted(set(merged) - set(order))
    note = {k: update[k] for k in ("date", "command", "loadavg_at_start", "git",
                                   "bench_seconds") if k in update}
    # an earlier update whose every model this one re-measured no longer describes any row
    still = [u for u in previous.get("updates", []) if not set(u.get("models", [])) <= set(fresh)]
    return {**previous, "models": [merged[n] for n in names],
            "updates": [*still, {**note, "models": sorted(fresh)}]}


def main(quick: bool, out: Path, only: list[str] | None = None) -> int:
    """Measure every example (``only``: just these, merged into the existing models.json)."""
    from rich.markup import escape

    t0 = time.perf_counter()
    examples = common.discover()
    con = common.console()
    previous = None
    if only:
        unknown = sorted(set(only) - {e.name for e in examples})
        if unknown:
            con.print(f"[red]--only: no example named {', '.join(unknown)} in "
                      f"{common.rel(common.EXAMPLES)}[/]")
            return 2
        previous = common.read_json(out / "models.json")
        if not previous or not previous.get("models"):
            con.print(f"[red]--only updates {common.rel(out / 'models.json')}, which has no "
                      "results yet: run `python -m bench models` without --only first[/]")
            return 2
        order = [e.name for e in examples]
        examples = [e for e in examples if e.name in only]
    command = "models" + (f" --only {','.join(e.name for e in examples)}" if only else "")
    result: dict[str, Any] = {
        **common.result_header(command, quick),
        "target": common.TARGET, "models": [],
    }
    con.print(f"[bold]models[/]: {len(examples)} examples "
              f"({', '.join(e.name for e in examples)}) on {common.TARGET}")
    status = 0
    with common.progress() as prog:
        for ex in examples:
            try:
                entry = measure_one(ex, quick, prog)
            except Exception as exc:  # one broken example must not hide the others
                entry = {"name": ex.name, "main": ex.is_main,
                         "artifact": common.rel(ex.artifact),
                         "error": f"{type(exc).__name__}: {exc}"}
                con.print(f"[red]{escape(ex.name)}: {escape(entry['error'])}[/]")
            entry["measured"] = result["date"]
            result["models"].append(entry)
            v = entry.get("verify") or {}
            if "error" in entry or ("verify" in entry and v.get("mismatches") != 0):
                status = 1
    for e in result["models"]:
        if "missing" in e:
            con.print(f"[yellow]{e['name']}: {e['missing']}[/]")
    result["bench_seconds"] = round(time.perf_counter() - t0, 1)
    if previous is not None:
        result = merge_update(previous, result, order)
    common.write_json(out / "models.json", result)
    return status
