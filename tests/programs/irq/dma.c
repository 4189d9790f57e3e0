/*
 * The STM32L0's DMA1 (RM0377 section 11) as STM32CubeL0's HAL_DMA programs it, on the
 * stm32l031 profile (32 MHz). CASE:
 *   copy      memory to memory: 16 words from flash to SRAM (MEM2MEM), polled for TCIF; then 8
 *             bytes into 32-bit words (PSIZE 8, MSIZE 32: zero-extended); prints both checks.
 *   tx        USART2 (115200 baud) sends a 26-byte line by DMA (channel 4, CSELR 4, CR3.DMAT):
 *             the DMA's transfer-complete interrupt (IRQ 11), then the USART's TC, polled;
 *             prints when each came, in SysTick-free DWT-less cycles: CNDTR's progress.
 *   rx        USART2 receives 6 bytes by DMA (channel 5, CSELR 4, CR3.DMAR) from the console
 *             input, polled for TCIF, and prints them.
 *   adc       the ADC converts VREFINT and the temperature sensor (channels 17, 18) by DMA
 *             (channel 1, CSELR 0, CFGR1.DMAEN, circular, HTIE and TCIE), continuously: three
 *             rounds of the two results, counted in the interrupt (IRQ 9), then stops.
 *             -DONESHOT: DMACFG clear (one-shot): after the first round the ADC stops (no
 *             more requests, no overrun); waits for a round, then a while.
 *   error     a memory-to-memory copy to an address nothing answers: TEIF, EN cleared.
 *   locked    CNDTR written while the channel is on: ignored (listed); exit 0 if it still
 *             reads what it was.
 *   reenable  a copy done, EN cleared: CNDTR reads 0; enabled again unprogrammed: nothing
 *             moves (TCIF stays clear).
 *   partial   USART2 receives by DMA into 10 bytes from an input of 3; the channel disabled
 *             after a while: CNDTR reads the 7 left.
 *   teie      the error case with TEIE: its interrupt (IRQ 10) comes once.
 *   ahbrst    a copy's TCIF raised with PRIMASK set (IRQ 10 pending), then the DMA reset by
 *             RCC_AHBRSTR: its flags and line drop; unmasked, the handler runs once.
 *   runaway   a USART2 TX channel whose CPAR is an SRAM word (TXE never clears): 1000 items,
 *             served 4 at once, then one every 4 cycles as time passes; polled for TCIF.
 *   code      a function in SRAM called (1), then new code copied over it by DMA: called
 *             again, the new code runs (2).
 *   factory   a copy into the factory data (read-only system memory): TEIF, no core fault.
 *   align     a copy from CPAR one byte past a word, PSIZE 32: the word there (aligned down).
 *   lpuart    LPUART1 (LPUART1_BRR for 115200 baud) sends the tx case's line through channel 7
 *             (CSELR 5), polled for TCIF then the port's TC.
 *   timing    a 64-item copy timed with SysTick: prints the cycles from EN to TCIF seen.
 *   rccpoll   a 1000-item copy waited for with an RCC register written in the loop: it ends
 *             as without (4,000 cycles).
 * With NO_CLOCK the DMA's RCC clock is never turned on.
 */
#include "cm.h"
#include "semihost.h"
#include "stm32l0_dma.h"

