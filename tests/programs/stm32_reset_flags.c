/* RCC_CSR's reset flags on the STM32F746 (-DF7) and STM32L552 through a software reset
 * (AIRCR.SYSRESETREQ; run with --allow-resets 1). Boot 1 prints the power-on flags (CSR bits
 * 31:24), clears them with RMVF (unless -DKEEP) and prints them again, turns the LSE on in the
 * backup domain's BDCR and resets the part; boot 2 (told apart by a word in .noinit, which a
 * system reset keeps) prints the flags and BDCR.LSEON, which the reset left, and exits 0. */
#include <stdint.h>
#include "semihost.h"

#define REG(a) (*(volatile uint32_t *)(a))
#ifdef F7
#define RCC 0x40023800u
#define CSR 0x74u
#define BDCR 0x70u
#define RMVF (1u << 24)
#else
#define RCC 0x40021000u
#define CSR 0x94u
#define BDCR 0x90u
#define RMVF (1u << 23)
#endif
#define RCC_CSR REG(RCC + CSR)
#define RCC_BDCR REG(RCC + BDCR)
#define SCB_AIRCR REG(0xE000ED0Cu)

static uint32_t boot __attribute__((section(".noinit")));

static void flags(const char *what)
{
    sh_write0(what);
    sh_write_int((long)(RCC_CSR >> 24));
    sh_write0("\n");
}

int main(void)
{
    if (boot != 0xB0070001u) {
        boot = 0xB0070001u;
        flags("power-on ");
#ifndef KEEP
        RCC_CSR |= RMVF;
        flags("cleared ");
#endif
        RCC_BDCR |= 1u; /* LSEON */
        SCB_AIRCR = 0x05FA0004u;
        for (;;) {
        }
    }
    flags("after the reset ");
    sh_write0(RCC_BDCR & 1u ? "LSE kept\n" : "LSE lost\n");
    return 0;
}
