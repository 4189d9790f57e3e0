/*
 * Start-up code for every target: the vector table, .data copy, .bss zeroing, then
 * exit(main()) through semihosting. Faults end the program with status 128 + the exception
 * number, so a fault is visible under QEMU or a probe too; ebnn-sim reports faults itself,
 * before any vector is taken.
 */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
extern uint8_t __tls_base[];
void _set_tls(void *tls) __attribute__((weak)); /* picolibc: thread pointer for errno */

int main(void);
void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void) __attribute__((noreturn));

void Reset_Handler(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end)
        *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
    if (_set_tls)
        _set_tls(__tls_base);
#if defined(__ARM_FP)
    /* Full access to CP10/CP11 (the FPU) in SCB->CPACR. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    sh_exit(main());
}

void Fault_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_write0("fault: exception ");
    sh_write_int((long)(ipsr & 0x1ffu));
    sh_write0("\n");
    sh_exit(128 + (int)(ipsr & 0x1ffu));
}

__attribute__((section(".vectors"), used)) void (*const __vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    Fault_Handler, /* SecureFault (v8-M) */
    0, 0, 0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};