#define RCC_AHBENR REG(0x40021030u)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_IOPENR REG(0x4002102Cu)
#define USART2_CR1 REG(0x40004400u)
#define USART2_CR3 REG(0x40004408u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_RDR_ADDR 0x40004424u
#define USART2_TDR_ADDR 0x40004428u
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR1 REG(0x4001240Cu)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_SMPR REG(0x40012414u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR_ADDR 0x40012440u
#define ADC_CCR REG(0x40012708u)
#define VREFINT_CAL (*(volatile uint16_t *)0x1FF80078u)
#define TS_CAL1 (*(volatile uint16_t *)0x1FF8007Au)

#define EN (1u << 0)
#define TCIE (1u << 1)
#define HTIE (1u << 2)
#define DIR (1u << 4)
#define CIRC (1u << 5)
#define MINC (1u << 7)
#define PSIZE_16 (1u << 8)
#define MSIZE_16 (1u << 10)
#define MSIZE_32 (2u << 10)
#define PSIZE_32 (2u << 8)
#define MEM2MEM (1u << 14)
#define TCIF(n) (2u << (4u * ((n) - 1u)))
#define HTIF(n) (4u << (4u * ((n) - 1u)))
#define TEIF(n) (8u << (4u * ((n) - 1u)))

static void print_num(const char *label, uint32_t v)
{
    sh_write0(label);
    sh_write_int((long)v);
}

__attribute__((unused)) static const uint32_t source[16] = {
    1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597};
__attribute__((unused)) static const uint8_t bytes[8] = {0x81, 2, 3, 4, 5, 6, 7, 0xFF};
static volatile uint32_t words[16];
static volatile uint8_t line[32];
static volatile uint16_t results[4];
static volatile uint32_t half_rounds, full_rounds;

void IRQ9_Handler(void) /* DMA1_Channel1: HAL_DMA_IRQHandler */
{
    if (DMA_ISR & HTIF(1)) {
        DMA_IFCR = HTIF(1);
        half_rounds++;
    }
    if (DMA_ISR & TCIF(1)) {
        DMA_IFCR = TCIF(1);
        full_rounds++;
    }
}

static volatile uint32_t tx_done, errors, completions;

void IRQ10_Handler(void) /* DMA1_Channel2_3 */
{
    if (DMA_ISR & TEIF(3))
        errors++;
    if (DMA_ISR & TCIF(2))
        completions++;
    completions += 0x100; /* entries */
    if (DMA_ISR & (0xFFu << 4)) /* as HAL_DMA_IRQHandler: only flags that are set */
        DMA_IFCR = 0xFFu << 4;
}

__attribute__((section(".data.ramfn"), noinline, unused)) static int ram_fn(void) { return 1; }
__attribute__((unused, aligned(4))) static const uint16_t returns_two[2] = {0x2002, 0x4770};
__attribute__((unused)) static volatile uint32_t sink;

void IRQ11_Handler(void) /* DMA1_Channel4_5_6_7 */
{
    if (DMA_ISR & TCIF(4)) {
        DMA_IFCR = 1u << 12; /* CGIF4 */
        tx_done++;
    }
}

__attribute__((unused)) static void usart2_init(uint32_t cr1_extra)
{
    RCC_APB1ENR |= 1u << 17;
    USART2_BRR = 32000000u / 115200u;
    USART2_CR1 = cr1_extra | 1u; /* UE */
}

int main(void)
{
#ifndef NO_CLOCK
    RCC_AHBENR |= 1u; /* DMAEN */
#endif
#if CASE_copy
    DMA_CPAR(2) = (uint32_t)source; /* MEM2MEM: CPAR is the source with DIR 0 */
    DMA_CMAR(2) = (uint32_t)words;
    DMA_CNDTR(2) = 16;
    DMA_CCR(2) = MEM2MEM | MINC | (1u << 6) /* PINC */ | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & TCIF(2)))
        ;
    uint32_t ok = DMA_CNDTR(2) == 0;
    for (int i = 0; i < 16; i++)
        ok &= words[i] == source[i];
    print_num("words ", ok);
    DMA_CCR(2) = 0;
    DMA_IFCR = 0xFFFFFFFu;
    DMA_CPAR(2) = (uint32_t)bytes;
    DMA_CNDTR(2) = 8;
    DMA_CCR(2) = MEM2MEM | MINC | (1u << 6) | MSIZE_32 | EN; /* PSIZE 8 */
    while (!(DMA_ISR & TCIF(2)))
        ;
    print_num(" widened ", words[0] == 0x81u && words[7] == 0xFFu && words[8] == 55u);
    sh_write0("\n");
    return 0;
