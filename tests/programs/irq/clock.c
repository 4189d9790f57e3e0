/*
 * The STM32L0's clock set up by the firmware (RCC_CFGR, FLASH_ACR) on the stm32l031 profile: the
 * simulated core runs at the clock the registers give from the first such write. CASE selects:
 *   spin     the same loop before and after a CFGR write that keeps the part's reset clock
 *            (MSI range 5, 2.097 MHz, LATENCY 0): timed by SysTick in core cycles, it prints
 *            both counts (the second pays no flash wait state).
 *   tick     MSI, SysTick every 2,097 cycles (1 ms at MSI's 2,097,152 Hz) with WFI between:
 *            after 100 ticks it prints semihosting's SYS_CLOCK (centiseconds of device time).
 *   forever  the same ticks for ever (for --run-for), counting them in `ticks`.
 *   stop_tc  LPUART1 on the LSE sending a byte with TCIE, then Stop mode with the RTC's wake-up
 *            a second on: TC cannot end Stop (RM0377), the RTC does; TC is taken after it.
 *   stop_flag the RTC's WUTF left set by the handler: the next Stop entry is ignored (RM0377)
 *            and the program goes on at once.
 *   stop_tick_due SysTick (TICKINT) wrapping RELOAD + 1 cycles after its enable, the Stop-mode
 *            WFI after 20 NOPs in the next basic block: a wrap before the WFI keeps the part
 *            out of Stop.
 *   stop_forever the RTC's wake-up every 10 s, Stop mode for ever (for --run-for).
 *   midblock MSI range 0 (65,536 Hz) set up, then 40 NOPs in the same basic block: they run
 *            at the new clock (MIDBLOCK_FAULT: then a load from unmapped memory faults).
 *   stop_tick SysTick's interrupt as the only wake-up, in Stop mode: SysTick stops with the
 *            core's clock, so nothing wakes it (a deadlock; the HAL suspends its tick first).
 *   overclock 32 MHz from the PLL (HSI16 x 4 / 2, one wait state) in voltage range 2, the
 *            reset's: beyond what the range allows (a warning; the run goes on).
 *   stop     32 MHz from the PLL, TIM21 counting and SysTick running, then Stop mode three
 *            times (SCR.SLEEPDEEP, PWR_CR.PDDS clear, WFI), the RTC's wake-up timer (LSE,
 *            1 s, EXTI line 20, IRQ 2) ending each: the core wakes on MSI with the PLL and
 *            HSI16 off, TIM21 and SysTick did not count while it was stopped; the clock is
 *            set up again after each (STM32CubeL0's low-power examples do the same).
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_CFGR REG(0x4002100Cu)
#define FLASH_ACR REG(0x40022000u)
#define RCC_CR REG(0x40021000u)
#define RCC_CSR REG(0x40021050u)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_APB2ENR REG(0x40021034u)
#define PWR_CR REG(0x40007000u)
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_WUTR REG(0x40002814u)
#define RTC_WPR REG(0x40002824u)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_PR REG(0x40010414u)
#define TIM21_CR1 REG(0x40010800u)
#define TIM21_SR REG(0x40010810u)
#define TIM21_ARR REG(0x4001082Cu)

volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
#if CASE_stop_tick_due
    SYST_CSR = 0; /* one tick */
#endif
}

#if CASE_stop || CASE_stop_tc || CASE_stop_flag || CASE_stop_tick_due || CASE_stop_forever
static volatile uint32_t wakeups, lpuart_tc;

void IRQ2_Handler(void) /* the RTC's wake-up, through EXTI line 20 */
{
    EXTI_PR = 1u << 20;
#if !CASE_stop_flag
    RTC_ISR = ~((1u << 10) | (1u << 7)) & 0x0001FFFFu; /* WUTF cleared, INIT left */
#endif
    wakeups++;
}

void IRQ29_Handler(void) /* LPUART1: TC */
{
    REG(0x40004820u) = 1u << 6; /* ICR.TCCF */
    REG(0x40004800u) &= ~(1u << 6); /* CR1.TCIE off */
    lpuart_tc++;
}

/* The RTC on the LSE, its wake-up every WUT + 1 seconds (ck_spre), EXTI line 20, IRQ 2. */
static void rtc_wakeup(uint32_t wut)
{
    RCC_APB1ENR |= 1u << 28; /* PWREN */
    PWR_CR |= 1u << 8;       /* DBP */
    RCC_CSR |= 1u << 8;      /* LSEON */
    while (!(RCC_CSR & (1u << 9)))
        ;
    RCC_CSR |= (1u << 16) | (1u << 18); /* RTCSEL: LSE, RTCEN */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    while (!(RTC_ISR & (1u << 2))) /* WUTWF */
        ;
    RTC_WUTR = wut;
    RTC_CR = 4u; /* WUCKSEL: ck_spre */
    EXTI_IMR |= 1u << 20;
    EXTI_RTSR |= 1u << 20;
    RTC_CR |= (1u << 14) | (1u << 10); /* WUTIE, WUTE */
    NVIC_ISER = 1u << 2;
}

static void pll_32mhz(void)
{
    PWR_CR = (PWR_CR & ~(3u << 11)) | (1u << 11); /* range 1 */
    FLASH_ACR = 1u;
    RCC_CR |= 1u;
    while (!(RCC_CR & 4u))
        ;
    RCC_CFGR = (1u << 18) | (1u << 22);
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25)))
        ;
    RCC_CFGR |= 3u;
    while (((RCC_CFGR >> 2) & 3u) != 3u)
        ;
}
#endif

