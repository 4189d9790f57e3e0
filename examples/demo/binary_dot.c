/*
 * Demo firmware: one binarized neuron layer on bits, the core operation of an eBNN.
 * 16 neurons, 256 binary inputs each: dot = K - 2 * popcount(x XOR w), then sign.
 * Weights are const (flash); the input vector is in SRAM.
 */
#include <stdint.h>

#include "semihost.h"

#define K 256u
#define WORDS (K / 32u)
#define NEURONS 16u

static const uint32_t weights[NEURONS][WORDS] = {
#define ROW(s) {s * 0x9E3779B9u, s * 0x85EBCA6Bu, s * 0xC2B2AE35u, s * 0x27D4EB2Fu, \
                s * 0x165667B1u, s * 0xD3A2646Cu, s * 0xFD7046C5u, s * 0xB55A4F09u}
    ROW(1u), ROW(2u), ROW(3u), ROW(4u), ROW(5u), ROW(6u), ROW(7u), ROW(8u),
    ROW(9u), ROW(10u), ROW(11u), ROW(12u), ROW(13u), ROW(14u), ROW(15u), ROW(16u),
#undef ROW
};

static uint32_t input[WORDS];

/* SWAR popcount: 12 instructions on Cortex-M3, no libgcc call. */
static inline uint32_t popcount32(uint32_t v)
{
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    return (v * 0x01010101u) >> 24;
}

int main(void)
{
    uint32_t seed = 12345u;
    for (uint32_t i = 0; i < WORDS; i++) {
        seed = seed * 1664525u + 1013904223u;
        input[i] = seed;
    }
    uint32_t out_bits = 0;
    for (uint32_t n = 0; n < NEURONS; n++) {
        uint32_t mismatches = 0;
        for (uint32_t i = 0; i < WORDS; i++)
            mismatches += popcount32(input[i] ^ weights[n][i]);
        int32_t dot = (int32_t)K - 2 * (int32_t)mismatches;
        sh_write0("neuron ");
        sh_write_int((long)n);
        sh_write0(": dot ");
        sh_write_int((long)dot);
        sh_write0("\n");
        if (dot >= 0)
            out_bits |= 1u << n;
    }
    sh_write0("output bits: ");
    sh_write_int((long)out_bits);
    sh_write0("\n");
    return 0;
}
