"""``ebnn-sim diff BASE.json HEAD.json``: what changed between two reports.

Real reports come from the same program (loop.S: 2N + 4 instructions) built with two values of
-DN; profile-shaped reports (``total``/``functions``/``layers``) are written by hand in the
shape ``ebnn-sim profile --json`` produces.
"""

import json
from pathlib import Path

import pytest
from helpers import assert_single_error_line, run_cli_in_process

from sim.diff import DiffError, diff, load_report
from sim.formats.markdown import diff_markdown


@pytest.fixture(scope="module")
def loop_reports(firmware, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("diff")
    paths = []
    for n, name in ((100, "base.json"), (200, "head.json")):
        elf = firmware("loop.S", runtime=False, defines={"N": n})
        result = run_cli_in_process("run", elf, json_path=out / name)
        assert result.returncode == 0, result
        paths.append(out / name)
    return paths[0], paths[1]


def profile(total: tuple[int, int], functions: dict[str, tuple[int, int]],
            layers: dict[str, tuple[int, int]], stack: int = 100) -> dict:
    def entries(items: dict[str, tuple[int, int]]) -> list[dict]:
        return [{"name": name, "self": {"instructions": i, "cycles": c},
                 "inclusive": {"instructions": 2 * i, "cycles": 2 * c}, "share": 0.1}
                for name, (i, c) in items.items()]

    return {"total": {"instructions": total[0], "cycles": total[1]},
            "functions": entries(functions), "layers": entries(layers),
            "memory": {"sram": {"static": 200, "stack_peak": stack, "heap_peak": 0,
                                "peak": 200 + stack},
                       "flash": {"used": 4000}}}


def test_two_runs_of_loop(loop_reports):
    base_path, head_path = loop_reports
    base, head = json.loads(base_path.read_text()), json.loads(head_path.read_text())
    assert (base["instructions"], head["instructions"]) == (204, 404)
    d = diff(load_report(base_path), load_report(head_path))
    by_name = {c.name: c for c in d.summary}
    assert set(by_name) == {"instructions", "cycles", "time", "SRAM peak", "static RAM",
                            "stack peak", "heap peak", "flash"}
    ins = by_name["instructions"]
    assert (ins.base, ins.head, ins.delta) == (204, 404, 200)
    assert ins.relative == pytest.approx(200 / 204)
    cyc = by_name["cycles"]
    assert cyc.delta == head["cycles"] - base["cycles"] > 0
    assert by_name["flash"].delta == 0 and not by_name["flash"].changed
    # changed metrics first, by size of relative change; unchanged ones last
    changed = [c for c in d.summary if c.changed]
    assert {c.name for c in changed} == {"instructions", "cycles", "time"}
    assert by_name["time"].delta == pytest.approx(head["time_ms"] - base["time_ms"])
    assert d.summary[:3] == sorted(changed, key=lambda c: -abs(c.relative))
    assert d.sections == {}  # run reports have no functions or layers


def test_cli_terminal_output(loop_reports):
    base, head = loop_reports
    result = run_cli_in_process("diff", base, head)
    assert result.returncode == 0, result
    head_cycles = json.loads(head.read_text())["cycles"]
    base_cycles = json.loads(base.read_text())["cycles"]
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in result.stdout.splitlines() if line.count("│") == 6}
    assert rows["instructions"] == ["204", "404", "+200", "+98.04%"]
    assert rows["cycles"] == [f"{base_cycles:,}", f"{head_cycles:,}",
                              f"{head_cycles - base_cycles:+,}",
                              f"{100 * (head_cycles - base_cycles) / base_cycles:+.2f}%"]
    assert rows["flash"][2] == "0"
    order = list(rows)
    assert order.index("instructions") < order.index("flash")


def test_cli_terminal_output_fits_80_columns():
    """Issue 16: the README's diff in a CI log keeps every figure within 80 columns."""
    examples = Path(__file__).resolve().parent.parent / "examples" / "reports"
    result = run_cli_in_process("diff", examples / "mnist-tiny.json", examples / "mnist.json",
                                env={"COLUMNS": "80"})
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80, result.stdout
    cycles = json.loads((examples / "mnist.json").read_text())["cycles"]
    assert f"{cycles:,}" in result.stdout and "…" not in result.stdout


