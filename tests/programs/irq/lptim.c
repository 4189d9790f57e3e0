/*
 * The STM32L0's LPTIM1 (RM0377) as STM32CubeL0's HAL drives it, on the stm32l031 profile: the
 * LSE as its kernel clock (RCC_CCIPR.LPTIM1SEL), the RCC clock on, CFGR and IER while disabled,
 * then ENABLE, ARR (and CMP) while enabled, and CNTSTRT. CASE:
 *   counter  HAL_LPTIM_Counter_Start_IT: ARR 32767 (a second of LSE), ARRM's interrupt
 *            (IRQ 13); WFI until three periods passed.
 *   timeout  HAL_LPTIM_TimeOut_Start_IT: ARR 32767 and CMP 16383, CMPM's interrupt: the first
 *            half a second after the start, then every second; three of them.
 *   stop     the counter's interrupts waking the core from Stop mode (SCR.SLEEPDEEP), the core
 *            at 32 MHz from the PLL before each sleep: it wakes on MSI.
 *   refused  ARR written while disabled and CFGR while enabled: ignored (and listed); ARROK
 *            comes after an ARR write while enabled.
 *   pulses   HAL_LPTIM_Counter_Start_IT counting IN1's rising edges (a meter's pulses) on PB5
 *            (AF2, LPTIM1_IN1): CKSEL 1 (the ultra-low-power clock: IN1 itself, no kernel
 *            clock) with -DULP, else COUNTMODE 1 on the LSE; ARR PULSES - 1, ARRM's interrupt;
 *            the core in Stop mode until EVENTS periods of pulses passed; prints CNT.
 *            -DCOMP: IN1 from COMP1's output (COMP1LPTIMIN1: PA1 against VREFINT), not PB5.
 *            -DFALLING: CKPOL 01, the falling edges.
 *   trigger  a hardware trigger (CFGR.TRIGEN TRIGEN, default 01: rising edges) from PA6 (AF1,
 *            LPTIM1_ETR, TRIGSEL 000, as STM32CubeL0's LPTIM_Timeout on the NUCLEO-L031K6) or,
 *            -DCOMP, COMP1's output (TRIGSEL 110; COMP1: PA1 against VREFINT) on the LSE: CNTSTRT
 *            (-DSINGLE: SNGSTRT, one period a trigger) arms it, ARR 32, ARRM's interrupt;
 *            -DTIMEOUT instead: HAL_LPTIM_TimeOut_Start_IT, TIMOUT with ARR 0xFFFF and CMP 32:
 *            CMPM's interrupt 33 LSE periods after the last trigger (each one restarts the
 *            count). The core in Stop mode (-DNOSTOP: Sleep mode) until EVENTS interrupts;
 *            prints "cnt CNT isr ISR" (ISR as read before the last interrupt's clear).
 *            -DSETONCE: CFGR.WAVE (HAL_LPTIM_SetOnce_Start_IT): SNGSTRT's first trigger only.
 *            -DEXTTRIG: EXTTRIGIE alone: EVENTS counts the triggers that start the counter.
 *            -DPCLK: PCLK as the kernel clock, not the LSE (LPTIM1 stops in Stop mode).
 *            -DRCCOFF: LPTIM1's RCC clock cleared (LPTIM1EN) once it is armed.
 *            -DRTC: the RTC's alarm A instead (TRIGSEL 001), every second (all fields
 *            masked, no ALRAIE: nothing but LPTIM1 takes it), the RTC on the LSE from 12:00:00;
 *            the handler clears ALRAF so that the next alarm is an edge again; -DRTC_SEL=2:
 *            TRIGSEL 010, alarm B, which is off: no trigger comes; -DRTC_SEL=5: TRIGSEL 101,
 *            tamper 3 (PA2's rising edges; the handler clears TAMP3F too).
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_CR REG(0x40021000u)
#define RCC_CFGR REG(0x4002100Cu)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_CCIPR REG(0x4002104Cu)
#define RCC_CSR REG(0x40021050u)
#define PWR_CR REG(0x40007000u)
#define FLASH_ACR REG(0x40022000u)
#define LPTIM_ISR REG(0x40007C00u)
#define LPTIM_ICR REG(0x40007C04u)
#define LPTIM_IER REG(0x40007C08u)
#define LPTIM_CFGR REG(0x40007C0Cu)
#define LPTIM_CR REG(0x40007C10u)
#define LPTIM_CMP REG(0x40007C14u)
#define LPTIM_ARR REG(0x40007C18u)
#define LPTIM_CNT REG(0x40007C1Cu)
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define GPIOB_MODER REG(0x50000400u)
#define GPIOB_AFRL REG(0x50000420u)
#define COMP1_CSR REG(0x40010018u)
#define SCB_SCR_ REG(0xE000ED10u)
#define RTC_TR REG(0x40002800u)
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_ALRMAR REG(0x4000281Cu)
#define RTC_WPR REG(0x40002824u)
#define RTC_TAMPCR REG(0x40002840u)
#ifndef PULSES
#define PULSES 5u
#endif
#ifndef EVENTS
#define EVENTS 2u
#endif
#define CMPM 1u
#define ARRM (1u << 1)
#define ARROK (1u << 4)

static volatile uint32_t events, seen, exttrigs;

void IRQ13_Handler(void) /* HAL_LPTIM_IRQHandler */
{
    seen = LPTIM_ISR;
    uint32_t isr = seen & (LPTIM_IER | (1u << 2)); /* (EXTTRIG cleared too) */
    LPTIM_ICR = isr;
    if (isr & (CMPM | ARRM))
        events++;
#ifdef RTC
    RTC_ISR = ~((1u << 8) | (1u << 15) | (1u << 7)) & 0x0001FFFFu; /* ALRAF, TAMP3F (and
                                                                          INIT) cleared */
#endif
    if (isr & (1u << 2))
        exttrigs++;
}

