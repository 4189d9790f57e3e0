/* A store to unmapped memory with BusFault enabled (-DBUSFAULT): the handler prints which
 * exception it is, CFSR's BusFault bits (and BFAR when BFARVALID), and whether the stacked PC
 * is the store or the instruction after it, then exits. -DPRECISE sets the M3/M4's
 * ACTLR.DISDEFWBUF first; -DPPB stores to the System region, -DIT in an IT block (both
 * precise). -DHELD stores with FAULTMASK set (BusFault disabled): the imprecise BusFault,
 * escalated to HardFault, stays pending (no lockup: it is asynchronous) until CPSIE F. */
#include "cm.h"
#include "semihost.h"

extern char store_insn[], after_store[];

static void hex(uint32_t v)
{
    char buf[11] = "0x", *p = buf + 2;
    int shift = 28;
    while (shift > 0 && !(v >> shift))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = "0123456789abcdef"[v >> shift & 15u];
    *p = 0;
    sh_write0(buf);
}

void report(const uint32_t *frame, uint32_t ipsr)
{
    uint32_t pc = frame[6] & ~1u;
    sh_write0(ipsr == 5 ? "BusFault" : "HardFault");
#ifdef HELD
    sh_write0((SCB_HFSR & (1u << 30)) ? " forced" : "");
    sh_write0((SCB_CFSR & (1u << 10)) ? " impreciserr" : "");
#endif
    if (ipsr == 5) { /* (ARMv6-M: always HardFault) */
        uint32_t cfsr = SCB_CFSR & 0xFF00u;
        sh_write0(" cfsr ");
        hex(cfsr);
        if (cfsr & 0x8000u) {
            sh_write0(" bfar ");
            hex(SCB_BFAR);
        }
    }
    sh_write0(pc == ((uint32_t)store_insn & ~1u) ? " pc at store\n"
              : pc == ((uint32_t)after_store & ~1u) ? " pc after store\n" : " pc elsewhere\n");
    sh_exit(0);
}

void BusFault_Handler(void) __attribute__((naked));
void BusFault_Handler(void) { __asm__ volatile("mrs r0, msp\n\tmrs r1, ipsr\n\tb report"); }

void HardFault_Handler(void) __attribute__((naked));
void HardFault_Handler(void) { __asm__ volatile("mrs r0, msp\n\tmrs r1, ipsr\n\tb report"); }

int main(void)
{
#ifdef PRECISE
    REG(0xE000E008u) |= 2u;
#endif
#ifdef BUSFAULT
    SCB_SHCSR |= 1u << 17;
#endif
#ifdef PPB /* the System region (the TPIU's address): strongly ordered, never buffered */
#define TARGET "0xE003FFFC"
#else
#define TARGET "0x60000000"
#endif
#if defined(HELD) /* FAULTMASK set: the fault stays pending */
    __asm__ volatile("cpsid f\n\t"
                     "ldr r3, =" TARGET "\n\t"
                     "movs r2, #1\n\t"
                     ".global store_insn\nstore_insn:\n\t"
                     "str r2, [r3, #4]\n\t"
                     ".global after_store\nafter_store:\n\t"
                     "nop\n\tnop\n" ::: "r2", "r3", "memory");
    sh_write0("held\n"); /* (the fault is pending: not taken under FAULTMASK) */
    __asm__ volatile("cpsie f\n\tisb" ::: "memory");
#elif defined(IT) /* a store in an IT block: its retiring would have to advance the IT state */
    __asm__ volatile(".syntax unified\n\t"
                     "ldr r3, =" TARGET "\n\t"
                     "movs r2, #1\n\t"
                     "cmp r2, r2\n\t"
                     "ite eq\n\t"
                     ".global store_insn\nstore_insn:\n\t"
                     "streq r2, [r3, #4]\n\t"
                     ".global after_store\nafter_store:\n\t"
                     "movne r2, #99\n\tnop\n" ::: "r2", "r3", "memory", "cc");
#else
    __asm__ volatile(".syntax unified\n\t"
                     "ldr r3, =" TARGET "\n\t"
                     "movs r2, #1\n\t"
                     ".global store_insn\nstore_insn:\n\t"
                     "str r2, [r3, #4]\n\t"
                     ".global after_store\nafter_store:\n\t"
                     "nop\n\tnop\n" ::: "r2", "r3", "memory");
#endif
    sh_write0("not faulted\n");
    return 1;
}
