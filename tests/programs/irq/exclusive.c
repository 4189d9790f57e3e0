/* The local exclusive monitor across exceptions: an exception between LDREX and STREX makes
 * the STREX fail (ARMv7-M/v8-M clear the monitor at every exception entry and return), and a
 * thread's C11 atomic increments interleaved with a SysTick handler's lose none. */
#include <stdatomic.h>
#include "cm.h"
#include "semihost.h"

#ifndef ROUNDS
#define ROUNDS 3000u
#endif

static _Atomic uint32_t counter;
static volatile uint32_t isr_adds, pendsv_runs;
static volatile uint32_t word = 5;

void PendSV_Handler(void) { pendsv_runs++; }
void SysTick_Handler(void)
{
    atomic_fetch_add(&counter, 1u);
    isr_adds++;
}

/* LDREX, then (with `pend`) PendSV taken, then STREX: the store's status (0: stored) */
static uint32_t strex_status(int pend)
{
    uint32_t value, status;
    __asm__ volatile("ldrex %0, [%1]" : "=r"(value) : "r"(&word) : "memory");
    if (pend) {
        SCB_ICSR = PENDSVSET;
        __asm__ volatile("dsb\n\tisb" ::: "memory");
    }
    __asm__ volatile("strex %0, %2, [%1]" : "=&r"(status) : "r"(&word), "r"(value + 1u)
                     : "memory");
    return status;
}

int main(void)
{
    sh_write0("no exception: ");
    sh_write_int((long)strex_status(0));
    sh_write0(", PendSV between: ");
    sh_write_int((long)strex_status(1));
    sh_write0("\n");

    SYST_RVR = 97u;
    SYST_CVR = 0;
    SYST_CSR = 7;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t old = atomic_load(&counter);
        while (!atomic_compare_exchange_weak(&counter, &old, old + 1u))
            ;
    }
    SYST_CSR = 0;
    SCB_ICSR = 1u << 25; /* PENDSTCLR: no tick after the count */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uint32_t total = atomic_load(&counter), adds = isr_adds;
    sh_write0(total == ROUNDS + adds ? "no update lost\n" : "LOST UPDATES\n");
    return adds > 10u && pendsv_runs == 1u && total == ROUNDS + adds ? 0 : 1;
}
