/*
 * A peripheral of the stm32l031 whose interrupt is enabled in the peripheral, its flag rising
 * again and again (something else clears it, or its events go on with it set), while the core
 * sleeps. Whether those events can wake the core is the NVIC's (and SCR's) to say: the line
 * disabled there, a WFI sleeps for good (a deadlock, exit 5); the line enabled, the handler
 * runs. Prints "asleep" before the sleep and "woken" after a wake-up (then exits 0). STREAM:
 *   CASE_adc       continuous conversions of VREFINT (CFGR1.CONT) with EOCIE, each result
 *                  read by DMA1 channel 1 (circular, no DMA interrupt): the read clears EOC,
 *                  so EOC (and IRQ 12's line) rises at every conversion.
 *   CASE_tim21     TIM21 capturing the LSE on TI1 (OR.TI1_RMP LSE, CC1S TI1) with CC1IE: a
 *                  capture at each rising edge of the 32,768 Hz wave, IRQ 20.
 *   CASE_spi       SPI1 a master sending a table for ever through DMA1 channel 3 (SPI1_TX,
 *                  circular), each frame received read by channel 2 (SPI1_RX, circular), with
 *                  RXNEIE: the read clears RXNE, so RXNE (and IRQ 25's line) rises at every
 *                  frame (PCLK / 256: one every 2,048 cycles).
 *   CASE_usart     USART2 at 115200 baud sending a table of '.' for ever through DMA1 channel 4
 *                  (USART2_TX, circular) with TXEIE: the DMA's write clears TXE, so TXE (and
 *                  IRQ 28's line) rises at every byte (the console shows the dots).
 * HOW (default: the line disabled in the NVIC, WFI: a deadlock at once):
 *   NVIC           the line enabled: the handler runs (it disables the peripheral's
 *                  interrupt) and wakes the WFI.
 *   PRIMASK        the line enabled, WFI with PRIMASK set: the pend wakes it (not taken).
 *   HANDLER        the line enabled at the lowest priority, WFI in the SVCall handler (priority
 *                  0): the interrupt cannot preempt it, so nothing wakes it: a deadlock.
 *   SEVONPEND      the line disabled, SCR.SEVONPEND, WFE until the IRQ is pending: its first
 *                  pend is the wake-up event.
 *   EXTI_EVENT     the line disabled, the RTC's wake-up timer (every 0.98 ms, on the LSE)
 *                  an event on EXTI line 20 (EMR, not IMR): WFE until WUTF, while the stream
 *                  goes on.
 */
#include "cm.h"
#include "semihost.h"
#include "stm32l0_dma.h"

#define RCC_APB1ENR REG(0x40021038u)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_AHBENR REG(0x40021030u)
#define RCC_CSR REG(0x40021050u)
#define PWR_CR REG(0x40007000u)
#define ADC_ISR REG(0x40012400u)
#define ADC_IER REG(0x40012404u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR1 REG(0x4001240Cu)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_SMPR REG(0x40012414u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_CCR REG(0x40012708u)
#define TIM21 0x40010800u
#define SPI1_CR1 REG(0x40013000u)
#define SPI1_CR2 REG(0x40013004u)
#define SPI1_DR 0x4001300Cu
#define RTC_TR 0x40002800u
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_WUTR REG(0x40002814u)
#define RTC_WPR REG(0x40002824u)
#define EXTI_EMR REG(0x40010404u)
#define EXTI_RTSR REG(0x40010408u)

#if CASE_adc
#define IRQ 12u
#elif CASE_tim21
#define IRQ 20u
#elif CASE_spi
#define IRQ 25u
#elif CASE_usart
#define IRQ 28u
#else
#error "CASE_adc, CASE_tim21, CASE_spi or CASE_usart"
#endif

static volatile uint32_t table[8], received[8];
static volatile uint32_t taken;

static void peripheral_interrupt_off(void)
{
#if CASE_adc
    ADC_IER = 0u;
#elif CASE_tim21
    REG(TIM21 + 0x0Cu) = 0u;       /* DIER */
#elif CASE_spi
    SPI1_CR2 &= ~(1u << 6);        /* RXNEIE */
#else
    REG(0x40004400u) &= ~(1u << 7); /* USART2_CR1.TXEIE */
#endif
}

void IRQ12_Handler(void) { peripheral_interrupt_off(); taken++; }
void IRQ20_Handler(void) { peripheral_interrupt_off(); taken++; }
void IRQ25_Handler(void) { peripheral_interrupt_off(); taken++; }
void IRQ28_Handler(void) { peripheral_interrupt_off(); taken++; }

static void lse_on(void)
{
    RCC_APB1ENR |= 1u << 28;       /* PWREN */
    PWR_CR |= 1u << 8;             /* DBP: the LSE is in the backup domain */
    RCC_CSR |= 1u << 8;            /* LSEON */
    while (!(RCC_CSR & (1u << 9))) /* LSERDY */
        ;
}

