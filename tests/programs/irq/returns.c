/* What exception entry and return do, one behaviour per build (-DCASE=THUMB, FAULTMASK,
 * BASEPRI, STKALIGN, BADRETURN, FPCONTROL, SCBREGS or BACKTOMAIN):
 *  thumb:     a task started from a hand-made frame whose xPSR is XPSR (0 is the classic RTOS
 *             port bug; the chip faults INVSTATE at the task, 0x01000000 runs it)
 *  faultmask: a handler that sets FAULTMASK returns: DeActivate clears it (ARMv7-M B1.5.8),
 *             so a later interrupt is taken
 *  basepri:   BASEPRI = BP with AIRCR.PRIGROUP = PG, then IRQ0 (priority 0x20) is pended:
 *             prints whether it was taken while BASEPRI held (bits the part does not
 *             implement are zero; with PRIGROUP 7 any non-zero BASEPRI masks it)
 *  stkalign:  CCR written 0: prints whether STKALIGN (8-byte frames) stayed set
 *  badreturn: a handler branches to EXC_RETURN value RET (invalid, or an FP frame on a core
 *             without an FPU): INVPC, to be reported at that branch
 *  fpcontrol: after a floating-point instruction (CONTROL.FPCA, and SFPA on ARMv8-M, set) a
 *             handler reads CONTROL: entry cleared both
 *  scbregs:   registers ARMv6-M does not have (STIR, SHPR1, SHCSR's enables, ICSR.RETTOBASE)
 *             do nothing there
 *  backtomain: main runs a thread on PSP (SVC 0), which ends with SVC 1, whose handler returns
 *             to main on the main stack: main's calls go on (ARMv7-M instructions) */
#include "cm.h"
#include "semihost.h"

#define THUMB 1
#define FAULTMASK 2
#define BASEPRI 3
#define STKALIGN 4
#define BADRETURN 5
#define FPCONTROL 6
#define SCBREGS 7
#define BACKTOMAIN 8

static volatile uint32_t taken0, taken1;

void IRQ0_Handler(void)
{
    taken0++;
#if CASE == FAULTMASK
    __asm__ volatile("cpsid f" ::: "memory");
#endif
}

void IRQ1_Handler(void) { taken1++; }

static void say(const char *what, uint32_t value)
{
    sh_write0(what);
    sh_write_int((int)value);
    sh_write0("\n");
}

#if CASE == THUMB
static uint32_t task_stack[64] __attribute__((aligned(8)));

static void task(void)
{
    sh_write0("task ran\n");
    sh_exit(0);
}

/* Start the task: PSP at its frame, return to thread mode on PSP (EXC_RETURN bit 2 set in
 * the handler's own, which returns to thread mode on the MSP; ARMv6-M instructions only). */
void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
                     "ldr r0, =task_stack + 256 - 32\n\t"
                     "msr psp, r0\n\t"
                     "mov r0, lr\n\t"
                     "movs r1, #4\n\t"
                     "orrs r0, r1\n\t"
                     "bx r0\n");
}

static int run(void)
{
    uint32_t *frame = &task_stack[64 - 8];
    for (int i = 0; i < 6; i++)
        frame[i] = 0;
    frame[6] = (uint32_t)task & ~1u; /* the return address */
    frame[7] = XPSR;
    __asm__ volatile("svc #0" ::: "memory");
    return 1;
}
#endif

#if CASE == FAULTMASK
static int run(void)
{
    uint32_t fm;
    NVIC_ISER = 3u;
    NVIC_ISPR = 1u;
    isb();
    __asm__ volatile("mrs %0, faultmask" : "=r"(fm));
    say("irq0 taken ", taken0);
    say("faultmask after its return ", fm);
    NVIC_ISPR = 2u;
    isb();
    say("irq1 taken ", taken1);
    return 0;
}
#endif

#if CASE == BASEPRI
static int run(void)
{
    SCB_AIRCR = 0x05FA0000u | (PG << 8);
    set_irq_priority(0, 0x20);
    NVIC_ISER = 1u;
    __asm__ volatile("msr basepri, %0\n\tisb" : : "r"(BP) : "memory");
    NVIC_ISPR = 1u;
    isb();
    say("taken under basepri ", taken0);
    __asm__ volatile("msr basepri, %0\n\tisb" : : "r"(0) : "memory");
    say("taken after ", taken0);
    return 0;
}
#endif

