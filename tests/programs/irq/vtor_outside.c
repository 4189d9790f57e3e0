/* VTOR pointed outside flash and SRAM (0x30000000: nothing there), then PendSV pended: the
 * vector fetch fails (HardFault VECTTBL on the chip; HardFault's vector lies there too). */
#include "cm.h"
#include "semihost.h"

int main(void)
{
    SCB_VTOR = 0x30000000u;
    SCB_ICSR = PENDSVSET;
    __asm__ volatile("dsb\n\tisb");
    sh_write0("not reached\n");
    return 0;
}
