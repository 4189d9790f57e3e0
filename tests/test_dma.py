"""The STM32L0's DMA1 (sim/devices/stm32l0_dma.py): memory-to-memory copies, the serial ports'
bytes and the ADC's results moved as their requests come, the flags and interrupts HAL_DMA
waits for, and the transfer error."""


import pytest
from helpers import build_example

from tests.test_exceptions import irq_program

BYTE_MS = 10 * (32_000_000 // 115_200) / 32_000_000 * 1e3  # a frame at 115200 baud: 86.8 us


def dma(firmware, case: str, **defines):
    return irq_program(firmware, "dma.c", "stm32l031", **{f"CASE_{case}": None}, **defines)


def device_ms(report) -> float:
    return report["time_ms"] + report["sleep_ms"]


def test_a_memory_to_memory_copy_and_its_widths(firmware, cli):
    res = cli("run", dma(firmware, "copy"))
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "words 1 widened 1\n"
    assert res.report["unmodelled_registers"] == []


def test_a_serial_line_sent_by_dma_goes_out_at_the_baud_rate(firmware, cli):
    """25 bytes through USART2's transmitter by DMA: the DMA's TC interrupt comes when the
    last byte is written (two frames before the line is done), the run ends after the last
    frame (the firmware waits for the USART's TC)."""
    res = cli("run", dma(firmware, "tx"))
    assert res.returncode == 0, res.report["fault"]
    report = res.report
    assert report["stdout"] == "sent by DMA, 26 bytes..\r\ndma done, left 0\n"
    assert report["exceptions"]["taken"] == {"IRQ11": 1}
    assert 25 * BYTE_MS < device_ms(report) < 25 * BYTE_MS + 0.05
    assert report["sleep_ms"] > 22 * BYTE_MS  # asleep while the DMA fed the port
    assert report["unmodelled_registers"] == []


def test_bytes_received_by_dma_arrive_at_the_baud_rate(firmware, cli, tmp_path):
    data = tmp_path / "in.txt"
    data.write_bytes(b"abcdefgh")
    res = cli("run", dma(firmware, "rx"), "--input", data)
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "got abcdef\n"
    assert 6 * BYTE_MS < device_ms(res.report) < 6 * BYTE_MS + 0.05


def test_the_adc_by_dma_in_circular_mode(firmware, cli):
    """VREFINT and the temperature sensor converted continuously into a 4-item circular
    buffer: three rounds, each with a half-transfer and a transfer-complete interrupt, every
    result read in time (no overrun)."""
    res = cli("run", dma(firmware, "adc"))
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "rounds 3 halves 3 vref 1 temp 1 ovr 0\n"
    assert res.report["exceptions"]["taken"] == {"IRQ9": 6}


def test_the_adcs_one_shot_dma_mode_stops_at_the_end_of_transfer(firmware, cli):
    """CFGR1.DMACFG clear: the DMA channel's end of transfer, even a circular channel's,
    stops the ADC (DR frozen, the conversion aborted, no more requests): one round, no
    overrun."""
    res = cli("run", dma(firmware, "adc", ONESHOT=None))
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "rounds 1 halves 1 vref 1 temp 1 ovr 0\n"
    assert res.report["exceptions"]["taken"] == {"IRQ9": 2}


def test_a_transfer_to_nowhere_is_a_transfer_error(firmware, cli):
    res = cli("run", dma(firmware, "error"))
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "teif 1 en 0\n"


def test_a_channel_enabled_takes_no_new_count(firmware, cli):
    res = cli("run", dma(firmware, "locked"))
    assert res.returncode == 0, res.report["fault"]
    assert any("stm32l0_dma+0x070" in u and "channel 6 is enabled" in u
               for u in res.report["unmodelled_registers"])


@pytest.mark.parametrize("case, status, why", [
    ("copy", "timeout", "while its clock is off (RCC AHBENR bit 0)"),  # polling ISR
    ("tx", "deadlock", "WFI with nothing that can ever wake the core"),  # no interrupt to come
])
def test_without_its_clock_nothing_moves(firmware, cli, case, status, why):
    """DMAEN never set: the channel's registers read 0 and ignore writes (listed), and the
    firmware waits for ever for its flag or its interrupt, as on the chip; the run's end says
    why."""
    elf = irq_program(firmware, "dma.c", "stm32l031", NO_CLOCK=None, **{f"CASE_{case}": None})
    res = cli("run", elf, "--max-instructions", "200000")
    assert res.returncode == 5 and res.report["status"] == status
    assert why in res.report["fault"]["message"]
    assert any(u.startswith("stm32l0_dma+0x") and "its clock is off" in u
               for u in res.report["unmodelled_registers"])


def test_the_low_power_example_sends_by_dma(cli, tmp_path):
    """examples/lowpower/sensor_node.c built with DMA_TX (docs/ci.md): the same lines, each
    sent by DMA while the core sleeps; the numbers docs/ci.md shows."""
    elf = build_example(cli, tmp_path, "lowpower/sensor_node.c", "DMA_TX")
    res = cli("run", elf, "--run-for", "10s")
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"].replace("\r", "").splitlines() == ["sensor node up"] + [
        f"12:00:0{s} vdda 3000 mV temp 30 C" for s in range(1, 10)]
    assert report["cycles"] == 33_918 and round(report["time_ms"], 3) == 1.075
    assert report["exceptions"]["taken"] == {"IRQ2": 9, "IRQ11": 10}
    assert round(report["pins"]["PB3"]["high_ms"], 3) == 0.911


