/* Faults the simulator's own checks find, delivered to the firmware's handlers
 * (--vector-faults): an LDRD from an address 2 mod 4 (UsageFault UNALIGNED, Armv7-M ARM
 * A3.2.1) and a UDIV by zero with CCR.DIV_0_TRP set (UsageFault DIVBYZERO, B3.2.8), each
 * handler skipping the instruction that faulted; then an unaligned LDM with the UsageFault
 * handler disabled escalates to HardFault (HFSR.FORCED), which exits. */
#include "cm.h"
#include "semihost.h"

static void print_hex(const char *what, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++)
        buf[2 + i] = digits[(v >> (28 - 4 * i)) & 15u];
    buf[10] = 0;
    sh_write0(what);
    sh_write0(buf);
    sh_write0("\n");
}

/* the frame's stacked PC: skip the instruction that faulted (16 or 32 bits) */
void skip_faulting(uint32_t *frame)
{
    uint16_t hw = *(const uint16_t *)frame[6];
    frame[6] += ((hw >> 11) >= 0x1du) ? 4u : 2u;
}

void report_usage(void)
{
    print_hex("usagefault cfsr ", SCB_CFSR);
    SCB_CFSR = SCB_CFSR; /* write one to clear */
}

void UsageFault_Handler(void) __attribute__((naked));
void UsageFault_Handler(void)
{
    __asm__ volatile("push {r4, lr}\n\t"
                     "mrs r4, msp\n\t"
                     "adds r4, #8\n\t"
                     "bl report_usage\n\t"
                     "mov r0, r4\n\t"
                     "bl skip_faulting\n\t"
                     "pop {r4, pc}\n\t");
}

void HardFault_Handler(void)
{
    print_hex("hardfault hfsr ", SCB_HFSR);
    print_hex("cfsr ", SCB_CFSR);
    sh_exit(3);
}

static uint32_t words[4];

int main(void)
{
    SCB_SHCSR |= 1u << 18; /* USGFAULTENA */
    SCB_CCR |= 1u << 4;    /* DIV_0_TRP */
    uint32_t base = (uint32_t)words + 2u, lo = 0, hi = 0, q = 0, zero = 0, seven = 7;
    __asm__ volatile("ldrd %0, %1, [%2]" : "=r"(lo), "=r"(hi) : "r"(base) : "memory");
    sh_write0("after unaligned\n");
    __asm__ volatile("udiv %0, %1, %2" : "=r"(q) : "r"(seven), "r"(zero));
    sh_write0("after divide\n");
    SCB_SHCSR &= ~(1u << 18);
    __asm__ volatile("ldm %2, {%0, %1}" : "=r"(lo), "=r"(hi) : "r"(base) : "memory");
    sh_write0("not reached\n");
    return (int)(lo + hi + q);
}
