/* Exception entry against the stack's bounds, one case per build (-DCASE=...): on ARMv8-M an
 * SVC whose frame would go below PSPLIM (a task stack carved from a heap-like array) or
 * MSPLIM, an instruction moving SP below MSPLIM with the UsageFault handler enabled; for
 * --vector-faults the entries below MSPLIM or PSPLIM again, taking the derived UsageFault
 * STKOF (escalated to HardFault while UsageFault is disabled; before or after the SVC by
 * priority), and one where even HardFault cannot be taken (an NMI under FAULTMASK: lockup);
 * on any core an SVC from a thread (started by MSR CONTROL) with 16 bytes of its stack left,
 * and an SVC whose frame would land in static data; two threads started one after the other
 * on two stacks, the second below the first (legitimate: no overflow); a thread started by
 * MSR CONTROL that outgrows its stack; a thread on the last static object (the main stack's
 * peak stays the main stack's). Each overflow case prints its guard words after the SVC (or
 * in the fault handler): the simulator must stop before any of them is overwritten. */
#include "cm.h"
#include "semihost.h"

static uint32_t arena[64]; /* [0..7]: a neighbour (guard words); the task's stack above */
static uint32_t task_stack[4];
static volatile int svc_entries;

void SVC_Handler(void) { svc_entries++; }

/* the derived exception's cases: the limit the entry hit, the guard words around it (8 below
 * the limit, 2 above it, in the frame's place: the entry must write none of them) */
static uint32_t *volatile limit_guards;
static volatile uint32_t hit_limit;

static void guards(const uint32_t *g)
{
    for (int i = 0; i < (limit_guards ? 10 : 8); i++)
        if (g[i] != 0x6A6A0000u + (uint32_t)i)
            sh_write0("guard overwritten\n");
}

#if defined(__ARM_ARCH_8M_MAIN__)
/* the fault handlers start at the stack limit the entry left SP at: naked, they clear the
 * limits before any push, then report (the stack pointer the entry left, from r0) */
__attribute__((used, noreturn)) static void fault_report(uint32_t sp, uint32_t exc)
{
    if (exc == 6)
        sh_write0((SCB_CFSR & (1u << 20)) ? "usagefault STKOF\n" : "usagefault other\n");
    if (exc == 3)
        sh_write0((SCB_HFSR & (1u << 30)) && (SCB_CFSR & (1u << 20)) ? "hardfault forced STKOF\n"
                                                                    : "hardfault other\n");
    if (limit_guards) {
        sh_write0(sp == hit_limit ? "sp at the limit\n" : "sp elsewhere\n");
        sh_write0(SCB_SHCSR & (1u << 15) ? "svc pending\n" : "svc not pending\n");
        sh_write0(svc_entries ? "svc ran\n" : "svc not run\n");
        guards(limit_guards);
    }
    sh_exit((int)exc);
}

/* (the report runs on a stack of its own: it must not touch the guard words at the limit) */
static uint32_t report_stack[128] __attribute__((used, aligned(8)));

#define FAULT_ENTRY(reg, exc)                                                                     \
    __asm__ volatile("mrs r0, " reg "\n\tmovs r1, #0\n\tmsr msplim, r1\n\tmsr psplim, r1\n\t"   \
                     "ldr r1, =report_stack + 512\n\tmsr msp, r1\n\tmovs r1, #" #exc "\n\t"      \
                     "b fault_report")

__attribute__((naked)) void UsageFault_Handler(void)
{
    /* (from a thread on the PSP: the thread's stack pointer, where its frame went) */
    __asm__ volatile("tst lr, #4\n\tbne 1f");
    FAULT_ENTRY("msp", 6);
    __asm__ volatile("1:");
    FAULT_ENTRY("psp", 6);
}

__attribute__((naked)) void HardFault_Handler(void) { FAULT_ENTRY("msp", 3); }
#endif

