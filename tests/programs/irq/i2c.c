/*
 * The STM32L0's I2C1 as a bus controller (RM0377 section 27), driven as STM32CubeL0's HAL drives
 * it, on the stm32l031 profile (PCLK1 = the core's 32 MHz: TIMINGR 0x00707CBB, 100 kHz). The
 * targets are the run's --i2c devices. CASE:
 *   mem      a register write (HAL_I2C_Mem_Write: the register, then DATA_BYTES bytes, AUTOEND)
 *            to ADDR at register 0x10, then a register read (HAL_I2C_Mem_Read: the register
 *            with NBYTES 1 and no AUTOEND, TC, a repeated start reading READ_BYTES from
 *            register READ_REG, AUTOEND); prints "read: xx xx ...".
 *   probe    HAL_I2C_IsDeviceReady at 0x48 and 0x50 (NBYTES 0, AUTOEND): prints "0x48 ack" or
 *            "nack" for each.
 *   irq      the same register read as mem, interrupt-driven (IRQ 23: TXIS, RXNE, TC, STOPF
 *            with their enables), the core in WFI until STOPF; prints "read: ...".
 *   reload   a read of LONG_BYTES from 2-byte register 0x0000 of ADDR with CR2.RELOAD: 255
 *            bytes, TCR, the rest with AUTOEND; prints the sum of the bytes.
 *   nack     TXDR filled, then a write of 3 bytes to ADDR (with no target there): NACKF and
 *            STOPF set, BUSY, TXIS and START clear, the byte still in TXDR (TXE clear) until
 *            I2C_Flush_TXDR's store of ISR.TXE; exit 0 when so.
 *   pe       a read started, then CR1.PE cleared mid-transfer: BUSY and the flags clear, TXE
 *            set; exit 0 when so.
 *   halwrite HAL_I2C_Mem_Write's own sequence for one byte: the register with NBYTES 1 and
 *            RELOAD (TCR), then NBYTES 1 again with AUTOEND and no start (a read-modify-write
 *            of CR2 as I2C_TransferConfig's MODIFY_REG), 0x5A to register 0x11; read back.
 *   abort    a read of 8 bytes from register 0x10, CR2.STOP written after the second byte
 *            (HAL_I2C_Master_Abort_IT): the stop follows the byte under way; prints the bytes
 *            the driver got and "stopped".
 *   phantom  a read of 8 bytes from 0x10, the second byte left waiting behind an unread RXDR,
 *            then CR2.STOP (HAL_I2C_Master_Abort_IT): the two bytes read, STOPF, and the bus
 *            idle after (no further byte); then a read of 2 bytes from 0x10 again.
 *   pestart  CR2.START, then CR1.PE cleared during the address: START clears with PE; a
 *            read of 2 bytes from 0x10 after it (I2C_TransferConfig's read-modify-write).
 *   pending  the register byte written, and at once (before TC) CR2 with START, RD_WRN, 2
 *            bytes (no AUTOEND): the repeated start waits for the count's end; TC, STOP;
 *            prints the bytes.
 *   timed    READ_BYTES read from register 0 (polled), nothing printed: the run's cycles
 *            time the transfer.
 *   dma      as mem, both data phases by DMA (HAL_I2C_Mem_Write_DMA, HAL_I2C_Mem_Read_DMA):
 *            the DATA_BYTES after the register from channel 2 (CSELR 6, TXDMAEN), then the
 *            READ_BYTES into channel 3 (CSELR 6, RXDMAEN); prints "read: ...".
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_APB1ENR REG(0x40021038u)
#define I2C1(off) REG(0x40005400u + (off))
#define CR1 0x00u
#define CR2 0x04u
#define TIMINGR 0x10u
#define ISR 0x18u
#define ICR 0x1Cu
#define RXDR 0x24u
#define TXDR 0x28u
#define PE 1u
#define TXIE (1u << 1)
#define RXIE (1u << 2)
#define NACKIE (1u << 4)
#define STOPIE (1u << 5)
#define TCIE (1u << 6)
#define RD_WRN (1u << 10)
#define START (1u << 13)
#define STOP (1u << 14)
#define RELOAD (1u << 24)
#define AUTOEND (1u << 25)
#define TXE 1u
#define TXIS (1u << 1)
#define RXNE (1u << 2)
#define NACKF (1u << 4)
#define STOPF (1u << 5)
#define TC (1u << 6)
#define TCR (1u << 7)
#define BUSY (1u << 15)
#ifndef ADDR
#define ADDR 0x48u
#endif
#ifndef DATA_BYTES
#define DATA_BYTES 3
#endif
#ifndef READ_REG
#define READ_REG 0x10u
#endif
#ifndef READ_BYTES
#define READ_BYTES 4
#endif
#ifndef LONG_BYTES
#define LONG_BYTES 300
#endif

static volatile uint8_t rx[512];
static volatile uint32_t rx_count, tx_count, done, reg;

static void wait_set(uint32_t flag, int fail)
{
    for (uint32_t n = 0; !(I2C1(ISR) & flag); n++)
        if (n > 200000u || (I2C1(ISR) & NACKF))
            sh_exit(fail);
}

/* I2C_TransferConfig: the target, the count, the mode, the request */
static void transfer(uint32_t addr, uint32_t nbytes, uint32_t mode, uint32_t request)
{
    I2C1(CR2) = (addr << 1) | (nbytes << 16) | mode | request;
}

