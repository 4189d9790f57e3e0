"""The STM32L0x1's flash interface (RM0377 section 3.7, 0x40022000): its access control register,
whose LATENCY bit sets the wait states a fetch from flash pays, and the programming of the data
EEPROM and of the flash program memory, modelled; the option bytes' not.

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
FIX, PROG, FPRG, EOPIE, ERRIE ...) are written only while PELOCK is clear. While it is clear a
byte, halfword or word store to the EEPROM programs it (an ERASE store of 0: the same), SR.BSY
set for 3.2 ms (t_prog, in core cycles at the store's clock; a store during one waits for it:
they add up), then SR.EOP (and with PECR.EOPIE the interrupt, IRQ 3 FLASH; SR is rc_w1). A store
while PELOCK is set is not done: SR.WRPERR (with ERRIE, IRQ 3), and a warning. The EEPROM's
bytes read as memory (Device.nvm); the simulator carries each store to it out between two
instructions.

The flash program memory is programmed as HAL_FLASH_Unlock, HAL_FLASH_Program, HAL_FLASHEx_Erase
and HAL_FLASHEx_HalfPageProgram do it (the simulator hands this device the core's stores into
flash, program_flash; it writes through DeviceHost.flash_write): PRGLOCK clears after PRGKEYR is
written 0x8C9DAEBF then 0x13141516 while PELOCK is clear (another value keeps the program memory
locked until the next reset, with a warning). Then a word store programs that word, which must be
erased (0: else SR.NOTZEROERR and nothing written); with PECR.ERASE and PROG a word store erases
its 128-byte page (to 0); with PECR.FPRG and PROG sixteen word stores fill one 64-byte half page in
order, the first at its start, whatever address in it the others name
(HAL_FLASHEx_HalfPageProgram's all name the first word: an assumption that the latch takes them in
turn), and program it once the sixteenth is in (a first store not at a half page's start, or a
store outside it: PGAERR; one made by code running from flash: FWWERR, for the fetches between them
abort the half page on the chip: run it from SRAM, as the HAL's does; either drops the half page).
Each operation is busy for t_prog, queued with the EEPROM's, then EOP; meanwhile the core, running
from flash, stalls (DeviceHost.stall_fetches: the single-bank NVM's fetches wait), code in SRAM
runs on. A byte or halfword store to the program memory is SIZERR, a store while PRGLOCK is set
WRPERR: not done (the errors with ERRIE, IRQ 3; a warning at each kind's first). A store into the
firmware's own code or vector table stops the run (a firmware that rewrites them, a bootloader's
self-update, is not modelled); code it programs elsewhere runs as programmed.

Both memories keep their data through a reset of the part during the run; each run starts from the
image (the EEPROM erased). The core stalls after a store to the EEPROM as after one to the program
memory. Not modelled: a read of either during BSY from code in SRAM (it returns the new data,
without waiting), FIX and PECR.NZDISABLE (listed), ERASE for the EEPROM (a store writes its bytes),
a fetch from flash between half-page stores that an exception's entry makes (only the stores' own
code is checked), the write protection (WRPROT1/2, a factory-fresh part's: none) and the option
bytes. Assumed where RM0377 and the HAL leave it open: a word that is not erased keeps its value, a
half page is checked as a whole, programming works through the alias at 0, a wrong key only locks
(no bus error), PRGKEYR while PELOCK is set does nothing, ERASE or FPRG alone program a word. The
stall starts right after the store (the M0+'s word fetch may run an instruction sharing the store's
word first on the chip).

OPTR reads a factory-fresh part's option bytes (read-out protection level 0, 0x807000AA);
PDKEYR, OPTKEYR, the option bytes' programming (OBL_LAUNCH) and the other registers are listed
as unmodelled (they read back what was written).
"""

import numpy as np

from sim.devices import Device, DeviceHost, lane
from sim.devices.stm32l0 import Stm32l0Rcc, merge

FLASH_BASE = 0x4002_2000
EEPROM_BASE, EEPROM_SIZE = 0x0808_0000, 0x400
ACR, PECR, PEKEYR, PRGKEYR, SR, OPTR = 0x00, 0x04, 0x0C, 0x10, 0x18, 0x1C
_ACR_WRITABLE = 0x7B  # LATENCY, PRFTEN, SLEEP_PD, RUN_PD, DISAB_BUF, PRE_READ
LATENCY = 1
PELOCK, PRGLOCK, OPTLOCK, PROG, ERASE, FPRG = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 9, 1 << 10
EOPIE, ERRIE = 1 << 16, 1 << 17
_PECR_MODELLED = 0x3_071F  # the locks, PROG, DATA, FIX, ERASE, FPRG, EOPIE, ERRIE
BSY, EOP, ENDHV, READY = 1, 1 << 1, 1 << 2, 1 << 3
WRPERR, PGAERR, SIZERR, NOTZEROERR, FWWERR = 1 << 8, 1 << 9, 1 << 10, 1 << 16, 1 << 17
_SR_ERRORS = 0x3_2F00  # WRPERR, PGAERR, SIZERR, OPTVERR, RDERR, NOTZEROERR, FWWERR
PEKEYS = (0x89AB_CDEF, 0x0203_0405)
PRGKEYS = (0x8C9D_AEBF, 0x1314_1516)
# key register -> the lock its keys clear, the keys, what a wrong one leaves locked
_KEYS = {PEKEYR: (PELOCK, PEKEYS, "PECR stays locked"),
         PRGKEYR: (PRGLOCK, PRGKEYS, "the flash program memory stays locked")}
