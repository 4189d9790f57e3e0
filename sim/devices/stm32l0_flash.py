"""The STM32L0x1's flash interface (RM0377 section 3.7, 0x40022000): its access control register,
whose LATENCY bit sets the wait states a fetch from flash pays, and the data EEPROM's
programming, modelled; the flash program memory's programming and the option bytes not.

FLASH_ACR keeps LATENCY, PRFTEN, SLEEP_PD, RUN_PD, DISAB_BUF and PRE_READ as written (reset 0).
The firmware's first write to it (as to RCC_CFGR or RCC_ICSCR: sim/devices/stm32l0.py) hands the
core's clock to the registers: from then on a pipeline refill pays LATENCY's wait states (0 or
1) rather than the profile's, at the clock RCC gives (a HAL_RCC_ClockConfig writes LATENCY
before it raises the clock, and lowers it after). Unless ``--wait-states`` fixes them for the
run.

The data EEPROM (stm32l0_eeprom, 1 KiB at 0x08080000, erased: 0) is programmed as STM32CubeL0's
HAL_FLASHEx_DATAEEPROM_Unlock/Program/Erase/Lock do it: PECR.PELOCK (set at reset) clears after
PEKEYR is written 0x89ABCDEF then 0x02030405 (another value locks PECR until the next reset),
and is set again by writing it 1; PECR's other bits (PRGLOCK, OPTLOCK: set only; DATA, ERASE,
FIX, EOPIE, ERRIE ...) are written only while PELOCK is clear. While it is clear a byte,
halfword or word store to the EEPROM programs it (an ERASE store of 0: the same), SR.BSY set for
3.2 ms (t_prog, in core cycles at the store's clock; a store during one waits for it: they add
up), then SR.EOP (and with PECR.EOPIE the interrupt, IRQ 3 FLASH; SR is rc_w1). A store while
PELOCK is set is not done: SR.WRPERR (with ERRIE, IRQ 3), and a warning. The EEPROM keeps its
data through a reset of the part during the run; each run starts erased. Not modelled: the
single-bank NVM's stall while it programs (the core runs on; a read during BSY returns the new
data), ERASE and FIX (a store writes its bytes).

OPTR reads a factory-fresh part's option bytes (read-out protection level 0, 0x807000AA);
PDKEYR, PRGKEYR and OPTKEYR sequences, the flash program memory's and the option bytes'
programming (PROG, FPRG) and the other registers are listed as unmodelled (they read back what
was written): firmware that programs its own flash should be run on the chip.
"""

from sim.devices import Device
from sim.devices.stm32l0 import Stm32l0Rcc, merge

FLASH_BASE = 0x4002_2000
EEPROM_BASE, EEPROM_SIZE = 0x0808_0000, 0x400
ACR, PECR, PEKEYR, SR, OPTR = 0x00, 0x04, 0x0C, 0x18, 0x1C
_ACR_WRITABLE = 0x7B  # LATENCY, PRFTEN, SLEEP_PD, RUN_PD, DISAB_BUF, PRE_READ
LATENCY = 1
PELOCK, PRGLOCK, OPTLOCK = 1, 1 << 1, 1 << 2
EOPIE, ERRIE = 1 << 16, 1 << 17
BSY, EOP, ENDHV, READY, WRPERR = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 8
_SR_ERRORS = 0x3_2F00  # WRPERR, PGAERR, SIZERR, OPTVERR, RDERR, NOTZEROERR, FWWERR
PEKEYS = (0x89AB_CDEF, 0x0203_0405)
T_PROG = 0.0032  # seconds a data EEPROM store takes (erase and program: the datasheet's t_prog)
IRQ = 3  # FLASH
_RESET = {OPTR: 0x8070_00AA}


