/* Talks to a memory-mapped register at DEVICE_ADDR (a test device the tests map there): stores
 * 21, reads the register back and exits with the value read (with EXIT_ZERO: 0). */
#include <stdint.h>

#ifndef DEVICE_ADDR
#define DEVICE_ADDR 0x40000000u
#endif

int main(void)
{
    volatile uint32_t *reg = (volatile uint32_t *)DEVICE_ADDR;
    *reg = 21;
#ifdef EXIT_ZERO
    (void)*reg;
    return 0;
#else
    return (int)*reg;
#endif
}
