/*
 * The STM32L0's GPIO ports, SYSCFG's EXTI line selection and the EXTI (RM0377) as STM32CubeL0's
 * HAL_GPIO_Init sets them up, on the stm32l031 profile. CASE:
 *   blink    PA5 a push-pull output, toggled (BSRR, BRR) TOGGLES times, SysTick-timed:
 *            DELAY_CYCLES between toggles.
 *   button   PA0 an input with a pull-up, EXTI line 0 on its falling edge (EXTICR1: port A),
 *            IRQ 5: the core in WFI (with -DSTOP in Stop mode) until PRESSES presses, each
 *            toggling PA5 in the handler; prints "presses N".
 *   levels   IDR of PB0-PB4 and PB8 configured as: PB0 input (--pin drives it), PB1 pull-up,
 *            PB2 pull-down, PB3 floating, PB4 push-pull output at 1, PB8 open-drain released
 *            with a pull-up; prints "idr 0xNNNN". Then PB4 driven low through ODR and PB8
 *            pulled low (open-drain, ODR 0): prints the IDR again.
 *   lock     LCKR's key sequence locks PB5: a MODER write to it afterwards is ignored, to
 *            PB6 is not; exit 0 when so.
 *   route    EXTI line 3 from PB3 (EXTICR1 = 1 << 12), rising edge, software-pended line 3
 *            too: counts the handler's entries for a PB3 --pin file; prints "edges N".
 *   noclock  IDR read and a MODER write with the port's clock off (RCC_IOPENR clear).
 *   pulse    PA5 set and reset back to back (BSRR then BRR, two stores in one basic block)
 *            PULSES times: a pulse of one store's cycles each.
 *   lock_empty LCKR's key sequence with no LCK bit: LCKK reads 1 and LCKR is frozen (a
 *            second sequence for PB5 locks nothing: its MODER still takes a write).
 *   alias    one block: a RAM store through r3, r3 then set to BSRR and a store through it,
 *            10 NOPs, BRR through another register, 10 NOPs; three times: PA5 pulses 12 cycles
 *            wide (STR and the NOPs), the RAM store's register now equal to BSRR's address.
 *   stm      one block: STMIA writing ODR (PA5 1) and BSRR (PA5 0) in one instruction, then a
 *            RAM store and 20 NOPs; three times: PA5 pulses no wider than the STM.
 *   syscfg   CFGR3's VREFINT_RDYF read (HAL_ADCEx_EnableVREFINT waits for it), then CFGR1
 *            written (the memory remap: not modelled, listed).
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_IOPENR REG(0x4002102Cu)
#define RCC_APB2ENR REG(0x40021034u)
#define PWR_CR REG(0x40007000u)
#define GPIO(port, off) REG(0x50000000u + 0x400u * (port) + (off))
#define PORTA 0u
#define PORTB 1u
#define MODER 0x00u
#define OTYPER 0x04u
#define PUPDR 0x0Cu
#define IDR 0x10u
#define ODR 0x14u
#define BSRR 0x18u
#define LCKR 0x1Cu
#define BRR 0x28u
#define SYSCFG_EXTICR1 REG(0x40010008u)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_FTSR REG(0x4001040Cu)
#define EXTI_PR REG(0x40010414u)
#ifndef TOGGLES
#define TOGGLES 10
#endif
#ifndef DELAY_CYCLES
#define DELAY_CYCLES 3200 /* 100 us at 32 MHz */
#endif
#ifndef PRESSES
#define PRESSES 3
#endif
#ifndef PULSES
#define PULSES 5
#endif
#define SYSCFG_CFGR1 REG(0x40010000u)
#define SYSCFG_CFGR3 REG(0x40010020u)

static volatile uint32_t ticks, edges;

void SysTick_Handler(void) { ticks++; }

void IRQ5_Handler(void) /* EXTI0_1: HAL_GPIO_EXTI_IRQHandler */
{
    EXTI_PR = 1u;
    edges++;
    GPIO(PORTA, ODR) ^= 1u << 5;
}