#if CASE == STKALIGN
static int run(void)
{
    SCB_CCR = 0u;
    say("stkalign ", SCB_CCR >> 9 & 1u);
    return 0;
}
#endif

#if CASE == BADRETURN
void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
#ifdef PEND /* IRQ0 pending (enabled, not above SVCall): the return would tail-chain to it */
                     "ldr r1, =0xE000E200\n\t"
                     "movs r2, #1\n\t"
                     "str r2, [r1]\n\t"
#endif
                     "ldr r0, =" RET "\n\t"
                     ".global bad_return\n"
                     "bad_return:\n\t"
                     "bx r0\n");
}

static int run(void)
{
    NVIC_ISER = 1u;
    __asm__ volatile("svc #0" ::: "memory");
    return 0;
}
#endif

#if CASE == FPCONTROL
static volatile uint32_t control_in_handler;

void PendSV_Handler(void)
{
    uint32_t control;
    __asm__ volatile("mrs %0, control" : "=r"(control));
    control_in_handler = control;
}

static int run(void)
{
    volatile float x = 1.5f;
    uint32_t control;
    x = x * 2.0f;
    __asm__ volatile("mrs %0, control" : "=r"(control));
    say("fpccr aspen lspen ", REG(0xE000EF34u) >> 30); /* reset value 0xC0000000 */
    REG(0xE000EF34u) = 0xC0000000u; /* as RTOS ports write it: modelled, no strict fault */
    say("control after fp ", control & 4u);
    SCB_ICSR = PENDSVSET;
    isb();
    say("control in handler ", control_in_handler);
    return x == 3.0f ? 0 : 1;
}
#endif

#if CASE == SCBREGS
static int run(void)
{
    NVIC_ISER = 1u;
    STIR = 0u; /* pends IRQ0 where there is a STIR */
    isb();
    say("stir took irq0 ", taken0);
    REG(0xE000ED18u) = 0x00C0C0C0u; /* SHPR1: MemManage, BusFault, UsageFault */
    say("shpr1 ", REG(0xE000ED18u) != 0u);
    SCB_SHCSR = 0x70000u;
    say("shcsr enables ", SCB_SHCSR >> 16 & 7u);
    say("rettobase ", SCB_ICSR >> 11 & 1u);
    return 0;
}
#endif

#if CASE == BACKTOMAIN
static uint32_t thread_stack[64] __attribute__((aligned(8)));
uint32_t *thread_top;
volatile uint32_t sink;

static uint32_t __attribute__((noinline)) work(uint32_t n)
{
    uint32_t x = 1;
    for (uint32_t i = 0; i < n; i++)
        x = x * 1664525u + 1013904223u;
    return x;
}

static void __attribute__((noinline)) after(void) { sink = work(2000); }

static void thread(void)
{
    sink = work(100);
    __asm__ volatile("svc 1");
    for (;;) {
    }
}

void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
                     "tst lr, #4\n\t"
                     "bne 1f\n\t" /* from main: start the thread on PSP */
                     "ldr r0, =thread_top\n\t"
                     "ldr r0, [r0]\n\t"
                     "msr psp, r0\n\t"
                     "orr lr, lr, #4\n\t"
                     "bx lr\n"
                     "1:\n\t" /* from the thread: back to main on the main stack */
                     "bic lr, lr, #4\n\t"
                     "bx lr\n");
}

static void __attribute__((noinline)) run_thread(void)
{
    uint32_t *frame = &thread_stack[64 - 8];
    for (int i = 0; i < 8; i++)
        frame[i] = 0;
    frame[6] = (uint32_t)thread & ~1u;
    frame[7] = 1u << 24;
    thread_top = frame;
    __asm__ volatile("svc 0" ::: "memory");
}

static int run(void)
{
    run_thread();
    after();
    sh_write0("back in main\n");
    return 0;
}
#endif

int main(void) { return run(); }
