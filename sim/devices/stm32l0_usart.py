"""The STM32L0x1's USART2 and LPUART1 (RM0377), the serial ports vendor firmware prints
through: USART2 is the Nucleo-L031K6's virtual COM port, where STM32CubeL0's HAL_UART_Transmit
and a printf retargeted to it send their bytes.

Both have the same registers at the same offsets (LPUART1 lacks GTPR and RTOR). TDR 0x28: a
store sends its low byte to the run's console (beside semihosting output and the CMSDK UART's)
while CR1.UE and CR1.TE are set; bytes go out at once, so ISR.TXE always reads 1 and ISR.TC
reads 1 but between an ICR.TCCF write and the next TDR store. ISR.TEACK and REACK follow
UE with TE and RE, the acknowledgements HAL_UART_Init waits for. RDR 0x24: a load returns the
byte in the receive buffer (ISR.RXNE) from the console input (``--input``, the stream SYS_READ
reads) while UE and RE are set; RQR.RXFRQ empties the buffer. As on the CMSDK UART, polled
input (CR1.RXNEIE clear) is there whenever the firmware looks (an ISR or RDR load reads the next
byte), and interrupt-driven input (RXNEIE set) arrives one character time (10 bit times) after
the receiver is switched on or RDR is read; a bit time is BRR cycles of the profile's clock
(USART2 with CR1.OVER8: BRR / 2 in BRR's USARTDIV encoding; LPUART1: BRR / 256), and the
smallest divider the part allows (16, LPUART1: 0x300) when BRR is below it. The interrupt line
(USART2: IRQ 28, LPUART1: IRQ 29) is a level: TXE with TXEIE, TC with TCIE, RXNE with RXNEIE,
while UE is set. Clearing UE resets the flags (RXNE clear, TXE and TC set) and drops a byte not
yet read.

Each port runs only while its clock is on (RCC APB1ENR: USART2EN, bit 17; LPUART1EN, bit 18)
and it is not held in reset (APB1RSTR, the same bits): without its clock it receives nothing,
its registers read 0 and ignore writes, each access listed as unmodelled; a reset returns it
to its reset state (sim.devices.stm32l0.Clocked). CR2, BRR, GTPR and RTOR read back (framing,
stop bits and parity do not change what is sent), TDR the last data written (9 bits), RQR and
ICR (write-only) 0; CR3 reads back, and a CR3 write that asks for DMA (DMAT, DMAR: the DMA is
not modelled) is listed as unmodelled. Overrun, noise, framing and parity
errors, IDLE, the receiver timeout, LIN, smartcard, IrDA and address matching are not
modelled: their flags read 0. Any other offset reads back what was written, listed as
unmodelled.
"""

from sim.devices.stm32l0 import Clocked

USART2_BASE, LPUART1_BASE = 0x4000_4400, 0x4000_4800
CR1, CR2, CR3, BRR, GTPR, RTOR, RQR, ISR, ICR, RDR, TDR = range(0, 0x2C, 4)
APB1ENR = 0x38  # RCC's offset of the APB1 peripheral clock enables
UE, RE, TE, RXNEIE, TCIE, TXEIE, OVER8 = 1, 1 << 2, 1 << 3, 1 << 5, 1 << 6, 1 << 7, 1 << 15
RXNE, TC, TXE, TEACK, REACK = 1 << 5, 1 << 6, 1 << 7, 1 << 21, 1 << 22
RXFRQ = 1 << 3  # RQR
DMAR, DMAT = 1 << 6, 1 << 7  # CR3
MASK32 = 0xFFFF_FFFF


