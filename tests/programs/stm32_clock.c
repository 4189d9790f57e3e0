/* A vendor-style clock set-up on the STM32F746 (-DF7) or STM32L552: oscillators and PLL on,
 * each ready flag waited for, the regulator raised (F7 over-drive, L5 range 0), flash wait
 * states set and read back, the system clock switched and its status waited for, as CMSIS
 * SystemInit and STM32Cube's SystemClock_Config do. Prints "clock set-up done" and CFGR. */
#include <stdint.h>
#include "semihost.h"

#define REG(a) (*(volatile uint32_t *)(a))

#ifdef F7
#define RCC 0x40023800u
#define PWR_CR1 REG(0x40007000u)
#define PWR_CSR1 REG(0x40007004u)
#define FLASH_ACR REG(0x40023C00u)
#define HSEON (1u << 16)
#define HSERDY (1u << 17)
#define CLOCK_ON HSEON
#define CLOCK_RDY HSERDY
#else
#define RCC 0x40021000u
#define PWR_CR1 REG(0x40007000u)
#define PWR_SR2 REG(0x40007014u)
#define FLASH_ACR REG(0x40022000u)
#define CLOCK_ON (1u << 8)   /* HSION */
#define CLOCK_RDY (1u << 10) /* HSIRDY */
#endif
#ifdef F7
#define CSR 0x74u
#define RMVF (1u << 24)
#else
#define CSR 0x94u
#define RMVF (1u << 23) /* (RM0438: bit 23 on the L5, as on the L4) */
#endif
#define RCC_CR REG(RCC + 0x00u)
#define RCC_CFGR REG(RCC + 0x08u)

static void fail(const char *what)
{
    sh_write0(what);
    sh_write0(" failed\n");
    sh_exit(1);
}

int main(void)
{
    RCC_CR |= CLOCK_ON;
    while (!(RCC_CR & CLOCK_RDY)) {
    }
    RCC_CR |= 1u << 24; /* PLLON */
    while (!(RCC_CR & (1u << 25))) {
    }
#ifdef F7
    PWR_CR1 |= 1u << 16; /* ODEN */
    while (!(PWR_CSR1 & (1u << 16))) {
    }
    PWR_CR1 |= 1u << 17; /* ODSWEN */
    while (!(PWR_CSR1 & (1u << 17))) {
    }
#else
    PWR_CR1 &= ~(3u << 9); /* VOS: range 0 */
    while (PWR_SR2 & (1u << 10)) {
    }
#endif
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 5u;
    if ((FLASH_ACR & 0xFu) != 5u)
        fail("flash latency");
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u; /* PLL (L5), reserved value 3 on F7 reads back too */
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
    if (RCC_CR & (1u << 24) && !(RCC_CR & (1u << 25)))
        fail("PLL ready");
    RCC_CR &= ~(1u << 24);
    if (RCC_CR & (1u << 25))
        fail("PLL off");
    REG(RCC + CSR) |= RMVF; /* the reset flags cleared */
    if (REG(RCC + CSR) >> 25)
        fail("RMVF");
    sh_write0("clock set-up done\n");
    return 0;
}
