/*
 * The STM32L0's USART2 and LPUART1 (RM0377) as vendor firmware drives them, on the stm32l031
 * profile. CASE selects:
 *   polled     USART2 as STM32CubeL0's HAL_UART_Init and HAL_UART_Transmit/Receive use it:
 *              clock on, BRR, TE and RE, UE, wait for TEACK and REACK; each byte after TXE,
 *              TC at the end; the input read back polled up to a newline and sent upper-cased.
 *   irq        LPUART1 interrupt-driven both ways (IRQ 29): a line received a byte per
 *              interrupt while the core sleeps, then sent from TXEIE interrupts, TCIE at the end.
 *   no_clock   USART2 without its RCC clock: it ignores writes and reads 0, so TEACK never
 *              comes (a bounded wait here, for ever in a HAL that waits without a timeout).
 *   flags      TC clears on ICR.TCCF and sets with the next byte; clearing UE drops a byte not
 *              read; RQR.RXFRQ empties the buffer.
 *   rcc_reset  USART2 reset through RCC APB1RSTR (LL_USART_DeInit): its registers back to
 *              their reset values, so set up again (LL_USART_Init needs UE clear) it prints.
 *   gated_rx   USART2 receiving by interrupt with its clock switched off for a while: no byte
 *              arrives and no interrupt comes until the clock is back.
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_APB1ENR REG(0x40021038u)
#define RCC_APB1RSTR REG(0x40021028u)
#define USART2 0x40004400u
#define LPUART1 0x40004800u
#define CR1(u) REG((u) + 0x00u)
#define BRR(u) REG((u) + 0x0Cu)
#define RQR(u) REG((u) + 0x18u)
#define ISR(u) REG((u) + 0x1Cu)
#define ICR(u) REG((u) + 0x20u)
#define RDR(u) REG((u) + 0x24u)
#define TDR(u) (*(volatile uint16_t *)((u) + 0x28u)) /* 16 bits wide in the vendor's header */
#define UE 1u
#define RE (1u << 2)
#define TE (1u << 3)
#define RXNEIE (1u << 5)
#define TCIE (1u << 6)
#define TXEIE (1u << 7)
#define RXNE (1u << 5)
#define TC (1u << 6)
#define TXE (1u << 7)
#define TEACK (1u << 21)
#define REACK (1u << 22)

static void send(uint32_t u, const char *s)
{
    for (; *s; s++) {
        while (!(ISR(u) & TXE))
            ;
        TDR(u) = (uint8_t)*s;
    }
    while (!(ISR(u) & TC))
        ;
}

static int start(uint32_t u, uint32_t clock_bit, uint32_t brr, uint32_t cr1)
{
    RCC_APB1ENR |= 1u << clock_bit;
    BRR(u) = brr;
    CR1(u) = cr1;
    CR1(u) |= UE;
    for (int i = 0; i < 1000; i++)
        if ((ISR(u) & (TEACK | REACK)) == (TEACK | REACK))
            return 0;
    return 1;
}

