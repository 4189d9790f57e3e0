"""sim.formats: one renderer per output. The run summary is the same text wherever a run is
summarised (``run`` on stderr, the head of ``profile``, the pytest fixture's report section);
the JSON documents are built in one place, whatever object is asked for them."""

import json
from pathlib import Path

import sim
from sim import session
from sim.formats.json import profile_dict, report_dict
from sim.formats.text import plain_text, print_run_summary
from sim.profile import Profiler
from sim.session import RunSpec


def summary_text(report: sim.RunReport) -> str:
    return plain_text(lambda console: print_run_summary(report, console))


def test_run_prints_the_summary(firmware, cli):
    elf = firmware("faults.c", defines={"CASE": "unmapped_read"})
    result = cli("run", elf)
    assert result.returncode == 4
    assert result.stderr == summary_text(session.run(elf, RunSpec()))
    assert "unmapped_read: read outside mapped memory" in result.stderr


def test_profile_starts_with_the_same_summary(firmware, cli):
    elf = firmware("hello.c")
    result = cli("profile", elf, "--sram", "15k", json=False)
    assert result.returncode == 0
    summary = summary_text(session.run(elf, RunSpec(sram=15 * 1024)))
    assert result.stdout.startswith(summary)
    assert result.stdout[len(summary):].lstrip("\n").startswith("functions (top ")


def test_profile_applies_its_sram_budget(firmware, cli, tmp_path):
    out = tmp_path / "p.json"
    result = cli("profile", firmware("hello.c"), "--sram", "15k", "--json", out, json=False)
    assert result.returncode == 0
    doc = json.loads(out.read_text())
    assert doc["status"] == doc["run"]["status"] == "ok"
    assert doc["run"]["over_budget"] == []


def test_summary_lists_broken_budgets_and_refusals(firmware):
    report = session.run(firmware("io.c", defines={"OP": 6}), RunSpec(budgets={"stack": 1}))
    text = summary_text(report)
    assert text.startswith("over_budget  firmware exit code 0  (curie: cortex-m3 @ 32 MHz)\n")
    assert f"over budget: stack: {report.stack_peak} > 1 (over by {report.stack_peak - 1})\n" \
        in text
    assert "sandbox: SYS_SYSTEM refused: touch ebnn-sim-marker\n" in text


def test_a_broken_budget_has_thousands_separators_as_every_other_figure(firmware):
    """`run`'s budget line read 'cycles: 81785 > 50000 (over by 31785)' (s53 profiling review
    L9)."""
    report = session.run(firmware("compute.c"), RunSpec(budgets={"cycles": 1000}))
    assert report.cycles > 10_000
    line = f"cycles: {report.cycles:,} > 1,000 (over by {report.cycles - 1000:,})"
    assert report.problem == f"over budget: {line}"
    assert f"over budget: {line}\n" in summary_text(report)


def test_to_dict_is_the_json_format(firmware):
    image = firmware.image("compute.c")
    report = sim.Simulator(image).run()
    assert report.to_dict() == report_dict(report)
    prof = Profiler(sim.Simulator(image), top=5).run()
    assert prof.to_dict() == profile_dict(prof)
    assert profile_dict(prof)["run"]["instructions"] == report.instructions


def test_write_bytes_keeps_links_devices_and_modes(tmp_path) -> None:
    """Outputs are replaced whole, but a link is written through (it used to be replaced by a
    file), a device or FIFO is written into (it used to be replaced: `--json /dev/full` as
    root replaced the device), and a file keeps its mode."""
    import os
    import stat

    from sim.formats import write_bytes

    target = tmp_path / "target.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_bytes(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_bytes(Path("/dev/null"), b"x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_bytes(fifo, b"piped")
        assert os.read(reader, 16) == b"piped" and stat.S_ISFIFO(os.stat(fifo).st_mode)
    finally:
        os.close(reader)
    write_bytes(tmp_path / "new" / "r.json", b"{}")
    assert (tmp_path / "new" / "r.json").read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.json", "new",
                                                          "target.json"]  # no temp file left


def test_write_bytes_to_a_descriptor_appends_and_keeps_set_id_bits_off(tmp_path) -> None:
    """`--json /dev/stdout >> log` replaced the log file (a new inode) and lost its lines;
    a replaced file kept its setuid bit; a dangling link's folder was created."""
    import os
    import stat

    import pytest

    from sim.formats import write_bytes

    log = tmp_path / "log.txt"
    with log.open("ab") as fh:
        fh.write(b"before\n")
        fh.flush()
        inode = log.stat().st_ino
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{fh.fileno()}")
        write_bytes(link, b"{}\n")
    assert log.read_bytes() == b"before\n{}\n" and log.stat().st_ino == inode
    suid = tmp_path / "tool.json"
    suid.write_text("x")
    suid.chmod(0o4755)
    write_bytes(suid, b"y")
    assert stat.S_IMODE(os.stat(suid).st_mode) == 0o755
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere" / "x.json")
    with pytest.raises(FileNotFoundError):
        write_bytes(dangling, b"z")
    assert not (tmp_path / "nowhere").exists()


def test_static_ram_is_labelled_with_its_sections():
    from sim.formats.text import static_label
    assert static_label([]) == "none"
    assert static_label([".data", ".tbss", ".bss"]) == ".data + .bss"
    assert static_label([".dtcm", ".data", ".bss"]) == ".dtcm + .data + .bss"
    assert static_label([f".s{i}" for i in range(6)]) == ".s0 + .s1 + .s2 + .s3 + 2 more"


def test_the_summary_says_a_heap_of_task_stacks_is_no_one_stack(firmware):
    """xTaskCreate's stacks lie in FreeRTOS's ucHeap: the summary named it as if it were one
    thread's stack (s52 review); it says it is every task's at once."""
    from dataclasses import replace

    report = session.run(firmware("hello.c"), RunSpec())
    rows = summary_text(replace(report, thread_stacks={"ucHeap": 7640, "stack_a": 100}))
    assert ("thread stack   7,640 B  ucHeap (FreeRTOS's heap of xTaskCreate's stacks: every "
            "task's as one)\n") in rows
    assert "\nthread stack     100 B  stack_a" in rows
