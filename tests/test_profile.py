"""``ebnn-sim profile``: per-function, per-layer and per-instruction attribution of a run.

The profile's totals must be the run report's totals exactly (instructions and estimated cycles),
self counts must add up to them, inclusive counts must never count a recursive function twice,
and the speedscope and HTML outputs must be well-formed and self-contained.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_single_error_line

import sim
from ebnn.sim_plugin import OUTPUT_LAYER, layer_groups
from sim.formats.html import esc, render_html
from sim.formats.speedscope import SCHEMA, speedscope
from sim.profile import Profile, Profiler

DEPTH = 20  # recurse.c: main -> descend(DEPTH), DEPTH + 1 activations of descend

PROGRAMS = {
    "compute": (("compute.c",), None),
    "recurse": (("recurse.c", "descend.S"), {"DEPTH": DEPTH}),
    "hello": (("hello.c",), None),
    "heap": (("heap.c",), None),
}


def _profile(elf: Path, **options) -> tuple[sim.RunReport, Profile]:
    """(report of a plain run, profile of the same ELF with the same options, its functions
    grouped as the ebnn plugin groups them for ``ebnn-sim profile``)."""
    image = sim.load_elf(elf)
    plain = sim.Simulator(image, sim.RunOptions(**options)).run()
    prof = Profiler(sim.Simulator(image, sim.RunOptions(**options)),
                    groups=layer_groups(image)).run()
    return plain, prof


@pytest.fixture(scope="module")
def profiles(firmware):
    out = {}
    for name, (sources, defines) in PROGRAMS.items():
        out[name] = _profile(firmware(*sources, defines=defines))
    return out


def _assert_consistent(plain: sim.RunReport, prof: Profile) -> None:
    total = prof.total
    assert (total.instructions, total.cycles) == (plain.instructions, plain.cycles)
    assert (prof.report.instructions, prof.report.cycles) == (plain.instructions, plain.cycles)
    assert sum(f.self.instructions for f in prof.functions) == plain.instructions
    assert sum(f.self.cycles for f in prof.functions) == plain.cycles
    assert sum(prof.counts.values()) == plain.instructions  # per instruction, from blocks
    assert sum(s.self.cycles for s in prof.stacks) == plain.cycles
    for f in prof.functions:
        assert 0 <= f.self.instructions <= f.inclusive.instructions <= total.instructions
        assert 0 <= f.self.cycles <= f.inclusive.cycles <= total.cycles


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_totals_equal_the_run_report(profiles, name):
    plain, prof = profiles[name]
    assert plain.status == "ok" and plain.exit_code == 0
    assert prof.report.status == "ok"
    assert plain.instructions > 0
    _assert_consistent(plain, prof)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_reset_handler_includes_everything(profiles, name):
    _, prof = profiles[name]
    reset = prof.function("Reset_Handler")
    assert reset is not None and reset.calls == 1
    assert reset.inclusive.instructions == prof.total.instructions
    assert reset.inclusive.cycles == prof.total.cycles
    assert all(s.stack[0] == "Reset_Handler" for s in prof.stacks)


def test_main_dominates_a_compute_bound_program(profiles):
    _, prof = profiles["compute"]
    main = prof.function("main")
    assert main is not None and main.calls == 1
    assert 0.95 * prof.total.cycles <= main.inclusive.cycles <= prof.total.cycles
    assert prof.functions[0].name == "Reset_Handler"  # sorted by inclusive cycles
    # every return was seen: Reset_Handler -> main -> sh_write_int / sh_write0, and sh_exit
    assert max(len(s.stack) for s in prof.stacks) == 3
    assert prof.functions[1].name == "main"
    write_int = prof.function("sh_write_int")
    assert write_int is not None and write_int.calls == 1
    # sh_write_int is called from main: part of main's inclusive, not of its self
    assert main.inclusive.cycles >= main.self.cycles + write_int.inclusive.cycles


def test_recursion_is_not_double_counted(profiles):
    plain, prof = profiles["recurse"]
    descend = prof.function("descend")
    assert descend is not None
    assert descend.calls == DEPTH + 1
    # descend calls nothing else: every instruction under it is its own, counted once
    assert descend.inclusive == descend.self
    assert descend.inclusive.cycles < prof.total.cycles
    # main tail-calls descend (b.w): shown as main's callee
    main = prof.function("main")
    assert main is not None
    assert main.inclusive.cycles == main.self.cycles + descend.inclusive.cycles
    deepest = max(prof.stacks, key=lambda s: len(s.stack))
    assert deepest.stack.count("descend") == DEPTH + 1
    stack = prof.memory["stack"]
    assert stack["peak"] == plain.stack_peak
    assert stack["function"] == "descend"
    assert stack["call_stack"].count("descend") == DEPTH + 1


def test_hot_instructions_point_to_source_lines(profiles):
    _, prof = profiles["compute"]
    hot = prof.hot
    assert len(hot) == 20
    counts = [h.count for h in hot]
    assert counts == sorted(counts, reverse=True)
    # the CRC's inner loop runs 256 bytes x 8 bits = 2048 times
    assert hot[0].count == 2048
    assert all(h.instruction for h in hot)
    own = [h for h in hot if h.function and h.function.startswith("main+")]
    assert len(own) >= 5
    for h in own:
        assert h.file is not None and Path(h.file).is_file(), h
        assert Path(h.file).name == "compute.c"
        assert h.line is not None and h.line > 0
        assert h.text  # the source line itself
        assert prof.counts[h.address] == h.count


def test_memory_section(profiles):
    plain, prof = profiles["compute"]
    mem = prof.memory
    assert mem["sram_size"] == plain.sram_size
    assert mem["static"] == plain.static
    assert mem["peak"] == plain.sram_peak
    assert mem["free"] == plain.sram_size - plain.sram_peak
    bss = [s for s in mem["sections"] if s["name"] == ".bss"]
    assert bss and bss[0]["size"] == 256 and bss[0]["kind"] == "bss"  # compute.c's data[256]
    assert mem["stack"]["peak"] == plain.stack_peak > 0
    assert mem["stack"]["lowest"] == mem["stack"]["top"] - plain.stack_peak
    assert mem["stack"]["function"] in {f.name for f in prof.functions}

    plain, prof = profiles["heap"]
    heap = prof.memory["heap"]
    assert heap["tracked"] is True
    assert heap["peak"] == plain.heap_peak == 384


@pytest.mark.parametrize("case", [
    ("faults.c", {"CASE": "unmapped_read"}, {}),
    ("faults.c", {"CASE": "stack_overflow"}, {}),
    ("spin.c", None, {"max_instructions": 1001}),
])
def test_totals_match_when_the_run_stops_early(firmware, case):
    source, defines, options = case
    plain, prof = _profile(firmware(source, defines=defines), **options)
    assert plain.status in ("fault", "timeout")
    assert prof.report.status == plain.status
    _assert_consistent(plain, prof)


# --- speedscope ----------------------------------------------------------------------------
UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}


def validate_speedscope(doc: dict) -> None:
    """The structure speedscope's file-format schema requires of a sampled profile."""
    assert isinstance(doc, dict)
    assert doc["$schema"] == SCHEMA == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert isinstance(frames, list) and frames
    for frame in frames:
        assert isinstance(frame["name"], str) and frame["name"]
        assert set(frame) <= {"name", "file", "line", "col"}
        if "file" in frame:
            assert isinstance(frame["file"], str)
        if "line" in frame:
            assert isinstance(frame["line"], int)
    profiles = doc["profiles"]
    assert isinstance(profiles, list) and profiles
    for p in profiles:
        assert p["type"] == "sampled"
        assert isinstance(p["name"], str)
        assert p["unit"] in UNITS
        for key in ("startValue", "endValue"):
            assert isinstance(p[key], int | float) and not isinstance(p[key], bool)
        samples, weights = p["samples"], p["weights"]
        assert isinstance(samples, list) and isinstance(weights, list)
        assert len(samples) == len(weights)
        for stack in samples:
            assert isinstance(stack, list) and stack
            assert all(isinstance(i, int) and 0 <= i < len(frames) for i in stack)
        assert all(isinstance(w, int | float) and w >= 0 for w in weights)
        assert p["endValue"] - p["startValue"] == sum(weights)
    for key in ("name", "exporter"):
        if key in doc:
            assert isinstance(doc[key], str)
    if "activeProfileIndex" in doc:
        assert 0 <= doc["activeProfileIndex"] < len(profiles)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_speedscope_is_a_valid_flame_graph_of_the_cycles(profiles, name):
    plain, prof = profiles[name]
    doc = json.loads(json.dumps(speedscope(prof)))
    validate_speedscope(doc)
    p = doc["profiles"][0]
    assert p["endValue"] == sum(p["weights"]) == plain.cycles
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert len(names) == len(set(names))
    assert all(names[s[0]] == "Reset_Handler" for s in p["samples"])
    main = doc["shared"]["frames"][names.index("main")]
    assert Path(main["file"]).is_file() and main["line"] > 0


