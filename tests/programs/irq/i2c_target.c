/*
 * The STM32L0's I2C1 as a target (RM0377 section 27, slave mode), addressed by the run's host
 * (--i2c controller=FILE), driven as STM32CubeL0's HAL_I2C_Slave_* drive it, on the stm32l031
 * profile: own address OWN (OAR1, OA1EN). A sensor hub's protocol: the host writes a command
 * [0x10, n], then reads two bytes back, n squared (high byte first). CASE:
 *   poll     HAL_I2C_Slave_Receive then HAL_I2C_Slave_Transmit (polled), ROUNDS times: wait
 *            ADDR, check DIR, ICR.ADDRCF, the bytes (RXNE; TXIS), for the transmit NACKF,
 *            then STOPF (TXIS set: a third byte asked for as the second went out), TXDR
 *            flushed (ISR.TXE), CR2.NACK set between transfers.
 *   irq      interrupt-driven listen mode (HAL_I2C_EnableListen_IT: ADDRIE, RXIE, TXIE,
 *            STOPIE, NACKIE; IRQ 23), the core in WFI: a write then a read with a repeated
 *            start (the response made at the read's ADDR), ROUNDS times; prints each
 *            command received ("cmd xx xx").
 *   nack     the first byte of a write taken, then CR2.NACK set: the host's second byte is
 *            not acknowledged; then STOPF; prints ISR after it.
 *   nackbit  CR2.NACK set, then CR2 written 0 (RM0377: no effect), then PE cleared (it clears).
 *   stall    ADDR awaited, then the firmware exits without ICR.ADDRCF (the clock held).
 *   slow     a write of 2 bytes taken late: ~1 ms after ADDRCF the first byte is read, so the
 *            second waits behind RXNE (the clock held); prints both.
 *   abort    ADDR awaited, ADDRCF, then CR1.PE cleared: the host's write ends (aborted).
 *   stop     as irq, once, the core in Stop mode while idle: CR1.WUPEN, I2C1SEL the HSI16
 *            (-DNO_WUPEN: without it); the address match wakes it (IRQ 23), which stays
 *            awake (SLEEPDEEP clear) until the host's stop.
 *   dma      as poll, once, the bytes by DMA (HAL_I2C_Slave_Receive_DMA: channel 3, CSELR 6,
 *            RXDMAEN; HAL_I2C_Slave_Transmit_DMA: channel 2, TXDMAEN).
 *   oar2     no OAR1; OAR2 = OWN2 with OA2MSK MASK: a write of 1 byte received; prints
 *            ADDCODE.
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "hex.h"
#include "semihost.h"

#define RCC_APB1ENR REG(0x40021038u)
#define I2C1(off) REG(0x40005400u + (off))
#define CR1 0x00u
#define CR2 0x04u
#define OAR1 0x08u
#define OAR2 0x0Cu
#define TIMINGR 0x10u
#define ISR 0x18u
#define ICR 0x1Cu
#define RXDR 0x24u
#define TXDR 0x28u
#define PE 1u
#define TXIE (1u << 1)
#define RXIE (1u << 2)
#define ADDRIE (1u << 3)
#define NACKIE (1u << 4)
#define STOPIE (1u << 5)
#define NACK (1u << 15)
#define TXE 1u
#define TXIS (1u << 1)
#define RXNE (1u << 2)
#define ADDR (1u << 3)
#define NACKF (1u << 4)
#define STOPF (1u << 5)
#define BUSY (1u << 15)
#define DIR (1u << 16)
#ifndef OWN
#define OWN 0x42u
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif

static volatile uint8_t cmd[2], answer[2];
static volatile uint32_t rx_count, tx_count, stops, busy;

#ifndef WAIT
#define WAIT 2000000u
#endif

static void wait_set(uint32_t flag, int fail)
{
    for (uint32_t n = 0; !(I2C1(ISR) & flag); n++)
        if (n > WAIT)
            sh_exit(fail);
}

static void respond(void)
{
    uint32_t n = cmd[1];
    answer[0] = (uint8_t)(n * n >> 8);
    answer[1] = (uint8_t)(n * n);
}

void IRQ23_Handler(void) /* I2C1: HAL_I2C_EV_IRQHandler's slave path, in short */
{
    uint32_t isr = I2C1(ISR);
    if (isr & ADDR) {
        busy = 1; /* (CASE_stop: awake until the host's stop) */
        if (isr & DIR) { /* the host reads: the answer to the command, TXDR flushed */
            respond();
            tx_count = 0;
            I2C1(ISR) = TXE;
        } else {
            rx_count = 0;
        }
        I2C1(ICR) = ADDR;
    }
    if (isr & RXNE) {
        uint8_t byte = (uint8_t)I2C1(RXDR);
        if (rx_count < 2u)
            cmd[rx_count] = byte;
        rx_count++;
    }
    if ((isr & TXIS) && (I2C1(CR1) & TXIE))
        I2C1(TXDR) = tx_count < 2u ? answer[tx_count++] : 0xFFu;
    if (isr & NACKF)
        I2C1(ICR) = NACKF;
    if (isr & STOPF) {
        I2C1(ICR) = STOPF;
        I2C1(ISR) = TXE;     /* I2C_Flush_TXDR */
        I2C1(CR2) |= NACK;   /* I2C_ITSlaveCplt: the next address match clears it */
        busy = 0;
        stops++;
    }
}

