/*
 * Firmware laid out as a vendor's start-up code and linker script lay out an STM32's: the
 * vector table and code in flash at 0x08000000 (vendor_map.ld), .data copied from there to
 * SRAM, VTOR left at its reset value 0, where the part aliases the flash it boots from. It
 * checks its .data, takes SysTick interrupts (their vectors fetched through the alias), reads
 * its vector table through the alias and prints "vendor ok"; with -DRUN_FROM_ALIAS it calls a
 * function at its alias address instead (0x0000xxxx), which the simulator refuses to execute;
 * with -DIRQ_PAST_TABLE it pends IRQ0, whose vector lies past its 16-entry table; with
 * -DCLOCK_SETUP it first sets the clock up as vendor start-up code does (RM0377, reset and
 * clock control): HSI16 on, the PLL from it (x4 / 2: 32 MHz) with one flash wait state and
 * voltage range 1, the system clock switched to the PLL, LSI on, GPIOA's clock and a pin,
 * then prints a line through USART2 (the Nucleo-L031K6's virtual COM port: its clock, PA2 as
 * its TX pin, 115200 baud, TEACK, TXE, TC); each step waits for the flag the chip sets, and the
 * function returns where one is wrong.
 */
#include <stdint.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
void Reset_Handler(void);
void SysTick_Handler(void);
void Default_Handler(void);

__attribute__((section(".isr_vector"), used)) const uintptr_t g_pfnVectors[16] = {
    (uintptr_t)&_estack, (uintptr_t)Reset_Handler, (uintptr_t)Default_Handler,
    (uintptr_t)Default_Handler, [11] = (uintptr_t)Default_Handler,
    [14] = (uintptr_t)Default_Handler, [15] = (uintptr_t)SysTick_Handler,
};

