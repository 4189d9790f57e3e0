/* Two threads running the same function, time-sliced by PendSV on SysTick: thread 0 calls
 * job(3000) once, thread 1 job(300) twenty times. Each measures its calls with DWT CYCCNT
 * (active cycles, the other thread's slices included) and thread 1 prints the longest of
 * each: what `ebnn-sim profile` must report as job's longest call (the two threads' calls
 * run the same call path: one thread's must not restart the other's). Cortex-M3 and up. */
#include "cm.h"
#include "semihost.h"

#define STACK_WORDS 256
uint32_t stack_a[STACK_WORDS], stack_b[STACK_WORDS];
uint32_t *saved_sp[2];
volatile uint32_t current;
volatile unsigned sink;
volatile uint32_t longest[2], done[2];

__attribute__((noinline)) void job(int n)
{
    for (int i = 0; i < n; i++)
        sink += (unsigned)i;
}

__attribute__((noinline)) void worker(int id)
{
    for (int k = 0; k < (id ? 20 : 1); k++) {
        uint32_t t0 = DWT_CYCCNT;
        job(id ? 300 : 3000);
        uint32_t d = DWT_CYCCNT - t0;
        if (d > longest[id])
            longest[id] = d;
    }
    done[id] = 1;
    if (id == 1) {
        while (!done[0])
            ;
        __asm__ volatile("cpsid i");
        sh_write0("a ");
        sh_write_int((long)longest[0]);
        sh_write0(" b ");
        sh_write_int((long)longest[1]);
        sh_write0("\n");
        sh_exit(0);
    }
    for (;;)
        ;
}

static uint32_t *prepare(uint32_t *top, int id)
{
    uint32_t *sp = top - 16; /* r4-r11, then the exception frame */
    for (int i = 0; i < 16; i++)
        sp[i] = 0;
    sp[8 + 0] = (uint32_t)id;                 /* r0 */
    sp[8 + 5] = 0xFFFFFFFFu;                  /* lr */
    sp[8 + 6] = (uint32_t)worker & ~1u;       /* pc */
    sp[8 + 7] = 1u << 24;                     /* xPSR: Thumb */
    return sp;
}

uint32_t *switch_to_next(uint32_t *sp)
{
    saved_sp[current] = sp;
    current ^= 1u;
    return saved_sp[current];
}

void SysTick_Handler(void) { SCB_ICSR = PENDSVSET; }

#define SAVE "mrs r0, psp\n\tstmdb r0!, {r4-r11}\n\t"
#define RESTORE "ldmia r0!, {r4-r11}\n\tmsr psp, r0\n\t"
void PendSV_Handler(void) __attribute__((naked));
void PendSV_Handler(void)
{
    __asm__ volatile(".syntax unified\n\tcpsid i\n\t" SAVE "mov r4, lr\n\tbl switch_to_next\n\t"
                     "mov lr, r4\n\t" RESTORE "cpsie i\n\tbx lr\n\t");
}

void SVC_Handler(void) __attribute__((naked));
void SVC_Handler(void)
{
    __asm__ volatile(".syntax unified\n\tldr r1, =saved_sp\n\tldr r0, [r1]\n\t" RESTORE
                     "ldr r0, =0xFFFFFFFD\n\tbx r0\n\t");
}

int main(void)
{
    DEMCR |= 1u << 24;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
    saved_sp[0] = prepare(stack_a + STACK_WORDS, 0);
    saved_sp[1] = prepare(stack_b + STACK_WORDS, 1);
    SCB_SHPR3 = 0xFFu << 16 | 0xC0u << 24; /* PendSV lowest, SysTick above it */
    SYST_RVR = 2999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    __asm__ volatile("svc 0");
    return 1;
}
