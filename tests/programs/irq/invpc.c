/* An exception return the architecture refuses, delivered (run with --vector-faults): the SVC
 * handler branches to EXC_RETURN value RET (invalid, or 0xFFFFFFF1 from the only active
 * exception). The chip sets UFSR.INVPC and takes UsageFault (HardFault with HFSR.FORCED when
 * SHCSR does not enable it, -DDISABLED) without stacking a frame: LR is the EXC_RETURN and the
 * SVC's frame is still on the main stack (ARMv7-M B1.5.8). Prints the handler's exception
 * number, LR, CFSR.INVPC, HFSR.FORCED and whether the frame's PC is the one after the SVC. */
#include "cm.h"
#include "semihost.h"

void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
                     "ldr r0, =" RET "\n\t"
#ifdef POP /* the value taken into PC by a pop (ARMv8-M: its bit 0, ES, counts) */
                     "push {r0}\n\t"
                     "pop {pc}\n");
#else
                     "bx r0\n");
#endif
}

static void say(const char *what, uint32_t value)
{
    sh_write0(what);
    sh_write_int((long)value);
    sh_write0("\n");
}

extern char after_svc[];

void report(uint32_t lr, const uint32_t *frame, uint32_t ipsr)
{
    say("exception ", ipsr);
    say("lr ", lr);
    say("invpc ", SCB_CFSR >> 18 & 1u);
    say("forced ", SCB_HFSR >> 30 & 1u);
    say("frame pc after svc ", (frame[6] & ~1u) == ((uint32_t)after_svc & ~1u));
    sh_exit(0);
}

void UsageFault_Handler(void) __attribute__((naked));
void UsageFault_Handler(void)
{
    __asm__ volatile("mov r0, lr\n\tmrs r1, msp\n\tmrs r2, ipsr\n\tb report");
}

void HardFault_Handler(void) __attribute__((naked));
void HardFault_Handler(void)
{
    __asm__ volatile("mov r0, lr\n\tmrs r1, msp\n\tmrs r2, ipsr\n\tb report");
}

/* A valid thread frame on the PSP, returning to after_svc: a return that only looked at the
 * bits Unicorn keeps (0xFFFFFFBD without its ES bit is 0xFFFFFFBC) would resume there */
static uint32_t thread_frame[8] __attribute__((aligned(8)));

int main(void)
{
#ifndef DISABLED
    SCB_SHCSR |= 1u << 18; /* USGFAULTENA */
#endif
    thread_frame[6] = (uint32_t)after_svc & ~1u;
    thread_frame[7] = 1u << 24;
    __asm__ volatile("msr psp, %0" ::"r"(thread_frame) : "memory");
    __asm__ volatile("svc #0\n\t.global after_svc\nafter_svc:" ::: "memory");
    sh_write0("returned\n");
    return 1;
}