def test_speedscope_recursion_is_a_deep_stack(profiles):
    _, prof = profiles["recurse"]
    doc = speedscope(prof)
    names = [f["name"] for f in doc["shared"]["frames"]]
    depth = max(sum(names[i] == "descend" for i in s) for s in doc["profiles"][0]["samples"])
    assert depth == DEPTH + 1


# --- HTML ------------------------------------------------------------------------------------
# No external resource of any kind. (Text from the firmware is escaped, so "<" never starts a
# tag there; "src=" may legitimately appear in a C source line.)
FORBIDDEN = ("http://", "https://", "<script", "<link", "url(", "@import", "<img", "<iframe",
             "<object", "<embed", "<a ", "<base", "<meta http-equiv")


def assert_self_contained(page: str) -> None:
    low = page.lower()
    for bad in FORBIDDEN:
        assert bad not in low, bad
    assert "<svg" in low


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_html_is_self_contained(profiles, name):
    _, prof = profiles[name]
    page = render_html(prof)
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    assert "SRAM against the budget" in page
    assert "Cycles per function" in page
    assert "Hottest instructions" in page
    assert f"{prof.total.cycles:,}" in page
    for f in prof.functions[:5]:
        assert esc(f.name) in page


def test_html_text_cannot_smuggle_addresses():
    text = esc('see https://example.org/a <script src="x"> url(evil) URL(x)')
    assert_self_contained("<svg>" + text)
    assert "&lt;script" in text


