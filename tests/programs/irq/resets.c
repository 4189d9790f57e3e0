/*
 * Resets of the part during a run, and the STM32L0's Stand-by mode (RM0377 sections 6.3.9,
 * 7.1, 22), on the stm32l031 profile unless said. Each boot prints a line; what lives through
 * a reset tells the boots apart: a word in .noinit (SRAM the start-up code leaves alone: kept
 * by a system reset, lost in Stand-by), the RTC's backup register BKP0R, RCC_CSR's reset flags
 * and PWR_CSR's SBF and WUF. CASE:
 *   software   NVIC_SystemReset (AIRCR.SYSRESETREQ) from main, BOOTS - 1 times (any target:
 *              no part register read), then exit 0: "boot 1" ... "boot BOOTS".
 *   handler    the reset asked for from the HardFault handler (a fault's usual recovery):
 *              the second boot finds thread mode, MSP, no exception active, and exits 0.
 *   watchdog   the IWDG started (40 ms) and never refreshed: the second boot finds
 *              RCC_CSR.IWDGRSTF (and PINRSTF), clears the flags with RMVF, exits 0.
 *   standby    the RTC's wake-up timer every second (WUTIE, no EXTI, no NVIC), then Stand-by
 *              (with LED: PB3 an output, lit as it goes);
 *              each boot after prints SBF, WUF and the .noinit word (0: lost), clears WUF
 *              and SBF, counts itself in BKP0R and sleeps again; exits at WAKEUPS wake-ups.
 *   pin        Stand-by with WKUP1 (PA0) enabled (with WKUP2: WKUP2, PC13), nothing else: a
 *              --pin rising edge on that pin wakes the part; the second boot prints the flags
 *              and exits 0.
 *   thread     thread mode on a stack of its own (PSP, in thread_stack[]) digs into it, then
 *              resets the part; the second boot exits 0.
 *   sleeps     the IWDG (40 ms) started, then the core asleep for good as SLEEP says: 0 WFI,
 *              1 WFE, 2 Stop mode, 3 sleep-on-exit (after a PendSV), 4 Stand-by: the
 *              watchdog resets the part there; the second boot prints how it woke and exits.
 *   pinhigh    WKUP1 enabled (no Stand-by): prints WUF, set when PA0 was already high.
 *   forever    Stand-by with no wake-up source: nothing ever wakes the part.
 *   noie       Stand-by with the RTC's wake-up timer counting but its interrupt (WUTIE) off:
 *              its events come, and none wakes the part.
 *   wuf        as standby, but the second boot leaves WUF set and enters Stand-by again: the
 *              part wakes at once; the third boot exits 0.
 *   twice      (any target) the first boot writes AIRCR twice in one block, VECTKEY alone (no
 *              reset), then with SYSRESETREQ; the second boot exits 0.
 *   shared     (any target) the first boot stores to NVIC_ICER then, through the same base
 *              register moved on, to AIRCR (SYSRESETREQ) in one block; the second exits 0.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_CSR REG(0x40021050u)
#define RCC_APB1ENR REG(0x40021038u)
#define RCC_IOPENR REG(0x4002102Cu)
#define PWR_CR REG(0x40007000u)
#define PWR_CSR REG(0x40007004u)
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_WUTR REG(0x40002814u)
#define RTC_WPR REG(0x40002824u)
#define RTC_BKP0R REG(0x40002850u)
#define IWDG_KR REG(0x40003000u)
#define IWDG_RLR REG(0x40003008u)
#define IWDG_SR REG(0x4000300Cu)
#define WUTF (1u << 10)
#define WUTE (1u << 10)
#define WUTIE (1u << 14)
#define WUTWF (1u << 2)
#define PDDS (1u << 1)
#define CWUF (1u << 2)
#define CSBF (1u << 3)
#define DBP (1u << 8)
#define WUF (1u << 0)
#define SBF (1u << 1)
#define EWUP1 (1u << 8)
#define SLEEPDEEP (1u << 2)
#ifndef BOOTS
#define BOOTS 3
#endif
#ifndef WAKEUPS
#define WAKEUPS 3
#endif
#define MAGIC 0x5EB00700u

/* kept by a system reset (the start-up code neither copies nor zeroes .noinit) */
static volatile uint32_t magic __attribute__((section(".noinit")));
static volatile uint32_t boots __attribute__((section(".noinit")));

