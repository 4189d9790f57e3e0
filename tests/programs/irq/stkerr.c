/* Exception entry whose frame lies in unmapped memory: a thread on the PSP pointing past the
 * end of SRAM (0x2F000100, unmapped on every target) when an exception comes, one case per
 * build (-DCASE=...): an SVC, or PendSV pended from the thread (taken at the next block
 * boundary: an asynchronous entry); with BusFault enabled (-DBUSFAULT=1) or not; on the
 * ARMv7-M/ARMv8-M cores also an NMI pended under FAULTMASK (HardFault cannot preempt: a
 * lockup). The stacking's bus error is the derived BusFault STKERR (BFAR not valid), escalated
 * to HardFault (HFSR.FORCED) while BusFault is disabled; on ARMv6-M a HardFault. The fault
 * handler, on a stack of its own, reports what the entry left: the cause, the stack pointer
 * (lowered by the frame's 32 bytes, as if it had been pushed) and whether the exception
 * entered is still pending. Also the main stack at that address (-DCASE=msp_svc), and the
 * main stack moved by MSR MSP into flash, below SRAM (-DCASE=msr_flash_svc: no stack overflow
 * into static data, the same bus error). */
#include "cm.h"
#include "semihost.h"

#define BAD_SP 0x2F000100u
#define FLASH_SP 0x00000100u

#ifndef BUSFAULT
#define BUSFAULT 0
#endif

static volatile int svc_entries, pendsv_entries;

void SVC_Handler(void) { svc_entries++; }
void PendSV_Handler(void) { pendsv_entries++; }

static int svc(void), msp_svc(void), msr_flash_svc(void);
static int (*volatile const the_case)(void); /* CASE (defined after the cases) */

/* the stack pointer the entry left (from r0: the MSP or the PSP, as EXC_RETURN says) */
__attribute__((used, noreturn)) static void report(uint32_t sp, int exc)
{
#if defined(__ARM_ARCH_6M__)
    sh_write0("hardfault\n");
#else
    uint32_t cfsr = SCB_CFSR;
    if (exc == 5)
        sh_write0(cfsr & (1u << 12) ? "busfault STKERR\n" : "busfault other\n");
    else
        sh_write0((SCB_HFSR & (1u << 30)) && (cfsr & (1u << 12)) ? "hardfault forced STKERR\n"
                                                                : "hardfault other\n");
    sh_write0(cfsr & (1u << 15) ? "bfar valid\n" : "bfar not valid\n");
#endif
    uint32_t bad = the_case == msr_flash_svc ? FLASH_SP : BAD_SP;
    sh_write0(sp == bad - 32u ? "sp lowered by the frame\n" : "sp elsewhere\n");
    int pending = (SCB_ICSR & (1u << 28)) != 0; /* PendSV */
#if defined(__ARM_ARCH_6M__)
    if (the_case == svc || the_case == msp_svc || the_case == msr_flash_svc)
        /* SVCALLPENDED: debug only on ARMv6-M */
        sh_exit(exc);
#else
    pending |= (SCB_SHCSR & (1u << 15)) != 0; /* SVCALLPENDED */
#endif
    if (svc_entries || pendsv_entries)
        sh_write0("entered anyway\n");
    else
        sh_write0(pending ? "still pending\n" : "not pending\n");
    sh_exit(exc);
}

/* the fault handlers run on a stack of their own (the MSP may be the bad one) */
static uint32_t report_stack[128] __attribute__((used, aligned(8)));

#define FAULT_ENTRY(exc)                                                                          \
    __asm__ volatile("mov r0, lr\n\tmovs r1, #4\n\ttst r0, r1\n\tbne 1f\n\tmrs r0, msp\n\t"       \
                     "b 2f\n1:\tmrs r0, psp\n2:\tldr r1, =report_stack + 512\n\tmsr msp, r1\n\t"   \
                     "movs r1, #" #exc "\n\tbl report")

__attribute__((naked)) void HardFault_Handler(void) { FAULT_ENTRY(3); }
__attribute__((naked)) void BusFault_Handler(void) { FAULT_ENTRY(5); }

/* a thread on PSP = BAD_SP; its exception's frame would lie at BAD_SP - 32 */
#define ON_BAD_PSP(body)                                                                         \
    __asm__ volatile("msr psp, %0\n\tmovs r0, #2\n\tmsr control, r0\n\tisb\n\t" body              \
                     "\n\tmovs r0, #0\n\tmsr control, r0\n\tisb"                                   \
                     :: "r"(BAD_SP), "r"(&SCB_ICSR), "r"(1u << 28) : "r0", "memory")

static void setup(void)
{
#if !defined(__ARM_ARCH_6M__)
    if (BUSFAULT)
        SCB_SHCSR |= 1u << 17; /* BUSFAULTENA */
#endif
}

__attribute__((used)) static int svc(void)
{
    setup();
    ON_BAD_PSP("svc #0");
    sh_write0("went on\n");
    return 0;
}

__attribute__((used)) static int pendsv(void)
{
    setup();
    ON_BAD_PSP("str %2, [%1]\n\tdsb\n\tisb\n\tnop");
    sh_write0("went on\n");
    return 0;
}

/* the main stack at BAD_SP (thread mode on the MSP) */
__attribute__((used)) static int msp_svc(void)
{
    setup();
    __asm__ volatile("mov r1, sp\n\tmov sp, %0\n\tsvc #0\n\tmov sp, r1" :: "r"(BAD_SP)
                     : "r1", "memory");
    sh_write0("went on\n");
    return 0;
}

/* the main stack moved into flash by MSR MSP (thread mode on the MSP) */
__attribute__((used)) static int msr_flash_svc(void)
{
    setup();
    __asm__ volatile("mrs r1, msp\n\tmsr msp, %0\n\tsvc #0\n\tmsr msp, r1" :: "r"(FLASH_SP)
                     : "r1", "memory");
    sh_write0("went on\n");
    return 0;
}

#if !defined(__ARM_ARCH_6M__)
/* an NMI under FAULTMASK: neither BusFault nor HardFault can preempt, lockup */
__attribute__((used)) static int lockup(void)
{
    setup();
    __asm__ volatile("cpsid f\n\tmsr psp, %0\n\tmovs r0, #2\n\tmsr control, r0\n\tisb\n\t"
                     "str %2, [%1]\n\tdsb\n\tisb\n\tnop\n\t"
                     "movs r0, #0\n\tmsr control, r0\n\tisb\n\tcpsie f"
                     :: "r"(BAD_SP), "r"(&SCB_ICSR), "r"(1u << 31) : "r0", "memory");
    sh_write0("went on\n");
    return 0;
}
#endif

static int (*volatile const the_case)(void) = CASE;

int main(void) { return the_case(); }