#if defined(__ARM_ARCH_8M_MAIN__)
static int psplim_svc(void)
{
    for (int i = 0; i < 8; i++)
        arena[i] = 0x6A6A0000u + (uint32_t)i;
    uint32_t limit = (uint32_t)&arena[8];
    __asm__ volatile("msr psplim, %0\n\tmsr psp, %1\n\tmovs r0, #2\n\tmsr control, r0\n\tisb\n\t"
                     "svc #0\n\tmovs r0, #0\n\tmsr control, r0\n\tisb"
                     :: "r"(limit), "r"(limit + 16) : "r0", "memory");
    guards(arena);
    return 0;
}

static int msplim_svc(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uint32_t *g = (uint32_t *)((sp - 256u) & ~7u);
    for (int i = 0; i < 8; i++)
        g[i] = 0x6A6A0000u + (uint32_t)i;
    uint32_t limit = (uint32_t)&g[8];
    /* SP = MSPLIM + 8: the 32-byte frame would take 24 bytes below the limit */
    __asm__ volatile("msr msplim, %0\n\tmov r1, sp\n\tadd r2, %0, #8\n\tmov sp, r2\n\t"
                     "svc #0\n\tmov sp, r1"
                     :: "r"(limit) : "r1", "r2", "memory");
    guards(g);
    return 0;
}

/* SP = MSPLIM + 8 (MSP) or PSPLIM + 8 (a thread on PSP), 10 guard words from the limit
 * down 32 bytes; then the SVC */
static void guard_limit(uint32_t *g)
{
    for (int i = 0; i < 10; i++)
        g[i] = 0x6A6A0000u + (uint32_t)i;
    hit_limit = (uint32_t)&g[8];
    limit_guards = g;
}

static int derived_msp(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uint32_t *g = (uint32_t *)((sp - 256u) & ~7u);
    guard_limit(g);
    __asm__ volatile("msr msplim, %0\n\tmov r1, sp\n\tadd r2, %0, #8\n\tmov sp, r2\n\t"
                     "svc #0\n\tmov sp, r1"
                     :: "r"(hit_limit) : "r1", "r2", "memory");
    sh_write0("went on\n");
    return 0;
}

/* the derived UsageFault enabled: at SVCall's priority (0) it comes first (lower number) */
static int derived_msp_uf(void)
{
    SCB_SHCSR |= 1u << 18; /* USGFAULTENA */
    return derived_msp();
}

/* UsageFault enabled but below SVCall: the SVC is taken, the UsageFault tail-chains (the
 * thread's stack: 8-byte aligned, as PSPLIM's bits [2:0] read as zero) */
static uint32_t psp_arena[32] __attribute__((aligned(8)));

static int derived_psp_after_svc(void)
{
    SCB_SHCSR |= 1u << 18;
    REG8(0xE000ED1Au) = 0x80; /* UsageFault */
    REG8(0xE000ED1Fu) = 0x40; /* SVCall */
    guard_limit(psp_arena);
    __asm__ volatile("msr psplim, %0\n\tadd r0, %0, #8\n\tmsr psp, r0\n\tmovs r0, #2\n\t"
                     "msr control, r0\n\tisb\n\tsvc #0\n\tmovs r0, #0\n\tmsr control, r0\n\tisb"
                     :: "r"(hit_limit) : "r0", "memory");
    sh_write0("went on\n");
    return 0;
}

/* an NMI entry below MSPLIM under FAULTMASK: HardFault cannot preempt, lockup */
static int derived_lockup(void)
{
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uint32_t *g = (uint32_t *)((sp - 256u) & ~7u);
    guard_limit(g);
    __asm__ volatile("cpsid f\n\tmsr msplim, %0\n\tmov r1, sp\n\tadd r2, %0, #8\n\t"
                     "mov sp, r2\n\tstr %1, [%2]\n\tdsb\n\tisb\n\tmov sp, r1\n\tcpsie f"
                     :: "r"(hit_limit), "r"(1u << 31), "r"(&SCB_ICSR) : "r1", "r2", "memory");
    sh_write0("went on\n");
    return 0;
}

