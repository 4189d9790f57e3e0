/* Firmware that tries the host: -DCASE=n picks one.
 *   1 prints 8 KiB per call, forever (the console must stay bounded on the host)
 *   2 reads the console into a const array in flash (a write to read-only memory)
 *   3 reads a word of flash past the image (erased flash reads 0xFF) and exits with its low byte
 */
#include <stdint.h>

#include "semihost.h"

static char chunk[8192];
static const char in_flash[16] = "const in flash";

int main(void)
{
#if CASE == 1
    for (unsigned i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    for (;;)
        sh_write(1, chunk, sizeof chunk);
#elif CASE == 2
    sh_read(0, (void *)(uintptr_t)in_flash, 8);
    sh_write0(in_flash);
    return 0;
#elif CASE == 3
    return (int)(*(volatile const uint32_t *)0x00010000u & 0xFFu);
#endif
}
