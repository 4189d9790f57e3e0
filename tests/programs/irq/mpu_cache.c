/* The MPU enabled and a cache's geometry read: neither is modelled; the report's list of
 * unmodelled registers says what they are. The Cortex-M7's CCR.IC and DC (bits 17, 16) are
 * set and read back. Prints MPU_TYPE and CCR's cache bits. */
#include "cm.h"
#include "semihost.h"

int main(void)
{
    REG(0xE000ED94u) = 5u; /* MPU_CTRL: ENABLE, PRIVDEFENA */
    (void)REG(0xE000ED80u); /* CCSIDR */
    sh_write_int((long)REG(0xE000ED90u)); /* MPU_TYPE */
    SCB_CCR |= 3u << 16;
    sh_write0(" ");
    sh_write_int((long)(SCB_CCR >> 16 & 3u));
    sh_write0("\n");
    return 0;
}