PAGE, HALF_PAGE = 128, 64  # bytes an erase clears, and a half-page programming writes
T_PROG = 0.0032  # seconds a store's programming takes (erase and program: the datasheet's t_prog)
IRQ = 3  # FLASH
_RESET = {OPTR: 0x8070_00AA}


class Stm32l0Flash(Device):
    name, base, size = "stm32l0_flash", FLASH_BASE, 0x400

    def reset(self) -> None:
        self.acr = 0
        self.pecr = PELOCK | PRGLOCK | OPTLOCK
        self.flags = 0  # SR's EOP and error flags
        self._regs = dict(_RESET)
        self._keys = dict.fromkeys(_KEYS, 0)  # each key register's keys written so far
        self._locked_out: set[int] = set()  # key registers written a wrong key: until reset
        self._busy_until = 0  # the cycle the NVM's last operation is done
        self._warned: set[int] = set()  # the SR errors warned of in this run
        # the half page being loaded (PECR.FPRG): its address, its words so far in order
        self._half: tuple[int, list[int]] | None = None
        self.host.exceptions.set_timer(self, None, self._done)

    # --- the data EEPROM's programming (stm32l0_eeprom) ---------------------------------------
    def eeprom_writable(self) -> bool:
        """Whether a store to the data EEPROM programs it: PECR.PELOCK clear."""
        return not self.pecr & PELOCK

    def eeprom_stored(self, at: int) -> None:
        """A store to the data EEPROM at cycle ``at``: busy for t_prog after it (after the
        one under way), then EOP."""
        self._operation(at)

    def eeprom_refused(self, address: int) -> None:
        """A store to the data EEPROM while PELOCK is set: not done, SR.WRPERR (a warning at
        the run's first)."""
        self._error(WRPERR, f"a store to the data EEPROM with FLASH_PECR.PELOCK set is not "
                    f"done (SR.WRPERR; the first at 0x{address:08x}): unlock it first (PEKEYR)")

    def _operation(self, at: int) -> None:
        """An NVM operation started by a store at cycle ``at``: busy for t_prog after it (after
        the one under way), then EOP."""
        start = max(at, self._busy_until)
        self._busy_until = start + round(T_PROG * self.host.clock_hz)
        self.host.exceptions.set_timer(self, self._busy_until, self._done)
        self.host.stall_fetches(self._busy_until)  # (for the program memory's stores)

    def _error(self, flag: int, warning: str) -> None:
        """An operation refused: SR's error ``flag`` (with ERRIE the interrupt), and the
        ``warning`` at the run's first of its kind."""
        if flag not in self._warned:
            self._warned.add(flag)
            self.host.warn(warning)
        self.flags |= flag
        self._irq()

    # --- the flash program memory's programming (DeviceHost.flash_write) ----------------------
    programs_flash = True

    def program_flash(self, address: int, size: int, value: int, at: int,
                      from_flash: bool) -> None:
        where = f"0x{address:08x}"
        if self.pecr & (PELOCK | PRGLOCK):
            self._error(WRPERR, "a store to the flash program memory with FLASH_PECR.PRGLOCK "
                        f"set is not done (SR.WRPERR; the first at {where}): unlock it first "
                        "(PEKEYR, then PRGKEYR)")
            return
        if size != 4:
            self._error(SIZERR, f"a {size}-byte store to the flash program memory is not done "
                        f"(SR.SIZERR; the first at {where}): it is programmed a word at a time")
            return
        mode = self.pecr & (PROG | ERASE | FPRG)
        if mode == PROG | FPRG:
            self._half_page(address, value, at, from_flash)
            return
        if mode == PROG | ERASE:
            start, data = address & -PAGE, bytes(PAGE)
        else:
            start, data = address, value.to_bytes(4, "little")
            if self._not_erased(start, 4):
                return
        if self.host.flash_write(start, data):
            self._operation(at)

    def _half_page(self, address: int, value: int, at: int, from_flash: bool) -> None:
        """One of the sixteen word stores of a half-page programming (PECR.FPRG and PROG): they
        fill the half page the first starts, in order, whatever address in it each names (the
        HAL's stores all name its first word)."""
        if from_flash:
            self._half = None
            self._error(FWWERR, "half-page programming run from flash is aborted by the "
                        f"fetches between its stores (SR.FWWERR; the first at 0x{address:08x})"
                        ": run it from SRAM, interrupts off, as HAL_FLASHEx_HalfPageProgram does")
            return
        if self._half is None:
            if address % HALF_PAGE:
                self._error(PGAERR, "a half-page programming's first store is not at the start "
                            f"of a half page (SR.PGAERR; the first at 0x{address:08x}): nothing "
                            "is programmed")
                return
            self._half = (address, [])
        start, words = self._half
        if not start <= address < start + HALF_PAGE:
            self._half = None
            self._error(PGAERR, "a store outside the half page being programmed (SR.PGAERR; "
                        f"the first at 0x{address:08x}): the half page is dropped")
            return
        words.append(value)
        if len(words) < HALF_PAGE // 4:
            return
        self._half = None
        if self._not_erased(start, HALF_PAGE):
            return
        if self.host.flash_write(start, b"".join(word.to_bytes(4, "little") for word in words)):
            self._operation(at)

    def _not_erased(self, start: int, size: int) -> bool:
        """Whether flash the program would write is not erased: SR.NOTZEROERR, not done."""
        if not any(self.host.flash_read(start, size)):
            return False
        self._error(NOTZEROERR, "programming flash that is not erased (0) is not done "
                    f"(SR.NOTZEROERR; the first at 0x{start:08x}): erase its page first")
        return True

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
        elif word in (PEKEYR, PRGKEYR):
            value = 0  # (write-only)
        else:
            self.host.unmodelled(self, offset, size, None)
            value = self._regs.get(word, 0)
        return lane(value, offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == PECR:
            self._write_pecr(merge(self.pecr, offset, size, value))
            return
        if word in _KEYS:
            self._write_key(word, merge(0, offset, size, value))
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
        if (self.pecr ^ value) & (PROG | FPRG):
            self._half = None  # a half page being loaded is dropped
        self.pecr = value & 0x0087_8718 | locks  # (PROG, DATA, FIX, ERASE, FPRG, EOPIE ...)
        if value & ~_PECR_MODELLED:
            self.host.unmodelled(self, PECR, 4, value, "OBL_LAUNCH, NZDISABLE ...: the option "
                                 "bytes' programming and the non-zero check's switch are not "
                                 "modelled")
        self._irq()

    def _write_key(self, register: int, value: int) -> None:
        """PEKEYR, or PRGKEYR while PELOCK is clear: the register's two keys in order clear its
        lock (PELOCK, PRGLOCK); another value while the lock is set keeps it locked until the
        next reset."""
        lock, keys, what = _KEYS[register]
        if register == PRGKEYR and self.pecr & PELOCK:
            return
        step = self._keys[register]
        if self.pecr & lock and register not in self._locked_out and value == keys[step]:
            self._keys[register] = (step + 1) % len(keys)
            if step + 1 == len(keys):
                self.pecr &= ~lock
            return
        self._keys[register] = 0
        if self.pecr & lock and register not in self._locked_out:
            self._locked_out.add(register)
            self.host.warn(f"FLASH_{'PEKEYR' if register == PEKEYR else 'PRGKEYR'} written out "
                           f"of its key sequence: {what} until the next reset (RM0377)")


class Stm32l0Eeprom(Device):
    """The data EEPROM: its bytes (erased: 0), read as memory (Device.nvm), a store
    programming them while the flash interface's PECR.PELOCK is clear (timed there), refused
    otherwise."""

    name, base, size = "stm32l0_eeprom", EEPROM_BASE, EEPROM_SIZE
    nvm = True

    def __init__(self, host: DeviceHost) -> None:
        super().__init__(host)
        self.data = np.zeros(EEPROM_SIZE, np.uint8)  # mapped: changed in place only

    def reset(self) -> None:
        self.data[:] = 0

    def system_reset(self, cause: str) -> None:
        """Its data lives through a reset of the part."""

    def read(self, offset: int, size: int) -> int:
        return int.from_bytes(self.data[offset:offset + size].tobytes(), "little")

    def write(self, offset: int, size: int, value: int) -> None:
        flash = self.host.device(Stm32l0Flash.name)
        if isinstance(flash, Stm32l0Flash) and not flash.eeprom_writable():
            flash.eeprom_refused(self.base + offset)
            return
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        self.data[offset:offset + size] = np.frombuffer(data, np.uint8)
        if isinstance(flash, Stm32l0Flash):
            flash.eeprom_stored(self.host.store_cycle())


DEVICES = (Stm32l0Flash, Stm32l0Eeprom)
