/* Longest calls across exceptions (`ebnn-sim profile`'s max_call_cycles):
 * CASE TAIL: IRQ0's handler only calls driver_irq, which GCC makes a jump (b driver_irq): the
 *   exception return ends driver_irq's call too; pended three times, each call the same.
 * CASE SHARED: one handler function on two vectors, IRQ1 (higher priority) pended from inside
 *   IRQ0's run: the outer call holds the inner one. */
#include "cm.h"
#include "semihost.h"

volatile unsigned sink;

__attribute__((noinline)) void spin(int n)
{
    for (int i = 0; i < n; i++)
        sink += (unsigned)i;
}

#ifdef TAIL
void IRQ0_Handler(void) { spin(1000); }

int main(void)
{
    NVIC_ISER = 1u;
    for (int k = 0; k < 3; k++) {
        NVIC_ISPR = 1u;
        isb();
    }
    return 0;
}
#else
static inline unsigned ipsr(void)
{
    unsigned r;
    __asm__ volatile("mrs %0, ipsr" : "=r"(r));
    return r;
}

void shared_handler(void)
{
    if (ipsr() == 16) { /* IRQ0 */
        spin(3000);
        NVIC_ISPR = 1u << 1;
        isb();
        spin(10);
    } else {
        spin(500);
    }
}
void IRQ0_Handler(void) __attribute__((alias("shared_handler")));
void IRQ1_Handler(void) __attribute__((alias("shared_handler")));

int main(void)
{
    set_irq_priority(0, 0xC0);
    set_irq_priority(1, 0x40);
    NVIC_ISER = 3u;
    NVIC_ISPR = 1u;
    isb();
    return 0;
}
#endif
