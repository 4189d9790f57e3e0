/* Vector table and reset for the FreeRTOS benchmark: the port's handlers sit in the table
 * itself (FreeRTOS checks that), IRQ0 is the demo's "device" interrupt. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
int main(void);
void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void);
void Device_IRQHandler(void);

#ifdef PORT_CM0
void SVC_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
#define SVC SVC_Handler
#define PENDSV PendSV_Handler
#define SYSTICK SysTick_Handler
#else
void vPortSVCHandler(void);
void xPortPendSVHandler(void);
void xPortSysTickHandler(void);
#define SVC vPortSVCHandler
#define PENDSV xPortPendSVHandler
#define SYSTICK xPortSysTickHandler
#endif

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

void Fault_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_write0("fault: exception ");
    sh_write_int((long)(ipsr & 0x1ffu));
    sh_write0("\n");
    sh_exit(128 + (int)(ipsr & 0x1ffu));
}

__attribute__((section(".vectors"), used)) void (*const __vectors[16 + 1])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0, SVC, Fault_Handler, 0, PENDSV,
    SYSTICK, Device_IRQHandler,
};