#elif CASE_tx
    static const char text[] = "sent by DMA, 26 bytes..\r\n";
    usart2_init(1u << 3); /* TE */
    for (unsigned i = 0; i < sizeof text - 1; i++)
        line[i] = (uint8_t)text[i];
    DMA_CSELR = 4u << 12;                /* channel 4: USART2_TX */
    DMA_CPAR(4) = USART2_TDR_ADDR;
    DMA_CMAR(4) = (uint32_t)line;
    DMA_CNDTR(4) = sizeof text - 1;
    DMA_CCR(4) = DIR | MINC | TCIE;      /* memory to peripheral, bytes */
    NVIC_ISER = 1u << 11;
    DMA_CCR(4) |= EN;
    USART2_CR3 |= 1u << 7;               /* DMAT */
    while (!tx_done)
        __asm__ volatile("wfi");
    uint32_t left_at_tc = DMA_CNDTR(4);
    while (!(USART2_ISR & (1u << 6)))    /* TC: the last frame out */
        ;
    print_num("dma done, left ", left_at_tc);
    sh_write0("\n");
    return 0;
#elif CASE_rx
    usart2_init(1u << 2); /* RE */
    DMA_CSELR = 4u << 16;                /* channel 5: USART2_RX */
    DMA_CPAR(5) = USART2_RDR_ADDR;
    DMA_CMAR(5) = (uint32_t)line;
    DMA_CNDTR(5) = 6;
    DMA_CCR(5) = MINC | EN;              /* peripheral to memory, bytes */
    USART2_CR3 |= 1u << 6;               /* DMAR */
    while (!(DMA_ISR & TCIF(5)))
        ;
    line[6] = 0;
    sh_write0("got ");
    sh_write0((const char *)line);
    sh_write0("\n");
    return 0;
#elif CASE_adc
    RCC_APB2ENR |= 1u << 9;              /* ADCEN */
    ADC_CFGR2 = 1u << 30;                /* PCLK / 2 */
    ADC_CR |= 1u << 31;                  /* ADCAL */
    while (ADC_CR & (1u << 31))
        ;
    ADC_CCR |= (1u << 22) | (1u << 23);  /* VREFEN, TSEN */
    ADC_SMPR = 7u;
    ADC_CR |= 1u;
    while (!(ADC_ISR & 1u))
        ;
    ADC_CHSELR = (1u << 17) | (1u << 18);
#ifdef ONESHOT
    ADC_CFGR1 |= (1u << 13) | 1u;        /* CONT, DMAEN */
#else
    ADC_CFGR1 |= (1u << 13) | 3u;        /* CONT, DMACFG (circular), DMAEN */
#endif
    DMA_CSELR = 0;                       /* channel 1: ADC */
    DMA_CPAR(1) = ADC_DR_ADDR;
    DMA_CMAR(1) = (uint32_t)results;
    DMA_CNDTR(1) = 4;
    DMA_CCR(1) = CIRC | MINC | PSIZE_16 | MSIZE_16 | TCIE | HTIE | EN;
    NVIC_ISER = 1u << 9;
    ADC_CR |= 1u << 2;                   /* ADSTART */
#ifdef ONESHOT
    while (full_rounds < 1)
        __asm__ volatile("wfi");
    for (volatile int i = 0; i < 5000; i++) /* long enough for three more rounds */
        ;
#else
    while (full_rounds < 3)
        __asm__ volatile("wfi");
#endif
    ADC_CR |= 1u << 4;                   /* ADSTP */
    DMA_CCR(1) &= ~EN;
    print_num("rounds ", full_rounds);
    print_num(" halves ", half_rounds);
    print_num(" vref ", results[0] == VREFINT_CAL && results[2] == VREFINT_CAL);
    print_num(" temp ", results[1] == TS_CAL1 && results[3] == TS_CAL1);
    print_num(" ovr ", ADC_ISR >> 4 & 1u);
    sh_write0("\n");
    return 0;