class Stm32l0Flash(Device):
    name, base, size = "stm32l0_flash", FLASH_BASE, 0x400

    def reset(self) -> None:
        self.acr = 0
        self.pecr = PELOCK | PRGLOCK | OPTLOCK
        self.flags = 0  # SR's EOP and error flags
        self._regs = dict(_RESET)
        self._key = 0  # the PEKEYR keys written so far in order
        self._locked_out = False  # a wrong key: PECR locked until the next reset
        self._busy_until = 0  # the cycle the EEPROM's last store is done
        self._refused = False  # a store refused (locked) already
        self.host.exceptions.set_timer(self, None, self._done)

    # --- the data EEPROM's programming (stm32l0_eeprom) ---------------------------------------
    def eeprom_writable(self) -> bool:
        """Whether a store to the data EEPROM programs it: PECR.PELOCK clear."""
        return not self.pecr & PELOCK

    def eeprom_stored(self, at: int) -> None:
        """A store to the data EEPROM at cycle ``at``: busy for t_prog after it (after the
        one under way), then EOP."""
        start = max(at, self._busy_until)
        self._busy_until = start + round(T_PROG * self.host.clock_hz)
        self.host.exceptions.set_timer(self, self._busy_until, self._done)

    def eeprom_refused(self, address: int) -> None:
        """A store to the data EEPROM while PELOCK is set: not done, SR.WRPERR (a warning at
        the run's first)."""
        if not self._refused:
            self.host.warn("a store to the data EEPROM with FLASH_PECR.PELOCK set is not done "
                           f"(SR.WRPERR; the first at 0x{address:08x}): unlock it first "
                           "(PEKEYR)")
        self._refused = True
        self.flags |= WRPERR
        self._irq()

    def _done(self) -> None:
        self.flags |= EOP
        self._irq()

    def _irq(self) -> None:
        done = self.flags & EOP and self.pecr & EOPIE
        failed = self.flags & _SR_ERRORS and self.pecr & ERRIE
        self.host.set_irq_level(IRQ, bool(done or failed))

    def _sr(self) -> int:
        busy = self.host.exceptions.now < self._busy_until
        return self.flags | (BSY if busy else ENDHV) | READY

    @property
    def latency(self) -> int:
        """FLASH_ACR.LATENCY: the wait states of a fetch from flash."""
        return self.acr & LATENCY

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == ACR:
            value = self.acr
        elif word == PECR:
            value = self.pecr
        elif word == SR:
            value = self._sr()
        elif word == PEKEYR:
            value = 0  # (write-only)
        else:
            self.host.unmodelled(self, offset, size, None)
            value = self._regs.get(word, 0)
        return (value >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == PECR:
            self._write_pecr(merge(self.pecr, offset, size, value))
            return
        if word == PEKEYR:
            self._write_key(merge(0, offset, size, value))
            return
        if word == SR:  # rc_w1
            self.flags &= ~(merge(0, offset, size, value) & (EOP | _SR_ERRORS))
            self._irq()
            return
        if word != ACR:
            self.host.unmodelled(self, offset, size, value)
            self._regs[word] = merge(self._regs.get(word, 0), offset, size, value)
            return
        acr = merge(self.acr, offset, size, value) & _ACR_WRITABLE

        def change() -> None:
            self.acr = acr

        rcc = self.host.device(Stm32l0Rcc.name)
        if isinstance(rcc, Stm32l0Rcc):
            rcc.reclock(change, manage=True)
        else:
            change()

    def _write_pecr(self, value: int) -> None:
        """PELOCK, PRGLOCK, OPTLOCK only set by it; the rest only while PELOCK is clear."""
        if self.pecr & PELOCK:
            self.pecr |= value & (PRGLOCK | OPTLOCK)
            return
        locks = self.pecr & (PRGLOCK | OPTLOCK) | value & (PELOCK | PRGLOCK | OPTLOCK)
        self.pecr = value & 0x0087_8718 | locks  # (PROG, DATA, FIX, ERASE, FPRG, EOPIE ...)
        if value & ~(PELOCK | PRGLOCK | OPTLOCK | EOPIE | ERRIE | 0x0310):  # (DATA, FIX, ERASE)
            self.host.unmodelled(self, PECR, 4, value, "PROG, FPRG, OBL_LAUNCH ...: the flash "
                                 "program memory's and the option bytes' programming is not "
                                 "modelled")
        self._irq()

    def _write_key(self, value: int) -> None:
        """PEKEYR: the two keys in order clear PELOCK; anything else locks PECR until the next
        reset."""
        if not self._locked_out and self.pecr & PELOCK and value == PEKEYS[self._key]:
            self._key += 1
            if self._key == len(PEKEYS):
                self.pecr &= ~PELOCK
                self._key = 0
            return
        self._key = 0
        if self.pecr & PELOCK:
            self._locked_out = True
            self.host.warn("FLASH_PEKEYR written out of its key sequence: PECR stays locked "
                           "until the next reset (RM0377)")


class Stm32l0Eeprom(Device):
    """The data EEPROM: its bytes (erased: 0), a store programming them while the flash
    interface's PECR.PELOCK is clear (timed there), refused otherwise."""

    name, base, size = "stm32l0_eeprom", EEPROM_BASE, EEPROM_SIZE

    def reset(self) -> None:
        self.data = bytearray(EEPROM_SIZE)

    def system_reset(self, cause: str) -> None:
        """Its data lives through a reset of the part."""

    def read(self, offset: int, size: int) -> int:
        return int.from_bytes(self.data[offset:offset + size], "little")

    def write(self, offset: int, size: int, value: int) -> None:
        flash = self.host.device(Stm32l0Flash.name)
        if not isinstance(flash, Stm32l0Flash):
            self.data[offset:offset + size] = value.to_bytes(size, "little")
            return
        if not flash.eeprom_writable():
            flash.eeprom_refused(self.base + offset)
            return
        self.data[offset:offset + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(
            size, "little")
        flash.eeprom_stored(self.host.store_cycle())


DEVICES = (Stm32l0Flash, Stm32l0Eeprom)
