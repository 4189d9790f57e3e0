"""I2C1 of the STM32L0x1 as a target (RM0377, section 27: slave mode), addressed by the run's
host (``--i2c controller=FILE``, sim/i2c_controller.py), as STM32CubeL0's HAL_I2C_Slave_*
(polling, interrupt and DMA) and HAL_I2C_EnableListen_IT drive it.

The part answers an address its own addresses match while CR1.PE is set and I2C1 is clocked
(in Stop mode only with CR1.WUPEN and the HSI16 as its kernel clock, RCC_CCIPR.I2C1SEL: the
address match, with ADDRIE, wakes the part; its other interrupts wait until something has
woken it): OAR1 with OA1EN
(7-bit: OA1[7:1]; OA1MODE's 10-bit addresses are not), OAR2 with OA2EN (OA2[7:1], its OA2MSK
low bits not compared). An address not matched is not acknowledged: the host stops. Matched:
ISR.ADDR sets, ISR.DIR (1: the host reads) and ISR.ADDCODE say the direction and the address,
CR2.NACK clears, and the part holds the clock (stretches) until the firmware writes
ICR.ADDRCF. Then:

- the host writes: each byte (9 SCL periods) lands in RXDR (RXNE); while RXNE is still set the
  next byte waits before its acknowledgement (the clock stretched) until RXDR is read; a byte
  received with CR2.NACK set is not acknowledged (NACK clears) and the host stops;
- the host reads: a byte in TXDR (TXE clear) goes to the shift register (TXE sets), and TXIS
  sets at once to ask for the next, as the chip does, so the firmware's last byte may stay in
  TXDR (the HAL flushes it: ISR.TXE); with TXDR empty TXIS sets and the clock is held until
  TXDR is written. The host acknowledges each byte but the last, which sets NACKF.

A stop (the host's) sets STOPF; BUSY is set from the start to the stop. A repeated start (the
host's read after its write) is another address: ADDR again. The host's steps are timed in
device time by its own clock (``scl_hz``), whatever the part's clocks. The interrupt line adds
ADDR with CR1.ADDRIE to the controller's (sim/devices/stm32l0_i2c.py); the DMA serves TXIS and
RXNE as for the controller. Clearing PE ends the host's transaction under way (aborted); I2C1
without its clock in one (RCC, Stop mode without WUPEN) no longer answers: the host sees a
NACK. Not modelled: NOSTRETCH, SBC (slave byte control), the general call (GCEN), SMBus:
listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.i2c_controller import Outcome, ScriptedController, Transaction

if TYPE_CHECKING:
    from sim.devices import DeviceHost

TXE, TXIS, RXNE, ADDR, NACKF, STOPF = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5
NACK, START = 1 << 15, 1 << 13  # CR2
OA_EN, OA1MODE = 1 << 15, 1 << 10  # OAR1 (OA_EN: OAR2's too)
OAR1, OAR2 = 0x08, 0x0C
# the host's steps in SCL periods: a start and the address, a byte, a stop
START_PERIODS, BYTE_PERIODS, STOP_PERIODS = 10, 9, 1
_TIMED = ("address", "write", "read", "stop")  # the steps the host's clock times


class TargetRole:
    """The target side of Stm32l0I2c1 (mixed into it): the host's transactions step by step,
    each step ending at a device time (``_t_end``), on a timer of its own."""

    # the controller's (sim/devices/stm32l0_i2c.py)
    host: DeviceHost
    flags: int
    cr1: int
    cr2: int
    txdr: int
    rxdr: int
    _busy: bool
    _regs: dict[int, int]

    if TYPE_CHECKING:
        def clocked(self) -> bool: ...
        def _start(self, at: int) -> None: ...
        def _after(self) -> None: ...

    def _target_reset(self, host: ScriptedController | None) -> None:
        if host is not None and host.outcomes and getattr(self, "_host", None) is host:
            self._target_part_reset()  # (the part reset during the run: the host goes on)
            return
        self._host = host
        self._t_index = 0  # the next transaction
        self._t_step: str | None = None  # the timed step under way (_TIMED)
        self._t_end = 0.0  # its end (device seconds)
        self._t_free = 0.0  # the bus free since (device seconds)
        self._t_read = False  # the address sent is a read's
        self._t_pos = 0  # bytes of the write or of the read done
        self._t_shift = 0  # the byte the host is reading
        self._t_held: int | None = None  # a byte received while RXNE was still set
        self.t_busy = False  # the host's transaction holds the bus
        self.t_dir = False  # ISR.DIR: the host reads
        self.t_addcode = 0  # ISR.ADDCODE
        self._t_outcome: Outcome | None = None
        self.target_plan()

    def _target_part_reset(self) -> None:
        """A reset of the part, or of I2C1 (RCC), during the run: the host is outside the part
        and does not start its list again; a transaction of it under way ends (aborted)."""
        self._t_held = None
        self.t_dir, self.t_addcode = False, 0
        # (the part's own transfer, if one was under way, ended here: not at its last step)
        self._t_free = max(self._t_free, self.host.seconds_at(self.host.exceptions.now))
        o = self._t_outcome
        if o is not None and self._t_step != "stop":
            o.waiting = ""
            self._t_finish(max(self.host.seconds_at(self.host.exceptions.now), self._t_free),
                           "aborted")
        self.target_plan()

    # --- timing --------------------------------------------------------------------------------
    def _t_transaction(self) -> Transaction | None:
        host = self._host
        if host is None or self._t_index >= len(host.transactions):
            return None
        return host.transactions[self._t_index]

    def _t_next_seconds(self) -> float | None:
        """When the host's next step ends or its next transaction starts (device seconds);
        None while the part holds the clock, or the bus is the part's, or nothing is left."""
        if self._t_step is not None:
            return self._t_end
        t = self._t_transaction()
        if self._t_outcome is not None or t is None or self._busy:
            return None
        return max(t.seconds, self._t_free)

    def target_plan(self) -> None:
        """The host's next step as this device's second timer (the host object owns it)."""
        if self._host is None:
            return
        seconds = self._t_next_seconds()
        due = None if seconds is None else self.host.cycle_at(seconds)
        self.host.exceptions.set_timer(self._host, due, self._target_event, self._t_wakes())

    def _t_wakes(self) -> bool:
        """Whether the host's steps can wake the core: I2C1 on (PE) with an interrupt or a DMA
        request enabled (conservatively: any)."""
        return bool(self.cr1 & 1 and self.cr1 & (0xFE | 3 << 14))

    def _target_event(self) -> None:
        self.target_advance(self.host.exceptions.now)
        self._after()

    def target_advance(self, now: int) -> None:
        """The host's steps that ended by core cycle ``now`` (device time then), each at its
        own time; then its timer again."""
        if self._host is None:
            return
        limit = self.host.seconds_at(now) + 0.5 / self.host.clock_hz  # (cycle_at's rounding)
        while (seconds := self._t_next_seconds()) is not None and seconds <= limit:
            step, self._t_step = self._t_step, None
            if step is None:
                self._t_open(seconds)
            else:
                getattr(self, f"_t_{step}_done")(seconds)
        self.target_plan()

    def _t_begin(self, step: str, periods: int, seconds: float) -> None:
        """A step of the host's ``periods`` SCL periods from device time ``seconds``."""
        assert self._host is not None
        self._t_step = step
        self._t_end = seconds + periods / self._host.scl_hz

    def _t_hold(self, why: str) -> None:
        """The part holds the clock (stretches) until its firmware moves: ``why``."""
        assert self._t_outcome is not None
        self._t_outcome.waiting = why

    def _t_now(self, at: int) -> float:
        """Device time of the firmware's store at core cycle ``at``, not before the host's
        last step (a store late in a block)."""
        return max(self.host.seconds_at(at), self._t_free)

    # --- the host's transaction ----------------------------------------------------------------
    def _t_open(self, seconds: float) -> None:
        """The transaction's time has come and the bus is free: a start and the address."""
        t = self._t_transaction()
        assert t is not None and self._host is not None
        self._t_outcome = Outcome(seconds)
        self._host.outcomes.append(self._t_outcome)
        self.t_busy = True
        self._t_read = not t.write
        self._t_begin("address", START_PERIODS, seconds)

    def _t_matches(self, address: int) -> bool:
        """Whether one of the part's own addresses is ``address`` (7-bit)."""
        oar1, oar2 = self._regs[OAR1], self._regs[OAR2]
        if oar1 & OA_EN and not oar1 & OA1MODE and (oar1 >> 1 & 0x7F) == address:
            return True
        masked = oar2 >> 8 & 7  # OA2MSK: that many low bits not compared
        return bool(oar2 & OA_EN) and ((oar2 >> 1 & 0x7F) ^ address) >> masked == 0

    def _t_address_done(self, seconds: float) -> None:
        t, o = self._t_transaction(), self._t_outcome
        assert t is not None and o is not None
        o.acked = bool(self.cr1 & 1 and self.clocked() and self._t_matches(t.address))
        if not o.acked:
            self._t_finish(seconds, "nack")
            return
        self.flags |= ADDR
        self.t_dir, self.t_addcode = self._t_read, t.address
        self.cr2 &= ~NACK
        self._t_free = seconds
        self._t_hold("ADDR set, waiting for ICR.ADDRCF")

    def target_addr_cleared(self, at: int) -> None:
        """ICR.ADDRCF: the part lets the clock go after the address."""
        o = self._t_outcome
        if o is not None and o.waiting.startswith("ADDR"):
            o.waiting = ""
            self._t_pos = 0
            seconds = self._t_now(at)
            if self._t_read:
                self._t_next_out(seconds)
            else:
                self._t_begin("write", BYTE_PERIODS, seconds)

    def _t_write_done(self, seconds: float) -> None:
        """A byte from the host is in: to RXDR, or held while RXNE is still set."""
        t = self._t_transaction()
        assert t is not None
        if not self.clocked():
            self._t_finish(seconds, "nack")
            return
        byte = t.write[self._t_pos]
        if self.flags & RXNE:  # RXDR not read yet
            self._t_held = byte
            self._t_free = seconds
            self._t_hold("a byte received, waiting for RXDR to be read (RXNE)")
            return
        self._t_deliver(byte, seconds)

    def _t_deliver(self, byte: int, seconds: float) -> None:
        """The byte into RXDR (RXNE) and its acknowledgement (CR2.NACK: none)."""
        t, o = self._t_transaction(), self._t_outcome
        assert t is not None and o is not None
        self.rxdr = byte
        self.flags |= RXNE
        if self.cr2 & NACK:
            self.cr2 &= ~NACK
            self._t_finish(seconds, "nack")
            return
        self._t_pos += 1
        o.written = self._t_pos
        if self._t_pos < len(t.write):
            self._t_begin("write", BYTE_PERIODS, seconds)
        elif t.read:  # a repeated start, the address with the read bit
            self._t_read = True
            self._t_begin("address", START_PERIODS, seconds)
        else:
            self._t_begin("stop", STOP_PERIODS, seconds)

    def target_rx_read(self, at: int) -> None:
        """RXDR was read: a byte held moves in."""
        if self._t_held is not None and self._t_outcome is not None:
            byte, self._t_held = self._t_held, None
            self._t_outcome.waiting = ""
            self._t_deliver(byte, self._t_now(at))

    def _t_next_out(self, seconds: float) -> None:
        """The host wants a byte: TXDR's (to the shift register, TXIS asking for the next), or
        TXIS and the clock held until TXDR is written."""
        if self.flags & TXE:  # TXDR empty
            self.flags |= TXIS
            self._t_free = seconds
            self._t_hold("the host reads, waiting for TXDR (TXIS)")
            return
        self._t_shift = self.txdr
        self.flags |= TXE | TXIS
        self._t_begin("read", BYTE_PERIODS, seconds)

    def target_tx_written(self, at: int) -> None:
        """TXDR was written: the byte the host waits for goes out."""
        o = self._t_outcome
        if o is not None and o.waiting.startswith("the host reads"):
            o.waiting = ""
            self._t_next_out(self._t_now(at))

    def _t_read_done(self, seconds: float) -> None:
        t, o = self._t_transaction(), self._t_outcome
        assert t is not None and o is not None
        if not self.clocked():
            self._t_finish(seconds, "nack")
            return
        o.data.append(self._t_shift)
        self._t_pos += 1
        if self._t_pos < t.read:  # the host acknowledges: the next
            self._t_next_out(seconds)
        else:  # the last: not acknowledged
            self.flags |= NACKF
            self._t_finish(seconds, "done")

    def _t_finish(self, seconds: float, status: str) -> None:
        """The host stops (after its last byte, or at a NACK)."""
        assert self._t_outcome is not None
        self._t_outcome.status = status
        self._t_begin("stop", STOP_PERIODS, seconds)

    def _t_stop_done(self, seconds: float) -> None:
        """The stop is on the bus: STOPF (when the part took part), the bus free."""
        o = self._t_outcome
        assert o is not None
        if o.acked and self.cr1 & 1:  # (I2C1 off or reset since: it sees no stop)
            self.flags |= STOPF
            self.cr2 &= ~NACK
        o.status = o.status or "done"
        o.ended = self._t_free = seconds
        self.t_busy = False
        self._t_outcome = None
        self._t_index += 1
        if self.cr2 & START and not self._busy:  # a START that waited for the bus
            self._start(self.host.exceptions.now)

    def target_abort(self, at: int) -> None:
        """PE cleared: the host's transaction under way ends (aborted), its stop follows."""
        o = self._t_outcome
        if o is not None and self._t_step != "stop":
            self._t_held = None
            o.waiting = ""
            self._t_finish(self._t_now(at), "aborted")

    def target_bus_freed(self, at: int) -> None:
        """The part's own transfer as a controller ended at cycle ``at``: the host may go."""
        self._t_free = max(self._t_free, self.host.seconds_at(at))
        self.target_plan()
