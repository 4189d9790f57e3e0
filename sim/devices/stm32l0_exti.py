"""The STM32L0x1's extended interrupt and event controller, EXTI (RM0377), as far as the part's
own modelled peripherals reach the NVIC through it: the GPIO pins (lines 0-15, as SYSCFG's
EXTICR selects their port: sim/devices/stm32l0_gpio.py), the RTC's wake-up timer (line 20) and
alarms (line 17), the comparators' outputs (lines 21 and 22: sim/devices/stm32l0_comp.py), and
software interrupts on any configurable line.

A configurable line (0-17, 19-22) latches a rising edge of its input in PR when RTSR selects
the rising edge (FTSR, the falling one; the RTC's lines only rise); PR is rc_w1 (a 1 written
clears the bit). Writing 1 to a SWIER bit that is 0 sets the line's PR bit (an interrupt when
IMR enables the line, an event when EMR does); the SWIER bit clears with PR. An NVIC line is a
level, high while a PR bit of its lines is set and enabled in IMR (RM0377's vector table,
STM32L0x1): lines 0-1 IRQ 5, 2-3 IRQ 6, 4-15 IRQ 7, 16 (PVD) IRQ 1, 17, 19 and 20 (the RTC) IRQ
2, 21-22 (the comparators) IRQ 12; a handler that does not clear PR is entered again. EMR
enables a line's event: an edge on it is a WFE wake-up event (it sets the event register).
IMR's reset value enables the direct lines (RM0377: 0x3F84_0000), EMR, RTSR, FTSR, SWIER and PR
reset to 0.

Not modelled: the PVD, and the direct lines' peripherals
(USART, LPUART, I2C, LPTIM wake-ups come from their own interrupt lines, not modelled here).
"""

from sim.devices import Device, lane
from sim.devices.stm32l0 import merge
from sim.devices.stm32l0_comp import replan as replan_comparators
from sim.devices.stm32l0_comp import settle as settle_comparators
from sim.devices.stm32l0_tim import replan_timers

IMR, EMR, RTSR, FTSR, SWIER, PR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14
CONFIGURABLE = 0x007B_FFFF  # lines 0-17 and 19-22 (18 and 23-29 are direct lines)
IMR_RESET = 0x3F84_0000
LINES = 0x3FFF_FFFF  # lines 0-29
# NVIC interrupt -> the EXTI lines whose pending bits drive it
NVIC_LINES = {5: 0x3, 6: 0xC, 7: 0xFFF0, 1: 1 << 16, 2: (1 << 17) | (1 << 19) | (1 << 20),
              12: (1 << 21) | (1 << 22)}
RTC_ALARM, RTC_TAMPER, RTC_WAKEUP = 17, 19, 20  # the RTC's lines


class Stm32l0Exti(Device):
    name, base, size = "stm32l0_exti", 0x4001_0400, 0x400

    def reset(self) -> None:
        self.imr = IMR_RESET
        self.emr = self.rtsr = self.ftsr = self.swier = self.pr = 0
        self._driven: dict[int, bool] = {}  # the NVIC lines as last driven (all low at reset)

    def edge(self, line: int, rising: bool = True) -> None:
        """An edge of line ``line``'s input (a peripheral's interrupt signal)."""
        bit = 1 << line
        if not bit & CONFIGURABLE:
            return
        if bit & (self.rtsr if rising else self.ftsr):
            self.pr |= bit
            if bit & self.emr:
                self.host.exceptions.event_register = True
            self._drive()

    def _drive(self) -> None:
        """The NVIC lines: high while an enabled pending bit of theirs is set, driven as one
        source of each (the mps2 map's UART also drives IRQ 1, the ADC IRQ 12: a line is high
        while any of its sources holds it); only a change is driven."""
        active = self.pr & self.imr
        for irq, lines in NVIC_LINES.items():
            high = bool(active & lines)
            if self._driven.get(irq, False) != high:
                self._driven[irq] = high
                self.host.set_irq_level(irq, high, self)

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        values = {IMR: self.imr, EMR: self.emr, RTSR: self.rtsr, FTSR: self.ftsr,
                  SWIER: self.swier, PR: self.pr}
        if word not in values:
            self.host.unmodelled(self, offset, size, None)
        return lane(values.get(word, 0), offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        settle_comparators(self.host)  # (their edges up to the store, to the lines as they were)
        if word == PR:  # rc_w1; SWIER's bits go with the pending bits they set
            cleared = merge(0, offset, size, value) & CONFIGURABLE
            self.pr &= ~cleared
            self.swier &= ~cleared
        elif word == SWIER:
            new = merge(self.swier, offset, size, value) & CONFIGURABLE
            rising = new & ~self.swier
            self.swier = new
            self.pr |= rising
            if rising & self.emr:
                self.host.exceptions.event_register = True
        elif word in (IMR, EMR):  # (a timer output's edges on a pin may wake the core now)
            if word == IMR:
                self.imr = merge(self.imr, offset, size, value) & LINES
            else:
                self.emr = merge(self.emr, offset, size, value) & LINES
            replan_timers(self.host)
            replan_comparators(self.host)  # (whether their edges can wake the core)
        elif word == RTSR:
            self.rtsr = merge(self.rtsr, offset, size, value) & CONFIGURABLE
        elif word == FTSR:
            self.ftsr = merge(self.ftsr, offset, size, value) & CONFIGURABLE
        else:
            self.host.unmodelled(self, offset, size, value)
        self._drive()


DEVICES = (Stm32l0Exti,)
