/* One behaviour per build (-DCASE=...): a system reset request, WFE after SEV, WFE with
 * nothing to wake the core or only an interrupt PRIMASK holds back, sleep-on-exit with
 * nothing to wake the core, unprivileged code touching the SCS (a BusFault on the chip; STIR
 * allowed with CCR.USERSETMPEND), a timer interrupt pended before it was enabled, a timer
 * that cannot wake the core, the UART reading the console input polled, and interrupt-driven
 * (one byte per RX interrupt, HAL style) while the core sleeps in WFI or spins on a flag
 * (rewriting CTRL as it spins), or, the interrupt disabled, WFE woken by SEVONPEND. */
#include "cm.h"
#include "semihost.h"

#define UART_DATA REG(0x40004000u)
#define UART_STATE REG(0x40004004u)
#define UART_CTRL REG(0x40004008u)
#define UART_INTSTATUS REG(0x4000400Cu)

static int reset(void)
{
    sh_write0("resetting\n");
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    isb();
    sh_write0("not reset\n");
    return 1;
}

static int sev_wfe(void)
{
    __asm__ volatile("sev\n\twfe" ::: "memory"); /* the event is set: WFE returns at once */
    sh_write0("woke\n");
    __asm__ volatile("yield");
    return 0;
}

static int wfe_deadlock(void)
{
    __asm__ volatile("wfe" ::: "memory"); /* no event, nothing pending, no SysTick: deadlock */
    return 0;
}

static int wfe_primask(void)
{
    __asm__ volatile("sev\n\twfe" ::: "memory"); /* the event register cleared */
    NVIC_ISER = 1u << 8;
    __asm__ volatile("cpsid i" ::: "memory");
    REG(0x40000004u) = 200u; /* TIMER0 VALUE: its interrupt pends in 200 cycles */
    REG(0x40000000u) = 9u;   /* EN | INTEN */
    /* PRIMASK keeps the interrupt from preempting and SEVONPEND is clear: no wake-up event,
     * WFE sleeps for good (WFI would wake) */
    __asm__ volatile("wfe" ::: "memory");
    return 0;
}

static volatile int exit_in_irq2, fault_in_irq2;

void IRQ2_Handler(void)
{
    if (fault_in_irq2) { /* a store to flash: the run ends at it, inside the handler */
        *(volatile uint32_t *)0x100u = 1u;
        sh_write0("not stopped\n");
    }
    sh_write0("irq2\n");
    if (exit_in_irq2)
        sh_exit(7); /* the run ends inside the handler */
}

static int fault_in_handler(void)
{
    fault_in_irq2 = 1;
    NVIC_ISER = 1u << 2;
    NVIC_ISPR = 1u << 2;
    isb();
    return 0;
}

static int exit_in_handler(void)
{
    exit_in_irq2 = 1;
    NVIC_ISER = 1u << 2;
    NVIC_ISPR = 1u << 2;
    isb();
    return 0;
}

static int sleeponexit_deadlock(void)
{
    NVIC_ISER = 1u << 2;
    SCB_SCR = 2u; /* SLEEPONEXIT */
    NVIC_ISPR = 1u << 2;
    isb(); /* IRQ2 runs here; returning from it the core sleeps with nothing to wake it */
    sh_write0("back in main\n");
    return 0;
}

static void drop_privilege(void)
{
    __asm__ volatile("movs r0, #1\n\tmsr control, r0\n\tisb" ::: "r0", "memory"); /* nPRIV */
}

static int unpriv_cpuid(void)
{
    drop_privilege();
    return (int)(SCB_CPUID & 0xFF); /* the chip: precise BusFault */
}

static int unpriv_pendsv(void)
{
    drop_privilege();
    SCB_ICSR = PENDSVSET; /* the same, through the simulator's native store path */
    return 0;
}

static int unpriv_stir(void)
{
    NVIC_ISER = 1u << 2;
    SCB_CCR |= 2u; /* USERSETMPEND: unprivileged code may write STIR */
    drop_privilege();
    STIR = 2u;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    return 0; /* IRQ2 ran first */
}

static volatile int timer_ticks;

void IRQ8_Handler(void)
{
    REG(0x4000000Cu) = 1u; /* TIMER0 INTCLEAR */
    timer_ticks++;
}

static int timer_icpr(void)
{
    /* the usual set-up order: start the timer, then clear any stale pending state, then
     * enable: its line, high by then, pends again at once (and it keeps ticking) */
    REG(0x40000008u) = 100u; /* RELOAD */
    REG(0x40000000u) = 9u;   /* EN | INTEN */
    while (!(REG(0x4000000Cu) & 1u))
        ;
    NVIC_ICPR = 1u << 8;
    NVIC_ISER = 1u << 8;
    while (timer_ticks < 3)
        __asm__ volatile("wfi" ::: "memory");
    REG(0x40000000u) = 0u;
    return 0;
}

static int timer_cannot_wake(void)
{
    /* a periodic timer whose interrupt is not enabled in the NVIC: WFI sleeps for good */
    REG(0x40000008u) = 100u;
    REG(0x40000000u) = 9u;
    __asm__ volatile("wfi" ::: "memory");
    return 0;
}

