/* The MPU enabled and a cache's geometry read: neither is modelled; the report's list of
 * unmodelled registers says what they are. Prints MPU_TYPE. */
#include "cm.h"
#include "semihost.h"

int main(void)
{
    REG(0xE000ED94u) = 5u; /* MPU_CTRL: ENABLE, PRIVDEFENA */
    (void)REG(0xE000ED80u); /* CCSIDR */
    sh_write_int((long)REG(0xE000ED90u)); /* MPU_TYPE */
    sh_write0("\n");
    return 0;
}
