/* A BKPT that is not a semihosting call, no debugger attached: the core takes HardFault with
 * HFSR.DEBUGEVT (ARMv7-M C1.4; ARMv6-M: HardFault), whose handler skips the BKPT; then prints
 * how often it ran and HFSR's DEBUGEVT bit (ARMv6-M has no HFSR: 0). Run with --vector-faults;
 * without, the simulator stops at the BKPT. */
#include "cm.h"
#include "semihost.h"

static volatile uint32_t hits, debugevt;

void skip_bkpt(uint32_t *frame);
void skip_bkpt(uint32_t *frame)
{
    hits++;
    debugevt = SCB_HFSR >> 31;
    SCB_HFSR = SCB_HFSR; /* write one to clear */
    frame[6] += 2;       /* the stacked PC: past the 16-bit BKPT */
}

void HardFault_Handler(void) __attribute__((naked));
void HardFault_Handler(void)
{
    __asm__ volatile("mrs r0, msp\n\tb skip_bkpt");
}

int main(void)
{
    __asm__ volatile("bkpt 0x01" ::: "memory");
    sh_write_int((long)hits);
    sh_write0(" ");
    sh_write_int((long)debugevt);
    sh_write0("\n");
    return 0;
}
