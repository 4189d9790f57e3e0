/*
 * A low-power sensor node on an STM32L031 (the stm32l031 profile), written against the part's
 * registers as STM32CubeL0's HAL drives them: once a second the RTC's wake-up timer wakes the
 * core (through EXTI line 20, IRQ 2); it measures its supply (VREFINT) and its temperature with
 * the ADC, prints a line through USART2 (a Nucleo board's virtual COM port, 115200 baud,
 * polled: the core waits for each byte to go out) and goes back to sleep (WFI). Its LED (LD3 on
 * PB3) is lit while it works; a button on PA0 (to ground, the pin pulled up) wakes it for a
 * measurement at once (EXTI line 0, IRQ 5), marked "(button)". It never exits, as such
 * firmware never does: run it for a length of device time.
 *
 *   ebnn-sim build examples/lowpower/sensor_node.c -t stm32l031 --irq-vectors -o out/node.elf
 *   ebnn-sim run out/node.elf --run-for 10s
 *   ebnn-sim run out/node.elf --run-for 10s --pin PA0=examples/lowpower/button.csv \
 *       --vcd out/node.vcd                     (two presses; the pins' waveform)
 *   ebnn-sim run out/node.elf --run-for 10s --analog VDDA=examples/lowpower/supply.csv@1Hz
 *                                              (its battery running down)
 *   ebnn-sim check --config examples/lowpower/budgets.toml   (a duty-cycle budget for CI)
 *
 * Built with -D STOP_MODE it sleeps in Stop mode instead (SCR.SLEEPDEEP): the serial port's last
 * byte out first (USART2 stops with the core's clock), and the clock set up again after each
 * wake-up, as the part wakes on MSI (STM32CubeL0's low-power examples do the same). Built with
 * -D STANDBY_MODE it sleeps in Stand-by (PWR_CR.PDDS too), the part's deepest mode: each
 * wake-up is a reset, so every second the node boots again, sets its clock, serial port and ADC
 * up again, measures once and goes back (no LED, no button: the pins are off in Stand-by).
 * Built with -D DMA_TX (the default sleep) each line goes out by DMA while the core sleeps,
 * instead of the core waiting for each byte.
 *
 * In the simulator VDDA is 3.0 V and the die at 30 degrees C (the conditions of the part's
 * factory calibration; docs/simulator.md, Devices), so every line reads 3000 mV and 30 C.
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_CR REG(0x40021000u)
#define RCC_CFGR REG(0x4002100Cu)
#define FLASH_ACR REG(0x40022000u)
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_CSR REG(0x40021050u)
#define PWR_CR REG(0x40007000u)
#define PWR_CSR REG(0x40007004u)
#define RCC_IOPENR_GPIOB (1u << 1)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_PUPDR REG(0x5000000Cu)
#define GPIOA_AFRL REG(0x50000020u)
#define GPIOB_MODER REG(0x50000400u)
#define GPIOB_BSRR REG(0x50000418u)
#define GPIOB_BRR REG(0x50000428u)
#define SYSCFG_EXTICR1 REG(0x40010008u)
#define EXTI_FTSR REG(0x4001040Cu)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define RTC_TR REG(0x40002800u)
#define RTC_DR REG(0x40002804u)
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_PRER REG(0x40002810u)
#define RTC_WUTR REG(0x40002814u)
#define RTC_WPR REG(0x40002824u)
#define RTC_SSR REG(0x40002828u)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_PR REG(0x40010414u)
#define ADC_ISR REG(0x40012400u)
#define ADC_CR REG(0x40012408u)
#define ADC_CFGR2 REG(0x40012410u)
#define ADC_SMPR REG(0x40012414u)
#define ADC_CHSELR REG(0x40012428u)
#define ADC_DR REG(0x40012440u)
#define ADC_CCR REG(0x40012708u)
#define NVIC_ISER REG(0xE000E100u)
#define SCB_SCR REG(0xE000ED10u)
#define VREFINT_CAL (*(volatile uint16_t *)0x1FF80078u)
#define TS_CAL1 (*(volatile uint16_t *)0x1FF8007Au)
#define TS_CAL2 (*(volatile uint16_t *)0x1FF8007Eu)

#define INIT (1u << 7)
#define INITF (1u << 6)
#define RSF (1u << 5)
#define WUTWF (1u << 2)
#define WUTF (1u << 10)
#define WUTE (1u << 10)
#define WUTIE (1u << 14)

static volatile uint32_t wakeups, presses;

/* SystemClock_Config for 32 MHz: voltage range 1, one flash wait state, the PLL from HSI16 x 4
 * / 2. The simulator runs the core at the clock this sets up, from its first FLASH_ACR write
 * on, as the chip does (the report's clock rows). */
