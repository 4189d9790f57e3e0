/*
 * A battery monitor on an STM32L031 (the stm32l031 profile), written against the part's
 * registers as STM32CubeL0's HAL_COMP drives them: the battery's voltage, halved by a divider, on
 * PA1 (COMP1's plus input) is compared with VREFINT (1.224 V: the battery at 2.45 V) by COMP1
 * while the part sleeps in Stop mode; each crossing (EXTI line 21, both edges: IRQ 12, ADC_COMP)
 * wakes the core, which sets its clock up again (the part wakes on MSI), prints "battery low" or
 * "battery ok" through USART2 (115200 baud), lights the LED (LD3 on PB3) while the battery is
 * low, waits for the line to go out and goes back to Stop mode. Nothing runs between the
 * crossings: the core is awake only to set its clock up and print (the report's duty cycle).
 * It never exits: run it for a length of device time.
 *
 *   ebnn-sim build examples/lowpower/battery_watch.c -t stm32l031 --irq-vectors -o out/battery.elf
 *   ebnn-sim run out/battery.elf --run-for 10s --analog 1=examples/lowpower/battery.csv@10Hz
 *
 * examples/lowpower/battery.csv is the divider's output at 10 Hz for 12 s: a 3.0 V cell (1.5 V),
 * a load's pulse pulling it below the threshold from 2.0 to 2.6 s, then the cell running down,
 * below it from 8.3 s, until a new cell at 11 s. (A run past the recording's last crossing ends
 * as a deadlock: nothing else can wake this firmware.)
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_CR REG(0x40021000u)
#define RCC_CFGR REG(0x4002100Cu)
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB1ENR REG(0x40021038u)
#define FLASH_ACR REG(0x40022000u)
#define PWR_CR REG(0x40007000u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_AFRL REG(0x50000020u)
#define GPIOB_MODER REG(0x50000400u)
#define GPIOB_BSRR REG(0x50000418u)
#define GPIOB_BRR REG(0x50000428u)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define COMP1_CSR REG(0x40010018u)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_FTSR REG(0x4001040Cu)
#define EXTI_PR REG(0x40010414u)
#define NVIC_ISER REG(0xE000E100u)
#define NVIC_ICPR REG(0xE000E280u)
#define SCB_SCR REG(0xE000ED10u)

#define COMP1_LINE (1u << 21)
#define COMP1_VALUE (1u << 30)

static volatile uint32_t crossings;

/* SystemClock_Config for 32 MHz: voltage range 1, one flash wait state, the PLL from HSI16 x 4
 * / 2; again after each wake-up from Stop mode, where the part wakes on MSI. */
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

static void puts_(const char *s)
{
    while (*s) {
        while (!(USART2_ISR & (1u << 7))) /* TXE */
            ;
        USART2_TDR = (uint8_t)*s++;
    }
}

/* HAL_COMP_Init and HAL_COMP_Start: PA1 (analog, as at reset) against VREFINT, EXTI line 21
 * on both edges, then the comparator on; the edge of its own start cleared. */
static void comp_init(void)
{
    RCC_APB2ENR |= 1u;                /* SYSCFGEN: the comparators' registers */
    COMP1_CSR = 0u;                   /* INNSEL VREFINT, plus input PA1, not inverted */
    EXTI_RTSR |= COMP1_LINE;
    EXTI_FTSR |= COMP1_LINE;
    EXTI_IMR |= COMP1_LINE;
    COMP1_CSR |= 1u;                  /* COMP1EN */
    EXTI_PR = COMP1_LINE;
    NVIC_ICPR = 1u << 12;             /* (the start's edge pended it in the NVIC too) */
    NVIC_ISER = 1u << 12;             /* ADC1_COMP */
}

void IRQ12_Handler(void) /* HAL_COMP_IRQHandler */
{
    EXTI_PR = COMP1_LINE;
    crossings++;
}

static void show(void)
{
    if (COMP1_CSR & COMP1_VALUE) {    /* PA1 above VREFINT */
        GPIOB_BRR = 1u << 3;
        puts_("battery ok\r\n");
    } else {
        GPIOB_BSRR = 1u << 3;
        puts_("battery low\r\n");
    }
}

int main(void)
{
    clock_init();
    usart2_init();
    RCC_IOPENR |= 1u << 1;            /* GPIOB */
    GPIOB_MODER = (GPIOB_MODER & ~(3u << 6)) | (1u << 6); /* PB3: the LED, an output */
    comp_init();
    puts_("battery watch up: ");
    show();
    SCB_SCR |= 4u;                    /* SLEEPDEEP, PWR_CR.PDDS clear: Stop mode */
    uint32_t seen = 0;
    for (;;) {
        while (!(USART2_ISR & (1u << 6))) /* TC: the line out before the clock stops */
            ;
        __asm__ volatile("wfi");
        clock_init();
        if (crossings != seen) {
            seen = crossings;
            show();
        }
    }
}
