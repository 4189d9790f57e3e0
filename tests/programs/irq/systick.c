/* SysTick with TICKINT: main sleeps in WFI until TICKS ticks have been counted, checking that
 * the counter counts down between them. */
#include "cm.h"
#include "semihost.h"

#ifndef TICKS
#define TICKS 10
#endif
#ifndef RELOAD
#define RELOAD 999u
#endif

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

int main(void)
{
    /* counting down, without interrupts (counts are per block: let some blocks run) */
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5;
    for (volatile int i = 0; i < 10; i++) /* QEMU reads 0 until its first count */
        ;
    uint32_t a = SYST_CVR;
    for (volatile int i = 0; i < 100; i++)
        ;
    uint32_t b = SYST_CVR;
    SYST_CSR = 0;
    SYST_RVR = RELOAD;
    SYST_CVR = 0;
#ifndef CSR
#define CSR 7 /* ENABLE, TICKINT, processor clock (5: the reference clock) */
#endif
    SYST_CSR = CSR;
    while (ticks < TICKS)
        __asm__ volatile("wfi");
    SYST_CSR = 0;
    sh_write0(a > b ? "counts down\n" : "does not count\n");
    sh_write0("ticks ");
    sh_write_int((long)ticks);
    sh_write0("\n");
    return 0;
}
