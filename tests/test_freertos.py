"""Third-party firmware: FreeRTOS-Kernel, read from ``../shared/thirdparty/FreeRTOS-Kernel``
beside the checkout (never copied), built with the project's toolchain with the demo of
bench/programs/freertos: the console equals QEMU's on the CM3, CM4F and CM0 ports
(`python -m bench freertos` measures the same on the results page)."""

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(REPO))

import sim  # noqa: E402
from bench import freertos  # noqa: E402
from sim.native import CHECK_SP_ENV  # noqa: E402

EXPECTED = """starting the scheduler
consumer: got 1 at tick 10
consumer: got 2 at tick 20
waiter: semaphore from the ISR at tick 25
consumer: got 3 at tick 30
consumer: got 4 at tick 40
consumer: got 5 at tick 50
waiter: semaphore from the ISR at tick 55
waiter: semaphore from the ISR at tick 85
waiter: semaphore from the ISR at tick 115
time slicing: both spinners ran
items consumed 5 at tick 120
semaphores taken 4 at tick 120
idle task ran
"""


@pytest.mark.parametrize("target", list(freertos.PORTS))
def test_freertos_demo_runs_as_under_qemu(tmp_path, target):
    assert freertos.KERNEL.is_dir(), f"{freertos.KERNEL} is needed (the team's shared folder)"
    entry = freertos.measure_target(target, tmp_path, repeats=1, use_qemu=True)
    assert (entry["status"], entry["exit_code"]) == ("ok", 0)
    assert entry["stdout"] == EXPECTED
    assert entry["matches_qemu"] is True
    assert entry["exceptions"] == {"SVCall": 1, "PendSV": 126, "SysTick": 120, "IRQ0": 4}
    assert 0.1 < entry["sleep_share"] < 0.3  # the idle task's WFI for the last 20 ticks
    stacks = entry["thread_stacks"]
    assert set(stacks) == {"stack_producer", "stack_consumer", "stack_waiter", "stack_spin_a",
                           "stack_spin_b", "stack_control", "stack_idle"}
    # a spinner's peak is its exception frame and the context PendSV saves below it (plus a
    # few words of its own): 8 words and r4-r11 (CM0: and LR); on the M4F, where it computes
    # in floating point, the 26-word FP frame, s16-s31, r4-r11 and LR
    frame = {"curie": 32 + 32, "nrf52832": 104 + 64 + 36, "stm32l031": 32 + 36}[target]
    assert frame < stacks["stack_spin_a"] <= frame + 40


@pytest.mark.parametrize("target", list(freertos.PORTS))
def test_thread_stack_peaks_agree_with_freertos_own_high_water_marks(tmp_path, target,
                                                                     monkeypatch):
    """The demo built with STACK_REPORT prints each task's stack use as FreeRTOS measures it
    (uxTaskGetStackHighWaterMark: stacks painted at creation). The simulator's peak is the
    lowest SP or handler store seen: never below FreeRTOS's count of written bytes, and at
    most a word or two above it (stack reserved by a frame but never written). The block
    hook's shadow SP checks itself against SP throughout (context switches move SP)."""
    monkeypatch.setenv(CHECK_SP_ENV, "1")
    elf = freertos.build_demo(target, tmp_path, stack_report=True)
    report = sim.run(sim.load_elf(elf))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    own = {name: int(n) for name, n in re.findall(r"(stack_\w+) (\d+) at tick", report.stdout)}
    assert set(own) == set(report.thread_stacks)
    for name, used in own.items():
        assert 0 <= report.thread_stacks[name] - used <= 8, (name, used, report.thread_stacks)


def test_native_exception_path_equals_the_python_reference(tmp_path, monkeypatch):
    """On the M4F (extended frames, SysTick, SVC): the run with entry and return in C gives
    the same report as with every exception in Python (what a profiler's trace turns on).
    Both check the block hook's shadow SP against SP throughout."""
    monkeypatch.setenv(CHECK_SP_ENV, "1")
    elf = freertos.build_demo("nrf52832", tmp_path)
    fast = sim.Simulator(sim.load_elf(elf))
    reference = sim.Simulator(sim.load_elf(elf))
    reference.exceptions.trace = []
    a, b = fast.run(), reference.run()
    assert a.status == b.status == "ok"
    assert (a.stdout, a.instructions, a.cycles, a.sleep_cycles, a.exceptions, a.tail_chained,
            a.handler_cycles, a.thread_stacks, a.stack_peak) == (
        b.stdout, b.instructions, b.cycles, b.sleep_cycles, b.exceptions, b.tail_chained,
        b.handler_cycles, b.thread_stacks, b.stack_peak)
