/* The CMSDK APB timers of mps2-an385 (TIMER0 0x40000000 IRQ 8, TIMER1 0x40001000 IRQ 9):
 * counting down, periodic interrupts that wake WFI, a one-shot, the level-sensitive line (a
 * handler that leaves INTSTATUS set is entered again) and, unless NO_SLEEPONEXIT (QEMU does
 * not model it), SCR.SLEEPONEXIT. The output does not depend on timing. */
#include "cm.h"
#include "semihost.h"

#define T_CTRL(t) REG(0x40000000u + 0x1000u * (t))
#define T_VALUE(t) REG(0x40000004u + 0x1000u * (t))
#define T_RELOAD(t) REG(0x40000008u + 0x1000u * (t))
#define T_INT(t) REG(0x4000000Cu + 0x1000u * (t))
#define EN 1u
#define INTEN 8u
#ifndef TICKS
#define TICKS 5
#endif

static volatile uint32_t ticks0, ticks1, keep_high;

void IRQ8_Handler(void)
{
    T_INT(0) = 1;
    ticks0++;
    if (ticks0 == TICKS)
        SCB_SCR &= ~2u; /* SLEEPONEXIT off: main runs again */
}

void IRQ9_Handler(void)
{
    ticks1++;
    if (keep_high) /* leave the line high: entered again at once */
        keep_high--;
    else
        T_INT(1) = 1;
}

static void say(const char *what, long n)
{
    sh_write0(what);
    sh_write_int(n);
    sh_write0("\n");
}

int main(void)
{
    /* counting down without interrupts */
    T_RELOAD(0) = 0xFFFFFFFFu;
    T_CTRL(0) = EN;
    for (volatile int i = 0; i < 10; i++)
        ;
    uint32_t a = T_VALUE(0);
    for (volatile int i = 0; i < 100; i++)
        ;
    uint32_t b = T_VALUE(0);
    T_CTRL(0) = 0;
    uint32_t c = T_VALUE(0);
    for (volatile int i = 0; i < 100; i++)
        ;
    sh_write0(a > b ? "counts down\n" : "does not count\n");
    sh_write0(T_VALUE(0) == c ? "holds when stopped\n" : "runs when stopped\n");
    sh_write0(T_INT(0) == 0 ? "no status without INTEN\n" : "status without INTEN\n");

    /* periodic: TICKS interrupts wake WFI */
    NVIC_ISER = (1u << 8) | (1u << 9);
    T_RELOAD(0) = 2000;
    T_CTRL(0) = EN | INTEN;
    while (ticks0 < TICKS)
        __asm__ volatile("wfi");
    T_CTRL(0) = 0;
    say("timer0 ticks ", (long)ticks0);

    /* one shot: RELOAD 0, VALUE 500: one interrupt, then it stays at 0 */
    T_RELOAD(1) = 0;
    T_VALUE(1) = 500;
    T_CTRL(1) = EN | INTEN;
    while (ticks1 == 0)
        __asm__ volatile("wfi");
    for (volatile int i = 0; i < 1000; i++)
        ;
    say("oneshot ", (long)ticks1);
    say("value ", (long)T_VALUE(1));

    /* level: the handler leaves the status set twice, so one event enters it three times */
    ticks1 = 0;
    keep_high = 2;
    T_VALUE(1) = 300;
    while (ticks1 == 0)
        __asm__ volatile("wfi");
    for (volatile int i = 0; i < 1000; i++)
        ;
    T_CTRL(1) = 0;
    say("level entries ", (long)ticks1);

#ifndef NO_SLEEPONEXIT
    /* sleep on exit: after the first WFI main does not run again until the handler says so */
    uint32_t wakeups = 0;
    ticks0 = 0;
    SCB_SCR |= 2u;
    T_CTRL(0) = EN | INTEN;
    while (ticks0 < TICKS) {
        wakeups++;
        __asm__ volatile("wfi");
    }
    T_CTRL(0) = 0;
    say("sleep-on-exit wakeups ", (long)wakeups);
#endif
    return 0;
}
