"""The STM32L0x1's I2C1 (RM0377, section 27) as a bus controller (master), so that a sensor or
EEPROM driver runs: STM32CubeL0's HAL_I2C_Master_Transmit/Receive, HAL_I2C_Mem_Read/Write and
HAL_I2C_IsDeviceReady, their interrupt-driven forms, and register-level drivers. The targets on
the bus are the run's ``--i2c`` devices (sim/i2c_targets.py); an address with none is not
acknowledged.

A transfer starts when CR2 is written with START (and PE set): BUSY sets, the start condition
and the address (CR2.SADD, 7-bit: bits 7:1) go out; START clears when the address is sent. No
acknowledgement: ISR.NACKF sets and a stop follows at once (STOPF, BUSY clear), as RM0377's
controller sends one itself. Acknowledged, the transfer moves CR2.NBYTES data bytes:

- writing (RD_WRN clear): TXIS sets while TXDR is empty and a byte is still wanted; a TXDR store
  clears it, and the byte goes to the shift register when that is free (TXE sets again then:
  TXDR is a buffer before the shift register, so a driver that keeps TXIS served streams bytes
  back to back). A byte the target does not acknowledge sets NACKF and ends the transfer with
  a stop.
- reading: each byte lands in RXDR (RXNE) as its ninth clock ends; while RXNE is still set the
  next byte waits (the controller stretches the clock) until RXDR is read.

When NBYTES are done: with CR2.RELOAD, TCR sets until CR2 is written with NBYTES non-zero (the
transfer goes on) or START; else with AUTOEND a stop follows (STOPF, BUSY clear); else TC sets
until the firmware writes CR2.START (a repeated start: a new address, the direction as RD_WRN
says) or CR2.STOP (a stop, STOPF). A START written during a transfer waits for the count's
end (a repeated start, or after AUTOEND's stop a start), one written during a stop for the
stop; a STOP written during a byte follows that byte (and while idle clears at once). STOP
clears when the stop is on the bus. ICR clears NACKF and STOPF (and the others' bits, which
never set here). Clearing CR1.PE resets the controller (RM0377's software reset): the transfer
is dropped, the flags clear (TXE sets), BUSY, START and STOP clear. A store of ISR.TXE flushes
TXDR. TIMINGR written while PE is set is taken, with a warning (RM0377 allows it only while PE
is clear).

Timing: an SCL period is ((SCLH + 1) + (SCLL + 1)) x (PRESC + 1) cycles of the kernel clock
(TIMINGR) plus 2 x (3 + CR1.DNF) for the clock synchronisation and digital filter RM0377 adds
(the analog filter's and the board's rise times are left out); the kernel clock is as
RCC_CCIPR.I2C1SEL selects it: PCLK1, SYSCLK or HSI16 (16 MHz, 4 with RCC_CR.HSI16DIVEN). A
start with the address takes 10 periods, a data byte 9, a stop 1; a change of the clocks takes
effect mid-byte, the rest at the new rate. The interrupt line (IRQ 23) is a level: TXIS with
TXIE, RXNE with RXIE, NACKF with NACKIE, STOPF with STOPIE, TC or TCR with TCIE, while PE is set.

I2C1 runs only while its clock is on (RCC APB1ENR bit 21, I2C1EN) and it is not held in reset
(APB1RSTR, the same bit): sim.devices.stm32l0.Clocked; its steps are timed as SPI1's
(sim/devices/stm32l0_serial.py). The part as a target, addressed by the run's host
(``--i2c controller=FILE``): sim/devices/stm32l0_i2c_target.py. Not modelled: 10-bit addressing
(CR2.ADD10: no target answers), SMBus, PEC and timeouts (their registers read back),
arbitration and bus errors, and a target that holds the clock low. With CR1.TXDMAEN the DMA
(sim/devices/stm32l0_dma.py) is asked for a byte whenever TXIS is set, and with RXDMAEN for
each byte received (RXNE).
"""

