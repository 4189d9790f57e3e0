/*
 * The STM32L0's flash program memory programmed through its flash interface (RM0377 section
 * 3.3.4) as STM32CubeL0's HAL_FLASH_Unlock, HAL_FLASH_Program, HAL_FLASHEx_Erase and
 * HAL_FLASHEx_HalfPageProgram do it, on the stm32l031 profile, in the last page of its 32 KiB
 * (0x08007F80, which the image leaves erased: 0). CASE selects:
 *   program   unlock (PEKEYR's, then PRGKEYR's two keys); a word programmed; the same word
 *             programmed again (not erased: NOTZEROERR, unchanged); a half page (16 words)
 *             programmed by a function in SRAM; the page erased; each waited for (BSY, EOP
 *             cleared) with TIM21 counting microseconds; locked again. Prints "word W again A
 *             sr S half H erased E us T pecr P".
 *   stm       two words programmed by one STMIA (r0 written back): "words A B next 8"
 *             (-DTO_SRAM: stored into SRAM instead).
 *   locked    a word store without the unlock: not done, WRPERR. Prints "data D sr S".
 *   size      a halfword store, unlocked: not done, SIZERR. Prints "data D sr S".
 *   fww       the half page programmed by code running from flash: FWWERR, nothing written.
 *   pga       a half page's stores (from SRAM) leaving it: PGAERR, nothing written.
 *   hal_half  a half page programmed as HAL_FLASHEx_HalfPageProgram does: its sixteen stores
 *             all to its first word, filling it in order. Prints "data D sr S half H".
 *   misaligned a half page's first store not at its start: PGAERR, nothing written.
 *   wrong_key a wrong PRGKEYR key, then the right sequence: PRGLOCK stays set.
 *   boots     a boot count kept in flash (a word programmed at each start), then
 *             NVIC_SystemReset until it reaches 3 (run with --allow-resets): "boots 3".
 *   irq       EOPIE: the end of a word's programming is IRQ 3 (FLASH): "eop 1".
 *   code      the page holding main erased: the run stops (rewriting code is not modelled).
 *   vectors   the page holding the vector table erased: the run stops too.
 *   new_code  a function programmed into the free page and called (returns 7), the page
 *             erased, programmed again and called (returns 9): "a 7 b 9".
 *   konst     a store to a constant in flash, locked: WRPERR here (a fault on other targets).
 *   ticked    SysTick interrupts taken (their handler prints), then a word programmed into
 *             flash and one into the EEPROM: "ticks 5 flash F eeprom E".
 *   locked_loop  stores into locked flash and the locked EEPROM for ever (a --timeout ends it).
 *   printed   after a semihosting call, a block storing to SRAM, adding, then storing into
 *             flash, and the same into the EEPROM: each store once, the add once each.
 *             Prints "adds 2 flash F eeprom E".
 * Exit status 0 when the checks hold, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"
#include "hex.h"
#include "nvm.h"

#define PROG (1u << 3)
#define ERASE (1u << 9)
#define FPRG (1u << 10)
#define PAGE 0x08007F80u
#define WORD(a) REG(a)

static void unlock(void)
{
    unlock_pecr();
    if (FLASH_PECR & 2u) { /* PRGLOCK */
        FLASH_PRGKEYR = 0x8C9DAEBFu;
        FLASH_PRGKEYR = 0x13141516u;
    }
}

static void report(uint32_t data)
{
    put_hex("data ", data);
    put_hex(" sr ", FLASH_SR);
    sh_write0("\n");
}

/* HAL_FLASHEx_HalfPageProgram's way: FPRG and PROG, 16 words, interrupts off, from SRAM. */
#define HALF_PAGE_BODY                                                                        \
    FLASH_PECR |= FPRG | PROG;                                                                \
    __asm__ volatile("cpsid i" ::: "memory");                                                 \
    for (uint32_t i = 0; i < 16u; i++)                                                        \
        WORD(address + stride * i) = first + i * 0x01010101u;                                 \
    __asm__ volatile("cpsie i" ::: "memory");                                                 \
    wait();                                                                                   \
    FLASH_PECR &= ~(FPRG | PROG);

/* In SRAM as STM32Cube's __RAM_FUNC puts it (.RamFunc: the linker script copies it with .data) */
__attribute__((section(".RamFunc"), noinline, long_call)) static void
half_page(uint32_t address, uint32_t first, uint32_t stride)
{
    HALF_PAGE_BODY
}

