/* With --vector-faults: a load from unmapped memory faults; the HardFault handler steps the
 * stacked PC past it and returns; for ever (a report must not list every fault). */
#include "cm.h"
#include "semihost.h"
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile(
        ".syntax unified\n"
        "mrs r0, msp\n"
        "ldr r1, [r0, #24]\n"
        "adds r1, r1, #2\n"
        "str r1, [r0, #24]\n"
        "bx lr\n");
}
int main(void)
{
    for (;;) {
        __asm__ volatile(
            "ldr r1, =0x60000000\n"
            "ldr r0, [r1]\n" ::: "r0", "r1", "memory");
    }
}