static void print_rx(uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    sh_write0("read:");
    for (uint32_t i = 0; i < n; i++) {
        char text[4] = {' ', digits[rx[i] >> 4], digits[rx[i] & 15u], 0};
        sh_write0(text);
    }
    sh_write0("\n");
}

static void read_polled(uint32_t addr, uint32_t first, uint32_t n)
{
    transfer(addr, 1, 0, START); /* the register, no AUTOEND: TC */
    wait_set(TXIS, 10);
    I2C1(TXDR) = first;
    wait_set(TC, 11);
    transfer(addr, n, AUTOEND, START | RD_WRN); /* a repeated start */
    for (uint32_t i = 0; i < n; i++) {
        wait_set(RXNE, 12);
        rx[i] = (uint8_t)I2C1(RXDR);
    }
    wait_set(STOPF, 13);
    I2C1(ICR) = STOPF;
}

void IRQ23_Handler(void) /* I2C1 */
{
    uint32_t isr = I2C1(ISR);
    if (isr & TXIS)
        I2C1(TXDR) = reg;
    if (isr & RXNE)
        rx[rx_count++] = (uint8_t)I2C1(RXDR);
    if (isr & TC)
        transfer(ADDR, READ_BYTES, AUTOEND, START | RD_WRN);
    if (isr & STOPF) {
        I2C1(ICR) = STOPF;
        done = 1;
    }
    if (isr & NACKF) {
        I2C1(ICR) = NACKF;
        done = 2;
    }
}