/* HAL_I2C_Slave_Receive of the 2-byte command (exit fail .. fail + 3 where it stops) */
static void receive_command(int fail)
{
    wait_set(ADDR, fail);
    if (I2C1(ISR) & DIR)
        sh_exit(fail + 1);
    I2C1(ICR) = ADDR;
    for (uint32_t i = 0; i < 2u; i++) {
        wait_set(RXNE, fail + 2);
        cmd[i] = (uint8_t)I2C1(RXDR);
    }
    wait_set(STOPF, fail + 3);
    I2C1(ICR) = STOPF;
}

static void print_cmd(void)
{
    put_hex("cmd ", (uint32_t)cmd[0] << 8 | cmd[1]);
    sh_write0("\n");
}

int main(void)
{
    RCC_APB1ENR |= 1u << 21; /* I2C1EN */
    I2C1(CR1) = 0;
    I2C1(TIMINGR) = 0x00707CBBu;
#if CASE_oar2
    I2C1(OAR2) = (1u << 15) | (MASK << 8) | (OWN2 << 1);
#else
    I2C1(OAR1) = (1u << 15) | (OWN << 1);
#endif
    I2C1(CR1) = PE;
#if CASE_poll
    for (uint32_t round = 0; round < ROUNDS; round++) {
        I2C1(CR2) &= ~NACK; /* HAL_I2C_Slave_Receive */
        receive_command(1);
        I2C1(CR2) |= NACK;
        print_cmd();
        respond();
        I2C1(CR2) &= ~NACK; /* HAL_I2C_Slave_Transmit */
        wait_set(ADDR, 5);
        if (!(I2C1(ISR) & DIR))
            return 6;
        I2C1(ICR) = ADDR;
        for (uint32_t i = 0; i < 2u; i++) {
            wait_set(TXIS, 7);
            I2C1(TXDR) = answer[i];
        }
        wait_set(NACKF, 8);
        I2C1(ICR) = NACKF;
        wait_set(STOPF, 9);
        I2C1(ICR) = STOPF;
        if (!(I2C1(ISR) & TXIS)) /* asked for a third byte as the second went out */
            return 11;
        I2C1(TXDR) = 0; /* I2C_Flush_TXDR */
        I2C1(ISR) = TXE;
        if (I2C1(ISR) & BUSY)
            return 10;
        I2C1(CR2) |= NACK;
    }
    return 0;
#elif CASE_irq
    I2C1(CR1) = PE | TXIE | RXIE | ADDRIE | NACKIE | STOPIE;
    NVIC_ISER = 1u << 23;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        while (stops <= round)
            __asm__ volatile("wfi" ::: "memory");
        print_cmd();
    }
    return 0;
#elif CASE_stop
    REG(0x4002104Cu) = 2u << 12; /* RCC_CCIPR.I2C1SEL: HSI16 */
#ifdef NO_WUPEN
    I2C1(CR1) = PE | RXIE | ADDRIE | STOPIE;
#else
    I2C1(CR1) = PE | RXIE | ADDRIE | STOPIE | (1u << 18); /* WUPEN */
#endif
    NVIC_ISER = 1u << 23;
    while (stops < 1u) {
        SCB_SCR = busy ? 0u : 4u; /* SLEEPDEEP while idle: Stop mode */
        __asm__ volatile("wfi" ::: "memory");
    }
    SCB_SCR = 0u;
    print_cmd();
    return 0;
