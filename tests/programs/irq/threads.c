/* Two threads on their own stacks (PSP), switched by PendSV: SVC starts the first one, each
 * thread yields by pending PendSV, and SysTick preempts them too (time slicing). Thread B
 * recurses DEPTH levels to use its stack. Prints the interleaving; thread B ends the run. */
#include "cm.h"
#include "semihost.h"

#ifndef DEPTH
#define DEPTH 4
#endif
#define STACK_WORDS 128

uint32_t stack_a[STACK_WORDS], stack_b[STACK_WORDS];
uint32_t *saved_sp[2];
volatile uint32_t current;
static volatile uint32_t ticks;

static void yield(void)
{
    SCB_ICSR = PENDSVSET;
    isb();
}

/* Prints and yields with interrupts masked, so a tick cannot switch threads in between: the
 * same interleaving whatever the timing (under QEMU too). */
static void say_and_yield(const char *who, int i)
{
    __asm__ volatile("cpsid i" ::: "memory");
    sh_write0(who);
    sh_write_int(i);
    sh_write0("\n");
    SCB_ICSR = PENDSVSET;
    __asm__ volatile("cpsie i" ::: "memory");
    isb();
}

static int __attribute__((noinline)) dig(int n)
{
    volatile uint32_t pad[8];
    pad[n & 7] = (uint32_t)n;
    return n ? dig(n - 1) + (int)pad[n & 7] : 0;
}

static void thread_a(void)
{
    for (int i = 0;; i++) {
        if (i < 3)
            say_and_yield("a", i);
        else
            yield();
    }
}

static void thread_b(void)
{
    for (int i = 0; i < 3; i++) {
        say_and_yield("b", i + dig(DEPTH) * 0);
    }
    while (ticks < 3) /* preempted by SysTick: thread A keeps running meanwhile */
        ;
    sh_write0("ticks seen\n");
    sh_exit(0);
}

/* A new thread's stack: the exception frame that "returns" into it, below r4-r11. */
static uint32_t *prepare(uint32_t *top, void (*entry)(void))
{
    uint32_t *sp = top - 16;
    for (int i = 0; i < 16; i++)
        sp[i] = 0;
    sp[8 + 5] = 0xFFFFFFFFu;            /* lr */
    sp[8 + 6] = (uint32_t)entry & ~1u;  /* pc */
    sp[8 + 7] = 1u << 24;               /* xPSR: Thumb */
    return sp;
}

uint32_t *switch_to_next(uint32_t *sp)
{
    saved_sp[current] = sp;
    current ^= 1u;
    return saved_sp[current];
}

void SysTick_Handler(void)
{
    ticks++;
    SCB_ICSR = PENDSVSET; /* time slice: switch at the end of the tick */
}

#if defined(__ARM_ARCH_6M__)
#define SAVE                                                                                  \
    "mrs r0, psp\n\tsubs r0, #32\n\tmov r2, r0\n\tstmia r2!, {r4-r7}\n\t"                     \
    "mov r4, r8\n\tmov r5, r9\n\tmov r6, r10\n\tmov r7, r11\n\tstmia r2!, {r4-r7}\n\t"
#define RESTORE                                                                               \
    "adds r0, #16\n\tldmia r0!, {r4-r7}\n\tmov r8, r4\n\tmov r9, r5\n\tmov r10, r6\n\t"       \
    "mov r11, r7\n\tmsr psp, r0\n\tsubs r0, #32\n\tldmia r0!, {r4-r7}\n\t"
#else
#define SAVE "mrs r0, psp\n\tstmdb r0!, {r4-r11}\n\t"
#define RESTORE "ldmia r0!, {r4-r11}\n\tmsr psp, r0\n\t"
#endif

void PendSV_Handler(void) __attribute__((naked));
void PendSV_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
                     "cpsid i\n\t" SAVE
                     "mov r4, lr\n\t"
                     "bl switch_to_next\n\t"
                     "mov lr, r4\n\t" RESTORE
                     "cpsie i\n\t"
                     "bx lr\n\t");
}

void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    __asm__ volatile(".syntax unified\n\t"
                     "ldr r1, =saved_sp\n\t"
                     "ldr r0, [r1]\n\t" RESTORE
                     "ldr r0, =0xFFFFFFFD\n\t"
                     "bx r0\n\t");
}

int main(void)
{
    saved_sp[0] = prepare(stack_a + STACK_WORDS, thread_a);
    saved_sp[1] = prepare(stack_b + STACK_WORDS, thread_b);
    SCB_SHPR3 = 0xFFu << 16 | 0xC0u << 24; /* PendSV lowest, SysTick above it */
    SYST_RVR = 2999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    __asm__ volatile("svc 0");
    return 1; /* never reached */
}
