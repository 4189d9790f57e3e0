/*
 * A thermometer on an STM32L031 (the stm32l031 profile, its core at the profile's 32 MHz):
 * a TI TMP102 on I2C1 (PB6 SCL, PB7 SDA, 100 kHz), read every half second (SysTick wakes the
 * core from WFI) and printed through USART2 (115200 baud), written against the part's
 * registers as STM32CubeL0's HAL_I2C_IsDeviceReady, HAL_I2C_Mem_Read and HAL_I2C_Mem_Write
 * drive them. It first looks for its devices (an EEPROM at 0x50 is optional: the simulator
 * answers only at the addresses given with --i2c), reads the sensor's configuration and sets
 * its alert limits. It never exits: run it for a length of device time.
 *
 *   ebnn-sim build examples/sensors/thermometer.c -t stm32l031 --irq-vectors -o out/thermo.elf
 *   ebnn-sim run out/thermo.elf --run-for 5s --i2c 0x48=examples/sensors/tmp102.toml
 *
 * The sensor's temperature follows examples/sensors/temperature.csv (device time, degrees C).
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB1ENR REG(0x40021038u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_AFRL REG(0x50000020u)
#define GPIOB_MODER REG(0x50000400u)
#define GPIOB_OTYPER REG(0x50000404u)
#define GPIOB_AFRL REG(0x50000420u)
#define USART2_CR1 REG(0x40004400u)
#define USART2_BRR REG(0x4000440Cu)
#define USART2_ISR REG(0x4000441Cu)
#define USART2_TDR REG(0x40004428u)
#define I2C1_CR1 REG(0x40005400u)
#define I2C1_CR2 REG(0x40005404u)
#define I2C1_TIMINGR REG(0x40005410u)
#define I2C1_ISR REG(0x40005418u)
#define I2C1_ICR REG(0x4000541Cu)
#define I2C1_RXDR REG(0x40005424u)
#define I2C1_TXDR REG(0x40005428u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)

/* I2C_ISR */
#define TXIS (1u << 1)
#define RXNE (1u << 2)
#define NACKF (1u << 4)
#define STOPF (1u << 5)
#define TC (1u << 6)
#define TCR (1u << 7)
#define BUSY (1u << 15)
/* I2C_CR2 */
#define RD_WRN (1u << 10)
#define START (1u << 13)
#define RELOAD (1u << 24)
#define AUTOEND (1u << 25)
#define CR2_CONFIG 0x03FF67FFu /* SADD, RD_WRN, START, STOP, NBYTES, RELOAD, AUTOEND */

#define TMP102 0x48u
#define EEPROM 0x50u
#define TIMEOUT 100000u /* polls before a transfer is given up */

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
    int n = 0;
    if (v < 0) {
        put('-');
        v = -v;
    }
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while ((v || n < width) && n < (int)sizeof buf);
    while (n)
        put(buf[--n]);
}

static void put_hex16(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    puts_("0x");
    for (int shift = 12; shift >= 0; shift -= 4)
        put(digits[v >> shift & 0xFu]);
}

static void usart2_init(void)
{
    RCC_IOPENR |= 1u;                                     /* GPIOA */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4); /* PA2: alternate function */
    GPIOA_AFRL = (GPIOA_AFRL & ~(15u << 8)) | (4u << 8);  /* AF4: USART2_TX */
    RCC_APB1ENR |= 1u << 17;                              /* USART2EN */
    USART2_BRR = 32000000u / 115200u;
    USART2_CR1 = (1u << 3) | 1u; /* TE, UE */
    while (!(USART2_ISR & (1u << 21))) /* TEACK */
        ;
}

/* HAL_I2C_Init (7-bit addresses, 100 kHz from PCLK1 at 32 MHz) and its MspInit: PB6 and PB7
 * open-drain, alternate function 1. */
static void i2c_init(void)
{
    RCC_IOPENR |= 1u << 1; /* GPIOB */
    GPIOB_MODER = (GPIOB_MODER & ~(0xFu << 12)) | (0xAu << 12);
    GPIOB_OTYPER |= 3u << 6;
    GPIOB_AFRL = (GPIOB_AFRL & ~(0xFFu << 24)) | (0x11u << 24);
    RCC_APB1ENR |= 1u << 21; /* I2C1EN */
    I2C1_CR1 &= ~1u;         /* PE off while it is set up */
    I2C1_TIMINGR = 0x00707CBBu;
    I2C1_CR2 |= AUTOEND | (1u << 15); /* the HAL's defaults: AUTOEND, NACK */
    I2C1_CR1 |= 1u;                   /* PE */
}

