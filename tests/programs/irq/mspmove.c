/* The main stack moved into a static array with MSR MSP, as Zephyr's and NuttX's interrupt
 * stacks are: the simulator bounded the main stack by the end of static data below the
 * initial SP and stopped at the first push there (a false stack overflow). Calls DEPTH deep
 * (about 48 bytes each) on the 1 KiB array while SysTick interrupts it, prints the sum.
 * -DRAMFUNC: the MSR MSP runs from SRAM (a function copied there with .data, as STM32Cube's
 * __RAM_FUNC), whose MSRs the simulator did not follow; with -DLIMIT it writes MSPLIM first
 * (ARMv8-M's; ignored by an ARMv7-M core). */
#include "cm.h"
#include "semihost.h"

#ifndef DEPTH
#define DEPTH 4
#endif

#ifdef ASM /* defined as NuttX's arm_exception.S does: .skip and .size, no .type */
__asm__(".bss\n.global isr_stack\n.balign 8\nisr_stack:\n.skip 1024\n"
        ".size isr_stack, .-isr_stack\n.text\n");
extern uint64_t isr_stack[128];
#else
uint64_t isr_stack[128];
#endif
static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

__attribute__((noinline)) uint32_t depth(uint32_t n)
{
    volatile uint32_t pad[8];
    pad[0] = n;
    return n ? depth(n - 1) + pad[0] : 0;
}

__attribute__((noreturn, noinline)) void on_new_stack(void)
{
    SYST_RVR = 499;
    SYST_CVR = 0;
    SYST_CSR = 7;
    uint32_t sum = depth(DEPTH);
    while (ticks < 3) {
    }
    SYST_CSR = 0;
    sh_write_int((long)sum);
    sh_write0("\n");
    sh_exit(0);
}

#ifdef RAMFUNC
__attribute__((section(".RamFunc"), noinline, long_call, noreturn)) static void
move_stack(void *top, void (*then)(void))
{
#ifdef LIMIT
    __asm__ volatile(".syntax unified\n\t.arch armv8-m.main\n\tmsr msplim, %0" ::"r"(isr_stack)
                     : "memory");
#endif
    __asm__ volatile("msr msp, %0\n\tbx %1" ::"r"(top), "r"(then) : "memory");
    __builtin_unreachable();
}

int main(void)
{
    move_stack(&isr_stack[128], on_new_stack);
}
#else
int main(void)
{
    __asm__ volatile("msr msp, %0\n\tb on_new_stack" ::"r"(&isr_stack[128]) : "memory");
    return 1;
}
#endif
