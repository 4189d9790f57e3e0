/* What the comparator tests time and print with: SysTick free-running over its 24 bits from
 * tick_start() (elapsed() counts core cycles since), and a labelled number on the console. */
#ifndef IRQ_TICKS_H
#define IRQ_TICKS_H
#include "cm.h"
#include "semihost.h"

__attribute__((unused)) static void print_num(const char *label, long v)
{
    sh_write0(label);
    sh_write_int(v);
    sh_write0("\n");
}

static inline void tick_start(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* the core's clock, no interrupt */
}

static inline uint32_t elapsed(void) { return 0xFFFFFFu - SYST_CVR; }
#endif
