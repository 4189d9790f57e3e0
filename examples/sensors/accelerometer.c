/*
 * A tilt sensor on an STM32L031 (the stm32l031 profile, its core at the profile's 32 MHz): an
 * ST LIS3DH accelerometer on SPI1 (PA5 SCK, PA6 MISO, PA7 MOSI, 4 MHz; its chip select on PA4,
 * driven as a GPIO output), read every quarter second (SysTick wakes the core from WFI) and
 * printed through USART2 (115200 baud), written against the part's registers as STM32CubeL0's
 * HAL_GPIO_WritePin and HAL_SPI_TransmitReceive drive them. It checks WHO_AM_I, sets the sensor
 * up (100 Hz, high resolution), then prints X, Y, Z in mg and says when the board tilts past
 * 40 degrees. It never exits: run it for a length of device time.
 *
 *   ebnn-sim build examples/sensors/accelerometer.c -t stm32l031 --irq-vectors -o out/tilt.elf
 *   ebnn-sim run out/tilt.elf --run-for 2s --spi PA4=examples/sensors/lis3dh.toml
 *
 * The sensor's X and Z outputs follow examples/sensors/tilt_x.csv and tilt_z.csv.
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB1ENR REG(0x40021038u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_AFRL REG(0x50000020u)
#define GPIOA_BSRR REG(0x50000018u)
#define GPIOA_BRR REG(0x50000028u)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define SPI1_CR1 REG(0x40013000u)
#define SPI1_SR REG(0x40013008u)
#define SPI1_DR8 (*(volatile uint8_t *)0x4001300Cu)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)

#define RXNE 1u
#define TXE 2u
#define BSY (1u << 7)
#define CS_PIN (1u << 4)
#define READ 0x80u
#define MS 0x40u /* step through registers */

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

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

static void put_num(long v, int width)
{
    char buf[12];
    int n = 0, neg = v < 0;
    if (neg)
        v = -v;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof buf);
    for (int pad = n + neg; pad < width; pad++)
        put(' ');
    if (neg)
        put('-');
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

/* HAL_SPI_Init (master, mode 0, 8 bits, software NSS, PCLK2 / 8) and its MspInit: PA5-PA7
 * alternate function 0; PA4 a push-pull output, high (the sensor not selected). */
static void spi1_init(void)
{
    GPIOA_BSRR = CS_PIN;
    GPIOA_MODER = (GPIOA_MODER & ~(0xFFu << 8)) | (0xA9u << 8); /* PA4 out, PA5-7 AF */
    GPIOA_AFRL &= ~(0xFFFu << 20);                              /* AF0: SPI1 */
    RCC_APB2ENR |= 1u << 12;                                    /* SPI1EN */
    SPI1_CR1 = (1u << 2) | (2u << 3) | (1u << 9) | (1u << 8);   /* MSTR, BR /8, SSM, SSI */
    SPI1_CR1 |= 1u << 6;                                        /* SPE */
}

/* HAL_SPI_TransmitReceive of n bytes: a frame at a time, then BSY */
static void transfer(const uint8_t *tx, uint8_t *rx, int n)
{
    GPIOA_BRR = CS_PIN; /* HAL_GPIO_WritePin(GPIOA, GPIO_PIN_4, GPIO_PIN_RESET) */
    for (int i = 0; i < n; i++) {
        while (!(SPI1_SR & TXE))
            ;
        SPI1_DR8 = tx[i];
        while (!(SPI1_SR & RXNE))
            ;
        rx[i] = SPI1_DR8;
    }
    while (SPI1_SR & BSY)
        ;
    GPIOA_BSRR = CS_PIN;
}

static uint8_t read_reg(uint8_t reg)
{
    uint8_t tx[2] = {(uint8_t)(READ | reg), 0}, rx[2];
    transfer(tx, rx, 2);
    return rx[1];
}

static void write_reg(uint8_t reg, uint8_t value)
{
    uint8_t tx[2] = {reg, value}, rx[2];
    transfer(tx, rx, 2);
}

int main(void)
{
    RCC_IOPENR |= 1u; /* GPIOA */
    usart2_init();
    spi1_init();
    puts_("tilt sensor up\r\n");
    uint8_t who = read_reg(0x0F);
    if (who != 0x33u) {
        puts_("no LIS3DH (WHO_AM_I ");
        put_num(who, 1);
        puts_(")\r\n");
        for (;;)
            __asm__ volatile("wfi");
    }
    write_reg(0x20, 0x57); /* CTRL_REG1: 100 Hz, X, Y, Z */
    write_reg(0x23, 0x08); /* CTRL_REG4: high resolution, +-2 g */

    SYST_RVR = 8000000u - 1u; /* a quarter second at 32 MHz */
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (;;) {
        uint32_t seen = ticks;
        while (ticks == seen)
            __asm__ volatile("wfi" ::: "memory");
        uint8_t tx[7] = {READ | MS | 0x28u, 0, 0, 0, 0, 0, 0}, rx[7];
        transfer(tx, rx, 7);
        long mg[3];
        for (int i = 0; i < 3; i++) /* 12 bits left-justified: 1 mg a digit */
            mg[i] = (int16_t)(rx[1 + 2 * i] | rx[2 + 2 * i] << 8) / 16;
        long t = (long)ticks * 250;
        put_num(t / 1000, 1);
        put('.');
        put_num(t % 1000 / 100, 1);
        put_num(t % 100 / 10, 1);
        puts_(" s  x");
        put_num(mg[0], 6);
        puts_("  y");
        put_num(mg[1], 6);
        puts_("  z");
        put_num(mg[2], 6);
        puts_(" mg");
        if (mg[0] > 643 || mg[0] < -643) /* sin 40 degrees */
            puts_("  tilted");
        puts_("\r\n");
    }
}
