"""Memory-mapped devices: a home for every peripheral the simulator models.

A device owns an address range and answers the firmware's loads and stores there; the simulator
maps every device its target names (``Target.devices``) when it builds the engine and resets
them at every run. Reads and writes arrive with the offset into the device's range and the
access size in bytes. A device that must act on the core (enable the FPU, later raise an
exception) does so through the :class:`DeviceHost` it was built with.

To add a device: a module in this package with a :class:`Device` subclass, an entry in
``REGISTRY``, and its name in the ``devices`` of the targets that have it.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from toolchain.cores import Core

if TYPE_CHECKING:
    import numpy as np

    from sim.analog import AnalogInput
    from sim.exceptions import ExceptionModel
    from sim.i2c_targets import I2cBus
    from sim.spi_targets import SpiBus


def lane(word: int, offset: int, size: int) -> int:
    """The ``size`` bytes at ``offset & 3`` of the register value ``word``: what a load of
    them reads (a byte or half-word access to a word register; stm32l0.merge writes them)."""
    return (word >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)


@dataclass(frozen=True)
class DeepSleep:
    """What a part's deep-sleep mode does with a WFI or WFE under SCR.SLEEPDEEP
    (``Device.deep_sleep``): entered, and ``wake`` is what its end does; or not entered
    (``ignored`` says why: the core carries on at once)."""

    wake: Callable[[], None] | None = None
    ignored: str = ""
    # the part's Stand-by mode: the core is off (its interrupts wake nothing), and the part's
    # wake-up is a reset (DeviceHost.request_reset, cause "standby") that loses the SRAM
    standby: bool = False


class DeviceHost(Protocol):
    """What a device may ask of the simulator it is mapped into."""

    @property
    def core(self) -> Core: ...

    @property
    def exceptions(self) -> "ExceptionModel":
        """The core's exception model: NVIC and SCB state, SysTick."""

    def set_fpu_access(self, granted: bool) -> None:
        """Allow (or forbid: floating-point instructions fault) the FPU."""

    def set_div0_trap(self, on: bool) -> None:
        """CCR.DIV_0_TRP: SDIV/UDIV by zero fault while on, return 0 while off."""

    def set_unaligned_trap(self, on: bool) -> None:
        """CCR.UNALIGN_TRP: unaligned word and halfword LDR/STR fault while on."""

    def active_cycles(self) -> int:
        """Cycles the core has executed (sleep excluded): what the report and DWT count."""

    @property
    def clock_hz(self) -> int:
        """The core's clock now: cycles in a second of device time (the target's, until the
        firmware sets a clock up: set_clock)."""

    def set_clock(self, hz: int, wait_states: int, source: str) -> None:
        """The firmware set the core's clock up: from this cycle on it runs at ``hz`` with
        ``wait_states`` flash wait states per pipeline refill (``source`` says what feeds it,
        for the report). Devices whose clocks are not the core's convert at the new rate
        after this (their settle before, their restart after)."""

    @property
    def at_reset_clock(self) -> bool:
        """--reset-clock: the part starts at its own reset clock, which its clock control
        manages from the first cycle (not the profile's until the firmware sets one up)."""

    @property
    def flash_size(self) -> int:
        """Bytes of flash the run maps."""

    def analog_code(self, channel: int, at: int | None = None) -> int | None:
        """The 12-bit result of converting ADC pin ``channel`` at cycle ``at`` (default now),
        from the run's --analog values (one is used up unless they play at a rate); None
        without them."""

    def supply_volts(self, at: int | None = None) -> float:
        """VDDA at cycle ``at`` (default now): the run's ``--analog VDDA=`` values, else 3.0 V
        (sim/analog.py)."""

    def analog_input(self, channel: int | str) -> "AnalogInput | None":
        """The run's --analog values for ADC pin ``channel`` (or for the pin so named, one no
        ADC channel reaches: "PB5"; sim/analog.py), None without them: what another analog
        peripheral (a comparator) reads the pin's voltage from. A
        device with an ``analog_changed(channel, at)`` method hears when a conversion moved the
        series of ``channel`` that plays no rate on (its pin's voltage changed at cycle
        ``at``)."""

    def seconds_at(self, cycle: int) -> float:
        """Device time (awake and asleep) at core cycle ``cycle``, at the clock as it went."""

    def cycle_at(self, seconds: float, since: int | None = None) -> int:
        """The first core cycle, not before ``since`` (default now; a cycle at the clock now:
        not before its last change), at which device time reaches ``seconds``, the core's clock
        staying as it is now (a device planning by device time settles before the clock
        changes and plans again in its ``restart``)."""

    def pin_drive(self, port: str) -> tuple[int, int]:
        """(pins held at a level, those at 1) of GPIO port ``port`` (its letter) by the run's
        --pin values now (sim/pins.py)."""

    def pin_events(self, port: str, apply: Callable[[int], None]) -> int | None:
        """Apply the --pin changes of port ``port`` due by now, one at a time in time order,
        calling ``apply(cycle)`` after each with the core cycle of that change (the port takes
        the levels: a pulse between two of them is not lost); the core cycle of its next change
        (at the clock as it is now), None for none."""

    def pin_levels(self, port: str, known: int, high: int, initial: bool = False,
                   at_store: bool = False, at: int | None = None) -> None:
        """GPIO port ``port``'s pins now: ``known`` those at a level (the others analog or
        floating), ``high`` those at 1; ``initial``: at the run's start; ``at_store``: a store
        being handled changed them (timed at it; a --pin change at its own time; ``at``: a
        device's event at that cycle; else now). For the report's trace."""

    def i2c_bus(self) -> "I2cBus":
        """The run's I2C targets (--i2c; sim/i2c_targets.py), which a bus controller model
        addresses (an address with none is not acknowledged)."""

    def store_cycle(self) -> int:
        """The cycle at which the store (or load) a device is handling ends (a basic block's
        cycles are counted at its start: this takes back those of its instructions after the
        access); now outside an access. ``active_cycles()`` during an access is at it too."""

    def acting_at(self, cycle: int | None) -> int | None:
        """From now on the accesses devices take act at core cycle ``cycle`` (store_cycle()
        says it; None: back to the core's own stores); the cycle it was before. A bus master
        serving a device's event at that event's cycle (TIM2's DMA requests) sets it."""

    def spi_bus(self) -> "SpiBus":
        """The run's SPI devices (--spi; sim/spi_targets.py), which a bus controller model
        exchanges bytes with (MISO 0xFF with none selected)."""

    def warn(self, text: str) -> None:
        """Something the firmware did that the chip does not allow, though the run goes on
        (a clock beyond its voltage range, say): listed in the report's ``warnings``, once."""

    def trace_enabled(self) -> bool:
        """DEMCR.TRCENA: the DWT and the ITM work."""

    def ipsr(self) -> int:
        """The exception number the core is handling (0 in thread mode)."""

    def set_irq_level(self, irq: int, high: bool, source: object = None) -> None:
        """Drive external interrupt line ``irq`` (level-sensitive): rising pends it; while it
        stays high, a return from its handler pends it again. ``source`` tells the drivers of
        a shared line apart: the line is high while any of them holds it."""

    def bus_read(self, address: int, size: int) -> int | None:
        """What a bus master other than the core (the DMA) reads at ``address``: memory, or a
        device's register as a load would read it; None where nothing answers (a bus
        error)."""

    def bus_write(self, address: int, size: int, value: int) -> bool:
        """A bus master's store (SRAM, or a device's register); False where nothing takes it
        (flash, the core's private peripherals, an unmapped address: a bus error)."""

    def in_sram(self, address: int, size: int) -> bool:
        """Whether [address, address + size) is SRAM the run maps."""

    def peripheral_at(self, address: int, size: int) -> "tuple[Device, int] | None":
        """The device (and the offset in it) answering ``size`` bytes at ``address`` below the
        core's private peripherals, for the core's own access through another view of it (a
        bit-band alias); None where no device answers."""

    def request_reset(self, why: str = "", cause: str = "software") -> None:
        """A reset of the part (AIRCR.SYSRESETREQ; ``why``: another source, a watchdog;
        ``cause``: one of sim.resets.CAUSES): the run stops there (asked for by a store, that
        store is the last instruction to run, the rest of its block not counted; asked for at
        a block boundary, the block there does not run; in a sleep, the sleep ends), no
        exception taken meanwhile, and is reported as a reset, or
        (as the run allows) the firmware starts again at its reset vector
        (Device.system_reset). The first one asked for is the one."""

    def console_write(self, data: bytes) -> None:
        """Output to the run's console (as semihosting output)."""

    def console_read(self) -> int | None:
        """The next byte of the run's input, None at its end."""

    def unprivileged(self) -> bool:
        """Thread mode with CONTROL.nPRIV set: the code running is unprivileged."""

    def bus_fault(self, device: "Device", offset: int, size: int, value: int | None,
                  why: str) -> None:
        """The access (value None: a load) is one the chip refuses with a precise BusFault:
        the run stops."""

    def unmodelled(self, device: "Device", offset: int, size: int, value: int | None,
                   why: str = "") -> None:
        """The firmware accessed a register the device does not model (value None: a load);
        ``why``, if given, says what the device did instead (its clock is off, say)."""

    def device(self, name: str) -> "Device | None":
        """The target's device called ``name`` (a part's clock control, say), if it has one."""

    def flash_read(self, address: int, size: int) -> bytes:
        """The flash's bytes at ``address`` now (a range inside the flash mapped)."""

    def flash_write(self, address: int, data: bytes) -> bool:
        """A part's flash interface programmed (or erased) flash: its bytes at ``address``
        become ``data`` for every later load, also after a reset of the part during the run
        (each run starts from the image). False, the run stopping with an error, where the
        range holds the firmware's code (its change is not modelled)."""

    def stall_fetches(self, until: int) -> None:
        """The core's store into flash or an NVM being handled (Device.program_flash, an nvm
        Device's write) started an operation of the part's non-volatile memory that keeps it busy
        until core cycle ``until``: with the code running from flash, whose fetches wait for it (a
        single-bank NVM), no instruction runs before then (the cycles count as the core's;
        interrupts are taken after). Code running from SRAM goes on, and so does the core after
        another bus master's store."""


