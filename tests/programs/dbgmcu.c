/* HAL_GetDEVID / HAL_GetREVID and __HAL_DBGMCU_FREEZE_IWDG on the STM32F746 and STM32L552:
 * their DBGMCU lies in the private peripheral bus (IDCODE at DBGMCU). Exits with the DEV_ID. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    volatile uint32_t *dbgmcu = (volatile uint32_t *)DBGMCU;
    uint32_t idcode = dbgmcu[0];
    dbgmcu[FREEZE / 4] |= 1u << 12;  /* DBG_IWDG_STOP */
    printf("idcode %08lx freeze %08lx\n", (unsigned long)idcode,
           (unsigned long)dbgmcu[FREEZE / 4]);
    return (int)(idcode & 0xFFFu) == DEV ? 0 : 1;
}
