/* Probes of the comparators' edges around stores that change where they go (from the reviews of
 * session 48's comparator work), on the stm32l031 profile. COMP1: PA1 against VREFINT. CASE:
 *   pinmasked  PA6 in AF7 (COMP1_OUT), EXTI lines 21 and 6 masked, WFI: prints "woke" and
 *              exits 1 if the WFI ever returns (nothing can wake the chip: a deadlock).
 *   moder      PA6 in AF7 with ODR6 = 1; a block of 64 NOPs then the MODER store making PA6 an
 *              output (high): the pin's pulses inside that block (report's pins).
 *   toaf       PA6 an output at 1, COMP1 dipping once; a block of NOPs then the MODER store
 *              making PA6 AF7 (COMP1_OUT); EXTI line 6 latches falling edges: prints PR6 and
 *              COMP1's VALUE.
 *   idrpoll    PA6 in AF7: polls GPIOA_IDR bit 6 and COMP1's VALUE in one loop; prints the
 *              SysTick count at which each was first seen high.
 *   slowclock  COMP1's edges counted by TIM21; a block of 64 NOPs ending in the store that
 *              slows the core's clock to MSI range 0 (65.536 kHz, from the profile's 32 MHz).
 *   prclear    COMP1's rising edges latched on EXTI line 21 (no interrupt); a block of NOPs
 *              that the comparator's rise falls in, ending in the store clearing PR21: prints
 *              PR21 then and later.
 */
#include "cm.h"
#include "semihost.h"
#include "ticks.h"

#define RCC_IOPRSTR REG(0x4002101Cu)
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define COMP1_CSR REG(0x40010018u)
#define RCC_ICSCR REG(0x40021004u)
#define TIM21_CR1 REG(0x40010800u)
#define TIM21_SMCR REG(0x40010808u)
#define TIM21_CNT REG(0x40010824u)
#define TIM21_OR REG(0x40010850u)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_FTSR REG(0x4001040Cu)
#define EXTI_PR REG(0x40010414u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_OTYPER REG(0x50000004u)
#define GPIOA_PUPDR REG(0x5000000Cu)
#define GPIOA_IDR REG(0x50000010u)
#define GPIOA_ODR REG(0x50000014u)
#define GPIOA_LCKR REG(0x5000001Cu)
#define GPIOA_AFRL REG(0x50000020u)
#define VALUE (1u << 30)
#ifndef START
#define START 160u
#endif
#define NOP8 "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
#define NOP64 NOP8 NOP8 NOP8 NOP8 NOP8 NOP8 NOP8 NOP8

static void pa6_af7(void)
{
    RCC_IOPENR |= 1u;
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 24)) | (7u << 24);
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 12)) | (2u << 12);
}

int main(void)
{
    RCC_APB2ENR |= 1u;
    tick_start();
#if CASE_pinmasked
    pa6_af7();
    COMP1_CSR = 1u;
    __asm volatile("wfi");
    print_num("woke ", (long)elapsed());
    return 1;
#elif CASE_idrpoll
    pa6_af7();
    COMP1_CSR = 1u;
    uint32_t t_idr = 0, t_val = 0;
    while (!t_idr || !t_val) {
        uint32_t idr = GPIOA_IDR, csr = COMP1_CSR, t = elapsed();
        if (!t_idr && (idr & (1u << 6)))
            t_idr = t;
        if (!t_val && (csr & VALUE))
            t_val = t;
    }
    print_num("idr ", (long)t_idr);
    print_num("value ", (long)t_val);
    return 0;
#elif CASE_slowclock
    RCC_APB2ENR |= 1u << 2;       /* TIM21EN */
    TIM21_OR = 6u << 2;           /* TI1_RMP: COMP1's output */
    TIM21_SMCR = (4u << 4) | 7u;  /* each edge a count */
    TIM21_CR1 = 1u;
    COMP1_CSR = 1u;
    while (elapsed() < START)  /* (the block below at a known time, whatever came before) */
        ;
    uint32_t icscr = RCC_ICSCR & ~(7u << 13); /* MSIRANGE 0: 65.536 kHz */
    __asm__ volatile(NOP64 "str %1, [%0]\n" : : "l"(&RCC_ICSCR), "l"(icscr) : "memory");
    print_num("cnt ", (long)TIM21_CNT);
    return 0;
#elif CASE_moder
    pa6_af7();
    GPIOA_ODR = 1u << 6;
    COMP1_CSR = 1u;
    while (elapsed() < START)  /* (the block below at a known time, whatever came before) */
        ;
    uint32_t moder = (GPIOA_MODER & ~(3u << 12)) | (1u << 12);
    __asm__ volatile(NOP64 "str %1, [%0]\n" : : "l"(&GPIOA_MODER), "l"(moder) : "memory");
    while (elapsed() < 2000u)
        ;
    return 0;
#elif CASE_toaf
    RCC_IOPENR |= 1u;
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 24)) | (7u << 24);
    GPIOA_ODR = 1u << 6;
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 12)) | (1u << 12);
    EXTI_FTSR = 1u << 6;
    EXTI_PR = 1u << 6; /* (before the block: a store there would settle the comparators) */
    COMP1_CSR = 1u;
    while (elapsed() < START)  /* (the block below at a known time, whatever came before) */
        ;
    uint32_t moder = (GPIOA_MODER & ~(3u << 12)) | (2u << 12);
#ifndef EXTRA
#define EXTRA ""
#endif
    __asm__ volatile(NOP64 NOP64 EXTRA "str %1, [%0]\n" : : "l"(&GPIOA_MODER), "l"(moder) : "memory");
    uint32_t pr = EXTI_PR;
    print_num("pr6 ", (long)(pr >> 6 & 1u));
    print_num("value ", (long)(COMP1_CSR >> 30 & 1u));
    return 0;
#elif CASE_prclear
    EXTI_RTSR = 1u << 21;
    COMP1_CSR = 1u;
    while (elapsed() < START)  /* (the block below at a known time, whatever came before) */
        ;
    __asm__ volatile(NOP64 NOP64 NOP8 NOP8 NOP8 NOP8 "str %1, [%0]\n" : : "l"(&EXTI_PR), "l"(1u << 21) : "memory");
    uint32_t pr = EXTI_PR;
    print_num("pr21 ", (long)(pr >> 21 & 1u));
    print_num("pr21 later ", (long)(EXTI_PR >> 21 & 1u));
    return 0;
#else
#error "CASE_pinmasked, CASE_idrpoll, CASE_slowclock, CASE_moder, CASE_toaf or CASE_prclear"
#endif
}