# --- command line ------------------------------------------------------------------------------
JSON_KEYS = {"elf", "target", "core", "clock_hz", "status", "exit_code", "total", "functions",
             "layers", "hot", "memory", "blocks", "run"}


def test_cli_writes_all_outputs(cli, firmware, tmp_path):
    elf = firmware("compute.c")
    paths = {k: tmp_path / f"out.{k}" for k in ("json", "speedscope", "html")}
    result = cli("profile", elf, "--top", "7", "--json", paths["json"],
                 "--speedscope", paths["speedscope"], "--html", paths["html"], json=False)
    assert result.returncode == 0, result
    assert "Traceback" not in result.stdout + result.stderr
    for heading in ("functions", "hottest instructions", "memory", "main", "compute.c:19"):
        assert heading in result.stdout
    plain = sim.run(sim.load_elf(elf))
    doc = json.loads(paths["json"].read_text())
    assert set(doc) >= JSON_KEYS
    assert doc["total"]["instructions"] == plain.instructions
    assert doc["total"]["cycles"] == plain.cycles
    assert set(doc["total"]) == {"instructions", "cycles", "time_ms"}
    for f in doc["functions"]:
        assert set(f) >= {"name", "self", "inclusive", "share", "calls"}
        assert set(f["self"]) == set(f["inclusive"]) == {"instructions", "cycles"}
        assert 0 <= f["share"] <= 1
    assert sum(f["self"]["cycles"] for f in doc["functions"]) == plain.cycles
    assert len(doc["hot"]) == 7
    for h in doc["hot"]:
        assert set(h) >= {"address", "count", "instruction", "source"}
    assert doc["hot"][0]["source"].endswith("compute.c:19")
    assert set(doc["memory"]) >= {"sram_size", "sections", "static", "stack", "heap", "peak",
                                  "free", "flash"}
    assert doc["layers"] == []
    assert doc["run"]["instructions"] == plain.instructions
    validate_speedscope(json.loads(paths["speedscope"].read_text()))
    assert_self_contained(paths["html"].read_text())


def test_cli_missing_elf_is_one_error_line(cli, tmp_path):
    line = assert_single_error_line(cli("profile", tmp_path / "missing.elf", json=False))
    assert "missing.elf" in line


def test_cli_not_an_elf_is_one_error_line(cli, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not firmware\n")
    assert_single_error_line(cli("profile", bad, json=False))


def test_cli_exit_status_follows_the_run(cli, firmware):
    result = cli("profile", firmware("faults.c", defines={"CASE": "unmapped_read"}), json=False)
    assert result.returncode == 4
    assert "unmapped_read" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# --- eBNN firmware: layers -----------------------------------------------------------------
def test_ebnn_layers(tmp_path, cli):
    from test_ebnn_exact import random_model

    from ebnn.build import build_firmware
    from ebnn.export import export_model

    art = export_model(random_model("strided"))
    art.sample = np.random.default_rng(3).integers(0, 256, tuple(art.input_shape), np.uint8)
    result, _ = build_firmware(art, tmp_path / "strided.elf", "curie")
    plain, prof = _profile(result.elf)
    assert plain.status == "ok" and plain.exit_code == 0
    _assert_consistent(plain, prof)
    hidden = len(art.hidden)
    names = [layer.name for layer in prof.layers]
    assert names == [f"ebnn_layer{i}" for i in range(hidden)] + [OUTPUT_LAYER]
    assert all(layer.calls == 1 and layer.inclusive.cycles > 0 for layer in prof.layers)
    infer = prof.function("ebnn_infer")
    assert infer is not None
    # ebnn_infer tail-calls the output layer (b.w): still shown as its callee
    assert [OUTPUT_LAYER] in [s.stack[-1:] for s in prof.stacks if "ebnn_infer" in s.stack]
    assert max(len(s.stack) for s in prof.stacks) <= 5  # returns seen; no runaway nesting
    layer_cycles = sum(layer.inclusive.cycles for layer in prof.layers)
    assert layer_cycles <= infer.inclusive.cycles <= prof.total.cycles

    out = tmp_path / "p.json"
    cli_result = cli("profile", result.elf, "--json", out, "--html", tmp_path / "p.html",
                     json=False)
    assert cli_result.returncode == 0, cli_result
    assert "layers" in cli_result.stdout
    doc = json.loads(out.read_text())
    assert [layer["name"] for layer in doc["layers"]] == names
    assert sum(layer["cycles"] for layer in doc["layers"]) == layer_cycles
    page = (tmp_path / "p.html").read_text()
    assert "Cycles per layer" in page and "ebnn_output_layer" in page
    assert_self_contained(page)
