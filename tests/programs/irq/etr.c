/*
 * The STM32L0's timers' external trigger input ETR (RM0377: TIMx_SMCR's ETP, ETPS, ETF, ECE,
 * TS 111; TIMx_OR's ETR_RMP; CCMRx's OCxCE), on the stm32l031 profile. CASE selects:
 *   clock2    TIM2 in external clock mode 2 (SMCR.ECE): its count clocked by PA0's (AF5,
 *             TIM2_ETR, as --pin drives it) rising edges (-DINVERT: ETP, the falling ones),
 *             every ETPS-th (SMCR.ETPS: 0 1, 1 2, 2 4, 3 8), through ETF FILTER; PSC 0, ARR 999,
 *             its update interrupt counting wraps. TIM21's update every 150 ms prints
 *             "cnt CNT wraps W" twice. -DLSE instead: ETR from the LSE (OR ETR_RMP 101, the
 *             LSE started by RCC_CSR.LSEON), ARR ARR_VALUE: the program ends after UPDATES
 *             update interrupts (a time base from the 32,768 Hz crystal, as a DCF77 decoder's
 *             10 ms sampling clock does it), printing "updates U". With it: -DPSC_VALUE=n,
 *             -DDOWN (CR1.DIR), -DCC1=n (CCR1 n, CC1IE: its matches counted), -DSAMPLE=n
 *             (TIM21's update every n + 1 cycles adds TIM2's CNT to a sum), -DPER_EDGE
 *             (channel 2's OC2CE, frozen: ETRF then also clears an unused output, which the
 *             simulator takes edge by edge); prints "updates U matches M sum S".
 *   clear     as STM32CubeL0's COMP_PWMSignalControl (NUCLEO-L031K6): TIM22's channel 2 in PWM
 *             mode 1 on PA7 (AF5), 1 kHz (PSC 31, ARR 999), CCR2 250, OC2CE: OC2REF cleared
 *             while ETRF is high, until the next update event. ETR is PA4 (AF5, TIM22_ETR) or,
 *             -DCOMP, COMP2's output (OR ETR_RMP 01; COMP2 plus PB5, minus 1/4 VREFINT, as the
 *             example's). The update interrupt counts PERIODS periods, then the counter stops.
 *             -DON_TIM2: TIM2's channel 2 on PA1 (AF2) instead, its ETR PA0 (AF5), SMCR 0 as
 *             HAL_TIM_ConfigOCrefClear leaves it (no OCCS bit on this part).
 *   lse_pin   TIM2 clocked by the LSE (ECE, ARR 0xFFFF) while PA1 is in AF2 (TIM2_CH2, an unused
 *             channel: its --pin edges are TIM2's input TI2); TIM21's update every 10 ms, ten of
 *             them: prints "cnt CNT" (the LSE's rising edges in 100 ms).
 *   retoggle  TIM2 clocked by the LSE through ETPS /8, ARR 1, its update interrupt; after some
 *             LSE periods ECE cleared, ETPS 0, ECE set again (the LL's DisableExternalClock,
 *             ConfigETR, EnableExternalClock): three updates, printing "updates 3".
 *   chain     TIM2 clocked by the LSE (ECE, OR ETR_RMP 101; ARR 32), no interrupt of its own,
 *             its update events on TRGO (MMS 010); TIM21 counts them (SMS 111 on ITR0), ARR 2,
 *             its update interrupt: the core sleeps (WFI) until 3 of TIM21's updates, printing
 *             "tim21 updates 3".
 * Exit status 0.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_CSR REG(0x40021050u)
#define GPIOA 0x50000000u
#define GPIOB 0x50000400u
#define MODER(p) REG((p) + 0x00u)
#define AFRL(p) REG((p) + 0x20u)
#define TIM2 0x40000000u
#define TIM21 0x40010800u
#define TIM22 0x40011400u
#define CR1(t) REG((t) + 0x00u)
#define SMCR(t) REG((t) + 0x08u)
#define DIER(t) REG((t) + 0x0Cu)
#define SR(t) REG((t) + 0x10u)
#define EGR(t) REG((t) + 0x14u)
#define CCMR1(t) REG((t) + 0x18u)
#define CCER(t) REG((t) + 0x20u)
#define CNT(t) REG((t) + 0x24u)
#define PSC(t) REG((t) + 0x28u)
#define ARR(t) REG((t) + 0x2Cu)
#define CCR1(t) REG((t) + 0x34u)
#define CCR2(t) REG((t) + 0x38u)
#define OR(t) REG((t) + 0x50u)
#define COMP2_CSR REG(0x4001001Cu)
#define CEN 1u
#define OPM (1u << 3)
#define UIF 1u
#define ECE (1u << 14)
#define ETP (1u << 15)
#define CR2(t) REG((t) + 0x04u)

/* the LSE on: PWR's clock, the backup domain writable (PWR_CR.DBP), LSEON, LSERDY */
__attribute__((unused)) static void lse_on(void)
{
    RCC_APB1ENR |= 1u << 28;        /* PWREN */
    REG(0x40007000u) |= 1u << 8;    /* PWR_CR.DBP: the LSE is in the backup domain */
    RCC_CSR |= 1u << 8;             /* LSEON */
    while (!(RCC_CSR & (1u << 9)))
        ;
}

