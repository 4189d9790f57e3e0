"""Target profiles: a Cortex-M core with the clock and memories of a real part.

``curie`` is the eBNN paper's platform (Intel Curie / Arduino 101: 32 MHz, 15 KB of SRAM usable
by a sketch, 196 KB of flash) modelled as a Cortex-M3, the closest core arm-none-eabi builds for.
The others are common parts, one per core, with their datasheet figures. ``flash_wait_states``
is what a pipeline refill pays after a taken branch: 1 on the cache-less STM32L031 at 32 MHz, 0 on
parts whose flash cache or accelerator (nRF52 cache, ST ART/ICACHE) hides it in loops.
"""

from dataclasses import dataclass

from toolchain.cores import Core, get_core
from toolchain.memory_map import STM32_FLASH
from toolchain.sizes import format_size

KIB = 1024

# the devices of QEMU's mps2 boards the simulator has for every profile: the core's System
# Control Space, DWT and ITM, the CMSDK UART the harness prints through, two CMSDK timers
_MPS2 = ("scs", "dwt", "itm", "cmsdk_uart", "cmsdk_timer0", "cmsdk_timer1")


@dataclass(frozen=True)
class Target:
    name: str
    part: str
    core: str  # name of the CPU core's record in toolchain.cores (gcc -mcpu name)
    clock_hz: int
    sram: int
    flash: int
    flash_wait_states: int
    fpu: str | None  # gcc -mfpu when the part has the core's FPU fitted, else None (soft float)
    # memory-mapped devices the simulator models for this part, by name (sim.devices)
    devices: tuple[str, ...] = _MPS2
    irqs: int = 32  # external interrupt lines of the NVIC (at least 32 modelled)
    prio_bits: int = 3  # implemented bits of each 8-bit exception priority
    # where the part's flash is, when an image may be linked there rather than at 0 (an
    # STM32's 0x08000000, as its vendor's linker scripts link it); 0: flash at 0 only
    flash_address: int = 0
    # where the part shows that flash when it boots from it, its vector table read there at
    # reset and VTOR's reset value: the STM32L0 aliases it at 0 (RM0377, boot configuration),
    # the STM32F7 boots from its ITCM address 0x00200000 (RM0385: BOOT_ADD0's default); None:
    # from the flash address itself (the STM32L5 without TrustZone: NSBOOTADD0, RM0438)
    boot_alias: int | None = 0
    # what flash the image does not fill reads as, erased: NOR flash's 0xFF, the STM32L0's NVM
    # 0 (RM0377: an erased word reads 0)
    flash_erased: int = 0xFF
    # SysTick's reference clock (CLKSOURCE = 0) as a divisor of the core's clock: the STM32s'
    # RCC feeds it HCLK / 8 (RM0377, RM0385, RM0438: "SysTick external clock"); 0: none, so
    # SYST_CALIB.NOREF reads 1 and CLKSOURCE reads as one, writes ignored (ARMv7-M B3.3.3)
    systick_ref_div: int = 0

    def __post_init__(self) -> None:
        core = get_core(self.core)
        if self.fpu is not None and self.fpu != core.fpu:
            raise ValueError(f"target {self.name}: {self.core} has no FPU {self.fpu!r}")

    @property
    def cpu(self) -> Core:
        """The record of this target's core: architecture, Unicorn model, timing, rules."""
        return get_core(self.core)

    @property
    def cflags(self) -> tuple[str, ...]:
        flags = [f"-mcpu={self.cpu.name}", "-mthumb"]
        if self.fpu:
            flags += [f"-mfpu={self.fpu}", "-mfloat-abi=hard"]
        else:
            flags += ["-mfloat-abi=soft"]
        return tuple(flags)

    @property
    def clock_mhz(self) -> float:
        return self.clock_hz / 1e6

    def beyond_part(self, sram: int, flash: int) -> list[str]:
        """Warnings for sizes larger than the part's own memories: right for a larger variant
        of the part, but such an image does not start on the part itself (its initial stack
        pointer lies past the part's SRAM) or may not fit its flash."""
        return [f"{what} {format_size(size)} is more than {self.name}'s {format_size(own)}: "
                "right only for a larger variant of the part"
                for what, size, own in (("SRAM", sram, self.sram), ("flash", flash, self.flash))
                if size > own]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        # with the bit-band aliases of SRAM and the peripherals, as QEMU's mps2-an385
        Target("curie", "Intel Curie (Quark SE) as Cortex-M3", "cortex-m3", 32_000_000,
               15 * KIB, 196 * KIB, 0, None,
               devices=(*_MPS2, "bitband_sram", "bitband_periph")),
        # ARMv6-M has no ITM (and its DWT no cycle counter: sim/devices/dwt.py)
        Target("stm32l031", "STM32L031K6 (Cortex-M0+)", "cortex-m0plus", 32_000_000,
               8 * KIB, 32 * KIB, 1, None, prio_bits=2,
               # the part's TIM2 where the mps2 map has the CMSDK TIMER0
               devices=("scs", "dwt", "cmsdk_uart_1k", "cmsdk_timer1", "stm32l0_rcc",
                        "stm32l0_usart2", "stm32l0_lpuart1", "stm32l0_tim2", "stm32l0_tim21",
                        "stm32l0_tim22", "stm32l0_lptim1", "stm32l0_pwr", "stm32l0_exti",
                        "stm32l0_rtc", "stm32l0_adc", "stm32l0_factory", "stm32l0_flash",
                        "stm32l0_gpioa", "stm32l0_gpiob", "stm32l0_gpioc", "stm32l0_gpioh",
                        "stm32l0_syscfg", "stm32l0_i2c1", "stm32l0_spi1", "stm32l0_iwdg",
                        "stm32l0_dma", "stm32l0_wwdg", "stm32l0_crc", "stm32l0_eeprom",
                        "stm32l0_dbgmcu", "stm32l0_apb1", "stm32l0_apb2", "stm32l0_ahb",
                        "stm32l0_ioport"),
               flash_address=STM32_FLASH, flash_erased=0, systick_ref_div=8),
        Target("nrf52832", "nRF52832 (Cortex-M4F)", "cortex-m4", 64_000_000,
               64 * KIB, 512 * KIB, 0, "fpv4-sp-d16", irqs=39),
        Target("stm32f746", "STM32F746 (Cortex-M7)", "cortex-m7", 216_000_000,
               320 * KIB, 1024 * KIB, 0, "fpv5-sp-d16", irqs=98, prio_bits=4,
               # the part's RCC and PWR flags and buses read back: its vendor's start-up runs
               devices=(*_MPS2, "stm32f7_rcc", "stm32f7_pwr", "stm32f7_apb1", "stm32f7_apb2",
                        "stm32f7_ahb1", "stm32f7_ahb2", "stm32f7_dbgmcu"),
               flash_address=STM32_FLASH, boot_alias=0x00200000, systick_ref_div=8),
        Target("stm32l552", "STM32L552 (Cortex-M33)", "cortex-m33", 110_000_000,
               256 * KIB, 512 * KIB, 0, "fpv5-sp-d16", irqs=109, flash_address=STM32_FLASH,
               devices=(*_MPS2, "stm32l5_rcc", "stm32l5_pwr", "stm32l5_apb1", "stm32l5_apb2",
                        "stm32l5_ahb1", "stm32l5_ahb2", "stm32l5_dbgmcu"),
               boot_alias=None, systick_ref_div=8),
    )
}

DEFAULT_TARGET = "curie"


def get_target(name: str) -> Target:
    """The profile called ``name``; ValueError naming the known ones otherwise."""
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(
            f"unknown target {name!r}; known targets: {', '.join(TARGETS)}"
        ) from None