def test_cli_markdown(loop_reports):
    base, head = loop_reports
    result = run_cli_in_process("diff", base, head, "--markdown")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"### ebnn-sim: `{base}` → `{head}`"
    assert "| metric | base | head | change | % |" in lines
    assert "| instructions | 204 | 404 | **+200** | +98.04% |" in lines
    flash = json.loads(base.read_text())["flash"]["used"]
    assert f"| flash | {flash:,} B | {flash:,} B | 0 | 0% |" in lines
    assert result.stderr == ""


def test_functions_and_layers(tmp_path):
    base = profile((1000, 1500), {"main": (100, 150), "conv": (800, 1200), "old": (100, 150)},
                   {"conv1": (800, 1200), "fc": (10, 20)}, stack=100)
    head = profile((1100, 1500), {"main": (100, 150), "conv": (700, 1000), "popcount": (300, 350)},
                   {"conv1": (1000, 1350), "fc": (10, 20)}, stack=96)
    (tmp_path / "b.json").write_text(json.dumps(base))
    (tmp_path / "h.json").write_text(json.dumps(head))
    d = diff(load_report(tmp_path / "b.json"), load_report(tmp_path / "h.json"))

    by_name = {c.name: c for c in d.summary}
    assert (by_name["instructions"].delta, by_name["cycles"].delta) == (100, 0)
    assert by_name["stack peak"].delta == -4 and by_name["SRAM peak"].delta == -4
    assert by_name["flash"].delta == 0

    # functions by self counts, largest cycle change first; unchanged ones counted, not listed
    funcs = d.sections["functions"]
    assert [(f.name, f.cycles.delta, f.instructions.delta) for f in funcs] == [
        ("popcount", 350, 300), ("conv", -200, -100), ("old", -150, -100)]
    assert funcs[0].cycles.delta_text == "new" and funcs[2].cycles.delta_text == "gone"
    assert d.unchanged["functions"] == 1
    # layers by inclusive counts (twice the self counts in these reports)
    [layer] = d.sections["layers"]
    assert (layer.name, layer.instructions.base, layer.instructions.head) == ("conv1", 1600, 2000)
    assert layer.cycles.relative == pytest.approx(300 / 2400)
    assert d.unchanged["layers"] == 1

    md = diff_markdown(d, "b.json", "h.json")
    assert "#### functions (self counts)" in md and "#### layers (inclusive counts)" in md
    assert "| `popcount` | 300 | new | 350 | new | — |" in md
    assert "| `conv` | 700 | -100 | 1,000 | -200 | -16.67% |" in md
    assert "| `conv1` | 2,000 | **+400** | 2,700 | **+300** | +12.50% |" in md

    result = run_cli_in_process("diff", tmp_path / "b.json", tmp_path / "h.json", "--limit", "1")
    assert result.returncode == 0, result
    assert "popcount" in result.stdout and "conv " not in result.stdout.split("layers")[0]
    assert "2 more changed" in result.stdout


def test_run_report_against_profile_report(loop_reports, tmp_path):
    base, _ = loop_reports
    (tmp_path / "p.json").write_text(json.dumps(profile((250, 300), {}, {})))
    d = diff(load_report(base), load_report(tmp_path / "p.json"))
    ins = next(c for c in d.summary if c.name == "instructions")
    assert (ins.base, ins.head) == (204, 250)
    assert d.sections == {}  # functions are compared only when both reports list them


