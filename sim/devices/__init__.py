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
from typing import Protocol

from toolchain.cores import Core


class DeviceHost(Protocol):
    """What a device may ask of the simulator it is mapped into."""

    @property
    def core(self) -> Core: ...

    def set_fpu_access(self, granted: bool) -> None:
        """Allow (or forbid: floating-point instructions fault) the FPU."""

    def set_div0_trap(self, on: bool) -> None:
        """CCR.DIV_0_TRP: SDIV/UDIV by zero fault while on, return 0 while off."""


class Device(ABC):
    """One memory-mapped device: ``size`` bytes at ``base`` (multiples of 1 KiB)."""

    name: str
    base: int
    size: int

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


def _registry() -> dict[str, Callable[[DeviceHost], Device]]:
    from sim.devices.scs import SystemControlSpace

    return {SystemControlSpace.name: SystemControlSpace}


REGISTRY: dict[str, Callable[[DeviceHost], Device]] = _registry()


def create(names: tuple[str, ...], host: DeviceHost) -> list[Device]:
    """The devices called ``names``, built for ``host``; ValueError naming an unknown one."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown device {unknown[0]!r}; known devices: {', '.join(REGISTRY)}")
    return [REGISTRY[n](host) for n in names]