from sim.devices import lane
from sim.devices.stm32l0_i2c_target import ADDR, NACK, OA1MODE, TargetRole
from sim.devices.stm32l0_serial import SerialController

I2C1_BASE = 0x4000_5400
CR1, CR2, OAR1, OAR2, TIMINGR, TIMEOUTR, ISR, ICR, PECR, RXDR, TXDR = range(0, 0x2C, 4)
APB1ENR, CCIPR = 0x38, 0x4C  # RCC's offsets
MASK32 = 0xFFFF_FFFF
# CR1
PE, TXIE, RXIE, NACKIE, STOPIE, TCIE = 1, 1 << 1, 1 << 2, 1 << 4, 1 << 5, 1 << 6
TXDMAEN, RXDMAEN = 1 << 14, 1 << 15
# CR2
RD_WRN, ADD10, START, STOP, RELOAD, AUTOEND = 1 << 10, 1 << 11, 1 << 13, 1 << 14, 1 << 24, 1 << 25
_CR2_WRITABLE = 0x07FF_FFFF
# ISR
TXE, TXIS, RXNE, NACKF, STOPF, TC, TCR, BUSY = 1, 2, 4, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 15
_ICR_CLEARS = 0x3F38  # ADDRCF, NACKCF, STOPCF, BERRCF, ARLOCF, OVRCF, PECCF, TIMOUTCF, ALERTCF
START_PERIODS, BYTE_PERIODS, STOP_PERIODS = 10, 9, 1
_STORED = (OAR1, OAR2, TIMINGR, TIMEOUTR, PECR)


# CR1 bits the model does not follow: SBC, NOSTRETCH, WUPEN, GCEN, SMBHEN, SMBDEN, ALERTEN, PECEN
_CR1_LISTED = {1 << 16: "SBC (slave byte control)", 1 << 17: "NOSTRETCH",
               1 << 19: "GCEN (general call)", 0xF << 20: "SMBus"}
WUPEN = 1 << 18  # CR1: the address match wakes the part from Stop mode (on the HSI16)


