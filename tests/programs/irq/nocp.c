/* Lazy FPU enabling: the FPU starts disabled (CPACR cleared), the first floating-point
 * instruction takes UsageFault NOCP (with USGFAULTENA; HardFault FORCED without, -DESCALATE),
 * whose handler grants CP10/CP11 and returns: the instruction runs again, now with the FPU.
 * Prints the fault count, CFSR (HFSR when escalated), the float's bits and 7 (-DMID: the
 * float instruction in the middle of its block, after two that compute the 7). */
#include "cm.h"
#include "semihost.h"

#define CPACR REG(0xE000ED88u)

static volatile uint32_t faults, status;

static void enable_fpu(uint32_t why)
{
    faults++;
    status = why;
    CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void UsageFault_Handler(void)
{
    uint32_t cfsr = SCB_CFSR;
    SCB_CFSR = cfsr; /* write one to clear */
    enable_fpu(cfsr);
}

void HardFault_Handler(void) { enable_fpu(SCB_HFSR); }

int main(void)
{
#ifndef ESCALATE
    SCB_SHCSR |= 1u << 18; /* USGFAULTENA */
#endif
    CPACR &= ~(0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uint32_t bits, before = 7;
#ifdef MID /* the float instruction in the middle of its block: what comes before runs once */
    __asm__ volatile("movs %1, #6\n\tadds %1, %1, #1\n\tvmov.f32 s0, #3.0\n\tvmov %0, s0"
                     : "=r"(bits), "=&l"(before) : : "s0", "cc");
#else
    __asm__ volatile("vmov.f32 s0, #3.0\n\tvmov %0, s0" : "=r"(bits) : : "s0");
#endif
    sh_write_int((long)faults);
    sh_write0(" ");
    sh_write_int((long)status);
    sh_write0(" ");
    sh_write_int((long)bits);
    sh_write0(" ");
    sh_write_int((long)before);
    sh_write0("\n");
    return 0;
}
