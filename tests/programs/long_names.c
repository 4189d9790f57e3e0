/* Functions with long names (as gcc's clones get: name.constprop.0), for the profile's text
 * tables at 80 columns: each name must stay whole. */
#include <stdint.h>

#define NOINLINE __attribute__((noinline))

volatile uint32_t sink;

NOINLINE uint32_t accumulate_rows_of_first_layer(uint32_t n)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++)
        acc += (acc << 3) ^ i;
    return acc;
}

NOINLINE uint32_t threshold_and_pack_output_bits(uint32_t x)
{
    uint32_t bits = 0;
    for (int i = 0; i < 32; i++)
        bits = (bits << 1) | ((x >> i) & 1u);
    return bits;
}

int main(void)
{
    sink = threshold_and_pack_output_bits(accumulate_rows_of_first_layer(300));
    return 0;
}