class Stm32l0I2c1(SerialController, TargetRole):
    name, base, size, irq, clock = "stm32l0_i2c1", I2C1_BASE, 0x400, 23, (APB1ENR, 21)
    ccipr_shift = 12  # RCC_CCIPR.I2C1SEL
    i2c_controller = True  # the run's --i2c targets are on its bus

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.cr2 = 0
        self._regs = dict.fromkeys(_STORED, 0)
        self._stored: dict[int, int] = {}  # other offsets, as written (unmodelled)
        self._bus = self.host.i2c_bus()
        self._clear()
        self._target_reset(self._bus.controller)

    def _clear(self) -> None:
        """The controller's state after reset or PE cleared: idle, TXE set."""
        self.flags = TXE
        self.txdr = self.rxdr = 0
        self._busy = False
        self._reading = False
        self._left = 0  # bytes of NBYTES not yet begun (written: moved to the shift register)
        self._data = False  # in a transfer's data phase (its address acknowledged)
        self._stop_asked = False  # CR2.STOP written during a byte: a stop after it
        self._shift: int | None = None  # the byte being sent, or the received one waiting
        # the bus action under way: "address", "byte", "stop"; its end (core cycle)
        self._action: str | None = None
        self._due = 0
        self._units_left = 0.0  # of the action, while the clock is off (settle)
        self.host.exceptions.set_timer(self, None, self._event)

    # --- timing --------------------------------------------------------------------------------
    def _kernel_ratio(self) -> float:
        """Core cycles per cycle of I2C1's kernel clock (RCC_CCIPR.I2C1SEL: PCLK1, SYSCLK,
        HSI16)."""
        rcc = self._rcc
        if rcc is None:
            return 1.0
        sel = rcc.read(CCIPR, 4) >> self.ccipr_shift & 3
        if sel == 1:
            return 1 / rcc.ahb_divider()
        if sel == 2:
            return self.host.clock_hz / rcc.hsi16_hz()
        return float(rcc.apb_divider(1))  # 0 (and 3, reserved): PCLK1

    def unit_cycles(self) -> float:
        """An SCL period in core cycles, as TIMINGR and CR1.DNF set it."""
        t = self._regs[TIMINGR]
        presc, scll, sclh = (t >> 28) + 1, (t & 0xFF) + 1, (t >> 8 & 0xFF) + 1
        sync = 2 * (3 + (self.cr1 >> 8 & 15))
        return ((scll + sclh) * presc + sync) * self._kernel_ratio()

    def _begin(self, action: str, periods: int, at: int) -> None:
        self._action = action
        self._due = at + round(periods * self.unit_cycles())
        self._plan()

    def _stepping(self) -> bool:
        return self._action is not None and self.clocked()

    def _advance(self, until: int | None = None) -> None:
        """The bus actions that ended by ``until`` (now), each at its own cycle."""
        now = self.host.exceptions.now if until is None else until
        while self._action is not None and self._due <= now and self.clocked():
            action, at = self._action, self._due
            self._action = None
            if action == "address":
                self._address_sent(at)
            elif action == "byte":
                self._byte_done(at)
            else:
                self._stopped(at)

    def dma_request(self, line: str) -> bool:
        """The DMA request ``line`` ("tx": TXIS with CR1.TXDMAEN, "rx": RXNE with RXDMAEN)."""
        if not self.clocked():
            return False
        if line == "tx":
            return bool(self.cr1 & TXDMAEN and self.flags & TXIS)
        return bool(self.cr1 & RXDMAEN and self.flags & RXNE)

    # --- the transfer --------------------------------------------------------------------------
    def _start(self, at: int) -> None:
        """CR2.START: a start (or repeated start) and the address."""
        self.flags &= ~(TC | TCR)
        self._busy = True
        self._data = False
        self._reading = bool(self.cr2 & RD_WRN)
        self._left = self.cr2 >> 16 & 0xFF
        self._shift = None
        self._begin("address", START_PERIODS, at)

    def _address_sent(self, at: int) -> None:
        self.cr2 &= ~START
        sadd = self.cr2 & 0x3FF
        # (a 10-bit address: no target here answers one)
        acked = not self.cr2 & ADD10 and self._bus.start(sadd >> 1 & 0x7F, self._reading, at)
        if not acked:
            self._nack(at)
            return
        self._data = True
        self._next_byte(at)

    def _next_byte(self, at: int) -> None:
        """After the address or a byte: the next byte of the count, or the count's end (or
        the stop CR2.STOP asked for)."""
        if self._stop_asked:
            self._stop(at)
        elif self._left == 0:
            self._count_done(at)
        elif self._reading:
            self._left -= 1
            self._begin("byte", BYTE_PERIODS, at)
        elif not self.flags & TXE:  # TXDR holds the next byte
            self._load_shift(at)
        else:
            self.flags |= TXIS  # the clock stretched until TXDR is written

    def _load_shift(self, at: int) -> None:
        self._shift = self.txdr
        self._left -= 1
        self.flags |= TXE
        self.flags = self.flags | TXIS if self._left else self.flags & ~TXIS
        self._begin("byte", BYTE_PERIODS, at)

    def _byte_done(self, at: int) -> None:
        if self._reading:
            byte = self._bus.read(at)
            if self.flags & RXNE:  # RXDR not read yet: the byte waits, the clock stretched
                self._shift = byte
                return
            self.rxdr = byte
            self.flags |= RXNE
            self._next_byte(at)
            return
        byte, self._shift = self._shift or 0, None
        if not self._bus.write(byte):
            self._nack(at)
            return
        self._next_byte(at)

    def _count_done(self, at: int) -> None:
        if self.cr2 & RELOAD:
            self.flags |= TCR
        elif self.cr2 & START and not self.cr2 & AUTOEND:  # written during the transfer
            self._start(at)
        elif self.cr2 & AUTOEND:  # (a START written during it follows the stop)
            self._stop(at)
        else:
            self.flags |= TC

    def _nack(self, at: int) -> None:
        """No acknowledgement: NACKF, and the controller sends a stop itself."""
        self.flags = (self.flags | NACKF) & ~TXIS
        self._stop(at)

    def _stop(self, at: int) -> None:
        self._data = self._stop_asked = False
        self._begin("stop", STOP_PERIODS, at)

    def _stopped(self, at: int) -> None:
        self.cr2 &= ~STOP
        self.flags = (self.flags | STOPF) & ~(TC | TCR | TXIS)
        self._busy = False
        self._bus.stop()
        if self.cr2 & START:  # written during the stop: the bus is free now
            self._start(at)
        else:
            self.target_bus_freed(at)  # (the host's transaction waiting for the bus)

    def _rx_read(self) -> None:
        """RXDR was read: a byte waiting in the shift register moves in, and the transfer goes
        on from now."""
        self.flags &= ~RXNE
        if self._shift is not None and self._reading:
            self.rxdr, self._shift = self._shift, None
            self.flags |= RXNE
            if self._data:  # (a stop already ended the transfer: no further byte)
                self._next_byte(self.host.exceptions.now)

    def _after(self) -> None:
        super()._after()
        self.target_plan()  # (what the host's steps can wake may have changed)

    def restart(self) -> None:
        super().restart()
        self.target_plan()  # (the host's next step at the core's new clock)

    # --- the interrupt line --------------------------------------------------------------------
    def runs_in_stop(self) -> bool:
        """With CR1.WUPEN and its kernel clock the HSI16 (RCC_CCIPR.I2C1SEL), I2C1 answers
        its address in Stop mode (the HSI16 woken for it) and wakes the part."""
        rcc = self._rcc
        sel = 0 if rcc is None else rcc.read(CCIPR, 4) >> self.ccipr_shift & 3
        return sel == 2 and bool(self.cr1 & WUPEN)

    def _update_line(self) -> None:
        f, c = self.flags, self.cr1
        raised = ((c & TXIE and f & TXIS) or (c & RXIE and f & RXNE) or (c & NACKIE and f & NACKF)
                  or (c & STOPIE and f & STOPF) or (c & TCIE and f & (TC | TCR))
                  or (c & ADDR and f & ADDR))  # (ADDRIE: the same bit as ISR.ADDR)
        if self._rcc is not None and self._rcc.stopped:  # Stop mode: only the address match
            raised = bool(c & ADDR and f & ADDR)  # wakes the part (RM0377); the rest waits
        self.host.set_irq_level(self.irq, bool(c & PE and raised))

    # --- registers -----------------------------------------------------------------------------
    def _isr(self) -> int:
        busy = self._busy or (self.t_busy and self.cr1 & PE)  # (off, it follows no bus)
        return (self.flags | (BUSY if busy else 0)
                | (self.t_dir << 16) | (self.t_addcode << 17))

    def _word(self, word: int) -> int:
        if word == CR1:
            return self.cr1
        if word == CR2:
            return self.cr2
        if word == ISR:
            return self._isr()
        if word == RXDR:
            return self.rxdr
        if word == TXDR:
            return self.txdr
        if word == ICR:
            return 0
        return self._regs.get(word, self._stored.get(word, 0))

    def read_clocked(self, offset: int, size: int) -> int:
        self._advance()
        self.target_advance(self.host.store_cycle())
        word = offset & ~3
        value = lane(self._word(word), offset, size)
        if word == RXDR and offset == RXDR and self.flags & RXNE:
            self._rx_read()
            self.target_rx_read(self.host.store_cycle())
            self._after()
        elif word not in (CR1, CR2, ISR, ICR, RXDR, TXDR, *_STORED):
            self.host.unmodelled(self, offset, size, None)
        return value

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        now = self.host.store_cycle()  # (a START, a TXDR byte: from the store itself)
        self._advance(now)
        self.target_advance(now)
        word = offset & ~3
        shift = 8 * (offset & 3)
        mask = (((1 << (8 * size)) - 1) << shift) & MASK32
        value = (value << shift) & mask
        if word == CR1:
            was, self.cr1 = self.cr1, (self.cr1 & ~mask) | value
            for bits, what in _CR1_LISTED.items():
                if self.cr1 & bits & ~was:
                    self.host.unmodelled(self, offset, size, value >> shift,
                                         f"CR1 {what}: not modelled")
            if was & PE and not self.cr1 & PE:  # the software reset
                busy = self._busy
                if busy:
                    self._bus.stop()
                self._clear()
                self.cr2 &= ~(START | STOP | NACK)  # (RM0377: they clear with PE)
                self.target_abort(now)
                if busy:  # (the host, waiting for the bus, may go from here, not before)
                    self.target_bus_freed(now)
        elif word == CR2:
            self._write_cr2((self.cr2 & ~mask) | value, now)
        elif word == TXDR:
            if offset == TXDR and self.cr1 & PE:
                self.txdr = value & 0xFF
                self.flags &= ~(TXE | TXIS)
                # the shift register waits for it (the clock stretched, TXIS was set)
                if (self._data and not self._reading and self._action is None and self._left
                        and not self.flags & (TC | TCR)):
                    self._load_shift(now)
                self.target_tx_written(now)
        elif word == ISR:
            if value & TXE:
                self.flags |= TXE  # a flush of TXDR (the other bits are read-only)
        elif word == ICR:
            self.flags &= ~(value & _ICR_CLEARS)
            if value & ADDR:
                self.target_addr_cleared(now)
        elif word in self._regs:
            self._regs[word] = (self._regs[word] & ~mask) | value
            if word == OAR1 and self._regs[OAR1] & OA1MODE:
                self.host.unmodelled(self, offset, size, value >> shift,
                                     "OAR1.OA1MODE: a 10-bit own address is not modelled")
            if word == TIMINGR and self.cr1 & PE:
                self.host.warn("I2C1's TIMINGR written while CR1.PE is set (RM0377: only while "
                               "it is clear); the simulator takes it")
        else:
            self.host.unmodelled(self, offset, size, value >> shift)
            self._stored[word] = (self._stored.get(word, 0) & ~mask) | value
        self._after()

    def _write_cr2(self, new: int, now: int) -> None:
        new &= _CR2_WRITABLE
        new |= self.cr2 & NACK  # (RM0377: writing 0 to NACK has no effect; hardware clears it)
        was, self.cr2 = self.cr2, new
        if not self.cr1 & PE:  # START and STOP need the controller on
            self.cr2 &= ~(START | STOP)
            return
        if new & START and not was & START:
            # idle, or the count done (TC, or TCR: the HAL's sequential transfers change
            # direction so): now; during a transfer it waits for the count's end (a repeated
            # start, RM0377), during a stop for the stop (the bus free)
            if not (self._busy or self.t_busy) or self.flags & (TC | TCR):
                self._start(now)
        elif self.flags & TCR and new >> 16 & 0xFF:
            self.flags &= ~TCR  # a reload (NBYTES written non-zero): the transfer goes on
            self._left = new >> 16 & 0xFF
            self._next_byte(now)
        if new & STOP and not was & STOP:
            if not self._busy:
                self.cr2 &= ~STOP  # no transfer to end: cleared at once (nothing on the bus)
            elif self._action != "stop":
                self.flags &= ~(TC | TCR)
                if self._action is None:  # the clock stretched: the stop goes out now
                    self._stop(now)
                else:  # after the byte under way
                    self._stop_asked = True


DEVICES = (Stm32l0I2c1,)
