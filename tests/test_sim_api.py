"""The simulator's public API: memory and registers, live counters, block and entry callbacks,
core records, devices, and the native library's layout check."""

import dataclasses

import numpy as np
import pytest

import sim
from sim import devices, native
from toolchain.cores import CORES, Core, get_core
from toolchain.memory_map import FLASH_BASE, SRAM_BASE
from toolchain.profiles import TARGETS, Target


def test_read_memory_and_registers_after_a_run(firmware):
    image = sim.load_elf(firmware("loop.S", runtime=False, defines={"N": 10}))
    s = sim.Simulator(image, sim.RunOptions())
    report = s.run()
    assert report.instructions == 24
    sp0 = int.from_bytes(s.read_memory(FLASH_BASE, 4), "little")
    assert sp0 == SRAM_BASE + s.sram_size
    assert s.read_register("r0") == 0x20  # SYS_EXIT_EXTENDED, as loop.S left it
    assert s.read_register("sp") == sp0
    with pytest.raises(ValueError, match="not in flash or SRAM"):
        s.read_memory(SRAM_BASE + s.sram_size - 2, 4)


def test_block_callback_sees_counts_that_include_its_block(firmware):
    image = sim.load_elf(firmware("loop.S", runtime=False, defines={"N": 10}))
    s = sim.Simulator(image, sim.RunOptions())
    seen: list[tuple[int, int]] = []
    s.on_block(lambda address, size: seen.append((address, s.instructions)))
    report = s.run()
    assert len(seen) >= 10  # at least one block per loop iteration
    counts = [n for _, n in seen]
    assert counts == sorted(counts) and counts[0] > 0
    assert counts[-1] == report.instructions


def test_entry_callback_runs_each_time_the_address_is_reached(firmware):
    image = sim.load_elf(firmware("loop.S", runtime=False, defines={"N": 10}))
    s = sim.Simulator(image, sim.RunOptions())
    hits: list[int] = []
    s.on_entry(image.symbols["loop"], lambda: hits.append(s.read_register("r1")))
    s.run()
    assert hits == list(range(10, 0, -1))  # r1 counts down from N


def test_callbacks_and_marks_added_after_a_run_see_the_next_run(firmware):
    # code translated by the first run must not keep running without the new hooks
    image = sim.load_elf(firmware("loop.S", runtime=False, defines={"N": 10}))
    s = sim.Simulator(image, sim.RunOptions())
    first = s.run()
    blocks: list[int] = []
    hits: list[int] = []
    s.on_block(lambda address, size: blocks.append(address))
    s.on_entry(image.symbols["loop"], lambda: hits.append(s.read_register("r1")))
    s.add_marks([image.symbols["loop"]], capacity=16)
    second = s.run()
    assert second.instructions == first.instructions
    assert len(blocks) >= 10 and hits == list(range(10, 0, -1))
    assert s.marks_reached == 10


def test_every_target_refers_to_a_core_record():
    assert set(CORES) == {t.core for t in TARGETS.values()}
    for t in TARGETS.values():
        core = t.cpu
        assert isinstance(core, Core) and core.name == t.core
        assert f"-mcpu={core.name}" in t.cflags
        assert t.fpu is None or t.fpu == core.fpu
    assert not get_core("cortex-m0plus").unaligned_access
    assert get_core("cortex-m3").unaligned_access


def test_unknown_core_and_wrong_fpu_are_one_line_errors():
    with pytest.raises(ValueError, match="unknown core 'cortex-m5'") as info:
        get_core("cortex-m5")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="cortex-m3 has no FPU"):
        Target("x", "x", "cortex-m3", 1_000_000, 1024, 1024, 0, "fpv4-sp-d16")


def test_a_device_registered_for_a_target_answers_the_firmware(firmware, monkeypatch):
    """A device in the registry, named by a target, is mapped, reset per run and sees the
    firmware's stores and loads with their offset and size."""
    log: list[tuple] = []

    class Doubler(devices.Device):
        name, base, size = "doubler", 0x4000_0000, 0x400

        def reset(self) -> None:
            log.append(("reset",))
            self.value = 0

        def read(self, offset: int, size: int) -> int:
            log.append(("read", offset, size))
            return 2 * self.value

        def write(self, offset: int, size: int, value: int) -> None:
            log.append(("write", offset, size, value))
            self.value = value

    monkeypatch.setitem(devices.REGISTRY, "doubler", Doubler)
    target = dataclasses.replace(TARGETS["curie"], name="curie-doubler",
                                 devices=("scs", "doubler"))
    monkeypatch.setitem(TARGETS, target.name, target)
    image = sim.load_elf(firmware("device.c", defines={"DEVICE_ADDR": "0x40000010u"}))
    s = sim.Simulator(image, sim.RunOptions(target=target.name))
    for _ in range(2):
        log.clear()
        report = s.run()
        assert (report.status, report.exit_code) == ("ok", 42)
        assert log == [("reset",), ("write", 0x10, 4, 21), ("read", 0x10, 4)]


def test_an_unknown_device_name_is_refused(firmware, monkeypatch):
    target = dataclasses.replace(TARGETS["curie"], name="curie-x", devices=("nothing",))
    monkeypatch.setitem(TARGETS, target.name, target)
    with pytest.raises(ValueError, match="unknown device 'nothing'"):
        sim.Simulator(firmware.image("exit.c"), sim.RunOptions(target=target.name))


def test_native_layout_mismatch_is_detected(monkeypatch):
    lib = native.library()
    native.check_layout(lib)  # the shipped mirror matches
    real = native._python_layout()
    monkeypatch.setattr(native, "_python_layout", lambda: [*real[:3], real[3] + 4, *real[4:]])
    with pytest.raises(native.NativeUnavailable, match="rebuild"):
        native.check_layout(lib)


def test_marks_count_live_during_the_run(firmware):
    image = sim.load_elf(firmware("loop.S", runtime=False, defines={"N": 10}))
    s = sim.Simulator(image, sim.RunOptions())
    s.add_marks([image.symbols["loop"]], capacity=16)
    live: list[int] = []
    s.on_entry(image.symbols["loop"], lambda: live.append(s.marks_reached))
    s.run()
    assert s.marks_reached == 10 and len(s.marks()) == 10
    assert live == sorted(live) and live[-1] <= 10
    assert np.all(s.marks()[:, 0] == image.symbols["loop"])