static int msplim_sub(void)
{
    SCB_SHCSR |= 1u << 18; /* USGFAULTENA */
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    __asm__ volatile("msr msplim, %0\n\tsub sp, sp, #0x400\n\tadd sp, sp, #0x400"
                     :: "r"(sp - 64u) : "memory");
    sh_write0("not caught\n");
    return 0;
}
#endif

static int thread_svc(void)
{
    for (int i = 0; i < 8; i++)
        arena[56 + i] = 0x6A6A0000u + (uint32_t)i; /* just below task_stack, if laid out so */
    uint32_t top = (uint32_t)&task_stack[4];
    __asm__ volatile("msr psp, %0\n\tmovs r0, #2\n\tmsr control, r0\n\tisb\n\tsvc #0\n\t"
                     "movs r0, #0\n\tmsr control, r0\n\tisb"
                     :: "r"(top) : "r0", "memory");
    sh_write0("no overflow seen\n");
    return 0;
}

static int static_svc(void)
{
    uint32_t top = (uint32_t)&task_stack[4];
    __asm__ volatile("mov r1, sp\n\tmov sp, %0\n\tsvc #0\n\tmov sp, r1" :: "r"(top)
                     : "r1", "memory");
    sh_write0("no overflow seen\n");
    return 0;
}

static uint32_t stack_one[32], stack_two[32];
static volatile int svcs;

static void thread_on(uint32_t *top)
{
    __asm__ volatile("msr psp, %0\n\tmovs r0, #2\n\tmsr control, r0\n\tisb\n\t"
                     "push {r4, r5}\n\tpop {r4, r5}\n\tsvc #0\n\t"
                     "movs r0, #0\n\tmsr control, r0\n\tisb"
                     :: "r"(top) : "r0", "memory");
    svcs++;
}

static int two_threads(void)
{
    /* the higher array first, then the lower: the second is not held to the first's bounds */
    uint32_t *hi = stack_one > stack_two ? stack_one : stack_two;
    uint32_t *lo = stack_one > stack_two ? stack_two : stack_one;
    thread_on(hi + 32);
    thread_on(lo + 32);
    sh_write0(svcs == 2 ? "two threads\n" : "lost a thread\n");
    return 0;
}

static uint32_t small_stack[16];

__attribute__((noinline)) static uint32_t deep(int n)
{
    volatile uint32_t buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint32_t)(n + i);
    return n ? deep(n - 1) + buf[3] : buf[0];
}

static int thread_deep(void)
{
    /* a thread started by MSR CONTROL on a 64-byte stack that needs several hundred */
    __asm__ volatile("msr psp, %0\n\tmovs r0, #2\n\tmsr control, r0\n\tisb"
                     :: "r"(&small_stack[16]) : "r0", "memory");
    uint32_t r = deep(8);
    __asm__ volatile("movs r0, #0\n\tmsr control, r0\n\tisb" ::: "r0", "memory");
    return (int)(r & 1u);
}

/* the last static data: its end is where the main stack's limit lies */
static uint32_t top_stack[32] __attribute__((section(".noinit")));
static volatile uint32_t top_count;

__attribute__((noinline)) static void count_up(void)
{
    for (uint32_t i = 0; i < 10; i++)
        top_count += i;
}

static int thread_top(void)
{
    /* a thread on the last static object: its first blocks push nothing, its SP is the end
     * of static data; the main stack's peak must not become SRAM's size */
    __asm__ volatile("msr psp, %0\n\tmovs r0, #2\n\tmsr control, r0\n\tisb"
                     :: "r"(&top_stack[32]) : "r0", "memory");
    count_up();
    __asm__ volatile("movs r0, #0\n\tmsr control, r0\n\tisb" ::: "r0", "memory");
    return top_count == 45 ? 0 : 1;
}

int main(void) { return CASE(); }
