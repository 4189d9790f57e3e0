/*
 * The STM32L0's TIM2, TIM21 and TIM22 (RM0377) as vendor firmware uses them, on the stm32l031
 * profile. CASE selects:
 *   tick      TIM21 (-DTICK_TIM2: TIM2) as STM32CubeL0's HAL_InitTick sets up a timer time
 *             base: its clock, PSC for 1 MHz, ARR for 1 ms, UG to load PSC (and UIF cleared
 *             after it), UIE, CEN, its IRQ enabled; a HAL_Delay-style wait for TICKS ticks.
 *   one_pulse TIM22 polled: the count rises, the update event at ARR sets UIF and with OPM
 *             stops the counter at 0.
 *   preload   ARPE keeps a new ARR until the update event; URS keeps UG from setting UIF;
 *             UDIS keeps the overflow from setting it; SR is rc_w0.
 *   no_clock  TIM21 without its RCC clock reads 0 and ignores writes.
 *   gated     a TIM21 tick whose clock is switched off for a while: it stops counting and
 *             interrupting, and goes on from the same count when the clock is back.
 *   rcc_reset TIM22 reset through RCC APB2RSTR (LL_TIM_DeInit): back to its reset values.
 *   compare   TIM2's output compare interrupts, as HAL_TIM_OC_Start_IT sets them up: CCR1
 *             250, CCR3 750 (toggle mode, OC1PE: CCR1 preloaded), CCR2 2000 (past ARR 999:
 *             never reached, CC2IF at each update), CC1IE, CC2IE, CC3IE, the channels'
 *             outputs enabled (CCER: no pin shows them); the handler counts each channel's events
 *             and keeps the count it saw; after PERIODS update periods CCR1 is written 500,
 *             which takes effect at the next update event. Prints the counts and the
 *             earliest and latest count seen at each channel's events.
 *   pwm       TIM2 at 1 kHz (PSC for 1 MHz, ARR 999): channel 2 in PWM mode 1 (CCR2 DUTY,
 *             preloaded) on PB3 (AF2; -DINVERT: CC2P, active low), channel 1 toggling at
 *             CCR1 500 on PA0 (AF2), as HAL_TIM_PWM_Start and HAL_TIM_OC_Start set them up;
 *             the update interrupt counts PERIODS update events, then the counter stops.
 *             -DCOUNTER: CR1's counter mode (0x10 down, 0x20/0x40/0x60 centre-aligned).
 *             -DBUSY: the core runs meanwhile, toggling PA5 (an output) in a long block.
 *             -DRAMP=n: channel 2 alone, the third update's handler writes CCR2 n
 *             (preloaded: from the next period on). -DFOREVER: no interrupt, the core
 *             sleeps for ever (WFI) while the outputs run: a deadlock, as nothing can wake
 *             it; with -DEXTI_WAKE, PA0's rising edges are EXTI line 0's interrupt (IRQ 5),
 *             enabled after the timer starts: five of them end the program.
 *   pwm_sleep TIM22 channel 1 in PWM mode on PA6 (AF5), a period of 10 cycles, while TIM21's
 *             update interrupt (every 10,000 cycles) wakes the core: prints how many times
 *             WFI returned for 3 updates (the PWM's edges wake nothing).
 *   capture   TIM2 at 1 MHz (PSC 31, ARR 0xFFFF) captures PA0 (AF2, TIM2_CH1, as --pin drives it):
 *             channel 1 its rising edges (IC1PSC PRESCALE, IC1F FILTER, -DBOTH: both edges),
 *             channel 2 the falling edges of TI1 (CC2S 2) and, -DPWM_INPUT, SMCR's reset mode
 *             on TI1FP1 (HAL_TIM_IC's PWM input: CCR1 the period, CCR2 the high time). CC1IE:
 *             the handler reads CCR1 and CCR2 (the CCR1 read clears CC1IF) for CAPTURES
 *             captures, printed "c CCR1/CCR2 ...". -DPOLL: no interrupt; the core waits in a
 *             loop until CNT passes WAIT, then prints SR's CC1IF and CC1OF and CCR1.
 *             -DPSC_VALUE, -DARR_VALUE (with URS and UIE: "u UPDATES " first), -DBUSY: the
 *             core runs a long block instead of WFI.
 *   slave     TIM2 in SMCR slave mode SLAVE (4 reset, 5 gated, 6 trigger) on TI1FP1 (PA0 AF2;
 *             -DLOW: CC1P, the input inverted; -DETR: on ETRF instead, TS 111, PA0 AF5
 *             TIM2_ETR, -DLOW: ETP, written before the mode as the HAL's ETR set-up does),
 *             TIE's interrupt counting the trigger's edges; TIM21 counts microseconds from the
 *             start. After EDGES trigger interrupts (each records TIM21's count) and, in
 *             trigger mode, TIM2's one-pulse update (ARR 999), prints "t ..." (TIM21 at each
 *             trigger interrupt), TIM2's CNT and TIM21's.
 *   encoder   TIM2 in encoder mode SMS ENCODER (1: TI2's edges, 2: TI1's, 3: both) on PA0 (TI1) and
 *             PA1 (TI2), AF2, ARR 999 (-DINVERT: CC1P), its update interrupt counting wraps;
 *             -DCLOCK instead: external clock mode 1 on TI1FP1 (PA0's rising edges), PSC 1 (two
 *             a count). TIM21's update every 150 ms prints "cnt CNT dir DIR wraps W" twice.
 *   pwm_dma   TIM2 at 1 MHz, a period of 100 us, channel 2's PWM (preloaded) on PB3, its duty
 *             from a table of 6 by DMA1 channel 2 (CSELR 8: TIM2_UP) at each update event
 *             (DIER.UDE, as HAL_TIM_Base_Start_DMA's request); -DCC3: channel 3's PWM on PA2,
 *             its duty by DMA1 channel 1 (TIM2_CH3) at each of its compare events (CC3DE, as
 *             HAL_TIM_PWM_Start_DMA and STM32CubeL0's TIM_DMA example do); the
 *             transfer-complete interrupt (IRQ 10, IRQ 9) ends it: prints "done" once the
 *             counter is stopped.
 *             -DCAPTURE instead: channel 1 captures PA0's rising edges into a table of 4 by DMA1
 *             channel 5 (CSELR 8: TIM2_CH1, CC1DE), printed "c A B C D of OF" (CC1OF).
 *             -DBSRR instead: a circular table {set PA5, reset PA5} into GPIOA's BSRR by DMA1
 *             channel 2 at each update event (every 10 us), while the core runs a long block
 *             (-DBUSY) or sleeps, for 20 updates: PA5 a square wave.
 *   burst     as STM32CubeL0's TIM_DMABurst (HAL_TIM_DMABurst_WriteStart): TIM2's channel 1 in
 *             PWM mode 1 on PA0 (AF2), CCR1 300 (preloaded), ARR 999, at the core's clock; at
 *             each update event DMA1 channel 2 (TIM2_UP, UDE) writes a burst of 3 words
 *             through DMAR from ARR on (DCR: DBA 11, DBL 2): ARR, the word TIM1 has its RCR in
 *             (reserved here), CCR1; two bursts {399, 0, 100} and {599, 0, 500}, then the
 *             transfer-complete interrupt (IRQ 10); prints "done" two updates later.
 *             -DREAD instead: capture's PWM input on PA0 (PSC 31: 1 MHz) and DMA1 channel 5
 *             (TIM2_CH1, CC1DE) reading a burst of 2 through DMAR at each capture (DBA 13:
 *             CCR1, CCR2) into a table of 8 (HAL_TIM_DMABurst_ReadStart): prints "b" and it.
 *   itr_opm   TIM2 one pulse of 1000 cycles (OPM), MMS enable; TIM21 gated by ITR0 (TIM2),
 *             ARR 1499, UIE: prints "updates U cnt C" (the chip: 0 and 1000).
 *   itr_rccreset TIM21 gated by TIM2's CNT_EN, TIM2 reset through RCC APB1RSTR (TRGO falls):
 *             prints how far TIM21 "moved" after it (the chip: 0).
 *   itr_slaveclock the same gate, TIM2 stopped while TIM21's clock is off: prints how far
 *             TIM21 "moved" once its clock is back (the chip: 0).
 *   itr_dmaread TIM21 counts TIM2's updates (ITR0, external clock mode 1); TIM2's update DMA
 *             request moves TIM21's CNT into a table of 8 while the core runs a long block:
 *             prints "table ..." (the chip: 1 ... 8).
 *   itr_order TIM21 reset by TIM22's updates (ITR1, every 40 cycles; ARR 40, never reached),
 *             URS, UIE and CC1IE at 30, the core running 40-cycle blocks: prints "updates U
 *             matches M" (the chip: no update).
 *   itr_wfi   TIM2 toggling PA0, no interrupt, TIM21 in reset mode on ITR0 (TIM2's TRGO, MMS
 *             reset); the core sleeps for ever: a deadlock.
 *   lsi       as STM32CubeL0's IWDG and RTC examples measure the LSI: TIM21's TI1 from the LSI
 *             (OR TI1_RMP 5, started by RCC_CSR.LSION; -DLSE: the LSE, 4), channel 1 capturing
 *             every 8th rising edge with its interrupt; two captures give 8 periods in timer
 *             clocks (32 MHz): prints "period P hz F". -DIWDG: the LSI started by the
 *             IWDG's start instead (-DIWDG_LATE: after the capture is set up); -DOFF: not
 *             started; -DFILTER=n: IC1F n; -DNOIRQ: no interrupt, the core sleeps for ever.
 *   cascade   as STM32CubeL0's TIM_ExtTriggerSynchro: TIM2 gated by TI2FP2 (PA1, as --pin drives
 *             it), its CNT_EN as TRGO (CR2.MMS enable); TIM21 gated by ITR0 (TIM2's TRGO), its
 *             CNT_EN as TRGO; TIM22 gated by ITR0 (TIM21's); each toggles its channel 1 at each
 *             update (PSC 1, ARR 79: every 160 cycles) on PA0, PA2 and PA6. Once PA1 has risen
 *             and fallen, prints "cnt" and the three counts.
 * Exit status 0 when every check holds, else the number of the first that failed; tick prints
 * the ticks counted.
 */
