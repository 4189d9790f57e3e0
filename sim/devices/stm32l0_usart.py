"""The STM32L0x1's USART2 and LPUART1 (RM0377), the serial ports vendor firmware prints through:
USART2 is the Nucleo-L031K6's virtual COM port, where STM32CubeL0's HAL_UART_Transmit and a
printf retargeted to it send their bytes.

Both have the same registers at the same offsets (LPUART1 lacks GTPR and RTOR). TDR 0x28: a
store sends its low byte to the run's console (beside semihosting output and the CMSDK UART's)
while CR1.UE and CR1.TE are set, at once; on the line it takes a frame time (start bit, 7, 8 or
9 data bits as CR1.M1/M0 say, 1, 1.5 or 2 stop bits as CR2.STOP says, each a bit time): the byte
goes into the shift register if it is free (ISR.TXE stays set), else waits in TDR (TXE clear)
until the frame before is out; ISR.TC sets when the last frame is out and clears on an ICR.TCCF
write or a TDR store. So firmware that polls TXE waits as long as on the chip, and a TXE or TC
interrupt comes when the chip's would. Left out: a store while TXE is clear sends both bytes to
the console (the chip overwrites the waiting one), one with TE clear is dropped, a byte cut off
by clearing UE is on the console already, setting TE sends no idle frame, and CR1's M1/M0 and
OVER8, CR2.STOP and BRR written while UE is set take effect (the chip ignores such writes).
ISR.TEACK and REACK follow UE with TE and RE, the acknowledgements HAL_UART_Init waits for. RDR
0x24: a load returns the byte in the receive buffer (ISR.RXNE) from the console input
(``--input``, the stream SYS_READ reads) while UE and RE are set; RQR.RXFRQ empties the buffer.
As on the CMSDK UART, polled input (CR1.RXNEIE clear) is there whenever the firmware looks (an
ISR or RDR load reads the next byte), and interrupt-driven input (RXNEIE set) arrives one frame
time after the receiver is switched on or RDR is read; a bit time is BRR cycles of the port's
kernel clock, as RCC_CCIPR selects it (PCLK1 or SYSCLK, as the RCC's clock tree gives them;
HSI16: 16 MHz, 4 MHz with RCC_CR.HSI16DIVEN; LSE: 32,768 Hz; a change of the clocks takes effect
mid-frame, the rest of the frame at the new rate) (USART2 with CR1.OVER8: BRR / 2 in BRR's
USARTDIV encoding; LPUART1: BRR / 256), and the smallest divider the part allows (16, LPUART1:
0x300) when BRR is below it. The interrupt line (USART2: IRQ 28, LPUART1: IRQ 29) is a level:
TXE with TXEIE, TC with TCIE, RXNE with RXNEIE, while UE is set. Clearing UE resets the flags
(RXNE clear, TXE and TC set) and drops a byte not yet read.

Each port runs only while its clock is on (RCC APB1ENR: USART2EN, bit 17; LPUART1EN, bit 18)
and it is not held in reset (APB1RSTR, the same bits): without its clock it receives nothing
and its transmitter stops (the frame goes on when the clock is back), its registers read 0 and
ignore writes, each access listed as unmodelled; a reset returns it to its reset state
(sim.devices.stm32l0.Clocked). CR2, BRR, GTPR and RTOR read back (framing and parity do not
change what is sent; the data and stop bits set the frame time), TDR the last data written (9
bits), RQR and ICR (write-only) 0; CR3 reads back. With CR3.DMAT the DMA
(sim/devices/stm32l0_dma.py) is asked for a byte whenever TXE is set, and with DMAR, when a
byte is in the receive buffer: received bytes then arrive a frame time apart, as with RXNEIE,
the DMA reading RDR as each comes. Overrun, noise, framing and parity
errors, IDLE, the receiver timeout, LIN, smartcard, IrDA and address matching are not modelled:
their flags read 0. Any other offset reads back what was written, listed as unmodelled.
"""

from sim.devices import lane
from sim.devices.stm32l0 import Clocked
from sim.exceptions import Wakes

