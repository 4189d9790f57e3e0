/*
 * The STM32L0's ADC and factory data (RM0377) as vendor firmware uses them, on the stm32l031
 * profile, in the order STM32CubeL0's HAL does it: the ADC's clock (APB2ENR.ADCEN), the clock
 * mode (CFGR2.CKMODE: PCLK / 2), the calibration (ADCAL, waited for), VREFEN and TSEN, the
 * channel and sampling time, ADEN and a wait for ADRDY, ADSTART and a wait for EOC. CASE:
 *   supply    VREFINT, then the temperature sensor: prints VDDA in mV and the temperature in
 *             degrees C as the HAL's __HAL_ADC_CALC_VREFANALOG_VOLTAGE and
 *             __HAL_ADC_CALC_TEMPERATURE compute them from the factory calibration values.
 *   scan      channels 0, 17, 18 in one sequence (SCANDIR: -DDOWN), 8-bit left-aligned with
 *             -DRES8: EOC after each, EOS after the last, the conversions back to back (each
 *             result read before the next: printing in between would overrun); prints them.
 *   autooff   CFGR1.AUTOFF: ADSTART without ADEN (HAL_ADC_Start in that mode) converts.
 *   timing    1,000 conversions of VREFINT at RES (-DRES=0..3) in continuous mode, counted
 *             in the EOC handler: the test measures how long they take.
 *   irq       continuous conversions of VREFINT, EOCIE and IRQ 12 (ADC_COMP), the core asleep
 *             in WFI between them; ADSTP after CONVERSIONS.
 *   overrun   two channels and DR not read: OVR, DR keeps the first result (OVRMOD 0).
 *   hsi_off   the asynchronous clock (CKMODE 0, the HSI16) left off: ADCAL never clears.
 *   info      the unique ID, the flash size and the calibration values from system memory.
 *   info_write a write to the factory data: a BusFault.
 *   pins      PIN_READS conversions of channel 3 (a pin: the run's --analog values), each
 *             printed, with DELAY_CYCLES of SysTick-timed wait before each when defined.
 *   trigger   conversions of CHANNEL started by a timer's TRGO (CFGR1.EXTEN rising, EXTSEL
 *             2: TIM2; with -DTIM22 4: TIM22) each PERIOD cycles (CR2.MMS update; MMS=1:
 *             enable, a conversion when CEN is set; MMS=3: channel 1's compare event);
 *             COMPARE=n sets channel n's CCR to PERIOD / 2, in PWM mode 2 with its output on
 *             (a rising edge at each match: -DTIM21: TIM21, with EXTSEL 1, its channel 2;
 *             EXTSEL 5 and 3: TIM2's channels 3 and 4; -DNO_OUTPUT: CCxE clear), counted in the
 *             core sleeps (-DBUSY: runs), each result printed (-DQUIET: nothing); ADSTART stays set
 *             between them; after CONVERSIONS, ADSTP and the count. EXTSEL=n: another source.
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_CR REG(0x40021000u)
#define RCC_APB2ENR REG(0x40021034u)
#define ADC_ISR REG(0x40012400u)
#define ADC_IER REG(0x40012404u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR1 REG(0x4001240Cu)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_SMPR REG(0x40012414u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR REG(0x40012440u)
#define ADC_CCR REG(0x40012708u)
#define VREFINT_CAL (*(volatile uint16_t *)0x1FF80078u)
#define TS_CAL1 (*(volatile uint16_t *)0x1FF8007Au)
#define TS_CAL2 (*(volatile uint16_t *)0x1FF8007Eu)
#define FLASH_SIZE (*(volatile uint16_t *)0x1FF8007Cu)
#define UID(n) REG(0x1FF80050u + ((n) == 2 ? 0x14u : 4u * (n)))
#define ADRDY 1u
#define EOC (1u << 2)
#define EOS (1u << 3)
#define OVR (1u << 4)
#define ADEN 1u
#define ADSTART (1u << 2)
#define ADSTP (1u << 4)
#define ADVREGEN (1u << 28)
#define ADCAL (1u << 31)
#ifndef TRIES
#define TRIES 20000 /* 0: wait for ever */
#endif

__attribute__((unused)) static void print_num(const char *label, long v)
{
    sh_write0(label);
    sh_write_int(v);
    sh_write0("\n");
}

