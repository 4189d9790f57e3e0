/*
 * A CO2 monitor on an STM32L031 (the stm32l031 profile, its core at the profile's 32 MHz): an
 * NDIR CO2 sensor with a PWM output (as the MH-Z19B's: a cycle of 1004 ms, high for 2 ms plus
 * 1000 ms x ppm / 5000) on PA0, measured with no work for the core: TIM2 in the PWM input mode
 * STM32CubeL0's HAL_TIM_IC_ConfigChannel and HAL_TIM_SlaveConfigSynchro set up (channel 1
 * captures the rising edges, channel 2 the falling ones of the same input, the slave mode
 * restarts the count at each rising edge), counting at 10 kHz: at each rising edge CCR1 holds the
 * cycle just ended and CCR2 its high time. The core sleeps (WFI) until the capture interrupt
 * (IRQ 15), prints the concentration through USART2 (115200 baud), with "VENTILATE" above
 * 1000 ppm, lights LD3 (PB3) while it is above, and sleeps again. No edge for 6.5 s (the count's
 * overflow: the update interrupt) prints "no signal". It never exits: run it for a length of
 * device time.
 *
 *   ebnn-sim build examples/sensors/co2.c -t stm32l031 --irq-vectors -o out/co2.elf
 *   ebnn-sim run out/co2.elf --run-for 20s --pin PA0=examples/sensors/co2.csv
 *
 * examples/sensors/co2.csv is a synthetic recording of the sensor's output (a meeting room
 * filling up and aired: 450 ppm up to 1400 and down again), ten cycles from 0.2 s on, then the
 * line stays low (the sensor unplugged).
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB1ENR REG(0x40021038u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_PUPDR REG(0x5000000Cu)
#define GPIOA_AFRL REG(0x50000020u)
#define GPIOB_MODER REG(0x50000400u)
#define GPIOB_BSRR REG(0x50000418u)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define TIM2_CR1 REG(0x40000000u)
#define TIM2_SMCR REG(0x40000008u)
#define TIM2_DIER REG(0x4000000Cu)
#define TIM2_SR REG(0x40000010u)
#define TIM2_EGR REG(0x40000014u)
#define TIM2_CCMR1 REG(0x40000018u)
#define TIM2_CCER REG(0x40000020u)
#define TIM2_PSC REG(0x40000028u)
#define TIM2_ARR REG(0x4000002Cu)
#define TIM2_CCR1 REG(0x40000034u)
#define TIM2_CCR2 REG(0x40000038u)
#define NVIC_ISER REG(0xE000E100u)

#define TICKS_MS 10u       /* TIM2 counts at 10 kHz */
#define RANGE_PPM 5000u    /* the sensor's range */
#define ALARM_PPM 1000u    /* above which the line says VENTILATE and the LED is lit */
#define UIF 1u
#define CC1IF (1u << 1)

static volatile uint32_t cycle, high; /* the last cycle measured, in ticks */
static volatile uint32_t measured;    /* cycles measured */
static volatile uint32_t silent;      /* overflows with no edge */

/* TIM2 (IRQ 15): a rising edge captured (the cycle before it, its high time), or 6.5 s with no
 * edge at all */
void IRQ15_Handler(void)
{
    uint32_t sr = TIM2_SR;
    if (sr & CC1IF) {
        cycle = TIM2_CCR1; /* the read clears CC1IF */
        high = TIM2_CCR2;
        measured++;
    }
    if (sr & UIF) {
        TIM2_SR = ~UIF;
        silent++;
    }
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

/* HAL_TIM_IC_Init (10 kHz, the longest period), the MspInit (PA0: alternate function 2,
 * TIM2_CH1, pulled down: an unplugged sensor reads low), HAL_TIM_IC_ConfigChannel (channel 1:
 * TI1, rising; channel 2: TI1 too, falling), HAL_TIM_SlaveConfigSynchro (reset mode on TI1FP1),
 * then HAL_TIM_IC_Start_IT (CC1IE) and HAL_TIM_IC_Start (CC2E); URS: only the overflow sets
 * UIF, not the slave mode's resets */
static void tim2_init(void)
{
    GPIOA_MODER = (GPIOA_MODER & ~3u) | 2u;     /* PA0: alternate function */
    GPIOA_PUPDR = (GPIOA_PUPDR & ~3u) | 2u;     /* pull-down */
    GPIOA_AFRL = (GPIOA_AFRL & ~15u) | 2u;      /* AF2: TIM2_CH1 */
    RCC_APB1ENR |= 1u;                          /* TIM2EN */
    TIM2_PSC = 32000000u / (1000u * TICKS_MS) - 1u;
    TIM2_ARR = 0xFFFFu;
    TIM2_CR1 = 1u << 2;                         /* URS */
    TIM2_EGR = 1u;                              /* UG: PSC loaded */
    TIM2_CCMR1 = 1u | (2u << 8);                /* CC1S: TI1; CC2S: TI1 */
    TIM2_CCER = 1u | (1u << 4) | (1u << 5);     /* CC1E rising; CC2E, CC2P falling */
    TIM2_SMCR = 4u | (5u << 4);                 /* SMS reset, TS TI1FP1 */
    TIM2_SR = 0;
    TIM2_DIER = UIF | CC1IF;                    /* UIE, CC1IE */
    NVIC_ISER = 1u << 15;
    TIM2_CR1 |= 1u;                             /* CEN */
}

int main(void)
{
    RCC_IOPENR |= 3u; /* GPIOA, GPIOB */
    GPIOB_MODER = (GPIOB_MODER & ~(3u << 6)) | (1u << 6); /* PB3 (LD3): output */
    usart2_init();
    puts_("co2 monitor up\r\n");
    tim2_init();
    uint32_t seen = 0, quiet = 0;
    for (;;) {
        __asm__ volatile("wfi" ::: "memory");
        if (measured != seen) {
            seen = measured;
            uint32_t c = cycle, h = high;
            if (seen == 1u || c <= 4u * TICKS_MS) /* the first edge ends no whole cycle */
                continue;
            uint32_t th = h > 2u * TICKS_MS ? h - 2u * TICKS_MS : 0u;
            uint32_t ppm = RANGE_PPM * th / (c - 4u * TICKS_MS);
            puts_("co2 ");
            put_num(ppm);
            puts_(" ppm");
            if (ppm > ALARM_PPM)
                puts_(" VENTILATE");
            puts_("\r\n");
            GPIOB_BSRR = ppm > ALARM_PPM ? 1u << 3 : 1u << 19;
        }
        if (silent != quiet) {
            quiet = silent;
            puts_("no signal\r\n");
            GPIOB_BSRR = 1u << 19;
        }
    }
}
