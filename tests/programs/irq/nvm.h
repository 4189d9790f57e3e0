/* The STM32L0's flash interface (RM0377 section 3) for the NVM test programs (eeprom.c,
 * flashprog.c): its registers, PECR's unlock, the wait for an operation's end, and TIM21
 * counting microseconds at the stm32l031 profile's 32 MHz. */
#ifndef NVM_H
#define NVM_H
#include "cm.h"

#define FLASH_PECR REG(0x40022004u)
#define FLASH_PEKEYR REG(0x4002200Cu)
#define FLASH_PRGKEYR REG(0x40022010u)
#define FLASH_SR REG(0x40022018u)
#define TIM21_CNT REG(0x40010824u)

/* HAL_FLASHEx_DATAEEPROM_Unlock's sequence: PEKEYR's two keys clear PECR.PELOCK. */
static inline void unlock_pecr(void)
{
    if (FLASH_PECR & 1u) { /* PELOCK */
        FLASH_PEKEYR = 0x89ABCDEFu;
        FLASH_PEKEYR = 0x02030405u;
    }
}

/* FLASH_WaitForLastOperation's: BSY clear, then EOP cleared. */
static inline void wait(void)
{
    while (FLASH_SR & 1u) /* BSY */
        ;
    if (FLASH_SR & 2u) /* EOP */
        FLASH_SR = 2u;
}

/* TIM21 counting microseconds (PSC 31 at 32 MHz), from 0. */
static inline void start_us_timer(void)
{
    REG(0x40021034u) |= 1u << 2; /* RCC APB2ENR: TIM21EN */
    REG(0x40010828u) = 31u;      /* PSC */
    REG(0x40010814u) = 1u;       /* EGR.UG: the prescaler taken */
    REG(0x40010800u) = 1u;       /* CR1.CEN */
}
#endif