def test_two_real_profiles(firmware, tmp_path):
    """`ebnn-sim profile --json` of loop.S with N=100 and N=200: the loop is in Reset_Handler."""
    paths = []
    for n in (100, 200):
        elf = firmware("loop.S", runtime=False, defines={"N": n})
        path = tmp_path / f"profile-{n}.json"
        result = run_cli_in_process("profile", elf, "--json", path)
        assert result.returncode == 0, result
        paths.append(path)
    d = diff(load_report(paths[0]), load_report(paths[1]))
    ins = next(c for c in d.summary if c.name == "instructions")
    assert (ins.base, ins.head) == (204, 404)
    [func] = d.sections["functions"]
    assert (func.name, func.instructions.base, func.instructions.head) == (
        "Reset_Handler", 204, 404)
    assert func.cycles.delta == next(c for c in d.summary if c.name == "cycles").delta
    md = run_cli_in_process("diff", *paths, "--markdown").stdout
    assert "| `Reset_Handler` | 404 | **+200** |" in md


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    ("dir", "not a regular file"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not an ebnn-sim report"),
    ('{"status": "ok"}', "not an ebnn-sim report"),
    # measurements that are not counts: shown as gone or as changes before
    ('{"instructions": "12", "cycles": 5}', 'instructions is "12", not a non-negative number'),
    ('{"instructions": true}', "instructions is true, not a non-negative number"),
    ('{"instructions": -5}', "instructions is -5, not a non-negative number"),
    ('{"instructions": NaN}', "instructions is NaN, not a non-negative number"),
    ('{"cycles": 1, "functions": [{"name": "f", "self": {"cycles": "x"}}]}',
     'functions[0] cycles is "x", not a non-negative number'),
    # tables and lists holding something else were read as absent
    ('{"instructions": 5, "flash": "x"}', 'flash is "x", not a table'),
    ('{"instructions": 5, "functions": [1, 2]}', "functions[0] is 1, not an entry"),
    ('{"instructions": 5, "layers": {"a": 1}}', "layers is not a list"),
])
def test_bad_reports_exit_2(loop_reports, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    if content == "dir":
        bad.mkdir()
    elif content is not None:
        bad.write_text(content)
    line = assert_single_error_line(run_cli_in_process("diff", loop_reports[0], bad))
    assert line.startswith(f"error: {bad}: {message}"), line
    # either side
    line = assert_single_error_line(run_cli_in_process("diff", bad, loop_reports[1]))
    assert message in line


def test_a_fault_or_another_target_is_said_above_the_tables(loop_reports, tmp_path):
    # A head run stopped by a stack overflow read as 'cycles -80%', an improvement; an M3 at
    # 32 MHz was set against an M33 at 110 MHz without a word.
    base_path, head_path = loop_reports
    head = json.loads(head_path.read_text())
    assert diff(load_report(base_path), load_report(head_path)).notes == []
    over = {**head, "status": "over_budget", "over_budget": ["stack"]}  # ran to its end
    (tmp_path / "over.json").write_text(json.dumps(over))
    assert diff(load_report(base_path), load_report(tmp_path / "over.json")).notes == []
    faulted = {**head, "status": "fault", "exit_code": None,
               "fault": {**(head.get("fault") or {}), "kind": "stack_overflow"}}
    other = {**head, "target": "stm32l552", "core": "cortex-m33", "clock_hz": 110_000_000}
    exited = {**head, "exit_code": 3}
    clocked = {**head, "clock_changes": 3}
    cases = {"faulted": (faulted, "head: the run ended 'fault' (stack_overflow)"),
             "clocked": (clocked, "head: the firmware set its clock up (3 changes): time is "
                                  "device time at its clocks"),
             "other": (other, "different targets: base curie (cortex-m3 @ 32 MHz), head "
                              "stm32l552 (cortex-m33 @ 110 MHz)"),
             "exited": (exited, "head: the firmware exited with status 3")}
    for name, (report, note) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(report))
        d = diff(load_report(base_path), load_report(path))
        assert len(d.notes) == 1 and d.notes[0].startswith(note), d.notes
        markdown = diff_markdown(d)
        assert f"> **Note:** {note}" in markdown
        assert markdown.index("Note:") < markdown.index("| metric |")
        text = run_cli_in_process("diff", base_path, path, env={"COLUMNS": "200"})
        assert text.returncode == 0 and f"note: {note}" in text.stdout


def test_no_change_is_said_once(tmp_path):
    same = profile((1000, 1500), {"main": (100, 150)}, {})
    d = diff(same, same)
    assert diff_markdown(d).count("No change") == 1


def test_other_wait_states_or_versions_are_said_above_the_tables(firmware, loop_reports,
                                                                  tmp_path):
    """The same ELF run with --wait-states 3 read as 'cycles +N%' without a word, and nothing
    told reports of two ebnn-sim versions (or cycle models) apart (s53 profiling review M4).
    Reports record the version and the cycle model; one without them (older) is still read,
    with a note."""
    from sim.formats.json import CYCLE_MODEL, tool_version

    elf = firmware("loop.S", runtime=False, defines={"N": 100})
    slow = tmp_path / "ws3.json"
    assert run_cli_in_process("run", elf, "--wait-states", "3", json_path=slow).returncode == 0
    base_path, _ = loop_reports
    base = json.loads(base_path.read_text())
    assert base["ebnn_sim_version"] == tool_version() and base["cycle_model"] == CYCLE_MODEL
    assert base["flash_wait_states"] == 0
    d = diff(load_report(base_path), load_report(slow))
    assert d.notes == ["different flash wait states: base 0, head 3 (--wait-states, or the "
                       "target's): every refill pays them, so cycles and time compare "
                       "different flash timings"]
    newer = {**base, "ebnn_sim_version": "9.9", "cycle_model": CYCLE_MODEL + 1}
    older = {k: v for k, v in base.items() if k not in ("ebnn_sim_version", "cycle_model")}
    for name, report, note in (
            ("newer", newer, f"made by different ebnn-sim versions: base {tool_version()} "
                             f"(cycle model {CYCLE_MODEL}), head 9.9 (cycle model "
                             f"{CYCLE_MODEL + 1}): cycles were estimated by different models"),
            ("older", older, "base: made by an older ebnn-sim that recorded no version")):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(report))
        pair = (path, base_path) if name == "older" else (base_path, path)
        d = diff(load_report(pair[0]), load_report(pair[1]))
        assert len(d.notes) == 1 and d.notes[0].startswith(note), d.notes
    # a profile carries them too (and its run report)
    prof = tmp_path / "p.json"
    assert run_cli_in_process("profile", elf, "--json", prof).returncode == 0
    doc = json.loads(prof.read_text())
    assert doc["cycle_model"] == doc["run"]["cycle_model"] == CYCLE_MODEL


