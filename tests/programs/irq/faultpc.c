/* A fault in the middle of a block, after a semihosting call (or, with -DTICKS, after SysTick
 * interrupts, whose returns the profiler takes in Python): Unicorn gave the fault the PC of
 * its block's start, so it was reported there and, with --vector-faults, stacked there, and
 * the handler's return ran the block's first instructions again. case_store adds 1 to r4
 * three times, then stores to unmapped memory; the HardFault handler points the frame's r3
 * at a variable and returns to retry the store. Prints whether the stacked PC is the store,
 * r4 (3), the faults taken (1) and the value stored (85). On ARMv7-M and ARMv8-M the store's
 * bus error is imprecise unless -DPRECISE sets ACTLR.DISDEFWBUF (M3/M4): the fault comes after
 * the store retired, stacked at the next instruction, so the store is not retried (0 3 1 0). */
#include "cm.h"
#include "semihost.h"

static volatile uint32_t target, stacked, faults, ticks;

void SysTick_Handler(void) { ticks++; }

void fault_common(uint32_t *frame)
{
    stacked = frame[6];
    frame[3] = (uint32_t)&target;
    faults++;
}

void HardFault_Handler(void) __attribute__((naked));
void HardFault_Handler(void)
{
    __asm__ volatile("mrs r0, msp\n\tpush {r0, lr}\n\tbl fault_common\n\tpop {r0, pc}");
}

extern uint32_t case_store(void);
extern char store_insn[];
__asm__(".syntax unified\n.thumb\n.text\n"
        ".global case_store\n.type case_store, %function\n.thumb_func\ncase_store:\n"
        "  push {r4, lr}\n  movs r4, #0\n  ldr r3, =0x60000000\n  movs r2, #0x55\n  b 1f\n1:\n"
        "  adds r4, r4, #1\n  adds r4, r4, #1\n  adds r4, r4, #1\n"
        ".global store_insn\nstore_insn:\n  str r2, [r3]\n"
        "  mov r0, r4\n  pop {r4, pc}\n  .ltorg\n");

int main(void)
{
#ifdef PRECISE /* ACTLR.DISDEFWBUF (Cortex-M3/M4): no write buffer, precise store faults */
    REG(0xE000E008u) |= 2u;
#endif
#ifdef TICKS
    SYST_RVR = 999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    while (ticks < 3) {
    }
    SYST_CSR = 0;
#else
    sh_write0("go\n");
#endif
    uint32_t r4 = case_store();
    sh_write_int((long)(stacked == ((uint32_t)store_insn & ~1u)));
    sh_write0(" ");
    sh_write_int((long)r4);
    sh_write0(" ");
    sh_write_int((long)faults);
    sh_write0(" ");
    sh_write_int((long)target);
    sh_write0("\n");
    return 0;
}
