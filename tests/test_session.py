"""sim.session: the one way every command runs an ELF (load, console input, options, simulator,
budgets), its one error for runs that cannot start, and RunReport.problem, the one explanation
of a run that failed."""

import numpy as np
import pytest
from helpers import PROGRAMS

import sim
from sim import session
from sim.budget_check import Check
from sim.formats.json import report_dict
from sim.session import RunSpec, SessionError
from toolchain.build import build

# --- runs that cannot start: one error, one line -------------------------------------------------


def one_line_error(elf, spec: RunSpec) -> SessionError:
    with pytest.raises(SessionError) as info:
        session.run(elf, spec)
    assert "\n" not in str(info.value)
    return info.value


def test_missing_and_invalid_files(tmp_path):
    assert str(one_line_error(tmp_path / "nope.elf", RunSpec())) == (
        f"{tmp_path / 'nope.elf'}: no such file")
    text = tmp_path / "notes.txt"
    text.write_text("not firmware")
    error = one_line_error(text, RunSpec())
    assert "not a valid ELF file" in str(error)
    assert error.with_elf == str(error)  # the message already names the file


def test_bad_console_input(firmware, tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array([1.5, 300.0]))
    error = one_line_error(firmware("hello.c"), RunSpec(inputs=[bad]))
    assert str(error).startswith(f"{bad}: values must be whole numbers 0..255, and the ELF "
                                 "records no input format")
    wide = tmp_path / "pcm.npy"  # whole numbers, not bytes: raw bytes are the way (review L8)
    np.save(wide, np.array([-300, 12, 4000], np.int16))
    error = one_line_error(firmware("hello.c"), RunSpec(inputs=[wide]))
    assert str(error) == (f"{wide}: values must be bytes 0..255, and these whole numbers run "
                          "from -300 to 4000: for wider samples (int16 PCM, ADC counts) give the "
                          "raw bytes your firmware reads, a .bin")
    missing = one_line_error(firmware("hello.c"), RunSpec(inputs=[tmp_path / "gone.bin"]))
    assert "gone.bin" in str(missing)


def test_unknown_target_and_unmappable_sizes_name_the_elf(firmware):
    elf = firmware("hello.c")
    target = one_line_error(elf, RunSpec(target="z80"))
    assert str(target).startswith("unknown target 'z80'; known targets: curie,")
    assert target.with_elf == f"{elf}: {target}"
    size = one_line_error(elf, RunSpec(sram=15000))
    assert str(size).startswith("SRAM size 15000 bytes cannot be mapped exactly")
    assert size.with_elf.startswith(f"{elf}: SRAM size")


def test_a_map_the_host_cannot_allocate_is_one_line(firmware, monkeypatch):
    """An ELF recording 512 MiB of flash under a memory ulimit: numpy's MemoryError used to
    reach the user as a traceback."""
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(session, "Simulator", no_memory)
    err = one_line_error(firmware("hello.c"), RunSpec(flash=512 << 20))
    assert str(err).startswith("not enough host memory to map 15 KiB of SRAM and 512 MiB of flash")