#include "cm.h"
#include "semihost.h"
#include "stm32l0_dma.h"

#define RCC_APB2ENR REG(0x40021034u)
#define RCC_APB2RSTR REG(0x40021024u)
#define TIM2 0x40000000u
#define TIM21 0x40010800u
#define TIM22 0x40011400u

/* Prints LABEL, then " V" for each of the N words of TABLE (pwm_dma's and burst's tables). */
__attribute__((unused)) static void print_table(const char *label,
                                                const volatile uint32_t *table, uint32_t n)
{
    sh_write0(label);
    for (uint32_t k = 0; k < n; k++) {
        sh_write0(" ");
        sh_write_int((long)table[k]);
    }
}
#define CR1(t) REG((t) + 0x00u)
#define SMCR(t) REG((t) + 0x08u)
#define CCMR1(t) REG((t) + 0x18u)
#define CCMR2(t) REG((t) + 0x1Cu)
#define CCER(t) REG((t) + 0x20u)
#define CCR(t, n) REG((t) + 0x30u + 4u * (n))
#define DIER(t) REG((t) + 0x0Cu)
#define SR(t) REG((t) + 0x10u)
#define EGR(t) REG((t) + 0x14u)
#define CNT(t) REG((t) + 0x24u)
#define PSC(t) REG((t) + 0x28u)
#define ARR(t) REG((t) + 0x2Cu)
#define CEN 1u
#define UDIS (1u << 1)
#define URS (1u << 2)
#define OPM (1u << 3)
#define ARPE (1u << 7)
#define UIF 1u

#if CASE_tick
/* TIM21 by default; -DTICK_TIM2 for TIM2 (APB1ENR bit 0, IRQ 15) */
#ifdef TICK_TIM2
#define TICK 0x40000000u
#define TICK_ENR REG(0x40021038u)
#define TICK_EN 0u
#define TICK_IRQ 15u
#else
#define TICK TIM21
#define TICK_ENR RCC_APB2ENR
#define TICK_EN 2u
#define TICK_IRQ 20u
#endif
static volatile uint32_t ticks;

static void tick(void)
{
    if (SR(TICK) & UIF) {
        SR(TICK) = ~UIF; /* rc_w0: only UIF cleared */
        ticks++;
    }
}

void IRQ15_Handler(void) { tick(); }
void IRQ20_Handler(void) { tick(); }

