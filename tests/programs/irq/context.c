/* One thread on its own stack (PSP) whose context the PendSV handler saves below the exception
 * frame, as an RTOS does, so that the thread's stack peak follows from this layout alone. The
 * thread is naked code that never touches its stack: it pends PendSV, which stacks the 8-word
 * frame (26 words when the thread used the FPU: FP=1) at the top of `thread_stack`; the handler
 * stores r4-r11 below it (and, after an extended frame, s16-s31 first), as FreeRTOS's ports do
 * (ARMv6-M: lower the pointer, then store upwards). The thread then exits through semihosting.
 * Peak of thread_stack: 32 + 32 = 64 bytes; with FP=1, 104 + 64 + 32 = 200 bytes.
 */
#include "cm.h"

#ifndef FP
#define FP 0
#endif

#define STACK_WORDS 64
uint32_t thread_stack[STACK_WORDS] __attribute__((aligned(8)));

void PendSV_Handler(void) __attribute__((naked));
void PendSV_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
                     "mrs r0, psp\n\t"
#if defined(__ARM_ARCH_6M__)
                     "subs r0, #32\n\t"
                     "stmia r0!, {r4-r7}\n\t"
                     "mov r4, r8\n\tmov r5, r9\n\tmov r6, r10\n\tmov r7, r11\n\t"
                     "stmia r0!, {r4-r7}\n\t"
#else
#if defined(__ARM_FP)
                     "tst lr, #0x10\n\t" /* an extended frame: save s16-s31 too */
                     "it eq\n\t"
                     "vstmdbeq r0!, {s16-s31}\n\t"
#endif
                     "stmdb r0!, {r4-r11}\n\t"
#endif
                     "bx lr\n\t");
}

void thread(void) __attribute__((naked, noreturn));
void thread(void)
{
    __asm__ volatile(".syntax unified\n\t"
#if FP
                     "vmov s0, r0\n\t" /* the thread uses the FPU: CONTROL.FPCA is set */
#endif
                     "ldr r0, =0xE000ED04\n\t" /* ICSR.PENDSVSET */
                     "ldr r1, =0x10000000\n\t"
                     "str r1, [r0]\n\t"
                     "dsb\n\tisb\n\t"
                     "movs r0, #0x18\n\t" /* SYS_EXIT, ADP_Stopped_ApplicationExit */
                     "ldr r1, =0x20026\n\t"
                     "bkpt 0xab\n\t"
                     "b .\n\t"
                     ".ltorg\n\t");
}

int main(void)
{
    /* thread mode on PSP at the top of thread_stack, then into the thread */
    __asm__ volatile(".syntax unified\n\t"
                     "msr psp, %0\n\t"
                     "movs r0, #2\n\t"
                     "msr control, r0\n\t"
                     "isb\n\t"
                     "bx %1\n\t"
                     :
                     : "l"(thread_stack + STACK_WORDS), "l"(thread)
                     : "r0", "memory");
    return 1;
}
