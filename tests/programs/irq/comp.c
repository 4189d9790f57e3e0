/*
 * The STM32L0's comparators COMP1 and COMP2 (RM0377; their CSRs in SYSCFG) as STM32CubeL0's
 * HAL_COMP drives them, on the stm32l031 profile: SYSCFG's clock (APB2ENR.SYSCFGEN), the
 * VREFINT scaler for COMP2 (SYSCFG_CFGR3.ENBUFLP_VREFINT_COMP), the inputs and the polarity,
 * the EXTI line (21: COMP1, 22: COMP2) and IRQ 12, then EN. CASE:
 *   poll     COMP2: PA3 against 1/2 VREFINT (0.612 V); READS reads of its VALUE, one each
 *            PERIOD cycles (SysTick), each printed.
 *   irq      COMP1: PA1 against VREFINT (1.224 V; -DINVERT: POLARITY), its EXTI line on both
 *            edges, the core asleep in WFI; the handler clears PR and notes SysTick's count
 *            (free-running from main's start) and VALUE at each of EDGES edges, printed then.
 *            -DCOMP2: COMP2 instead (PA3 against VREFINT, EXTI line 22). -DSLOW: after the
 *            first edge the core's clock switches to the HSI16 (16 MHz).
 *   stop     as irq, rising edges only, the core in Stop mode (SCR.SLEEPDEEP): woken by the
 *            comparator, it prints "woke" and the edges so far, EDGES times.
 *   window   COMP1WM: COMP2's plus input is COMP1's (PA1, though INPSEL says PB4), against
 *            1/2 VREFINT; READS reads of COMP2's VALUE each PERIOD cycles, printed; then WM
 *            cleared (PB4: 0 V) and VALUE printed once more.
 *   pb4      COMP2: PB4 (no ADC channel's pin) against 1/2 VREFINT, READS reads as poll.
 *   lock     COMP1 enabled and LOCKed; a write of 0 is ignored: exit 0 when it still reads
 *            EN and LOCK. -DREWRITE: COMP1_CSR rewritten as it is (WM cleared, as
 *            HAL_COMP_Init for COMP2 does), then COMP2 enabled.
 *   inputs   COMP2 enabled with PB4 (not an ADC pin) against PA2 (no --analog values), then
 *            with INPSEL 101 (reserved on this part), SPEED and COMP2LPTIMIN2 (LPTIM1's IN2):
 *            the simulator lists each; exit 2 when SPEED does not read back.
 *   standby  COMP1 interrupting on both edges, then Stand-by mode: off there, it wakes
 *            nothing.
 *   capture  COMP1's output (PA1 against VREFINT) as TIM2's TI4 (OR TI4_RMP 10), captured on
 *            both edges by channel 4 at 1 MHz (PSC 31), CC4IE's interrupt (IRQ 15) noting each
 *            CCR4; EDGES captures printed. -DREMAP_LATE: COMP1 enabled first, the remap made
 *            once the capture is on.
 *   count    TIM21 counting COMP1's edges (OR TI1_RMP 110, external clock mode 1 on TI1F_ED:
 *            each edge a count) while the core runs blocks of 96 NOPs for SPAN cycles, each
 *            ending in a store with -DSTORE=1 (RCC_APB2ENR, its value again) or 2 (COMP2_CSR);
 *            prints the count.
 *   lockrst  COMP1 enabled and LOCKed, SYSCFG reset (RCC APB2RSTR): exit 0 when COMP1_CSR
 *            still reads EN and LOCK and COMP2_CSR (written before) reads 0.
 *   pin      COMP1's output on PA6 (alternate function 7, COMP1_OUT) for SPAN cycles.
 *   wfe      COMP1 rising on EXTI line 21 as an event (EMR, no IMR): WFE until VALUE is 1.
 *   lateimr  COMP1 enabled first, its EXTI line's interrupt (IMR) only then: WFI until an edge.
 *   capture2 COMP2's output (PA3 against VREFINT) captured on both edges by TIM21's channel 2
 *            (OR TI2_RMP), or with -DTIM22 TIM22's channel 1 (TI1_RMP 01), or with -DTIM2
 *            TIM2's channel 4 (TI4_RMP 01), at 1 MHz; EDGES captures printed.
 *   sysreset COMP1 enabled and LOCKed, then NVIC_SystemReset (run with --allow-resets 1): the
 *            second boot exits 0 when COMP1_CSR reads 0 (LOCK cleared) and takes a write.
 *   masked   COMP1 enabled, its EXTI line masked, the core in WFI for ever: a deadlock.
 *   untimed  COMP1 (PA1 against VREFINT, both edges interrupting) while the ADC converts
 *            channel 1 READS times: VALUE printed before each conversion (the pin's voltage is
 *            the value the next one reads), then the edges counted.
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"
#include "ticks.h"

#define RCC_APB2ENR REG(0x40021034u)
#define SYSCFG_CFGR3 REG(0x40010020u)
#define COMP1_CSR REG(0x40010018u)
#define COMP2_CSR REG(0x4001001Cu)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_EMR REG(0x40010404u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_FTSR REG(0x4001040Cu)
#define EXTI_PR REG(0x40010414u)
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR REG(0x40012440u)
#define RCC_APB1ENR REG(0x40021038u)
#define PWR_CR REG(0x40007000u)
#define TIM2_CR1 REG(0x40000000u)
#define TIM2_DIER REG(0x4000000Cu)
#define TIM2_SR REG(0x40000010u)
#define TIM2_EGR REG(0x40000014u)
#define TIM2_CCMR2 REG(0x4000001Cu)
#define TIM2_CCER REG(0x40000020u)
#define TIM2_PSC REG(0x40000028u)
#define TIM2_ARR REG(0x4000002Cu)
#define TIM2_CCR4 REG(0x40000040u)
#define TIM2_OR REG(0x40000050u)
#define RCC_CR REG(0x40021000u)
#define RCC_CFGR REG(0x4002100Cu)
#define RCC_APB2RSTR REG(0x40021024u)
#define TIM21_CR1 REG(0x40010800u)
#define TIM21_SMCR REG(0x40010808u)
#define TIM21_CNT REG(0x40010824u)
#define TIM21_OR REG(0x40010850u)
#define RCC_IOPENR REG(0x4002102Cu)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_AFRL REG(0x50000020u)
#define EN 1u
#define WM (1u << 8)
#define POLARITY (1u << 15)
#define VALUE (1u << 30)
#define LOCK (1u << 31)
#define ENBUFLP_VREFINT_COMP (1u << 12)
#define LINE1 (1u << 21)
#define LINE2 (1u << 22)
#ifdef COMP2
#define LINE LINE2
#define CSR COMP2_CSR
#else
#define LINE LINE1
#define CSR COMP1_CSR
#endif
#ifndef SPAN
#define SPAN 16000u
#endif
#ifndef STORE
#define STORE 0
#endif
#ifndef READS
#define READS 8
#endif
#ifndef PERIOD
#define PERIOD 32000u /* 1 ms at 32 MHz */
#endif
#ifndef EDGES
#define EDGES 4
#endif

