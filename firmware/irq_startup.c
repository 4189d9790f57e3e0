/*
 * Start-up code for interrupt-driven firmware (the interrupt tests, the exception benchmark,
 * the FreeRTOS demo): a vector table with the 16 system exceptions and 32 external interrupts,
 * each a weak handler with the CMSIS name (SVC_Handler, PendSV_Handler, SysTick_Handler,
 * IRQ0_Handler ... IRQ31_Handler) that the program overrides; .data copy, .bss zeroing, the
 * FPU enabled on FPU parts, then exit(main()) through semihosting. An exception with no handler of its own
 * prints "unexpected exception N" and exits with 128 + N, under QEMU too.
 */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

int main(void);
void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);

#define WEAK __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK;
void HardFault_Handler(void) WEAK;
void MemManage_Handler(void) WEAK;
void BusFault_Handler(void) WEAK;
void UsageFault_Handler(void) WEAK;
void SVC_Handler(void) WEAK;
void PendSV_Handler(void) WEAK;
void SysTick_Handler(void) WEAK;
void IRQ0_Handler(void) WEAK;
void IRQ1_Handler(void) WEAK;
void IRQ2_Handler(void) WEAK;
void IRQ3_Handler(void) WEAK;
void IRQ4_Handler(void) WEAK;
void IRQ5_Handler(void) WEAK;
void IRQ6_Handler(void) WEAK;
void IRQ7_Handler(void) WEAK;
void IRQ8_Handler(void) WEAK;
void IRQ9_Handler(void) WEAK;
void IRQ10_Handler(void) WEAK;
void IRQ11_Handler(void) WEAK;
void IRQ12_Handler(void) WEAK;
void IRQ13_Handler(void) WEAK;
void IRQ14_Handler(void) WEAK;
void IRQ15_Handler(void) WEAK;
void IRQ16_Handler(void) WEAK;
void IRQ17_Handler(void) WEAK;
void IRQ18_Handler(void) WEAK;
void IRQ19_Handler(void) WEAK;
void IRQ20_Handler(void) WEAK;
void IRQ21_Handler(void) WEAK;
void IRQ22_Handler(void) WEAK;
void IRQ23_Handler(void) WEAK;
void IRQ24_Handler(void) WEAK;
void IRQ25_Handler(void) WEAK;
void IRQ26_Handler(void) WEAK;
void IRQ27_Handler(void) WEAK;
void IRQ28_Handler(void) WEAK;
void IRQ29_Handler(void) WEAK;
void IRQ30_Handler(void) WEAK;
void IRQ31_Handler(void) WEAK;

void Reset_Handler(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    sh_exit(main());
}

void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_write0("unexpected exception ");
    sh_write_int((long)(ipsr & 0x1ffu));
    sh_write0("\n");
    sh_exit(128 + (int)(ipsr & 0x1ffu));
}

__attribute__((section(".vectors"), used)) void (*const __vectors[16 + 32])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, Reset_Handler, NMI_Handler, HardFault_Handler,
    MemManage_Handler, BusFault_Handler, UsageFault_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, SVC_Handler, Default_Handler, Default_Handler,
    PendSV_Handler, SysTick_Handler,
    IRQ0_Handler, IRQ1_Handler, IRQ2_Handler, IRQ3_Handler, IRQ4_Handler, IRQ5_Handler,
    IRQ6_Handler, IRQ7_Handler, IRQ8_Handler, IRQ9_Handler, IRQ10_Handler, IRQ11_Handler,
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler, IRQ16_Handler, IRQ17_Handler,
    IRQ18_Handler, IRQ19_Handler, IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler, IRQ28_Handler, IRQ29_Handler,
    IRQ30_Handler, IRQ31_Handler,
};