int main(void)
{
    TICK_ENR |= 1u << TICK_EN; /* the timer's clock */
    PSC(TICK) = 32u - 1u;  /* 32 MHz / 32: 1 MHz */
    ARR(TICK) = 1000u - 1u; /* 1 ms */
    EGR(TICK) = 1u;         /* UG: PSC loaded; UIF set too */
    if (!(SR(TICK) & UIF))
        return 1;
    SR(TICK) = ~UIF;
    DIER(TICK) = 1u; /* UIE */
    CR1(TICK) |= CEN;
    NVIC_ISER = 1u << TICK_IRQ;
    uint32_t start = ticks;
    while (ticks - start < TICKS)
        __asm__ volatile("wfi" ::: "memory");
    CR1(TICK) &= ~CEN;
    sh_write0("ticks ");
    sh_write_int((long)ticks);
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_compare
static volatile uint32_t events[4], low[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}, high[4];
static volatile uint32_t updates;

void IRQ15_Handler(void)
{
    uint32_t cnt = CNT(TIM2), sr = SR(TIM2);
    SR(TIM2) = ~sr; /* rc_w0: those seen cleared */
    for (uint32_t n = 1; n <= 3; n++)
        if (sr & (1u << n)) {
            events[n]++;
            if (cnt < low[n])
                low[n] = cnt;
            if (cnt > high[n])
                high[n] = cnt;
        }
    if (sr & UIF)
        updates++;
}

int main(void)
{
    REG(0x40021038u) |= 1u; /* TIM2EN */
    ARR(TIM2) = 999u;
    CCMR1(TIM2) = (3u << 4) | (1u << 3) | (3u << 12); /* OC1M, OC2M toggle; OC1PE */
    CCMR2(TIM2) = 3u << 4;                          /* OC3M toggle */
    CCR(TIM2, 1) = 250u;
    CCR(TIM2, 2) = 2000u;
    CCR(TIM2, 3) = 750u;
    EGR(TIM2) = 1u; /* UG: CCR1's preload taken */
    SR(TIM2) = 0;
    DIER(TIM2) = (1u << 1) | (1u << 2) | (1u << 3) | 1u; /* CC1IE, CC2IE, CC3IE, UIE */
    REG(TIM2 + 0x20u) = 1u | (1u << 4) | (1u << 8);     /* CCER: CC1E, CC2E, CC3E */
    NVIC_ISER = 1u << 15;
    CR1(TIM2) |= CEN;
    while (updates < PERIODS)
        __asm__ volatile("wfi" ::: "memory");
    CCR(TIM2, 1) = 500u; /* preloaded: the next period still matches at 250 */
    uint32_t before = events[1];
    while (updates < PERIODS + 2u)
        __asm__ volatile("wfi" ::: "memory");
    CR1(TIM2) &= ~CEN;
    for (uint32_t n = 1; n <= 3; n++) {
        sh_write0(n == 1 ? "cc1 " : n == 2 ? " cc2 " : " cc3 ");
        sh_write_int((long)events[n]);
        if (events[n]) {
            sh_write0(" at ");
            sh_write_int((long)low[n]);
            sh_write0("-");
            sh_write_int((long)high[n]);
        }
    }
    sh_write0("\n");
    return events[1] - before == 2u ? 0 : 2;
}
#endif

#if CASE_pwm
static volatile uint32_t updates;

static volatile uint32_t edges;

void IRQ5_Handler(void)
{
    REG(0x40010414u) = 1u; /* EXTI_PR: line 0 */
    edges++;
}

void IRQ15_Handler(void)
{
    SR(TIM2) = ~UIF;
    updates++;
#ifdef RAMP
    if (updates == 3u)
        CCR(TIM2, 2) = RAMP;
#endif
}

int main(void)
{
    REG(0x4002102Cu) |= 3u; /* IOPENR: GPIOA, GPIOB */
    REG(0x50000000u) = (REG(0x50000000u) & ~3u) | 2u;       /* PA0: alternate function */
    REG(0x50000020u) = (REG(0x50000020u) & ~15u) | 2u;      /* AF2: TIM2_CH1 */
    REG(0x50000400u) = (REG(0x50000400u) & ~(3u << 6)) | (2u << 6); /* PB3: alternate */
    REG(0x50000420u) = (REG(0x50000420u) & ~(15u << 12)) | (2u << 12); /* AF2: TIM2_CH2 */
    REG(0x40021038u) |= 1u; /* TIM2EN */
    PSC(TIM2) = 31u;        /* 1 MHz */
    ARR(TIM2) = 999u;       /* 1 ms */
    CCMR1(TIM2) = (3u << 4) | (6u << 12) | (1u << 11); /* OC1M toggle; OC2M PWM 1, OC2PE */
    CCR(TIM2, 1) = 500u;
    CCR(TIM2, 2) = DUTY;
#ifdef INVERT
    CCER(TIM2) = 1u | (1u << 4) | (1u << 5); /* CC1E; CC2E, CC2P */
#elif defined(RAMP)
    CCER(TIM2) = 1u << 4;                    /* CC2E alone */
#else
    CCER(TIM2) = 1u | (1u << 4);             /* CC1E, CC2E */
#endif
#ifdef COUNTER
    CR1(TIM2) = COUNTER; /* as HAL's CounterMode: DIR down, CMS 1-3 centre-aligned */
#endif
    EGR(TIM2) = 1u; /* UG: PSC and CCR2 loaded */
    SR(TIM2) = 0;
#ifdef FOREVER
    CR1(TIM2) |= CEN;
#ifdef EXTI_WAKE /* PA0's rising edges (channel 1's toggle) as EXTI line 0's interrupt */
    REG(0x40010408u) |= 1u; /* EXTI_RTSR: line 0 rising */
    REG(0x40010400u) |= 1u; /* EXTI_IMR: line 0 (SYSCFG's EXTICR1 selects port A at reset) */
    NVIC_ISER = 1u << 5;
    while (edges < 5u)
        __asm__ volatile("wfi" ::: "memory");
    sh_write0("edges 5\n");
    return 0;
#endif
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
#endif
    DIER(TIM2) = 1u;
    NVIC_ISER = 1u << 15;
    CR1(TIM2) |= CEN;
#ifdef BUSY
    REG(0x50000000u) = (REG(0x50000000u) & ~(3u << 10)) | (1u << 10); /* PA5: output */
    while (updates < PERIODS) {
        REG(0x50000018u) = 1u << 5; /* BSRR: PA5 high, then low, in one long block */
        __asm__ volatile(".rept 40\n nop\n .endr" ::: "memory");
        REG(0x50000018u) = 1u << 21;
        __asm__ volatile(".rept 40\n nop\n .endr" ::: "memory");
    }
#else
    while (updates < PERIODS)
        __asm__ volatile("wfi" ::: "memory");
#endif
    CR1(TIM2) &= ~CEN;
    return 0;
}
#endif

#if CASE_pwm_sleep
static volatile uint32_t updates;

void IRQ20_Handler(void)
{
    SR(TIM21) = ~UIF;
    updates++;
}

int main(void)
{
    REG(0x4002102Cu) |= 1u;                                          /* IOPENR: GPIOA */
    REG(0x50000000u) = (REG(0x50000000u) & ~(3u << 12)) | (2u << 12); /* PA6: alternate */
    REG(0x50000020u) = (REG(0x50000020u) & ~(15u << 24)) | (5u << 24); /* AF5: TIM22_CH1 */
    RCC_APB2ENR |= (1u << 5) | (1u << 2); /* TIM22EN, TIM21EN */
    ARR(TIM22) = 9u;
    REG(TIM22 + 0x18u) = 6u << 4; /* OC1M: PWM mode 1 */
    REG(TIM22 + 0x34u) = 3u;      /* CCR1 */
    REG(TIM22 + 0x20u) = 1u;      /* CC1E */
    CR1(TIM22) = CEN;
    ARR(TIM21) = 9999u;
    DIER(TIM21) = 1u;
    NVIC_ISER = 1u << 20;
    CR1(TIM21) = CEN;
    uint32_t wakes = 0;
    while (updates < 3u) {
        __asm__ volatile("wfi" ::: "memory");
        wakes++;
    }
    sh_write0("wakes ");
    sh_write_int((long)wakes);
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_one_pulse
int main(void)
{
    RCC_APB2ENR |= 1u << 5; /* TIM22EN */
    ARR(TIM22) = 999u;
    CR1(TIM22) = OPM | CEN;
    uint32_t a = CNT(TIM22);
    for (volatile int i = 0; i < 10; i++)
        ;
    uint32_t b = CNT(TIM22);
    if (!(b > a && b < 999u))
        return 1;
    while (!(SR(TIM22) & UIF))
        ;
    if (CR1(TIM22) & CEN || CNT(TIM22) != 0)
        return 2;
    return 0;
}
#endif

#if CASE_preload
int main(void)
{
    RCC_APB2ENR |= 1u << 5;
    CR1(TIM22) = URS;
    EGR(TIM22) = 1u; /* URS: no UIF from UG */
    if (SR(TIM22) & UIF)
        return 1;
    ARR(TIM22) = 99u;
    CR1(TIM22) = ARPE | CEN;
    ARR(TIM22) = 4999u; /* preloaded: the first period is still 100 cycles */
    while (!(SR(TIM22) & UIF))
        ;
    SR(TIM22) = 0xFFFFFFFEu; /* rc_w0 */
    if (SR(TIM22) & UIF)
        return 2;
    while (CNT(TIM22) < 200u) /* the second period runs to 4999 */
        ;
    if (SR(TIM22) & UIF)
        return 3;
    CR1(TIM22) = UDIS | CEN; /* overflows now set nothing */
    CNT(TIM22) = 4990u;
    for (volatile int i = 0; i < 200; i++)
        ;
    if (SR(TIM22) & UIF || CNT(TIM22) >= 4990u)
        return 4;
    return 0;
}
#endif

#if CASE_no_clock
int main(void)
{
    ARR(TIM21) = 99u;
    CR1(TIM21) = CEN;
    if (CR1(TIM21) != 0 || ARR(TIM21) != 0)
        return 1;
    RCC_APB2ENR |= 1u << 2;
    if (CR1(TIM21) != 0 || ARR(TIM21) != 0xFFFFu) /* the writes were lost: reset values */
        return 2;
    return 0;
}
#endif

#if CASE_gated
static volatile uint32_t ticks;

void IRQ20_Handler(void)
{
    SR(TIM21) = ~UIF;
    ticks++;
}

static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++)
        ;
}