/* Wait until ``at`` cycles after tick_start(). */
__attribute__((unused)) static void wait_until(uint32_t at)
{
    while (elapsed() < at)
        ;
}

static volatile uint32_t edges;
static volatile uint32_t when[16], level[16];

void IRQ12_Handler(void)
{
    uint32_t t = elapsed();
    if (EXTI_PR & LINE) {
        EXTI_PR = LINE;
        if (edges < 16u) {
            when[edges] = t;
            level[edges] = CSR >> 30 & 1u;
        }
        edges++;
    }
}

static volatile uint32_t captures, captured[16];
/* kept by a system reset (the start-up code neither copies nor zeroes .noinit) */
__attribute__((unused)) static volatile uint32_t magic __attribute__((section(".noinit")));

void IRQ15_Handler(void)
{
    if (TIM2_SR & (1u << 4)) {
        uint32_t ccr = TIM2_CCR4; /* clears CC4IF */
        if (captures < 16u)
            captured[captures] = ccr;
        captures++;
    }
}

/* capture2's timer: TIM21 (IRQ 20, channel 2), TIM22 (IRQ 22, channel 1), TIM2 (channel 4) */
#if defined(TIM22)
#define TIMX_BASE 0x40011400u
#define TIMX_IRQ 22u
#define TIMX_CH 1u
#elif defined(TIM2)
#define TIMX_BASE 0x40000000u
#define TIMX_IRQ 15u
#define TIMX_CH 4u
#else
#define TIMX_BASE 0x40010800u
#define TIMX_IRQ 20u
#define TIMX_CH 2u
#endif
#define TIMX(off) REG(TIMX_BASE + (off))

