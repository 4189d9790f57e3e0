/* APSR.GE[3:0] across an exception: set by UADD8 (each byte's carry), kept through a PendSV
 * whose handler clears them, read back by SEL after the return (the DSP extension: M4, M7,
 * M33). Prints the GE bits before and after. */
#include "cm.h"
#include "semihost.h"

void PendSV_Handler(void)
{
    uint32_t zero = 0;
    __asm__ volatile("msr APSR_g, %0" ::"r"(zero)); /* GE = 0 in the handler */
}

static uint32_t ge_bits(void)
{
    uint32_t apsr;
    __asm__ volatile("mrs %0, APSR" : "=r"(apsr));
    return apsr >> 16 & 0xFu;
}

int main(void)
{
    uint32_t a = 0xFFFFFFFFu, b = 0x01010101u, sum;
    __asm__ volatile("uadd8 %0, %1, %2" : "=r"(sum) : "r"(a), "r"(b)); /* GE = 0xF */
    uint32_t before = ge_bits();
    SCB_ICSR = PENDSVSET;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uint32_t after = ge_bits();
    sh_write0("ge ");
    sh_write_int((long)before);
    sh_write0(" ");
    sh_write_int((long)after);
    sh_write0("\n");
    return before == 0xF && after == 0xF ? 0 : 1;
}
