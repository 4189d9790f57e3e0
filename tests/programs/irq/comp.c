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
 *   stop     as irq, rising edges only, the core in Stop mode (SCR.SLEEPDEEP): woken by the
 *            comparator, it prints "woke" and the edges so far, EDGES times.
 *   window   COMP1WM: COMP2's plus input is COMP1's (PA1, though INPSEL says PB4), against
 *            1/2 VREFINT; READS reads of COMP2's VALUE each PERIOD cycles, printed.
 *   lock     COMP1 enabled and LOCKed; a write of 0 is ignored: exit 0 when it still reads
 *            EN and LOCK.
 *   inputs   COMP2 enabled with PB4 (not an ADC pin) against PA2 (no --analog values), then
 *            with INPSEL 101 (reserved on this part): the simulator lists each.
 *   untimed  COMP1 (PA1 against VREFINT, both edges interrupting) while the ADC converts
 *            channel 1 READS times: VALUE printed before each conversion (the pin's voltage is
 *            the value the next one reads), then the edges counted.
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_APB2ENR REG(0x40021034u)
#define SYSCFG_CFGR3 REG(0x40010020u)
#define COMP1_CSR REG(0x40010018u)
#define COMP2_CSR REG(0x4001001Cu)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_FTSR REG(0x4001040Cu)
#define EXTI_PR REG(0x40010414u)
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR REG(0x40012440u)
#define EN 1u
#define WM (1u << 8)
#define POLARITY (1u << 15)
#define VALUE (1u << 30)
#define LOCK (1u << 31)
#define ENBUFLP_VREFINT_COMP (1u << 12)
#define LINE1 (1u << 21)
#ifndef READS
#define READS 8
#endif
#ifndef PERIOD
#define PERIOD 32000u /* 1 ms at 32 MHz */
#endif
#ifndef EDGES
#define EDGES 4
#endif

__attribute__((unused)) static void print_num(const char *label, long v)
{
    sh_write0(label);
    sh_write_int(v);
    sh_write0("\n");
}

/* SysTick free-running over its 24 bits from here: elapsed() counts cycles since. */
static void tick_start(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* the core's clock, no interrupt */
}

static uint32_t elapsed(void) { return 0xFFFFFFu - SYST_CVR; }

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
    if (EXTI_PR & LINE1) {
        EXTI_PR = LINE1;
        if (edges < 16u) {
            when[edges] = t;
            level[edges] = COMP1_CSR >> 30 & 1u;
        }
        edges++;
    }
}

static void comp1_irq(uint32_t rising, uint32_t falling, uint32_t csr)
{
    EXTI_RTSR = rising ? LINE1 : 0u;
    EXTI_FTSR = falling ? LINE1 : 0u;
    EXTI_PR = LINE1;
    EXTI_IMR |= LINE1;
    NVIC_ISER = 1u << 12;
    COMP1_CSR = csr | EN;
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
    return 0;
#elif CASE_lock
    COMP1_CSR = EN | LOCK;
    COMP1_CSR = 0u;
    if ((COMP1_CSR & (EN | LOCK)) != (EN | LOCK))
        return 1;
    COMP2_CSR = EN; /* COMP2 is not locked */
    return (COMP2_CSR & EN) ? 0 : 2;
#elif CASE_inputs
    COMP2_CSR = (1u << 4) | (1u << 8) | EN; /* minus PA2, plus PB4 */
    COMP2_CSR = (1u << 4) | (5u << 8) | EN; /* plus: reserved */
    return (COMP2_CSR & VALUE) ? 1 : 0;
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
#error "CASE_poll, CASE_irq, CASE_stop, CASE_window, CASE_lock, CASE_inputs or CASE_untimed"
#endif
}
