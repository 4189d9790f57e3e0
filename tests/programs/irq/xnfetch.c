/* Instruction fetches from the default memory map's Execute-Never regions (--vector-faults):
 * a branch to the Peripheral region (0x40000000 and the bit-band alias 0x42000000: devices
 * answer there on curie), the Device region (0xA0000000, nothing there) and the System
 * region (0xE0000000) is a MemManage fault IACCVIOL (MMFSR bit 0, MMARVALID clear), escalated
 * to HardFault (HFSR.FORCED) while MemManage is disabled; a branch to the executable External
 * RAM region (0x60000000, nothing there) is a BusFault IBUSERR. On ARMv6-M every one is a
 * HardFault. Each handler reports the exception, CFSR and the stacked PC (the address
 * fetched), then returns to the caller. */
#include "cm.h"
#include "hex.h"
#include "semihost.h"

static void report(uint32_t *frame, uint32_t exc)
{
    put_hex("exc ", exc);
#if !defined(__ARM_ARCH_6M__)
    put_hex(" cfsr ", SCB_CFSR);
    put_hex(" hfsr ", SCB_HFSR);
    SCB_CFSR = SCB_CFSR; /* write one to clear */
    SCB_HFSR = SCB_HFSR;
#endif
    put_hex(" pc ", frame[6]);
    sh_write0("\n");
    frame[6] = frame[5] & ~1u; /* return to the caller (the stacked LR) */
}

__attribute__((used)) static void fault(uint32_t *frame, uint32_t exc) { report(frame, exc); }

/* the frame is on the MSP: main runs there */
#define HANDLER(name, exc)                                                                    \
    __attribute__((naked)) void name(void)                                                    \
    {                                                                                         \
        __asm__ volatile("mrs r0, msp\n\tmovs r1, #" #exc "\n\tpush {r4, lr}\n\t"           \
                         "bl fault\n\tpop {r4, pc}");                                         \
    }

HANDLER(HardFault_Handler, 3)
HANDLER(MemManage_Handler, 4)
HANDLER(BusFault_Handler, 5)

static void call(uint32_t address)
{
    ((void (*)(void))(address | 1u))();
}

int main(void)
{
#if !defined(__ARM_ARCH_6M__)
    SCB_SHCSR |= 7u << 16; /* MEMFAULTENA, BUSFAULTENA, USGFAULTENA */
    __asm__ volatile("dsb\n\tisb");
#endif
    call(0x40000000u);
    call(0x42000000u); /* (the peripherals' bit-band alias: mapped on curie) */
    call(0xA0000000u);
    call(0xE0000000u);
    call(0x60000000u);
#if !defined(__ARM_ARCH_6M__)
    SCB_SHCSR &= ~(1u << 16); /* MemManage disabled: escalated */
    __asm__ volatile("dsb\n\tisb");
    call(0x40000000u);
#endif
    sh_write0("done\n");
    return 0;
}
