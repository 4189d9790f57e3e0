/* A variable-length array of N bytes: the compiler moves SP by a register (sub sp, sp, rN),
 * which no static analysis can size. With N larger than the free SRAM, the frame reaches into
 * static data; the simulator must stop before anything is stored there. With -DFRAME=bytes,
 * a fixed local array instead: on the Cortex-M0+ a frame over 508 bytes is also allocated by a
 * register (add sp, rN). main prints "survived" only if the canary in .data is intact. */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

#if !defined(N) && !defined(FRAME)
#define N 64
#endif

volatile uint32_t canary[4] = {1, 2, 3, 4};

__attribute__((noinline)) int fill(volatile int n)
{
    volatile uint8_t buf[n];
    for (int i = 0; i < n; i++)
        buf[i] = (uint8_t)i;
    return buf[n - 1];
}

#ifdef FRAME
__attribute__((noinline)) int fill_frame(void)
{
    volatile uint8_t buf[FRAME];
    for (int i = 0; i < FRAME; i++)
        buf[i] = (uint8_t)i;
    return buf[FRAME - 1];
}
#define N FRAME
#define FILL() fill_frame()
#else
#define FILL() fill(N)
#endif

int main(void)
{
    int r = FILL();
    if (canary[0] == 1 && canary[3] == 4)
        sh_write0("survived\n");
    return r == ((N - 1) & 0xFF) ? 0 : 1;
}
