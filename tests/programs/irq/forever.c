/* Firmware that never exits, as a vendor main loop does: ebnn-sim run --run-for ends it.
 * CASE_busy: a loop that never sleeps. CASE_wfi / CASE_wfe: a 1 ms SysTick interrupt at
 * 32 MHz, the core asleep in WFI (or WFE) between ticks; CASE_sleeponexit: the same, the core
 * going back to sleep as each handler returns (SCR.SLEEPONEXIT), main never resumed;
 * CASE_busytick: a 100 us SysTick interrupt, the core never asleep. */
#include <stdio.h>

#include "cm.h"

volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

int main(void)
{
#if defined(CASE_busy)
    for (;;)
        ticks++;
#elif defined(CASE_busytick)
    SYST_RVR = 3200u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (;;)
        ticks++;
#else
    SYST_RVR = 32000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, TICKINT, enable */
    printf("started\n");
#if defined(CASE_sleeponexit)
    SCB_SCR = 2u;
#endif
    for (;;) {
#if defined(CASE_wfe)
        __asm__ volatile("wfe");
#else
        __asm__ volatile("wfi");
#endif
    }
#endif
}
