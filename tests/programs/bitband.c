/* The Cortex-M3's bit-band aliases (curie; QEMU's mps2-an385 has them too): word, byte and
 * half-word accesses through the SRAM alias, and the alias of a CMSDK timer's RELOAD register.
 * CASE 1 instead stores through the alias of a byte past the run's SRAM: a BusFault. */
#include <stdint.h>
#include <stdio.h>

#define BB_SRAM(a, bit) (*(volatile uint32_t *)(0x22000000u + \
                         (((uint32_t)(a) - 0x20000000u) << 5) + ((uint32_t)(bit) << 2)))
#define BB_PERIPH(a, bit) (*(volatile uint32_t *)(0x42000000u + \
                           (((uint32_t)(a) - 0x40000000u) << 5) + ((uint32_t)(bit) << 2)))

static volatile uint32_t flags = 0x80000000u;
static volatile uint8_t bytes[4] = {0x00, 0xFF, 0x00, 0x00};

int main(void)
{
#if defined(CASE) && CASE == 1
    BB_SRAM(0x20080000u, 0) = 1;
#endif
    BB_SRAM(&flags, 0) = 1;
    BB_SRAM(&flags, 31) = 0;
    BB_SRAM(&flags, 5) = 0xFEu;  /* bit 0 is the value: clears */
    BB_SRAM(&flags, 7) = 3u;     /* sets */
    printf("flags %08lx, bits 7 and 6 read %lu %lu\n", (unsigned long)flags,
           (unsigned long)BB_SRAM(&flags, 7), (unsigned long)BB_SRAM(&flags, 6));

    *(volatile uint8_t *)&BB_SRAM(&bytes[1], 3) = 0;   /* a byte store: bytes[1] bit 3 */
    *(volatile uint16_t *)&BB_SRAM(&bytes[2], 4) = 1;  /* a half-word store: bytes[2] bit 4 */
    printf("bytes %02x %02x %02x %02x, byte load %u, half-word load %u\n", bytes[0], bytes[1],
           bytes[2], bytes[3], *(volatile uint8_t *)&BB_SRAM(&bytes[1], 2),
           *(volatile uint16_t *)&BB_SRAM(&bytes[1], 3));

    volatile uint32_t *reload = (volatile uint32_t *)0x40000008u;  /* CMSDK TIMER0 RELOAD */
    *reload = 0x100u;
    BB_PERIPH(reload, 0) = 1;
    BB_PERIPH(reload, 8) = 0;
    BB_PERIPH(reload, 20) = 1;
    printf("reload %08lx, bit 20 reads %lu\n", (unsigned long)*reload,
           (unsigned long)BB_PERIPH(reload, 20));
    return 0;
}
