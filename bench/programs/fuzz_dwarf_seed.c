/*
 * The seed of the DWARF fuzz target: one compile unit with line, frame and type information,
 * its own two-word vector table and no start-up code or C library. With one compile unit the
 * source map decodes a short line program, so the fuzzer runs about three times as many inputs
 * per second as with a whole program linked against the runtime (bench/fuzz_targets.py).
 */
#include <stdint.h>

extern uint32_t __stack_top;
void Reset_Handler(void);

__attribute__((section(".vectors"), used))
static const uintptr_t vectors[2] = {(uintptr_t)&__stack_top, (uintptr_t)Reset_Handler};

static uint8_t data[64];
volatile uint32_t result;

struct window {
    uint16_t row;
    uint16_t col;
};

static uint32_t crc32(const uint8_t *p, int n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (int i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t walk(const struct window *w, int depth)
{
    return depth == 0 ? (uint32_t)w->row * 31u + w->col : walk(w, depth - 1) + 1u;
}

void Reset_Handler(void)
{
    uint32_t x = 12345u;
    for (int i = 0; i < 64; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    struct window w = {3, 4};
    result = crc32(data, 64) ^ walk(&w, 5);
    for (;;) {
    }
}
