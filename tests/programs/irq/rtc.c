/*
 * The STM32L0's RTC and EXTI (RM0377) as vendor firmware uses them, on the stm32l031 profile,
 * in the order STM32CubeL0's HAL does it: PWR_CR.DBP, the LSE and RCC_CSR.RTCSEL/RTCEN, the
 * write protection unlocked (0xCA, 0x53), INIT and a wait for INITF, PRER, TR and DR, INIT
 * cleared, RSF cleared and waited for (HAL_RTC_WaitForSynchro), protection back on. CASE:
 *   calendar  23:59:58 on Tuesday 2024-12-31, then 2.5 s asleep (SysTick): prints TR, and
 *             DR as a TR read before the sleep froze it, then the calendar read as
 *             HAL_RTC_GetTime/GetDate do (SSR, TR, then DR); a backup register kept.
 *   hour12    the same in 12-hour format (CR.FMT): 11:59:58 PM.
 *   wakeup    the wake-up timer (HAL_RTCEx_SetWakeUpTimer_IT): EXTI line 20 on the rising
 *             edge, IRQ 2; WAKEUPS wake-ups of WUT + 1 periods of clock WUCKSEL, asleep in
 *             WFI between them; the handler clears EXTI_PR, then WUTF.
 *   alarm     alarm A at second 30 of every minute (MSK4, MSK3, MSK2 set), from 12:00:25:
 *             EXTI line 17, IRQ 2; prints the time the handler reads, twice.
 *   date      alarm A on the 1st of the month at 00:00:05 (MSK4 clear), from 23:59:58 on
 *             2024-12-31: the handler reads 2025-01-01 00:00:05.
 *   deinit    HAL_RTC_DeInit's sequence: the calendar back to 2000-01-01 00:00:00 (INITS
 *             clear), WUTWF waited for; then a backup-domain reset (RCC_CSR.RTCRST) clears
 *             the backup registers and locks the registers again.
 *   locked    the protection left on: INIT never sets; TR is not written.
 *   no_clock  RTCEN left clear: INITF never comes.
 *   no_dbp    PWR_CR.DBP left clear: the backup domain ignores the writes.
 *   timestamp as STM32CubeL0's RTC_TimeStamp (HAL_RTCEx_SetTimeStamp_IT): 08:10:00 on Monday
 *             2014-04-14, CR.TSE on RTC_TS's (PA2's) rising edges (-DFALLING: TSEDGE), TSIE,
 *             EXTI line 19, IRQ 2; the handler keeps TSTR, TSDR, TSSSR and SSR as it runs,
 *             then clears TSF (HAL_RTCEx_GetTimeStamp); after STAMPS of them prints each
 *             "ts TSTR TSDR TSSSR SSR". -DOVF: the handler leaves TSF set; 4 s later prints
 *             ISR's TSF and TSOVF and the first stamp's TSTR.
 *   tamper    as STM32CubeL0's RTC_Tamper: tamper 3 (PA2) on its falling edge (TAMP3TRG),
 *             TAMP3IE, EXTI line 19, the backup registers written 0xDF59 + 0x5A n; the
 *             handler clears TAMP3F; prints "bkp" and the five registers, then ISR's TSF.
 *             -DNOERASE: TAMP3NOERASE; -DTAMPTS: a time stamp on the tamper event (TSTR,
 *             read in the tamper's interrupt, printed). -DLEVEL: level detection instead,
 *             PA2 high for 8 samples at RTCCLK / 256 (TAMPFLT, TAMPFREQ), no pull-up.
 * Exit status 0 when every check holds, else the number of the first that failed.
 */
#include "cm.h"
#include "semihost.h"

#define RCC_CSR REG(0x40021050u)
#define RCC_APB1ENR REG(0x40021038u)
#define PWR_CR REG(0x40007000u)
#define RTC_TR REG(0x40002800u)
#define RTC_DR REG(0x40002804u)
#define RTC_CR REG(0x40002808u)
#define RTC_ISR REG(0x4000280Cu)
#define RTC_PRER REG(0x40002810u)
#define RTC_WUTR REG(0x40002814u)
#define RTC_ALRMAR REG(0x4000281Cu)
#define RTC_WPR REG(0x40002824u)
#define RTC_SSR REG(0x40002828u)
#define RTC_BKP0R REG(0x40002850u)
#define RTC_BKP(n) REG(0x40002850u + 4u * (n))
#define RTC_TSTR REG(0x40002830u)
#define RTC_TSDR REG(0x40002834u)
#define RTC_TSSSR REG(0x40002838u)
#define RTC_TAMPCR REG(0x40002840u)
#define TSF (1u << 11)
#define TSOVF (1u << 12)
#define TAMP3F (1u << 15)
#define TSE (1u << 11)
#define TSIE (1u << 15)
#define TSEDGE (1u << 3)
#define EXTI_IMR REG(0x40010400u)
#define EXTI_RTSR REG(0x40010408u)
#define EXTI_PR REG(0x40010414u)
#define INIT (1u << 7)
#define INITF (1u << 6)
#define RSF (1u << 5)
#define WUTWF (1u << 2)
#define ALRAF (1u << 8)
#define WUTF (1u << 10)
#define WUTE (1u << 10)
#define WUTIE (1u << 14)
#define ALRAE (1u << 8)
#define ALRAIE (1u << 12)
#define FMT (1u << 6)
#define RTCRST (1u << 19)
#ifndef TRIES
#define TRIES 20000 /* 0: wait for ever, as a HAL without its tick would */
#endif