/* HAL_ADC_Init, HAL_ADCEx_Calibration_Start, ADC_Enable: 0 when it went through. */
__attribute__((unused)) static int adc_up(uint32_t ckmode)
{
    RCC_APB2ENR |= 1u << 9; /* ADCEN */
    ADC_CFGR2 = ckmode << 30;
    ADC_CR |= ADVREGEN;
    ADC_CR |= ADCAL;
    int n = 0;
    while (ADC_CR & ADCAL)
        if (++n == TRIES)
            return 1;
    ADC_CCR |= (1u << 22) | (1u << 23); /* VREFEN, TSEN */
    ADC_SMPR = 7u;                      /* 160.5 ADC clock cycles */
    ADC_ISR = ADRDY;
    ADC_CR |= ADEN;
    while (!(ADC_ISR & ADRDY))
        ;
    return 0;
}

__attribute__((unused)) static uint32_t convert(uint32_t channels)
{
    ADC_CHSELR = channels;
    ADC_CR |= ADSTART;
    while (!(ADC_ISR & EOC))
        ;
    return ADC_DR;
}

static volatile uint32_t conversions;
static volatile uint16_t results[32]; /* the first 32 results (whatever CONVERSIONS is: the
                                         builds differ only in their constants) */

void IRQ12_Handler(void)
{
    if (ADC_ISR & EOC) {
        uint32_t dr = ADC_DR; /* clears EOC */
        if (conversions < 32u)
            results[conversions] = (uint16_t)dr;
        conversions++;
    }
}