static void clock_init(void)
{
    RCC_APB1ENR |= 1u << 28;          /* PWREN */
    PWR_CR = (PWR_CR & ~(3u << 11)) | (1u << 11); /* VOS: range 1 */
    RCC_CR |= 1u;                     /* HSI16ON */
    while (!(RCC_CR & (1u << 2)))     /* HSI16RDYF */
        ;
    FLASH_ACR |= 1u;                  /* LATENCY: one wait state */
    RCC_CFGR = (RCC_CFGR & ~((1u << 16) | (15u << 18) | (3u << 22)))
               | (1u << 18) | (1u << 22); /* PLLSRC HSI16, PLLMUL x4, PLLDIV /2 */
    RCC_CR |= 1u << 24;               /* PLLON */
    while (!(RCC_CR & (1u << 25)))    /* PLLRDY */
        ;
    RCC_CFGR |= 3u;                   /* SW: PLL */
    while ((RCC_CFGR >> 2 & 3u) != 3u) /* SWS */
        ;
}

static void usart2_init(void)
{
    RCC_IOPENR |= 1u;                 /* GPIOA */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4); /* PA2: alternate function */
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 8)) | (4u << 8);  /* AF4: USART2_TX */
    RCC_APB1ENR |= 1u << 17;          /* USART2EN */
    USART2_BRR = 32000000u / 115200u;
    USART2_CR1 = (1u << 3) | 1u;      /* TE, UE */
    while (!(USART2_ISR & (1u << 21))) /* TEACK */
        ;
}

#ifdef DMA_TX
/* HAL_UART_Transmit_DMA's registers: DMA1 channel 4 (CSELR 4: USART2_TX) feeds TDR while the
 * core sleeps; put() only fills a line, whose end starts its transfer (two lines: the next
 * fills while the last goes out). */
#define RCC_AHBENR REG(0x40021030u)
#define USART2_CR3 REG(0x40004408u)
#define DMA_IFCR REG(0x40020004u)
#define DMA_CCR4 REG(0x40020044u)
#define DMA_CNDTR4 REG(0x40020048u)
#define DMA_CPAR4 REG(0x4002004Cu)
#define DMA_CMAR4 REG(0x40020050u)
#define DMA_CSELR REG(0x400200A8u)

static char lines[2][48];
static unsigned line_len, line_buf;
static volatile int sending;

static void dma_init(void)
{
    RCC_AHBENR |= 1u;                 /* DMAEN */
    DMA_CSELR = 4u << 12;             /* channel 4: USART2_TX */
    DMA_CPAR4 = 0x40004428u;          /* USART2_TDR */
    USART2_CR3 |= 1u << 7;            /* DMAT */
    NVIC_ISER = 1u << 11;             /* DMA1_Channel4_5_6_7 */
}

void IRQ11_Handler(void) /* HAL_DMA_IRQHandler: the line is out of memory */
{
    DMA_IFCR = 1u << 12;              /* CGIF4 */
    sending = 0;
}

static void put(char c)
{
    char *line = lines[line_buf];
    if (line_len < sizeof lines[0])
        line[line_len++] = c;
    if (c != '\n')
        return;
    while (sending)                   /* the line before still going out */
        __asm__ volatile("wfi" ::: "memory");
    DMA_CCR4 = 0;
    DMA_CMAR4 = (uint32_t)line;
    DMA_CNDTR4 = line_len;
    sending = 1;
    DMA_CCR4 = (1u << 7) | (1u << 4) | (1u << 1) | 1u; /* MINC, DIR, TCIE, EN */
    line_buf ^= 1u;
    line_len = 0;
}
#else
static void put(char c)
{
    while (!(USART2_ISR & (1u << 7))) /* TXE */
        ;
    USART2_TDR = (uint8_t)c;
}
#endif

