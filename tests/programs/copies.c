/* Block copies the compiler turns into LDM/STM and a 64-bit load it turns into LDRD (ARMv7-M,
 * -O2), bases loaded from literals: what the alignment checks of sim/alignment.py look at.
 * Exits with 0. */
#include <stdint.h>

struct quad {
    uint32_t a, b, c, d;
};

static struct quad src = {1, 2, 3, 4};
static struct quad dst;
static volatile uint64_t wide = 5;

int main(void)
{
    dst = src;
    uint64_t w = wide;
    return (int)(dst.a + dst.b + dst.c + dst.d + w - 15);
}
