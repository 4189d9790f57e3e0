"""The Cortex-M memory map every target uses: one definition for the linker and the simulator.

Flash at 0x00000000 and SRAM at 0x20000000, the map of QEMU's ``mps2-an385``, so an image also
runs under ``qemu-system-arm -M mps2-an385``. The architecture gives the code region and the
SRAM region 512 MiB each; the Private Peripheral Bus (system control space, SysTick, NVIC, DWT)
sits at 0xE0000000.
"""

FLASH_BASE = 0x0000_0000
# Where an STM32's flash really is: vendor linker scripts link there, and the part boots from
# flash through an alias of it at 0 (toolchain.profiles: Target.flash_address).
STM32_FLASH = 0x0800_0000
SRAM_BASE = 0x2000_0000
REGION_SIZE = 0x2000_0000  # the code region and the SRAM region: 512 MiB each
PAGE_SIZE = 1024  # the simulator maps memory in Unicorn's ARM pages: sizes are whole KiB

SCS_BASE = 0xE000_E000  # System Control Space: 4 KiB inside the Private Peripheral Bus
SCS_SIZE = 0x1000
