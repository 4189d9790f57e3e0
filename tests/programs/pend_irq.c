/* Enables and pends IRQ 3 although the image's vector table (firmware/startup.c: the 16
 * system exceptions) has no entry for it. */
#include <stdint.h>

int main(void)
{
    *(volatile uint32_t *)0xE000E100u = 1u << 3; /* NVIC_ISER */
    *(volatile uint32_t *)0xE000E200u = 1u << 3; /* NVIC_ISPR */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    return 0;
}