class Device(ABC):
    """One memory-mapped device: ``size`` bytes at ``base`` (multiples of 1 KiB). A background
    device (a part's peripheral bus, whose registers only read back) answers only where no
    other device of the target does: it is mapped around them (:func:`windows`)."""

    name: str
    base: int
    size: int
    background: bool = False

    def __init__(self, host: DeviceHost) -> None:
        self.host = host

    @abstractmethod
    def reset(self) -> None:
        """Power-on state; called before every run."""

    @abstractmethod
    def read(self, offset: int, size: int) -> int:
        """The value a load of ``size`` bytes at ``base + offset`` returns."""

    @abstractmethod
    def write(self, offset: int, size: int, value: int) -> None:
        """A store of ``size`` bytes of ``value`` at ``base + offset``."""

    def start(self) -> None:  # noqa: B027 (a hook most devices leave empty)
        """After every device and the core are reset for a run: plan the run's first events
        (a device's reset may not: the core's reset forgets them)."""

    # its planned events live through a reset of the part during a run (system_reset)
    keeps_events: bool = False

    # the part's flash interface, which programs the flash program memory: the core's stores
    # into flash come to program_flash (without one they fault as writes to read-only memory)
    programs_flash: bool = False
    # a non-volatile memory (the STM32L0's data EEPROM): its bytes, ``data`` (a uint8 array
    # of ``size``, changed in place only), are memory the core reads directly; each of the
    # core's stores to it comes to ``write`` between two instructions (the simulator carries it
    # out, as those into flash: its stall, DeviceHost.stall_fetches, ends before the next)
    nvm: bool = False
    data: "np.ndarray"  # an nvm device's bytes

    def program_flash(self, address: int, size: int, value: int, at: int,  # noqa: B027
                      from_flash: bool) -> None:
        """A store of ``size`` bytes of ``value`` at ``address`` in flash, ending at core cycle
        ``at``, which the core made (``from_flash``: its instruction was fetched from flash)
        and which this device programs (DeviceHost.flash_write), or refuses, as the part
        does. Only for a device with ``programs_flash``."""

    def system_reset(self, cause: str) -> None:
        """A reset of the part during a run (``cause``: one of sim.resets.CAUSES): the state
        the chip's reset leaves. By default the power-on state: reset(), and once every device
        is reset, start() (the events it had planned are forgotten). A device that lives
        through it (the backup domain, the debug unit) or follows the outside world (the pins'
        --pin rows) keeps its events (``keeps_events``) and overrides this."""
        self.reset()


