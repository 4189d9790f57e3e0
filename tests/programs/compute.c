/* A small deterministic computation (CRC-32 of 256 pseudo-random bytes, bit by bit). */
#include <stdint.h>

#include "semihost.h"

static uint8_t data[256];

int main(void)
{
    uint32_t x = 12345u;
    for (int i = 0; i < 256; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (int i = 0; i < 256; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
    sh_write0("crc ");
    sh_write_int((long)(crc & 0x7FFFFFFFu));
    sh_write0("\n");
    return 0;
}
