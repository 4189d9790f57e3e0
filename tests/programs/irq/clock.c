/*
 * The STM32L0's clock set up by the firmware (RCC_CFGR, FLASH_ACR) on the stm32l031 profile: the
 * simulated core runs at the clock the registers give from the first such write. CASE selects:
 *   spin     the same loop before and after a CFGR write that keeps the part's reset clock
 *            (MSI range 5, 2.097 MHz, LATENCY 0): timed by SysTick in core cycles, it prints
 *            both counts (the second pays no flash wait state).
 *   tick     MSI, SysTick every 2,097 cycles (1 ms at MSI's 2,097,152 Hz) with WFI between:
 *            after 100 ticks it prints semihosting's SYS_CLOCK (centiseconds of device time).
 *   forever  the same ticks for ever (for --run-for), counting them in `ticks`.
 *   overclock 32 MHz from the PLL (HSI16 x 4 / 2, one wait state) in voltage range 2, the
 *            reset's: beyond what the range allows (a warning; the run goes on).
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_CFGR REG(0x4002100Cu)
#define FLASH_ACR REG(0x40022000u)
#define RCC_CR REG(0x40021000u)

volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

#if CASE_spin
static uint32_t timed_loop(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* the core's clock, no interrupt */
    uint32_t start = SYST_CVR;
    for (volatile int i = 0; i < 200; i++)
        ;
    uint32_t end = SYST_CVR;
    SYST_CSR = 0;
    return start - end;
}
#else
static void msi_ticks(void)
{
    RCC_CFGR = RCC_CFGR; /* SW: MSI, as after reset: the firmware's clock from here */
    SYST_RVR = 2096u;     /* 1 ms at 2,097,152 Hz */
    SYST_CVR = 0;
    SYST_CSR = 7u; /* the core's clock, interrupt, on */
}
#endif

int main(void)
{
#if CASE_spin
    uint32_t before = timed_loop();
    RCC_CFGR = RCC_CFGR;
    uint32_t after = timed_loop();
    sh_write_int((long)before);
    sh_write0(" ");
    sh_write_int((long)after);
    sh_write0("\n");
    return after < before ? 0 : 1;
#elif CASE_tick
    msi_ticks();
    while (ticks < 100)
        __asm volatile("wfi");
    sh_write_int((long)sh_call(0x10, 0)); /* SYS_CLOCK */
    sh_write0("\n");
    return 0;
#elif CASE_overclock
    FLASH_ACR = 1u;
    RCC_CR |= 1u; /* HSI16ON */
    while (!(RCC_CR & 4u))
        ;
    RCC_CFGR = (1u << 18) | (1u << 22); /* PLL: x 4 / 2 */
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25)))
        ;
    RCC_CFGR |= 3u; /* SW: PLL */
    return ((RCC_CFGR >> 2) & 3u) == 3u ? 0 : 1;
#elif CASE_forever
    msi_ticks();
    for (;;)
        __asm volatile("wfi");
#else
#error "CASE_spin, CASE_tick, CASE_overclock or CASE_forever"
#endif
}