int main(void)
{
#ifndef NO_CLOCK
    RCC_APB1ENR |= 1u << 21; /* I2C1EN */
#endif
    I2C1(CR1) = 0;
    I2C1(TIMINGR) = 0x00707CBBu;
    I2C1(CR1) = PE;
#if CASE_mem
    transfer(ADDR, 1 + DATA_BYTES, AUTOEND, START);
    for (uint32_t i = 0; i < 1 + DATA_BYTES; i++) {
        wait_set(TXIS, 1);
        I2C1(TXDR) = i == 0 ? 0x10u : 0xA0u + i;
    }
    wait_set(STOPF, 2);
    I2C1(ICR) = STOPF;
    if (I2C1(ISR) & BUSY)
        return 3;
    read_polled(ADDR, READ_REG, READ_BYTES);
    print_rx(READ_BYTES);
    return 0;
#elif CASE_dma
    static const uint8_t data[8] = {0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8};
    REG(0x40021030u) |= 1u;                        /* RCC_AHBENR: DMAEN */
    REG(0x400200A8u) = (6u << 4) | (6u << 8);      /* CSELR: channels 2, 3: I2C1 */
    REG(0x40020024u) = 0x40005428u;                /* CPAR2: TXDR */
    REG(0x40020028u) = (uint32_t)data;             /* CMAR2 */
    REG(0x40020020u) = DATA_BYTES;                 /* CNDTR2 */
    REG(0x4002001Cu) = (1u << 7) | (1u << 4) | 1u; /* CCR2: MINC, DIR, EN */
    transfer(ADDR, 1, RELOAD, START);              /* the register, then TCR */
    wait_set(TXIS, 1);
    I2C1(TXDR) = 0x10u;
    wait_set(TCR, 2);
    I2C1(CR1) |= 1u << 14;                         /* TXDMAEN */
    transfer(ADDR, DATA_BYTES, AUTOEND, 0);
    wait_set(STOPF, 3);
    I2C1(ICR) = STOPF;
    I2C1(CR1) &= ~(1u << 14);
    if (!(REG(0x40020000u) & (2u << 4)))           /* ISR: TCIF2 */
        return 4;
    REG(0x40020038u) = 0x40005424u;                /* CPAR3: RXDR */
    REG(0x4002003Cu) = (uint32_t)rx;               /* CMAR3 */
    REG(0x40020034u) = READ_BYTES;                 /* CNDTR3 */
    REG(0x40020030u) = (1u << 7) | 1u;             /* CCR3: MINC, EN */
    transfer(ADDR, 1, 0, START);
    wait_set(TXIS, 5);
    I2C1(TXDR) = READ_REG;
    wait_set(TC, 6);
    I2C1(CR1) |= 1u << 15;                         /* RXDMAEN */
    transfer(ADDR, READ_BYTES, AUTOEND, START | RD_WRN);
    wait_set(STOPF, 7);
    I2C1(ICR) = STOPF;
    if (!(REG(0x40020000u) & (2u << 8)))           /* ISR: TCIF3 */
        return 8;
    print_rx(READ_BYTES);
    return 0;
#elif CASE_probe
    static const uint32_t addrs[2] = {0x48u, 0x50u};
    for (int i = 0; i < 2; i++) {
        transfer(addrs[i], 0, AUTOEND, START);
        for (uint32_t n = 0; !(I2C1(ISR) & STOPF); n++)
            if (n > 100000u)
                return 1;
        sh_write0(addrs[i] == 0x48u ? "0x48 " : "0x50 ");
        sh_write0(I2C1(ISR) & NACKF ? "nack\n" : "ack\n");
        I2C1(ICR) = STOPF | NACKF;
    }
    return 0;
#elif CASE_irq
    reg = READ_REG;
    NVIC_ISER = 1u << 23;
    I2C1(CR1) = PE | TXIE | RXIE | TCIE | STOPIE | NACKIE;
    transfer(ADDR, 1, 0, START);
    while (!done)
        __asm volatile("wfi");
    if (done != 1 || rx_count != READ_BYTES)
        return 1;
    print_rx(READ_BYTES);
    return 0;
#elif CASE_reload
    transfer(ADDR, 2, 0, START);
    wait_set(TXIS, 1);
    I2C1(TXDR) = 0;
    wait_set(TXIS, 2);
    I2C1(TXDR) = 0;
    wait_set(TC, 3);
    uint32_t left = LONG_BYTES, got = 0, sum = 0;
    uint32_t chunk = left > 255u ? 255u : left;
    transfer(ADDR, chunk, left > 255u ? RELOAD : AUTOEND, START | RD_WRN);
    while (left) {
        for (uint32_t i = 0; i < chunk; i++) {
            wait_set(RXNE, 4);
            sum += I2C1(RXDR) & 0xFFu;
            got++;
        }
        left -= chunk;
        if (left) {
            wait_set(TCR, 5);
            chunk = left > 255u ? 255u : left;
            transfer(ADDR, chunk, left > 255u ? RELOAD : AUTOEND, 0);
        }
    }
    wait_set(STOPF, 6);
    sh_write0("sum ");
    sh_write_int((long)sum);
    sh_write0(" of ");
    sh_write_int((long)got);
    sh_write0("\n");
    return 0;
#elif CASE_nack
    I2C1(TXDR) = 0x55u; /* TXDR filled before the start: TXE clear */
    transfer(ADDR, 3, AUTOEND, START);
    for (uint32_t n = 0; !(I2C1(ISR) & STOPF); n++)
        if (n > 100000u)
            return 1;
    uint32_t isr = I2C1(ISR);
    if (!(isr & NACKF) || (isr & (BUSY | TXIS)) || (I2C1(CR2) & START))
        return 2;
    if (isr & TXE)
        return 3; /* the byte is still in TXDR */
    I2C1(ISR) = TXE; /* I2C_Flush_TXDR */
    if (!(I2C1(ISR) & TXE))
        return 4;
    I2C1(ICR) = STOPF | NACKF;
    return I2C1(ISR) & (STOPF | NACKF) ? 5 : 0;
#elif CASE_pe
    transfer(ADDR, 8, AUTOEND, START | RD_WRN);
    wait_set(RXNE, 1);
    if (!(I2C1(ISR) & BUSY))
        return 2;
    I2C1(CR1) = 0;
    if (I2C1(ISR) != TXE)
        return 3;
    I2C1(CR1) = PE;
    for (volatile int i = 0; i < 10000; i++)
        ;
    return I2C1(ISR) == TXE ? 0 : 4;
#elif CASE_halwrite
    I2C1(CR2) = (I2C1(CR2) & ~0x03FF67FFu) | (ADDR << 1) | (1u << 16) | RELOAD | START;
    wait_set(TXIS, 1);
    I2C1(TXDR) = 0x11u;
    wait_set(TCR, 2);
    I2C1(CR2) = (I2C1(CR2) & ~0x03FF67FFu) | (ADDR << 1) | (1u << 16) | AUTOEND;
    wait_set(TXIS, 3);
    I2C1(TXDR) = 0x5Au;
    wait_set(STOPF, 4);
    I2C1(ICR) = STOPF;
    I2C1(CR2) &= ~0x00FF07FFu; /* I2C_RESET_CR2 */
    read_polled(ADDR, 0x10u, 3);
    print_rx(3);
    return 0;
#elif CASE_abort
    transfer(ADDR, 1, 0, START);
    wait_set(TXIS, 1);
    I2C1(TXDR) = 0x10u;
    wait_set(TC, 2);
    transfer(ADDR, 8, 0, START | RD_WRN);
    uint32_t got = 0;
    while (!(I2C1(ISR) & STOPF)) {
        if (I2C1(ISR) & RXNE) {
            rx[got++] = (uint8_t)I2C1(RXDR);
            if (got == 2)
                I2C1(CR2) |= STOP;
        }
    }
    if (I2C1(ISR) & RXNE)
        rx[got++] = (uint8_t)I2C1(RXDR);
    print_rx(got);
    sh_write0(I2C1(ISR) & BUSY ? "busy\n" : "stopped\n");
    return 0;
#elif CASE_phantom
    transfer(ADDR, 1, 0, START);
    wait_set(TXIS, 1);
    I2C1(TXDR) = 0x10u;
    wait_set(TC, 2);
    transfer(ADDR, 8, 0, START | RD_WRN);
    wait_set(RXNE, 3);
    for (volatile int i = 0; i < 4000; i++) /* the second byte arrives and waits */
        ;
    I2C1(CR2) |= STOP;
    rx[0] = (uint8_t)I2C1(RXDR);
    rx[1] = (uint8_t)I2C1(RXDR);
    wait_set(STOPF, 4);
    I2C1(ICR) = STOPF;
    for (volatile int i = 0; i < 4000; i++)
        ;
    if (I2C1(ISR) != TXE)
        return 5; /* idle: no byte, no flag */
    print_rx(2);
    read_polled(ADDR, 0x10u, 2);
    print_rx(2);
    return 0;
#elif CASE_pestart
    transfer(ADDR, 1, 0, START);
    I2C1(CR1) = 0;
    if (I2C1(CR2) & (START | STOP))
        return 1;
    I2C1(CR1) = PE;
    I2C1(CR2) = (I2C1(CR2) & ~0x03FF67FFu) | (ADDR << 1) | (1u << 16) | START;
    wait_set(TXIS, 2);
    I2C1(TXDR) = 0x10u;
    wait_set(TC, 3);
    I2C1(CR2) = (I2C1(CR2) & ~0x03FF67FFu) | (ADDR << 1) | (2u << 16) | AUTOEND | START | RD_WRN;
    for (int i = 0; i < 2; i++) {
        wait_set(RXNE, 4);
        rx[i] = (uint8_t)I2C1(RXDR);
    }
    wait_set(STOPF, 5);
    print_rx(2);
    return 0;
#elif CASE_pending
    transfer(ADDR, 1, 0, START);
    wait_set(TXIS, 1);
    I2C1(TXDR) = 0x10u;
    transfer(ADDR, 2, 0, START | RD_WRN); /* before TC; no AUTOEND */
    for (int i = 0; i < 2; i++) {
        wait_set(RXNE, 2);
        rx[i] = (uint8_t)I2C1(RXDR);
    }
    wait_set(TC, 3);
    I2C1(CR2) |= STOP;
    wait_set(STOPF, 4);
    print_rx(2);
    return 0;
#elif CASE_timed
    read_polled(ADDR, 0, READ_BYTES);
    return 0;
#endif
}
