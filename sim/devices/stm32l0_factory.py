"""The STM32L0x1's factory data in its system memory (RM0377, "Device electronic signature", and
the datasheet's embedded reference voltage and temperature sensor calibration values),
read-only at 0x1FF80000-0x1FF803FF, so that firmware reading its unique ID, its flash size or
the ADC's calibration values (STM32CubeL0's HAL_GetUIDw0, LL_GetFlashSize,
__HAL_ADC_CALC_VREFANALOG_VOLTAGE, __HAL_ADC_CALC_TEMPERATURE) reads a part's values instead of
faulting on an unmapped address.

The values are one part's, the same on every run (each chip has its own: code must not depend
on them): the 96-bit unique ID at 0x50, 0x54 and 0x64 (:data:`UID`); the flash size in KiB at
0x7C (the flash the run maps, 32 for the STM32L031K6; at most 65,535); VREFINT_CAL at 0x78
(1,671: VREFINT is 1.224 V, measured at VDDA = 3.0 V), TS_CAL1 at 0x7A (677: the sensor at 30
degrees C) and TS_CAL2 at 0x7E (897: at 130 degrees C), the values the ADC model converts
(sim/devices/stm32l0_adc.py). Every other offset (the option bytes at 0x00-0x1F among them)
reads 0 and is listed as unmodelled; a write is a precise BusFault, as on the chip (flash and
option bytes are programmed through the flash interface).
"""

from sim.devices import Device

BASE = 0x1FF8_0000
UID = (0x0025_002D, 0x5733_5111, 0x2036_3853)  # at 0x50, 0x54, 0x64
VREFINT_CAL, TS_CAL1, TS_CAL2 = 1671, 677, 897


class Stm32l0Factory(Device):
    name, base, size = "stm32l0_factory", BASE, 0x400

    def reset(self) -> None:
        flash_kib = min(self.host.flash_size // 1024, 0xFFFF)  # a 16-bit register
        halves = {0x78: VREFINT_CAL, 0x7A: TS_CAL1, 0x7C: flash_kib, 0x7E: TS_CAL2}
        self._bytes = bytearray(0x80)
        for offset, word in ((0x50, UID[0]), (0x54, UID[1]), (0x64, UID[2])):
            self._bytes[offset : offset + 4] = word.to_bytes(4, "little")
        for offset, half in halves.items():
            self._bytes[offset : offset + 2] = half.to_bytes(2, "little")
        self._known = {*range(0x50, 0x58), *range(0x64, 0x68), *range(0x78, 0x80)}

    def read(self, offset: int, size: int) -> int:
        if not all(b in self._known for b in range(offset, offset + size)):
            self.host.unmodelled(self, offset, size, None)
        if offset + size > len(self._bytes):
            return 0
        return int.from_bytes(self._bytes[offset : offset + size], "little")

    def write(self, offset: int, size: int, value: int) -> None:
        self.host.bus_fault(self, offset, size, value,
                            "the factory data in system memory is read-only")


DEVICES = (Stm32l0Factory,)
