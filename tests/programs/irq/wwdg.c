/*
 * The STM32L0's window watchdog (RM0377 section 26) as STM32CubeL0's HAL_WWDG_Init,
 * HAL_WWDG_Refresh and HAL_WWDG_IRQHandler drive it, on the stm32l031 profile (32 MHz, PCLK1 the
 * same): WDGTB 3 (a count every 4096 x 8 cycles: 1.024 ms), the counter from 0x7F, the window W
 * 0x50: a refresh is allowed once the counter is at 0x50 or below (after 47 counts, 48.1 ms), and
 * the reset comes when it passes 0x40 (64 counts, 65.5 ms). CASE:
 *   starve   started, never refreshed: the reset 65.5 ms after the start.
 *   fed      refreshed every 56 ms (in the window) REFRESHES times, then exit 0.
 *   early    refreshed 10 ms after the start (above the window): the reset at once.
 *   ewi      EWI on: the interrupt at 0x40 (64.5 ms) refreshes it, each time, 3 times; exit 0.
 *   recover  as starve; the second boot finds RCC_CSR.WWDGRSTF and exits 0 (with
 *            --allow-resets).
 *   stop     started, then Stop mode with nothing else to wake the core: PCLK1 stops, so does
 *            the watchdog (no reset: the run is a deadlock).
 *   cfr      started, and CFR written again (the same values) every millisecond: the reset
 *            comes at 65.5 ms all the same.
 *   wrap     not started: EWIF as the counter reaches 0x40 (63 ms), cleared, and again a wrap
 *            later (128 counts more); prints both.
 *   rst      EWI on, EWIF raised with PRIMASK set, then the WWDG reset by RCC_APB1RSTR: the
 *            line drops; unmasked, the handler runs at most once (prints its entries).
 *   free     not started (WDGA clear): the counter counts down all the same; exit 0 when it
 *            read less than 0x7F after 5 ms.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_APB1ENR REG(0x40021038u)
#define RCC_CSR REG(0x40021050u)
#define WWDG_CR REG(0x40002C00u)
#define WWDG_CFR REG(0x40002C04u)
#define WWDG_SR REG(0x40002C08u)
#define WDGA (1u << 7)
#define EWI (1u << 9)
#define WDGTB_8 (3u << 7)
#ifndef REFRESHES
#define REFRESHES 4
#endif

static volatile uint32_t ticks, ewis;

void SysTick_Handler(void) { ticks++; }

void IRQ0_Handler(void) /* WWDG: HAL_WWDG_IRQHandler, then a refresh in time */
{
    WWDG_SR = 0; /* EWIF */
    ewis++;
    WWDG_CR = 0x7Fu;
}

static void wait_ms(uint32_t ms)
{
    uint32_t end = ticks + ms;
    while (ticks < end)
        __asm__ volatile("wfi");
}

int main(void)
{
    SYST_RVR = 32000u - 1u; /* 1 ms */
    SYST_CVR = 0;
    SYST_CSR = 7u;
#if CASE_recover
    if (RCC_CSR & (1u << 30)) {
        sh_write0("window watchdog reset\n");
        return 0;
    }
#endif
    RCC_APB1ENR |= 1u << 11; /* WWDGEN */
#if CASE_wrap
    wait_ms(70);
    uint32_t first = WWDG_SR & 1u;
    WWDG_SR = 0;
    wait_ms(131);
    sh_write0(first ? "first 1" : "first 0");
    sh_write0(WWDG_SR & 1u ? " again 1\n" : " again 0\n");
    return 0;
#elif CASE_rst
    __asm__ volatile("cpsid i");
    NVIC_ISER = 1u;
    WWDG_CFR = EWI | 0x7Fu;            /* WDGTB 0: a count every 128 us */
    while (!(WWDG_SR & 1u))
        ;
    REG(0x40021028u) |= 1u << 11;      /* RCC_APB1RSTR: WWDGRST */
    REG(0x40021028u) &= ~(1u << 11);
    __asm__ volatile("cpsie i");
    wait_ms(2);
    return ewis <= 1u ? 0 : 1;
#elif CASE_free
    wait_ms(5);
    return (WWDG_CR & 0x7Fu) < 0x7Fu ? 0 : 1;
#else
#if CASE_ewi
    NVIC_ISER = 1u;
    WWDG_CFR = EWI | WDGTB_8 | 0x50u;
#else
    WWDG_CFR = WDGTB_8 | 0x50u;
#endif
    WWDG_CR = WDGA | 0x7Fu;
#if CASE_stop
    SYST_CSR = 0;
    SCB_SCR |= 1u << 2; /* SLEEPDEEP */
    for (;;)
        __asm__ volatile("wfi");
#elif CASE_starve || CASE_recover
    sh_write0("started\n");
    for (;;)
        __asm__ volatile("wfi");
#elif CASE_cfr
    for (;;) {
        wait_ms(1);
        WWDG_CFR = WDGTB_8 | 0x50u;
    }
#elif CASE_fed
    for (int i = 0; i < REFRESHES; i++) {
        wait_ms(56);
        WWDG_CR = 0x7Fu;
    }
    return 0;
#elif CASE_early
    wait_ms(10);
    WWDG_CR = 0x7Fu;
    sh_write0("after the refresh\n");
    return 0;
#elif CASE_ewi
    while (ewis < 3)
        __asm__ volatile("wfi");
    return 0;
#endif
#endif
}