#if CASE_spin
static uint32_t timed_loop(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* the core's clock, no interrupt */
    uint32_t start = SYST_CVR;
    for (volatile int i = 0; i < 200; i++)
        ;
    uint32_t end = SYST_CVR;
    SYST_CSR = 0;
    return start - end;
}
#else
static void msi_ticks(void)
{
    RCC_CFGR = RCC_CFGR; /* SW: MSI, as after reset: the firmware's clock from here */
    SYST_RVR = 2096u;     /* 1 ms at 2,097,152 Hz */
    SYST_CVR = 0;
    SYST_CSR = 7u; /* the core's clock, interrupt, on */
}
#endif

int main(void)
{
#if CASE_spin
    uint32_t before = timed_loop();
    RCC_CFGR = RCC_CFGR;
    uint32_t after = timed_loop();
    sh_write_int((long)before);
    sh_write0(" ");
    sh_write_int((long)after);
    sh_write0("\n");
    return after < before ? 0 : 1;
#elif CASE_tick
    msi_ticks();
    while (ticks < 100)
        __asm volatile("wfi");
    sh_write_int((long)sh_call(0x10, 0)); /* SYS_CLOCK */
    sh_write0("\n");
    return 0;
#elif CASE_overclock
    FLASH_ACR = 1u;
    RCC_CR |= 1u; /* HSI16ON */
    while (!(RCC_CR & 4u))
        ;
    RCC_CFGR = (1u << 18) | (1u << 22); /* PLL: x 4 / 2 */
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25)))
        ;
    RCC_CFGR |= 3u; /* SW: PLL */
    return ((RCC_CFGR >> 2) & 3u) == 3u ? 0 : 1;
#elif CASE_stop_tc
    rtc_wakeup(0);
    REG(0x4002104Cu) = 3u << 10; /* RCC_CCIPR.LPUART1SEL: LSE */
    RCC_APB1ENR |= 1u << 18;     /* LPUART1EN */
    REG(0x4000480Cu) = 874u;     /* BRR: 9600 baud at 32,768 Hz */
    REG(0x40004800u) = 1u | (1u << 3); /* UE, TE */
    REG(0x40004820u) = 1u << 6;        /* ICR.TCCF: TC clear */
    REG(0x40004828u) = 'x';            /* a frame of about 1 ms */
    REG(0x40004800u) |= 1u << 6;       /* TCIE */
    NVIC_ISER = 1u << 29;
    SCB_SCR |= 4u;
    __asm volatile("wfi");
    if (wakeups != 1) /* woken by the RTC, not by TC */
        return 2;
    for (int i = 0; i < 1000 && !lpuart_tc; i++)
        ;
    return lpuart_tc == 1 ? 0 : 3; /* TC taken once awake */
#elif CASE_stop_flag
    rtc_wakeup(0);
    SCB_SCR |= 4u;
    __asm volatile("wfi"); /* Stop: the RTC ends it; its handler leaves WUTF set */
    __asm volatile("wfi"); /* ignored: WUTF set */
    return wakeups == 1 ? 0 : 1;
#elif CASE_stop_tick_due
    rtc_wakeup(0);
    SCB_SCR |= 4u;
    SYST_RVR = RELOAD;
    SYST_CVR = 0;
    __asm volatile("str %0, [%1]\n\t" /* SysTick on, then a block of 20 NOPs and the WFI */
                   "b 1f\n"
                   "1:\n\t"
                   ".rept 20\n\tnop\n\t.endr\n\t"
                   "wfi"
                   :
                   : "r"(7u), "r"(0xE000E010u)
                   : "memory");
    return (int)(ticks * 10u + wakeups);
#elif CASE_stop_forever
    rtc_wakeup(9);
    SCB_SCR |= 4u;
    for (;;)
        __asm volatile("wfi");
#elif CASE_stop
    RCC_APB1ENR |= 1u << 28; /* PWREN */
    pll_32mhz();
    rtc_wakeup(0);
    RCC_APB2ENR |= 1u << 2; /* TIM21 */
    TIM21_ARR = 20000u;
    TIM21_CR1 = 1u;
    SYST_RVR = 0xFFFFFFu; /* 0.52 s at 32 MHz: it would wrap in a second's Stop */
    SYST_CVR = 0;
    SYST_CSR = 5u;
    SCB_SCR |= 4u; /* SLEEPDEEP; PWR_CR.PDDS clear: Stop mode */
    for (uint32_t i = 0; i < 3; i++) {
        (void)SYST_CSR; /* COUNTFLAG cleared */
        TIM21_SR = 0;
        __asm volatile("wfi");
        if (TIM21_SR & 1u || SYST_CSR & (1u << 16)) /* UIF, COUNTFLAG: they counted */
            return 2;
        if ((RCC_CFGR >> 2) & 3u || RCC_CR & ((1u << 25) | 4u)) /* not MSI; PLL or HSI16 on */
            return 3;
        sh_write0("woke on MSI\n");
        pll_32mhz();
    }
    return wakeups == 3 ? 0 : 1;
#elif CASE_stop_tick
    SYST_RVR = 999u;
    SYST_CVR = 0;
    SYST_CSR = 7u;
    SCB_SCR |= 4u;
    __asm volatile("wfi");
    return 1;
#elif CASE_midblock
    __asm volatile("str %0, [%1]\n\t"
                   ".rept 40\n\tnop\n\t.endr"
#if MIDBLOCK_FAULT
                   "\n\tldr r0, [%2]"
#endif
                   :
                   : "r"(0u), "r"(0x40021004u), "r"(0x70000000u)
                   : "r0", "memory"); /* RCC_ICSCR: MSIRANGE 0 */
    return 0;
#elif CASE_forever
    msi_ticks();
    for (;;)
        __asm volatile("wfi");
#else
#error "CASE_spin, CASE_tick, CASE_overclock, CASE_stop*, CASE_midblock or CASE_forever"
#endif
}