def test_time_longest_calls_thread_stacks_and_check_reports(firmware, tmp_path):
    """diff showed no time (even for other clocks), no change of a function's longest call
    (what call_cycles budgets) or of a thread stack, could not read `check --json`, and wrote
    a change of 1 in 51,510 as -0.00% (s53 profiling review L7)."""
    from tests.test_exceptions import irq_program

    def profiled(elf: Path, name: str, *args: str) -> Path:
        path = tmp_path / name
        assert run_cli_in_process("profile", elf, "--json", path, *args).returncode == 0
        return path

    threads = irq_program(firmware, "threads.c")
    slow = profiled(threads, "slow.json", "--wait-states", "2")
    fast = profiled(threads, "fast.json")
    base, head = json.loads(slow.read_text()), json.loads(fast.read_text())
    d = diff(load_report(slow), load_report(fast))
    by_name = {c.name: c for c in d.summary}
    time = by_name["time"]
    assert (time.base, time.head) == (base["total"]["time_ms"], head["total"]["time_ms"])
    assert time.delta < 0
    stacks = head["run"]["sram"]["thread_stacks"]
    assert set(stacks) == {"stack_a", "stack_b"}
    for name, peak in stacks.items():
        row = by_name[f"thread stack {name}"]
        assert (row.head, row.unit) == (peak, "B") and not row.changed  # same ELF
    longest = {f["name"]: f["max_call_cycles"] for f in base["functions"]}
    assert d.calls and all(c.changed for c in d.calls)
    for c in d.calls:
        assert c.base == longest[c.name]
    markdown = diff_markdown(d)
    assert "#### longest calls (cycles of one call: what call_cycles budgets)" in markdown
    assert f"| `{d.calls[0].name}` | {d.calls[0].base_text} |" in markdown
    # a check report of one run is that run's report
    (tmp_path / "b.toml").write_text(f'[[budget]]\nelf = "{threads}"\nstack = "1k"\n')
    assert run_cli_in_process("check", "--config", "b.toml", "--json", "c.json",
                              cwd=tmp_path).returncode == 0
    d = diff(load_report(fast), load_report(tmp_path / "c.json"))
    assert not any(c.changed for c in d.summary)
    report = json.loads((tmp_path / "c.json").read_text())["elfs"][0]["report"]
    (tmp_path / "two.json").write_text(json.dumps({"config": "b.toml", "elfs": [
        {"elf": "a.elf", "report": report}, {"elf": "b.elf", "report": report}]}))
    with pytest.raises(DiffError, match=r"an `ebnn-sim check` report of 2 runs \(a.elf, b.elf\)"):
        load_report(tmp_path / "two.json")
    tiny = diff({"instructions": 51_510}, {"instructions": 51_509})
    assert tiny.summary[0].relative_text == "-<0.01%"


def test_a_check_report_of_an_error_says_the_error(tmp_path):
    """`check --json` of a check that stopped at an error (exit 2: a bad budgets file) holds no
    run: diff says which error, not "a report of 0 runs ()"."""
    result = run_cli_in_process("check", "--config", "nope.toml", "--json", "c.json",
                                cwd=tmp_path)
    assert result.returncode == 2
    with pytest.raises(DiffError, match=r"c.json: an `ebnn-sim check` report of a check that "
                                        r"stopped at an error before any run: nope.toml: config "
                                        r"file not found$"):
        load_report(tmp_path / "c.json")
