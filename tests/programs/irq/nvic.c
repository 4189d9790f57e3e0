/* NVIC and priorities: nested preemption, tail-chaining, pending order by priority, PRIMASK
 * and BASEPRI masking, SVC with an argument, PendSV from ICSR. Prints what happened in order;
 * the same text under QEMU. */
#include "cm.h"
#include "semihost.h"

static volatile int step;

static void say(const char *s) { sh_write0(s); sh_write0("\n"); }

void IRQ0_Handler(void) /* low priority */
{
    say("irq0 start");
    if (step == 1) {
        NVIC_ISPR = 1u << 1; /* IRQ1 has higher priority: preempts right here */
        isb();
    }
    say("irq0 end");
}

void IRQ1_Handler(void) /* high priority */
{
    say("irq1 start");
    if (step == 2) {
        NVIC_ISPR = 1u << 0; /* lower priority: waits, then tail-chains */
        isb();
    }
    say("irq1 end");
}

void IRQ2_Handler(void) { say("irq2"); }
void IRQ3_Handler(void) { say("irq3"); }

void PendSV_Handler(void) { say("pendsv"); }

void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    /* r0 of the caller doubled, returned in its stacked r0 */
    __asm__ volatile(
        ".syntax unified\n\t"
        "mrs r0, msp\n\t"
        "ldr r1, [r0]\n\t"
        "adds r1, r1, r1\n\t"
        "str r1, [r0]\n\t"
        "bx lr\n\t");
}

static int svc_double(int x)
{
    register int r0 __asm__("r0") = x;
    __asm__ volatile("svc 1" : "+r"(r0) : : "memory");
    return r0;
}

int main(void)
{
    set_irq_priority(0, 0xC0);
    set_irq_priority(1, 0x40);
    set_irq_priority(2, 0x80);
    set_irq_priority(3, 0x40);
    NVIC_ISER = 0xFu;

    step = 1;
    say("nested:");
    NVIC_ISPR = 1u << 0;
    isb();

    step = 2;
    say("tail-chain:");
    NVIC_ISPR = 1u << 1;
    isb();

    step = 3;
    say("primask:");
    __asm__ volatile("cpsid i" ::: "memory");
    NVIC_ISPR = (1u << 2) | (1u << 3);
    isb();
    say(NVIC_ISPR & 0xCu ? "both pending" : "not pending");
    __asm__ volatile("cpsie i" ::: "memory");
    isb();

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
    say("basepri:");
    __asm__ volatile("msr basepri, %0" ::"r"(0x80u) : "memory");
    NVIC_ISPR = (1u << 2) | (1u << 3); /* IRQ3 (0x40) runs, IRQ2 (0x80) is masked */
    isb();
    say(NVIC_ISPR & 0x4u ? "irq2 held" : "irq2 ran");
    __asm__ volatile("msr basepri, %0" ::"r"(0u) : "memory");
    isb();
#endif

    say("disabled:");
    NVIC_ICER = 1u << 2;
    NVIC_ISPR = 1u << 2;
    isb();
    say(NVIC_ISPR & 0x4u ? "held while disabled" : "ran");
    NVIC_ICPR = 1u << 2;
    NVIC_ISER = 1u << 2;
    isb();

    say("pendsv:");
    SCB_ICSR = PENDSVSET;
    isb();

    say("svc:");
    sh_write_int(svc_double(21));
    say("");
    return 0;
}
