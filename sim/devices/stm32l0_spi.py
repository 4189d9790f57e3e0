"""The STM32L0x1's SPI1 (RM0377, section 29) as a bus controller (master, full duplex), so that
a sensor driver runs: STM32CubeL0's HAL_SPI_Transmit, HAL_SPI_Receive, HAL_SPI_TransmitReceive,
their interrupt-driven forms, and register-level drivers. The devices on the bus are the run's
``--spi`` devices (sim/spi_targets.py), selected by their chip select: a GPIO pin the firmware
drives low, or SPI1's NSS output.

With CR1.MSTR and SPE set, a store to DR puts a frame (8 bits; 16 with CR1.DFF, sent as two
bytes, high byte first) in the transmit buffer: SR.TXE clears, and the frame goes to the shift
register as soon as that is free (TXE sets again then: a driver that keeps TXE served sends
frames back to back). A frame takes 8 (16) bit times of PCLK2 / 2^(BR + 1) (CR1.BR; PCLK2 the
core's clock divided by RCC_CFGR.PPRE2); SR.BSY is set while frames are being sent. At its end
the frame the selected device answered lands in the receive buffer (SR.RXNE; read from DR,
which clears it); a frame that ends while RXNE is still set is lost and sets OVR (cleared by a
read of DR, then SR). CR1.LSBFIRST sends each byte's bits the other way round (the device sees
them so). CPOL and CPHA do not change what a register device answers here.

A master with software slave management (CR1.SSM) and SSI clear is a mode fault: SR.MODF sets,
and SPE and MSTR clear (RM0377); MODF clears on a read of SR then a write of CR1. With SSM clear
and CR2.SSOE set, NSS is an output, low while SPE is set: the ``NSS`` device's select. The
interrupt line (IRQ 25) is a level: TXE with CR2.TXEIE, RXNE with RXNEIE, OVR or MODF with
ERRIE, while SPE is set (MODF: whatever SPE).

SPI1 runs only while its clock is on (RCC APB2ENR bit 12, SPI1EN) and it is not held in reset
(APB2RSTR, the same bit): sim.devices.stm32l0.Clocked; its frames are timed as I2C1's steps
(sim/devices/stm32l0_serial.py). Not modelled: the part as a slave
(MSTR clear: nothing is sent), half-duplex and receive-only modes (BIDIMODE, RXONLY), CRC
(CRCEN), the TI frame format (CR2.FRF), I2S (I2SCFGR.I2SMOD): each is listed as unmodelled
when set; CRCPR, RXCRCR, TXCRCR, I2SCFGR and I2SPR read back (CRCPR from 7). With CR2.TXDMAEN
the DMA (sim/devices/stm32l0_dma.py) is asked for a frame whenever TXE is set, and with
RXDMAEN for each frame received (RXNE), as each comes.
"""

from sim.devices import lane
from sim.devices.stm32l0_serial import SerialController
from sim.exceptions import Wakes

SPI1_BASE = 0x4001_3000
CR1, CR2, SR, DR, CRCPR, RXCRCR, TXCRCR, I2SCFGR, I2SPR = range(0, 0x24, 4)
APB2ENR = 0x34  # RCC's offset
MASK16 = 0xFFFF
# CR1
MSTR, SPE, LSBFIRST, SSI, SSM = 1 << 2, 1 << 6, 1 << 7, 1 << 8, 1 << 9
RXONLY, DFF, CRCEN, BIDIMODE = 1 << 10, 1 << 11, 1 << 13, 1 << 15
# CR2
RXDMAEN, TXDMAEN, SSOE, FRF, ERRIE, RXNEIE, TXEIE = 1, 2, 4, 1 << 4, 1 << 5, 1 << 6, 1 << 7
# SR
RXNE, TXE, MODF, OVR, BSY = 1, 2, 1 << 5, 1 << 6, 1 << 7
_UNMODELLED_CR1 = (RXONLY, "RXONLY (receive only)"), (CRCEN, "CRCEN (CRC)"), (
    BIDIMODE, "BIDIMODE (half duplex)")
_UNMODELLED_CR2 = ((FRF, "FRF (TI mode)"),)


