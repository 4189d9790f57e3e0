/*
 * A motion-classifying sensor hub on an STM32L031 (the stm32l031 profile, 32 MHz): an I2C
 * target at 0x42 (I2C1, interrupt-driven, as STM32CubeL0's HAL_I2C_EnableListen_IT serves
 * it) that a host processor polls. The eBNN is the BasicMotions model of
 * examples/basicmotions (6-axis motion in 100 steps, 4 classes), linked as the library
 * `ebnn export-c` writes; the window classified is the model's own sample.
 *
 * Registers (the host writes the register's number, then reads or writes from there):
 *   0x00 WHO_AM_I  0xEB
 *   0x01 COMMAND   write 1: classify the window (the core does it after the host's stop)
 *   0x02 STATUS    0 idle, 1 busy, 2 done
 *   0x03 CLASS     the class of the last window (0-3)
 *   0x04 COUNT     windows classified so far
 *
 *   ebnn export-c examples/basicmotions/basicmotions.ebnn -o out/motion
 *   ebnn-sim build examples/sensors/motion_hub.c out/motion/basicmotions.c -I out/motion \
 *       -t stm32l031 --irq-vectors -o out/hub.elf
 *   ebnn-sim run out/hub.elf --run-for 50ms --i2c controller=examples/sensors/host.toml
 *
 * Between transactions the core sleeps in WFI; I2C1's interrupt (IRQ 23) wakes it, and
 * SysTick every 10 ms. It never exits: run it for a length of device time.
 */
#include <stdint.h>
#include <stdio.h>

#include "basicmotions.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_APB1ENR REG(0x40021038u)
#define I2C1_CR1 REG(0x40005400u)
#define I2C1_OAR1 REG(0x40005408u)
#define I2C1_TIMINGR REG(0x40005410u)
#define I2C1_ISR REG(0x40005418u)
#define I2C1_ICR REG(0x4000541Cu)
#define I2C1_RXDR REG(0x40005424u)
#define I2C1_TXDR REG(0x40005428u)
#define NVIC_ISER REG(0xE000E100u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)

/* I2C_CR1: PE and the interrupts of listen mode; I2C_ISR's flags */
#define PE 1u
#define LISTEN ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5)) /* TX RX ADDR NACK STOP */
#define TXE 1u
#define TXIS (1u << 1)
#define RXNE (1u << 2)
#define ADDR (1u << 3)
#define NACKF (1u << 4)
#define STOPF (1u << 5)
#define DIR (1u << 16)
#define OWN 0x42u

enum { WHO_AM_I, COMMAND, STATUS, CLASS, COUNT, REGISTERS };
enum { IDLE, BUSY, DONE };

static volatile uint8_t regs[REGISTERS] = {0xEB, 0, IDLE, 0, 0};
static volatile uint8_t pointer;      /* the register the next byte reads or writes */
static volatile int first;            /* the next byte written is a register's number */
static volatile int classify;         /* the host asked for a window's class */
static volatile uint32_t ticks;       /* 10 ms each: the hub's own pace (a sensor's, say) */

void SysTick_Handler(void) { ticks++; }

void IRQ23_Handler(void) /* I2C1 (--irq-vectors names the interrupts by number) */
{
    uint32_t isr = I2C1_ISR;
    if (isr & ADDR) {
        if (isr & DIR)
            I2C1_ISR = TXE; /* flush: the first byte read is the register's, from now */
        else
            first = 1;
        I2C1_ICR = ADDR;
    }
    if (isr & RXNE) {
        uint8_t byte = (uint8_t)I2C1_RXDR;
        if (first) {
            first = 0;
            pointer = byte;
        } else {
            if (pointer == COMMAND && byte == 1u && regs[STATUS] != BUSY) {
                regs[STATUS] = BUSY;
                classify = 1;
            }
            pointer++;
        }
    }
    if (isr & TXIS)
        I2C1_TXDR = pointer < REGISTERS ? regs[pointer++] : 0xFFu;
    if (isr & NACKF)
        I2C1_ICR = NACKF;
    if (isr & STOPF)
        I2C1_ICR = STOPF;
}

int main(void)
{
    int32_t scores[BASICMOTIONS_CLASSES];
    RCC_APB1ENR |= 1u << 21;      /* I2C1EN */
    I2C1_TIMINGR = 0x00300F38u;   /* 400 kHz at 32 MHz (a target keeps the host's pace) */
    I2C1_OAR1 = (1u << 15) | (OWN << 1);
    I2C1_CR1 = PE | LISTEN;
    NVIC_ISER = 1u << 23;
    SYST_RVR = 320000u - 1u;      /* 10 ms */
    SYST_CSR = 7u;
    for (;;) {
        __asm__ volatile("wfi" ::: "memory");
        if (classify) {
            classify = 0;
            int cls = basicmotions_infer(basicmotions_sample, scores);
            regs[CLASS] = (uint8_t)cls;
            regs[COUNT]++;
            regs[STATUS] = DONE;
            printf("window %u: class %d\n", (unsigned)regs[COUNT], cls);
        }
    }
}
