/*
 * The STM32L0's SPI1 as a master (RM0377 section 29), driven as STM32CubeL0's HAL drives it,
 * on the stm32l031 profile (PCLK2 = the core's 32 MHz, BR = 2: 4 MHz). The devices are the run's
 * --spi devices; the chip select is PA4 (an output, high when idle) unless said. CASE:
 *   regs     HAL_SPI_TransmitReceive's loop (TXE, RXNE, a frame at a time; BSY at the end):
 *            WHO_AM_I (0x0F | read), a write of 0x57 to 0x20, its read-back, then 6 bytes from
 *            0x28 with the auto-increment bit (0xC0 | 0x28); prints "who 33 ctrl 57 data ..".
 *   nss      the same WHO_AM_I read with NSS as the chip select (SSM clear, SSOE set; SPE set
 *            for the transfer and cleared after it), twice; prints "who 33 33".
 *   modf     SSM set and SSI clear in a master: MODF, SPE and MSTR clear; cleared by an SR
 *            read and a CR1 write; exit 0 when so.
 *   ovr      two frames sent without reading DR: OVR; cleared by a DR read, then an SR read;
 *            exit 0 when so.
 *   irq      WHO_AM_I and 6 data bytes interrupt-driven (IRQ 25: TXEIE, RXNEIE), the core in
 *            WFI; prints "irq ..".
 *   dff      16-bit frames (DFF): 0x8F00 exchanged (the read command, then a dummy byte);
 *            prints "frame xxxx".
 *   latecs   the chip select lowered after the DR store, mid-frame (PCLK2 / 256: a frame of
 *            2,048 cycles): the device gets none of it; prints "late xx" (MISO).
 *   inblock  one basic block: the chip select lowered, a DR store (PCLK2 / 2: a 16-cycle
 *            frame), 24 NOPs, the chip select raised: the frame ended before CS rose and
 *            reached the device (WHO_AM_I's command); then the same with 4 NOPs: cut.
 *   clock    a frame at PCLK2 / 256 (2,048 cycles), RCC_CFGR.PPRE2 written mid-frame with
 *            PPRE2_BITS (0: / 1; 7: / 16): the rest of the frame at the new rate.
 *   timed    FRAMES frames sent back to back (TXE served at once), BSY waited for: the run's
 *            cycles time them.
 *   dma      the irq case's burst by DMA, as HAL_SPI_TransmitReceive_DMA does it: channel 2
 *            (CSELR 1) receives, channel 3 transmits, RXDMAEN then TXDMAEN; the receive
 *            channel's transfer-complete interrupt (IRQ 10) ends it; prints "dma ..".
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define GPIOA_MODER REG(0x50000000u)
#define GPIOA_BSRR REG(0x50000018u)
#define SPI1(off) REG(0x40013000u + (off))
#define CR1 0x00u
#define CR2 0x04u
#define SR 0x08u
#define DR 0x0Cu
#define MSTR (1u << 2)
#define BR_4MHZ (2u << 3)
#define SPE (1u << 6)
#define SSI (1u << 8)
#define SSM (1u << 9)
#define DFF (1u << 11)
#define SSOE (1u << 2)
#define RXNEIE (1u << 6)
#define TXEIE (1u << 7)
#define RXNE 1u
#define TXE 2u
#define MODF (1u << 5)
#define OVR (1u << 6)
#define BSY (1u << 7)
#ifndef FRAMES
#define FRAMES 4
#endif

static volatile uint8_t txb[16], rxb[16];
static volatile uint32_t tx_n, rx_n, total;

static void cs(int low) { GPIOA_BSRR = low ? 1u << (16 + 4) : 1u << 4; }

static void hex(uint32_t v, int digits)
{
    static const char d[] = "0123456789abcdef";
    char text[9];
    for (int i = 0; i < digits; i++)
        text[i] = d[(v >> (4 * (digits - 1 - i))) & 15u];
    text[digits] = 0;
    sh_write0(text);
}

/* HAL_SPI_TransmitReceive, 8-bit frames */
static void txrx(const uint8_t *tx, uint8_t *rx, uint32_t n)
{
    uint32_t sent = 0, got = 0;
    int allowed = 1;
    while (got < n) {
        if ((SPI1(SR) & TXE) && sent < n && allowed) {
            *(volatile uint8_t *)&SPI1(DR) = tx[sent++];
            allowed = 0;
        }
        if ((SPI1(SR) & RXNE) && got < n) {
            rx[got++] = *(volatile uint8_t *)&SPI1(DR);
            allowed = 1;
        }
    }
    while (SPI1(SR) & BSY)
        ;
}