/* I2C_TransferConfig: MODIFY_REG of CR2's transfer fields */
static void transfer(uint32_t addr, uint32_t count, uint32_t mode)
{
    I2C1_CR2 = (I2C1_CR2 & ~CR2_CONFIG) | (addr << 1) | (count << 16) | mode;
}

/* wait for ISR `flag`; 0 on a NACK (the transfer ended) or a timeout */
static int wait_for(uint32_t flag)
{
    for (uint32_t n = 0; n < TIMEOUT; n++) {
        uint32_t isr = I2C1_ISR;
        if (isr & flag)
            return 1;
        if (isr & NACKF) {
            while (!(I2C1_ISR & STOPF))
                ;
            I2C1_ICR = NACKF | STOPF;
            return 0;
        }
    }
    return 0;
}

/* HAL_I2C_IsDeviceReady, one trial */
static int device_ready(uint32_t addr)
{
    transfer(addr, 0, AUTOEND | START);
    while (!(I2C1_ISR & (STOPF | NACKF)))
        ;
    int ready = !(I2C1_ISR & NACKF);
    while (!(I2C1_ISR & STOPF))
        ;
    I2C1_ICR = NACKF | STOPF;
    return ready;
}

/* HAL_I2C_Mem_Read of a 16-bit register: the pointer byte, a repeated start, two bytes */
static int read_reg16(uint32_t addr, uint32_t reg, uint32_t *value)
{
    transfer(addr, 1, START); /* no AUTOEND: TC after the pointer */
    if (!wait_for(TXIS))
        return 0;
    I2C1_TXDR = reg;
    if (!wait_for(TC))
        return 0;
    transfer(addr, 2, AUTOEND | START | RD_WRN);
    uint32_t v = 0;
    for (int i = 0; i < 2; i++) {
        if (!wait_for(RXNE))
            return 0;
        v = v << 8 | (I2C1_RXDR & 0xFFu);
    }
    if (!wait_for(STOPF))
        return 0;
    I2C1_ICR = STOPF;
    *value = v;
    return 1;
}

/* HAL_I2C_Mem_Write of a 16-bit register: the pointer byte (RELOAD: TCR), then its two bytes */
static int write_reg16(uint32_t addr, uint32_t reg, uint32_t value)
{
    transfer(addr, 1, RELOAD | START);
    if (!wait_for(TXIS))
        return 0;
    I2C1_TXDR = reg;
    if (!wait_for(TCR))
        return 0;
    transfer(addr, 2, AUTOEND);
    for (int i = 0; i < 2; i++) {
        if (!wait_for(TXIS))
            return 0;
        I2C1_TXDR = (value >> (8 - 8 * i)) & 0xFFu;
    }
    if (!wait_for(STOPF))
        return 0;
    I2C1_ICR = STOPF;
    return 1;
}

int main(void)
{
    usart2_init();
    i2c_init();
    puts_("thermometer up\r\n");
    if (!device_ready(TMP102)) {
        puts_("no TMP102 at 0x48\r\n");
        for (;;)
            __asm__ volatile("wfi");
    }
    puts_(device_ready(EEPROM) ? "EEPROM at 0x50\r\n" : "no EEPROM at 0x50\r\n");
    uint32_t config = 0;
    read_reg16(TMP102, 0x01u, &config);
    puts_("TMP102 config ");
    put_hex16(config);
    puts_("\r\n");
    /* alert window 20 C to 26 C: T_LOW and T_HIGH hold C x 16 << 4 */
    write_reg16(TMP102, 0x02u, (20u * 16u) << 4);
    write_reg16(TMP102, 0x03u, (26u * 16u) << 4);
    uint32_t high = 0;
    read_reg16(TMP102, 0x03u, &high);

    SYST_RVR = 16000000u - 1u; /* half a second at 32 MHz */
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (;;) {
        uint32_t seen = ticks;
        while (ticks == seen)
            __asm__ volatile("wfi" ::: "memory");
        uint32_t raw;
        if (!read_reg16(TMP102, 0x00u, &raw)) {
            puts_("TMP102 not answering\r\n");
            continue;
        }
        long centi = (long)(int16_t)raw / 16 * 100 / 16; /* 12 bits, 0.0625 C a step */
        long ms = (long)ticks * 500;
        put_num(ms / 1000, 1);
        put('.');
        put_num(ms % 1000 / 100, 1);
        puts_(" s  ");
        put_num(centi / 100, 1);
        put('.');
        put_num(centi % 100, 2);
        puts_(" C");
        if (raw > high)
            puts_("  above T_HIGH");
        puts_("\r\n");
    }
}