#if CASE_fww
__attribute__((noinline)) static void half_page_from_flash(uint32_t address, uint32_t first, uint32_t stride)
{
    HALF_PAGE_BODY
}
#endif

#ifndef TO_SRAM
#define TO_SRAM 0
#endif

#if CASE_ticked
static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
    sh_write0("t");
}
#endif

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
    if (FLASH_PECR & 3u)
        return 1;
    uint32_t start = TIM21_CNT;
    WORD(PAGE + 0x10u) = 0xCAFEF00Du;
    wait();
    uint32_t word = WORD(PAGE + 0x10u);
    WORD(PAGE + 0x10u) = 0x12345678u; /* not erased */
    wait();
    uint32_t again = WORD(PAGE + 0x10u), sr = FLASH_SR;
    FLASH_SR = sr; /* rc_w1: the error cleared */
    half_page(PAGE + 0x40u, 0x11111111u, 4u);
    uint32_t half = 0;
    for (uint32_t i = 0; i < 16u; i++)
        half |= WORD(PAGE + 0x40u + 4u * i) ^ (0x11111111u + i * 0x01010101u);
    uint32_t before = WORD(PAGE + 0x40u);
    FLASH_PECR |= ERASE | PROG;
    WORD(PAGE + 0x7Cu) = 0; /* any word of the page */
    wait();
    FLASH_PECR &= ~(ERASE | PROG);
    uint32_t erased = 0;
    for (uint32_t i = 0; i < 32u; i++)
        erased |= WORD(PAGE + 4u * i);
    uint32_t us = (TIM21_CNT - start) & 0xFFFFu;
    FLASH_PECR |= 2u; /* PRGLOCK */
    FLASH_PECR |= 1u; /* PELOCK */
    put_hex("word ", word);
    put_hex(" again ", again);
    put_hex(" sr ", sr);
    put_hex(" half ", half);
    put_hex(" before ", before);
    put_hex(" erased ", erased);
    sh_write0(" us ");
    sh_write_int((long)us);
    put_hex(" pecr ", FLASH_PECR);
    sh_write0("\n");
    return 0;
#elif CASE_stm
    /* TO_SRAM=1: the same stores into SRAM, by the same instructions (only data differs) */
    static uint32_t ram[2];
    static volatile uint32_t targets[2] = {PAGE, (uint32_t)ram};
    const uint32_t target = targets[TO_SRAM];
#define TARGET target
    unlock();
    register uint32_t r0 __asm__("r0") = TARGET;
    register uint32_t r1 __asm__("r1") = 0xA5A5A5A5u;
    register uint32_t r2 __asm__("r2") = 0x5A5A5A5Au;
    __asm__ volatile("stmia %0!, {%1, %2}" : "+r"(r0) : "r"(r1), "r"(r2) : "memory");
    uint32_t next = r0;
    wait();
    put_hex("words ", WORD(TARGET));
    put_hex(" ", WORD(TARGET + 4u));
    put_hex(" next ", next - TARGET);
    sh_write0("\n");
    return 0;
#elif CASE_locked
    WORD(PAGE) = 0x12345678u;
    report(WORD(PAGE));
    return 0;
#elif CASE_size
    unlock();
    *(volatile uint16_t *)PAGE = 0xBEEFu;
    wait();
    report(WORD(PAGE));
    return 0;
#elif CASE_fww
    unlock();
    half_page_from_flash(PAGE, 1u, 4u);
    report(WORD(PAGE));
    return 0;
#elif CASE_pga
    unlock();
    half_page(PAGE, 1u, 8u); /* the ninth store leaves the half page */
    report(WORD(PAGE));
    return 0;
#elif CASE_hal_half
    unlock();
    half_page(PAGE + 0x40u, 0x11111111u, 0u); /* "Address doesn't need to be increased" */
    uint32_t half = 0;
    for (uint32_t i = 0; i < 16u; i++)
        half |= WORD(PAGE + 0x40u + 4u * i) ^ (0x11111111u + i * 0x01010101u);
    put_hex("data ", WORD(PAGE + 0x40u));
    put_hex(" sr ", FLASH_SR);
    put_hex(" half ", half);
    sh_write0("\n");
    return 0;
#elif CASE_misaligned
    unlock();
    half_page(PAGE + 4u, 1u, 4u);
    report(WORD(PAGE + 4u));
    return 0;