def _registry() -> dict[str, Callable[[DeviceHost], Device]]:
    from sim.devices.bitband import DEVICES as BITBAND
    from sim.devices.cmsdk_timer import CmsdkTimer0, CmsdkTimer1
    from sim.devices.cmsdk_uart import CmsdkUart, CmsdkUart1k
    from sim.devices.dwt import DataWatchpointTrace
    from sim.devices.itm import InstrumentationTrace
    from sim.devices.scs import SystemControlSpace
    from sim.devices.stm32_buses import DEVICES as STM32_BUSES
    from sim.devices.stm32l0 import DEVICES as STM32L0
    from sim.devices.stm32l0_adc import DEVICES as STM32L0_ADC
    from sim.devices.stm32l0_crc import DEVICES as STM32L0_CRC
    from sim.devices.stm32l0_dbgmcu import DEVICES as STM32L0_DBGMCU
    from sim.devices.stm32l0_dma import DEVICES as STM32L0_DMA
    from sim.devices.stm32l0_exti import DEVICES as STM32L0_EXTI
    from sim.devices.stm32l0_factory import DEVICES as STM32L0_FACTORY
    from sim.devices.stm32l0_flash import DEVICES as STM32L0_FLASH
    from sim.devices.stm32l0_gpio import DEVICES as STM32L0_GPIO
    from sim.devices.stm32l0_i2c import DEVICES as STM32L0_I2C
    from sim.devices.stm32l0_iwdg import DEVICES as STM32L0_IWDG
    from sim.devices.stm32l0_lptim import DEVICES as STM32L0_LPTIM
    from sim.devices.stm32l0_pwr import DEVICES as STM32L0_PWR
    from sim.devices.stm32l0_rtc import DEVICES as STM32L0_RTC
    from sim.devices.stm32l0_spi import DEVICES as STM32L0_SPI
    from sim.devices.stm32l0_tim import DEVICES as STM32L0_TIMERS
    from sim.devices.stm32l0_usart import DEVICES as STM32L0_USARTS
    from sim.devices.stm32l0_wwdg import DEVICES as STM32L0_WWDG

    return {d.name: d for d in (SystemControlSpace, DataWatchpointTrace, InstrumentationTrace,
                                CmsdkUart, CmsdkUart1k, CmsdkTimer0, CmsdkTimer1, *STM32L0,
                                *STM32L0_USARTS, *STM32L0_TIMERS, *STM32L0_EXTI,
                                *STM32L0_RTC, *STM32L0_ADC, *STM32L0_FACTORY,
                                *STM32L0_PWR, *STM32L0_FLASH, *STM32L0_LPTIM,
                                *STM32L0_GPIO, *STM32L0_I2C, *STM32L0_SPI,
                                *STM32L0_IWDG, *STM32L0_DMA, *STM32L0_WWDG, *STM32L0_CRC,
                                *STM32L0_DBGMCU, *STM32_BUSES, *BITBAND)}


REGISTRY: dict[str, Callable[[DeviceHost], Device]] = _registry()


def create(names: tuple[str, ...], host: DeviceHost) -> list[Device]:
    """The devices called ``names``, built for ``host``; ValueError naming an unknown one."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown device {unknown[0]!r}; known devices: {', '.join(REGISTRY)}")
    return [REGISTRY[n](host) for n in names]


def windows(device: Device, others: list[Device]) -> list[tuple[int, int]]:
    """Where ``device`` is mapped, as (address, size): its whole range, or for a background
    device its range less those of the other devices that are not."""
    spans = [(device.base, device.base + device.size)]
    if device.background:
        for other in others:
            if other is device or other.background:
                continue
            lo, hi = other.base, other.base + other.size
            spans = [piece for start, end in spans
                     for piece in ((start, min(end, lo)), (max(start, hi), end))
                     if piece[0] < piece[1]]
    return [(start, end - start) for start, end in spans]
