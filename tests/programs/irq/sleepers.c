/*
 * Firmware that sleeps (WFI) for good on the stm32l031 profile while a peripheral keeps
 * counting or converting with nothing that could ever wake the core: the run is a deadlock
 * (exit 5), not a run through device time until --run-for or --timeout. Prints "asleep" before
 * the sleep. CASE:
 *   wwdg      the window watchdog's clock on (RCC_APB1ENR.WWDGEN), the watchdog not started
 *             (WDGA clear) and EWI clear: its counter wraps every 128 counts for ever, EWIF
 *             set at each pass through 0x40 (-DEWI: EWI set, IRQ 0 left disabled in the NVIC).
 *   adc       continuous conversions of VREFINT (CFGR1.CONT), no interrupt enabled (IER 0;
 *             -DEOCIE: EOCIE, IRQ 12 left disabled in the NVIC).
 *   adc_dma   the same, each result read by DMA1 channel 1 (DMAEN, DMACFG circular) into a
 *             table of 8 by a circular channel with no interrupt enabled (-DTCIE: TCIE set,
 *             IRQ 9 left disabled in the NVIC).
 *   tim_dma   TIM2 counting (ARR 999) with UDE: at each update DMA1 channel 2 (TIM2_UP) reads
 *             CNT into a table of 8, circular, no interrupt enabled.
 *   adc_trig  conversions of VREFINT started by TIM2's TRGO (CR2.MMS update, ARR 999;
 *             CFGR1.EXTEN rising, EXTSEL 2), no interrupt enabled, no DMA.
 *   spi_dma   SPI1 a master (SSM, SSI), its frames fed from a table of 8 by DMA1 channel 3
 *             (SPI1_TX, TXDMAEN), circular, no interrupt enabled.
 *   usart_dma USART2 at 115200 baud sending a table of 8 bytes ("zzzzzzzz") fed by DMA1
 *             channel 4 (USART2_TX, CR3.DMAT), circular, no interrupt enabled: the console
 *             shows them until the run ends.
 *   usart_dma_rdr  the same with the channel writing RDR (read-only): TXE never drops, so
 *             the DMA serves the request at its own pace (MEM2MEM_CYCLES) for ever.
 *   slave     TIM2 counting (ARR 999), its TRGO the update (CR2.MMS), TIM21 in slave reset
 *             mode on it (SMCR TS ITR0, SMS 4), counting too; no interrupt, no DMA, no pin.
 */
#include "cm.h"
#include "semihost.h"
#include "stm32l0_dma.h"

