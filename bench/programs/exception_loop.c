/* N exceptions, entry and return: each loop iteration pends PendSV (TAKE=1), or stores the
 * same value to a plain variable and calls the handler as a function (TAKE=0), then an ISB; the
 * handler only counts. Both runs execute the handler's body N times, so the difference of their
 * CPU times over N is the simulator's cost of exception entry and return (and of the store to
 * ICSR that pends it) and nothing else: with the count in the loop instead, the compiler hoists
 * the handler's literal load out of it and the control would do less work than the handler.
 * bench/freertos.py runs the two alternately and takes the median of the pairs. Built with
 * firmware/irq_startup.c. */
#include <stdint.h>

#include "semihost.h"

#ifndef N
#define N 100000
#endif
#ifndef TAKE
#define TAKE 1
#endif

static volatile uint32_t count;
static volatile uint32_t sink;

__attribute__((noinline)) void PendSV_Handler(void) { count++; }

int main(void)
{
    volatile uint32_t *target = TAKE ? (volatile uint32_t *)0xE000ED04u : &sink;
    for (uint32_t i = 0; i < N; i++) {
        *target = 1u << 28; /* ICSR.PENDSVSET */
        __asm__ volatile("dsb\n\tisb" ::: "memory");
        if (!TAKE)
            PendSV_Handler();
    }
    return count == N ? 0 : 1;
}