static void puts_(const char *s)
{
    while (*s)
        put(*s++);
}

static void put_num(long v)
{
    char buf[12];
    int n = 0;
    if (v < 0) {
        put('-');
        v = -v;
    }
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof buf);
    while (n)
        put(buf[--n]);
}

static void put_bcd2(uint32_t v)
{
    put((char)('0' + (v >> 4 & 0xFu)));
    put((char)('0' + (v & 0xFu)));
}

/* SystemClock_Config's backup-domain part and HAL_RTC_Init: the LSE, the RTC at 1 Hz, 12:00:00,
 * then the wake-up timer every second (HAL_RTCEx_SetWakeUpTimer_IT, RTC_WAKEUPCLOCK_CK_SPRE_16BITS). */
static void rtc_init(void)
{
    PWR_CR |= 1u << 8;                /* DBP (PWREN set by clock_init) */
    RCC_CSR |= 1u << 8;               /* LSEON */
    while (!(RCC_CSR & (1u << 9)))    /* LSERDY */
        ;
    RCC_CSR = (RCC_CSR & ~(3u << 16)) | (1u << 16) | (1u << 18); /* RTCSEL LSE, RTCEN */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_ISR = 0xFFFFFFFFu;            /* INIT */
    while (!(RTC_ISR & INITF))
        ;
    RTC_PRER = (127u << 16) | 255u;   /* 32768 / 128 / 256: 1 Hz */
    RTC_TR = 0x120000u;
    RTC_DR = (0x26u << 16) | (7u << 13) | 0x1206u; /* Sunday 2026-12-06 */
    RTC_ISR &= ~INIT;
    RTC_ISR &= ~(RSF | INIT);
    while (!(RTC_ISR & RSF))
        ;
    RTC_CR &= ~WUTE;
    while (!(RTC_ISR & WUTWF))
        ;
    RTC_WUTR = 0;                     /* every second */
    RTC_CR = (RTC_CR & ~7u) | 4u;     /* WUCKSEL: ck_spre */
    EXTI_IMR |= 1u << 20;
    EXTI_RTSR |= 1u << 20;
    RTC_CR |= WUTIE | WUTE;
    RTC_WPR = 0xFFu;
    NVIC_ISER = 1u << 2;              /* RTC */
}

/* HAL_GPIO_Init: the LED (PB3) an output, the button (PA0) an input pulled up whose falling
 * edge is EXTI line 0's interrupt (SYSCFG_EXTICR1: port A). */
static void gpio_init(void)
{
    RCC_IOPENR |= 1u | RCC_IOPENR_GPIOB;
    RCC_APB2ENR |= 1u;                /* SYSCFGEN */
    GPIOB_MODER = (GPIOB_MODER & ~(3u << 6)) | (1u << 6); /* PB3: output */
    GPIOA_PUPDR = (GPIOA_PUPDR & ~3u) | 1u;               /* PA0: pull-up */
    GPIOA_MODER &= ~3u;                                   /* PA0: input */
    SYSCFG_EXTICR1 &= ~0xFu;          /* line 0: PA0 */
    EXTI_FTSR |= 1u;
    EXTI_IMR |= 1u;
    NVIC_ISER = 1u << 5;              /* EXTI0_1 */
}

/* HAL_ADC_Init, HAL_ADCEx_Calibration_Start, ADC_Enable with the internal channels on. */
static void adc_init(void)
{
    RCC_APB2ENR |= 1u << 9;           /* ADCEN */
    ADC_CFGR2 = 1u << 30;             /* PCLK / 2 */
    ADC_CR |= 1u << 31;               /* ADCAL */
    while (ADC_CR & (1u << 31))
        ;
    ADC_CCR |= (1u << 22) | (1u << 23); /* VREFEN, TSEN */
    ADC_SMPR = 7u;                    /* 160.5 cycles: the sensor needs a long sample */
    ADC_CR |= 1u;                     /* ADEN */
    while (!(ADC_ISR & 1u))           /* ADRDY */
        ;
}