__attribute__((unused)) static void print_hex(const char *label, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[9];
    for (int i = 7; i >= 0; i--) {
        buf[i] = digits[v & 0xFu];
        v >>= 4;
    }
    buf[8] = 0;
    sh_write0(label);
    sh_write0(buf);
    sh_write0("\n");
}

/* The clock and the backup domain, as SystemClock_Config and HAL_RTC_MspInit set them: 0 when
 * the LSE came up (without DBP its enable, in the backup domain, is ignored). */
static int rtc_clock(int dbp, int rtcen)
{
    RCC_APB1ENR |= 1u << 28; /* PWREN */
    if (dbp)
        PWR_CR |= 1u << 8; /* DBP: HAL_PWR_EnableBkUpAccess */
    RCC_CSR |= 1u << 8;   /* LSEON */
    int n = 0;
    while (!(RCC_CSR & (1u << 9)))
        if (++n == TRIES)
            return 1;
    RCC_CSR = (RCC_CSR & ~(3u << 16)) | (1u << 16); /* RTCSEL: LSE */
    if (rtcen)
        RCC_CSR |= 1u << 18;
    return 0;
}

/* HAL_RTC_Init's and HAL_RTC_SetTime/SetDate's register sequence: 0 when it went through. */
static int rtc_init(uint32_t tr, uint32_t dr, uint32_t cr, int unlock)
{
    if (unlock) {
        RTC_WPR = 0xCAu;
        RTC_WPR = 0x53u;
    }
    RTC_ISR = 0xFFFFFFFFu; /* RTC_INIT_MASK: INIT set, the rc_w0 flags left alone */
    int n = 0;
    while (!(RTC_ISR & INITF))
        if (++n == TRIES)
            return 1;
    RTC_CR = cr;
    RTC_PRER = 0xFFu;          /* PREDIV_S 255 */
    RTC_PRER |= 0x7Fu << 16;   /* PREDIV_A 127: 32768 / 128 / 256 = 1 Hz */
    RTC_TR = tr;
    RTC_DR = dr;
    RTC_ISR &= ~INIT;
    RTC_ISR &= ~(RSF | INIT); /* HAL_RTC_WaitForSynchro */
    n = 0;
    while (!(RTC_ISR & RSF))
        if (++n == TRIES)
            return 2;
    RTC_WPR = 0xFFu;
    return 0;
}

__attribute__((unused)) static void sleep_ms(uint32_t ms)
{
    static volatile uint32_t ticks;
    (void)ticks;
    SYST_RVR = 32000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u;
    for (uint32_t i = 0; i < ms; i++)
        __asm__ volatile("wfi" ::: "memory");
    SYST_CSR = 0;
}

void SysTick_Handler(void) {}

static volatile uint32_t events;
static volatile uint32_t seen[4];
static volatile uint32_t stamps[4][4];
static volatile uint32_t tamper_tstr;

void IRQ2_Handler(void) /* RTC: HAL_RTCEx_WakeUpTimerIRQHandler, HAL_RTC_AlarmIRQHandler */
{
    uint32_t tstr = RTC_TSTR; /* (before the TSF branch clears TSF, and the stamp with it) */
    if (RTC_ISR & WUTF) {
        EXTI_PR = 1u << 20;
        RTC_ISR = ~(WUTF | INIT) & 0x0001FFFFu; /* __HAL_RTC_WAKEUPTIMER_CLEAR_FLAG */
        events++;
    }
    if (RTC_ISR & ALRAF) {
        EXTI_PR = 1u << 17;
        RTC_ISR = ~(ALRAF | INIT) & 0x0001FFFFu;
        (void)RTC_SSR;
        if (events < 4)
            seen[events] = RTC_TR;
        (void)RTC_DR;
        events++;
    }
    if (RTC_ISR & TSF) { /* HAL_RTCEx_TamperTimeStampIRQHandler */
        EXTI_PR = 1u << 19;
        if (events < 4) {
            stamps[events][0] = RTC_TSTR;
            stamps[events][1] = RTC_TSDR;
            stamps[events][2] = RTC_TSSSR;
            stamps[events][3] = RTC_SSR;
            (void)RTC_DR;
        }
#ifndef OVF
        RTC_ISR = ~(TSF | INIT) & 0x0001FFFFu; /* __HAL_RTC_TIMESTAMP_CLEAR_FLAG */
#endif
        events++;
    }
    if (RTC_ISR & TAMP3F) {
        EXTI_PR = 1u << 19;
        for (uint32_t n = 0; n < 4u; n++)
            seen[n] = RTC_BKP(n);
        tamper_tstr = tstr; /* TAMPTS: TAMP3F comes with TSF (HAL_RTCEx_GetTimeStamp) */
        RTC_ISR = ~(TAMP3F | INIT) & 0x0001FFFFu;
        events++;
    }
}

