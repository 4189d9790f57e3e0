/* Priorities written a byte at a time, as ARMv7-M code may (NVIC_IPR and SHPR3 are byte
 * accessible there; word accessible only on ARMv6-M). Prints IRQ1's and SysTick's priority
 * bytes read back as words. */
#include "cm.h"
#include "semihost.h"

int main(void)
{
    *(volatile uint8_t *)(0xE000E400u + 1u) = 0x80u; /* IRQ1 */
    *(volatile uint8_t *)(0xE000ED23u) = 0x40u;      /* SysTick, SHPR3 byte 3 */
    sh_write_int((long)(NVIC_IPR(1) >> 8 & 0xFFu));
    sh_write0(" ");
    sh_write_int((long)(SCB_SHPR3 >> 24));
    sh_write0("\n");
    return 0;
}
