/*
 * The STM32L0's DBGMCU (RM0377) as STM32CubeL0's HAL_GetDEVID, HAL_GetREVID and
 * HAL_DBGMCU_EnableDBGStopMode use it, on the stm32l031 profile: prints "dev 00000425 rev
 * 00002008 cr 00000002" (the part's identity; CR reads back DBG_STOP, which a run does not model:
 * listed). Exit status 0.
 */
#include "cm.h"
#include "semihost.h"
#include "hex.h"

#define DBGMCU_IDCODE REG(0x40015800u)
#define DBGMCU_CR REG(0x40015804u)

int main(void)
{
    put_hex("dev ", DBGMCU_IDCODE & 0xFFFu);
    put_hex(" rev ", DBGMCU_IDCODE >> 16);
    DBGMCU_IDCODE = 0; /* read-only */
    DBGMCU_CR |= 2u;   /* DBG_STOP */
    put_hex(" cr ", DBGMCU_CR);
    sh_write0("\n");
    return 0;
}