int main(void)
{
    RCC_APB2ENR |= 1u << 2;
    ARR(TIM21) = 9999u; /* a tick every 10,000 cycles */
    DIER(TIM21) = 1u;
    CR1(TIM21) = CEN;
    NVIC_ISER = 1u << 20;
    while (ticks < 2)
        ;
    spin(100); /* a little way into the third period */
    RCC_APB2ENR &= ~(1u << 2); /* gated: no count, no interrupt */
    spin(20000); /* several periods' worth */
    if (ticks != 2)
        return 1;
    RCC_APB2ENR |= 1u << 2;
    uint32_t count = CNT(TIM21);
    if (count > 5000u) /* the count went on from where it stopped */
        return 2;
    while (ticks < 3)
        ;
    return 0;
}
#endif

#if CASE_rcc_reset
int main(void)
{
    RCC_APB2ENR |= 1u << 5;
    ARR(TIM22) = 99u;
    DIER(TIM22) = 1u;
    CR1(TIM22) = CEN;
    RCC_APB2RSTR |= 1u << 5; /* held in reset: reads 0 */
    if (CR1(TIM22) != 0 || ARR(TIM22) != 0)
        return 1;
    RCC_APB2RSTR &= ~(1u << 5);
    if (CR1(TIM22) != 0 || ARR(TIM22) != 0xFFFFu || DIER(TIM22) != 0)
        return 2;
    return 0;
}
#endif

#if CASE_capture
#ifndef PRESCALE
#define PRESCALE 0u
#endif
#ifndef FILTER
#define FILTER 0u
#endif
#ifndef CAPTURES
#define CAPTURES 4u
#endif
static volatile uint32_t captures;
static volatile uint32_t first[CAPTURES], second[CAPTURES];

#ifndef PSC_VALUE
#define PSC_VALUE 31u /* 1 MHz */
#endif
static volatile uint32_t updates;

void IRQ15_Handler(void)
{
    uint32_t sr = SR(TIM2);
    if (sr & UIF) {
        SR(TIM2) = ~UIF;
        updates++;
    }
    if (!(sr & (1u << 1))) /* CC1IF */
        return;
    uint32_t a = CCR(TIM2, 1); /* clears CC1IF */
    uint32_t b = CCR(TIM2, 2);
    if (captures < CAPTURES) {
        first[captures] = a;
        second[captures] = b;
    }
    captures++;
}

int main(void)
{
    REG(0x4002102Cu) |= 1u;                                 /* IOPENR: GPIOA */
    REG(0x50000000u) = (REG(0x50000000u) & ~3u) | 2u;       /* PA0: alternate function */
    REG(0x50000020u) = (REG(0x50000020u) & ~15u) | 2u;      /* AF2: TIM2_CH1 */
    REG(0x40021038u) |= 1u;                                 /* TIM2EN */
    PSC(TIM2) = PSC_VALUE;
#ifdef ARR_VALUE
    ARR(TIM2) = ARR_VALUE;
    CR1(TIM2) = URS; /* the slave mode's resets do not set UIF: only overflows */
#else
    ARR(TIM2) = 0xFFFFu;
#endif
    /* CC1S 1 (TI1), IC1PSC, IC1F; CC2S 2 (TI1 too) */
    CCMR1(TIM2) = 1u | (PRESCALE << 2) | (FILTER << 4) | (2u << 8);
#ifdef BOTH
    CCER(TIM2) = 1u | (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5);
#else
    CCER(TIM2) = 1u | (1u << 4) | (1u << 5); /* CC1E rising; CC2E, CC2P: falling */
#endif
#ifdef PWM_INPUT
    SMCR(TIM2) = 4u | (5u << 4); /* reset mode, TS TI1FP1 */
#endif
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
#ifdef POLL
    CR1(TIM2) |= CEN;
    while (CNT(TIM2) < WAIT)
        ;
    uint32_t sr = SR(TIM2);
    sh_write0("if ");
    sh_write_int((long)(sr >> 1 & 1u));
    sh_write0(" of ");
    sh_write_int((long)(sr >> 9 & 1u));
    sh_write0(" ccr1 ");
    sh_write_int((long)CCR(TIM2, 1));
    sh_write0("\n");
    return 0;
#else
#ifdef ARR_VALUE
    DIER(TIM2) = (1u << 1) | UIF; /* CC1IE, UIE: the overflows counted */
#else
    DIER(TIM2) = 1u << 1; /* CC1IE */
#endif
    NVIC_ISER = 1u << 15;
    CR1(TIM2) |= CEN;
    while (captures < CAPTURES)
#ifdef BUSY /* a long block: edges and the timer's events fall due in it */
        __asm__ volatile(".rept 100\n nop\n .endr" ::: "memory");
#else
        __asm__ volatile("wfi" ::: "memory");
#endif
#ifdef ARR_VALUE
    sh_write0("u ");
    sh_write_int((long)updates);
    sh_write0(" ");
#endif
    sh_write0("c");
    for (uint32_t n = 0; n < CAPTURES; n++) {
        sh_write0(" ");
        sh_write_int((long)first[n]);
        sh_write0("/");
        sh_write_int((long)second[n]);
    }
    sh_write0("\n");
    return (SR(TIM2) >> 9 & 1u) ? 3 : 0; /* each capture read in time: no CC1OF */
#endif
}
#endif

