/* The mps2-an385 UART0, ITM stimulus port 0 and the DWT cycle counter. */
#include "cm.h"
#include "semihost.h"

#define UART_DATA REG(0x40004000u)
#define UART_STATE REG(0x40004004u)
#define UART_CTRL REG(0x40004008u)
#define UART_BAUDDIV REG(0x40004010u)
#define ITM_PORT0 REG(0xE0000000u)
#define ITM_TER REG(0xE0000E00u)
#define ITM_TCR REG(0xE0000E80u)

static void uart_puts(const char *s)
{
    for (; *s; s++) {
        while (UART_STATE & 1u) /* TX buffer full */
            ;
        UART_DATA = (uint8_t)*s;
    }
}

static void itm_puts(const char *s)
{
    for (; *s; s++) {
        while (ITM_PORT0 == 0u)
            ;
        REG8(0xE0000000u) = (uint8_t)*s;
    }
}

uint32_t __attribute__((noinline)) cyccnt(void) { return DWT_CYCCNT; }

int main(void)
{
    UART_BAUDDIV = 16;
    UART_CTRL = 1; /* TX enable */
    uart_puts("uart: hello\n");
#ifdef TRACE
    uint32_t gated = cyccnt();
    DWT_CTRL |= 1u; /* CYCCNTENA, but DEMCR.TRCENA still clear: no count */
    int stopped = cyccnt() == gated;
    DEMCR |= 1u << 24;
    ITM_TCR = 1u;
    ITM_TER = 1u;
    itm_puts("itm: hello\n");
    DWT_CYCCNT = 0;
    uint32_t c0 = cyccnt();
    volatile uint32_t x = 0;
    for (int i = 0; i < 100; i++)
        x += (uint32_t)i;
    uint32_t c1 = cyccnt();
    sh_write0(stopped ? "gated " : "not gated ");
    sh_write_int((long)c0);
    sh_write0(" ");
    sh_write_int((long)c1);
    sh_write0("\n");
#endif
    return 0;
}