#elif CASE_error
    DMA_CPAR(3) = (uint32_t)source;
    DMA_CMAR(3) = 0x30000000u;           /* nothing there */
    DMA_CNDTR(3) = 4;
    DMA_CCR(3) = MEM2MEM | MINC | (1u << 6) | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & (TEIF(3) | TCIF(3))))
        ;
    print_num("teif ", (DMA_ISR & TEIF(3)) != 0);
    print_num(" en ", DMA_CCR(3) & EN);
    sh_write0("\n");
    return 0;
#elif CASE_reenable
    DMA_CPAR(2) = (uint32_t)source;
    DMA_CMAR(2) = (uint32_t)words;
    DMA_CNDTR(2) = 4;
    DMA_CCR(2) = MEM2MEM | MINC | (1u << 6) | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & TCIF(2)))
        ;
    DMA_CCR(2) &= ~EN;
    print_num("cndtr ", DMA_CNDTR(2));
    DMA_IFCR = 0xFFu << 4;
    words[0] = 0;
    DMA_CCR(2) |= EN;
    for (volatile int i = 0; i < 200; i++)
        ;
    print_num(" again ", (DMA_ISR & TCIF(2)) != 0 || words[0] != 0);
    sh_write0("\n");
    return 0;
#elif CASE_partial
    usart2_init(1u << 2);
    DMA_CSELR = 4u << 16;
    DMA_CPAR(5) = USART2_RDR_ADDR;
    DMA_CMAR(5) = (uint32_t)line;
    DMA_CNDTR(5) = 10;
    DMA_CCR(5) = MINC | EN;
    USART2_CR3 |= 1u << 6;
    for (volatile int i = 0; i < 20000; i++) /* 3 frames come, then no more */
        ;
    DMA_CCR(5) &= ~EN;
    print_num("left ", DMA_CNDTR(5));
    sh_write0("\n");
    return 0;
#elif CASE_teie
    NVIC_ISER = 1u << 10;
    DMA_CPAR(3) = (uint32_t)source;
    DMA_CMAR(3) = 0x30000000u;
    DMA_CNDTR(3) = 4;
    DMA_CCR(3) = MEM2MEM | MINC | (1u << 6) | PSIZE_32 | MSIZE_32 | (1u << 3) | EN;
    while (!errors)
        __asm__ volatile("wfi");
    print_num("errors ", errors);
    sh_write0("\n");
    return 0;
#elif CASE_ahbrst
    __asm__ volatile("cpsid i");
    NVIC_ISER = 1u << 10;
    DMA_CPAR(2) = (uint32_t)source;
    DMA_CMAR(2) = (uint32_t)words;
    DMA_CNDTR(2) = 4;
    DMA_CCR(2) = MEM2MEM | MINC | (1u << 6) | PSIZE_32 | MSIZE_32 | TCIE | EN;
    while (!(DMA_ISR & TCIF(2)))
        ;
    REG(0x40021020u) |= 1u;            /* RCC_AHBRSTR: DMARST */
    REG(0x40021020u) &= ~1u;
    uint32_t isr = DMA_ISR;
    __asm__ volatile("cpsie i");
    for (volatile int i = 0; i < 100; i++)
        ;
    print_num("isr ", isr);
    print_num(" entries ", completions >> 8);
    sh_write0("\n");
    return 0;
#elif CASE_runaway
    usart2_init(1u << 3);
    DMA_CSELR = 4u << 12;
    DMA_CPAR(4) = (uint32_t)&sink;     /* not TDR: the request never drops */
    DMA_CMAR(4) = (uint32_t)line;
    DMA_CNDTR(4) = 1000;
    DMA_CCR(4) = DIR | EN;
    USART2_CR3 |= 1u << 7;
    while (!(DMA_ISR & TCIF(4)))
        ;
    print_num("moved ", 1000u - DMA_CNDTR(4));
    sh_write0("\n");
    return 0;
