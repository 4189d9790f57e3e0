/* Waits for a status flag as driver code does: spins until bit BIT of the register at
 * DEVICE_ADDR is set, then exits 0. A flag that never comes spins until a limit stops it. */
#include <stdint.h>

#ifndef BIT
#define BIT 0
#endif

int main(void)
{
    volatile uint32_t *reg = (volatile uint32_t *)DEVICE_ADDR;
    while (!(*reg & (1u << BIT)))
        ;
    return 0;
}
