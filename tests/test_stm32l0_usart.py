"""The STM32L0's USART2 and LPUART1 (sim/devices/stm32l0_usart.py) on the stm32l031 profile:
vendor-style polled and interrupt-driven serial I/O from tests/programs/irq/usart.c, the clock
gate, and the registers one by one."""

import pytest
from helpers import FakeDeviceHost

import sim
from sim import devices
from sim.devices.stm32l0_usart import BRR, CR1, CR3, ISR, RDR, TDR, Stm32l0Lpuart1, Stm32l0Usart2
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")  # a regression fails, not hangs


def usart(firmware, case: str):
    return irq_program(firmware, "usart.c", "stm32l031", **{f"CASE_{case}": None})


def test_polled_usart2_prints_and_reads_as_the_vendor_hal_does(firmware, cli, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("hello usart\nnot read\n")
    result = cli("run", usart(firmware, "polled"), *LIMIT, "--input", data, "--strict-peripherals")
    assert result.returncode == 0, result
    assert result.report["stdout"] == "usart2: hello\nHELLO USART\n"
    assert result.report["unmodelled_registers"] == []  # RCC and USART2 only: all modelled


def test_lpuart1_interrupts_take_a_line_a_byte_at_a_time_and_send_it_back(firmware, cli,
                                                                          tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("line one\n")
    result = cli("run", usart(firmware, "irq"), *LIMIT, "--input", data)
    assert result.returncode == 0, result
    report = result.report
    assert report["stdout"] == "line one\n"
    # 9 bytes in (RXNE), 9 out (TXE), the last one's TC: one entry each here
    assert report["exceptions"]["taken"] == {"IRQ29": 19}
    # each byte lands one character time (10 bits of LPUARTDIV / 256 cycles) after the last
    # was read, the core asleep meanwhile
    assert report["cycles"] + report["sleep_cycles"] >= 9 * 10 * 71111 // 256
    assert report["sleep_cycles"] > 8 * 2000


def test_without_its_clock_a_usart_reads_0_and_says_so(firmware, cli):
    elf = usart(firmware, "no_clock")
    result = cli("run", elf, *LIMIT)
    assert result.returncode == 0, result
    listed = result.report["unmodelled_registers"]
    off = "its clock is off (RCC APB1ENR bit 17)"
    assert f"stm32l0_usart2+0x000 (0x40004400) write, {off}: 1" in listed
    assert f"stm32l0_usart2+0x01c (0x4000441c) read, {off}: 101" in listed
    strict = cli("run", elf, "--strict-peripherals", *LIMIT)
    assert strict.returncode == 4
    fault = strict.report["fault"]
    assert fault["kind"] == "unmodelled_register" and fault["address"] == 0x4000440C
    assert f"register at 0x4000440c, while {off} (--strict-peripherals)" in fault["message"]


def test_a_port_reset_through_the_rcc_starts_again_from_its_reset_values(firmware, cli):
    result = cli("run", usart(firmware, "rcc_reset"), *LIMIT, "--strict-peripherals")
    assert result.returncode == 0, result
    assert result.report["stdout"] == "again\n"


def test_a_port_without_its_clock_receives_nothing_until_it_is_back(firmware, cli, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("abcd")
    result = cli("run", usart(firmware, "gated_rx"), *LIMIT, "--input", data)
    assert result.returncode == 0, result
    assert result.report["stdout"] == "abcd"
    assert result.report["exceptions"]["taken"] == {"IRQ28": 4}


def test_tc_rxne_and_disabling_behave_as_rm0377_says(firmware, cli, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("abcd")
    result = cli("run", usart(firmware, "flags"), *LIMIT, "--input", data)
    assert result.returncode == 0, result
    assert result.report["stdout"] == "x\n"


NOW = 1000  # the cycle the register-level tests run at


@pytest.mark.parametrize("kind", [Stm32l0Usart2, Stm32l0Lpuart1])
def test_usart_registers(kind):
    host = FakeDeviceHost(NOW)
    dev = kind(host)
    dev.reset()
    assert dev.read(ISR, 4) == 0xC0  # reset: TXE, TC
    dev.write(TDR, 2, ord("a"))  # not enabled: dropped
    dev.write(CR1, 4, 0x9)  # UE, TE
    assert dev.read(ISR, 4) == 0xC0 | 1 << 21  # TEACK
    dev.write(TDR, 2, 0x100 | ord("b"))  # a 9-bit word: its low byte goes out
    assert host.sent == b"b"
    dev.write(CR1, 4, 0x9 | 1 << 7)  # TXEIE: TXE holds the line high
    assert host.lines[dev.irq] is True
    dev.write(CR1, 4, 0x9)
    assert host.lines[dev.irq] is False
    dev.write(BRR, 4, 0x1234)
    assert dev.read(BRR, 4) == 0x1234 and dev.read(BRR + 1, 1) == 0x12
    assert host.listed == []
    dev.write(CR3, 4, 1 << 7)  # DMAT: asks the DMA (none on this host), not listed
    assert dev.read(CR3, 4) == 0x80
    dev.write(0x30, 4, 1)  # past TDR: reserved
    assert host.listed == [(kind.name, 0x30, 4, 1)]
    assert dev.read(RDR, 4) == 0  # nothing received: RXNE clear


def test_the_usarts_take_their_stm32l0_addresses_from_the_cmsdk_uart():
    from toolchain.profiles import TARGETS

    names = TARGETS["stm32l031"].devices
    made = devices.create(names, None)  # type: ignore[arg-type]
    spans = {d.name: devices.windows(d, made) for d in made}
    assert spans["cmsdk_uart_1k"] == [(0x4000_4000, 0x400)]
    assert spans["stm32l0_usart2"] == [(0x4000_4400, 0x400)]
    assert spans["stm32l0_lpuart1"] == [(0x4000_4800, 0x400)]
    assert spans["stm32l0_tim2"] == [(0x4000_0000, 0x400)] and "cmsdk_timer0" not in spans
    assert spans["cmsdk_timer1"] == [(0x4000_1000, 0x1000)]
    assert spans["stm32l0_apb1"][0] == (0x4000_0400, 0xC00)  # TIM3's place, then TIMER1
    # the rest of APB1 around them: USART4 up to I2C1 (0x40005400), past it up to PWR
    # (0x40007000), then past PWR to LPTIM1
    assert spans["stm32l0_i2c1"] == [(0x4000_5400, 0x400)]
    assert (0x4000_4C00, 0x800) in spans["stm32l0_apb1"]
    assert (0x4000_5800, 0x1800) in spans["stm32l0_apb1"]
    assert spans["stm32l0_apb1"][-1] == (0x4000_7400, 0x800)
    assert spans["stm32l0_lptim1"] == [(0x4000_7C00, 0x400)]


@pytest.mark.parametrize("kind, brr, cr1, cycles", [
    (Stm32l0Usart2, 0x45, 0, 690),  # a bit is BRR cycles
    (Stm32l0Usart2, 0x45, 1 << 15, 370),  # OVER8: USARTDIV 0x4A, a bit is half of it
    (Stm32l0Usart2, 3, 0, 160),  # below the part's minimum divider, 16
    (Stm32l0Lpuart1, 71111, 0, 2778),  # 115200 baud at 32 MHz: 256 x 32e6 / 115200
    (Stm32l0Lpuart1, 0x100, 0, 30),  # below the minimum, 0x300
])
def test_interrupt_driven_input_comes_a_character_time_later(kind, brr, cr1, cycles):
    host = FakeDeviceHost(NOW)
    dev = kind(host)
    dev.reset()
    dev.write(BRR, 4, brr)
    dev.write(CR1, 4, cr1 | 1 | 1 << 2)  # UE, RE: polled, no byte is expected
    assert host.exceptions.due is None
    dev.write(CR1, 4, cr1 | 1 | 1 << 2 | 1 << 5)  # RXNEIE
    assert host.exceptions.due == NOW + cycles


def test_bytes_go_out_at_the_baud_rate():
    """115200 baud at 32 MHz (BRR 278, 8N1: a frame is 2,780 cycles): the first byte goes
    straight into the shift register (TXE stays set), the second waits in TDR (TXE clear) until
    the first is out; TC sets when the last frame is; ICR.TCCF clears it; with TXEIE and TCIE
    the port plans the moments they set, so a sleeping core wakes for them. 2 stop bits make a
    frame 3,058 cycles."""
    from sim.devices.stm32l0_usart import ICR, TC, TCIE, TXE, TXEIE

    host = FakeDeviceHost(NOW)
    dev = Stm32l0Usart2(host)
    dev.reset()
    dev.write(BRR, 4, 278)
    dev.write(CR1, 4, 1 | 1 << 3)  # UE, TE
    isr = lambda: dev.read(ISR, 4)  # noqa: E731
    dev.write(TDR, 4, ord("a"))
    assert isr() & (TXE | TC) == TXE  # in the shift register: TDR free, the frame going out
    dev.write(TDR, 4, ord("b"))
    assert isr() & (TXE | TC) == 0  # waiting in TDR
    dev.write(CR1, 4, 1 | 1 << 3 | TXEIE | TCIE)
    assert host.exceptions.due == NOW + 2780  # TXE sets as "a" is out
    host.exceptions.now = NOW + 2779
    assert isr() & TXE == 0
    host.exceptions.now = NOW + 2780
    assert not host.lines.get(28)
    host.exceptions.action()  # the planned event: TXE set with TXEIE, IRQ 28 high
    assert isr() & (TXE | TC) == TXE and host.lines[28]  # "b" shifting
    assert host.exceptions.due == NOW + 2 * 2780  # next: TC, as "b" is out
    host.exceptions.now = NOW + 2 * 2780
    assert isr() & (TXE | TC) == TXE | TC
    dev.write(ICR, 4, TC)  # TCCF
    assert isr() & TC == 0
    assert bytes(host.sent) == b"ab"  # to the console as they are written
    dev.write(CR1, 4, 0)
    dev.write(0x04, 4, 2 << 12)  # CR2.STOP: 2 stop bits
    dev.write(CR1, 4, 1 | 1 << 3)
    dev.write(TDR, 4, ord("c"))
    host.exceptions.now = NOW + 2 * 2780 + 3058 - 1
    assert isr() & TC == 0
    host.exceptions.now += 1
    assert isr() & TC


def test_tc_sets_after_a_tccf_written_mid_frame_and_lse_clocks_lpuart(firmware):
    """ICR.TCCF while a frame goes out does not keep TC from setting when it is out; LPUART1
    on the LSE (RCC_CCIPR.LPUART1SEL 11) times its bits by the LSE: 9,600 baud is BRR 874,
    a frame 10 x 874 / 256 LSE cycles = 3,334 core cycles at 32 MHz."""
    from sim.devices.stm32l0_usart import ICR, TC

    host = FakeDeviceHost(NOW)
    dev = Stm32l0Usart2(host)
    dev.reset()
    dev.write(BRR, 4, 278)
    dev.write(CR1, 4, 1 | 1 << 3)
    dev.write(TDR, 4, 0x41)
    dev.write(ICR, 4, TC)  # mid-frame
    host.exceptions.now = NOW + 2780
    assert dev.read(ISR, 4) & TC
    dev.write(ICR, 4, TC)  # idle: cleared
    assert not dev.read(ISR, 4) & TC

    image = firmware.image("hello.c", target="stm32l031")
    simulator = sim.Simulator(image)
    simulator._reset()
    rcc, lpuart = simulator.device("stm32l0_rcc"), simulator.device("stm32l0_lpuart1")
    rcc.write(0x38, 4, 1 << 18)  # LPUART1EN
    rcc.write(0x4C, 4, 3 << 10)  # LPUART1SEL: LSE
    lpuart.write(BRR, 4, 874)
    assert round(lpuart._frame_cycles()) == round(10 * 874 / 256 * 32e6 / 32768)


def test_shared_interrupt_lines_are_a_wired_or(firmware):
    """Two devices driving one line (the EXTI and the ADC on IRQ 12): it stays high while
    either holds it."""
    simulator = sim.Simulator(firmware.image("hello.c", target="stm32l031"))
    simulator._reset()
    line = 1 << (16 + 12)
    first, second = object(), object()
    simulator.set_irq_level(12, True, first)
    simulator.set_irq_level(12, True, second)
    simulator.set_irq_level(12, False, first)
    assert simulator.exceptions.levels & line
    simulator.set_irq_level(12, False, second)
    assert not simulator.exceptions.levels & line
