"""Third-party firmware: FreeRTOS-Kernel, read from ``../shared/thirdparty/FreeRTOS-Kernel``
beside the checkout (never copied), built with the project's toolchain with the demo of
bench/programs/freertos: the console equals QEMU's on the CM3, CM4F and CM0 ports
(`python -m bench freertos` measures the same on the results page)."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(REPO))

from bench import freertos  # noqa: E402

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
    # a spinner's peak is its exception frame (plus a few words of its own): 8 words, or on
    # the M4F, where it computes in floating point, the 26-word FP frame
    frame = 4 * 26 if target == "nrf52832" else 4 * 8
    assert frame < stacks["stack_spin_a"] <= frame + 40