class _Usart(Clocked):
    size = 0x400
    irq: int
    min_divider: int  # BRR's smallest legal value
    stored: tuple[int, ...] = (CR2, CR3, BRR, GTPR, RTOR)

    def reset(self) -> None:
        super().reset()
        self.cr1 = 0
        self.tc = True
        self._rx: int | None = None  # the byte in the receive buffer
        self._regs = dict.fromkeys(self.stored, 0)
        self.tdr = 0  # the last data written
        self._stored: dict[int, int] = {}  # the offsets not modelled, as written

    # --- the receiver --------------------------------------------------------------------------
    def _bit_cycles(self) -> float:
        brr = max(self._regs[BRR], self.min_divider)
        if self.cr1 & OVER8:  # BRR[3] is reserved; USARTDIV = BRR[15:4] << 4 | BRR[2:0] << 1
            return ((brr & 0xFFF0) | (brr & 7) << 1) / 2
        return brr

    def _receiving(self) -> bool:
        return self.cr1 & (UE | RE) == UE | RE and self.clocked()

    def restart(self) -> None:
        self._update_line()
        self._expect_rx()

    def _fill_rx(self) -> None:
        """Polled: the next input byte into the empty receive buffer."""
        if self._rx is None and self._receiving() and not self.cr1 & RXNEIE:
            self._rx = self.host.console_read()
            self._update_line()

    def _expect_rx(self) -> None:
        """Interrupt-driven: the next byte arrives one character time from now (unless one is
        on its way already); with the receiver or RXNEIE off, none comes."""
        model = self.host.exceptions
        if self._rx is None and self._receiving() and self.cr1 & RXNEIE:
            if not model.has_timer(self):
                model.set_timer(self, model.now + round(10 * self._bit_cycles()), self._arrive)
        elif model.has_timer(self):
            model.set_timer(self, None, self._arrive)

    def _arrive(self) -> None:
        if self._rx is None and self._receiving() and self.cr1 & RXNEIE:
            self._rx = self.host.console_read()
            self._update_line()

    # --- status and the interrupt line --------------------------------------------------------
    def _isr(self) -> int:
        cr1 = self.cr1
        enabled = bool(cr1 & UE)
        return (TXE | (TC if self.tc or not enabled else 0)
                | (RXNE if self._rx is not None else 0)
                | (TEACK if enabled and cr1 & TE else 0) | (REACK if enabled and cr1 & RE else 0))

    def _update_line(self) -> None:
        isr, cr1 = self._isr(), self.cr1
        raised = ((cr1 & TXEIE and isr & TXE) or (cr1 & TCIE and isr & TC)
                  or (cr1 & RXNEIE and isr & RXNE))
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
        value = (self._word(word) >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)
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
                self.host.console_write(bytes([value & 0xFF]))
                self.tc = True  # sent at once: TC clears and sets again
        elif word == CR1:
            was = self.cr1
            self.cr1 = (was & ~mask) | value
            if was & UE and not self.cr1 & UE:  # disabled: the flags reset, the data goes
                self.tc, self._rx = True, None
        elif word == ICR:
            if value & TC:
                self.tc = False
        elif word == RQR:
            if value & RXFRQ:
                self._rx = None
        elif word in self._regs:
            self._regs[word] = (self._regs[word] & ~mask) | value
            if word == CR3 and value & (DMAR | DMAT):
                self.host.unmodelled(self, offset, size, value >> shift)
        else:
            self.host.unmodelled(self, offset, size, value >> shift)
            self._stored[word] = (self._stored.get(word, 0) & ~mask) | value
            return
        self._update_line()
        self._expect_rx()


class Stm32l0Usart2(_Usart):
    name, base, irq, clock, min_divider = "stm32l0_usart2", USART2_BASE, 28, (APB1ENR, 17), 16


class Stm32l0Lpuart1(_Usart):
    name, base, irq, clock = "stm32l0_lpuart1", LPUART1_BASE, 29, (APB1ENR, 18)
    min_divider = 0x300
    stored = (CR2, CR3, BRR)  # no GTPR, RTOR

    def _bit_cycles(self) -> float:
        return max(self._regs[BRR] & 0xF_FFFF, self.min_divider) / 256


DEVICES = (Stm32l0Usart2, Stm32l0Lpuart1)