static uint8_t reg_read(uint8_t reg)
{
    uint8_t tx[2] = {(uint8_t)(0x80u | reg), 0}, rx[2];
    cs(1);
    txrx(tx, rx, 2);
    cs(0);
    return rx[1];
}

void IRQ10_Handler(void) /* DMA1_Channel2_3: the receive channel done */
{
    REG(0x40020004u) = 1u << 4; /* IFCR: CGIF2 */
    rx_n = 7;
}

void IRQ25_Handler(void) /* SPI1 */
{
    uint32_t sr = SPI1(SR);
    if (sr & RXNE) {
        rxb[rx_n++] = (uint8_t)SPI1(DR);
        if (tx_n < total)
            SPI1(CR2) |= TXEIE;
    }
    if ((sr & TXE) && (SPI1(CR2) & TXEIE)) {
        SPI1(DR) = txb[tx_n++];
        SPI1(CR2) &= ~TXEIE; /* one frame at a time: the next after its answer */
    }
}

int main(void)
{
    RCC_IOPENR |= 1u;
    GPIOA_BSRR = 1u << 4;                                   /* PA4 high: not selected */
    GPIOA_MODER = (GPIOA_MODER & ~(3u << 8)) | (1u << 8); /* PA4: output */
#ifndef NO_CLOCK
    RCC_APB2ENR |= 1u << 12; /* SPI1EN */
#endif
#if CASE_regs
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI;
    SPI1(CR1) |= SPE;
    uint8_t who = reg_read(0x0F);
    uint8_t w[2] = {0x20, 0x57}, r[8];
    cs(1);
    txrx(w, r, 2);
    cs(0);
    uint8_t ctrl = reg_read(0x20);
    uint8_t burst[7] = {0xC0u | 0x28u, 0, 0, 0, 0, 0, 0};
    cs(1);
    txrx(burst, r, 7);
    cs(0);
    sh_write0("who ");
    hex(who, 2);
    sh_write0(" ctrl ");
    hex(ctrl, 2);
    sh_write0(" data");
    for (int i = 1; i < 7; i++) {
        sh_write0(" ");
        hex(r[i], 2);
    }
    sh_write0("\n");
    return 0;
#elif CASE_nss
    SPI1(CR2) = SSOE;
    sh_write0("who");
    for (int i = 0; i < 2; i++) {
        SPI1(CR1) = MSTR | BR_4MHZ | SPE;
        uint8_t tx[2] = {0x8Fu, 0}, rx[2];
        txrx(tx, rx, 2);
        SPI1(CR1) = MSTR | BR_4MHZ;
        sh_write0(" ");
        hex(rx[1], 2);
    }
    sh_write0("\n");
    return 0;
#elif CASE_modf
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SPE; /* SSI clear: NSS low */
    if (!(SPI1(SR) & MODF))
        return 1;
    if (SPI1(CR1) & (SPE | MSTR))
        return 2;
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI; /* after the SR read: MODF clears */
    if (SPI1(SR) & MODF)
        return 3;
    return 0;
#elif CASE_ovr
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI | SPE;
    cs(1);
    SPI1(DR) = 0x8Fu;
    while (!(SPI1(SR) & TXE))
        ;
    SPI1(DR) = 0x00u;
    while (SPI1(SR) & BSY)
        ;
    cs(0);
    if (!(SPI1(SR) & OVR) || !(SPI1(SR) & RXNE))
        return 1;
    uint32_t first = SPI1(DR); /* the first frame's answer: the second was lost */
    (void)SPI1(SR);
    if (SPI1(SR) & (OVR | RXNE))
        return 2;
    return first == 0xFFu ? 0 : 3;
#elif CASE_irq
    static const uint8_t cmd[7] = {0xC0u | 0x28u, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 7; i++)
        txb[i] = cmd[i];
    total = 7;
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI | SPE;
    NVIC_ISER = 1u << 25;
    cs(1);
    SPI1(CR2) = RXNEIE | TXEIE;
    while (rx_n < total)
        __asm volatile("wfi");
    while (SPI1(SR) & BSY)
        ;
    cs(0);
    sh_write0("irq");
    for (int i = 1; i < 7; i++) {
        sh_write0(" ");
        hex(rxb[i], 2);
    }
    sh_write0("\n");
    return 0;
#elif CASE_dma
    static const uint8_t cmd[7] = {0xC0u | 0x28u, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 7; i++)
        txb[i] = cmd[i];
    REG(0x40021030u) |= 1u;                     /* RCC_AHBENR: DMAEN */
    REG(0x400200A8u) = (1u << 4) | (1u << 8);   /* CSELR: channels 2 and 3, SPI1 */
    REG(0x40020024u) = 0x4001300Cu;              /* CPAR2: DR */
    REG(0x40020028u) = (uint32_t)rxb;           /* CMAR2 */
    REG(0x40020020u) = 7;                       /* CNDTR2 */
    REG(0x4002001Cu) = (1u << 7) | (1u << 1) | 1u; /* CCR2: MINC, TCIE, EN */
    REG(0x40020038u) = 0x4001300Cu;              /* CPAR3 */
    REG(0x4002003Cu) = (uint32_t)txb;           /* CMAR3 */
    REG(0x40020034u) = 7;                       /* CNDTR3 */
    REG(0x40020030u) = (1u << 7) | (1u << 4) | 1u; /* CCR3: MINC, DIR, EN */
    NVIC_ISER = 1u << 10;
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI | SPE;
    cs(1);
    SPI1(CR2) = 1u;                             /* RXDMAEN */
    SPI1(CR2) |= 2u;                            /* TXDMAEN */
    while (!rx_n)
        __asm volatile("wfi");
    while (SPI1(SR) & BSY)
        ;
    cs(0);
    sh_write0("dma");
    for (int i = 1; i < 7; i++) {
        sh_write0(" ");
        hex(rxb[i], 2);
    }
    sh_write0("\n");
    return 0;
#elif CASE_dff
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI | DFF | SPE;
    cs(1);
    SPI1(DR) = 0x8F00u;
    while (!(SPI1(SR) & RXNE))
        ;
    uint32_t frame = SPI1(DR);
    cs(0);
    sh_write0("frame ");
    hex(frame, 4);
    sh_write0("\n");
    return 0;
#elif CASE_latecs
    SPI1(CR1) = MSTR | (7u << 3) | SSM | SSI | SPE;
    SPI1(DR) = 0x8Fu;
    for (volatile int i = 0; i < 20; i++)
        ;
    cs(1);
    while (!(SPI1(SR) & RXNE))
        ;
    uint32_t late = SPI1(DR);
    while (SPI1(SR) & BSY)
        ;
    cs(0);
    sh_write0("late ");
    hex(late, 2);
    sh_write0("\n");
    return 0;
#elif CASE_inblock
    SPI1(CR1) = MSTR | SSM | SSI | SPE; /* BR 0: PCLK2 / 2, 16 cycles a frame */
    uint32_t cmd = 0x8Fu, lo = 1u << (16 + 4), hi = 1u << 4;
    volatile uint32_t *dr = &SPI1(DR), *bsrr = &GPIOA_BSRR;
    __asm volatile("str %[lo], [%[bsrr]]\n\tstr %[cmd], [%[dr]]\n\t"
                   ".rept 24\n\tnop\n\t.endr\n\tstr %[hi], [%[bsrr]]"
                   :: [lo] "l"(lo), [hi] "l"(hi), [cmd] "l"(cmd), [dr] "l"(dr),
                      [bsrr] "l"(bsrr) : "memory");
    while (SPI1(SR) & BSY)
        ;
    (void)SPI1(DR);
    __asm volatile("str %[lo], [%[bsrr]]\n\tstr %[cmd], [%[dr]]\n\t"
                   ".rept 4\n\tnop\n\t.endr\n\tstr %[hi], [%[bsrr]]"
                   :: [lo] "l"(lo), [hi] "l"(hi), [cmd] "l"(cmd), [dr] "l"(dr),
                      [bsrr] "l"(bsrr) : "memory");
    while (SPI1(SR) & BSY)
        ;
    (void)SPI1(DR);
    return 0;
#elif CASE_clock
    SPI1(CR1) = MSTR | (7u << 3) | SSM | SSI | SPE;
    cs(1);
    SPI1(DR) = 0x8Fu;
    for (volatile int i = 0; i < 20; i++)
        ;
    REG(0x4002100Cu) |= PPRE2_BITS << 11; /* RCC_CFGR.PPRE2 */
    while (!(SPI1(SR) & RXNE))
        ;
    cs(0);
    return 0;
#elif CASE_timed
    SPI1(CR1) = MSTR | BR_4MHZ | SSM | SSI | SPE;
    cs(1);
    for (int i = 0; i < FRAMES; i++) {
        while (!(SPI1(SR) & TXE))
            ;
        SPI1(DR) = 0x8Fu;
    }
    while (SPI1(SR) & BSY)
        ;
    cs(0);
    (void)SPI1(DR);
    (void)SPI1(SR);
    return 0;
#endif
}
