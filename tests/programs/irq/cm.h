/* Cortex-M registers the interrupt tests use (CMSIS names, without CMSIS). */
#ifndef IRQ_CM_H
#define IRQ_CM_H
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))
#define REG8(a) (*(volatile uint8_t *)(a))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define NVIC_ISER REG(0xE000E100u)
#define NVIC_ICER REG(0xE000E180u)
#define NVIC_ISPR REG(0xE000E200u)
#define NVIC_ICPR REG(0xE000E280u)
#define NVIC_IABR REG(0xE000E300u)
#define NVIC_IPR(n) REG(0xE000E400u + 4u * ((n) / 4u))
#define SCB_CPUID REG(0xE000ED00u)
#define SCB_ICSR REG(0xE000ED04u)
#define SCB_VTOR REG(0xE000ED08u)
#define SCB_AIRCR REG(0xE000ED0Cu)
#define SCB_SCR REG(0xE000ED10u)
#define SCB_CCR REG(0xE000ED14u)
#define SCB_SHPR2 REG(0xE000ED1Cu)
#define SCB_SHPR3 REG(0xE000ED20u)
#define SCB_SHCSR REG(0xE000ED24u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define SCB_BFAR REG(0xE000ED38u)
#define DEMCR REG(0xE000EDFCu)
#define STIR REG(0xE000EF00u)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define PENDSVSET (1u << 28)

/* Word-wide priority write (ARMv6-M has no byte access to the IPR). */
static inline void set_irq_priority(unsigned irq, uint8_t prio)
{
    uint32_t shift = 8u * (irq % 4u);
    NVIC_IPR(irq) = (NVIC_IPR(irq) & ~(0xFFu << shift)) | ((uint32_t)prio << shift);
}

static inline void isb(void) { __asm__ volatile("dsb\n\tisb" ::: "memory"); }
#endif