#if CASE_slave
static volatile uint32_t triggers;
static volatile uint32_t at[EDGES];

void IRQ15_Handler(void)
{
    if (SR(TIM2) & (1u << 6)) { /* TIF */
        SR(TIM2) = ~(1u << 6);
        if (triggers < EDGES)
            at[triggers] = CNT(TIM21);
        triggers++;
    }
    if (SR(TIM2) & UIF)
        SR(TIM2) = ~UIF;
}

int main(void)
{
    REG(0x4002102Cu) |= 1u;                                 /* IOPENR: GPIOA */
    REG(0x50000000u) = (REG(0x50000000u) & ~3u) | 2u;       /* PA0: alternate function */
#ifdef ETR
    REG(0x50000020u) = (REG(0x50000020u) & ~15u) | 5u;      /* AF5: TIM2_ETR */
#else
    REG(0x50000020u) = (REG(0x50000020u) & ~15u) | 2u;      /* AF2: TIM2_CH1 */
#endif
    REG(0x40021038u) |= 1u;                                 /* TIM2EN */
    RCC_APB2ENR |= 1u << 2;                                 /* TIM21EN */
    PSC(TIM21) = 31u;
    EGR(TIM21) = 1u;
    CR1(TIM21) = CEN;
    PSC(TIM2) = 31u;
    ARR(TIM2) = SLAVE == 6 ? 999u : 0xFFFFu;
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
#ifdef ETR
#ifdef LOW
    SMCR(TIM2) = (7u << 4) | (1u << 15); /* TS 111 ETRF, ETP: inverted */
#else
    SMCR(TIM2) = 7u << 4; /* TS 111: ETRF */
#endif
    SMCR(TIM2) |= SLAVE;
#else
    CCMR1(TIM2) = 1u; /* CC1S 1: TI1 */
#ifdef LOW
    CCER(TIM2) = 1u << 1; /* CC1P: TI1FP1 inverted (the capture itself not enabled) */
#endif
    SMCR(TIM2) = SLAVE | (5u << 4); /* TS TI1FP1 */
#endif
    DIER(TIM2) = 1u << 6;           /* TIE */
    NVIC_ISER = 1u << 15;
#if SLAVE == 6
    CR1(TIM2) = OPM; /* the trigger sets CEN */
#else
    CR1(TIM2) = CEN; /* counts while TRGI is high */
#endif
    while (triggers < EDGES)
        __asm__ volatile("wfi" ::: "memory");
#if SLAVE == 6
    while (CR1(TIM2) & CEN)
        ;
#endif
    sh_write0("t");
    for (uint32_t n = 0; n < EDGES; n++) {
        sh_write0(" ");
        sh_write_int((long)at[n]);
    }
    sh_write0(" cnt ");
    sh_write_int((long)CNT(TIM2));
    sh_write0(" tim21 ");
    sh_write_int((long)CNT(TIM21));
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_encoder
static volatile uint32_t ticks, wraps;

void IRQ15_Handler(void)
{
    SR(TIM2) = ~UIF;
    wraps++;
}

void IRQ20_Handler(void)
{
    SR(TIM21) = ~UIF;
    ticks++;
}

int main(void)
{
    REG(0x4002102Cu) |= 1u;                                  /* IOPENR: GPIOA */
    REG(0x50000000u) = (REG(0x50000000u) & ~15u) | 10u;      /* PA0, PA1: alternate function */
    REG(0x50000020u) = (REG(0x50000020u) & ~0xFFu) | 0x22u;  /* AF2: TIM2_CH1, TIM2_CH2 */
    REG(0x40021038u) |= 1u;                                  /* TIM2EN */
    RCC_APB2ENR |= 1u << 2;                                  /* TIM21EN */
    ARR(TIM2) = 999u;
    CCMR1(TIM2) = 1u | (1u << 8); /* CC1S: TI1; CC2S: TI2 */
#ifdef INVERT
    CCER(TIM2) = 1u << 1; /* CC1P: TI1FP1 inverted */
#endif
#ifdef CLOCK
    PSC(TIM2) = 1u;
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
    SMCR(TIM2) = 7u | (5u << 4); /* external clock mode 1, TS TI1FP1 */
#else
    SMCR(TIM2) = ENCODER;
#endif
    DIER(TIM2) = 1u;
    NVIC_ISER = (1u << 15) | (1u << 20);
    CR1(TIM2) = CEN;
    PSC(TIM21) = 3199u; /* 10 kHz */
    ARR(TIM21) = 1499u; /* 150 ms */
    EGR(TIM21) = 1u;
    SR(TIM21) = 0;
    DIER(TIM21) = 1u;
    CR1(TIM21) = CEN;
    uint32_t printed = 0;
    while (printed < 2u) {
        __asm__ volatile("wfi" ::: "memory");
        if (ticks > printed) {
            printed++;
            sh_write0("cnt ");
            sh_write_int((long)CNT(TIM2));
            sh_write0(" dir ");
            sh_write_int((long)(CR1(TIM2) >> 4 & 1u));
            sh_write0(" wraps ");
            sh_write_int((long)wraps);
            sh_write0("\n");
        }
    }
    return 0;
}
#endif

#if CASE_pwm_dma || CASE_burst /* a transfer-complete interrupt ends them */
/* Two more update events of TIM2 (UIF cleared, then waited for: rc_w0), then it stops and
 * "done" is printed. */
__attribute__((unused)) static void finish_after_updates(void)
{
    for (uint32_t n = 0; n < 2u; n++) {
        SR(TIM2) = ~UIF;
        while (!(SR(TIM2) & UIF))
            ;
    }
    CR1(TIM2) &= ~CEN;
    sh_write0("done\n");
}

static volatile uint32_t done;

void IRQ9_Handler(void) /* DMA1 channel 1 */
{
    DMA_IFCR = 0xFu; /* channel 1's flags */
    done = 1;
}

void IRQ10_Handler(void) /* DMA1 channels 2, 3 */
{
    DMA_IFCR = 0xFu << 4; /* channel 2's flags */
    done = 1;
}

void IRQ11_Handler(void) /* DMA1 channels 4-7 */
{
    DMA_IFCR = 0xFu << 16; /* channel 5's flags */
    done = 1;
}
#endif

#if CASE_pwm_dma

#ifdef CAPTURE
static volatile uint32_t table[4];
#elif defined(BSRR)
static const uint32_t table[2] = {1u << 5, 1u << 21};
static volatile uint32_t updates;

void IRQ15_Handler(void)
{
    SR(TIM2) = ~UIF;
    updates++;
}
#else
static const uint16_t table[6] = {10u, 20u, 30u, 40u, 50u, 60u};
#endif

int main(void)
{
    REG(0x4002102Cu) |= 3u;        /* IOPENR: GPIOA, GPIOB */
    REG(0x40021038u) |= 1u;        /* TIM2EN */
    REG(0x40021030u) |= 1u;        /* AHBENR: DMAEN */
    PSC(TIM2) = 31u;               /* 1 MHz */
#ifdef BSRR
    REG(0x50000000u) = (REG(0x50000000u) & ~(3u << 10)) | (1u << 10); /* PA5: output */
    PSC(TIM2) = 0u;
    ARR(TIM2) = 319u;              /* 10 us */
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
    DMA_CSELR = 8u << 4;           /* channel 2: TIM2_UP */
    DMA_CPAR(2) = 0x50000018u;     /* GPIOA_BSRR */
    DMA_CMAR(2) = (uint32_t)table;
    DMA_CNDTR(2) = 2u;
    DMA_CCR(2) = (2u << 10) | (2u << 8) | (1u << 7) | (1u << 5) | (1u << 4) | 1u; /* 32/32
                                                                 bits, MINC, CIRC, DIR, EN */
    DIER(TIM2) = (1u << 8) | UIF;  /* UDE, UIE */
    NVIC_ISER = 1u << 15;
    CR1(TIM2) |= CEN;
    while (updates < 20u)
#ifdef BUSY
        __asm__ volatile(".rept 100\n nop\n .endr" ::: "memory");
#else
        __asm__ volatile("wfi" ::: "memory");
#endif
    CR1(TIM2) &= ~CEN;
    sh_write0("done\n");
    return 0;
#endif
#ifdef CAPTURE
    REG(0x50000000u) = (REG(0x50000000u) & ~3u) | 2u;       /* PA0: alternate function */
    REG(0x50000020u) = (REG(0x50000020u) & ~15u) | 2u;      /* AF2: TIM2_CH1 */
    ARR(TIM2) = 0xFFFFu;
    CCMR1(TIM2) = 1u;              /* CC1S: TI1 */
    CCER(TIM2) = 1u;               /* CC1E, rising */
    DMA_CSELR = 8u << 16;          /* channel 5: TIM2_CH1 */
    DMA_CPAR(5) = TIM2 + 0x34u;    /* CCR1 */
    DMA_CMAR(5) = (uint32_t)table;
    DMA_CNDTR(5) = 4u;
    DMA_CCR(5) = (2u << 10) | (2u << 8) | (1u << 7) | (1u << 1) | 1u; /* 32/32 bits, MINC,
                                                                        TCIE, EN */
    NVIC_ISER = 1u << 11;
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
    DIER(TIM2) = 1u << 9;          /* CC1DE */
#elif defined(CC3)
    REG(0x50000000u) = (REG(0x50000000u) & ~(3u << 4)) | (2u << 4); /* PA2: alternate */
    REG(0x50000020u) = (REG(0x50000020u) & ~(15u << 8)) | (2u << 8); /* AF2: TIM2_CH3 */
    ARR(TIM2) = 99u;               /* 100 us */
    REG(TIM2 + 0x1Cu) = (6u << 4) | (1u << 3); /* CCMR2: OC3M PWM 1, OC3PE */
    CCR(TIM2, 3) = 5u;
    CCER(TIM2) = 1u << 8;          /* CC3E */
    DMA_CSELR = 8u;                /* channel 1: TIM2_CH3 */
    DMA_CPAR(1) = TIM2 + 0x3Cu;    /* CCR3 */
    DMA_CMAR(1) = (uint32_t)table;
    DMA_CNDTR(1) = 6u;
    DMA_CCR(1) = (1u << 10) | (2u << 8) | (1u << 7) | (1u << 4) | (1u << 1) | 1u;
    NVIC_ISER = 1u << 9;
    EGR(TIM2) = 1u;                /* UG: CCR3 5 loaded */
    SR(TIM2) = 0;
    DIER(TIM2) = 1u << 11;         /* CC3DE */
#else
    REG(0x50000400u) = (REG(0x50000400u) & ~(3u << 6)) | (2u << 6); /* PB3: alternate */
    REG(0x50000420u) = (REG(0x50000420u) & ~(15u << 12)) | (2u << 12); /* AF2: TIM2_CH2 */
    ARR(TIM2) = 99u;               /* 100 us */
    CCMR1(TIM2) = (6u << 12) | (1u << 11); /* OC2M PWM 1, OC2PE */
    CCR(TIM2, 2) = 5u;
    CCER(TIM2) = 1u << 4;          /* CC2E */
    DMA_CSELR = 8u << 4;           /* channel 2: TIM2_UP */
    DMA_CPAR(2) = TIM2 + 0x38u;    /* CCR2 */
    DMA_CMAR(2) = (uint32_t)table;
    DMA_CNDTR(2) = 6u;
    DMA_CCR(2) = (1u << 10) | (2u << 8) | (1u << 7) | (1u << 4) | (1u << 1) | 1u; /* 16-bit
                                              memory, 32-bit peripheral, MINC, DIR, TCIE, EN */
    NVIC_ISER = 1u << 10;
    EGR(TIM2) = 1u;                /* UG: CCR2 5 loaded (and a first request: no UDE yet) */
    SR(TIM2) = 0;
    DIER(TIM2) = 1u << 8;          /* UDE */
#endif
    CR1(TIM2) |= CEN;
    while (!done)
        __asm__ volatile("wfi" ::: "memory");
#ifdef CAPTURE
    CR1(TIM2) &= ~CEN;
    print_table("c", table, 4u);
    sh_write0(" of ");
    sh_write_int((long)(SR(TIM2) >> 9 & 1u));
    sh_write0("\n");
#else
    finish_after_updates(); /* the last duty takes effect at the update after its transfer */
#endif
    return 0;
}
#endif

#if CASE_burst
#define DCR(t) REG((t) + 0x48u)
#define DMAR(t) ((t) + 0x4Cu)
#ifdef READ
static volatile uint32_t table[8];
#else
static const uint32_t table[6] = {399u, 0u, 100u, 599u, 0u, 500u};
#endif

int main(void)
{
    REG(0x4002102Cu) |= 1u;        /* IOPENR: GPIOA */
    REG(0x40021038u) |= 1u;        /* TIM2EN */
    REG(0x40021030u) |= 1u;        /* AHBENR: DMAEN */
    REG(0x50000000u) = (REG(0x50000000u) & ~3u) | 2u;       /* PA0: alternate function */
    REG(0x50000020u) = (REG(0x50000020u) & ~15u) | 2u;      /* AF2: TIM2_CH1 */
#ifdef READ
    PSC(TIM2) = 31u;               /* 1 MHz */
    ARR(TIM2) = 0xFFFFu;
    CCMR1(TIM2) = 1u | (2u << 8);  /* CC1S: TI1; CC2S: TI1 */
    CCER(TIM2) = 1u | (1u << 4) | (1u << 5); /* CC1E rising; CC2E, CC2P: falling */
    SMCR(TIM2) = 4u | (5u << 4);   /* reset mode, TS TI1FP1 */
    DMA_CSELR = 8u << 16;          /* channel 5: TIM2_CH1 */
    DMA_CPAR(5) = DMAR(TIM2);
    DMA_CMAR(5) = (uint32_t)table;
    DMA_CNDTR(5) = 8u;
    DMA_CCR(5) = (2u << 10) | (2u << 8) | (1u << 7) | (1u << 1) | 1u; /* 32/32 bits, MINC,
                                                                        TCIE, EN */
    NVIC_ISER = 1u << 11;
    EGR(TIM2) = 1u;
    SR(TIM2) = 0;
    DCR(TIM2) = 13u | (1u << 8);   /* DBA 13: CCR1; DBL 1: 2 transfers */
    DIER(TIM2) = 1u << 9;          /* CC1DE */
#else
    ARR(TIM2) = 999u;
    CCMR1(TIM2) = (6u << 4) | (1u << 3); /* OC1M PWM 1, OC1PE */
    CCR(TIM2, 1) = 300u;
    CCER(TIM2) = 1u;               /* CC1E */
    EGR(TIM2) = 1u;                /* UG: CCR1 300 loaded */
    SR(TIM2) = 0;
    DMA_CSELR = 8u << 4;           /* channel 2: TIM2_UP */
    DMA_CPAR(2) = DMAR(TIM2);
    DMA_CMAR(2) = (uint32_t)table;
    DMA_CNDTR(2) = 6u;
    DMA_CCR(2) = (2u << 10) | (2u << 8) | (1u << 7) | (1u << 4) | (1u << 1) | 1u; /* 32/32
                                                           bits, MINC, DIR, TCIE, EN */
    NVIC_ISER = 1u << 10;
    DCR(TIM2) = 11u | (2u << 8);   /* DBA 11: ARR; DBL 2: 3 transfers */
    DIER(TIM2) = 1u << 8;          /* UDE */
#endif
    CR1(TIM2) |= CEN;
    while (!done)
        __asm__ volatile("wfi" ::: "memory");
#ifdef READ
    CR1(TIM2) &= ~CEN;
    print_table("b", table, 8u);
    sh_write0("\n");
#else
    finish_after_updates(); /* the last duty's period */
#endif
    return 0;
}
#endif

#if CASE_cascade
int main(void)
{
    static const uint32_t timers[3] = {TIM2, TIM21, TIM22};
    REG(0x4002102Cu) |= 1u; /* IOPENR: GPIOA */
    /* PA0 AF2 (TIM2_CH1), PA1 AF2 (TIM2_CH2, the gate), PA2 AF0 (TIM21_CH1), PA6 AF5
       (TIM22_CH1) */
    REG(0x50000000u) = (REG(0x50000000u) & ~0x303Fu) | 0x202Au;
    REG(0x50000020u) = (REG(0x50000020u) & ~0x0F000FFFu) | 0x05000022u;
    REG(0x40021038u) |= 1u;            /* TIM2EN */
    RCC_APB2ENR |= (1u << 2) | (1u << 5); /* TIM21EN, TIM22EN */
    for (int i = 0; i < 3; i++) {      /* HAL_TIM_OC_Init, toggle at CCR1 0 */
        uint32_t t = timers[i];
        PSC(t) = 1u;
        ARR(t) = 79u;
        CCMR1(t) = 3u << 4;
        CCR(t, 1) = 0u;
        EGR(t) = 1u;
        SR(t) = 0u;
        CCER(t) = 1u; /* CC1E */
    }
    CCMR1(TIM2) |= 1u << 8;             /* CC2S 1: TI2 */
    CCER(TIM2) |= 1u << 4;              /* CC2E (HAL_TIM_IC_Start) */
    SMCR(TIM2) = (6u << 4) | 5u;        /* TS TI2FP2, gated */
    REG(TIM2 + 0x04u) = 1u << 4;        /* CR2.MMS enable: TRGO is CNT_EN */
    SMCR(TIM21) = (0u << 4) | 5u;       /* TS ITR0 (TIM2), gated */
    REG(TIM21 + 0x04u) = 1u << 4;
    SMCR(TIM22) = (0u << 4) | 5u;       /* TS ITR0 (TIM21), gated */
    for (int i = 0; i < 3; i++)
        CR1(timers[i]) |= CEN;
    while (!(REG(0x50000010u) & 2u)) /* GPIOA IDR: PA1 rises, */
        ;
    while (REG(0x50000010u) & 2u) /* and falls */
        ;
    for (int i = 0; i < 3; i++) {
        sh_write0(i ? " " : "cnt ");
        sh_write_int((long)CNT(timers[i]));
    }
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_lsi
static volatile uint32_t captures, first, second;

void IRQ20_Handler(void)
{
    uint32_t at = CCR(TIM21, 1); /* (the read clears CC1IF) */
    if (captures == 0u)
        first = at;
    else if (captures == 1u)
        second = at;
    captures++;
}

int main(void)
{
#ifdef LSE
    REG(0x40021038u) |= 1u << 28;               /* APB1ENR: PWREN */
    REG(0x40007000u) |= 1u << 8;                /* PWR_CR.DBP: the backup domain writable */
    REG(0x40021050u) |= 1u << 8;                /* RCC_CSR.LSEON */
    while (!(REG(0x40021050u) & (1u << 9)))     /* LSERDY */
        ;
#elif defined(IWDG)
    REG(0x40003000u) = 0xCCCCu;                 /* IWDG_KR: started, the LSI with it */
#elif !defined(OFF) && !defined(IWDG_LATE)
    REG(0x40021050u) |= 1u;                     /* RCC_CSR.LSION */
    while (!(REG(0x40021050u) & 2u))            /* LSIRDY */
        ;
#endif
    RCC_APB2ENR |= 1u << 2; /* TIM21EN */
    PSC(TIM21) = 0u;
    ARR(TIM21) = 0xFFFFu;
    EGR(TIM21) = 1u;
    SR(TIM21) = 0u;
#ifdef LSE
    REG(TIM21 + 0x50u) = 4u << 2; /* OR.TI1_RMP: the LSE */
#else
    REG(TIM21 + 0x50u) = 5u << 2; /* OR.TI1_RMP: the LSI */
#endif
#ifndef FILTER
#define FILTER 0u
#endif
    CCMR1(TIM21) = 1u | (3u << 2) | (FILTER << 4); /* CC1S 1: TI1; IC1PSC 3: every 8th */
    CCER(TIM21) = 1u;                              /* CC1E: rising edges */
    CR1(TIM21) = CEN;
#ifdef NOIRQ
    for (;;) /* no interrupt enabled: nothing can wake the core */
        __asm__ volatile("wfi" ::: "memory");
#endif
    DIER(TIM21) = 1u << 1; /* CC1IE */
    NVIC_ISER = 1u << 20;
#ifdef IWDG_LATE
    REG(0x40003000u) = 0xCCCCu; /* IWDG_KR: started after the capture is set up */
#endif
    while (captures < 2u)
        __asm__ volatile("wfi" ::: "memory");
    CCER(TIM21) = 0u; /* HAL_TIM_IC_Stop_IT */
    CR1(TIM21) = 0u;
    uint32_t period = (second - first) & 0xFFFFu;
    sh_write0("period ");
    sh_write_int((long)period);
    sh_write0(" hz ");
    sh_write_int((long)(256000000u / period));
    sh_write0("\n");
    return 0;
}
#endif

#if CASE_itr_opm || CASE_itr_rccreset || CASE_itr_slaveclock || CASE_itr_dmaread || \
    CASE_itr_order || CASE_itr_wfi
#define CR2(t) REG((t) + 0x04u)
#define RCC_APB1RSTR REG(0x40021028u)

static volatile uint32_t updates, matches;

void IRQ20_Handler(void)
{
    uint32_t sr = SR(TIM21);
    SR(TIM21) = ~sr;
    if (sr & 1u)
        updates++;
    if (sr & 2u)
        matches++;
}

static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++)
        ;
}

