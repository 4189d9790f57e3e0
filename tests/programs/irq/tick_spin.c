/* A busy loop (spin) that SysTick interrupts every 1,000 cycles with TICKCSR 7 (not at all
 * with 0): what an interrupt costs, and whom the profile charges it to (tests/test_profile.py).
 * Exits with 0. */
#include "cm.h"

#ifndef TICKCSR
#define TICKCSR 7
#endif

volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

__attribute__((noinline)) void spin(int n)
{
    for (volatile int i = 0; i < n; i++)
        ;
}

int main(void)
{
    SYST_RVR = 999u;
    SYST_CVR = 0;
    SYST_CSR = TICKCSR;
    spin(2000);
    SYST_CSR = 0;
    return 0;
}