static void lse_kernel_clock(void)
{
    RCC_APB1ENR |= (1u << 28) | (1u << 31); /* PWREN, LPTIM1EN */
    PWR_CR |= 1u << 8;                      /* DBP: the LSE is in the backup domain */
    RCC_CSR |= 1u << 8;                     /* LSEON */
    while (!(RCC_CSR & (1u << 9)))
        ;
    RCC_CCIPR = (RCC_CCIPR & ~(3u << 18)) | (3u << 18); /* LPTIM1SEL: LSE */
}

__attribute__((unused)) static void pll_32mhz(void)
{
    PWR_CR = (PWR_CR & ~(3u << 11)) | (1u << 11);
    FLASH_ACR = 1u;
    RCC_CR |= 1u;
    while (!(RCC_CR & 4u))
        ;
    RCC_CFGR = (1u << 18) | (1u << 22);
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25)))
        ;
    RCC_CFGR |= 3u;
    while (((RCC_CFGR >> 2) & 3u) != 3u)
        ;
}

static void start(uint32_t ier, uint32_t cmp)
{
    LPTIM_CFGR = 0; /* the internal clock, PRESC 1, software start */
    LPTIM_IER = ier;
    LPTIM_CR = 1u; /* ENABLE */
    LPTIM_ARR = 32767u;
    if (cmp)
        LPTIM_CMP = cmp;
    LPTIM_CR |= 4u; /* CNTSTRT */
    NVIC_ISER = 1u << 13;
}