int main(void)
{
#if CASE_supply
    if (adc_up(1u))
        return 1;
    uint32_t vref = convert(1u << 17);
    uint32_t ts = convert(1u << 18);
    long vdda = 3000L * VREFINT_CAL / (long)vref;
    /* __HAL_ADC_CALC_TEMPERATURE: the reading scaled to VDDA = 3.0 V, then the two points */
    long t = ((long)ts * vdda / 3000L - TS_CAL1) * (130 - 30) / (TS_CAL2 - TS_CAL1) + 30;
    print_num("vdda mV ", vdda);
    print_num("temp C ", t);
    return 0;
#endif

#if CASE_pins
    if (adc_up(1u))
        return 1;
    for (int i = 0; i < PIN_READS; i++) {
#ifdef DELAY_CYCLES
        SYST_RVR = DELAY_CYCLES - 1u;
        SYST_CVR = 0;
        SYST_CSR = 5u;
        while (!(SYST_CSR & (1u << 16)))
            ;
        SYST_CSR = 0;
#endif
        print_num("pin ", (long)convert(1u << 3));
    }
    return 0;
#endif

#if CASE_scan
    if (adc_up(1u))
        return 1;
#ifdef DOWN
    ADC_CFGR1 |= 1u << 2;
#endif
#ifdef RES8
    ADC_CFGR1 |= (2u << 3) | (1u << 5); /* 8 bits, left-aligned */
#endif
    ADC_CHSELR = (1u << 0) | (1u << 17) | (1u << 18);
    ADC_CR |= ADSTART;
    uint32_t dr[3];
    for (int i = 0; i < 3; i++) { /* back to back: each read before the next result */
        while (!(ADC_ISR & EOC))
            ;
        if (i < 2 && (ADC_ISR & EOS))
            return 2;
        dr[i] = ADC_DR;
    }
    if (!(ADC_ISR & EOS) || (ADC_CR & ADSTART) || (ADC_ISR & OVR))
        return 3;
    for (int i = 0; i < 3; i++)
        print_num("dr ", (long)dr[i]);
    return 0;
#endif

#if CASE_irq
    if (adc_up(1u))
        return 1;
    ADC_CHSELR = 1u << 17;
    ADC_CFGR1 |= 1u << 13; /* CONT */
    ADC_IER = EOC;
    NVIC_ISER = 1u << 12;
    ADC_CR |= ADSTART;
    while (conversions < CONVERSIONS)
        __asm__ volatile("wfi" ::: "memory");
    ADC_CR |= ADSTP;
    while (ADC_CR & ADSTART)
        ;
    print_num("conversions ", (long)conversions);
    return 0;
#endif

#if CASE_trigger
#ifdef TIM22
#define TIM 0x40011400u
#define TIM_CLOCK (RCC_APB2ENR |= 1u << 5)
#ifndef EXTSEL
#define EXTSEL 4u
#endif
#elif defined(TIM21)
#define TIM 0x40010800u
#define TIM_CLOCK (RCC_APB2ENR |= 1u << 2)
#else
#define TIM 0x40000000u
#define TIM_CLOCK (*(volatile uint32_t *)0x40021038u |= 1u) /* APB1ENR.TIM2EN */
#ifndef EXTSEL
#define EXTSEL 2u
#endif
#endif
#ifndef MMS
#define MMS 2u /* update */
#endif
    if (adc_up(1u))
        return 1;
    ADC_CHSELR = 1u << CHANNEL;
    ADC_CFGR1 |= (1u << 10) | (EXTSEL << 6); /* EXTEN: rising edges */
    ADC_IER = EOC;
    NVIC_ISER = 1u << 12;
    ADC_CR |= ADSTART;
    TIM_CLOCK;
    REG(TIM + 0x28u) = 0;            /* PSC */
    REG(TIM + 0x2Cu) = PERIOD - 1u;  /* ARR */
    REG(TIM + 0x04u) = MMS << 4;     /* CR2 */
#ifdef COMPARE /* channel COMPARE's output rising half a period in: PWM mode 2, CCxE */
    REG(TIM + 0x30u + 4u * COMPARE) = PERIOD / 2u;
    REG(TIM + (COMPARE <= 2u ? 0x18u : 0x1Cu)) |= 7u << (4u + 8u * (1u - COMPARE % 2u));
#ifndef NO_OUTPUT
    REG(TIM + 0x20u) |= 1u << (4u * (COMPARE - 1u));
#endif
#endif
    REG(TIM) = 1u;                   /* CEN */
    while (conversions < CONVERSIONS)
#ifdef BUSY /* the core awake, running, while the conversions go on */
        __asm__ volatile("nop" ::: "memory");
#else
        __asm__ volatile("wfi" ::: "memory");
#endif
    if (!(ADC_CR & ADSTART))
        return 2;
    ADC_CR |= ADSTP;
    while (ADC_CR & ADSTART)
        ;
    REG(TIM) = 0;
#ifdef QUIET /* nothing printed: the run's length is the conversions' (and 3 for a count off) */
    return conversions == CONVERSIONS ? 0 : 3;
#else
    for (uint32_t i = 0; i < conversions && i < 32u; i++)
        print_num("dr ", (long)results[i]);
    print_num("conversions ", (long)conversions);
    return 0;
#endif
#endif

#if CASE_autooff
    RCC_APB2ENR |= 1u << 9;
    ADC_CFGR2 = 1u << 30;
    ADC_CCR |= 1u << 22;
    ADC_CFGR1 |= 1u << 15; /* AUTOFF */
    if (convert(1u << 17) != VREFINT_CAL || (ADC_CR & ADEN))
        return 2;
    return 0;
#endif

#if CASE_timing
    if (adc_up(1u))
        return 1;
    ADC_CFGR1 |= (RES << 3) | (1u << 13); /* CONT */
    ADC_CHSELR = 1u << 17;
    ADC_IER = EOC;
    NVIC_ISER = 1u << 12;
    ADC_CR |= ADSTART;
    while (conversions < 1000u)
        __asm__ volatile("wfi" ::: "memory");
    ADC_CR |= ADSTP;
    return 0;
#endif

#if CASE_overrun
    if (adc_up(1u))
        return 1;
    ADC_CHSELR = (1u << 17) | (1u << 18);
    ADC_CR |= ADSTART;
    while (!(ADC_ISR & EOS))
        ;
    if (!(ADC_ISR & OVR))
        return 2;
    if (ADC_DR != VREFINT_CAL) /* the first result kept */
        return 3;
    ADC_ISR = OVR | EOS;
    return (ADC_ISR & (OVR | EOS | EOC)) ? 4 : 0;
#endif

#if CASE_hsi_off
    RCC_CR &= ~1u; /* HSI16 off (it is off after reset) */
    return adc_up(0u) == 1 ? 0 : 1;
#endif

#if CASE_info
    print_num("flash KiB ", FLASH_SIZE);
    print_num("vrefint_cal ", VREFINT_CAL);
    print_num("ts_cal1 ", TS_CAL1);
    print_num("ts_cal2 ", TS_CAL2);
    return (UID(0) | UID(1) | UID(2)) ? 0 : 1;
#endif

#if CASE_info_write
    UID(0) = 1u;
    return 0;
#endif
}
