"""What the STM32L0's serial bus controllers (I2C1: sim/devices/stm32l0_i2c.py, SPI1:
sim/devices/stm32l0_spi.py) share: a transfer that moves in steps (an address, a byte, a frame,
a stop), each ending at a core cycle (``_due``) and lasting a number of units of the bus's clock
(``unit_cycles``: an SCL period, a bit time). A change of the clocks mid-step takes effect at
the store that makes it, the rest of the step at the new rate (:meth:`settle`,
:meth:`restart`); an event at each step's end makes the flags and the interrupt line follow,
also while the core sleeps.
"""

from abc import abstractmethod

from sim.devices.stm32l0 import Clocked
from sim.exceptions import Wakes


class SerialController(Clocked):
    """A controller whose subclass keeps ``_due`` (meaningful only while :meth:`_stepping`)
    and takes, in :meth:`_advance`, every step that ends by the cycle it is given, each at
    its own ``_due`` (a step may start the next there)."""

    _due: int  # the core cycle the step under way ends (set by the subclass's reset)
    _units_left: float  # of that step, from settle to restart

    @abstractmethod
    def unit_cycles(self) -> float:
        """The bus clock's unit (an SCL period, a bit time) in core cycles, now."""

    @abstractmethod
    def _stepping(self) -> bool:
        """A step is under way and the controller runs (its clock on)."""

    @abstractmethod
    def _advance(self, until: int | None = None) -> None:
        """The steps that ended by core cycle ``until`` (now), each at its own cycle."""

    @abstractmethod
    def _update_line(self) -> None:
        """The interrupt line from the flags and their enables."""

    def _wakes(self) -> Wakes:
        """Whether the steps' ends may lead to something that wakes the core (a subclass
        whose steps a DMA channel may feed for ever says when they cannot: set_timer's
        ``wakes``, a predicate asked while the core sleeps)."""
        return True

    def _plan(self) -> None:
        """An event at the step's end (none while no step is under way)."""
        at = self._due if self._stepping() else None
        self.host.exceptions.set_timer(self, at, self._event, wakes=self._wakes())

    def _event(self) -> None:
        """A step's end: the steps due, the line, the next event, the DMA's requests."""
        self._advance()
        self._update_line()
        self._plan()
        self.dma_service()

    def _after(self) -> None:
        """After a register access: the line, the next event, the DMA's requests."""
        self._update_line()
        self._plan()
        self.dma_service()

    def settle(self) -> None:
        """Before an RCC change: the steps done by its store, and the time left of the one
        under way in units of the bus clock."""
        now = self.host.store_cycle()  # (an RCC store: its own cycle; otherwise now)
        if self.clocked():
            self._advance(now)
            if self._stepping():
                self._units_left = max(0, self._due - now) / self.unit_cycles()

    def restart(self) -> None:
        """After the change: the step goes on from the store at the new rate."""
        if self._stepping():
            self._due = self.host.store_cycle() + round(self._units_left * self.unit_cycles())
        self._update_line()
        self._plan()
