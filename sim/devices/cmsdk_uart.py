"""The CMSDK APB UART0 of the mps2-an385 board (0x40004000, 4 KiB) that its firmware prints
through.

DATA 0x00: a store sends the byte to the run's console (beside semihosting output) while
CTRL.TXEN is set, and is dropped otherwise, as QEMU does; a load returns the next byte of the
run's input (``--input``/stdin, the stream SYS_READ reads) while CTRL.RXEN is set. STATE 0x04:
TX never full (bytes go out at once), RXFULL while an input byte waits. CTRL 0x08: TXEN, RXEN,
TXINTEN, RXINTEN (others read back). INTSTATUS 0x0C: TX (bit 0) set after every byte sent with
TXINTEN, RX (bit 1) when a byte arrives with RXINTEN (below); each stays set until a write of
one clears it, and drives its NVIC line as a level (UART0 RX is IRQ 0, TX is IRQ 1 on
mps2-an385), as in QEMU's model: a handler that leaves its bit set is entered again when it
returns. BAUDDIV 0x10 reads back.

Polled (RXINTEN clear), the input is there whenever the firmware looks: the next byte is read
from it by a STATE or DATA load (so an interactive console is not read ahead of the
firmware's prompt). Interrupt-driven (RXINTEN set), bytes arrive on the line as they would at
the configured baud rate: one character time (10 bits of BAUDDIV cycles each; BAUDDIV below
16, the hardware's minimum, counts as 16) after RX and RXINTEN are switched on or the receive
buffer is read, the next byte lands in the buffer, sets RX and pends IRQ 0, also while the
core sleeps (WFI and WFE wake for it when IRQ 0 could preempt; WFE also, with SCR.SEVONPEND,
when it could not). Other CTRL writes leave a byte on its way as it is; clearing RX while a
byte waits does not set it again. Everything else (the
PrimeCell ID registers, overrun) is not modelled and listed in the report.
"""

from sim.devices import Device

UART0_BASE = 0x4000_4000
DATA, STATE, CTRL, INTSTATUS, BAUDDIV = 0x00, 0x04, 0x08, 0x0C, 0x10
RX_IRQ, TX_IRQ = 0, 1


class CmsdkUart(Device):
    name = "cmsdk_uart"
    base = UART0_BASE
    size = 0x1000

    def reset(self) -> None:
        self.ctrl = 0
        self.intstatus = 0
        self.bauddiv = 0
        self._rx: int | None = None  # the byte waiting in the receive buffer
        self._regs: dict[int, int] = {}

    def _fill_rx(self) -> None:
        """Polled: the next input byte into the empty receive buffer."""
        if self._rx is None and self.ctrl & 2 and not self.ctrl & 8:
            self._rx = self.host.console_read()

    def _expect_rx(self) -> None:
        """Interrupt-driven: the next byte arrives one character time from now (unless one is
        already on its way); with RX or RXINTEN off, none comes."""
        model = self.host.exceptions
        if self._rx is None and self.ctrl & 0xA == 0xA:
            if not model.has_timer(self):  # else a byte is on its way already
                model.set_timer(self, model.now + 10 * max(16, self.bauddiv), self._arrive)
        elif model.has_timer(self):
            model.set_timer(self, None, self._arrive)

    def _arrive(self) -> None:
        if self._rx is None and self.ctrl & 0xA == 0xA:
            self._rx = self.host.console_read()
            if self._rx is not None:
                self._set_status(self.intstatus | 2)

    def _set_status(self, value: int) -> None:
        """INTSTATUS, and the TX and RX interrupt lines that follow its bits."""
        self.intstatus = value & 3
        self.host.set_irq_level(TX_IRQ, bool(value & 1))
        self.host.set_irq_level(RX_IRQ, bool(value & 2))

    def read(self, offset: int, size: int) -> int:
        if offset == DATA:
            self._fill_rx()
            value, self._rx = (self._rx or 0), None
            self._expect_rx()
            return value
        if offset == STATE:
            self._fill_rx()
            return 2 if self._rx is not None else 0
        if offset == CTRL:
            return self.ctrl
        if offset == INTSTATUS:
            return self.intstatus
        if offset == BAUDDIV:
            return self.bauddiv
        self.host.unmodelled(self, offset, size, None)
        return self._regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == DATA:
            if self.ctrl & 1:
                self.host.console_write(bytes([value & 0xFF]))
                if self.ctrl & 4:
                    self._set_status(self.intstatus | 1)
        elif offset == CTRL:
            self.ctrl = value & 0x7F
            self._expect_rx()
        elif offset == INTSTATUS:
            self._set_status(self.intstatus & ~value)
        elif offset == BAUDDIV:
            self.bauddiv = value & 0xFFFFF
        elif offset == STATE:
            pass  # overrun flags: write one to clear, never set here
        else:
            self.host.unmodelled(self, offset, size, value)
            self._regs[offset] = value


class CmsdkUart1k(CmsdkUart):
    """The same UART in its first KiB only: on the STM32L0 profile, whose own USART2 and
    LPUART1 follow at 0x40004400 and 0x40004800 (sim/devices/stm32l0_usart.py). Its
    identification registers' addresses (0xFD0-0xFFC) are then the part's APB1 bus's, whose
    registers read back (sim/devices/stm32l0.py)."""

    name = "cmsdk_uart_1k"
    size = 0x400
