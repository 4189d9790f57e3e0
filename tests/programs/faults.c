/*
 * One fault per build: -DCASE=<function name> picks which function main calls. Each function
 * is noinline so the report can name it. A canary in .data and a fence in .bss let the tests
 * check that a fault stopped the program before it damaged static data.
 */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"

#define NOINLINE __attribute__((noinline))

extern uint32_t __stack_top[]; /* one past the last byte of SRAM */
void *sbrk(ptrdiff_t incr);

volatile uint32_t canary = 0xC0FFEE42u;
volatile uint32_t fence[16];

NOINLINE int unmapped_read(void)
{
    return (int)*(volatile uint32_t *)0x30000000u; /* nothing is mapped there */
}

NOINLINE int unmapped_write(void)
{
    *(volatile uint32_t *)__stack_top = 0x1234u; /* first word past the end of SRAM */
    return 0;
}

NOINLINE int unmapped_fetch(void)
{
    void (*volatile fn)(void) = (void (*)(void))0x10000001u; /* Thumb bit set, nothing mapped */
    fn();
    return 0;
}

NOINLINE int flash_write(void)
{
    *(volatile uint32_t *)0x100u = 0xFFFFFFFFu; /* inside the image's code */
    return 0;
}

/* A branch to code with the Thumb bit clear: M-profile has no ARM state (UsageFault INVSTATE). */
NOINLINE int arm_state_branch(void)
{
    void (*volatile fn)(void) = (void (*)(void))((uintptr_t)flash_write & ~(uintptr_t)1);
    fn();
    return 0;
}

NOINLINE int null_write(void)
{
    volatile uintptr_t zero = 0;
    *(volatile uint32_t *)zero = 1u;
    return 0;
}

NOINLINE int undefined_instruction(void)
{
    __asm__ volatile("udf #42");
    return 0;
}

NOINLINE int breakpoint(void)
{
    __asm__ volatile("bkpt 0x01");
    return 0;
}

NOINLINE int supervisor_call(void)
{
    __asm__ volatile("svc 0");
    return 0;
}

NOINLINE uint32_t load_word(const uint32_t *p)
{
    return *p;
}

/* A word load from an odd address: HardFault on v6-M (Cortex-M0+), allowed on v7-M. The load
 * goes through a noinline function taking a pointer, so gcc cannot split it into byte loads. */
uint8_t unaligned_bytes[8] __attribute__((aligned(4))) = {0, 0x11, 0x22, 0x33, 0x44, 0, 0, 0};

NOINLINE int unaligned_load(void)
{
    uint32_t v = load_word((const uint32_t *)(uintptr_t)(unaligned_bytes + 1));
    return v == 0x44332211u ? 0 : 1;
}

NOINLINE int dive(int n)
{
    volatile uint8_t buf[200];
    buf[0] = (uint8_t)n;
    if (n > 1000000)
        return 0;
    return dive(n + 1) + buf[0];
}

NOINLINE int stack_overflow(void)
{
    for (int i = 0; i < 16; i++)
        fence[i] = 0xA5A5A5A5u;
    if (canary != 0xC0FFEE42u)
        return 99;
    return dive(0);
}

NOINLINE int stack_into_heap(void)
{
    sbrk(2048);
    return dive(0);
}

int main(void)
{
    int r = CASE();
    sh_write0("survived\n");
    return r;
}
