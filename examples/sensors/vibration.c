/*
 * A vibration monitor on an STM32L031 (the stm32l031 profile, its core at the profile's 32 MHz):
 * an analog vibration sensor (a piezo or an analog accelerometer's output, biased at mid-supply)
 * on PA1 (ADC_IN1), sampled at 1 kHz with no work for the core: TIM2's update event (its TRGO)
 * starts each conversion and the DMA (channel 1) moves each result into a circular buffer of two
 * windows of 128 samples, written against the part's registers as STM32CubeL0's
 * HAL_ADC_Start_DMA with ADC_EXTERNALTRIGCONV_T2_TRGO drives them. The core sleeps (WFI) until
 * the DMA has filled a window (half transfer, transfer complete: IRQ 9), computes the window's
 * RMS about its mean in integer arithmetic, prints it through USART2 (115200 baud) with
 * "VIBRATION" when it is above 50 mV, shows it on the LED (LD3 on PB3) as a brightness (TIM2's
 * channel 2 in PWM mode on the same 1 kHz period: full at 300 mV), and sleeps again. It never
 * exits: run it for a length of device time; the report's pins say how long the LED was lit.
 *
 *   ebnn-sim build examples/sensors/vibration.c -t stm32l031 --irq-vectors -o out/vibration.elf
 *   ebnn-sim run out/vibration.elf --run-for 1s --analog 1=examples/sensors/vibration.csv@4kHz
 *
 * examples/sensors/vibration.csv is a synthetic recording at 4 kHz (a machine starting: quiet,
 * then a 120 Hz vibration growing to 0.3 V), which the ADC samples at its own 1 kHz.
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_AHBENR REG(0x40021030u)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB1ENR REG(0x40021038u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_AFRL REG(0x50000020u)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR1 REG(0x4001240Cu)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_SMPR REG(0x40012414u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR_ADDR 0x40012440u
#define DMA_ISR REG(0x40020000u)
#define DMA_IFCR REG(0x40020004u)
#define DMA_CCR1 REG(0x40020008u)
#define DMA_CNDTR1 REG(0x4002000Cu)
#define DMA_CPAR1 REG(0x40020010u)
#define DMA_CMAR1 REG(0x40020014u)
#define DMA_CSELR REG(0x400200A8u)
#define GPIOB_MODER REG(0x50000400u)
#define GPIOB_AFRL REG(0x50000420u)
#define TIM2_CR1 REG(0x40000000u)
#define TIM2_CR2 REG(0x40000004u)
#define TIM2_CCMR1 REG(0x40000018u)
#define TIM2_CCER REG(0x40000020u)
#define TIM2_CCR2 REG(0x40000038u)
#define TIM2_PSC REG(0x40000028u)
#define TIM2_ARR REG(0x4000002Cu)
#define NVIC_ISER REG(0xE000E100u)

#define WINDOW 128u    /* samples: 128 ms at 1 kHz */
#define VDDA_MV 3000u  /* the supply, the ADC's reference */
#define ALARM_MV 50u   /* RMS above which the line says VIBRATION */
#define FULL_MV 300u   /* RMS at which the LED is fully lit */
#define PERIOD 32000u  /* TIM2's period in cycles of 32 MHz: 1 ms */
#define HTIF1 (1u << 2)
#define TCIF1 (1u << 1)

static volatile uint16_t samples[2 * WINDOW]; /* the DMA's circular buffer: two windows */
static volatile uint32_t ready;               /* windows filled, in order */

/* DMA1 channel 1 (IRQ 9): the first window full at half transfer, the second at the end */
void IRQ9_Handler(void)
{
    uint32_t isr = DMA_ISR;
    DMA_IFCR = isr & (HTIF1 | TCIF1);
    if (isr & HTIF1)
        ready++;
    if (isr & TCIF1)
        ready++;
}

static void put(char c)
{
    while (!(USART2_ISR & (1u << 7))) /* TXE */
        ;
    USART2_TDR = (uint8_t)c;
}

static void puts_(const char *s)
{
    while (*s)
        put(*s++);
}

static void put_num(uint32_t v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        put(buf[--n]);
}

static void usart2_init(void)
{
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4); /* PA2: alternate function */
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 8)) | (4u << 8);  /* AF4: USART2_TX */
    RCC_APB1ENR |= 1u << 17;                              /* USART2EN */
    USART2_BRR = 32000000u / 115200u;
    USART2_CR1 = (1u << 3) | 1u; /* TE, UE */
    while (!(USART2_ISR & (1u << 21))) /* TEACK */
        ;
}