static void print_num(const char *label, uint32_t v)
{
    sh_write0(label);
    sh_write_int((long)v);
}

static uint32_t boot_count(void)
{
    if (magic != MAGIC) {
        magic = MAGIC;
        boots = 0;
    }
    return ++boots;
}

__attribute__((noreturn)) static void system_reset(void)
{
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY, SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;)
        __asm__ volatile("nop");
}

__attribute__((unused)) static void rtc_wakeup_every_second(void)
{
    RCC_APB1ENR |= 1u << 28; /* PWREN */
    PWR_CR |= DBP;
    RCC_CSR |= 1u << 8; /* LSEON */
    while (!(RCC_CSR & (1u << 9)))
        ;
    RCC_CSR = (RCC_CSR & ~(3u << 16)) | (1u << 16) | (1u << 18); /* RTCSEL LSE, RTCEN */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_CR &= ~WUTE;
    while (!(RTC_ISR & WUTWF))
        ;
    RTC_WUTR = 2047u;                 /* 2048 periods of RTCCLK / 16: 1 s */
    RTC_CR = (RTC_CR & ~7u) | 0u;     /* WUCKSEL: RTCCLK / 16 */
    RTC_CR |= WUTIE | WUTE;
    RTC_WPR = 0xFFu;
}

__attribute__((unused, noreturn)) static void standby(void)
{
    PWR_CR |= PDDS;
    SCB_SCR |= SLEEPDEEP;
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
}

#if CASE_handler
void HardFault_Handler(void) { system_reset(); }
#endif

#if CASE_sleeps
void PendSV_Handler(void) {} /* its return: sleep on exit */
#endif

#if CASE_thread
uint32_t thread_stack[128];
static volatile uint32_t sink;

static int __attribute__((noinline)) dig(int n)
{
    volatile uint32_t pad[8];
    pad[n & 7] = (uint32_t)n;
    return n ? dig(n - 1) + (int)pad[n & 7] : 0;
}

__attribute__((noreturn, noinline)) static void thread(void)
{
    sink = (uint32_t)dig(6);
    system_reset();
}
#endif