def test_output_dir_that_is_a_file(firmware, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("")
    error = one_line_error(firmware("hello.c"), RunSpec(output_dir=taken / "out"))
    assert "taken" in str(error)


# --- running -------------------------------------------------------------------------------------


def test_run_equals_the_simulator_run(firmware):
    image = firmware.image("compute.c")
    direct = sim.Simulator(image, sim.RunOptions()).run()
    via = session.run(image.path, RunSpec())
    for key in ("status", "exit_code", "instructions", "cycles", "sram", "flash", "stdout"):
        assert report_dict(via)[key] == report_dict(direct)[key], key


def test_console_input_from_the_first_input_or_from_bytes(firmware, tmp_path):
    elf = firmware("io.c", defines={"OP": 4})  # echoes its console input
    data = tmp_path / "in.bin"
    data.write_bytes(b"from a file")
    assert "from a file" in session.run(elf, RunSpec(inputs=[data])).stdout
    assert "bytes!" in session.run(elf, RunSpec(inputs=[data], stdin=b"bytes!")).stdout


def test_prepare_returns_a_simulator_that_has_not_run(firmware):
    simulator = session.prepare(firmware("hello.c"), RunSpec(sram=32 * 1024))
    assert isinstance(simulator, sim.Simulator)
    assert simulator.sram_size == 32 * 1024
    assert simulator.run().stdout == "hello, world\n"


def test_budgets_are_applied_after_a_clean_run(firmware):
    elf = firmware("hello.c")
    peak = session.run(elf, RunSpec()).stack_peak
    within = session.run(elf, RunSpec(budgets={"stack": peak}))
    assert (within.status, within.over_budget, within.problem) == ("ok", [], None)
    over = session.run(elf, RunSpec(budgets={"stack": peak - 1, "cycles": 1, "sram": 10**6}))
    assert over.status == "over_budget" and over.exit_status == 3
    assert [c.metric for c in over.over_budget] == ["stack", "cycles"]
    assert all(isinstance(c, Check) and not c.passed for c in over.over_budget)
    assert report_dict(over)["over_budget"][0] == {
        "name": "stack", "limit": peak - 1, "actual": peak}


def test_a_failed_run_keeps_its_status_and_is_not_judged(firmware):
    fault = session.run(firmware("faults.c", defines={"CASE": "unmapped_read"}),
                        RunSpec(budgets={"stack": 0}))
    assert (fault.status, fault.over_budget) == ("fault", [])
    exited = session.run(firmware("exit.c", defines={"STATUS": 7}), RunSpec(budgets={"stack": 0}))
    assert exited.status == "over_budget" and exited.exit_status == 1  # exit status first


def test_apply_budgets_to_a_report(firmware):
    report = session.prepare(firmware("hello.c"), RunSpec()).run()
    assert session.apply_budgets(report, {"flash": 1}) is report
    assert report.status == "over_budget"
    assert str(report.over_budget[0]) == f"flash: {report.flash_used} > 1 (over by " \
                                         f"{report.flash_used - 1})"


def test_fit_image_grows_the_mapping_to_what_the_image_was_linked_for(tmp_path):
    elf = tmp_path / "fw32k.elf"
    build([PROGRAMS / "hello.c"], elf, "stm32l031", sram=32 * 1024)  # the part has 8 KiB
    fitted = session.run(elf, RunSpec(fit_image=True))
    assert (fitted.status, fitted.sram_size) == ("ok", 32 * 1024)
    # by default an ELF runs in the memories it was linked for (recorded by the build) ...
    plain = session.run(elf, RunSpec())
    assert (plain.status, plain.sram_size) == ("ok", 32 * 1024)
    # ... and in the part's 8 KiB when asked: SP outside the SRAM
    part = session.run(elf, RunSpec(sram=8 * 1024))
    assert part.status == "fault"


# --- RunReport.problem ---------------------------------------------------------------------------


def test_problem_of_each_kind_of_failure(firmware):
    assert session.run(firmware("hello.c"), RunSpec()).problem is None

    fault = session.run(firmware("faults.c", defines={"CASE": "unmapped_read"}), RunSpec())
    assert fault.problem == (f"unmapped_read: {fault.fault.message} in {fault.fault.function}")
    assert fault.fault.function.startswith("unmapped_read+0x")

    limit = session.run(firmware("spin.c"), RunSpec(max_instructions=1000))
    assert limit.problem.startswith("stopped by the instruction limit: instruction limit of 1000")

    too_big = session.run(firmware("big.c"), RunSpec(flash=4096))
    assert too_big.problem.startswith("did not run: the image needs ")

    exited = session.run(firmware("exit.c", defines={"STATUS": 3}), RunSpec())
    assert exited.problem == "exited with status 3"

    over = session.run(firmware("hello.c"), RunSpec(budgets={"stack": 8, "cycles": 1}))
    assert over.problem == (f"over budget: stack: {over.stack_peak} > 8 (over by "
                            f"{over.stack_peak - 8}); cycles: {over.cycles} > 1 (over by "
                            f"{over.cycles - 1})")


def test_problem_of_a_fault_outside_every_function():
    report = sim.RunReport(
        elf="x.elf", target="curie", core="cortex-m3", clock_hz=32_000_000, status="fault",
        exit_code=None, instructions=0, cycles=0, sram_size=1024, static=0, stack_peak=0,
        heap_peak=0, heap_tracked=True, flash_size=1024, flash_used=8, stdout="",
        fault=sim.Fault(kind="hard_fault", message="reset vector", pc=0x100))
    assert report.problem == "hard_fault: reset vector at pc 0x00000100"
    report.fault = sim.Fault(kind="timeout", message="wall-clock timeout of 1 s reached")
    report.status = "timeout"
    assert report.problem == "stopped by the timeout: wall-clock timeout of 1 s reached"
