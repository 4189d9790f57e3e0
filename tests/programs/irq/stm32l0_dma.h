/* The STM32L0x1's DMA1 registers (RM0377), for the test programs that drive it (dma.c, tim.c).
 * Needs cm.h's REG. */
#ifndef STM32L0_DMA_H
#define STM32L0_DMA_H
#define DMA_ISR REG(0x40020000u)
#define DMA_IFCR REG(0x40020004u)
#define DMA_CCR(n) REG(0x40020008u + 20u * ((n) - 1u))
#define DMA_CNDTR(n) REG(0x4002000Cu + 20u * ((n) - 1u))
#define DMA_CPAR(n) REG(0x40020010u + 20u * ((n) - 1u))
#define DMA_CMAR(n) REG(0x40020014u + 20u * ((n) - 1u))
#define DMA_CSELR REG(0x400200A8u)
#endif