static uint32_t adc_read(unsigned channel)
{
    ADC_CHSELR = 1u << channel;
    ADC_CR |= 1u << 2;                /* ADSTART */
    while (!(ADC_ISR & (1u << 2)))    /* EOC */
        ;
    return ADC_DR;
}

void IRQ2_Handler(void) /* HAL_RTCEx_WakeUpTimerIRQHandler */
{
    EXTI_PR = 1u << 20;
    RTC_ISR = ~(WUTF | INIT) & 0x0001FFFFu;
    wakeups++;
}

void IRQ5_Handler(void) /* HAL_GPIO_EXTI_IRQHandler: the button */
{
    EXTI_PR = 1u;
    presses++;
    wakeups++;
}

/* One measurement: the supply (VREFINT) and the temperature, printed with the RTC's time;
 * marked when the button was pressed since the last (presses now above *pressed). */
static inline __attribute__((always_inline)) void measure(uint32_t *pressed)
{
    long vdda = 3000L * VREFINT_CAL / (long)adc_read(17);
    long raw = (long)adc_read(18) * vdda / 3000L; /* at VDDA = 3.0 V, as calibrated */
    long temp = (raw - TS_CAL1) * (130 - 30) / (TS_CAL2 - TS_CAL1) + 30;
    (void)RTC_SSR;                    /* SSR, TR, then DR: a consistent reading */
    uint32_t tr = RTC_TR;
    (void)RTC_DR;
    put_bcd2(tr >> 16 & 0x3Fu);
    put(':');
    put_bcd2(tr >> 8 & 0x7Fu);
    put(':');
    put_bcd2(tr & 0x7Fu);
    puts_(" vdda ");
    put_num(vdda);
    puts_(" mV temp ");
    put_num(temp);
    puts_(" C");
    if (presses != *pressed) {
        *pressed = presses;
        puts_(" (button)");
    }
    puts_("\r\n");
}

#ifdef STANDBY_MODE
/* Each wake-up from Stand-by is a reset: main starts again, the RTC (in the backup domain)
 * still counting, PWR_CSR.SBF saying so; the rest of the part is set up again each time. */
int main(void)
{
    clock_init();                     /* PWREN among it: PWR_CSR reads */
    int woke = (PWR_CSR & (1u << 1)) != 0; /* SBF */
    usart2_init();
    if (woke) {
        PWR_CR |= 1u << 8;            /* DBP: the RTC's flag */
        RTC_WPR = 0xCAu;
        RTC_WPR = 0x53u;
        RTC_ISR = ~(WUTF | INIT) & 0x0001FFFFu;
        RTC_WPR = 0xFFu;
    } else {
        rtc_init();
        puts_("sensor node up\r\n");
    }
    adc_init();
    uint32_t pressed = 0;
    if (woke)
        measure(&pressed);
    while (!(USART2_ISR & (1u << 6))) /* TC: the last byte is out */
        ;
    PWR_CR |= (1u << 2) | (1u << 3) | (1u << 1); /* CWUF, CSBF, PDDS: Stand-by */
    SCB_SCR |= 1u << 2;               /* SLEEPDEEP */
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
}
#else
int main(void)
{
    clock_init();
    usart2_init();
#ifdef DMA_TX
    dma_init();
#endif
    rtc_init();
    adc_init();
    gpio_init();
    puts_("sensor node up\r\n");
    uint32_t pressed = 0;
    for (;;) {
        uint32_t seen = wakeups;
        GPIOB_BRR = 1u << 3;          /* the LED off while asleep */
#ifdef STOP_MODE
        while (!(USART2_ISR & (1u << 6))) /* TC: the last byte is out */
            ;
        SCB_SCR |= 1u << 2;           /* SLEEPDEEP; PWR_CR.PDDS clear: Stop mode */
#endif
        while (wakeups == seen)
            __asm__ volatile("wfi" ::: "memory");
        GPIOB_BSRR = 1u << 3;         /* the LED on while it works */
#ifdef STOP_MODE
        clock_init();                 /* woken on MSI: the PLL again */
#endif
        measure(&pressed);
    }
}
#endif