int main(void)
{
    lse_kernel_clock();
#if CASE_counter || CASE_timeout
#if CASE_counter
    start(ARRM, 0);
#else
    start(CMPM, 16383u);
#endif
    while (events < 3)
        __asm volatile("wfi");
    sh_write0("lptim events 3\n");
    return 0;
#elif CASE_stop
    start(ARRM, 0);
    SCB_SCR |= 4u; /* SLEEPDEEP; PWR_CR.PDDS clear: Stop mode */
    for (uint32_t i = 0; i < 3; i++) {
        pll_32mhz();
        __asm volatile("wfi");
        if ((RCC_CFGR >> 2) & 3u)
            return 2; /* not on MSI */
    }
    return events == 3 ? 0 : 1;
#elif CASE_pulses
#ifdef COMP
    RCC_APB2ENR |= 1u;                /* SYSCFGEN */
    COMP1_CSR = (1u << 12) | 1u;      /* COMP1LPTIMIN1, COMP1EN: PA1 against VREFINT */
#else
    RCC_IOPENR |= 1u << 1;            /* GPIOB */
    GPIOB_AFRL = (GPIOB_AFRL & ~(15u << 20)) | (2u << 20); /* PB5: AF2, LPTIM1_IN1 */
    GPIOB_MODER = (GPIOB_MODER & ~(3u << 10)) | (2u << 10);
#endif
#ifdef ULP
    RCC_CCIPR &= ~(3u << 18);         /* LPTIM1SEL: PCLK1, which Stop mode stops: unused */
    LPTIM_CFGR = 1u;                  /* CKSEL: IN1 clocks it, rising edges (CKPOL 00) */
#else
    lse_kernel_clock();
    LPTIM_CFGR = 1u << 23;            /* COUNTMODE: IN1's rising edges, sampled on the LSE */
#endif
#ifdef FALLING
    LPTIM_CFGR |= 1u << 1;            /* CKPOL 01: falling edges */
#endif
    LPTIM_IER = ARRM;
    NVIC_ISER = 1u << 13;
    LPTIM_CR = 1u;
    LPTIM_ARR = PULSES - 1u;
    LPTIM_CR |= 4u;                   /* CNTSTRT */
    SCB_SCR_ |= 4u;                   /* SLEEPDEEP: Stop mode */
    while (events < EVENTS)
        __asm volatile("wfi");
    sh_write0("cnt ");
    sh_write_int((long)LPTIM_CNT);
    sh_write0("\n");
    return 0;
#elif CASE_trigger
#ifndef TRIGEN
#define TRIGEN 1u
#endif
#ifndef PCLK
    lse_kernel_clock();
#else
    RCC_CCIPR &= ~(3u << 18);         /* LPTIM1SEL: PCLK1, which Stop mode stops */
#endif
#ifdef COMP
    RCC_APB2ENR |= 1u;                /* SYSCFGEN */
    COMP1_CSR = 1u;                   /* COMP1EN: PA1 against VREFINT */
    uint32_t cfgr = (6u << 13) | (TRIGEN << 17);
#elif defined(RTC)
    RCC_CSR = (RCC_CSR & ~(3u << 16)) | (1u << 16) | (1u << 18); /* RTCSEL LSE, RTCEN */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_ISR = 0xFFFFFFFFu;            /* INIT */
    while (!(RTC_ISR & (1u << 6)))    /* INITF */
        ;
    RTC_TR = 0x120000u;
    RTC_ISR = 0;                      /* the calendar runs */
    RTC_ALRMAR = 0x80808080u;         /* every second: all four fields masked */
    RTC_CR |= 1u << 8;                /* ALRAE, no ALRAIE */
#ifndef RTC_SEL
#define RTC_SEL 1u /* TRIGSEL: alarm A */
#endif
#if RTC_SEL == 5
    RTC_TAMPCR = 1u << 5;             /* TAMP3E: PA2's rising edges, no interrupt */
#endif
    uint32_t cfgr = (RTC_SEL << 13) | (TRIGEN << 17);
#else
    RCC_IOPENR |= 1u;                 /* GPIOA */
    REG(0x50000020u) = (REG(0x50000020u) & ~(15u << 24)) | (1u << 24); /* PA6: AF1 */
    REG(0x50000000u) = (REG(0x50000000u) & ~(3u << 12)) | (2u << 12);
    uint32_t cfgr = (0u << 13) | (TRIGEN << 17);
#endif
#ifdef SETONCE
    cfgr |= 1u << 20;                 /* WAVE: set-once */
#endif
#ifdef TIMEOUT
    LPTIM_CFGR = cfgr | (1u << 19);   /* TIMOUT */
    LPTIM_IER = CMPM;
#else
    LPTIM_CFGR = cfgr;
    LPTIM_IER = ARRM;
#endif
#ifdef EXTTRIG
    LPTIM_IER = 1u << 2;              /* EXTTRIGIE alone */
#endif
    NVIC_ISER = 1u << 13;
    LPTIM_CR = 1u;
#ifdef TIMEOUT
    LPTIM_ARR = 0xFFFFu;
    LPTIM_CMP = 32u;
#else
    LPTIM_ARR = 32u;
#endif
#ifdef SINGLE
    LPTIM_CR |= 2u;                   /* SNGSTRT */
#else
    LPTIM_CR |= 4u;                   /* CNTSTRT */
#endif
#ifdef RCCOFF
    RCC_APB1ENR &= ~(1u << 31);       /* LPTIM1EN cleared: the armed trigger is lost */
#endif
#ifndef NOSTOP
    SCB_SCR_ |= 4u;                   /* SLEEPDEEP: Stop mode */
#endif
#ifdef EXTTRIG
    while (exttrigs < EVENTS)
#else
    while (events < EVENTS)
#endif
        __asm volatile("wfi");
    sh_write0("cnt ");
    sh_write_int((long)LPTIM_CNT);
    sh_write0(" isr ");
    sh_write_int((long)(seen & 0x7Fu));
    sh_write0("\n");
    return 0;
#elif CASE_refused
    LPTIM_ARR = 100u; /* disabled: ignored */
    LPTIM_CR = 1u;
    LPTIM_CFGR = 7u << 9; /* enabled: ignored */
    if (LPTIM_ARR != 0 || LPTIM_CFGR != 0)
        return 2;
    LPTIM_ARR = 100u;
    int n = 0;
    while (!(LPTIM_ISR & ARROK))
        if (++n == 100000)
            return 3;
    return LPTIM_ARR == 100u ? 0 : 4;
#else
#error "CASE_counter, CASE_timeout, CASE_stop, CASE_pulses, CASE_trigger or CASE_refused"
#endif
}