int main(void)
{
#if CASE_calendar || CASE_hour12
#if CASE_hour12
    const uint32_t tr = (1u << 22) | 0x115958u, cr = FMT;
#else
    const uint32_t tr = 0x235958u, cr = 0;
#endif
    rtc_clock(1, 1);
    int err = rtc_init(tr, (0x24u << 16) | (2u << 13) | 0x1231u, cr, 1);
    if (err)
        return err;
    RTC_BKP0R = 0xC0FFEEu;
    (void)RTC_TR; /* the shadow registers: DR stays as this read left it until DR is read */
    sleep_ms(2500);
    print_hex("tr now ", RTC_TR); /* TR is not frozen by its own read */
    print_hex("dr then ", RTC_DR);
    uint32_t ssr = RTC_SSR, t = RTC_TR, d = RTC_DR;
    print_hex("tr ", t);
    print_hex("dr ", d);
    print_hex("ssr ", ssr);
    return RTC_BKP0R == 0xC0FFEEu ? 0 : 3;
#endif

#if CASE_wakeup
    rtc_clock(1, 1);
    int err = rtc_init(0x120000u, 0x240101u | (1u << 13), 0, 1);
    if (err)
        return err;
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_CR &= ~WUTE;
    RTC_ISR = ~(WUTF | INIT) & 0x0001FFFFu;
    while (!(RTC_ISR & WUTWF))
        ;
    RTC_WUTR = WUT;
    RTC_CR = (RTC_CR & ~7u) | WUCKSEL;
    EXTI_IMR |= 1u << 20;
    EXTI_RTSR |= 1u << 20;
    RTC_CR |= WUTIE;
    RTC_CR |= WUTE;
    RTC_WPR = 0xFFu;
    NVIC_ISER = 1u << 2;
    while (events < WAKEUPS) {
#ifdef TOUCH_RCC
        RCC_CSR = RCC_CSR;
#endif
        __asm__ volatile("wfi" ::: "memory");
    }
    (void)RTC_SSR;
    print_hex("tr ", RTC_TR);
    (void)RTC_DR;
    return 0;
#endif

#if CASE_alarm
    rtc_clock(1, 1);
    int err = rtc_init(0x120025u, 0x240101u | (1u << 13), 0, 1);
    if (err)
        return err;
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_CR &= ~ALRAE;
    RTC_ALRMAR = (1u << 31) | (1u << 23) | (1u << 15) | 0x30u; /* second 30 of any minute */
    RTC_CR |= ALRAIE | ALRAE;
    RTC_WPR = 0xFFu;
    EXTI_IMR |= 1u << 17;
    EXTI_RTSR |= 1u << 17;
    NVIC_ISER = 1u << 2;
    while (events < 2)
        __asm__ volatile("wfi" ::: "memory");
    print_hex("alarm ", seen[0]);
    print_hex("alarm ", seen[1]);
    return 0;
#endif

#if CASE_date
    rtc_clock(1, 1);
    int err = rtc_init(0x235958u, (0x24u << 16) | (2u << 13) | 0x1231u, 0, 1);
    if (err)
        return err;
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_ALRMAR = (0x01u << 24) | 0x000005u; /* date 1, 00:00:05, nothing masked */
    RTC_CR |= ALRAIE | ALRAE;
    RTC_WPR = 0xFFu;
    EXTI_IMR |= 1u << 17;
    EXTI_RTSR |= 1u << 17;
    NVIC_ISER = 1u << 2;
    while (events < 1)
        __asm__ volatile("wfi" ::: "memory");
    print_hex("alarm ", seen[0]);
    print_hex("dr ", RTC_DR);
    return 0;
#endif

#if CASE_deinit
    rtc_clock(1, 1);
    int err = rtc_init(0x235958u, (0x24u << 16) | (2u << 13) | 0x1231u, 0, 1);
    if (err)
        return err;
    RTC_BKP0R = 7u;
    if (!(RTC_ISR & (1u << 4))) /* INITS: the year is not 0 */
        return 3;
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
    RTC_ISR = 0xFFFFFFFFu;
    while (!(RTC_ISR & INITF))
        ;
    RTC_TR = 0;
    RTC_DR = 0x2101u;
    RTC_CR &= 7u;
    while (!(RTC_ISR & WUTWF))
        ;
    RTC_CR = 0;
    RTC_WUTR = 0xFFFFu;
    RTC_PRER = 0x007F00FFu;
    RTC_ALRMAR = 0;
    RTC_ISR = 0; /* INIT cleared */
    RTC_ISR &= ~(RSF | INIT);
    while (!(RTC_ISR & RSF))
        ;
    RTC_WPR = 0xFFu;
    (void)RTC_SSR;
    print_hex("tr ", RTC_TR);
    print_hex("dr ", RTC_DR);
    print_hex("isr ", RTC_ISR);
    RCC_CSR |= RTCRST;
    RCC_CSR &= ~RTCRST;
    print_hex("bkp ", RTC_BKP0R);
    RTC_TR = 1u; /* locked again: ignored */
    return RTC_TR == 0 ? 0 : 4;
#endif

#if CASE_locked
    rtc_clock(1, 1);
    if (rtc_init(0x120000u, 0x240101u, 0, 0) != 1)
        return 1;
    if (RTC_ISR & INIT)
        return 2;
    RTC_TR = 0x120000u;
    if (RTC_TR != 0)
        return 3;
    return 0;
#endif

#if CASE_no_clock
    rtc_clock(1, 0);
    return rtc_init(0x120000u, 0x240101u, 0, 1) == 1 ? 0 : 1;
#endif

#if CASE_timestamp
#ifndef STAMPS
#define STAMPS 2
#endif
    rtc_clock(1, 1);
    int err = rtc_init(0x081000u, (0x14u << 16) | (1u << 13) | 0x0414u, 0, 1);
    if (err)
        return err;
    RTC_WPR = 0xCAu;
    RTC_WPR = 0x53u;
#ifdef FALLING
    RTC_CR |= TSEDGE;
#endif
    RTC_CR |= TSE | TSIE;
    RTC_WPR = 0xFFu;
    EXTI_IMR |= 1u << 19;
    EXTI_RTSR |= 1u << 19;
    NVIC_ISER = 1u << 2;
#ifdef OVF
    while (events < 1u)
        __asm__ volatile("wfi" ::: "memory");
    sleep_ms(4000);
    print_hex("isr ", RTC_ISR & (TSF | TSOVF));
    print_hex("tstr ", RTC_TSTR);
#else
    while (events < STAMPS)
        __asm__ volatile("wfi" ::: "memory");
    for (uint32_t n = 0; n < STAMPS; n++) {
        sh_write0("ts");
        for (uint32_t k = 0; k < 4u; k++)
            print_hex(" ", stamps[n][k]);
    }
#endif
    return 0;
#endif

#if CASE_tamper
    rtc_clock(1, 1);
    int err = rtc_init(0x120000u, 0x240101u | (1u << 13), 0, 1);
    if (err)
        return err;
    uint32_t tampcr = (1u << 5) | (1u << 6) | (1u << 22); /* TAMP3E, TAMP3TRG, TAMP3IE */
#ifdef NOERASE
    tampcr |= 1u << 23;
#endif
#ifdef TAMPTS
    tampcr |= 1u << 7;
#endif
#ifdef LEVEL /* level detection: 8 samples (TAMPFLT 11) at RTCCLK / 256, no pull-up */
    tampcr |= (3u << 11) | (7u << 8) | (1u << 15);
#endif
    RTC_TAMPCR = tampcr;
    RTC_ISR = ~(TAMP3F | INIT) & 0x0001FFFFu;
    EXTI_IMR |= 1u << 19;
    EXTI_RTSR |= 1u << 19;
    NVIC_ISER = 1u << 2;
    for (uint32_t n = 0; n < 5u; n++)
        RTC_BKP(n) = 0xDF59u + n * 0x5Au;
    while (events < 1u)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("bkp");
    for (uint32_t n = 0; n < 4u; n++)
        print_hex(" ", seen[n]);
    print_hex("bkp4 ", RTC_BKP(4));
#ifdef TAMPTS
    print_hex("tstr ", tamper_tstr);
#endif
    print_hex("tsf ", RTC_ISR & TSF);
    return 0;
#endif

#if CASE_no_dbp
    if (rtc_clock(0, 1) != 1) /* the LSE never starts */
        return 1;
    RTC_BKP0R = 5u;
    return RTC_BKP0R == 0 ? 0 : 2;
#endif
}