#elif CASE_wrong_key
    FLASH_PEKEYR = 0x89ABCDEFu;
    FLASH_PEKEYR = 0x02030405u;
    FLASH_PRGKEYR = 0x12345678u;
    unlock();
    put_hex("pecr ", FLASH_PECR);
    sh_write0("\n");
    return 0;
#elif CASE_boots
    uint32_t boots = 0;
    while (WORD(PAGE + 4u * boots))
        boots++;
    unlock();
    WORD(PAGE + 4u * boots) = 1u;
    wait();
    boots++;
    if (boots < 3u)
        REG(0xE000ED0Cu) = 0x05FA0004u; /* AIRCR: VECTKEY, SYSRESETREQ */
    sh_write0("boots ");
    sh_write_int((long)boots);
    sh_write0("\n");
    return 0;
#elif CASE_irq
    unlock();
    FLASH_PECR |= 1u << 16; /* EOPIE */
    NVIC_ISER = 1u << 3;
    WORD(PAGE) = 1u;
    while (eops < 1u)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("eop ");
    sh_write_int((long)eops);
    sh_write0("\n");
    return 0;
#elif CASE_konst
    static const uint32_t seven = 7u;
    *(volatile uint32_t *)&seven = 1u;
    report(*(volatile const uint32_t *)&seven);
    return 0;
#elif CASE_printed
    static uint32_t ram;
    sh_write0("storing\n");
    unlock();
    register uint32_t nvm __asm__("r0") = PAGE;
    register uint32_t sram __asm__("r2") = (uint32_t)&ram;
    register uint32_t value __asm__("r3") = 0x5A5A1234u;
    register uint32_t adds __asm__("r5") = 0;
    for (int i = 0; i < 2; i++) {
        __asm__ volatile(".syntax unified\n\tb 1f\n1:\n\t" /* a block of its own */
                         "str %3, [%2]\n\t"
                         "adds %0, %0, #1\n\t"
                         "str %3, [%1]\n\t"
                         "b 2f\n2:"
                         : "+r"(adds) : "r"(nvm), "r"(sram), "r"(value) : "memory");
        wait();
        nvm = 0x08080000u; /* the data EEPROM */
    }
    uint32_t n = adds;
    put_hex("adds ", n);
    put_hex(" flash ", WORD(PAGE));
    put_hex(" eeprom ", WORD(0x08080000u));
    sh_write0("\n");
    return 0;
#elif CASE_ticked
    SYST_RVR = 999u;
    SYST_CVR = 0u;
    SYST_CSR = 7u;
    while (ticks < 5u)
        __asm__ volatile("wfi" ::: "memory");
    SYST_CSR = 0u;
    unlock();
    WORD(PAGE) = 0x600DF00Du;
    wait();
    WORD(0x08080000u) = 0xFEEDBEEFu;
    wait();
    sh_write0("\nticks ");
    sh_write_int((long)ticks);
    put_hex(" flash ", WORD(PAGE));
    put_hex(" eeprom ", WORD(0x08080000u));
    sh_write0("\n");
    return 0;
#elif CASE_locked_loop
    for (;;) {
        WORD(PAGE) = 1u;
        WORD(0x08080000u) = 1u;
    }
#elif CASE_vectors
    unlock();
    FLASH_PECR |= ERASE | PROG;
    WORD(0x08000000u) = 0;
    return 0;
#elif CASE_new_code
    unlock();
    WORD(PAGE + 0x20u) = 0x47702007u; /* movs r0, #7; bx lr */
    wait();
    /* called where the image is linked (at 0: the alias), as code runs on the simulator */
    int (*const fn)(void) = (int (*)(void))(PAGE - 0x08000000u + 0x21u);
    int a = fn();
    FLASH_PECR |= ERASE | PROG;
    WORD(PAGE) = 0;
    wait();
    FLASH_PECR &= ~(ERASE | PROG);
    WORD(PAGE + 0x20u) = 0x47702009u; /* movs r0, #9; bx lr */
    wait();
    int b = fn();
    sh_write0("a ");
    sh_write_int(a);
    sh_write0(" b ");
    sh_write_int(b);
    sh_write0("\n");
    return 0;
#elif CASE_code
    unlock();
    FLASH_PECR |= ERASE | PROG;
    WORD((uint32_t)&main & ~3u) = 0;
    return 0;
#endif
}
