/* Faults delivered to the firmware's handlers (--vector-faults): a BusFault on a load from
 * unmapped memory and a UsageFault on an undefined instruction, each handler skipping the
 * 16-bit instruction that faulted; then a fault with its handler disabled escalates to
 * HardFault, which exits. */
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

/* the frame's stacked PC: skip the 16-bit instruction that faulted */
void skip_faulting(uint32_t *frame) { frame[6] += 2; }

#define SKIPPING_HANDLER(name, report)                                                        \
    void name(void) __attribute__((naked));                                                   \
    void name(void)                                                                           \
    {                                                                                         \
        __asm__ volatile("push {r4, lr}\n\t"                                                  \
                         "mrs r4, msp\n\t"                                                    \
                         "adds r4, #8\n\t"                                                    \
                         "bl " #report "\n\t"                                                 \
                         "mov r0, r4\n\t"                                                     \
                         "bl skip_faulting\n\t"                                               \
                         "pop {r4, pc}\n\t");                                                 \
    }

void report_bus(void)
{
    print_hex("busfault cfsr ", SCB_CFSR);
    print_hex("bfar ", SCB_BFAR);
    SCB_CFSR = SCB_CFSR; /* write one to clear */
}

void report_usage(void)
{
    print_hex("usagefault cfsr ", SCB_CFSR);
    SCB_CFSR = SCB_CFSR;
}

SKIPPING_HANDLER(BusFault_Handler, report_bus)
SKIPPING_HANDLER(UsageFault_Handler, report_usage)

void HardFault_Handler(void)
{
    print_hex("hardfault hfsr ", SCB_HFSR);
    print_hex("cfsr ", SCB_CFSR);
    sh_exit(3);
}

int main(void)
{
    SCB_SHCSR |= (1u << 17) | (1u << 18); /* BUSFAULTENA, USGFAULTENA */
    volatile uint32_t *bad = (volatile uint32_t *)0x60000000u;
    uint32_t v;
    __asm__ volatile("ldr %0, [%1]" : "=l"(v) : "l"(bad) : "memory");
    sh_write0("after busfault\n");
    __asm__ volatile("udf #1");
    sh_write0("after usagefault\n");
    SCB_SHCSR &= ~(1u << 18);
    __asm__ volatile("udf #2");
    sh_write0("not reached\n");
    return (int)v;
}
