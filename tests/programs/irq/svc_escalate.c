/* An SVC that SVCall cannot take (PRIMASK set) escalates to HardFault (HFSR.FORCED; ARMv6-M:
 * HardFault), returning after the SVC as SVCall would; SVC_Handler never runs. Prints the
 * HardFault count, SVC_Handler's and HFSR's FORCED bit (ARMv6-M has no HFSR: 0). Run with
 * --vector-faults; without, the simulator stops at the SVC. */
#include "cm.h"
#include "semihost.h"

static volatile uint32_t hardfaults, svcs, forced;

void SVC_Handler(void) { svcs++; }

void HardFault_Handler(void)
{
    hardfaults++;
    forced = SCB_HFSR >> 30 & 1u;
    SCB_HFSR = SCB_HFSR; /* write one to clear */
}

int main(void)
{
#ifdef FAULTMASK /* even HardFault cannot be taken: the core locks up */
    __asm__ volatile("cpsid f\n\tsvc 0\n\tcpsie f" ::: "memory");
#else
    __asm__ volatile("cpsid i\n\tsvc 0\n\tcpsie i" ::: "memory");
#endif
    sh_write_int((long)hardfaults);
    sh_write0(" ");
    sh_write_int((long)svcs);
    sh_write0(" ");
    sh_write_int((long)forced);
    sh_write0("\n");
    return 0;
}