def _reverse(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


class Stm32l0Spi1(SerialController):
    name, base, size, irq, clock = "stm32l0_spi1", SPI1_BASE, 0x400, 25, (APB2ENR, 12)
    spi_controller = True  # the run's --spi devices are on its bus

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.cr2 = 0
        self._regs = {CRCPR: 7, RXCRCR: 0, TXCRCR: 0, I2SCFGR: 0, I2SPR: 2}
        self._stored: dict[int, int] = {}
        self._bus = self.host.spi_bus()
        self._bus.attach(self._advance)
        self._clear()
        self._nss()  # (a reset by the RCC releases NSS)

    def _clear(self) -> None:
        self.flags = TXE
        self._tx: int | None = None  # the frame in the transmit buffer
        self._shift: int | None = None  # the frame being sent
        self._rx = 0  # the receive buffer
        self._due = 0  # the core cycle the frame being sent ends
        self._selected: dict[str, int] = {}  # the devices selected as it started (SpiBus)
        self._units_left = 0.0  # of it, while the clock is off (settle)
        self._advancing = False  # in _advance (the DMA's accesses from there do not advance)
        self._modf_seen = False  # SR read with MODF set (a CR1 write then clears it)
        self._ovr_seen = False  # DR read with OVR set (an SR read then clears it)
        self.host.exceptions.set_timer(self, None, self._event)

    # --- timing --------------------------------------------------------------------------------
    def unit_cycles(self) -> float:
        """A bit time in core cycles: PCLK2 / 2^(BR + 1)."""
        div = 2 << (self.cr1 >> 3 & 7)
        return div * (1.0 if self._rcc is None else float(self._rcc.apb_divider(2)))

    def _frame_bits(self) -> int:
        return 16 if self.cr1 & DFF else 8

    def _running(self) -> bool:
        return bool(self.cr1 & SPE and self.cr1 & MSTR) and self.clocked()

    def _stepping(self) -> bool:
        return self._shift is not None and self._running()

    def _advance(self, until: int | None = None) -> None:
        """The frames that ended by cycle ``until`` (now), each at its own cycle."""
        if self._advancing:
            return
        now = self.host.exceptions.now if until is None else until
        self._advancing = True
        try:
            while self._shift is not None and self._due <= now and self._running():
                self._frame_done(self._due)
        finally:
            self._advancing = False

    def dma_request(self, line: str) -> bool:
        """The DMA request ``line`` ("tx": TXE with CR2.TXDMAEN, "rx": RXNE with RXDMAEN)."""
        if line == "tx":
            return bool(self.cr2 & TXDMAEN and self.flags & TXE and self._running())
        return bool(self.cr2 & RXDMAEN and self.flags & RXNE and self.clocked())

    def _wakes(self) -> Wakes:
        """Frames fed by the DMA (TXDMAEN) come for ever from a circular channel: whether
        they may wake the core is asked while it sleeps (_dma_frames_wake); the firmware's
        own frames end."""
        return self._dma_frames_wake if self.cr2 & TXDMAEN else True

    def _dma_frames_wake(self) -> bool:
        """Whether frames fed by the DMA may wake the core: an interrupt enabled on a line
        that can (IRQ 25: ExceptionModel.irq_wakes; RXNE and TXE rise again as the DMA
        serves them), or what the DMA does with them (sim/devices/stm32l0_dma.py:
        Stm32l0Dma.wakes)."""
        c2 = self.cr2
        if not c2 & TXDMAEN or (
                c2 & (TXEIE | RXNEIE | ERRIE) and self.host.exceptions.irq_wakes(self.irq)):
            return True
        wakes = getattr(self.host.device("stm32l0_dma"), "wakes", None)
        return wakes is None or bool(wakes(self.name, "tx")) or bool(
            c2 & RXDMAEN and wakes(self.name, "rx"))

    # --- frames --------------------------------------------------------------------------------
    def _load(self, at: int) -> None:
        """The transmit buffer's frame into the free shift register."""
        self._shift, self._tx = self._tx, None
        self.flags |= TXE
        self._due = at + round(self._frame_bits() * self.unit_cycles())
        self._selected = self._bus.frame_start()

    def _frame_done(self, at: int) -> None:
        frame, self._shift = self._shift or 0, None
        lsb = bool(self.cr1 & LSBFIRST)
        if self.cr1 & DFF:
            data = [frame & 0xFF, frame >> 8] if lsb else [frame >> 8, frame & 0xFF]
        else:
            data = [frame & 0xFF]
        answers = []
        for byte in data:
            answer = self._bus.exchange(_reverse(byte) if lsb else byte, self._selected, at)
            answers.append(_reverse(answer) if lsb else answer)
        received = answers[0] if len(answers) == 1 else (
            answers[1] << 8 | answers[0] if lsb else answers[0] << 8 | answers[1])
        if self.flags & (RXNE | OVR):  # (RM0377: while OVR is set, every frame is lost)
            self.flags |= OVR
        else:
            self._rx = received
            self.flags |= RXNE
        if self._tx is not None:
            self._load(at)
        if self.cr2 & (TXDMAEN | RXDMAEN):  # the DMA, frame by frame: the line first
            self._update_line()  # (RXNE pends IRQ 25 with RXNEIE, as on the part, though
            self.dma_service()  # the DMA's read clears it)

    def _nss(self) -> None:
        """SPI1's NSS output (SSM clear, SSOE set): low while SPE is set."""
        self._bus.nss(bool(self.cr1 & SPE and self.cr1 & MSTR and not self.cr1 & SSM
                           and self.cr2 & SSOE), self.host.store_cycle())

    # --- the interrupt line --------------------------------------------------------------------
    def _update_line(self) -> None:
        f, c2 = self.flags, self.cr2
        raised = ((c2 & TXEIE and f & TXE) or (c2 & RXNEIE and f & RXNE))
        errors = c2 & ERRIE and f & (OVR | MODF)
        self.host.set_irq_level(self.irq, bool((self.cr1 & SPE and raised) or errors))

    # --- registers -----------------------------------------------------------------------------
    def _sr(self) -> int:
        busy = self._shift is not None or self._tx is not None
        return self.flags | (BSY if busy and self._running() else 0)

    def read_clocked(self, offset: int, size: int) -> int:
        self._advance()
        word = offset & ~3
        if word == SR:
            value = self._sr()
            self._modf_seen = bool(value & MODF)
            if self._ovr_seen:  # DR then SR: OVR clears
                self.flags &= ~OVR
                self._ovr_seen = False
        elif word == DR:
            value = self._rx
            self._ovr_seen = bool(self.flags & OVR)
            if self.flags & RXNE:
                self.flags &= ~RXNE
        elif word == CR1:
            value = self.cr1
        elif word == CR2:
            value = self.cr2
        elif word in self._regs:
            value = self._regs[word]
        else:
            self.host.unmodelled(self, offset, size, None)
            value = self._stored.get(word, 0)
        self._after()
        return lane(value, offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        self._advance(self.host.store_cycle())  # (up to the store: the rest of its block after)
        word = offset & ~3
        shift = 8 * (offset & 3)
        mask = (((1 << (8 * size)) - 1) << shift) & MASK16
        value = (value << shift) & mask
        if word == CR1:
            was, self.cr1 = self.cr1, (self.cr1 & ~mask) | value
            if self._modf_seen:  # SR then CR1: MODF clears
                self.flags &= ~MODF
                self._modf_seen = False
            if self.cr1 & MSTR and self.cr1 & SSM and not self.cr1 & SSI:
                self.flags |= MODF  # a master whose NSS (SSI) is low: a mode fault
                self.cr1 &= ~(SPE | MSTR)
            if was & SPE and not self.cr1 & SPE:  # disabled: the frames under way are dropped
                self._tx = self._shift = None
                self.flags |= TXE
            self._unmodelled_bits(offset, size, value >> shift, self.cr1, _UNMODELLED_CR1)
            self._nss()
            self._go()  # (a frame written before SPE was set goes now)
        elif word == CR2:
            self.cr2 = (self.cr2 & ~mask) | value
            self._unmodelled_bits(offset, size, value >> shift, self.cr2, _UNMODELLED_CR2)
            self._nss()
        elif word == DR:
            self._send(value >> shift if offset == DR else value & MASK16)
        elif word == SR:
            pass  # read-only (CRCERR, which never sets here, is the one rc_w0 bit)
        elif word in self._regs:
            self._regs[word] = (self._regs[word] & ~mask) | value
            if word == I2SCFGR and self._regs[word] & (1 << 11):
                self.host.unmodelled(self, offset, size, value >> shift)
        else:
            self.host.unmodelled(self, offset, size, value >> shift)
            self._stored[word] = (self._stored.get(word, 0) & ~mask) | value
        self._after()

    def _unmodelled_bits(self, offset: int, size: int, written: int, reg: int,
                         bits: tuple[tuple[int, str], ...]) -> None:
        names = [name for bit, name in bits if reg & bit]
        if names:
            self.host.unmodelled(self, offset, size, written,
                                 f"{', '.join(names)}: not modelled")

    def _send(self, frame: int) -> None:
        """A DR store: into the transmit buffer (a frame waiting there is replaced, as on the
        chip), then into the shift register as soon as it is free and SPI1 a running master."""
        self._tx = frame & (MASK16 if self.cr1 & DFF else 0xFF)
        self.flags &= ~TXE
        if self.cr1 & SPE and not self.cr1 & MSTR:
            self.host.unmodelled(self, DR, 2, frame, "SPI1 is not a master (CR1.MSTR): the "
                                 "part as a slave is not modelled, nothing is sent")
        self._go()

    def _go(self) -> None:
        """A frame waiting goes out if the shift register is free and SPI1 runs."""
        if self._tx is not None and self._shift is None and self._running():
            self._load(self.host.store_cycle())


DEVICES = (Stm32l0Spi1,)