__attribute__((unused)) static void capture_x(void)
{
    if (TIMX(0x10) & (1u << TIMX_CH)) {
        uint32_t ccr = TIMX(0x30 + 4u * TIMX_CH); /* CCRx: clears CCxIF */
        if (captures < 16u)
            captured[captures] = ccr;
        captures++;
    }
}

#if CASE_capture2
#if defined(TIM22)
void IRQ22_Handler(void) { capture_x(); }
#elif !defined(TIM2)
void IRQ20_Handler(void) { capture_x(); }
#endif
#endif

/* COMP1 (or with -DCOMP2, COMP2 from PA3) against VREFINT, its EXTI line interrupting. */
__attribute__((unused)) static void comp1_irq(uint32_t rising, uint32_t falling, uint32_t csr)
{
    EXTI_RTSR = rising ? LINE : 0u;
    EXTI_FTSR = falling ? LINE : 0u;
    EXTI_PR = LINE;
    EXTI_IMR |= LINE;
    NVIC_ISER = 1u << 12;
#ifdef COMP2
    SYSCFG_CFGR3 |= ENBUFLP_VREFINT_COMP;
#endif
    CSR = csr | EN;
}

/* The system clock from the HSI16 (16 MHz). */
__attribute__((unused)) static void hsi16(void)
{
    RCC_CR |= 1u; /* HSION */
    while (!(RCC_CR & 4u))
        ;
    RCC_CFGR = (RCC_CFGR & ~3u) | 1u;
    while (((RCC_CFGR >> 2) & 3u) != 1u)
        ;
}