#define RCC_APB1ENR REG(0x40021038u)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_AHBENR REG(0x40021030u)
#define WWDG_CFR REG(0x40002C04u)
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR1 REG(0x4001240Cu)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_SMPR REG(0x40012414u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR 0x40012440u
#define ADC_CCR REG(0x40012708u)
#define CONT (1u << 13)
#define TIM2 0x40000000u
#define TIM2_CR1 REG(TIM2 + 0x00u)
#define TIM2_DIER REG(TIM2 + 0x0Cu)
#define TIM2_ARR REG(TIM2 + 0x2Cu)
#define TIM2_CNT (TIM2 + 0x24u)

static volatile uint32_t table[8];

#if CASE_adc || CASE_adc_dma || CASE_adc_trig
static void adc_start(uint32_t cfgr1)
{
    RCC_APB2ENR |= 1u << 9;        /* ADCEN */
    ADC_CFGR2 = 1u << 30;          /* CKMODE: PCLK / 2 */
    ADC_CCR |= 1u << 22;           /* VREFEN */
    ADC_SMPR = 7u;
    ADC_CHSELR = 1u << 17;         /* VREFINT */
    ADC_CFGR1 = cfgr1;
    ADC_CR |= 1u;                  /* ADEN */
    while (!(ADC_ISR & 1u))        /* ADRDY */
        ;
    ADC_CR |= 1u << 2;             /* ADSTART */
}
#endif

int main(void)
{
#if CASE_wwdg
    RCC_APB1ENR |= 1u << 11;       /* WWDGEN: the counter free-running, not started */
#ifdef EWI
    WWDG_CFR |= 1u << 9;           /* EWI, IRQ 0 not enabled in the NVIC */
#endif
#elif CASE_adc
    adc_start(CONT);
#ifdef EOCIE
    REG(0x40012404u) = 1u << 2;    /* ADC_IER: EOCIE */
#endif
#elif CASE_adc_dma
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 0;                 /* channel 1: ADC */
    DMA_CPAR(1) = ADC_DR;
    DMA_CMAR(1) = (uint32_t)table;
    DMA_CNDTR(1) = 8u;
#ifdef TCIE
    DMA_CCR(1) = (2u << 10) | (1u << 8) | (1u << 7) | (1u << 5) | (1u << 1) | 1u;
#else
    DMA_CCR(1) = (2u << 10) | (1u << 8) | (1u << 7) | (1u << 5) | 1u; /* 32/16 bits, MINC,
                                                                      CIRC, EN */
#endif
    adc_start(CONT | 1u | (1u << 1)); /* DMAEN, DMACFG: circular */
#elif CASE_tim_dma
    RCC_APB1ENR |= 1u;             /* TIM2EN */
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 8u << 4;           /* channel 2: TIM2_UP */
    DMA_CPAR(2) = TIM2_CNT;
    DMA_CMAR(2) = (uint32_t)table;
    DMA_CNDTR(2) = 8u;
    DMA_CCR(2) = (2u << 10) | (2u << 8) | (1u << 7) | (1u << 5) | 1u; /* 32/32 bits, MINC,
                                                                      CIRC, EN */
    TIM2_ARR = 999u;
    TIM2_DIER = 1u << 8;           /* UDE */
    TIM2_CR1 |= 1u;                /* CEN */
#elif CASE_spi_dma
    RCC_APB2ENR |= 1u << 12;       /* SPI1EN */
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 1u << 8;           /* channel 3: SPI1_TX */
    DMA_CPAR(3) = 0x4001300Cu;     /* SPI1_DR */
    DMA_CMAR(3) = (uint32_t)table;
    DMA_CNDTR(3) = 8u;
    DMA_CCR(3) = (2u << 10) | (1u << 7) | (1u << 5) | (1u << 4) | 1u; /* 32/8 bits, MINC,
                                                                      CIRC, DIR, EN */
    REG(0x40013004u) = 2u;         /* CR2: TXDMAEN */
    REG(0x40013000u) = (1u << 9) | (1u << 8) | (1u << 6) | (1u << 2); /* SSM, SSI, SPE,
                                                                       MSTR */
#elif CASE_usart_dma || CASE_usart_dma_rdr
    for (uint32_t n = 0; n < 8u; n++)
        table[n] = 'z';
    RCC_APB1ENR |= 1u << 17;       /* USART2EN */
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 4u << 12;          /* channel 4: USART2_TX */
#if CASE_usart_dma_rdr
    DMA_CPAR(4) = 0x40004424u;     /* USART2_RDR (read-only): TXE is never cleared */
#else
    DMA_CPAR(4) = 0x40004428u;     /* USART2_TDR */
#endif
    DMA_CMAR(4) = (uint32_t)table;
    DMA_CNDTR(4) = 8u;
    DMA_CCR(4) = (2u << 10) | (1u << 7) | (1u << 5) | (1u << 4) | 1u; /* 32/8 bits, MINC,
                                                                      CIRC, DIR, EN */
    sh_write0("asleep\n");
    REG(0x4000440Cu) = 278u;       /* BRR: 32 MHz / 115200 */
    REG(0x40004408u) = 1u << 7;    /* CR3: DMAT */
    REG(0x40004400u) = (1u << 3) | 1u; /* CR1: TE, UE */
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
#elif CASE_slave
    RCC_APB1ENR |= 1u;             /* TIM2EN */
    RCC_APB2ENR |= 1u << 2;        /* TIM21EN */
    TIM2_ARR = 999u;
    REG(TIM2 + 0x04u) = 2u << 4;   /* CR2.MMS: update */
    REG(0x4001082Cu) = 0xFFFFu;    /* TIM21 ARR */
    REG(0x40010808u) = 4u;         /* TIM21 SMCR: TS 0 (ITR0: TIM2), SMS 4: reset mode */
    REG(0x40010800u) |= 1u;        /* TIM21 CEN */
    TIM2_CR1 |= 1u;                /* CEN */
#elif CASE_adc_trig
    RCC_APB1ENR |= 1u;             /* TIM2EN */
    TIM2_ARR = 999u;
    REG(TIM2 + 0x04u) = 2u << 4;   /* CR2.MMS: update */
    adc_start((1u << 10) | (2u << 6)); /* EXTEN rising, EXTSEL 2: TIM2_TRGO */
    TIM2_CR1 |= 1u;                /* CEN */
#endif
    sh_write0("asleep\n");
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
}
