/*
 * The STM32L0's independent watchdog (RM0377 section 25) as STM32CubeL0's HAL_IWDG_Init and
 * HAL_IWDG_Refresh drive it, on the stm32l031 profile (32 MHz; SysTick every 10 ms): RLR 369, PR
 * 0 (LSI / 4: 9,250 Hz), a timeout of 370 / 9,250 = 40 ms. CASE:
 *   starve   refreshed at each of REFRESHES ticks, then no more (the core in WFI, SysTick going
 *            on): the watchdog resets the part 40 ms after the last refresh.
 *   fed      refreshed at every tick, for ever (run it for a while: it never resets).
 *   stop     refreshed once, then Stop mode (SLEEPDEEP; nothing else wakes the core): the
 *            watchdog resets it there, 40 ms later.
 *   window   WINR 100 written (HAL_IWDG_Init with a window: the counter reloads), then a refresh
 *            at once, the counter near 369, above the window: a reset.
 *   after    refreshed once, SysTick stopped, then a WFI with code after it (a print, exit 7): the
 *            watchdog's reset ends the run in the sleep; the code after it never runs.
 *   winfed   a window (WINR 300) and a refresh every 10 ms: the counter is below 300 each time
 *            (369 - 92 counts), so it never resets.
 *   locked   PR written without the 0x5555 key: ignored (listed); exit 0 when PR still reads 0.
 */
#include "cm.h"
#include "semihost.h"

#define IWDG(off) REG(0x40003000u + (off))
#define KR 0x00u
#define PR 0x04u
#define RLR 0x08u
#define SR 0x0Cu
#define WINR 0x10u
#ifndef REFRESHES
#define REFRESHES 5
#endif

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

static void wait_tick(void)
{
    uint32_t t = ticks;
    while (ticks == t)
        __asm volatile("wfi");
}

int main(void)
{
#if CASE_locked
    IWDG(KR) = 0xCCCCu;
    IWDG(PR) = 3u;
    return IWDG(PR) == 0u ? 0 : 1;
#else
    IWDG(KR) = 0xCCCCu; /* HAL_IWDG_Init: start, unlock, PR, RLR, wait, reload */
    IWDG(KR) = 0x5555u;
    IWDG(PR) = 0u;
    IWDG(RLR) = 369u;
    while (IWDG(SR) != 0u)
        ;
#if CASE_window
    IWDG(WINR) = 100u; /* reloads the counter */
    while (IWDG(SR) != 0u)
        ;
    IWDG(KR) = 0xAAAAu; /* counter near 369 > 100: reset */
    for (;;)
        ;
#endif
    IWDG(KR) = 0xAAAAu;
    SYST_RVR = 320000u - 1u; /* 10 ms at 32 MHz */
    SYST_CVR = 0;
    SYST_CSR = 7u;
#if CASE_starve
    for (int i = 0; i < REFRESHES; i++) {
        wait_tick();
        IWDG(KR) = 0xAAAAu;
    }
    sh_write0("starving\n");
    for (;;)
        wait_tick();
#elif CASE_fed
    for (;;) {
        wait_tick();
        IWDG(KR) = 0xAAAAu;
    }
#elif CASE_after
    wait_tick();
    IWDG(KR) = 0xAAAAu;
    SYST_CSR = 0;
    __asm volatile("wfi");
    sh_write0("woke\n");
    return 7;
#elif CASE_winfed
    IWDG(KR) = 0x5555u;
    IWDG(WINR) = 300u;
    while (IWDG(SR) != 0u)
        ;
    for (;;) {
        wait_tick();
        IWDG(KR) = 0xAAAAu;
    }
#elif CASE_stop
    wait_tick();
    IWDG(KR) = 0xAAAAu;
    SYST_CSR = 0;
    SCB_SCR |= 4u; /* SLEEPDEEP, PWR_CR.PDDS clear: Stop mode */
    for (;;)
        __asm volatile("wfi");
#endif
#endif
    return 0;
}