int main(void)
{
    RCC_APB2ENR |= 1u; /* SYSCFGEN: the comparators' registers */
    tick_start();
#if CASE_poll
    SYSCFG_CFGR3 |= ENBUFLP_VREFINT_COMP;
    COMP2_CSR = (5u << 4) | EN; /* INNSEL 1/2 VREFINT, INPSEL PA3 */
    for (uint32_t i = 1; i <= READS; i++) {
        wait_until(i * PERIOD - PERIOD / 2u);
        print_num("value ", (long)(COMP2_CSR >> 30 & 1u));
    }
    return 0;
#elif CASE_irq
#ifdef INVERT
    comp1_irq(1, 1, POLARITY);
#else
    comp1_irq(1, 1, 0u);
#endif
#ifdef SLOW
    while (edges < 1u)
        __asm volatile("wfi");
    hsi16();
#endif
    while (edges < EDGES)
        __asm volatile("wfi");
    for (uint32_t i = 0; i < EDGES; i++) {
        print_num("at ", (long)when[i]);
        print_num("value ", (long)level[i]);
    }
    return 0;
#elif CASE_stop
    comp1_irq(1, 0, 0u);
    SCB_SCR |= 4u; /* SLEEPDEEP; PWR_CR.PDDS clear: Stop mode */
    for (uint32_t i = 0; i < EDGES; i++) {
        uint32_t before = edges;
        while (edges == before)
            __asm volatile("wfi");
        print_num("woke ", (long)edges);
    }
    return 0;
#elif CASE_window
    SYSCFG_CFGR3 |= ENBUFLP_VREFINT_COMP;
    COMP1_CSR = WM; /* COMP1 itself stays off */
    COMP2_CSR = (5u << 4) | (1u << 8) | EN; /* 1/2 VREFINT, INPSEL PB4 */
    for (uint32_t i = 1; i <= READS; i++) {
        wait_until(i * PERIOD - PERIOD / 2u);
        print_num("value ", (long)(COMP2_CSR >> 30 & 1u));
    }
    COMP1_CSR = 0u; /* WM off: COMP2 compares PB4 */
    print_num("value ", (long)(COMP2_CSR >> 30 & 1u));
    return 0;
#elif CASE_pb4
    SYSCFG_CFGR3 |= ENBUFLP_VREFINT_COMP;
    COMP2_CSR = (5u << 4) | (1u << 8) | EN; /* 1/2 VREFINT, INPSEL PB4 */
    for (uint32_t i = 1; i <= READS; i++) {
        wait_until(i * PERIOD - PERIOD / 2u);
        print_num("value ", (long)(COMP2_CSR >> 30 & 1u));
    }
    return 0;
#elif CASE_lock
    COMP1_CSR = EN | LOCK;
#ifdef REWRITE
    SYSCFG_CFGR3 |= ENBUFLP_VREFINT_COMP;
    COMP1_CSR &= ~WM; /* (HAL_COMP_Init for COMP2: WM as it is) */
    COMP2_CSR = EN;
    return (COMP2_CSR & EN) ? 0 : 3;
#endif
    COMP1_CSR = 0u;
    if ((COMP1_CSR & (EN | LOCK)) != (EN | LOCK))
        return 1;
    COMP2_CSR = EN; /* COMP2 is not locked */
    return (COMP2_CSR & EN) ? 0 : 2;
#elif CASE_inputs
    COMP2_CSR = (1u << 4) | (1u << 8) | EN; /* minus PA2, plus PB4 */
    COMP2_CSR = (1u << 4) | (5u << 8) | EN | (1u << 3) | (1u << 12); /* reserved; SPEED;
                                                                        COMP2LPTIMIN2 */
    if (!(COMP2_CSR & (1u << 3)))
        return 2;                           /* SPEED reads back */
    return (COMP2_CSR & VALUE) ? 1 : 0;
#elif CASE_standby
    RCC_APB1ENR |= 1u << 28;  /* PWREN */
    comp1_irq(1, 1, 0u);
    PWR_CR |= 1u << 1;        /* PDDS: Stand-by */
    SCB_SCR |= 4u;            /* SLEEPDEEP */
    for (;;)
        __asm volatile("wfi");
#elif CASE_capture
    RCC_APB1ENR |= 1u; /* TIM2EN */
    TIM2_PSC = 31u;    /* 1 MHz */
    TIM2_ARR = 0xFFFFu;
#ifdef REMAP_LATE
    COMP1_CSR = EN; /* on first: the remap below is TI4's edge */
#else
    TIM2_OR = 2u << 3; /* TI4_RMP: COMP1's output */
#endif
    TIM2_CCMR2 = 1u << 8;             /* CC4S 01: IC4 from TI4 */
    TIM2_CCER = (1u << 12) | (5u << 13); /* CC4E, CC4P and CC4NP: both edges */
    TIM2_DIER = 1u << 4;              /* CC4IE */
    TIM2_EGR = 1u;                    /* UG: the prescaler loaded */
    TIM2_SR = 0;
    NVIC_ISER = 1u << 15;
#ifdef REMAP_LATE
    TIM2_OR = 2u << 3; /* TI4 from its pin (low) to the output (high) */
#else
    COMP1_CSR = EN; /* PA1 against VREFINT */
#endif
    TIM2_CR1 = 1u;  /* CEN */
    while (captures < EDGES)
        __asm volatile("wfi");
    for (uint32_t i = 0; i < EDGES; i++)
        print_num("capture ", (long)captured[i]);
    return 0;
#elif CASE_count
    RCC_APB2ENR |= 1u << 2; /* TIM21EN */
    TIM21_OR = 6u << 2;     /* TI1_RMP: COMP1's output */
    TIM21_SMCR = (4u << 4) | 7u; /* TS TI1F_ED, SMS 111: each edge a count */
    TIM21_CR1 = 1u;
    COMP1_CSR = EN; /* PA1 against VREFINT */
    while (elapsed() < SPAN) {
        __asm volatile(".rept 96\n\tnop\n\t.endr");
#if STORE == 1
        RCC_APB2ENR = 0x5u; /* SYSCFGEN, TIM21EN: the value it has */
#elif STORE == 2
        COMP2_CSR = 0u;
#endif
    }
    print_num("edges ", (long)TIM21_CNT);
    return 0;
#elif CASE_lockrst
    COMP2_CSR = EN;
    COMP1_CSR = EN | LOCK;
    RCC_APB2RSTR = 1u; /* SYSCFGRST */
    RCC_APB2RSTR = 0u;
    if ((COMP1_CSR & (EN | LOCK)) != (EN | LOCK))
        return 1;
    return COMP2_CSR == 0u ? 0 : 2;
#elif CASE_pin
    RCC_IOPENR |= 1u;                                 /* GPIOA */
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 24)) | (7u << 24); /* PA6: AF7, COMP1_OUT */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 12)) | (2u << 12); /* alternate function */
    COMP1_CSR = EN;
    wait_until(SPAN);
    return 0;
#elif CASE_wfe
    EXTI_RTSR = LINE1;
    EXTI_EMR |= LINE1;
    COMP1_CSR = EN;
    while (!(COMP1_CSR & VALUE))
        __asm volatile("wfe");
    return 0;
