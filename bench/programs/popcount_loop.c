/*
 * CPU-bound benchmark firmware for the simulator speed benchmark (bench/sim_speed.py).
 *
 * The work is what a binarized network spends its time on: XNOR of packed weight and input
 * words, a SWAR popcount of each (no libgcc call, no lookup table), accumulated per "neuron",
 * then a sign threshold. Each iteration changes one input word (xorshift32), so nothing can be
 * hoisted out of the loop, and goes through three levels of calls, one of which keeps a
 * buffer on the stack: the simulator's stack tracking is exercised on every iteration.
 *
 * ITERATIONS (set with -DITERATIONS=N) scales the run linearly: about 660 instructions per
 * iteration on Cortex-M3 at -O2. The firmware prints a checksum and exits with status 0
 * through semihosting, so the same ELF runs in ebnn-sim, bare Unicorn and QEMU.
 */
#include <stdint.h>

#include "semihost.h"

#ifndef ITERATIONS
#define ITERATIONS 10000000u
#endif

/* Read at run time, so every ITERATIONS gives the same machine code: the instruction count is
 * then exactly base + per_iteration * ITERATIONS, which the benchmark checks. */
static volatile const uint32_t iterations = ITERATIONS;

#define WORDS 16   /* 512 input bits */
#define NEURONS 2  /* dot products per iteration */

static uint32_t weights[NEURONS][WORDS]; /* .bss, filled at start */
static uint32_t inputs[WORDS];
static int32_t thresholds[NEURONS] = {250, 262}; /* .data */

static inline uint32_t popcount32(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    return (v * 0x01010101u) >> 24;
}

__attribute__((noinline)) static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Number of agreeing bits between w and x: popcount(~(w ^ x)) summed over n words. */
__attribute__((noinline)) static uint32_t xnor_dot(const uint32_t *w, const uint32_t *x, int n)
{
    uint32_t acc = 0;
    for (int i = 0; i < n; i++)
        acc += popcount32(~(w[i] ^ x[i]));
    return acc;
}

/* One binary layer: dot products into a stack buffer, then sign against thresholds. */
__attribute__((noinline)) static uint32_t layer(const uint32_t *x)
{
    volatile uint32_t acts[NEURONS + 6]; /* volatile: keep the frame on the stack */
    uint32_t bits = 0;
    for (int j = 0; j < NEURONS; j++)
        acts[j] = xnor_dot(weights[j], x, WORDS);
    for (int j = 0; j < NEURONS; j++)
        bits |= (uint32_t)((int32_t)acts[j] >= thresholds[j]) << j;
    return bits ^ (acts[0] << 8) ^ (acts[NEURONS - 1] << 20);
}

static void write_hex(uint32_t v)
{
    char buf[11];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xfu];
    buf[10] = '\0';
    sh_write0(buf);
}

int main(void)
{
    uint32_t state = 0x2545F491u;
    for (int j = 0; j < NEURONS; j++)
        for (int i = 0; i < WORDS; i++)
            weights[j][i] = xorshift32(&state);
    for (int i = 0; i < WORDS; i++)
        inputs[i] = xorshift32(&state);

    uint32_t checksum = 0;
    const uint32_t n = iterations;
    for (uint32_t it = 0; it < n; it++) {
        inputs[it % WORDS] ^= xorshift32(&state);
        checksum = checksum * 31u + layer(inputs);
    }
    sh_write0("popcount_loop iterations=");
    write_hex(n);
    sh_write0(" checksum=");
    write_hex(checksum);
    sh_write0("\n");
    return 0;
}