#elif CASE_code
    int (*volatile call)(void) = ram_fn;
    int before = call();
    DMA_CPAR(2) = (uint32_t)returns_two;
    DMA_CMAR(2) = (uint32_t)ram_fn & ~1u;
    DMA_CNDTR(2) = 2;
    DMA_CCR(2) = MEM2MEM | MINC | (1u << 6) | PSIZE_16 | MSIZE_16 | EN;
    while (!(DMA_ISR & TCIF(2)))
        ;
    print_num("before ", (uint32_t)before);
    print_num(" after ", (uint32_t)call());
    sh_write0("\n");
    return 0;
#elif CASE_factory
    DMA_CPAR(2) = (uint32_t)source;
    DMA_CMAR(2) = 0x1FF80078u;
    DMA_CNDTR(2) = 1;
    DMA_CCR(2) = MEM2MEM | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & (TEIF(2) | TCIF(2))))
        ;
    print_num("teif ", (DMA_ISR & TEIF(2)) != 0);
    sh_write0("\n");
    return 0;
#elif CASE_align
    DMA_CPAR(2) = (uint32_t)&source[3] + 1u;
    DMA_CMAR(2) = (uint32_t)words;
    DMA_CNDTR(2) = 1;
    DMA_CCR(2) = MEM2MEM | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & TCIF(2)))
        ;
    print_num("word ", words[0]);
    sh_write0("\n");
    return 0;
#elif CASE_lpuart
    static const char text[] = "sent by DMA on LPUART1\r\n";
    for (unsigned i = 0; i < sizeof text - 1; i++)
        line[i] = (uint8_t)text[i];
    RCC_APB1ENR |= 1u << 18;                      /* LPUART1EN */
    REG(0x4000480Cu) = (uint32_t)(256ull * 32000000u / 115200u); /* LPUART1_BRR */
    REG(0x40004800u) = (1u << 3) | 1u;            /* CR1: TE, UE */
    DMA_CSELR = 5u << 24;                         /* channel 7: LPUART1_TX */
    DMA_CPAR(7) = 0x40004828u;                    /* LPUART1_TDR */
    DMA_CMAR(7) = (uint32_t)line;
    DMA_CNDTR(7) = sizeof text - 1;
    DMA_CCR(7) = DIR | MINC | EN;
    REG(0x40004808u) |= 1u << 7;                  /* CR3: DMAT */
    while (!(DMA_ISR & TCIF(7)))
        ;
    while (!(REG(0x4000481Cu) & (1u << 6)))       /* ISR: TC */
        ;
    return 0;
#elif CASE_timing
    static uint32_t src64[64], dst64[64];
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u;                                /* the core's clock, no interrupt */
    DMA_CPAR(2) = (uint32_t)src64;
    DMA_CMAR(2) = (uint32_t)dst64;
    DMA_CNDTR(2) = 64;
    uint32_t before = SYST_CVR;
    DMA_CCR(2) = MEM2MEM | MINC | (1u << 6) | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & TCIF(2)))
        ;
    uint32_t after = SYST_CVR;
    print_num("cycles ", (before - after) & 0xFFFFFFu);
    sh_write0("\n");
    return 0;
#elif CASE_rccpoll
    static uint32_t big[1000];
    DMA_CPAR(2) = (uint32_t)big;
    DMA_CMAR(2) = (uint32_t)big;
    DMA_CNDTR(2) = 1000;
    DMA_CCR(2) = MEM2MEM | PSIZE_32 | MSIZE_32 | EN;
    while (!(DMA_ISR & TCIF(2)))
        REG(0x40021000u) |= 1u;      /* RCC_CR (HSI16ON): a clock word written each time round */
    sh_write0("done\n");
    return 0;
#elif CASE_locked
    DMA_CNDTR(6) = 5;
    DMA_CCR(6) = EN;                     /* no request selected: it waits */
    DMA_CNDTR(6) = 9;
    return DMA_CNDTR(6) == 5 ? 0 : 1;
#endif
}