#if CASE_polled
int main(void)
{
    if (start(USART2, 17, 278, TE | RE)) /* 115200 baud at 32 MHz */
        return 1;
    send(USART2, "usart2: hello\n");
    char line[32];
    unsigned n = 0;
    while (n < sizeof line - 1) {
        while (!(ISR(USART2) & RXNE))
            ;
        char c = (char)RDR(USART2);
        line[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
        if (c == '\n')
            break;
    }
    line[n] = 0;
    send(USART2, line);
    return 0;
}
#endif

#if CASE_irq
static char line[32];
static volatile unsigned received, sent, length;
static volatile int rx_done, tx_done;

void IRQ29_Handler(void)
{
    uint32_t isr = ISR(LPUART1), cr1 = CR1(LPUART1);
    if ((cr1 & RXNEIE) && (isr & RXNE)) {
        char c = (char)RDR(LPUART1);
        if (received < sizeof line - 1)
            line[received++] = c;
        if (c == '\n') {
            CR1(LPUART1) &= ~RXNEIE;
            rx_done = 1;
        }
    }
    if ((cr1 & TXEIE) && (isr & TXE)) {
        TDR(LPUART1) = (uint8_t)line[sent++];
        if (sent == length) { /* the last byte is in: wait for it to leave */
            CR1(LPUART1) = (CR1(LPUART1) & ~TXEIE) | TCIE;
        }
    }
    if ((cr1 & TCIE) && (isr & TC)) {
        CR1(LPUART1) &= ~TCIE;
        tx_done = 1;
    }
}

int main(void)
{
    /* LPUARTDIV = 256 x 32 MHz / 115200 */
    if (start(LPUART1, 18, 71111, TE | RE | RXNEIE))
        return 1;
    NVIC_ISER = 1u << 29;
    __asm__ volatile("cpsid i" ::: "memory");
    while (!rx_done)
        __asm__ volatile("wfi\n\tcpsie i\n\tisb\n\tcpsid i" ::: "memory");
    __asm__ volatile("cpsie i" ::: "memory");
    length = received;
    CR1(LPUART1) |= TXEIE;
    while (!tx_done)
        ;
    return sent == length ? 0 : 2;
}
#endif

#if CASE_no_clock
int main(void)
{
    BRR(USART2) = 278;
    CR1(USART2) = TE | UE;
    for (int i = 0; i < 100; i++)
        if (ISR(USART2) & TEACK)
            return 1;
    if (CR1(USART2) != 0 || BRR(USART2) != 0 || ISR(USART2) != 0)
        return 2;
    RCC_APB1ENR |= 1u << 17; /* the clock on: the writes before it were lost */
    if (CR1(USART2) != 0 || ISR(USART2) != (TXE | TC))
        return 3;
    return 0;
}
#endif

#if CASE_flags
int main(void)
{
    if (start(USART2, 17, 278, TE | RE))
        return 1;
    ICR(USART2) = TC;
    if (ISR(USART2) & TC)
        return 2;
    send(USART2, "x\n");
    if ((ISR(USART2) & (TXE | TC)) != (TXE | TC))
        return 3;
    if (!(ISR(USART2) & RXNE)) /* polled: the first input byte is there when looked for */
        return 4;
    RQR(USART2) = 1u << 3; /* RXFRQ: flushed; the next byte comes at the next look */
    if ((char)RDR(USART2) != 'b')
        return 5;
    (void)ISR(USART2); /* 'c' into the buffer */
    CR1(USART2) &= ~UE; /* disabled: 'c' is dropped, the flags reset */
    if (ISR(USART2) != (TXE | TC))
        return 6;
    CR1(USART2) |= UE;
    if ((char)RDR(USART2) != 'd')
        return 7;
    return 0;
}
#endif

#if CASE_rcc_reset
int main(void)
{
    if (start(USART2, 17, 278, TE | RE))
        return 1;
    RCC_APB1RSTR |= 1u << 17;
    RCC_APB1RSTR &= ~(1u << 17);
    if (CR1(USART2) != 0 || BRR(USART2) != 0 || ISR(USART2) != (TXE | TC))
        return 2;
    if (start(USART2, 17, 278, TE | RE))
        return 3;
    send(USART2, "again\n");
    return 0;
}
#endif

#if CASE_gated_rx
static volatile unsigned received;
static volatile int gated;
static volatile int early;

void IRQ28_Handler(void)
{
    if (gated)
        early = 1;
    if (ISR(USART2) & RXNE) {
        char c = (char)RDR(USART2);
        TDR(USART2) = (uint8_t)c;
        received++;
    }
}

int main(void)
{
    NVIC_ISER = 1u << 28;
    if (start(USART2, 17, 278, TE | RE | RXNEIE)) /* a character every 2,780 cycles */
        return 1;
    gated = 1;
    RCC_APB1ENR &= ~(1u << 17);
    for (volatile int i = 0; i < 2000; i++) /* over 10,000 cycles */
        ;
    gated = 0;
    if (received != 0 || early)
        return 2;
    RCC_APB1ENR |= 1u << 17;
    while (received < 4)
        ;
    while (!(ISR(USART2) & TC))
        ;
    return 0;
}
#endif