int main(void)
{
    REG(0x40021038u) |= 1u;                /* TIM2EN */
    RCC_APB2ENR |= (1u << 2) | (1u << 5); /* TIM21EN, TIM22EN */
#if CASE_itr_opm
    CR2(TIM2) = 1u << 4; /* MMS enable */
    ARR(TIM2) = 999u;
    ARR(TIM21) = 1499u;
    DIER(TIM21) = 1u;
    NVIC_ISER = 1u << 20;
    SMCR(TIM21) = (0u << 4) | 5u; /* ITR0 (TIM2), gated */
    CR1(TIM21) = CEN;
    CR1(TIM2) = OPM | CEN;
    spin(2000);
    sh_write0("updates ");
    sh_write_int((long)updates);
    sh_write0(" cnt ");
    sh_write_int((long)CNT(TIM21));
    sh_write0("\n");
#elif CASE_itr_rccreset
    CR2(TIM2) = 1u << 4;
    SMCR(TIM21) = (0u << 4) | 5u;
    CR1(TIM21) = CEN;
    CR1(TIM2) = CEN;
    spin(100);
    RCC_APB1RSTR |= 1u; /* TIM2RST */
    RCC_APB1RSTR &= ~1u;
    uint32_t before = CNT(TIM21);
    spin(1000);
    sh_write0("moved ");
    sh_write_int((long)(CNT(TIM21) - before));
    sh_write0("\n");
#elif CASE_itr_slaveclock
    CR2(TIM2) = 1u << 4;
    SMCR(TIM21) = (0u << 4) | 5u;
    CR1(TIM21) = CEN;
    CR1(TIM2) = CEN;
    spin(100);
    RCC_APB2ENR &= ~(1u << 2); /* TIM21's clock off */
    CR1(TIM2) = 0;             /* TRGO falls meanwhile */
    RCC_APB2ENR |= 1u << 2;    /* back: the gate closed */
    uint32_t before = CNT(TIM21);
    spin(1000);
    sh_write0("moved ");
    sh_write_int((long)(CNT(TIM21) - before));
    sh_write0("\n");
#elif CASE_itr_dmaread
    static volatile uint32_t table[8];
    REG(0x40021030u) |= 1u;       /* AHBENR: DMAEN */
    CR2(TIM2) = 2u << 4;          /* MMS update */
    ARR(TIM2) = 19u;              /* every 20 cycles */
    SMCR(TIM21) = (0u << 4) | 7u; /* ITR0 (TIM2), external clock mode 1 */
    CR1(TIM21) = CEN;
    DMA_CSELR = 8u << 4;          /* channel 2: TIM2_UP */
    DMA_CPAR(2) = TIM21 + 0x24u;  /* TIM21_CNT */
    DMA_CMAR(2) = (uint32_t)table;
    DMA_CNDTR(2) = 8u;
    DMA_CCR(2) = (2u << 10) | (2u << 8) | (1u << 7) | 1u; /* 32/32 bits, MINC, EN */
    DIER(TIM2) = 1u << 8;         /* UDE */
    CR1(TIM2) = CEN;
    __asm__ volatile(".rept 300\n nop\n .endr" ::: "memory");
    spin(400);
    CR1(TIM2) = 0;
    sh_write0("table");
    for (int i = 0; i < 8; i++) {
        sh_write0(" ");
        sh_write_int((long)table[i]);
    }
    sh_write0("\n");
#elif CASE_itr_order
    CR2(TIM22) = 2u << 4; /* MMS update, every 40 cycles */
    ARR(TIM22) = 39u;
    ARR(TIM21) = 40u; /* never reached: reset at each of TIM22's updates */
    CCR(TIM21, 1) = 30u;
    DIER(TIM21) = 3u; /* UIE, CC1IE */
    NVIC_ISER = 1u << 20;
    SMCR(TIM21) = (1u << 4) | 4u; /* ITR1 (TIM22), reset mode */
    CR1(TIM21) = URS | CEN;
    CR1(TIM22) = CEN;
    for (int i = 0; i < 100; i++)
        __asm__ volatile(".rept 40\n nop\n .endr" ::: "memory");
    CR1(TIM22) = 0;
    CR1(TIM21) = 0;
    sh_write0("updates ");
    sh_write_int((long)updates);
    sh_write0(" matches ");
    sh_write_int((long)matches);
    sh_write0("\n");
#elif CASE_itr_wfi
    REG(0x4002102Cu) |= 1u;                               /* IOPENR: GPIOA */
    REG(0x50000000u) = (REG(0x50000000u) & ~0x3u) | 0x2u; /* PA0: AF2, TIM2_CH1 */
    REG(0x50000020u) = (REG(0x50000020u) & ~0xFu) | 0x2u;
    ARR(TIM2) = 99u;
    CCMR1(TIM2) = 3u << 4; /* toggle */
    CCER(TIM2) = 1u;
    SMCR(TIM21) = (0u << 4) | 4u; /* ITR0 (TIM2, MMS reset: only its UG), reset mode */
    CR1(TIM2) = CEN;
    for (;;)
        __asm__ volatile("wfi");
#endif
    return 0;
}
#endif