#elif CASE_lateimr
    COMP1_CSR = EN;
    EXTI_RTSR = LINE1;
    EXTI_PR = LINE1;
    EXTI_IMR |= LINE1;
    NVIC_ISER = 1u << 12;
    while (edges == 0u)
        __asm volatile("wfi");
    return 0;
#elif CASE_capture2
    SYSCFG_CFGR3 |= ENBUFLP_VREFINT_COMP;
#if defined(TIM22)
    RCC_APB2ENR |= 1u << 5;
    TIMX(0x50) = 1u << 2;        /* OR TI1_RMP 01: COMP2 */
    TIMX(0x18) = 1u;             /* CCMR1 CC1S 01: IC1 from TI1 */
    TIMX(0x20) = 1u | (5u << 1); /* CCER CC1E, CC1P, CC1NP */
    TIMX(0x0C) = 1u << 1;        /* DIER CC1IE */
#elif defined(TIM2)
    RCC_APB1ENR |= 1u;
    TIMX(0x50) = 1u << 3;          /* OR TI4_RMP 01: COMP2 */
    TIMX(0x1C) = 1u << 8;          /* CCMR2 CC4S 01 */
    TIMX(0x20) = (1u << 12) | (5u << 13);
    TIMX(0x0C) = 1u << 4;
#else
    RCC_APB2ENR |= 1u << 2;
    TIMX(0x50) = 1u << 5;          /* OR TI2_RMP: COMP2 */
    TIMX(0x18) = 1u << 8;          /* CCMR1 CC2S 01: IC2 from TI2 */
    TIMX(0x20) = (1u << 4) | (5u << 5); /* CCER CC2E, CC2P, CC2NP */
    TIMX(0x0C) = 1u << 2;          /* DIER CC2IE */
#endif
    TIMX(0x28) = 31u;   /* PSC: 1 MHz */
    TIMX(0x2C) = 0xFFFFu;
    TIMX(0x14) = 1u;    /* EGR UG */
    TIMX(0x10) = 0u;
    NVIC_ISER = 1u << TIMX_IRQ;
    COMP2_CSR = EN;     /* PA3 against VREFINT */
    TIMX(0x00) = 1u;    /* CEN */
    while (captures < EDGES)
        __asm volatile("wfi");
    for (uint32_t i = 0; i < EDGES; i++)
        print_num("capture ", (long)captured[i]);
    return 0;
#elif CASE_sysreset
    if (magic != 0xC0FFEEu) {
        magic = 0xC0FFEEu;
        COMP1_CSR = EN | LOCK;
        SCB_AIRCR = 0x05FA0004u;
        for (;;)
            ;
    }
    magic = 0u;
    if (COMP1_CSR != 0u)
        return 1;
    COMP1_CSR = EN;
    return (COMP1_CSR & EN) ? 0 : 2;
#elif CASE_masked
    COMP1_CSR = EN;
    for (;;)
        __asm volatile("wfi");
#elif CASE_untimed
    RCC_APB2ENR |= 1u << 9; /* ADCEN */
    ADC_CFGR2 = 1u << 30;   /* PCLK / 2 */
    ADC_CR |= 1u << 28;     /* ADVREGEN */
    ADC_CR |= 1u << 31;     /* ADCAL */
    while (ADC_CR & (1u << 31))
        ;
    ADC_ISR = 1u; /* ADRDY */
    ADC_CR |= EN;  /* ADEN */
    while (!(ADC_ISR & 1u))
        ;
    ADC_CHSELR = 1u << 1;
    comp1_irq(1, 1, 0u); /* PA1 against VREFINT */
    for (uint32_t i = 0; i < READS; i++) {
        print_num("value ", (long)(COMP1_CSR >> 30 & 1u));
        ADC_CR |= 1u << 2; /* ADSTART */
        while (!(ADC_ISR & (1u << 2)))
            ;
        (void)ADC_DR;
    }
    print_num("edges ", (long)edges);
    return 0;
#else
#error "CASE_poll, CASE_pb4, CASE_irq, CASE_stop, CASE_window, CASE_lock, CASE_inputs, CASE_capture, CASE_count, CASE_lockrst, CASE_pin, CASE_wfe, CASE_lateimr, CASE_capture2, CASE_sysreset, CASE_standby, CASE_masked or CASE_untimed"
#endif
}