int main(void)
{
#if CASE_twice || CASE_shared
    uint32_t n = boot_count();
    print_num("boot ", n);
    sh_write0("\n");
    if (n > 1)
        return 0;
#if CASE_twice
    __asm__ volatile(".syntax unified\n"
                     "str %0, [%2]\n nop\n nop\n"
                     "str %1, [%2]\n nop\n nop\n nop\n nop\n"
                     "0: b 0b\n"
                     :
                     : "l"(0x05FA0000u), "l"(0x05FA0004u), "l"(0xE000ED0Cu)
                     : "memory");
#else
    uint32_t base = 0xE000E180u; /* NVIC_ICER */
    __asm__ volatile(".syntax unified\n"
                     "str %1, [%0]\n adds %0, %0, %3\n"
                     "str %2, [%0]\n nop\n nop\n nop\n nop\n"
                     "0: b 0b\n"
                     : "+l"(base)
                     : "l"(0u), "l"(0x05FA0004u), "l"(0xE000ED0Cu - 0xE000E180u)
                     : "memory");
#endif
    for (;;)
        ;
#elif CASE_software
    uint32_t n = boot_count();
    print_num("boot ", n);
    sh_write0("\n");
    if (n < BOOTS)
        system_reset();
    return 0;
#elif CASE_handler
    uint32_t n = boot_count();
    print_num("boot ", n);
    sh_write0("\n");
    if (n == 1)
        __asm__ volatile("udf #0"); /* HardFault (ARMv6-M: every fault) */
    uint32_t ipsr, control, msp, sp;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    __asm__ volatile("mrs %0, control" : "=r"(control));
    __asm__ volatile("mrs %0, msp" : "=r"(msp));
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return ipsr != 0u ? 1 : control != 0u ? 2 : msp != sp ? 3 : SCB_ICSR & 0x1FFu ? 4 : 0;
#elif CASE_thread
    if (boot_count() > 1)
        return 0;
    uint32_t top = (uint32_t)&thread_stack[128];
    __asm__ volatile("msr psp, %0\n movs r1, #2\n msr control, r1\n isb\n" ::"r"(top)
                     : "r1", "memory");
    thread();
#elif CASE_watchdog
    uint32_t csr = RCC_CSR;
    if (csr & (1u << 29)) {
        print_num("watchdog reset, PINRSTF ", csr >> 26 & 1u);
        sh_write0("\n");
        RCC_CSR |= 1u << 23; /* RMVF */
        return RCC_CSR >> 24 ? 1 : 0;
    }
    print_num("power-on, PORRSTF ", csr >> 27 & 1u);
    sh_write0("\n");
    IWDG_KR = 0xCCCCu;
    IWDG_KR = 0x5555u;
    IWDG_RLR = 369u; /* 40 ms */
    while (IWDG_SR != 0u)
        ;
    IWDG_KR = 0xAAAAu; /* reload: RLR counts from now */
    for (;;)
        ;
#elif CASE_sleeps
    uint32_t csr = RCC_CSR;
    if (csr & (1u << 29)) {
        RCC_APB1ENR |= 1u << 28;
        print_num("watchdog reset, SBF ", PWR_CSR >> 1 & 1u);
        sh_write0("\n");
        return 0;
    }
    IWDG_KR = 0xCCCCu;
    IWDG_KR = 0x5555u;
    IWDG_RLR = 369u;
    while (IWDG_SR != 0u)
        ;
    IWDG_KR = 0xAAAAu;
#if SLEEP == 1
    for (;;)
        __asm__ volatile("wfe" ::: "memory");
#elif SLEEP == 2 || SLEEP == 4
    RCC_APB1ENR |= 1u << 28;
    if (SLEEP == 4)
        PWR_CR |= PDDS | CWUF;
    SCB_SCR |= SLEEPDEEP;
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
#elif SLEEP == 3
    SCB_SCR |= 1u << 1;            /* SLEEPONEXIT */
    SCB_ICSR = PENDSVSET;          /* its return: asleep for good */
    for (;;)
        ;
#else
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
#endif
#else /* Stand-by */
    uint32_t n = 0;
    RCC_APB1ENR |= 1u << 28; /* PWREN */
    uint32_t csr = PWR_CSR;
    if (csr & SBF) {
        n = RTC_BKP0R + 1u;
        print_num("woke ", n);
        print_num(": SBF ", csr >> 1 & 1u);
        print_num(" WUF ", csr & 1u);
        print_num(" noinit ", magic);
        sh_write0("\n");
        PWR_CR |= DBP;
        RTC_BKP0R = n;
    } else {
        sh_write0("power-on\n");
    }
#if CASE_standby || CASE_wuf
    if (n >= WAKEUPS)
        return 0;
    magic = MAGIC; /* lost in Stand-by */
    if (n == 0)
        rtc_wakeup_every_second();
#ifdef LED
    RCC_IOPENR |= 1u << 1;                            /* GPIOB */
    REG(0x50000400u) = (REG(0x50000400u) & ~(3u << 6)) | (1u << 6); /* PB3: output */
    REG(0x50000418u) = 1u << 3;                       /* lit as it goes to sleep */
#endif
    /* the RTC's flag and WUF, as HAL_RTCEx_WakeUpTimerIRQHandler and the HAL's example do;
     * the wuf case leaves WUF set on its second boot */
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_ISR = ~(WUTF | (1u << 7)) & 0x0001FFFFu;
    RTC_WPR = 0xFFu;
#if CASE_wuf
    if (n != 1)
#endif
        PWR_CR |= CWUF;
    PWR_CR |= CSBF;
    standby();
#elif CASE_pinhigh
    PWR_CSR |= EWUP1;
    print_num("WUF ", PWR_CSR & WUF);
    sh_write0("\n");
    return 0;
#elif CASE_pin
    if (n)
        return 0;
#ifdef WKUP2
    PWR_CSR |= 1u << 9; /* EWUP2 */
#else
    PWR_CSR |= EWUP1;
#endif
    PWR_CR |= CWUF;
    standby();
#elif CASE_forever
    PWR_CR |= CWUF;
    standby();
#elif CASE_noie
    rtc_wakeup_every_second();
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_CR &= ~WUTIE;
    RTC_WPR = 0xFFu;
    PWR_CR |= CWUF;
    standby();
#endif
#endif
}
