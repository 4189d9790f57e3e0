/* A 32-bit value as 8 hex digits after a label, through semihosting: for test programs. */
#ifndef HEX_H
#define HEX_H
#include "semihost.h"
#include <stdint.h>

static inline void put_hex(const char *label, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char text[9];
    for (int i = 0; i < 8; i++)
        text[i] = digits[(v >> (28 - 4 * i)) & 15u];
    text[8] = 0;
    sh_write0(label);
    sh_write0(text);
}
#endif