static int uart_rx(void)
{
    UART_CTRL = 3u; /* TX and RX enable */
    for (;;) {
        if (!(UART_STATE & 2u)) /* RX buffer empty: end of the input */
            break;
        char c = (char)UART_DATA;
        UART_DATA = (uint8_t)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    return 0;
}

static volatile int rx_done, entries;

void IRQ0_Handler(void) /* UART0 RX */
{
#ifdef STICKY /* clear the status every second entry only: entered twice per byte */
    if (entries++ % 2 == 0)
        return;
#endif
    char c = (char)UART_DATA;
    UART_INTSTATUS = 2u;
    UART_DATA = (uint8_t)(c >= 'a' && c <= 'z' ? c - 32 : c);
    if (c == '\n')
        rx_done = 1;
}

static void uart_rx_interrupts(void)
{
    NVIC_ISER = 1u;
    UART_CTRL = 1u | 2u | 8u; /* TX, RX and RX interrupt enable */
}

static int uart_rx_irq_wfi(void)
{
    uart_rx_interrupts();
    __asm__ volatile("cpsid i" ::: "memory"); /* no lost wake-up between the test and WFI */
    while (!rx_done)
        __asm__ volatile("wfi\n\tcpsie i\n\tisb\n\tcpsid i" ::: "memory");
    __asm__ volatile("cpsie i" ::: "memory");
    return 0;
}

static int uart_rx_irq_spin(void)
{
    uart_rx_interrupts();
    while (!rx_done) {
    }
    return 0;
}

static int uart_rx_irq_ctrl(void)
{
    uart_rx_interrupts();
    while (!rx_done)
        UART_CTRL = 1u | 2u | 8u; /* the same value again: a byte on its way stays so */
    return 0;
}

static int uart_rx_irq_sticky(void)
{
    NVIC_ISER = 1u;
    UART_CTRL = 1u | 2u | 8u;
    while (entries < 6)
        __asm__ volatile("wfi" ::: "memory");
    return 0;
}

static int uart_rx_wfe_sevonpend(void)
{
    SCB_SCR = 0x10u; /* SEVONPEND: an interrupt becoming pending is a WFE wake-up event */
    UART_CTRL = 1u | 2u | 8u; /* RX interrupt enabled at the UART, not in the NVIC */
    for (;;) {
        while (!(UART_STATE & 2u))
            __asm__ volatile("wfe" ::: "memory");
        char c = (char)UART_DATA;
        UART_INTSTATUS = 2u;
        NVIC_ICPR = 1u;
        UART_DATA = (uint8_t)(c >= 'a' && c <= 'z' ? c - 32 : c);
        if (c == '\n')
            return 0;
    }
}

/* SEVONPEND: an interrupt becoming pending is a WFE wake-up event, enabled or not, however it
 * became pending (ARMv7-M B3.2.7): through NVIC_ISPR (IRQ5, disabled: never taken), and
 * SysTick's own count with PRIMASK holding it back */
static int sevonpend_ispr_wakes(void)
{
    SCB_SCR = 0x10u;
    __asm__ volatile("sev\n\twfe" ::: "memory"); /* the event register cleared */
    NVIC_ISPR = 1u << 5;
    __asm__ volatile("wfe" ::: "memory");
    sh_write0("woke\n");
    return 0;
}

static volatile uint32_t systicks;

void SysTick_Handler(void) { systicks++; }

static int sevonpend_systick_wakes(void)
{
    SCB_SCR = 0x10u;
    __asm__ volatile("cpsid i\n\tsev\n\twfe" ::: "memory");
    SYST_RVR = 1000u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* TICKINT: pends in ~1,000 cycles, PRIMASK holds it back */
    __asm__ volatile("wfe" ::: "memory");
    sh_write0("woke\n");
    SYST_CSR = 0;
    __asm__ volatile("cpsie i" ::: "memory"); /* taken now, once */
    return systicks == 1u ? 0 : 1;
}

/* SEVONPEND: SysTick pended through ICSR.PENDSTSET is an event too; PendSV pended twice
 * (PENDSVSET while pending) is one event, not two: the third WFE sleeps for good */
static int sevonpend_pendstset_wakes(void)
{
    SCB_SCR = 0x10u;
    __asm__ volatile("cpsid i\n\tsev\n\twfe" ::: "memory");
    SCB_ICSR = 1u << 26; /* PENDSTSET */
    __asm__ volatile("wfe" ::: "memory");
    sh_write0("woke\n");
    __asm__ volatile("cpsie i" ::: "memory");
    return systicks == 1u ? 0 : 1;
}

static int sevonpend_pendsv_twice(void)
{
    SCB_SCR = 0x10u;
    __asm__ volatile("cpsid i\n\tsev\n\twfe" ::: "memory");
    SCB_ICSR = PENDSVSET;
    __asm__ volatile("wfe" ::: "memory");
    sh_write0("woke\n");
    SCB_ICSR = PENDSVSET; /* already pending: no transition, no event */
    __asm__ volatile("wfe" ::: "memory");
    sh_write0("woke again\n");
    return 0;
}

/* SysTick counting from 1 to 0 takes its interrupt also when the reload value is 0 by then
 * (the count then stops at 0): one tick */
static int systick_last_count(void)
{
    SYST_RVR = 300u;
    SYST_CVR = 0;
    SYST_CSR = 7u;
    SYST_RVR = 0;
    for (volatile int i = 0; i < 400; i++)
        ;
    uint32_t csr = SYST_CSR;
    return systicks == 1u && (csr & 0x10000u) && SYST_CVR == 0 ? 0 : 1;
}

int main(void) { return CASE(); }