/* pin n of a port in alternate function af (pins 0-7) */
static void alternate(uint32_t port, uint32_t n, uint32_t af)
{
    MODER(port) = (MODER(port) & ~(3u << (2u * n))) | (2u << (2u * n));
    AFRL(port) = (AFRL(port) & ~(15u << (4u * n))) | (af << (4u * n));
}

#if CASE_clock2 || CASE_lse_pin || CASE_retoggle
static volatile uint32_t ticks, wraps, matches, sum;

void IRQ15_Handler(void)
{
    uint32_t sr = SR(TIM2);
    SR(TIM2) = ~sr; /* rc_w0: the flags read */
    if (sr & UIF)
        wraps++;
    if (sr & 2u)
        matches++;
}

void IRQ20_Handler(void)
{
    SR(TIM21) = ~UIF;
    ticks++;
    sum += CNT(TIM2);
}
#endif

#if CASE_clock2
#ifndef ETPS
#define ETPS 0
#endif
#ifndef FILTER
#define FILTER 0
#endif
#ifndef ARR_VALUE
#define ARR_VALUE 999
#endif
int main(void)
{
    RCC_IOPENR |= 1u;     /* GPIOA */
    RCC_APB1ENR |= 1u;    /* TIM2EN */
    RCC_APB2ENR |= 1u << 2; /* TIM21EN */
#ifdef LSE
    lse_on();
    OR(TIM2) = 5u; /* ETR_RMP 101: the LSE */
#else
    alternate(GPIOA, 0u, 5u); /* PA0: TIM2_ETR */
#endif
    ARR(TIM2) = ARR_VALUE;
#ifdef PSC_VALUE
    PSC(TIM2) = PSC_VALUE;
#endif
#ifdef CC1
    CCR1(TIM2) = CC1;
#endif
#ifdef PER_EDGE
    CCMR1(TIM2) = 1u << 15; /* OC2CE, channel 2 frozen */
#endif
    uint32_t smcr = ECE | ((uint32_t)ETPS << 12) | ((uint32_t)FILTER << 8);
#ifdef INVERT
    smcr |= ETP;
#endif
    SMCR(TIM2) = smcr;
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
#ifdef CC1
    DIER(TIM2) = 3u; /* UIE, CC1IE */
#else
    DIER(TIM2) = 1u;
#endif
    NVIC_ISER = (1u << 15) | (1u << 20);
#ifdef DOWN
    CR1(TIM2) = CEN | (1u << 4);
#else
    CR1(TIM2) = CEN;
#endif
#ifdef LSE
#ifdef SAMPLE
    ARR(TIM21) = SAMPLE;
    EGR(TIM21) = 1u;
    SR(TIM21) = 0;
    DIER(TIM21) = 1u;
    CR1(TIM21) = CEN;
#endif
    while (wraps < UPDATES)
        __asm__ volatile("wfi" ::: "memory");
    CR1(TIM2) = 0;
    CR1(TIM21) = 0;
    sh_write0("updates ");
    sh_write_int((long)wraps);
#if defined(CC1) || defined(SAMPLE)
    sh_write0(" matches ");
    sh_write_int((long)matches);
    sh_write0(" sum ");
    sh_write_int((long)sum);
#endif
    sh_write0("\n");
#else
    PSC(TIM21) = 3199u; /* 10 kHz */
    ARR(TIM21) = 1499u; /* 150 ms */
    EGR(TIM21) = 1u;
    SR(TIM21) = 0;
    DIER(TIM21) = 1u;
    CR1(TIM21) = CEN;
    uint32_t printed = 0;
    while (printed < 2u) {
        __asm__ volatile("wfi" ::: "memory");
        if (ticks > printed) {
            printed++;
            sh_write0("cnt ");
            sh_write_int((long)CNT(TIM2));
            sh_write0(" wraps ");
            sh_write_int((long)wraps);
            sh_write0("\n");
        }
    }
#endif
    return 0;
}
#endif

#if CASE_clear
#ifdef ON_TIM2
#define TIM TIM2
#define TIM_IRQ 15u
#else
#define TIM TIM22
#define TIM_IRQ 22u
#endif
static volatile uint32_t periods;

#if TIM_IRQ == 15
void IRQ15_Handler(void)
#else
void IRQ22_Handler(void)
#endif
{
    SR(TIM) = ~UIF;
    if (++periods >= PERIODS)
        CR1(TIM) = 0;
}

