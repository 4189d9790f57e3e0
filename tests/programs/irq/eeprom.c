/*
 * The STM32L0's data EEPROM (1 KiB at 0x08080000) programmed through the flash interface
 * (RM0377 section 3) as STM32CubeL0's HAL_FLASHEx_DATAEEPROM_Unlock/Program/Lock do it, on
 * the stm32l031 profile. CASE selects:
 *   program   unlock (PEKEYR's two keys), a word, a halfword and a byte stored, each waited
 *             for (SR.BSY, EOP cleared), TIM21 counting microseconds; lock (PELOCK); read back.
 *             Prints "data WORD HALF BYTE us T PECR" (T: the three stores' time).
 *   locked    a store without the unlock: not done, SR.WRPERR set. Prints "data D sr S".
 *   wrong_key a wrong first key, then the right sequence: PECR stays locked. Prints
 *             "pecr P".
 *   boots     a boot counter in the EEPROM, incremented at each start, then
 *             NVIC_SystemReset until it reaches 3 (run with --allow-resets): prints "boots 3".
 *   printed   a string stored in the EEPROM, printed from there by semihosting: "hi".
 *   irq       EOPIE: the end of a store's programming is IRQ 3 (FLASH), its handler clearing
 *             EOP; prints "eop 2" after two stores.
 * Exit status 0 when the checks hold, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"
#include "hex.h"
#include "nvm.h"

#define EEPROM32(o) REG(0x08080000u + (o))
#define EEPROM16(o) (*(volatile uint16_t *)(0x08080000u + (o)))
#define EEPROM8(o) REG8(0x08080000u + (o))
#define unlock unlock_pecr

#if CASE_irq
static volatile uint32_t eops;

void IRQ3_Handler(void)
{
    FLASH_SR = 2u; /* EOP */
    eops++;
}
#endif

int main(void)
{
#if CASE_program
    start_us_timer();
    unlock();
    if (FLASH_PECR & 1u)
        return 1;
    uint32_t start = TIM21_CNT;
    EEPROM32(0x10) = 0xCAFEF00Du;
    wait();
    EEPROM16(0x14) = 0xBEEFu;
    wait();
    EEPROM8(0x16) = 0x5Au;
    wait();
    uint32_t us = (TIM21_CNT - start) & 0xFFFFu;
    FLASH_PECR |= 1u; /* PELOCK */
    put_hex("data ", EEPROM32(0x10));
    put_hex(" ", EEPROM16(0x14));
    put_hex(" ", EEPROM8(0x16));
    sh_write0(" us ");
    sh_write_int((long)us);
    put_hex(" ", FLASH_PECR);
    sh_write0("\n");
    return 0;
#elif CASE_locked
    EEPROM32(0) = 0x12345678u;
    put_hex("data ", EEPROM32(0));
    put_hex(" sr ", FLASH_SR);
    sh_write0("\n");
    return 0;
#elif CASE_wrong_key
    FLASH_PEKEYR = 0x12345678u;
    unlock();
    put_hex("pecr ", FLASH_PECR);
    sh_write0("\n");
    return 0;
#elif CASE_boots
    uint32_t boots = EEPROM32(0) + 1u;
    unlock();
    EEPROM32(0) = boots;
    wait();
    if (boots < 3u)
        REG(0xE000ED0Cu) = 0x05FA0004u; /* AIRCR: VECTKEY, SYSRESETREQ */
    sh_write0("boots ");
    sh_write_int((long)boots);
    sh_write0("\n");
    return 0;
#elif CASE_printed
    unlock();
    EEPROM32(0) = 0x000A6968u; /* "hi\n" */
    wait();
    sh_write0((const char *)0x08080000u);
    return 0;
#elif CASE_irq
    unlock();
    FLASH_PECR |= 1u << 16; /* EOPIE */
    NVIC_ISER = 1u << 3;
    EEPROM32(0) = 1u;
    while (eops < 1u)
        __asm__ volatile("wfi" ::: "memory");
    EEPROM32(4) = 2u;
    while (eops < 2u)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("eop ");
    sh_write_int((long)eops);
    sh_write0("\n");
    return 0;
#endif
}