/* HAL_ADC_Init (PCLK / 2, 12 bits, trigger TIM2_TRGO on rising edges, DMA circular),
 * HAL_ADCEx_Calibration_Start, HAL_ADC_ConfigChannel (IN1, 12.5 cycles of sampling) and the
 * DMA part of HAL_ADC_Start_DMA; PA1 is analog after reset. */
static void adc_dma_init(void)
{
    RCC_APB2ENR |= 1u << 9; /* ADCEN */
    ADC_CFGR2 = 1u << 30;   /* CKMODE: PCLK / 2 */
    ADC_CR |= 1u << 28;     /* ADVREGEN */
    ADC_CR |= 1u << 31;     /* ADCAL */
    while (ADC_CR & (1u << 31))
        ;
    ADC_CFGR1 = (1u << 10) | (2u << 6) | (1u << 1) | 1u; /* EXTEN rising, TIM2_TRGO, DMACFG,
                                                            DMAEN */
    ADC_CHSELR = 1u << 1;
    ADC_SMPR = 3u;
    ADC_CR |= 1u; /* ADEN */
    while (!(ADC_ISR & 1u)) /* ADRDY */
        ;
    RCC_AHBENR |= 1u; /* DMAEN */
    DMA_CSELR &= ~15u; /* channel 1: the ADC */
    DMA_CPAR1 = ADC_DR_ADDR;
    DMA_CMAR1 = (uint32_t)samples;
    DMA_CNDTR1 = 2u * WINDOW;
    /* MSIZE, PSIZE 16 bits, MINC, CIRC, HTIE, TCIE, EN */
    DMA_CCR1 = (1u << 10) | (1u << 8) | (1u << 7) | (1u << 5) | (1u << 2) | (1u << 1) | 1u;
    NVIC_ISER = 1u << 9;
    ADC_CR |= 1u << 2; /* ADSTART: waits for the triggers */
}

/* HAL_TIM_Base_Init for 1 kHz at 32 MHz, HAL_TIMEx_MasterConfigSynchronization (TRGO on the
 * update event), HAL_TIM_PWM_ConfigChannel (channel 2, PWM mode 1, preloaded, 0%) with its
 * MspInit (PB3: alternate function 2, TIM2_CH2), then HAL_TIM_PWM_Start */
static void tim2_init(void)
{
    RCC_IOPENR |= 1u << 1;                                    /* GPIOB */
    GPIOB_MODER = (GPIOB_MODER & ~(3u << 6)) | (2u << 6);     /* PB3: alternate function */
    GPIOB_AFRL = (GPIOB_AFRL & ~(15u << 12)) | (2u << 12);    /* AF2: TIM2_CH2 */
    RCC_APB1ENR |= 1u; /* TIM2EN */
    TIM2_PSC = 0;
    TIM2_ARR = PERIOD - 1u;
    TIM2_CR2 = 2u << 4;                 /* MMS: update */
    TIM2_CCMR1 = (6u << 12) | (1u << 11); /* OC2M: PWM mode 1, OC2PE */
    TIM2_CCR2 = 0;
    TIM2_CCER = 1u << 4;                /* CC2E */
    TIM2_CR1 = 1u;                      /* CEN */
}

static uint32_t isqrt(uint32_t v)
{
    uint32_t r = 0, bit = 1u << 30;
    while (bit > v)
        bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

/* The RMS about its mean of one window, in mV (codes: 4095 at VDDA) */
static uint32_t rms_mv(const volatile uint16_t *w)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < WINDOW; i++)
        sum += w[i];
    uint32_t mean = sum / WINDOW, squares = 0;
    for (uint32_t i = 0; i < WINDOW; i++) {
        int32_t d = (int32_t)w[i] - (int32_t)mean;
        squares += (uint32_t)(d * d);
    }
    return isqrt(squares / WINDOW) * VDDA_MV / 4095u;
}

int main(void)
{
    RCC_IOPENR |= 1u; /* GPIOA */
    usart2_init();
    puts_("vibration monitor up\r\n");
    adc_dma_init();
    tim2_init();
    uint32_t done = 0;
    for (;;) {
        while (ready == done)
            __asm__ volatile("wfi" ::: "memory");
        const volatile uint16_t *w = samples + (done % 2u) * WINDOW;
        uint32_t rms = rms_mv(w);
        done++;
        /* the LED's brightness: preloaded, from the next period on */
        TIM2_CCR2 = rms >= FULL_MV ? PERIOD : rms * (PERIOD / FULL_MV);
        put_num(done * WINDOW);
        puts_(" ms: rms ");
        put_num(rms);
        puts_(rms > ALARM_MV ? " mV VIBRATION\r\n" : " mV\r\n");
    }
}