USART2_BASE, LPUART1_BASE = 0x4000_4400, 0x4000_4800
CR1, CR2, CR3, BRR, GTPR, RTOR, RQR, ISR, ICR, RDR, TDR = range(0, 0x2C, 4)
APB1ENR, CCIPR = 0x38, 0x4C  # RCC's offsets: APB1 clock enables, kernel clock selection
UE, RE, TE, RXNEIE, TCIE, TXEIE, OVER8 = 1, 1 << 2, 1 << 3, 1 << 5, 1 << 6, 1 << 7, 1 << 15
UESM = 1 << 1  # CR1: the port may wake the part from Stop mode
RXNE, TC, TXE, TEACK, REACK = 1 << 5, 1 << 6, 1 << 7, 1 << 21, 1 << 22
RXFRQ = 1 << 3  # RQR
DMAR, DMAT = 1 << 6, 1 << 7  # CR3
MASK32 = 0xFFFF_FFFF


class _Usart(Clocked):
    size = 0x400
    irq: int
    ccipr_shift: int  # where RCC_CCIPR selects the port's kernel clock
    min_divider: int  # BRR's smallest legal value
    stored: tuple[int, ...] = (CR2, CR3, BRR, GTPR, RTOR)

    def reset(self) -> None:
        super().reset()
        self.cr1 = 0
        self.tc = True  # TC not cleared (by ICR.TCCF) since the last frame was written
        self._shift_end = 0  # the cycle the frame in the shift register is out
        self._tdr_full = False  # a byte in TDR, waiting for the shift register
        self._tx_timer = getattr(self, "_tx_timer", object())  # owner of the TX event
        self._tx_left = 0.0  # bit times of the frame left at the last settle()
        self._bit = 0.0  # the bit time (cycles) at the last settle()
        self._rx_due = 0  # the cycle the next interrupt-driven byte arrives, when planned
        self.host.exceptions.set_timer(self, None, self._arrive)  # none after a reset
        self._rx: int | None = None  # the byte in the receive buffer
        self._regs = dict.fromkeys(self.stored, 0)
        self.tdr = 0  # the last data written
        self._stored: dict[int, int] = {}  # the offsets not modelled, as written

    # --- the transmitter -----------------------------------------------------------------------
    def _frame_cycles(self) -> int:
        """A frame on the line: start bit, 7, 8 or 9 data bits (CR1.M1, M0), 1, 1.5 or 2 stop
        bits (CR2.STOP), in bit times."""
        m = (self.cr1 >> 27 & 2) | (self.cr1 >> 12 & 1)  # M1 (bit 28), M0 (bit 12)
        data = {0: 8, 1: 9, 2: 7}.get(m, 8)
        stop = {0: 1.0, 1: 0.5, 2: 2.0, 3: 1.5}[self._regs[CR2] >> 12 & 3]
        return round((1 + data + stop) * self._bit_cycles())

    def _tx_advance(self) -> None:
        """The byte waiting in TDR goes to the shift register when the frame before is out."""
        if self._tdr_full and self.host.exceptions.now >= self._shift_end:
            self._tdr_full = False
            self._shift_end += self._frame_cycles()

    def _tx_busy(self) -> bool:
        return self._tdr_full or self.host.exceptions.now < self._shift_end

    def _send(self, byte: int) -> None:
        """A TDR store while UE and TE: to the console at once; on the line, into the shift
        register if it is free (TXE stays set), else into TDR until it is (TXE clear)."""
        self.host.console_write(bytes([byte]))
        self._tx_advance()
        now = self.host.exceptions.now
        if now >= self._shift_end:
            self._shift_end = now + self._frame_cycles()
        else:  # a byte written while TXE is clear replaces the waiting one on the chip;
            self._tdr_full = True  # here both go to the console
        self.tc = True

    def _plan_tx(self) -> None:
        """An event when TXE or TC sets while its interrupt is enabled (otherwise the flags
        are read as time passes)."""
        model = self.host.exceptions
        at = None
        if self.cr1 & UE and self.clocked():  # without its clock the transmitter stops
            if (self.cr1 & TXEIE or self._regs[CR3] & DMAT) and self._tdr_full:
                at = self._shift_end
            elif self.cr1 & TCIE and self.tc and self._tx_busy():
                at = self._shift_end + (self._frame_cycles() if self._tdr_full else 0)
        model.set_timer(self._tx_timer, at, self._tx_event, wakes=self._tx_wakes())

    def _tx_wakes(self) -> Wakes:
        """Frames fed by the DMA (CR3.DMAT) come for ever from a circular channel: whether
        they may wake the core is asked while it sleeps (_dma_frames_wake); the firmware's
        own bytes end."""
        return self._dma_frames_wake if self._regs[CR3] & DMAT else True

    def _dma_frames_wake(self) -> bool:
        """Whether bytes fed by the DMA may wake the core: TXEIE or TCIE on a line that can
        (ExceptionModel.irq_wakes; TXE rises again as the DMA serves it), or what the DMA
        does with them (sim/devices/stm32l0_dma.py: Stm32l0Dma.wakes)."""
        if not self._regs[CR3] & DMAT or (
                self.cr1 & (TXEIE | TCIE) and self.host.exceptions.irq_wakes(self.irq)):
            return True
        wakes = getattr(self.host.device("stm32l0_dma"), "wakes", None)
        return wakes is None or bool(wakes(self.name, "tx"))

    def _tx_event(self) -> None:
        self._tx_advance()
        self._update_line()
        self._plan_tx()
        self.dma_service()

    def dma_request(self, line: str) -> bool:
        """The DMA request ``line`` ("tx": TXE with CR3.DMAT, "rx": RXNE with DMAR) is up."""
        if not self.clocked():
            return False
        if line == "tx":
            return bool(self._regs[CR3] & DMAT and self.cr1 & (UE | TE) == UE | TE
                        and self._isr() & TXE)
        return bool(self._regs[CR3] & DMAR and self._rx is not None)

    def _interrupt_rx(self) -> bool:
        """Bytes arrive at the line's pace (RXNEIE or DMAR), not whenever the firmware
        looks."""
        return bool(self.cr1 & RXNEIE or self._regs[CR3] & DMAR)

    # --- the receiver --------------------------------------------------------------------------
    def _bit_cycles(self) -> float:
        """A bit time in core cycles: BRR's divider of the port's kernel clock."""
        brr = max(self._regs[BRR], self.min_divider)
        if self.cr1 & OVER8:  # BRR[3] is reserved; USARTDIV = BRR[15:4] << 4 | BRR[2:0] << 1
            return ((brr & 0xFFF0) | (brr & 7) << 1) / 2 * self._kernel_ratio()
        return brr * self._kernel_ratio()

    def _kernel_ratio(self) -> float:
        """Core cycles per cycle of the port's kernel clock, as RCC_CCIPR selects it: PCLK1
        or SYSCLK (the core's clock divided or multiplied by the RCC's prescalers), HSI16
        (16 MHz, 4 with RCC_CR.HSI16DIVEN, as STM32CubeL0's UART_SetConfig takes it) or LSE
        (32,768 Hz)."""
        rcc = self._rcc
        if rcc is None:
            return 1.0
        sel = rcc.read(CCIPR, 4) >> self.ccipr_shift & 3
        if sel == 0:
            return float(rcc.apb_divider(1))
        if sel == 1:
            return 1 / rcc.ahb_divider()
        return self.host.clock_hz / (rcc.hsi16_hz() if sel == 2 else 32768)

    def runs_in_stop(self) -> bool:
        """A port goes on in Stop mode on the LSE (RCC_CCIPR), or on the HSI16 with CR1.UESM
        (the port then keeps the HSI16 running for itself)."""
        rcc = self._rcc
        sel = 0 if rcc is None else rcc.read(CCIPR, 4) >> self.ccipr_shift & 3
        return sel == 3 or (sel == 2 and bool(self.cr1 & UESM))

    def _receiving(self) -> bool:
        return self.cr1 & (UE | RE) == UE | RE and self.clocked()

    def settle(self) -> None:
        """Before an RCC change: the frame's time left (in bit times: the bit time may
        change), kept while the clock is off."""
        self._bit = self._bit_cycles()
        if self.clocked():
            self._tx_advance()
            self._tx_left = max(0, self._shift_end - self.host.exceptions.now) / self._bit

    def restart(self) -> None:
        model = self.host.exceptions
        bit = self._bit_cycles()
        if self.clocked():  # the frame goes on where it stopped, at the bit time now
            self._shift_end = model.now + round(self._tx_left * bit)
        if model.has_timer(self) and self._bit and bit != self._bit:  # so does a byte arriving
            self._rx_due = model.now + round(max(0, self._rx_due - model.now) / self._bit * bit)
            model.set_timer(self, self._rx_due, self._arrive)
        self._update_line()
        self._expect_rx()
        self._plan_tx()

    def _fill_rx(self) -> None:
        """Polled: the next input byte into the empty receive buffer."""
        if self._rx is None and self._receiving() and not self._interrupt_rx():
            self._rx = self.host.console_read()
            self._update_line()

    def _expect_rx(self) -> None:
        """Interrupt-driven: the next byte arrives one frame time from now (unless one is
        on its way already); with the receiver or RXNEIE off, none comes."""
        model = self.host.exceptions
        if self._rx is None and self._receiving() and self._interrupt_rx():
            if not model.has_timer(self):
                self._rx_due = model.now + self._frame_cycles()
                model.set_timer(self, self._rx_due, self._arrive)
        elif model.has_timer(self):
            model.set_timer(self, None, self._arrive)

    def _arrive(self) -> None:
        if self._rx is None and self._receiving() and self._interrupt_rx():
            self._rx = self.host.console_read()
            self._update_line()
            self.dma_service()

    # --- status and the interrupt line --------------------------------------------------------
    def _isr(self) -> int:
        cr1 = self.cr1
        enabled = bool(cr1 & UE)
        self._tx_advance()
        txe = not self._tdr_full or not enabled
        tc = (self.tc and not self._tx_busy()) or not enabled
        return ((TXE if txe else 0) | (TC if tc else 0)
                | (RXNE if self._rx is not None else 0)
                | (TEACK if enabled and cr1 & TE else 0) | (REACK if enabled and cr1 & RE else 0))

    def _update_line(self) -> None:
        isr, cr1 = self._isr(), self.cr1
        raised = ((cr1 & TXEIE and isr & TXE) or (cr1 & TCIE and isr & TC)
                  or (cr1 & RXNEIE and isr & RXNE))
        if self._rcc is not None and self._rcc.stopped:
            # Stop mode: only RXNE with CR1.UESM wakes the part (RM0377: TXE and TC cannot);
            # the others are taken once something else woke it
            raised = cr1 & UESM and cr1 & RXNEIE and isr & RXNE
        high = bool(cr1 & UE and raised)
        self.host.set_irq_level(self.irq, high)

    # --- registers ----------------------------------------------------------------------------
    def _word(self, word: int) -> int:
        if word == CR1:
            return self.cr1
        if word == ISR:
            self._fill_rx()
            return self._isr()
        if word == RDR:
            self._fill_rx()
            return self._rx or 0
        if word == TDR:
            return self.tdr
        if word in (RQR, ICR):  # write-only
            return 0
        return self._regs.get(word, self._stored.get(word, 0))  # unmodelled: as written

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        value = lane(self._word(word), offset, size)
        if offset == RDR and self._rx is not None:  # reading the data empties the buffer
            self._rx = None
            self._update_line()
            self._expect_rx()
        elif word not in (CR1, ISR, RDR, TDR, RQR, ICR, *self.stored):
            self.host.unmodelled(self, offset, size, None)
        return value

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        shift = 8 * (offset & 3)
        mask = (((1 << (8 * size)) - 1) << shift) & MASK32
        value = (value << shift) & mask
        if word == TDR:
            self.tdr = (self.tdr & ~mask | value) & 0x1FF
            if self.cr1 & (UE | TE) == UE | TE and offset == TDR:
                self._send(value & 0xFF)
        elif word == CR1:
            was = self.cr1
            self.cr1 = (was & ~mask) | value
            if was & UE and not self.cr1 & UE:  # disabled: the flags reset, the data goes
                self.tc, self._rx = True, None
                self._tdr_full, self._shift_end = False, 0
        elif word == ICR:
            self._tx_advance()
            if value & TC and not self._tx_busy():  # a frame going out still sets TC
                self.tc = False
        elif word == RQR:
            if value & RXFRQ:
                self._rx = None
        elif word in self._regs:
            self._regs[word] = (self._regs[word] & ~mask) | value
        else:
            self.host.unmodelled(self, offset, size, value >> shift)
            self._stored[word] = (self._stored.get(word, 0) & ~mask) | value
            return
        self._update_line()
        self._expect_rx()
        self._plan_tx()
        self.dma_service()


class Stm32l0Usart2(_Usart):
    name, base, irq, clock, min_divider = "stm32l0_usart2", USART2_BASE, 28, (APB1ENR, 17), 16
    ccipr_shift = 2  # RCC_CCIPR.USART2SEL


class Stm32l0Lpuart1(_Usart):
    name, base, irq, clock = "stm32l0_lpuart1", LPUART1_BASE, 29, (APB1ENR, 18)
    min_divider = 0x300
    stored = (CR2, CR3, BRR)  # no GTPR, RTOR
    ccipr_shift = 10  # RCC_CCIPR.LPUART1SEL

    def _bit_cycles(self) -> float:
        return max(self._regs[BRR] & 0xF_FFFF, self.min_divider) / 256 * self._kernel_ratio()


DEVICES = (Stm32l0Usart2, Stm32l0Lpuart1)
