/* LDREX ... STREX around a PendSV in code the ELF loads straight into SRAM (a .ramcode section
 * linked and loaded there, ramcode.ld): the scan for load-exclusives must cover it, or the
 * monitor stays set across the exception. `result` is the STREX's status (chip, QEMU: 1). */
#include <stdint.h>
#define ICSR (*(volatile uint32_t *)0xE000ED04)
volatile uint32_t word = 5, result = 99, pendsv_runs;
extern uint32_t _estack;
void Reset_Handler(void);
void PendSV_Handler(void) { pendsv_runs++; }
void Default_Handler(void) { for (;;) ; }
__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    (void (*)(void))&_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0,
    PendSV_Handler, Default_Handler};
/* code linked to run from SRAM, loaded there by the ELF itself (LMA = VMA in SRAM) */
__attribute__((section(".ramcode"), noinline)) uint32_t strex_status(void)
{
    uint32_t value, status;
    __asm__ volatile("ldrex %0, [%1]" : "=r"(value) : "r"(&word) : "memory");
    ICSR = 1u << 28;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    __asm__ volatile("strex %0, %2, [%1]" : "=&r"(status) : "r"(&word), "r"(value + 1u) : "memory");
    return status;
}
void Reset_Handler(void)
{
    result = strex_status();
    register uint32_t r0 __asm__("r0") = 0x18, r1 __asm__("r1") = 0x20026;
    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    for (;;) ;
}