int main(void)
{
    RCC_IOPENR |= 3u; /* GPIOA, GPIOB */
#if TIM_IRQ == 15
    RCC_APB1ENR |= 1u;         /* TIM2EN */
    alternate(GPIOA, 1u, 2u);  /* PA1: TIM2_CH2 */
    alternate(GPIOA, 0u, 5u);  /* PA0: TIM2_ETR */
#else
    RCC_APB2ENR |= 1u << 5;    /* TIM22EN */
    alternate(GPIOA, 7u, 5u);  /* PA7: TIM22_CH2 */
#ifdef COMP
    RCC_APB2ENR |= 1u;         /* SYSCFG (the comparators' registers) */
    MODER(GPIOB) |= 3u << 10;  /* PB5: analog */
    REG(0x40010020u) |= 1u << 12; /* CFGR3.ENBUFLP_VREFINT_COMP, as HAL_COMP_Init sets it */
    /* COMP2: plus PB5 (INPSEL 010), minus 1/4 VREFINT (INNSEL 100), EN */
    COMP2_CSR = (2u << 8) | (4u << 4) | 1u;
    OR(TIM) = 1u;              /* ETR_RMP 01: COMP2's output */
#else
    alternate(GPIOA, 4u, 5u);  /* PA4: TIM22_ETR */
#endif
#endif
    PSC(TIM) = 31u;
    ARR(TIM) = 999u;
    CCR2(TIM) = 250u;
    CCMR1(TIM) = (6u << 12) | (1u << 11) | (1u << 15); /* OC2M PWM 1, OC2PE, OC2CE */
    SMCR(TIM) = 0; /* ETP, ETPS, ETF 0: HAL_TIM_ConfigOCrefClear's TIM_ETR_SetConfig */
    CCER(TIM) = 1u << 4; /* CC2E */
    EGR(TIM) = 1u;
    SR(TIM) = 0;
    DIER(TIM) = 1u;
    NVIC_ISER = 1u << TIM_IRQ;
    CR1(TIM) = CEN;
    while (periods < PERIODS)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("periods ");
    sh_write_int((long)periods);
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_chain
static volatile uint32_t updates;

void IRQ20_Handler(void)
{
    SR(TIM21) = ~UIF;
    updates++;
}

int main(void)
{
    RCC_APB1ENR |= 1u;      /* TIM2EN */
    RCC_APB2ENR |= 1u << 2; /* TIM21EN */
    lse_on();
    OR(TIM2) = 5u;       /* ETR_RMP 101: the LSE */
    ARR(TIM2) = 32u;
    CR2(TIM2) = 2u << 4; /* MMS: update */
    SMCR(TIM2) = ECE;
    ARR(TIM21) = 2u;
    SMCR(TIM21) = 7u | (0u << 4); /* external clock mode 1 on ITR0: TIM2's TRGO */
    DIER(TIM21) = 1u;
    NVIC_ISER = 1u << 20;
    CR1(TIM21) = CEN;
    CR1(TIM2) = CEN;
    while (updates < 3u)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("tim21 updates ");
    sh_write_int((long)updates);
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_lse_pin || CASE_retoggle
int main(void)
{
    RCC_IOPENR |= 1u;
    RCC_APB1ENR |= 1u;      /* TIM2EN */
    RCC_APB2ENR |= 1u << 2; /* TIM21EN */
    lse_on();
#if CASE_lse_pin
    alternate(GPIOA, 1u, 2u); /* PA1: TIM2_CH2 */
    OR(TIM2) = 5u; /* ETR_RMP 101: the LSE */
    ARR(TIM2) = 0xFFFFu;
    SMCR(TIM2) = ECE;
    CR1(TIM2) = CEN;
    PSC(TIM21) = 31u;
    ARR(TIM21) = 9999u; /* 10 ms */
    EGR(TIM21) = 1u;
    SR(TIM21) = 0;
    DIER(TIM21) = 1u;
    NVIC_ISER = 1u << 20;
    CR1(TIM21) = CEN;
    while (ticks < 10u)
        __asm__ volatile("wfi" ::: "memory");
    uint32_t cnt = CNT(TIM2);
    sh_write0("cnt ");
    sh_write_int((long)cnt);
#else
    OR(TIM2) = 5u;
    ARR(TIM2) = 1u;
    SMCR(TIM2) = ECE | (3u << 12);
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
    DIER(TIM2) = 1u;
    NVIC_ISER = 1u << 15;
    CR1(TIM2) = CEN;
    for (volatile uint32_t n = 0; n < 1500u; n++) /* some LSE periods */
        ;
    SMCR(TIM2) = 3u << 12; /* ECE off */
    SMCR(TIM2) = 0;        /* ETPS 0 */
    SMCR(TIM2) = ECE;      /* ECE again */
    while (wraps < 3u)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("updates ");
    sh_write_int((long)wraps);
#endif
    sh_write0("\n");
    return 0;
}
#endif
