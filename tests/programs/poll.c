/* Waits for a status flag as driver code does: spins until bit BIT of the register at
 * DEVICE_ADDR is set, then exits 0. A flag that never comes spins until a limit stops it.
 * With READS=N it reads the register N times without waiting, then spins on no device at all:
 * a loop that is not polling. */
#include <stdint.h>

#ifndef BIT
#define BIT 0
#endif

int main(void)
{
    volatile uint32_t *reg = (volatile uint32_t *)DEVICE_ADDR;
#ifdef READS
    for (int i = 0; i < READS; i++)
        (void)*reg;
    for (volatile uint32_t spin = 0;; spin++)
        ;
#else
    while (!(*reg & (1u << BIT)))
        ;
#endif
    return 0;
}
