/* Never ends: for the instruction limit and the wall-clock timeout. */
#include <stdint.h>

volatile uint32_t ticks;

int main(void)
{
    for (;;)
        ticks++;
}