@pytest.mark.parametrize("case, out", [
    ("reenable", "cndtr 0 again 0"),  # a count run out moves nothing more
    ("teie", "errors 1"),  # the transfer error's interrupt
    ("ahbrst", "isr 0 entries 1"),  # a reset by the RCC drops the flags and the line
    ("code", "before 1 after 2"),  # code in SRAM rewritten by the DMA runs anew
    ("factory", "teif 1"),  # read-only system memory: the DMA's error, not the core's
    ("align", "word 5"),  # an address aligned down to its item's size
])
def test_the_channel_as_rm0377_says(firmware, cli, case, out):
    res = cli("run", dma(firmware, case), "--max-instructions", "1000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == out + "\n"


def test_cndtr_reads_what_is_left_after_the_channel_is_disabled(firmware, cli, tmp_path):
    """10 bytes asked for, 3 come: disabled, the channel's CNDTR says 7 were not received (the
    way a driver counts a short reception)."""
    data = tmp_path / "in.txt"
    data.write_bytes(b"abc")
    res = cli("run", dma(firmware, "partial"), "--input", data)
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "left 7\n"


def test_a_request_that_never_drops_is_paced_in_device_time(firmware, cli):
    """A transmit channel pointed at an SRAM word: TXE never clears, so the request stays up;
    the DMA serves it at an item every 4 cycles as the core runs, not all at once."""
    res = cli("run", dma(firmware, "runaway"), "--max-instructions", "1000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "moved 1000\n"
    assert res.report["cycles"] > 4 * (1000 - 4)


def test_a_copy_is_not_held_up_by_rcc_writes(firmware, cli):
    """A loop that writes an RCC register while it waits for a 1000-item copy: the copy ends
    as without (the clock changes nothing for it)."""
    res = cli("run", dma(firmware, "rccpoll"), "--max-instructions", "1000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "done\n"
    assert 4000 <= res.report["cycles"] < 20_000  # (start-up zeroes the 4 KB buffer too)


def test_lpuart1_sends_through_its_own_channel(firmware, cli):
    """LPUART1's transmitter on channel 7 (CSELR code 5): the line on the console, at the
    line's pace (BRR for 115200 baud: a frame of 2,778 cycles)."""
    res = cli("run", dma(firmware, "lpuart"), "--max-instructions", "1000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "sent by DMA on LPUART1\r\n"
    assert 24 * BYTE_MS < device_ms(res.report) < 24 * BYTE_MS + 0.1


def test_a_memory_to_memory_copy_takes_four_cycles_an_item(firmware, cli):
    """64 words: TCIF seen 256 cycles after EN (plus the polling loop's last turn)."""
    res = cli("run", dma(firmware, "timing"))
    assert res.returncode == 0, res.report["fault"]
    cycles = int(res.report["stdout"].split()[1])
    assert 64 * 4 <= cycles < 64 * 4 + 40, cycles