void IRQ6_Handler(void) /* EXTI2_3 */
{
    EXTI_PR = 1u << 3;
    edges++;
}

/* HAL_GPIO_Init's mode, type and pull for one pin */
static void pin_mode(uint32_t port, uint32_t pin, uint32_t mode, uint32_t od, uint32_t pull)
{
    GPIO(port, MODER) = (GPIO(port, MODER) & ~(3u << (2 * pin))) | (mode << (2 * pin));
    GPIO(port, OTYPER) = (GPIO(port, OTYPER) & ~(1u << pin)) | (od << pin);
    GPIO(port, PUPDR) = (GPIO(port, PUPDR) & ~(3u << (2 * pin))) | (pull << (2 * pin));
}

__attribute__((unused)) static void print_hex(const char *label, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char text[7] = {'0', 'x', 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        text[2 + i] = digits[(v >> (12 - 4 * i)) & 0xFu];
    sh_write0(label);
    sh_write0(text);
    sh_write0("\n");
}

int main(void)
{
#if CASE_blink
    RCC_IOPENR |= 1u;
    pin_mode(PORTA, 5, 1, 0, 0);
    SYST_RVR = DELAY_CYCLES - 1;
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (uint32_t i = 0; i < TOGGLES; i++) {
        uint32_t t = ticks;
        while (ticks == t)
            __asm volatile("wfi");
        if (i & 1)
            GPIO(PORTA, BRR) = 1u << 5;
        else
            GPIO(PORTA, BSRR) = 1u << 5;
    }
    return (GPIO(PORTA, ODR) >> 5 & 1u) == (TOGGLES & 1u) ? 0 : 1;
#elif CASE_button
    RCC_IOPENR |= 1u;
    RCC_APB2ENR |= 1u; /* SYSCFGEN */
    pin_mode(PORTA, 5, 1, 0, 0);
    pin_mode(PORTA, 0, 0, 0, 1); /* input, pull-up */
    SYSCFG_EXTICR1 &= ~0xFu;     /* line 0: PA0 */
    EXTI_FTSR |= 1u;
    EXTI_IMR |= 1u;
    NVIC_ISER = 1u << 5;
#ifdef STOP
    RCC_APB2ENR &= ~1u;
    SCB_SCR |= 4u; /* SLEEPDEEP, PDDS clear: Stop mode */
#endif
    while (edges < PRESSES)
        __asm volatile("wfi");
    sh_write0("presses ");
    sh_write_int((long)edges);
    sh_write0("\n");
    return 0;
#elif CASE_levels
    RCC_IOPENR |= 2u;
    pin_mode(PORTB, 0, 0, 0, 0);
    pin_mode(PORTB, 1, 0, 0, 1);
    pin_mode(PORTB, 2, 0, 0, 2);
    pin_mode(PORTB, 3, 0, 0, 0);
    GPIO(PORTB, BSRR) = (1u << 4) | (1u << 8);
    pin_mode(PORTB, 4, 1, 0, 0);
    pin_mode(PORTB, 8, 1, 1, 1);
    print_hex("idr ", GPIO(PORTB, IDR) & 0x1FFu);
    GPIO(PORTB, BSRR) = (1u << (16 + 4)) | (1u << (16 + 8));
    print_hex("idr ", GPIO(PORTB, IDR) & 0x1FFu);
    return 0;
#elif CASE_lock
    RCC_IOPENR |= 2u;
    uint32_t key = 1u << 5;
    GPIO(PORTB, LCKR) = (1u << 16) | key;
    GPIO(PORTB, LCKR) = key;
    GPIO(PORTB, LCKR) = (1u << 16) | key;
    (void)GPIO(PORTB, LCKR);
    if (!(GPIO(PORTB, LCKR) & (1u << 16)))
        return 1;
    GPIO(PORTB, MODER) = 0u; /* every pin an input: PB5 stays analog */
    if ((GPIO(PORTB, MODER) >> 10 & 3u) != 3u)
        return 2;
    if ((GPIO(PORTB, MODER) >> 12 & 3u) != 0u)
        return 3;
    return 0;
#elif CASE_route
    RCC_IOPENR |= 2u;
    RCC_APB2ENR |= 1u;
    pin_mode(PORTB, 3, 0, 0, 0);
    SYSCFG_EXTICR1 = 1u << 12; /* line 3: PB3 */
    EXTI_RTSR |= 1u << 3;
    EXTI_IMR |= 1u << 3;
    NVIC_ISER = 1u << 6;
    SYST_RVR = 32000u - 1; /* 1 ms */
    SYST_CVR = 0;
    SYST_CSR = 7u;
    while (ticks < 100)
        __asm volatile("wfi");
    sh_write0("edges ");
    sh_write_int((long)edges);
    sh_write0("\n");
    return 0;
#elif CASE_noclock
    GPIO(PORTA, MODER) = 0u;
    return GPIO(PORTA, IDR) == 0u ? 0 : 1;
#elif CASE_pulse
    RCC_IOPENR |= 1u;
    pin_mode(PORTA, 5, 1, 0, 0);
    for (uint32_t i = 0; i < PULSES; i++) {
        GPIO(PORTA, BSRR) = 1u << 5;
        GPIO(PORTA, BRR) = 1u << 5;
    }
    return 0;
#elif CASE_lock_empty
    RCC_IOPENR |= 2u;
    GPIO(PORTB, LCKR) = 1u << 16;
    GPIO(PORTB, LCKR) = 0u;
    GPIO(PORTB, LCKR) = 1u << 16;
    if (GPIO(PORTB, LCKR) != (1u << 16))
        return 1;
    uint32_t key = 1u << 5;
    GPIO(PORTB, LCKR) = (1u << 16) | key;
    GPIO(PORTB, LCKR) = key;
    GPIO(PORTB, LCKR) = (1u << 16) | key;
    GPIO(PORTB, MODER) = 0u;
    return GPIO(PORTB, MODER) == 0u && GPIO(PORTB, LCKR) == (1u << 16) ? 0 : 2;
#elif CASE_alias || CASE_stm
    static volatile uint32_t ram;
    RCC_IOPENR |= 1u;
    pin_mode(PORTA, 5, 1, 0, 0);
    for (int i = 0; i < 3; i++) {
#if CASE_alias
        __asm volatile("mov r3, %[ram]\n\tstr %[bit], [r3]\n\tmov r3, %[bsrr]\n\t"
                       "str %[bit], [r3]\n\t"
                       "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
                       "str %[bit], [%[bsrr], #16]\n\t"
                       "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop"
                       :
                       : [ram] "l"(&ram), [bsrr] "l"(&GPIO(PORTA, BSRR)), [bit] "l"(1u << 5)
                       : "r3", "memory");
#else
        register volatile uint32_t *odr __asm__("r0") = &GPIO(PORTA, ODR);
        register uint32_t set __asm__("r1") = 1u << 5;       /* ODR: PA5 1 */
        register uint32_t reset __asm__("r2") = 1u << 21;    /* BSRR: PA5 0 */
        __asm volatile("stmia %[odr]!, {%[set], %[reset]}\n\tstr %[set], [%[ram]]\n\t"
                       "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
                       "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop"
                       : [odr] "+l"(odr)
                       : [ram] "l"(&ram), [set] "l"(set), [reset] "l"(reset)
                       : "memory");
#endif
    }
    return 0;
#elif CASE_syscfg
    RCC_APB2ENR |= 1u;
    SYSCFG_CFGR3 |= 1u << 8; /* ENBUF_VREFINT_ADC */
    int n = 0;
    while (!(SYSCFG_CFGR3 & (1u << 30))) /* VREFINT_RDYF */
        if (++n == 1000)
            return 1;
    SYSCFG_CFGR1 = 1u; /* MEM_MODE: system flash at 0 */
    return 0;
#else
#error "CASE_blink, button, levels, lock, route, noclock, pulse, lock_empty, alias, stm, syscfg"
#endif
}