static void stream(void)
{
#if CASE_adc
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 0;                 /* channel 1: ADC */
    DMA_CPAR(1) = 0x40012440u;     /* ADC_DR */
    DMA_CMAR(1) = (uint32_t)table;
    DMA_CNDTR(1) = 8u;
    DMA_CCR(1) = (2u << 10) | (1u << 8) | (1u << 7) | (1u << 5) | 1u; /* 32/16 bits, MINC,
                                                                      CIRC, EN */
    RCC_APB2ENR |= 1u << 9;        /* ADCEN */
    ADC_CFGR2 = 1u << 30;          /* CKMODE: PCLK / 2 */
    ADC_CCR |= 1u << 22;           /* VREFEN */
    ADC_SMPR = 7u;
    ADC_CHSELR = 1u << 17;         /* VREFINT */
    ADC_CFGR1 = (1u << 13) | 3u;   /* CONT, DMACFG (circular), DMAEN */
    ADC_IER = 1u << 2;             /* EOCIE */
    ADC_CR |= 1u;                  /* ADEN */
    while (!(ADC_ISR & 1u))        /* ADRDY */
        ;
    ADC_ISR = 1u;                  /* (ADRDY cleared) */
    ADC_CR |= 1u << 2;             /* ADSTART */
#elif CASE_tim21
    lse_on();
    RCC_APB2ENR |= 1u << 2;        /* TIM21EN */
    REG(TIM21 + 0x50u) = 4u << 2;  /* OR.TI1_RMP: the LSE */
    REG(TIM21 + 0x18u) = 1u;       /* CCMR1.CC1S: input, TI1 */
    REG(TIM21 + 0x20u) = 1u;       /* CCER.CC1E: capture enabled, rising edges */
    REG(TIM21 + 0x0Cu) = 1u << 1;  /* DIER.CC1IE */
    REG(TIM21 + 0x00u) = 1u;       /* CR1.CEN */
#elif CASE_spi
    RCC_APB2ENR |= 1u << 12;       /* SPI1EN */
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = (1u << 4) | (1u << 8); /* channel 2: SPI1_RX, channel 3: SPI1_TX */
    DMA_CPAR(2) = SPI1_DR;
    DMA_CMAR(2) = (uint32_t)received;
    DMA_CNDTR(2) = 8u;
    DMA_CCR(2) = (2u << 10) | (1u << 7) | (1u << 5) | 1u; /* 32/8 bits, MINC, CIRC, EN */
    DMA_CPAR(3) = SPI1_DR;
    DMA_CMAR(3) = (uint32_t)table;
    DMA_CNDTR(3) = 8u;
    DMA_CCR(3) = (2u << 10) | (1u << 7) | (1u << 5) | (1u << 4) | 1u; /* 32/8 bits, MINC,
                                                                      CIRC, DIR, EN */
    SPI1_CR2 = (1u << 6) | 3u;     /* RXNEIE, TXDMAEN, RXDMAEN */
    /* SSM, SSI, SPE, BR 7 (PCLK / 256: a frame in 2,048 cycles, the core asleep), MSTR */
    SPI1_CR1 = (1u << 9) | (1u << 8) | (1u << 6) | (7u << 3) | (1u << 2);
#else
    for (uint32_t n = 0; n < 8u; n++)
        table[n] = '.';
    RCC_APB1ENR |= 1u << 17;       /* USART2EN */
    RCC_AHBENR |= 1u;              /* DMAEN */
    DMA_CSELR = 4u << 12;          /* channel 4: USART2_TX */
    DMA_CPAR(4) = 0x40004428u;     /* USART2_TDR */
    DMA_CMAR(4) = (uint32_t)table;
    DMA_CNDTR(4) = 8u;
    DMA_CCR(4) = (2u << 10) | (1u << 7) | (1u << 5) | (1u << 4) | 1u; /* 32/8 bits, MINC,
                                                                      CIRC, DIR, EN */
    REG(0x4000440Cu) = 278u;       /* BRR: 32 MHz / 115200 */
    REG(0x40004408u) = 1u << 7;    /* CR3: DMAT */
    REG(0x40004400u) = (1u << 7) | (1u << 3) | 1u; /* CR1: TXEIE, TE, UE */
#endif
}

#ifdef HANDLER
void SVC_Handler(void)
{
    __asm__ volatile("wfi" ::: "memory"); /* the interrupt cannot preempt SVCall */
    sh_write0("woken\n");
}
#endif

int main(void)
{
#ifdef EXTI_EVENT
    lse_on();
    RCC_CSR |= (1u << 16) | (1u << 18); /* RTCSEL: LSE, RTCEN */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_CR &= ~(1u << 10);         /* WUTE off */
    while (!(RTC_ISR & (1u << 2))) /* WUTWF */
        ;
    RTC_WUTR = 15u;                /* 16 counts of RTCCLK / 2: every 0.98 ms */
    /* WUCKSEL RTCCLK / 2, WUTE; WUTIE (it gates the line to the EXTI), IRQ 2 not enabled */
    RTC_CR = (RTC_CR & ~7u) | 3u | (1u << 14) | (1u << 10);
    EXTI_RTSR |= 1u << 20;
    EXTI_EMR |= 1u << 20;          /* the wake-up an event, not an interrupt */
#endif
    stream();
    NVIC_ICPR = 1u << IRQ;         /* (a pend before the sleep forgotten: the next one wakes) */
#if defined(NVIC) || defined(PRIMASK) || defined(HANDLER)
    set_irq_priority(IRQ, 0xC0u);
    NVIC_ISER = 1u << IRQ;
#endif
    sh_write0("asleep\n");
#if defined(SEVONPEND)
    SCB_SCR = 0x10u;
    while (!(NVIC_ISPR & (1u << IRQ)))
        __asm__ volatile("wfe" ::: "memory");
#elif defined(EXTI_EVENT)
    while (!(RTC_ISR & (1u << 10)))  /* WUTF */
        __asm__ volatile("wfe" ::: "memory");
#elif defined(PRIMASK)
    __asm__ volatile("cpsid i" ::: "memory");
    while (!(NVIC_ISPR & (1u << IRQ)))
        __asm__ volatile("wfi" ::: "memory");
#elif defined(HANDLER)
    __asm__ volatile("svc 0" ::: "memory");
#else
    while (!taken)
        __asm__ volatile("wfi" ::: "memory");
#endif
    sh_write0("woken\n");
    return 0;
}