#elif CASE_nack
    wait_set(ADDR, 1);
    I2C1(ICR) = ADDR;
    wait_set(RXNE, 2);
    cmd[0] = (uint8_t)I2C1(RXDR);
    I2C1(CR2) |= NACK;
    wait_set(STOPF, 3);
    put_hex("isr ", I2C1(ISR));
    sh_write0("\n");
    return (I2C1(CR2) & NACK) ? 4 : 0; /* cleared by the NACK it sent */
#elif CASE_nackbit
    I2C1(CR2) = NACK;
    if (!(I2C1(CR2) & NACK))
        return 1;
    I2C1(CR2) = 0; /* writing 0 has no effect */
    if (!(I2C1(CR2) & NACK))
        return 2;
    I2C1(CR1) = 0; /* PE cleared: NACK clears */
    return (I2C1(CR2) & NACK) ? 3 : 0;
#elif CASE_stall
    wait_set(ADDR, 1);
    for (volatile uint32_t n = 0; n < 1000u; n++)
        ;
    return 0;
#elif CASE_dma
    REG(0x40021030u) |= 1u;                        /* RCC_AHBENR: DMAEN */
    REG(0x400200A8u) = (6u << 4) | (6u << 8);      /* CSELR: channels 2, 3: I2C1 */
    REG(0x40020038u) = 0x40005424u;                /* CPAR3: RXDR */
    REG(0x4002003Cu) = (uint32_t)cmd;              /* CMAR3 */
    REG(0x40020034u) = 2u;                         /* CNDTR3 */
    REG(0x40020030u) = (1u << 7) | 1u;             /* CCR3: MINC, EN */
    I2C1(CR1) |= 1u << 15;                         /* RXDMAEN */
    I2C1(CR2) &= ~NACK;
    wait_set(ADDR, 1);
    I2C1(ICR) = ADDR;
    wait_set(STOPF, 2);
    I2C1(ICR) = STOPF;
    I2C1(CR1) &= ~(1u << 15);
    print_cmd();
    respond();
    REG(0x40020024u) = 0x40005428u;                /* CPAR2: TXDR */
    REG(0x40020028u) = (uint32_t)answer;           /* CMAR2 */
    REG(0x40020020u) = 2u;                         /* CNDTR2 */
    REG(0x4002001Cu) = (1u << 7) | (1u << 4) | 1u; /* CCR2: MINC, DIR, EN */
    I2C1(CR1) |= 1u << 14;                         /* TXDMAEN */
    wait_set(ADDR, 3);
    I2C1(ICR) = ADDR;
    wait_set(NACKF, 4);
    I2C1(ICR) = NACKF;
    wait_set(STOPF, 5);
    I2C1(ICR) = STOPF;
    I2C1(ISR) = TXE;
    return REG(0x40020020u) == 0 ? 0 : 6;          /* the DMA moved both */
#elif CASE_slow
    wait_set(ADDR, 1);
    I2C1(ICR) = ADDR;
    for (volatile uint32_t n = 0; n < 4000u; n++) /* ~1 ms at 32 MHz */
        ;
    cmd[0] = (uint8_t)I2C1(RXDR);
    wait_set(RXNE, 2);
    cmd[1] = (uint8_t)I2C1(RXDR);
    wait_set(STOPF, 3);
    print_cmd();
    return 0;
#elif CASE_abort
    wait_set(ADDR, 1);
    I2C1(ICR) = ADDR;
    I2C1(CR1) = 0;
    for (volatile uint32_t n = 0; n < 4000u; n++)
        ;
    return (I2C1(ISR) & (BUSY | STOPF)) ? 2 : 0; /* off: the host's stop is not its */
#elif CASE_oar2
    wait_set(ADDR, 1);
    put_hex("addcode ", I2C1(ISR) >> 17 & 0x7Fu);
    sh_write0("\n");
    I2C1(ICR) = ADDR;
    wait_set(RXNE, 2);
    (void)I2C1(RXDR);
    wait_set(STOPF, 3);
    return 0;
#elif CASE_rcc_reset
    for (uint32_t round = 0; round < 2u; round++) {
        receive_command(1);
        print_cmd();
        REG(0x40021028u) |= 1u << 21; /* RCC_APB1RSTR: I2C1RST, then out of reset again */
        REG(0x40021028u) &= ~(1u << 21);
        I2C1(TIMINGR) = 0x00707CBBu;
        I2C1(OAR1) = (1u << 15) | (OWN << 1);
        I2C1(CR1) = PE;
    }
    return 0;
#endif
}