static volatile uint32_t ticks;
volatile uint32_t initialised = 0x12345678u; /* .data: its value comes from flash */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define VTOR (*(volatile uint32_t *)0xE000ED08u)

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void finish(uint32_t status)
{
    const uint32_t block[2] = {0x20026u, status}; /* ADP_Stopped_ApplicationExit */
    semihost(0x20, block);                           /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

void SysTick_Handler(void) { ticks++; }

void Default_Handler(void) { finish(99); }

#ifdef CLOCK_SETUP
#define REG(addr) (*(volatile uint32_t *)(addr))
#define RCC_CR REG(0x40021000u)
#define RCC_CFGR REG(0x4002100Cu)
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_CSR REG(0x40021050u)
#define FLASH_ACR REG(0x40022000u)
#define PWR_CR REG(0x40007000u)
#define PWR_CSR REG(0x40007004u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_ODR REG(0x50000014u)
#define GPIOA_AFRL REG(0x50000020u)
#define RCC_APB1ENR REG(0x40021038u)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define SWS(cfgr) (((cfgr) >> 2) & 3u)

static uint32_t clock_setup(void)
{
    if ((RCC_CR & 0x300u) != 0x300u || SWS(RCC_CFGR) != 0) /* reset: on MSI, which is ready */
        return 10;
    /* what a vendor SystemInit does first: MSI on, the prescalers, PLL and MCO fields cleared,
     * the other oscillators off, HSI48 off (CRRCR: reserved on this part), no clock interrupt */
    RCC_CR |= 1u << 8;
    RCC_CFGR &= ~((15u << 4) | (63u << 8) | (1u << 16) | (63u << 18) | (127u << 24));
    RCC_CR &= ~(1u | (1u << 3) | (1u << 16) | (1u << 19) | (1u << 24));
    REG(0x40021008u) &= ~1u;
    RCC_CR &= ~(1u << 18);
    REG(0x40021010u) = 0;
    RCC_APB1ENR |= 1u << 28;                      /* PWREN: __HAL_RCC_PWR_CLK_ENABLE */
    PWR_CR = (PWR_CR & ~(3u << 11)) | (1u << 11); /* voltage range 1 */
    while (PWR_CSR & (1u << 4))                   /* VOSF */
        ;
    RCC_CR |= 1u; /* HSI16ON */
    while (!(RCC_CR & 4u))
        ;
    FLASH_ACR |= 1u; /* one wait state */
    if ((FLASH_ACR & 1u) != 1u)
        return 11;
    RCC_CFGR = (RCC_CFGR & ~((1u << 16) | (15u << 18) | (3u << 22))) | (1u << 18) | (1u << 22);
    RCC_CR |= 1u << 24; /* PLLON */
    while (!(RCC_CR & (1u << 25)))
        ;
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u; /* SW: PLL */
    while (SWS(RCC_CFGR) != 3u)
        ;
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u; /* SW: HSE, which is off: the switch does not happen */
    if (SWS(RCC_CFGR) != 3u)
        return 12;
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u;
    RCC_CR &= ~((1u << 8) | 1u); /* MSI off: its ready flag goes; HSI16 feeds the PLL: stays */
    if ((RCC_CR & ((1u << 9) | 4u)) != 4u)
        return 13;
    RCC_CSR |= 1u; /* LSION */
    while (!(RCC_CSR & 2u))
        ;
    if ((RCC_CSR & (1u << 27)) == 0) /* PORRSTF: a power-on reset */
        return 14;
    RCC_CSR |= 1u << 23; /* RMVF */
    if (RCC_CSR >> 24)
        return 15;
    RCC_IOPENR |= 1u; /* GPIOA */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 10)) | (1u << 10); /* PA5: output */
    GPIOA_ODR |= 1u << 5;
    if (!(GPIOA_ODR & (1u << 5)))
        return 16;
    RCC_APB1ENR |= 1u << 17;                                        /* USART2EN */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4);           /* PA2: alternate */
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 8)) | (4u << 8);            /* AF4: USART2_TX */
    USART2_BRR = 278;                                               /* 115200 at 32 MHz */
    USART2_CR1 = 1u << 3;                                           /* TE */
    USART2_CR1 |= 1u;                                               /* UE */
    while (!(USART2_ISR & (1u << 21)))                              /* TEACK */
        ;
    for (const char *c = "usart2: clock set up\n"; *c; c++) {
        while (!(USART2_ISR & (1u << 7))) /* TXE */
            ;
        USART2_TDR = (uint8_t)*c;
    }
    while (!(USART2_ISR & (1u << 6))) /* TC */
        ;
    return 0;
}
#endif

static uint32_t check(void)
{
#ifdef CLOCK_SETUP
    uint32_t clock = clock_setup();
    if (clock != 0)
        return clock;
#endif
    if (initialised != 0x12345678u)
        return 1;
#ifndef BOOT
#define BOOT 0u /* where the part reads its vectors at reset: the STM32L0's alias at 0 */
#endif
    uintptr_t reset_vector = BOOT + 4u; /* read through the boot alias (or the flash itself) */
    __asm__("" : "+r"(reset_vector)); /* an address, not a constant GCC checks bounds against */
    if (VTOR != BOOT || *(const volatile uint32_t *)reset_vector != (uintptr_t)Reset_Handler)
        return 2;
#ifdef IRQ_PAST_TABLE
    *(volatile uint32_t *)0xE000E100u = 1u; /* NVIC_ISER0: IRQ0 enabled */
    *(volatile uint32_t *)0xE000E200u = 1u; /* NVIC_ISPR0: IRQ0 pending */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#ifdef RUN_FROM_ALIAS
    void (*aliased)(void) = (void (*)(void))((uintptr_t)SysTick_Handler - 0x08000000u);
    aliased();
#endif
    SYST_RVR = 999;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
    while (ticks < 3)
        __asm__ volatile("wfi");
    SYST_CSR = 0;
    semihost(0x04, "vendor ok\n"); /* SYS_WRITE0 */
    return 0;
}

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; dst++)
        *dst = 0;
    finish(check());
}
