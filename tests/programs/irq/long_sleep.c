/*
 * A core that sleeps (WFI) while TIM2's updates drive a DMA stream to GPIOA's BSRR (a
 * waveform on PA5, circular, no interrupt): events that could wake the core as far as the
 * simulator can tell (a write to another peripheral), which wake nothing here. TIM2 with PSC
 * 65535 and ARR ARR_VALUE (default 65535: an update every 134 s at the profile's 32 MHz). Prints
 * "asleep" before the sleep.
 *   RTC_WAKEUP  the RTC's wake-up timer (every WUT_SECONDS, default 1,000 s, on the LSE; or
 *               every WUT_TICKS of RTCCLK/2) interrupts (IRQ 2): the core wakes at each and
 *               sleeps again.
 *   NO_WAVE     no TIM2 and DMA: the core sleeps through no event but the RTC's.
 *   ADC_RING    instead of the wave, the ADC converts for ever into a circular DMA ring, with
 *               no interrupt (events the simulator knows cannot wake the core).
 */
#include "cm.h"
#include "semihost.h"
#include "stm32l0_dma.h"

#ifndef ARR_VALUE
#define ARR_VALUE 65535u
#endif

#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_AHBENR REG(0x40021030u)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_CSR REG(0x40021050u)
#define PWR_CR REG(0x40007000u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_BSRR 0x50000018u
#define TIM2 0x40000000u
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_WUTR REG(0x40002814u)
#define RTC_WPR REG(0x40002824u)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_PR REG(0x40010414u)
#define RCC_APB2ENR REG(0x40021034u)
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR1 REG(0x4001240Cu)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_CCR REG(0x40012708u)
#ifndef WUT_SECONDS
#define WUT_SECONDS 1000u
#endif

static const uint32_t wave[2] = {1u << 5, 1u << 21}; /* PA5 set, reset */

void IRQ2_Handler(void)
{
    RTC_ISR &= ~(1u << 10);        /* WUTF */
    EXTI_PR = 1u << 20;
}

int main(void)
{
#ifdef RTC_WAKEUP
    RCC_APB1ENR |= 1u << 28;       /* PWREN */
    PWR_CR |= 1u << 8;             /* DBP */
    RCC_CSR |= 1u << 8;            /* LSEON */
    while (!(RCC_CSR & (1u << 9)))
        ;
    RCC_CSR |= (1u << 16) | (1u << 18); /* RTCSEL: LSE, RTCEN */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    while (!(RTC_ISR & (1u << 2))) /* WUTWF */
        ;
#ifdef WUT_TICKS
    RTC_WUTR = WUT_TICKS - 1u;     /* every WUT_TICKS of RTCCLK/2 (16,384 a second) */
    RTC_CR = 3u;                   /* WUCKSEL: RTCCLK/2 */
#else
    RTC_WUTR = WUT_SECONDS - 1u;   /* every WUT_SECONDS (ck_spre) */
    RTC_CR = 4u;                   /* WUCKSEL: ck_spre */
#endif
    EXTI_IMR |= 1u << 20;
    EXTI_RTSR |= 1u << 20;
    RTC_CR |= (1u << 14) | (1u << 10); /* WUTIE, WUTE */
    NVIC_ISER = 1u << 2;
#endif
#if defined(ADC_RING)
    static volatile uint16_t ring[64];
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 0;                 /* channel 1: ADC */
    DMA_CPAR(1) = 0x40012440u;     /* ADC_DR */
    DMA_CMAR(1) = (uint32_t)ring;
    DMA_CNDTR(1) = 64u;
    DMA_CCR(1) = (1u << 10) | (1u << 8) | (1u << 7) | (1u << 5) | 1u; /* 16/16, MINC, CIRC */
    RCC_APB2ENR |= 1u << 9;        /* ADCEN */
    ADC_CFGR2 = 1u << 30;          /* CKMODE: PCLK/2 */
    ADC_CCR |= 1u << 22;           /* VREFEN */
    ADC_CHSELR = 1u << 17;         /* VREFINT */
    REG(0x40012414u) = 7u;         /* SMPR: 160.5 ADC clocks, ~92,000 conversions a second */
    ADC_CFGR1 = (1u << 13) | 3u;   /* CONT, DMACFG, DMAEN */
    ADC_CR |= 1u;                  /* ADEN */
    while (!(ADC_ISR & 1u))
        ;
    ADC_ISR = 1u;
    ADC_CR |= 1u << 2;             /* ADSTART */
#elif !defined(NO_WAVE)
    RCC_IOPENR |= 1u;              /* GPIOAEN */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 10)) | (1u << 10); /* PA5 an output */
    RCC_APB1ENR |= 1u;             /* TIM2EN */
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 8u << 4;           /* channel 2: TIM2_UP */
    DMA_CPAR(2) = GPIOA_BSRR;
    DMA_CMAR(2) = (uint32_t)wave;
    DMA_CNDTR(2) = 2u;
    DMA_CCR(2) = (2u << 10) | (2u << 8) | (1u << 7) | (1u << 5) | (1u << 4) | 1u; /* 32/32
                                                          bits, MINC, CIRC, DIR, EN */
    REG(TIM2 + 0x28u) = 65535u;    /* PSC */
    REG(TIM2 + 0x2Cu) = ARR_VALUE; /* ARR */
    REG(TIM2 + 0x14u) = 1u;        /* EGR.UG: the prescaler loaded */
    REG(TIM2 + 0x0Cu) = 1u << 8;   /* DIER.UDE */
    REG(TIM2 + 0x00u) |= 1u;       /* CR1.CEN */
#endif
    sh_write0("asleep\n");
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
}
