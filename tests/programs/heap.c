/*
 * Known heap use. Without USE_MALLOC: sbrk with fixed increments, so the heap high-water mark
 * is exactly 384 bytes:
 *     sbrk(128)      break: start + 128
 *     sbrk(256)      break: start + 384   <- peak
 *     sbrk(-384)     break: start
 *     sbrk(64)       break: start + 64
 *     sbrk(1 MiB)    refused (-1): more than the SRAM; the break and the peak do not move
 * With USE_MALLOC: malloc(1000), every byte written, then freed.
 * Returns 0 when every call answered as expected, otherwise the number of the failed check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "semihost.h"

void *sbrk(ptrdiff_t incr);
extern uint8_t __heap_start[];

int main(void)
{
#ifdef USE_MALLOC
    volatile uint8_t *p = malloc(1000);
    if (p == NULL)
        return 1;
    for (int i = 0; i < 1000; i++)
        p[i] = (uint8_t)i;
    for (int i = 0; i < 1000; i++)
        if (p[i] != (uint8_t)i)
            return 2;
    free((void *)p);
    sh_write0("malloc ok\n");
    return 0;
#else
    uint8_t *a = sbrk(128);
    uint8_t *b = sbrk(256);
    uint8_t *c = sbrk(-384);
    uint8_t *d = sbrk(64);
    void *e = sbrk(1 << 20);
    if (a != __heap_start)
        return 1;
    if (b != a + 128)
        return 2;
    if (c != a + 384)
        return 3;
    if (d != a)
        return 4;
    if (e != (void *)-1)
        return 5;
    memset(a, 0x5a, 64);
    sh_write0("sbrk ok\n");
    return 0;
#endif
}
