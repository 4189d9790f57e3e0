"""The STM32L0x1's general-purpose timers TIM2, TIM21 and TIM22 (RM0377) as time bases, compare and
capture timers: what STM32CubeL0's HAL_InitTick sets up when the HAL's tick comes from a timer
(STM32CubeMX's choice, a timer rather than SysTick, for firmware whose RTOS takes SysTick), what
firmware counts periods, delays and deadlines with (HAL_TIM_OC_Start_IT), drives PWM with,
measures pulses with (HAL_TIM_IC_Start_IT, the PWM input mode), and what paces the ADC's
conversions (sim/devices/stm32l0_adc.py, CFGR1.EXTSEL).

Each is a 16-bit counter clocked at its bus's timer clock (PCLK, twice PCLK when RCC_CFGR's APB
prescaler divides: the core's clock divided by 1, 1, 2, 4 or 8) through its prescaler: CNT steps
once per PSC + 1 timer clocks (asleep too, not in Stop mode) from 0 to ARR, and the step past
ARR is an update event: CNT back to 0, the prescaler's, (with CR1.ARPE) ARR's and (with a
channel's OCxPE) CCRx's preloaded values take effect, SR.UIF set (not with CR1.UDIS), and with
CR1.OPM the counter stops (CEN cleared). With CR1.DIR it counts down from ARR, the step below 0
the update event (ARR again); centre-aligned (CR1.CMS) it counts 0 ... ARR ... 0, an update
event at each turn (at ARR and at 0), CR1.DIR the direction (read-only), the channels' CCxIF set
at their matches counting down (CMS 1), up (2) or both ways (3) (a match at a turn: in each).
EGR.UG makes an update event at once (UIF only with CR1.URS clear; the count 0, counting down
ARR). A channel in output compare mode (CCMRx's CCxS 0, as after reset) has a compare event when
the count reaches its CCRx (at most ARR; the count a period starts from, 0 or ARR: at the update
event) or at EGR.CCxG: SR.CCxIF set, and OCxREF as CCMRx's OCxM says (frozen, active, inactive
or toggled at a match, forced, PWM mode 1 or 2: high while the count is below CCRx, counting
down while it is not above it); with CCER.CCxE the channel's output (OCxREF, inverted with CCxP)
drives the pins whose alternate function it is (sim/devices/stm32l0_gpio.py, TIMER_PINS), each
edge at its own cycle (planned only while a pin shows it or the ADC takes it, and it changes: a
WFI sleeps through them): PWM and square waves in the report's pin trace and --vcd. The
interrupt (TIM2: IRQ 15, TIM21: IRQ 20, TIM22: IRQ 22) is a level, a flag with its enable in
DIER (UIE, CCxIE): a handler that does not clear it (SR is rc_w0: a 0 written clears a flag, a 1
leaves it) is entered again when it returns. CR2.MMS sets the trigger output (TRGO): reset
(EGR.UG), enable (CNT_EN's level: CEN, in gated mode while TRGI is high, as ST's
TIM_ExtTriggerSynchro example relies on), update (each update event, EGR.UG's too), compare
pulse (channel 1's compare events) or OC1REF ... OC4REF (MMS 4-7: that channel's OCxREF, its
edges); the ADC takes TIM2's and TIM22's TRGO, the other timers each one's (ITRx), and the
outputs of TIM21's channel 2 and TIM2's channels 3 and 4, each edge at its own cycle (while it
waits for one, each event is planned, as for an interrupt). A CCRx past ARR is never reached:
CCxIF is set at each update instead, as the reference manual's "goes high on the counter
overflow". ARR 0 stops the counter, as on the chip.

A channel in input capture mode (CCxS 1: its own input TIx, 2: its pair's) takes the edges of
the pin whose alternate function is that channel (sim/devices/stm32l0_gpio.py tells
inputs_changed() each change, at its own cycle): through ICxF's filter (a level must hold N
samples: it comes that late, a shorter pulse is gone), the edges CCxP/CCxNP select, every 1st to
8th (ICxPSC), capture the count in CCRx (CCxIF; CCxOF if it was still set; a CCRx read clears
CCxIF). The slave mode controller (SMCR) in reset, gated or trigger mode takes TI1F_ED, TI1FP1,
TI2FP2 or another timer's TRGO (ITRx: TIM21's ITR0 TIM2, ITR1 TIM22; TIM22's ITR0 TIM21, ITR1
TIM2, each edge at its own cycle, the master brought along before the slave goes on, with no
resynchronisation delay; an edge back round a loop of timers is dropped; a master's reset
through the RCC is an edge; a slave without its clock holds the level it had and takes a change
as an edge when the clock is back; TIM2's ITRx and TIM21's and TIM22's ITR2 and ITR3 are listed,
SMCR.MSM is ignored): TIF, and the count restarted (an update event), let run while TRGI is
high, or started; in external clock mode 1 TRGI's rising edges are the count's clock, in the
encoder modes TI1FP1's and TI2FP2's edges count it up and down (a quadrature encoder on two
pins).

The external trigger ETR is a pin in its alternate function (TIMER_PINS' channel 0), or as OR's
ETR_RMP says a comparator's output or the LSE (a 32,768 Hz square wave, each edge at its own
cycle while something takes ETRF; while it only clocks the count, only the edges that are the
count's events one by one, the others counted at once), followed only while something takes
ETRF (its level taken, with no edge, when something starts to). ETRP is ETR inverted by
SMCR.ETP, every 1st to 8th rising edge as ETPS says; ETRF is ETRP through ETF's filter. ETRF
clocks the count in external clock mode 2 (SMCR.ECE, each rising edge a count through PSC;
gated mode with it: while TRGI is high), is the slave mode's trigger with TS 111, and, high,
holds the OCxREF of the channels with CCMRx.OCxCE low until an update event finds it low
(OCREF_CLR, laid over the compare logic, which runs on: STM32CubeL0's COMP_PWMSignalControl
cuts TIM22's PWM with COMP2 so). SMCR's bit 3, OCCS on other parts, is reserved here:
STM32CubeL0's current header defines no TIM_SMCR_OCCS and its HAL_TIM_ConfigOCrefClear never
sets it; ETRF is the clear's source.

TIM2's DMA requests (DIER.UDE, CCxDE; CR2.CCDS) rise at their events and DMA1 (sim/devices/
stm32l0_dma.py, CSELR code 8) serves them at the event's own cycle, its accesses acting then
(DeviceHost.acting_at for the stores, to the timer too; _dma_at for the timer's reads); TIM21
and TIM22 have no DMA request line on this part. TIM2's DMA bursts: a DMAR access is one to the
register DCR.DBA + the burst's index words from CR1 (the index back to 0 after DBL + 1), and a
request served through DMAR stays up until the burst's last transfer (dma_served), so one
event moves DBL + 1 items (HAL_TIM_DMABurst_WriteStart: ARR and CCR1 at each update). A count
written past ARR (or an ARR written below the count without ARPE) is taken back into the period
(counting ETR's or TRGI's edges: it wraps to 0 at the next); the chip counts on to 0xFFFF
first.

Each runs only while its RCC clock is on (APB1ENR: TIM2EN, bit 0; APB2ENR: TIM21EN, bit 2;
TIM22EN, bit 5) and it is not held in reset (APB1RSTR, APB2RSTR, the same bits): without its
clock it stops counting, its registers read 0 and ignore writes, each access listed as
unmodelled; a reset returns it to its reset state (sim.devices.stm32l0.Clocked). Not modelled:
TIM2's ITRx, TIM21's and TIM22's ITR2 and ITR3 triggers, external clock mode 2 with an encoder
mode, SMCR.MSM, a channel capturing its own output's edges, inputs from inside the part (OR's
remaps but TIM21's TI1 from the LSI or the LSE, a square wave at 37 kHz or 32,768 Hz while the
RCC (or the IWDG) runs it, each edge a capture takes an event, ETR from the LSE, and the
comparators' outputs, each edge at its own cycle (TIM2's TI4_RMP and ETR_RMP, TIM21's TI1_RMP
110, TI2_RMP and ETR_RMP, TIM22's TI1_RMP and ETR_RMP: ``comparator_inputs``;
sim/devices/stm32l0_comp.py); TIM2's ETR from the HSI16; CR2.TI1S: such an input keeps its
level; one oscillator at a time), TDE. A count written past ARR counting down starts from ARR.
CR2, SMCR, OR, CCER and the channels' CCMRx read back (EGR, write-only, reads 0); a CR2, SMCR,
DIER, EGR, OR, CCER or DCR write that asks for what is not modelled (TRGO from a channel the
timer lacks, a trigger from an ITRx not modelled, ECE with an encoder mode or with a slave mode
on TS 111, TDE or TIM21's and TIM22's DMA enables, a capture from TRC, an input from inside the
part, a reserved DBL), a DMA burst reaching DCR or DMAR, and any access to another offset
(which reads back what was written) are listed as unmodelled. On the stm32l031 profile TIM2
takes the place of the mps2 map's CMSDK TIMER0 (also at 0x40000000).
"""

from typing import NamedTuple, Protocol, cast

from sim.devices import Device, DeviceHost, lane
from sim.devices.stm32l0 import Clocked, merge
from sim.devices.stm32l0_lptim import LSE_HZ, LSI_HZ
from sim.devices.timeline import Timeline
from sim.exceptions import Wakes, either_wakes

NEVER = 1 << 64
CR1, CR2, SMCR, DIER, SR, EGR, CNT, PSC, ARR, OR = (0x00, 0x04, 0x08, 0x0C, 0x10, 0x14,
                                                    0x24, 0x28, 0x2C, 0x50)
CCMR1, CCMR2, CCER, CCR1, CCR2, CCR3, CCR4 = 0x18, 0x1C, 0x20, 0x34, 0x38, 0x3C, 0x40
DCR, DMAR = 0x48, 0x4C  # TIM2's DMA bursts: DCR's DBA (bits 0-4), DBL (bits 8-12); DMAR
DBA, DBL = 0x1F, 0x1F << 8
# the words a burst may cross that this part's timers lack: the advanced timers' RCR and BDTR
# (a burst written for them, as STM32CubeL0's TIM_DMABurst's ARR, RCR, CCR1): nothing there
BURST_QUIET = (0x30, 0x44)
CEN, UDIS, URS, OPM, ARPE = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 7
DIR = 1 << 4  # CR1: down (in centre-aligned and the encoder modes: the direction, read-only)
CMS = 3 << 5  # CR1: centre-aligned counting (1: the channels' flags counting down, 2: up, 3: both)
UIE = UIF = UG = 1
CCIF = 0x1E  # SR: CC1IF ... CC4IF (DIER: CC1IE ... CC4IE; EGR: CC1G ... CC4G)
SMS, ECE = 0x7, 1 << 14  # SMCR: slave mode, external clock mode 2
# SMCR's external trigger (ETR): its filter (ICxF's table), prescaler (ETRP: every 1st, 2nd,
# 4th, 8th rising edge) and polarity (inverted)
ETF, ETPS, ETP = 0xF << 8, 3 << 12, 1 << 15
TS_ETRF = 7  # SMCR.TS: the filtered external trigger
ETR = 0  # the external trigger among the inputs (TI1 ... TI4 are 1 ...)
OCCE = 1 << 7  # an output channel's CCMR byte: OCxREF cleared by ETRF (OCREF_CLR)
MMS = 7 << 4  # CR2: the master mode, what the trigger output (TRGO) is
TRGO_RESET, TRGO_ENABLE, TRGO_UPDATE, TRGO_COMPARE, TRGO_OC1REF = 0, 1, 2, 3, 4  # (... OC4REF: 7)
RISING, FALLING, PULSE = 1, 2, 3  # a trigger's edges (as ADC_CFGR1.EXTEN's bits select them)
OCPE = 1 << 3  # a channel's CCMR byte: CCR preloaded (CCxS, bits 0-1: 0 output compare)
# CCxS (bits 0-1 of a channel's CCMR byte): 0 output compare, 1 input capture from its own
# input TIx, 2 from its pair's (IC1 and IC2 from TI2 and TI1, IC3 and IC4 from TI4 and TI3), 3
# from TRC (the slave mode controller's trigger: not modelled)
OWN_INPUT, PAIR_INPUT, TRC_INPUT = 1, 2, 3
TIF = TIE = 1 << 6  # SR, DIER: the slave mode controller's trigger
UDE, CCDE = 1 << 8, 0x1E00  # DIER: the DMA requests of the update and CC1 ... CC4 events
CCDS = 1 << 3  # CR2: the channels' DMA requests at the update event instead of their own
TI1S = 1 << 7  # CR2: TI1 the XOR of the CH1, CH2 and CH3 pins
_DMA_ENABLES = (("up", UDE), *((f"ch{ch}", 1 << (8 + ch)) for ch in range(1, 5)))
_DMA_ENABLE = dict(_DMA_ENABLES)  # a request's line -> its enable in DIER
CKD = 3 << 8  # CR1: the dead-time and sampling clock's division (f_DTS = f_CK_INT / 1, 2, 4)
# SMCR.SMS's slave modes modelled (the trigger from TS 4 TI1F_ED, 5 TI1FP1, 6 TI2FP2)
SLAVE_RESET, SLAVE_GATED, SLAVE_TRIGGER, EXTERNAL_CLOCK = 4, 5, 6, 7
ENCODER_TI2, ENCODER_TI1, ENCODER_BOTH = 1, 2, 3  # the encoder modes: counting on which edges
TI1F_ED, TI1FP1, TI2FP2 = 4, 5, 6
# ICxF (bits 4-7 of an input channel's CCMR byte): the input's digital filter as (the sampling
# clock's division of f_CK_INT, 0: of f_DTS, the samples that must agree), RM0377's table
_FILTERS = [(1, 0), (1, 2), (1, 4), (1, 8), (2, 6), (2, 8), (4, 6), (4, 8), (8, 6), (8, 8),
            (16, 5), (16, 6), (16, 8), (32, 5), (32, 6), (32, 8)]
# OCxM (bits 4-6 of the byte): what OCxREF does
FROZEN, ACTIVE, INACTIVE, TOGGLE, FORCE_LOW, FORCE_HIGH, PWM1, PWM2 = range(8)
_AT_MATCH = {ACTIVE: 1, INACTIVE: 0, PWM1: 0, PWM2: 1}  # OCxREF when the count reaches CCRx
GPIO_PORTS = ("stm32l0_gpioa", "stm32l0_gpiob", "stm32l0_gpioc", "stm32l0_gpioh")
APB2ENR, APB1ENR, RCC_CSR = 0x34, 0x38, 0x50
LSIRDY, LSERDY = 1 << 1, 1 << 9  # RCC_CSR: the oscillators running


class TriggerInput(Protocol):
    """What takes a timer's trigger signals (the ADC: sim/devices/stm32l0_adc.py)."""

    def waiting_for(self) -> str | None:
        """The signal it takes now, None for none: a timer's name and ``TRGO`` or ``CH1`` ...
        ``CH4`` (that channel's output), e.g. ``"stm32l0_tim2 TRGO"``."""

    def trigger(self, source: str, at: int, edge: int) -> None:
        """``source`` changed at core cycle ``at`` (at most now): ``edge`` RISING, FALLING or
        PULSE (both at once)."""


class _Plan(NamedTuple):
    """What the count does in a period, from the settings (cached until one changes)."""

    matches: list[tuple[int, int]]  # (cycle into the period the count reaches CCRx, x)
    inner: list[tuple[int, list[int]]]  # those within the period, by cycle, with the channels
    at_update: list[int]  # the channels whose CCRx is 0: matched at the update
    overflow: int  # CCxIF bits of the channels whose CCRx is past ARR (set at each update)
    driving: list[int]  # channels whose enabled output changes at the count's events
    flags: bool  # whether the matches set CCxIF (centre-aligned: as CR1.CMS says per direction)


class _Tim(Clocked):
    size = 0x400
    irq: int
    bus: int  # the APB it is on (1 or 2)
    channels: tuple[int, ...] = (CCMR1, CCR1, CCR2)  # TIM21, TIM22: two
    count = 2  # compare channels
    dma = False  # DMA1 serves its requests (TIM2's only, on this part)
    remaps: tuple[tuple[int, int], ...] = ()  # OR's fields taking a TIx from inside: (mask, x)
    # OR's values under such a mask that are a pin all the same ("GPIO2"): (mask, value)
    remap_pins: tuple[tuple[int, int], ...] = ()
    itr: tuple[str | None, ...] = (None,) * 4  # the timers whose TRGO is ITR0 ... ITR3 (None:
    # not modelled)
    # OR's fields making an input an oscillator: (mask, value, x (ETR: 0), "LSE" or "LSI")
    oscillators: tuple[tuple[int, int, int, str], ...] = ()
    # OR's fields taking TIx (ETR: 0) from a comparator's output: (mask, value, x, comparator:
    # 0 COMP1)
    comparator_inputs: tuple[tuple[int, int, int, int], ...] = ()

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.dier = self.sr = 0
        self.psc = 0  # as written (preloaded)
        self.arr = 0xFFFF
        self._psc = 0  # in effect
        self._arr = 0xFFFF
        self._ccr = [0] * (self.count + 1)  # CCR1 ... (index 1 ...) in effect (OCxPE)
        self._pos = 0  # cycles into the current count period, at cycle self._since
        self._since = 0
        self._div = 1  # core cycles in a timer clock (the APB prescaler)
        # read back; written, listed only for what they ask that is not modelled (_write);
        # a channel the timer lacks (TIM21, TIM22: CCMR2, CCR3, CCR4) is a reserved offset
        self._regs = dict.fromkeys((CR2, SMCR, CCER, OR, *self.channels,
                                    *((DCR,) if self.dma else ())), 0)
        self._burst = 0  # the DMA burst's index: DMAR's next access is DBA + it words on
        self._stored: dict[int, int] = {}  # the registers not modelled, as written
        self._next = NEVER
        self._input: TriggerInput | None = None  # the part's ADC, once looked up
        self._input_known = False
        self._ref = [0] * (self.count + 1)  # OCxREF (index 1 ...)
        self._shown: tuple[int | None, ...] = (None,) * self.count  # outputs the pins last saw
        self._ports: list[Device] | None = None  # the GPIO ports, once looked up
        self._plans: list[_Plan | None] = [None, None]  # counting up, down (until a setting
        # changes)
        self._trgo_ref = 0  # with CR2.MMS OCxREF: the level TRGO last had
        self._trgo_sent: int | None = None  # TRGO's last edge sent during a register write
        self._ti = [0] * 5  # ETR, TI1 ... TI4: the inputs (pins, ...), as last seen
        self._tif = [0] * 5  # the same through the inputs' filters (ETR: ETRF)
        self._etrp = 0  # ETRP: ETR through its polarity and prescaler (before the filter)
        self._etr_edges = 0  # ETR's active edges since ETRP's last rising edge (ETPS)
        self._cleared = 0  # the channels (bits 1 ...) whose OCxREF ETRF holds low (OCREF_CLR)
        self._etr_on = False  # something takes ETRF (_etr_used, as of the last SMCR, CCMRx
        # write): ETR followed edge by edge (else its level is taken when it starts)
        self._pending: list[tuple[int, int, int]] = []  # (cycle, TIx, level): filtered edges
        self._events = [0] * 5  # each input channel's edges since its prescaler's last capture
        self._ti_known = False  # _ti taken from the pins since the reset (_sync_inputs)
        self._pulses = 0  # the encoder's or external clock's count pulses in the prescaler
        self._dma_lines: set[str] = set()  # DMA requests up: "up", "ch1" ... "ch4"
        self._dma_new = False  # one rose since the DMA was last asked to serve them
        self._dma_at: int | None = None  # the cycle of the event the DMA serves now
        self._slaves: list[_Tim] | None = None  # the timers whose trigger is this one's TRGO
        self._master: _Tim | None = None  # the timer whose TRGO this one's trigger is
        self._itr_level = 0  # the trigger input's level when SMCR.TS selects an ITRx
        self._relaying = False  # taking another timer's TRGO edge (a loop of timers: dropped)
        self._osc: Timeline | None = None  # an input from an oscillator (OR): its half periods
        self._osc_ti = 1  # which input it is (1: TI1, 0: ETR)
        self._osc_seen = 0  # the oscillator's edges (half periods) taken so far
        unlink_timers(self.host)

    # --- counting ------------------------------------------------------------------------------
    def _counting(self) -> bool:
        if not self.cr1 & CEN or not self._arr:
            return False
        return (not self._regs[SMCR] or self._slave_counts()) and self.clocked()

    def _slave_counts(self) -> bool:
        """Whether the slave mode lets the clock count: not an encoder or external clock mode
        (their inputs' edges count), in gated mode only while the trigger is high."""
        smcr = self._regs[SMCR]
        if smcr & ECE:
            return False
        mode = smcr & SMS
        if mode == SLAVE_GATED:
            return self._trgi() == 1
        return mode in (0, SLAVE_RESET, SLAVE_TRIGGER)

    def _trgi(self) -> int | None:
        """The level of the slave mode controller's trigger input (TRGI) when SMCR.TS selects
        TI1FP1 or TI2FP2 (the filtered input, inverted with CC1P or CC2P), ETRF or an ITRx
        (another timer's TRGO), else None."""
        ts = self._regs[SMCR] >> 4 & 7
        if ts < 4 and self.itr[ts]:
            return self._itr_level
        if ts == TS_ETRF:
            return self._tif[ETR]
        if ts not in (TI1FP1, TI2FP2):
            return None
        ch = ts - TI1FP1 + 1
        return self._tif[ch] ^ self._inverted(ch)

    def _inverted(self, ch: int) -> int:
        """Whether TIxFPx is inverted: CCxP without CCxNP (with both, "both edges", it is not:
        gated mode takes it as it is, the other modes each edge)."""
        return int(self._regs[CCER] >> (4 * ch - 4) & 0xA == 0x2)

    def _both_edges(self, ch: int) -> bool:
        return self._regs[CCER] >> (4 * ch - 4) & 0xA == 0xA

    def _divider(self) -> int:
        """Core cycles in a cycle of the timer's clock, as the RCC's APB prescaler sets it."""
        return 1 if self._rcc is None else self._rcc.timer_divider(self.bus)

    def _step(self) -> int:
        """Cycles per count."""
        return (self._psc + 1) * self._div

    def _period(self) -> int:
        """Cycles from one update event to the next: ARR + 1 counts (0 ... ARR up, ARR ... 0
        down), centre-aligned ARR (0 ... ARR - 1 up to the turn at ARR, ARR ... 1 down to the
        turn at 0)."""
        return (self._arr + (0 if self.cr1 & CMS else 1)) * self._step()

    def _down(self) -> bool:
        """Whether the clock counts down now (CR1.DIR; in an encoder mode the count moves only
        at the inputs' edges, DIR telling the last one's direction)."""
        return bool(self.cr1 & DIR) and not self._encoder()

    def _count_of(self, pos: int, down: bool) -> int:
        """CNT ``pos`` cycles into a period counting down (from ARR) or up (from 0)."""
        steps = pos // self._step()
        return self._arr - steps if down else steps

    def _count(self) -> int:
        """CNT now (at cycle ``_since``)."""
        return self._count_of(self._pos, self._down())

    def _pos_of(self, count: int) -> int:
        """Cycles into the period at which the count is ``count`` (counting down: one past ARR
        taken as ARR; the chip counts down from it)."""
        return (max(0, self._arr - count) if self._down() else count) * self._step()

    def _load(self) -> None:
        """An update event's transfer of the preloaded values."""
        before = (self._psc, self._arr, *self._ccr)
        self._psc = self.psc
        self._arr = self.arr
        for ch in range(1, self.count + 1):
            if self._mode(ch) & (OCPE | 3) == OCPE:  # (an input's bit 3 is its prescaler's)
                self._ccr[ch] = self._regs[CCR1 + 4 * (ch - 1)]
        if (self._psc, self._arr, *self._ccr) != before:
            self._plans = [None, None]

    def _update_event(self, at: int, forced: bool = False) -> None:
        """An update event at cycle ``at`` (UDIS clear): the preloads taken, UIF and the DMA
        request (one ``forced`` by EGR.UG or the reset mode's trigger: only with URS clear),
        TRGO's update pulse; OCREF_CLR's hold of OCxREF ends (ETRF low)."""
        self._load()
        if self._cleared:  # OCREF_CLR's hold ends (not while ETRF is still high)
            self._cleared = self._clears() if self._tif[ETR] else 0
        if not (forced and self.cr1 & URS):
            self.sr |= UIF
            self._dma_event(0)
        self._signal(TRGO_UPDATE, at, PULSE)

    def _mode(self, ch: int) -> int:
        """Channel ``ch``'s byte of CCMR1 or CCMR2."""
        return self._regs[CCMR1 if ch <= 2 else CCMR2] >> (8 * (1 - ch % 2)) & 0xFF

    def _plan(self, down: bool | None = None) -> _Plan:
        """The period's compare matches, counting ``down`` (None: as the count goes now): each
        channel in output compare mode whose CCRx the count reaches (at most ARR; the count at
        the period's start, 0 up, ARR down, is reached at the update event, a period in; in
        centre-aligned mode, where the update turns the count, at the other direction's
        update); the channels past ARR; the enabled outputs that change."""
        if down is None:  # (as _down() says, without the call: the per-event loop's path)
            down = bool(self.cr1 & DIR) and not self._encoder()
        plan = self._plans[down]
        if plan is None:
            step, period, arr = self._step(), self._period(), self._arr
            centre = self.cr1 & CMS
            compares = [ch for ch in range(1, self.count + 1) if not self._mode(ch) & 3]
            steps = {ch: arr - self._ccr[ch] if down else self._ccr[ch] for ch in compares
                     if self._ccr[ch] <= arr}  # (the steps into the period to CCRx)
            matches = [(n * step or period, ch) for ch, n in steps.items()
                       if n or not centre]
            inner: dict[int, list[int]] = {}
            for p, ch in sorted(matches):
                if p < period:
                    inner.setdefault(p, []).append(ch)
            plan = self._plans[down] = _Plan(
                matches, sorted(inner.items()), [ch for ch, n in steps.items() if not n],
                sum(1 << ch for ch in compares if self._ccr[ch] > arr),
                [ch for ch in compares if self._observed(ch) and self._changes(ch)],
                self._flags_when(down))
        return plan

    def _flags_when(self, down: bool) -> bool:
        """Whether a compare match counting ``down`` (or up) sets its flags: centre-aligned
        as CR1.CMS says (1: down, 2: up, 3: both), else always."""
        cms = self.cr1 & CMS
        return cms in (0, CMS) or (cms == 1 << 5) == down

    def _changes(self, ch: int) -> bool:
        """Whether channel ``ch``'s OCxREF changes at the count's events: toggle, active or
        inactive on a match (until it has that level), PWM with a CCRx that the count passes
        (not 0: always low, not past ARR: always high)."""
        mode = self._mode(ch) >> 4 & 7
        if mode == TOGGLE:
            return True
        if mode in (ACTIVE, INACTIVE):
            return self._ref[ch] != _AT_MATCH[mode]
        if mode not in (PWM1, PWM2):
            return False
        # the CCRx in effect, or the one the next update loads (OCxPE)
        loads = self._regs[CCR1 + 4 * (ch - 1)] if self._mode(ch) & OCPE else self._ccr[ch]
        ccr, arr = self._ccr[ch], self._arr
        if self.cr1 & CMS:  # (0: always low, ARR and past: always high)
            varies = 0 < ccr < arr
        elif self.cr1 & DIR:  # (0: high at the count 0 alone, ARR and past: always high)
            varies = ccr < arr
        else:  # (0: always low, past ARR: always high)
            varies = 0 < ccr <= arr
        return varies or ccr != loads or self.arr != arr

    def _observed(self, ch: int) -> bool:
        """Whether something sees channel ``ch``'s output edge by edge: its output enabled and
        a pin whose alternate function it is, or the ADC waiting for it."""
        if self.output(ch) is None:
            return False
        if self._awaited() == f"CH{ch}":
            return True
        return any(port.shows(self.name, ch)  # type: ignore[attr-defined]
                   for port in self._gpio_ports())

    def _gpio_ports(self) -> list[Device]:
        if self._ports is None:
            found = (self.host.device(name) for name in GPIO_PORTS)
            self._ports = [port for port in found
                           if port is not None and hasattr(port, "af_changed")]
        return self._ports

    def pins_changed(self) -> None:
        """A GPIO port's configuration changed (MODER, AFR): which outputs a pin shows, which
        pins are the inputs."""
        if self._master is not None:
            self._masters_to()
        self._advance()
        self._plans = [None, None]
        self.inputs_changed(self._since)
        self._schedule()

    def _per_event(self) -> bool:
        """Whether each event must be taken at its own cycle: an output drives a pin (or the
        ADC; or OCREF_CLR holds it until the next update), a DMA request comes with the events,
        or the ADC waits for TRGO at the update events or compare pulses."""
        if self._plan().driving or self._dma_wanted() or self._clear_seen():
            return True
        return (self._regs[CR2] & MMS >= TRGO_UPDATE << 4  # (update, compare, OCxREF)
                and self._trgo_heard())

    def _advance(self, until: int | None = None) -> None:
        """Bring the timer to the present (or cycle ``until``): the count, and the filtered
        input edges that came meanwhile, each at its own cycle."""
        now = self.host.exceptions.now if until is None else until
        if self._osc is not None:
            self._oscillate(now)  # (with the filtered edges, in time order)
        while self._pending and self._pending[0][0] <= now:
            self._take_pending()
        self._count_to(now)

    def _take_pending(self) -> None:
        """The first filtered input edge, at its cycle."""
        at, ti, level = self._pending.pop(0)
        self._count_to(at)
        self._filtered(ti, level, at)
        self._serve_dma(at)

    # --- an input from an oscillator (OR: TIM21's TI1 from the LSI or the LSE, ETR from the
    # LSE) ----------------------------------------------------------------------------------------
    def _osc_hz(self) -> int:
        """The frequency of the oscillator OR takes an input from, 0 while it does not run
        (RCC_CSR's LSIRDY, LSERDY; the LSI also while the IWDG runs, which starts it) or none
        is taken."""
        found = self._oscillator(self._regs[OR])
        if found is None or self._rcc is None:
            return 0
        source = found[1]
        csr = self._rcc.read(RCC_CSR, 4)
        if source == "LSE":
            return LSE_HZ if csr & LSERDY else 0
        iwdg = self.host.device("stm32l0_iwdg")
        return LSI_HZ if csr & LSIRDY or getattr(iwdg, "running", False) else 0

    def _oscillator(self, value: int) -> tuple[int, str] | None:
        """The input (1: TI1, 0: ETR) an OR of ``value`` takes from an oscillator, and which
        ("LSI", "LSE"); None for none (the first such field: one input at a time)."""
        return next(((x, source) for mask, code, x, source in self.oscillators
                     if value & mask == code), None)

    def _retime_osc(self, now: int) -> None:
        """The oscillator on an input as OR and the RCC have it at cycle ``now``: its edges
        (two a period) against the core's clock from there on (None when OR takes none)."""
        found = self._oscillator(self._regs[OR])
        if found is None:
            self._osc = None
            return
        if self._osc is None or found[0] != self._osc_ti:  # (the input low from now, the
            self._osc = Timeline(self.host.clock_hz, now)  # first edge a half period on)
            self._osc_ti, self._osc_seen = found[0], 0
            self._ti[self._osc_ti] = 0
            if self._osc_ti == ETR:  # (ETRP through ETP: a change is an edge, as a pin's)
                self._etr_edges = 0
                etrp = self._etrp_of(0)
                if etrp != self._etrp:
                    self._etrp = etrp
                    self._input_edge(ETR, etrp, now)
            else:
                self._tif[self._osc_ti] = 0
        self._osc.retime(2 * self._osc_hz(), self.host.clock_hz, now)

    def _osc_takers(self) -> int:
        """Which of the oscillator's edges something takes: RISING, FALLING, both or 0 (none:
        a capture of TI1 enabled with that edge, or the slave mode on TI1; ETR's: both while
        something takes ETRF)."""
        if not self.clocked():
            return 0
        smcr = self._regs[SMCR]
        if self._osc_ti == ETR:
            return self._osc_etr_takers()
        if smcr & SMS and (self._encoder() or smcr >> 4 & 7 in (TI1F_ED, TI1FP1)):
            return RISING | FALLING
        edges = 0
        for ch in range(1, self.count + 1):
            bits = self._regs[CCER] >> (4 * (ch - 1))
            if bits & 1 and self._mode(ch) & 3 == (OWN_INPUT if ch == 1 else PAIR_INPUT) and (
                    ch <= 2):
                edges |= (RISING | FALLING if bits & 0xA == 0xA
                          else FALLING if bits & 2 else RISING)
        return edges

    def _osc_next(self, takers: int) -> int:
        """The cycle of the oscillator's next edge that ``takers`` takes (NEVER: none)."""
        line = self._osc
        if line is None or not takers or not line.hz:
            return NEVER
        if self._osc_ti == ETR and self._etr_bulk():  # (only the edges that are events)
            return line.cycle_of(self._etr_event_edge())
        edge = self._osc_seen + 1  # (odd: rising, TI1 high after it)
        if takers != RISING | FALLING and (edge % 2 == 1) != (takers == RISING):
            edge += 1
        return line.cycle_of(edge)

    def _oscillate(self, now: int) -> None:
        """The oscillator's edges up to cycle ``now`` to its input, each at its own cycle
        while something takes them (else the input only follows: no edge)."""
        line, ti = cast(Timeline, self._osc), self._osc_ti
        last = line.at(now)
        if not self._osc_takers():  # (nothing takes them, or the clock is off: the input
            self._osc_seen = last  # just follows)
            self._ti[ti] = self._tif[ti] = last % 2
            if ti == ETR:
                self._etrp = self._etrp_of(last % 2)
                self._tif[ETR] = self._etrp
            return
        while self._osc_seen < last:
            if ti == ETR and self._etr_bulk():  # the edges that are no event at once
                stop = min(self._etr_event_edge() - 1, last)
                if self._pending:  # (the filter's next edge first, in time order)
                    stop = min(stop, line.at(self._pending[0][0] - 1))
                self._etr_skip(stop)
                if self._osc_seen >= last:
                    break
            at = line.cycle_of(self._osc_seen + 1)
            while self._pending and self._pending[0][0] <= at:  # (the filter's edges first)
                self._take_pending()
            self._osc_seen += 1
            self._count_to(at)
            self._ti[ti] = self._osc_seen % 2
            if ti == ETR:
                self._etr_changed(self._ti[ti], at)
            else:
                self._input_edge(ti, self._ti[ti], at)
            self._serve_dma(at)

    # --- external clock mode 2 from the LSE, edges in bulk ----------------------------------------
    def _etr_bulk(self) -> bool:
        """Whether the oscillator on ETR only clocks the count (ECE; no slave mode, filter or
        OCREF_CLR; edge-aligned, running): its edges between the count's events (an update,
        a compare match) are then counted at once, only those events' edges one by one."""
        smcr = self._regs[SMCR]
        return (smcr & (ECE | SMS | ETF) == ECE and not self.cr1 & CMS and bool(self.cr1 & CEN)
                and bool(self._arr) and not self._clears() and self.clocked()
                and all(edge[1] != ETR for edge in self._pending))

    def _etr_event_edge(self) -> int:
        """The index of the oscillator's edge (odd: rising) that brings the count to its next
        event: the update past ARR (below 0), or a compare channel's CCRx."""
        count, arr, smcr = self._count(), self._arr, self._regs[SMCR]
        matches = [self._ccr[ch] for ch in range(1, self.count + 1) if not self._mode(ch) & 3]
        if self.cr1 & DIR:
            steps = min([count + 1, *(count - ccr for ccr in matches if ccr < count)])
        else:
            steps = 1 if count >= arr else min([arr - count + 1, *(
                ccr - count for ccr in matches if count < ccr <= arr)])
        div = 1 << (smcr >> 12 & 3)
        pulses = steps * (self._psc + 1) - self._pulses  # (the pulse that makes that step)
        active = (pulses - 1) * div + div - self._etr_edges  # (ETR's edge that makes it)
        first = self._osc_seen + 1  # (ETR's first active edge: rising, ETP: falling)
        if first % 2 == bool(smcr & ETP):
            first += 1
        return max(self._osc_seen + 1, first + 2 * (active - 1))

    def _etr_skip(self, last: int) -> None:
        """The oscillator's edges up to index ``last``, none of them the count's event,
        counted at once: ETPS's, PSC's and the count's progress, ETR and ETRP after them."""
        seen, smcr = self._osc_seen, self._regs[SMCR]
        if last <= seen:
            return
        etp = smcr >> 15 & 1
        active = (last // 2 - seen // 2) if etp else ((last + 1) // 2 - (seen + 1) // 2)
        pulses, self._etr_edges = divmod(self._etr_edges + active, 1 << (smcr >> 12 & 3))
        steps, self._pulses = divmod(self._pulses + pulses, self._psc + 1)
        if steps:
            count = self._count()
            self._pos = self._pos_of(count - steps if self.cr1 & DIR else count + steps)
        self._osc_seen = last
        self._ti[ETR] = last % 2
        self._etrp = self._tif[ETR] = int(bool(last % 2 ^ etp) and not self._etr_edges)

    def _count_to(self, now: int) -> None:
        """Bring the count to cycle ``now``: the compare matches and update events since,
        each at its own cycle when something sees it (an output, the ADC)."""
        now = max(now, self._since)
        if now == self._since:
            return
        if self._counting():
            since, pos = self._since, self._pos
            per_event: bool | None = None  # (looked at once an event has come)
            while True:
                plan, period = self._plan(), self._period()
                # the next event: a match within the period, else the update (and the matches
                # of 0, at the same cycle)
                at, chans = period, plan.at_update
                for p, group in plan.inner:
                    if p > pos:
                        at, chans = p, group
                        break
                due = since + at - pos
                if due > now:
                    pos += max(0, now - since)
                    break
                if per_event is None:
                    per_event = self._per_event()
                since, pos = due, at
                before = self._outputs() if per_event else ()
                if at == period:  # the update event: past ARR, below 0, or a turn
                    pos = 0
                    if self.cr1 & CMS:
                        self.cr1 ^= DIR
                    if not self.cr1 & UDIS:
                        self._update_event(due)
                    chans = self._plan().at_update  # (a CCRx preloaded to or from it; a turn)
                    self._overflow(due)
                flag = plan.flags or (at == period and bool(self.cr1 & CMS))  # (a match's flag
                for ch in chans:  # as its direction allows; at a turn: in each)
                    self._compare(ch, due, match=True, flag=flag)
                if at == period:  # the count 0 or ARR again (or turned there)
                    self._pwm_refs(self._arr if self.cr1 & DIR and not self._encoder() else 0)
                if per_event:
                    self._outputs_changed(before, due)
                if at == period and self.cr1 & OPM and not self.cr1 & UDIS:
                    self._set_cen(0, due)
                if self._dma_new:  # the DMA serves it at the event's cycle (it may write the
                    self._since, self._pos = due, pos  # timer: the state as of then)
                    self._serve_dma(due)
                    since, pos, per_event = self._since, self._pos, None
                if not self._counting():
                    break
                if at == period and per_event is False:  # nobody sees each event: on to the
                    periods = (now - since) // self._period()  # period under way (centre-
                    periods -= periods % 2 if self.cr1 & CMS else 0  # aligned: to one going
                    self._skip(periods)  # the same way)
                    since += periods * self._period()
            self._pos = pos
            now = max(now, since)
        self._since = now

    def _skip(self, periods: int) -> None:
        """``periods`` whole periods (centre-aligned: an even number, half up, half down)
        that nothing sees one by one: their flags, and OCxREF after their matches."""
        if not periods:
            return
        plans = [self._plan()]
        if self.cr1 & CMS:
            plans.append(self._plan(not self._down()))
        flags = 0 if self.cr1 & UDIS else UIF
        for plan in plans:  # (centre-aligned: each match comes in a direction CMS flags)
            flags |= plan.overflow | sum(1 << ch for _, ch in plan.matches)
        self.sr |= flags
        if self._cleared and not self.cr1 & UDIS:  # (OCREF_CLR's hold ended at an update)
            self._cleared = self._clears() if self._tif[ETR] else 0
        each = periods // len(plans)  # (the periods of each plan)
        for plan in plans:
            for _, ch in plan.matches:
                mode = self._mode(ch) >> 4 & 7
                if mode == TOGGLE:
                    self._ref[ch] ^= each & 1
                elif mode in (ACTIVE, INACTIVE):
                    self._ref[ch] = _AT_MATCH[mode]

    def _overflow(self, at: int) -> None:
        """At the update: CCxIF of the channels whose CCRx is past ARR (the count never
        reaches it), as the reference manual's "CCxIF goes high on the counter overflow"."""
        overflow = self._plan().overflow
        if overflow:
            self.sr |= overflow
            for ch in range(1, self.count + 1):  # (each a CCx event: its DMA request too)
                if overflow >> ch & 1:
                    self._dma_event(ch)
            if overflow & 2:
                self._signal(TRGO_COMPARE, at, PULSE)

    def _compare(self, ch: int, at: int, match: bool = False, flag: bool = True) -> None:
        """Channel ``ch``'s compare event (a ``match``, or EGR.CCxG) at cycle ``at``: OCxREF
        as OCxM says at a match (PWM counting down: the reverse), and with its ``flag`` (not
        in the direction CR1.CMS leaves out) CCxIF, its DMA request, and TRGO's pulse with
        CR2.MMS compare pulse."""
        if flag:
            self.sr |= 1 << ch
            self._dma_event(ch)
            if ch == 1:
                self._signal(TRGO_COMPARE, at, PULSE)
        if match:
            mode = self._mode(ch) >> 4 & 7
            if mode == TOGGLE:
                self._ref[ch] ^= 1
            elif mode in _AT_MATCH:
                self._ref[ch] = _AT_MATCH[mode] ^ (mode >= PWM1 and bool(self.cr1 & DIR))

    def _signal(self, mode: int, at: int, edge: int) -> None:
        """TRGO, with CR2.MMS ``mode``, changed at cycle ``at``: to the ADC if it waits for
        it, and to the timers whose trigger it is."""
        if self._regs[CR2] & MMS != mode << 4:
            return
        if edge != PULSE:
            self._trgo_sent = int(edge == RISING)
        if self._awaited() == "TRGO":
            cast(TriggerInput, self._input).trigger(f"{self.name} TRGO", at, edge)
        slaves = self._listening()
        if slaves:
            relaying, self._relaying = self._relaying, True  # (an edge back round a loop of
            try:  # timers, to this one mid-event: dropped)
                for slave in slaves:
                    slave.itr_changed(at, edge)
            finally:
                self._relaying = relaying

    def _trgo_heard(self) -> bool:
        """Whether TRGO's edges matter: the ADC waits for them, or a timer's trigger is it."""
        return self._awaited() == "TRGO" or bool(self._listening())

    def _trgo_events(self, heard: bool) -> bool:
        """Whether the count's own events are TRGO's edges that something (``heard``) takes:
        MMS update, compare pulse or OCxREF; MMS enable with OPM (the update ends CNT_EN)."""
        mms = self._regs[CR2] & MMS
        return heard and (mms >= TRGO_UPDATE << 4 or (
            mms == TRGO_ENABLE << 4 and bool(self.cr1 & OPM)))

    def trgo_level(self) -> int:
        """TRGO's level now: CEN with CR2.MMS enable, OCxREF with OCxREF (taken afresh: while
        nothing took TRGO its edges were not followed); the pulses' 0."""
        mms = self._regs[CR2] >> 4 & 7
        if mms == TRGO_ENABLE:
            return int(self._cnt_en())
        if TRGO_OC1REF <= mms <= self.count + 3:
            self._trgo_ref = self._ocref(mms - 3)
            return self._trgo_ref
        return 0

    def _cnt_en(self) -> bool:
        """The counter's enable, CNT_EN: CEN, in gated mode and TRGI high."""
        return bool(self.cr1 & CEN) and (self._regs[SMCR] & SMS != SLAVE_GATED
                                         or self._trgi() == 1)

    # --- triggers between the timers (ITRx: another timer's TRGO) ---------------------------------
    def _itr_master(self) -> "_Tim | None":
        """The timer whose TRGO SMCR's slave mode takes (TS an ITRx), None for none."""
        smcr = self._regs[SMCR]
        ts = smcr >> 4 & 7
        if ts >= 4 or smcr & SMS not in (SLAVE_RESET, SLAVE_GATED, SLAVE_TRIGGER,
                                         EXTERNAL_CLOCK):
            return None
        name = self.itr[ts]
        master = None if name is None else self.host.device(name)
        return master if isinstance(master, _Tim) else None

    def _listening(self) -> "list[_Tim]":
        """The timers whose slave mode takes this one's TRGO (cached until an SMCR changes)."""
        if self._slaves is None:
            self._slaves = [timer for timer in part_timers(self.host)
                            if timer is not self and timer._itr_master() is self]
        return self._slaves

    def _masters_to(self, at: int | None = None) -> None:
        """The timers whose TRGO this one's trigger takes (its master, the master's ...),
        brought to cycle ``at`` (None: now) first, the farthest first: their edges come in
        before this one goes past them."""
        chain: list[_Tim] = []
        master = self._master
        while master is not None and master is not self and master not in chain:
            chain.append(master)
            master = master._master
        for master in reversed(chain):
            master._advance(at)
            master._schedule()

    def itr_changed(self, at: int, edge: int) -> None:
        """The TRGO that SMCR.TS selects (ITRx) changed at cycle ``at`` (at most now): RISING,
        FALLING or PULSE (both at once), a trigger as TIx's edges are. An edge that comes back
        round a loop of timers while this one takes one is dropped."""
        if self._relaying or not self.clocked():
            return
        self._relaying = True
        try:
            self._advance(at)
            if edge & RISING:
                self._itr_level = 1
                self._trigger_edge(True, at)
            if edge & FALLING:
                self._itr_level = 0
                self._trigger_edge(False, at)
            self._serve_dma(at)
            self._schedule()
        finally:
            self._relaying = False

    def _awaited(self) -> str | None:
        """The signal of this timer the ADC waits for (``TRGO``, ``CH1`` ...), None for none."""
        if not self._input_known:
            found = self.host.device("stm32l0_adc")
            self._input = cast(TriggerInput, found) if hasattr(found, "waiting_for") else None
            self._input_known = True
        source = None if self._input is None else self._input.waiting_for()
        if source is None:
            return None
        name, _, signal = source.partition(" ")
        return signal if name == self.name else None

    # --- DMA requests (DMA1: sim/devices/stm32l0_dma.py) ---------------------------------------
    def _dma_event(self, ch: int) -> None:
        """An update event (``ch`` 0) or channel ``ch``'s compare or capture event: its DMA
        request with DIER.UDE or CCxDE (with CR2.CCDS the channels' come at the update)."""
        if not self.dma or not self.dier & (UDE | CCDE):
            return
        ccds = self._regs[CR2] & CCDS
        lines = ([("up", UDE)] + [(f"ch{c}", 1 << (8 + c)) for c in range(1, 5) if ccds]
                 if ch == 0 else [] if ccds else [(f"ch{ch}", 1 << (8 + ch))])
        for line, enable in lines:
            if self.dier & enable:
                self._dma_lines.add(line)
                self._dma_new = True

    def _dma_wanted(self) -> int:
        """The DMA enables (DIER's UDE, CCxDE) whose events the count makes and matter now:
        their request is not already up, and an enabled DMA channel with items left serves it
        (else an event changes nothing: none is planned for it, and it wakes nothing). An
        input channel's requests come with its captures, from its input's edges, not from the
        count (but with CR2.CCDS, at the updates)."""
        enables = self.dier & (UDE | CCDE) if self.dma else 0
        if not self._regs[CR2] & CCDS:
            enables &= ~sum(1 << (8 + ch) for ch in range(1, self.count + 1)
                            if self._mode(ch) & 3)
        if not enables:
            return 0
        dma = self.host.device("stm32l0_dma")
        serves = getattr(dma, "serves", None)
        if serves is None:
            return 0
        wanted = 0
        for line, enable in _DMA_ENABLES:
            if enables & enable and line not in self._dma_lines and serves(self.name, line):
                wanted |= enable
        return wanted

    def _dma_wakes(self, wanted: int) -> bool:
        """Whether serving the DMA requests ``wanted`` (DIER's enables, from _dma_wanted) may
        lead to something that wakes the core (sim/devices/stm32l0_dma.py: Stm32l0Dma.wakes)."""
        if not wanted:
            return False
        wakes = getattr(self.host.device("stm32l0_dma"), "wakes", None)
        return wakes is None or any(wanted & enable and wakes(self.name, line)
                                    for line, enable in _DMA_ENABLES)

    def _trigger_wakes(self) -> bool:
        """Whether what this timer does at its trigger (TRGI: a reset, a start, the gate, a
        count) may lead to something that wakes the core, conservatively (asked while the
        core sleeps: its master's events' set_timer predicate): an interrupt or DMA request
        DIER enables that may (_dier_wakes), its TRGO (CR2.MMS) or a channel taken by the
        ADC or another timer, an output on a pin whose EXTI line is enabled."""
        return bool(self._regs[CR2] & MMS or self._awaited() is not None) or (
            self._dier_wakes()) or any(
            port.wakes_on(self.name, ch)  # type: ignore[attr-defined]
            for ch in range(1, self.count + 1) for port in self._gpio_ports())

    def _dier_wakes(self) -> bool:
        """Whether what DIER enables may wake the core (asked while it sleeps): an interrupt
        whose flag is still clear, its line (IRQ) able to wake the core
        (ExceptionModel.irq_wakes); a DMA request whose serving may (Stm32l0Dma.wakes)."""
        dier = self.dier
        if dier & ~self.sr & (UIF | CCIF | TIF) and self.host.exceptions.irq_wakes(self.irq):
            return True
        return self.dma and self._dma_wakes(dier & (UDE | CCDE))

    def _events_wake(self, irq: bool, awaited: str | None, dma: int, trgo: bool) -> Wakes:
        """set_timer's ``wakes`` for the count's events, asked while the core sleeps: an
        interrupt they raise (``irq``) on a line that can wake it, a conversion the ADC
        starts (``awaited``: the signal it waits for) that may, the DMA requests ``dma``
        (from _dma_wanted) whose serving may, TRGO's edges (``trgo``) to a slave whose
        trigger may."""
        if not (irq or awaited is not None or dma or trgo):
            return False
        model = self.host.exceptions

        def wakes() -> bool:
            return bool(irq and model.irq_wakes(self.irq)) or (
                awaited is not None and self._adc_wakes()) or self._dma_wakes(dma) or (
                trgo and self._trgo_events(any(
                    slave._trigger_wakes() for slave in self._listening())))
        return wakes

    def _adc_wakes(self) -> bool:
        """Whether a conversion the ADC starts at this timer's signal may wake the core."""
        wakes = getattr(self._input, "conversions_wake", None)
        return wakes is None or bool(wakes())

    def dma_changed(self) -> None:
        """What the DMA's channels serve changed: the events planned again."""
        if self.clocked():
            self._schedule()

    def dma_request(self, line: str) -> bool:
        """Whether the DMA request ``line`` ("up", "ch1" ... "ch4", "ch2/ch4": either) is up
        (and still enabled in DIER)."""
        if line == "ch2/ch4":
            return self.dma_request("ch2") or self.dma_request("ch4")
        return line in self._dma_lines and bool(self.dier & _DMA_ENABLE[line])

    def dma_served(self, line: str, address: int) -> bool:
        """The DMA moved an item for request ``line`` through peripheral address ``address``:
        the request drops, unless the item went through DMAR and the burst has transfers left
        (DCR.DBL): then it stays up for the next, and True says so (the DMA serves it on at
        once, as the timer's burst of requests)."""
        if line == "ch2/ch4":
            line = "ch2" if "ch2" in self._dma_lines else "ch4"
        if (address - self.base) & ~3 == DMAR and self._burst != 0:
            return True
        self._dma_lines.discard(line)
        return False

    def _burst_target(self) -> int:
        """The register a DMAR access reaches: DCR.DBA plus the burst's index words from CR1.
        The index steps on with each access (the core's too: the timer cannot tell them
        apart), back to 0 after DBL + 1 of them."""
        dcr = self._regs[DCR]
        target = 4 * ((dcr & DBA) + self._burst)
        self._burst = 0 if self._burst >= (dcr & DBL) >> 8 else self._burst + 1
        return target

    def _burst_access(self, offset: int, size: int, value: int | None) -> int:
        """A DMAR access (``value`` None: a read), as the register it reaches takes it. One
        there is not: the advanced timers' RCR and BDTR (BURST_QUIET) read 0 and ignore
        writes; a burst reaching DCR or DMAR itself is listed (and does nothing)."""
        target = self._burst_target()
        if target in BURST_QUIET:
            return 0
        if target in (DMAR, DCR):
            self.host.unmodelled(self, offset, size, value,
                                 f"DMAR's burst reaching {'DMAR' if target == DMAR else 'DCR'}"
                                 " (DBA + the index): not modelled (nothing happens)")
            return 0
        if value is None:
            return self.read_clocked(target | offset & 3, size)
        self.write_clocked(target | offset & 3, size, value)
        return 0

    def _serve_dma(self, at: int) -> None:
        """Requests rose at cycle ``at`` (the timer brought to it): the DMA serves them now,
        its accesses to the timer acting at ``at``."""
        if not self._dma_new:
            return
        self._dma_new = False
        outer, self._dma_at = self._dma_at, at
        acting = self.host.acting_at(at)  # (its accesses to other devices: at ``at`` too)
        try:
            self.dma_service()
        finally:
            self._dma_at = outer
            self.host.acting_at(acting)

    # --- the channels' inputs (input capture, the slave mode's trigger) --------------------------
    def inputs_changed(self, at: int) -> None:
        """A pin whose alternate function is one of the timer's channels changed level at
        cycle ``at`` (or which pins those are changed): each input TIx that changed is an
        edge, through its filter, to the channels that capture it and the slave mode."""
        if not self._ti_known:  # nothing takes an edge yet: the levels
            self._sync_inputs()
            return
        if not self.clocked():  # the input stage holds its last sample (restart: the clock
            return  # back, a level that differs is an edge then)
        levels = self._input_levels()
        if levels == self._ti:
            return
        if self._master is not None:
            self._masters_to(at)
        self._advance(at)
        if self._osc is not None:  # (an oscillator's input as _advance left it, not as the
            levels[self._osc_ti] = self._ti[self._osc_ti]  # last catch-up had it)
        for ti in range(self.count + 1):
            if levels[ti] != self._ti[ti]:
                self._ti[ti] = levels[ti]
                if ti == ETR:
                    self._etr_changed(levels[ti], at)
                else:
                    self._input_edge(ti, levels[ti], at)
        self._serve_dma(at)
        self._schedule()

    def _sync_inputs(self) -> None:
        """The inputs' levels as the pins have them now, with no edge (after a reset, before
        anything can take one; while the timer has no clock)."""
        self._ti = self._input_levels()
        self._tif, self._pending, self._ti_known = list(self._ti), [], True
        self._etrp = self._tif[ETR] = self._etrp_of(self._ti[ETR])
        self._etr_edges = 0

    # --- the external trigger (ETR: SMCR's ECE, TS 111, OCREF_CLR) ------------------------------
    def _etrp_of(self, level: int) -> int:
        """ETRP for ETR at ``level`` taken as it is (no edge counted): inverted with ETP; with
        a prescaler, low (its rising edges come from counted edges)."""
        smcr = self._regs[SMCR]
        return 0 if smcr & ETPS else level ^ (smcr >> 15 & 1)

    def _etr_changed(self, level: int, at: int) -> None:
        """ETR changed to ``level`` at cycle ``at``: ETRP (inverted with SMCR.ETP; with ETPS,
        every 2nd, 4th or 8th rising edge a rising edge, and low again at the next falling
        edge) to the filter."""
        smcr = self._regs[SMCR]
        level ^= smcr >> 15 & 1
        if level:
            self._etr_edges += 1
            if self._etr_edges < 1 << (smcr >> 12 & 3):
                return
            self._etr_edges = 0
        if level != self._etrp:
            self._etrp = level
            self._input_edge(ETR, level, at)

    def _etr_used(self) -> bool:
        """Whether something takes ETRF: external clock mode 2 (not with an encoder mode),
        the slave mode's trigger (TS 111), or a channel's OCREF_CLR."""
        smcr = self._regs[SMCR]
        return bool((smcr & ECE and not self._ece_encoder())
                    or (smcr & SMS and smcr >> 4 & 7 == TS_ETRF) or self._clears())

    def _osc_etr_takers(self) -> int:
        """The oscillator's edges on ETR that something takes: both while ETRF counts (CEN
        set), triggers the slave mode or clears an output; none else."""
        smcr = self._regs[SMCR]
        counts = smcr & ECE and self.cr1 & CEN and not self._ece_encoder()
        return RISING | FALLING if counts or (
            smcr & SMS and smcr >> 4 & 7 == TS_ETRF) or self._clears() else 0

    def _ece_encoder(self) -> bool:
        """Whether SMCR sets ECE with an encoder mode (listed: neither counts)."""
        smcr = self._regs[SMCR]
        return bool(smcr & ECE) and smcr & SMS in (ENCODER_TI2, ENCODER_TI1, ENCODER_BOTH)

    def _etr_start(self) -> None:
        """What takes ETRF may have changed (an SMCR or CCMRx write): when something starts
        taking it, ETR's level as it is now, with no edge (ETRF follows it at once; an
        oscillator on ETR is followed all along)."""
        on = self._etr_used()
        if on and not self._etr_on and (self._osc is None or self._osc_ti != ETR):
            self._etr_on = True  # (so that _input_levels looks ETR up)
            self._ti[ETR] = self._input_levels()[ETR]
            self._etrp = self._tif[ETR] = self._etrp_of(self._ti[ETR])
            self._etr_edges = 0
            self._pending = [edge for edge in self._pending if edge[1] != ETR]
        self._etr_on = on

    def _etr_filtered(self, level: int, at: int) -> None:
        """ETRF changed to ``level`` at cycle ``at``: in external clock mode 2 (ECE) a rising
        edge is a count pulse (gated mode: while TRGI is high); else with TS 111 an edge of
        the slave mode's trigger; high, it clears the OCxREF of the channels with OCxCE."""
        smcr = self._regs[SMCR]
        if smcr & ECE:
            if level and (smcr & SMS != SLAVE_GATED or self._trgi() == 1) and (
                    not self._ece_encoder()):
                self._count_pulse(not self.cr1 & DIR, at)
        elif smcr & SMS and smcr >> 4 & 7 == TS_ETRF and not self._encoder():
            self._trigger_edge(bool(level), at)
        if level:
            self._clear_refs(at)

    def _clears(self) -> int:
        """The channels (bits 1 ...) whose OCxREF ETRF clears: output compare or PWM (not
        forced) with OCxCE."""
        cleared = 0
        for ch in range(1, self.count + 1):
            mode = self._mode(ch)
            if mode & (OCCE | 3) == OCCE and mode >> 4 & 7 not in (FORCE_LOW, FORCE_HIGH):
                cleared |= 1 << ch
        return cleared

    def _clear_refs(self, at: int) -> None:
        """ETRF is high at cycle ``at``: the channels with OCxCE hold OCxREF low (until an
        update event with ETRF low)."""
        clears = self._clears()
        if clears & ~self._cleared:
            before = self._outputs()
            self._cleared |= clears
            self._outputs_changed(before, at)

    def _ocref(self, ch: int) -> int:
        """OCxREF as the pins and TRGO see it: low while OCREF_CLR holds it."""
        return 0 if self._cleared >> ch & 1 else self._ref[ch]

    def _clear_seen(self) -> int:
        """The channels held by OCREF_CLR whose release (an update event) something sees: an
        output on a pin or to the ADC, TRGO as their OCxREF."""
        if not self._cleared:
            return 0
        mms = self._regs[CR2] >> 4 & 7
        return sum(1 << ch for ch in range(1, self.count + 1) if self._cleared >> ch & 1 and (
            self._observed(ch) or (mms == ch + 3 and self._trgo_heard())))

    def _remapped(self, value: int) -> set[int]:
        """The inputs TIx an OR of ``value`` takes from inside the part (not a pin)."""
        return {ti for mask, ti in self.remaps
                if value & mask and (mask, value & mask) not in self.remap_pins}

    def comparator(self, ti: int, value: int | None = None) -> int | None:
        """The comparator (0: COMP1, 1: COMP2) an OR of ``value`` (default: OR now) takes
        input TI``ti`` from, None for none."""
        value = self._regs[OR] if value is None else value
        return next((n for mask, code, x, n in self.comparator_inputs
                     if x == ti and value & mask == code), None)

    def takes_comparator(self, n: int) -> bool:
        """Whether an input of the timer (ETR, TIx) is comparator ``n``'s output (OR)."""
        return any(self.comparator(ti) == n for ti in range(self.count + 1))

    def _comparator_level(self, n: int) -> int:
        """Comparator ``n``'s output (sim/devices/stm32l0_comp.py, in SYSCFG)."""
        comparators = getattr(self.host.device("stm32l0_syscfg"), "comparators", None)
        return int(comparators is not None and comparators.out[n])

    def _input_levels(self) -> list[int]:
        """ETR, TI1 ... TI4 (index 0, 1 ...): the level of the pin in alternate-function mode
        with that input's function (0 for none), or of the comparator's output OR takes it
        from. A channel whose output drives its pin keeps the level it had: its own output's
        edges are not taken (not modelled); so does an input OR takes from an oscillator (its
        edges come from ``_oscillate``) or another internal signal (listed)."""
        levels = [0] * 5
        remapped = self._remapped(self._regs[OR])
        levels[ETR] = self._ti[ETR]  # (kept while nothing takes ETRF: a pin lookup less)
        for ti in range(0 if self._etr_on else 1, self.count + 1):
            n = self.comparator(ti) if ti in remapped else None
            if n is not None:
                levels[ti] = self._comparator_level(n)
                continue
            if self.output(ti) is not None or ti in remapped:
                levels[ti] = self._ti[ti]
                continue
            for port in self._gpio_ports():
                level = port.timer_input(self.name, ti)  # type: ignore[attr-defined]
                if level is not None:
                    levels[ti] = level
                    break
        return levels

    def _filter_delay(self, ti: int) -> int:
        """Core cycles input TIx must hold a new level before its filter passes it: ICxF's
        samples at its sampling clock (channel x an output: no filter); ETR's: SMCR.ETF's."""
        if ti == ETR:
            code = self._regs[SMCR] >> 8 & 0xF
        else:
            mode = self._mode(ti)
            if not mode & 3:
                return 0
            code = mode >> 4
        division, samples = _FILTERS[code]
        if samples and code >= 4:  # (f_DTS / division: f_DTS is f_CK_INT / 1, 2 or 4)
            division <<= min((self.cr1 & CKD) >> 8, 2)
        return samples * division * self._div

    def _input_edge(self, ti: int, level: int, at: int) -> None:
        """Input TIx changed to ``level`` at cycle ``at``: through its filter (a change back
        within the filter's time undoes it), to what takes it."""
        for i, (_, t, _) in enumerate(self._pending):
            if t == ti:  # (a pulse shorter than the filter: gone)
                del self._pending[i]
                break
        if level == self._tif[ti]:
            return
        delay = self._filter_delay(ti)
        if delay:
            self._pending.append((at + delay, ti, level))
            self._pending.sort()
        else:
            self._filtered(ti, level, at)

    def _filtered(self, ti: int, level: int, at: int) -> None:
        """The filtered input TIx changed to ``level`` at cycle ``at``: a capture of each
        channel that takes that edge of it, the slave mode's trigger."""
        if level == self._tif[ti]:
            return
        self._tif[ti] = level
        if ti == ETR:
            self._etr_filtered(level, at)
            return
        for ch in range(1, self.count + 1):
            select = self._mode(ch) & 3
            source = ch if select == OWN_INPUT else ((ch - 1) ^ 1) + 1 if (
                select == PAIR_INPUT) else 0
            if source == ti and self._takes(ch, level):
                self._events[ch] += 1
                if self._events[ch] >= 1 << (self._mode(ch) >> 2 & 3):  # ICxPSC: 1, 2, 4, 8
                    self._events[ch] = 0
                    self._capture(ch, at)
        self._slave_edge(ti, level, at)

    def _takes(self, ch: int, level: int) -> bool:
        """Whether input channel ``ch`` captures an edge to ``level``: its capture enabled
        (CCxE), the edge as CCxP and CCxNP select (rising, falling, both)."""
        bits = self._regs[CCER] >> (4 * (ch - 1))
        if not bits & 1:
            return False
        if bits & 0xA == 0xA:  # both edges
            return True
        return level != bits >> 1 & 1

    def _capture(self, ch: int, at: int) -> None:
        """Channel ``ch`` captures the count at cycle ``at`` in CCRx: CCxIF (CCxOF when it
        was still set), TRGO's pulse with CR2.MMS compare pulse (channel 1)."""
        if self.sr >> ch & 1:  # CCxOF: an over-capture
            self.sr |= 1 << (ch + 8)
        self.sr |= 1 << ch
        self._regs[CCR1 + 4 * (ch - 1)] = self._ccr[ch] = self._count_at(at)
        self._dma_event(ch)
        if ch == 1:
            self._signal(TRGO_COMPARE, at, PULSE)

    def _count_at(self, at: int) -> int:
        """CNT at cycle ``at`` (at most the cycle the count was brought to: an edge that
        the timer's own event passed at the same block boundary is counted back)."""
        down = self._down()
        pos = self._pos - max(0, self._since - at) if self._counting() else self._pos
        if pos < 0:  # (in the period before: centre-aligned, the other direction)
            pos %= self._period()
            down ^= bool(self.cr1 & CMS)
        return self._count_of(pos, down)

    def _encoder(self) -> bool:
        """Whether SMCR.SMS is an encoder mode."""
        return not self._regs[SMCR] & ECE and self._regs[SMCR] & SMS in (
            ENCODER_TI2, ENCODER_TI1, ENCODER_BOTH)

    def _encoder_edge(self, ti: int, at: int) -> None:
        """An edge of the filtered TI1 or TI2 in an encoder mode: DIR from the edge and the
        other input's level (RM0377's table: TI1FP1 rising with TI2FP2 low counts up, high
        down; TI2FP2 rising with TI1FP1 high up, low down; falling edges the reverse), and a
        count pulse when the mode counts that input's edges."""
        ccer = self._regs[CCER]
        fp = (0, self._tif[1] ^ (ccer >> 1 & 1), self._tif[2] ^ (ccer >> 5 & 1))
        rising, other = fp[ti], fp[3 - ti]
        up = rising != other if ti == 1 else rising == other
        self.cr1 = self.cr1 & ~DIR | (0 if up else DIR)
        mode = self._regs[SMCR] & SMS
        if mode == ENCODER_BOTH or mode == (ENCODER_TI1 if ti == 1 else ENCODER_TI2):
            self._count_pulse(up, at)

    def _count_pulse(self, up: bool, at: int) -> None:
        """A count pulse of an encoder or external clock mode at cycle ``at``: through the
        prescaler (PSC + 1 pulses a count), the count one up or down, from ARR to 0 or from 0
        to ARR an update event (centre-aligned: the count's turns, reaching ARR or 0, are); a
        compare channel whose CCRx the count reaches matches."""
        if not self.cr1 & CEN or not self._arr or not self.clocked():  # (ARR 0: blocked)
            return
        self._pulses += 1
        if self._pulses <= self._psc:
            return
        self._pulses = 0
        before = self._outputs()
        count = self._count()
        centre = self.cr1 & CMS and not self._encoder()
        if centre:
            count = min(max(count + (1 if up else -1), 0), self._arr)
            wrapped = count == (self._arr if up else 0)
        else:
            wrapped = count >= self._arr if up else count == 0
            count = (0 if up else self._arr) if wrapped else count + (1 if up else -1)
        if wrapped:
            if centre:
                self.cr1 ^= DIR
            if not self.cr1 & UDIS:
                self._update_event(at)
                if not up or centre:  # (to the ARR just loaded; a turn at 0 stays there)
                    count = self._arr if count else 0
            if self.cr1 & OPM:
                self._set_cen(0, at)
        self._pos = self._pos_of(count)
        flag = wrapped or self._flags_when(not up)  # (centre-aligned: as CMS says)
        for ch in range(1, self.count + 1):
            if not self._mode(ch) & 3 and self._ccr[ch] == count:
                self._compare(ch, at, match=True, flag=flag)
        self._pwm_refs(count)
        self._outputs_changed(before, at)

    def _slave_edge(self, ti: int, level: int, at: int) -> None:
        """The slave mode controller (SMCR.SMS reset, gated or trigger) on an edge of the
        filtered TIx, when SMCR.TS selects it (TI1F_ED: both edges of TI1; TI1FP1, TI2FP2:
        TRGI rises as the input goes to the level CCxP selects): TIF, and the counter reset
        (an update event), started, or let count (gated: while TRGI is high; TIF at both of
        its edges)."""
        smcr = self._regs[SMCR]
        mode, ts = smcr & SMS, smcr >> 4 & 7
        if self._encoder():
            if ti <= 2:
                self._encoder_edge(ti, at)
            return
        if not mode or self._ece_encoder():  # (listed: neither counts)
            return
        if ts == TI1F_ED and ti == 1 and mode != SLAVE_GATED:
            self._trigger_edge(True, at)
        elif ts in (TI1FP1, TI2FP2) and ti == ts - TI1FP1 + 1:
            self._trigger_edge(bool(level ^ self._inverted(ti)) or (
                mode != SLAVE_GATED and self._both_edges(ti)), at)

    def _trigger_edge(self, rising: bool, at: int) -> None:
        """An edge of TRGI (a TIx's or another timer's TRGO) at cycle ``at``, ``rising`` or
        not, to the slave mode (SMCR.SMS reset, gated, trigger or external clock mode 1): TIF,
        and the counter reset (an update event), let count (gated: while TRGI is high; TIF at
        both of its edges), started, or counted."""
        mode = self._regs[SMCR] & SMS
        late = max(0, self._since - at)  # (brought to ``_since`` as it was before)
        if mode == SLAVE_GATED:  # the count stops or goes on from here (_counting)
            self.sr |= TIF
            if late and self.cr1 & CEN and self._arr and not self._regs[SMCR] & ECE:
                self._pos = ((self._pos + late) % self._period() if rising
                             else max(0, self._pos - late))
            if self.cr1 & CEN:  # (CNT_EN: TRGO with CR2.MMS enable)
                self._signal(TRGO_ENABLE, at, RISING if rising else FALLING)
            return
        if not rising:
            return
        self.sr |= TIF
        if mode == EXTERNAL_CLOCK:  # each rising edge of TRGI a count pulse (with ECE too:
            if not self._regs[SMCR] & ECE:  # ETRF is the clock)
                self._count_pulse(not self.cr1 & DIR, at)
            return
        if mode == SLAVE_TRIGGER:
            if not self.cr1 & CEN:
                self._set_cen(CEN, at)
                if late and self._counting():  # (counting since ``at``)
                    self._pos = (self._pos + late) % self._period()
            return
        before = self._outputs()  # reset mode: the counter and its prescaler start again
        self._restart_count()
        self._pos = max(0, self._since - at) % self._period() if self._counting() else 0
        self._pulses = 0
        if not self.cr1 & UDIS:
            self._update_event(at, forced=True)
        self._signal(TRGO_RESET, at, PULSE)
        self._pwm_refs()
        self._outputs_changed(before, at)

    def _restart_count(self) -> None:
        """The counter reinitialised (EGR.UG, the reset mode's trigger): 0 counting up, ARR
        counting down; centre-aligned 0, counting up."""
        if self.cr1 & CMS and self.cr1 & DIR:
            self.cr1 ^= DIR
            self._plans = [None, None]
        self._pos = 0

    # --- the channels' outputs (OCx on their pins, and to the ADC) ------------------------------
    def output(self, ch: int) -> int | None:
        """Channel ``ch``'s output for its pin (an alternate function: sim/devices/
        stm32l0_gpio.py) and the ADC (TIM21_CH2, TIM2_CH3, TIM2_CH4): OCxREF, inverted with
        CCER.CCxP (low while OCREF_CLR holds it); None while CCER.CCxE is clear or the channel
        is an input (the timer does not drive it)."""
        if not 0 < ch <= self.count:  # (ETR, 0: an input only)
            return None
        ccer = self._regs[CCER] >> (4 * (ch - 1))
        if not ccer & 1 or self._mode(ch) & 3:
            return None
        return self._ocref(ch) ^ (ccer >> 1 & 1)

    def _outputs(self) -> tuple[int | None, ...]:
        if not self._regs[CCER] & 0x1111:  # no output enabled (a time base's case)
            return (None,) * self.count
        return tuple(self.output(ch) for ch in range(1, self.count + 1))

    def _pwm_refs(self, count: int | None = None) -> None:
        """OCxREF of the channels in PWM mode (and forced) with the count at ``count`` (None:
        now): PWM mode 1 high while the count is below CCRx (counting down: not above it),
        mode 2 the reverse."""
        if not (self._regs[CCMR1] | self._regs.get(CCMR2, 0)) & 0x4040:  # (OCxM 4-7: none)
            return
        if count is None:
            count = self._count()
        down = bool(self.cr1 & DIR)
        for ch in range(1, self.count + 1):
            if self._mode(ch) & 3:  # an input (bits 4-7 are its filter)
                continue
            mode = self._mode(ch) >> 4 & 7
            if mode in (PWM1, PWM2):
                ccr = self._ccr[ch]
                self._ref[ch] = int(count < ccr or (down and count == ccr)) ^ (mode == PWM2)
            elif mode in (FORCE_LOW, FORCE_HIGH):
                self._ref[ch] = mode - FORCE_LOW

    def _outputs_changed(self, before: tuple[int | None, ...], at: int) -> None:
        """The outputs after an event or a register write at cycle ``at``, against
        ``before``: an edge of the channel the ADC waits for, to the ADC (a disabled output is
        low); the pins that show them (the GPIO ports recompute their levels). With CR2.MMS
        OCxREF, TRGO's edge when that channel's OCxREF changed."""
        mms = self._regs[CR2] >> 4 & 7
        if TRGO_OC1REF <= mms <= self.count + 3 and self._ocref(mms - 3) != self._trgo_ref:
            self._trgo_ref ^= 1
            self._signal(mms, at, RISING if self._trgo_ref else FALLING)
        after = self._outputs()
        if after == before:
            return
        awaited = self._awaited()
        if awaited is not None and awaited.startswith("CH"):
            ch = int(awaited[2:])
            old, new = before[ch - 1] or 0, after[ch - 1] or 0
            if new != old:
                cast(TriggerInput, self._input).trigger(f"{self.name} {awaited}", at,
                                                        RISING if new else FALLING)
        self._show(at)

    def _show(self, at: int, always: bool = False) -> None:
        """The outputs to the pins when they changed (``always``: after a reset), at cycle
        ``at``."""
        shown = self._outputs()
        if shown == self._shown and not always:
            return
        self._shown = shown
        for port in self._gpio_ports():
            port.af_changed(at)  # type: ignore[attr-defined]

    def _set_cen(self, value: int, at: int) -> None:
        """CR1.CEN set to ``value`` at cycle ``at``: with CR2.MMS enable, TRGO follows CNT_EN
        (CEN; gated: while TRGI is high)."""
        if value != self.cr1 & CEN:
            was = self._cnt_en()
            self.cr1 ^= CEN
            if self._cnt_en() != was:
                self._signal(TRGO_ENABLE, at, FALLING if was else RISING)

    def _schedule(self) -> None:
        """Plan the next event only while it could raise the interrupt (an enabled flag still
        clear), change an output or trigger the ADC: a timer that can do none costs nothing
        and never wakes a sleeping core. A match that comes after the update is planned at the
        update (which may change CCRx, ARR and PSC)."""
        due: int | None = None
        wakes: Wakes = True
        if self._counting():
            plan = self._plan()
            interrupts = {ch for ch in range(1, self.count + 1)  # (a capture's come from
                          if self.dier >> ch & 1 and not self.sr >> ch & 1  # its input)
                          and not self._mode(ch) & 3}
            dma = self._dma_wanted()  # (each event a request the DMA would serve)
            want = interrupts | set(plan.driving)
            if dma:
                want |= {ch for ch in range(1, self.count + 1) if dma >> (8 + ch) & 1}
            awaited = self._awaited()
            mms = self._regs[CR2] & MMS
            heard = bool(mms) and self._trgo_events(awaited == "TRGO" or bool(self._listening()))
            if heard and mms == TRGO_COMPARE << 4:
                want.add(1)
            ocref = heard and TRGO_OC1REF << 4 <= mms <= self.count + 3 << 4
            if ocref:  # (TRGO is that channel's OCxREF: its matches, and the update's)
                want.add((mms >> 4) - 3)
            period = self._period()
            at = [p for p, ch in plan.matches if ch in want and self._pos < p < period] if (
                want) else []
            update_irq = not self.cr1 & UDIS and (
                (self.dier & UIE and not self.sr & UIF) or bool(dma)
                or (heard and mms in (TRGO_UPDATE << 4, TRGO_ENABLE << 4)))
            held = 0 if self.cr1 & UDIS or self._tif[ETR] else self._clear_seen()  # (the
            # end of OCREF_CLR's hold: an update with ETRF low)
            if update_irq or plan.driving or ocref or held or (want and not at):  # (a match
                at.append(period)  # after the update: planned there)
            if at:
                due = self._since + min(at) - self._pos  # (the count is at _since)
            # only output edges no interrupt watches: they wake nothing
            shown = plan.driving if not held else [
                *plan.driving, *(ch for ch in range(1, self.count + 1) if held >> ch & 1)]
            # (an interrupt wakes only on a line that can, a DMA request or a conversion the
            # ADC starts only when what follows can: not a circular channel filling memory,
            # nor conversions that raise nothing; asked while the core sleeps)
            irq = bool(interrupts) or bool(not self.cr1 & UDIS and self.dier & UIE
                                           and not self.sr & UIF)
            wakes = any(port.wakes_on(self.name, ch)  # type: ignore[attr-defined]
                        for ch in shown for port in self._gpio_ports()) or (
                self._events_wake(irq, awaited, dma, bool(mms)))
        if self._pending and self.clocked():  # a filtered input edge to come (a capture...)
            due = self._pending[0][0] if due is None else min(due, self._pending[0][0])
            wakes = True
        if self._osc is not None:  # an oscillator's edge that something takes (it wakes the
            edge = self._osc_next(self._osc_takers())  # core only through what the count's
            if edge != NEVER:  # or the input's events may raise: an interrupt, a DMA request,
                osc_wakes: Wakes = self._trgo_heard() or (  # TRGO to a timer or the ADC, a
                    self._awaited() is not None) or any(  # channel to the ADC or a waking pin)
                    port.wakes_on(self.name, ch)  # type: ignore[attr-defined]
                    for ch in range(1, self.count + 1) if self.output(ch) is not None
                    for port in self._gpio_ports()) or self._dier_wakes  # (asked asleep)
                if due is None or edge < due:
                    wakes = osc_wakes if due is None else either_wakes(wakes, osc_wakes)
                due = edge if due is None else min(due, edge)
        self._next = NEVER if due is None else due
        self.host.exceptions.set_timer(self, due, self._catch_up, wakes=wakes)
        self.host.set_irq_level(self.irq, bool(self.dier & self.sr & (UIF | CCIF | TIF)))

    def settle(self) -> None:
        if self._master is not None:
            self._masters_to()
        self._advance()

    def restart(self) -> None:
        div = self._divider()
        if div != self._div:  # the APB prescaler changed: the count goes on at the new rate
            self._pos = self._pos * div // self._div
            self._div = div
        self._plans = [None, None]  # (what the ADC waits for may have changed too)
        self._since = self.host.exceptions.now
        if self._osc is not None:  # (the core's clock, an oscillator started or stopped)
            self._retime_osc(self._since)
        if not self.clocked():  # the filters stop: what they held back is gone
            self._pending = []
        elif self._ti_known:  # the clock back: an input that changed meanwhile is an edge now
            self.inputs_changed(self._since)  # (and one whose filter the stop cut short)
            for ti in range(1, self.count + 1):
                if self._tif[ti] != self._ti[ti] and all(p[1] != ti for p in self._pending):
                    self._input_edge(ti, self._ti[ti], self._since)
            if self._tif[ETR] != self._etrp and all(p[1] != ETR for p in self._pending):
                self._input_edge(ETR, self._etrp, self._since)
        self.trgo_level()  # (TRGO's OCxREF afresh: the ADC may start taking it now)
        if self._master is not None and self.clocked():  # (so does the trigger's ITRx)
            level = self._master.trgo_level()
            if level != self._itr_level:
                self.itr_changed(self._since, RISING if level else FALLING)
        self._schedule()

    def rcc_changed(self) -> None:
        trgo, slaves = self.trgo_level(), self._listening()
        self._trgo_sent = None  # (an edge the restart sends, its inputs' changes: not twice)
        super().rcc_changed()
        now = self.host.exceptions.now
        self._show(now, always=True)  # (reset: no output any more)
        sent = cast("int | None", self._trgo_sent)  # (set by _signal meanwhile)
        if sent is not None:
            trgo = sent
        if self.trgo_level() != trgo:  # (reset: TRGO low, to the timers that take it)
            for slave in slaves:
                slave.itr_changed(now, FALLING if trgo else RISING)

    def _catch_up(self) -> None:
        if self._next > self.host.exceptions.now:
            return
        if self._master is not None:
            self._masters_to()
        self._advance()
        self._schedule()

    # --- registers ----------------------------------------------------------------------------
    def read_clocked(self, offset: int, size: int) -> int:
        if offset & ~3 == DMAR and self.dma:
            return self._burst_access(offset, size, None)
        at = self.host.store_cycle() if self._dma_at is None else self._dma_at  # (a DMA's
        if self._master is not None:  # access: at the event it serves; its TRGO's edges
            self._masters_to(at)  # until then first)
        self._advance(at)
        word = offset & ~3
        if word not in (CR1, DIER, SR, EGR, CNT, PSC, ARR, *self._regs):  # EGR: reads 0
            self.host.unmodelled(self, offset, size, None)
        value = lane(self._word(word), offset, size)
        if CCR1 <= word <= CCR4 and word in self._regs:
            ch = (word - CCR1) // 4 + 1
            if self._mode(ch) & 3 and self.sr >> ch & 1:  # a capture's CCRx read: CCxIF clear
                self.sr &= ~(1 << ch)
                self._schedule()
        return value

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == DMAR and self.dma:
            self._burst_access(offset, size, value)
            return
        if word == OR and self.comparator_inputs:  # (their edges up to the store first, to
            from sim.devices.stm32l0_comp import settle  # the inputs as they were)

            settle(self.host)
        links = word in (SMCR, CR2)  # (what this one's trigger or TRGO links may change)
        if links:  # (the other timers to the store's cycle, on the links as they were, each
            for timer in part_timers(self.host):  # after its masters)
                if timer is not self and timer.clocked():
                    timer._masters_to(self.host.store_cycle())
                    timer._advance(self.host.store_cycle())
        if self._master is not None:  # (its TRGO's edges until now first)
            self._masters_to(self.host.store_cycle())
        self._advance(self.host.store_cycle())  # the write acts at the store's own cycle (the
        # DMA's: its event's, as DeviceHost.acting_at says)
        now = self._since
        trgo = self.trgo_level() if links else 0
        outer, self._trgo_sent = self._trgo_sent, None  # (an edge the write itself sends: not
        # twice; a write the DMA makes inside another write keeps that one's record)
        if not self._ti_known:  # (the first write since the reset)
            self._sync_inputs()
        before = self._outputs()
        value = merge(self._word(word), offset, size, value)
        channels = (1 << self.count + 1) - 2  # CCIF's bits of this timer's channels
        listed, why = False, ""
        mapping = word in (CR1, SMCR, ARR)  # (may change how the position is counted: the
        if mapping:  # count stays)
            count, fraction, counting = self._count(), self._pos % self._step(), (
                self._down(), self._arr)
        if word == CR1:
            self._set_cen(value & CEN, now)
            if self._encoder() or value & CMS:  # DIR is the hardware's
                value = value & ~DIR | self.cr1 & DIR
            self.cr1 = value & 0x3FF
        elif word == DIER:
            self.dier = value & 0x5F5F
            for line, enable in _DMA_ENABLES:  # a request whose enable is cleared drops
                if not self.dier & enable:
                    self._dma_lines.discard(line)
            listed = bool(self.dier & ~(UIE | channels | TIE | (
                (UDE | channels << 8) if self.dma else 0)))
            if listed and not self.dma and self.dier & (UDE | CCDE):
                why = "no DMA request line on this part (TIM2's only)"
        elif word == SR:
            self.sr &= value  # rc_w0
        elif word == EGR:
            if value & UG:  # with UDIS the count restarts, but no update event
                self._restart_count()
                self._pulses = 0  # (the prescaler's count of an encoder's pulses too)
                if not self.cr1 & UDIS:
                    self._update_event(now, forced=True)
                self._signal(TRGO_RESET, now, PULSE)
            for ch in range(1, self.count + 1):
                if value >> ch & 1:
                    if self._mode(ch) & 3:  # an input channel captures the count
                        self._capture(ch, now)
                    else:
                        self._compare(ch, now)
            if value & TIF:  # TG: the trigger event
                self.sr |= TIF
            listed = bool(value & ~(UG | channels | TIF))
        elif word == CNT:
            value &= 0xFFFF
            if self.cr1 & CMS and not self._encoder() and value in (0, self._arr):
                self.cr1 = self.cr1 & ~DIR | (DIR if value else 0)  # (where the count turns)
                self._plans = [None, None]
            self._pos = self._pos_of(value)
        elif word == PSC:
            self.psc = value & 0xFFFF
        elif word == ARR:
            self.arr = value & 0xFFFF
            if not self.cr1 & ARPE:
                self._arr = self.arr
        elif word in self._regs:
            old = self._regs[word]
            self._regs[word] = value
            if CCR1 <= word <= CCR4:
                ch = (word - CCR1) // 4 + 1
                if self._mode(ch) & 3:  # an input channel's CCRx is read-only
                    self._regs[word] = self._ccr[ch]
                else:
                    self._regs[word] = value & 0xFFFF
                    if not self._mode(ch) & OCPE:
                        self._ccr[ch] = value & 0xFFFF
            elif word == SMCR:
                why = self._smcr_why(value)
                if (old ^ value) & (SMS | ECE):  # another mode: the prescaler's pulses start
                    self._pulses = 0  # again
                if (old ^ value) & ETPS:  # (also while nothing takes ETRF)
                    self._etr_edges = 0
                if (old ^ value) & (ETP | ETPS) and self._etr_on:  # ETRP from ETR as it is
                    self._etr_edges = 0  # now (not followed yet: _etr_start takes it)
                    etrp = self._etrp_of(self._ti[ETR])
                    if etrp != self._etrp:
                        self._etrp = etrp
                        self._input_edge(ETR, etrp, now)
                listed = bool(why)
                master = self._itr_master()
                self._itr_level = 0 if master is None else master.trgo_level()
                if value != old:
                    unlink_timers(self.host)
            elif word in (CCMR1, CCMR2):  # (a capture from TRC with its CCxE already set)
                why = self._ccer_why(self._regs[CCER])
                listed = bool(why)
            elif word == CR2:
                if value & TI1S:
                    listed = True
                    why = "TI1S, TI1 the XOR of CH1-CH3: not modelled (TI1 is CH1's pin)"
                if value >> 4 & 7 > self.count + 3:  # (OC3REF, OC4REF: not on TIM21, TIM22)
                    listed = True
                elif value >> 4 & 7 >= TRGO_OC1REF:  # TRGO from this level on
                    self._trgo_ref = self._ocref((value >> 4 & 7) - 3)
            elif word == OR:
                osc = self._oscillator(value)
                remapped = [ti for ti in sorted(self._remapped(value))
                            if not (osc and ti == osc[0])
                            and self.comparator(ti, value) is None]
                if remapped:
                    listed = True
                    why = "; ".join(f"{'ETR' if ti == ETR else f'TI{ti}'} from an internal "
                                    "signal: not modelled (it never changes)" for ti in remapped)
                was = self._osc_ti if self._osc is not None else None  # (the input an
                self._retime_osc(now)  # oscillator drove: its pin's again when it moves)
                moved = was is not None and (self._osc is None or self._osc_ti != was)
                compared = any(self.comparator(ti, v) is not None
                               for v in (old, value) for ti in range(self.count + 1))
                if moved or compared:
                    self.inputs_changed(now)  # (TI1 its pin again, or a comparator's output)
                if compared:  # (whether the comparator's edges can wake the core)
                    from sim.devices.stm32l0_comp import replan as replan_comparators

                    replan_comparators(self.host)
            elif word == DCR:
                self._regs[DCR] = value & (DBA | DBL)
                self._burst = 0  # (a new burst starts at DBA)
                if (value & DBL) >> 8 > 17:
                    listed = True
                    why = (f"DBL {(value & DBL) >> 8}: reserved (at most 17: 18 transfers), "
                           "taken as it is")
            elif word == CCER:
                why = self._ccer_why(value)
                listed = bool(why)
                for ch in range(1, self.count + 1):
                    if not value >> (4 * (ch - 1)) & 1:  # CCxE clear: its prescaler reset
                        self._events[ch] = 0
        else:
            self._stored[word] = value
            listed = True
        if listed:
            self.host.unmodelled(self, offset, size, value, why)
        if word in (CR1, SMCR, ARR, CCER, *self.channels):  # what the plan is made of
            self._plans = [None, None]
        if word in (SMCR, CCMR1, CCMR2):
            self._etr_start()
        if word in (SMCR, CCMR1, CCMR2) and (self._cleared or self._tif[ETR]):
            # OCREF_CLR: ETRF high clears what OCxCE now enables; a channel no longer
            # enabled is let go
            clears = self._clears()
            self._cleared = (self._cleared | (clears if self._tif[ETR] else 0)) & clears
        if mapping and (self._down(), self._arr) != counting:
            self._pos = self._pos_of(count) + fraction
        if self._counting() and self._pos >= self._period():
            self._pos %= self._period()  # a count past ARR: back into the period
        self._pwm_refs()  # (the count, CCRx or OCxM may have changed)
        self._outputs_changed(before, now)
        if self._dma_new:
            self._serve_dma(now)
        sent = cast("int | None", self._trgo_sent)  # (set by _signal during the write)
        if sent is not None:
            trgo = sent
        if links and self.trgo_level() != trgo:  # (what TRGO is changed)
            for slave in self._listening():
                slave.itr_changed(now, FALLING if trgo else RISING)
            sent = 1 - trgo
        self._trgo_sent = outer if sent is None else sent
        self._schedule()

    def _ccer_why(self, value: int) -> str:
        """What a CCER write enables that is not modelled: a capture from TRC (CCxS 3), the
        reserved polarity (CCxNP without CCxP: taken as rising edges)."""
        whys = []
        for ch in range(1, self.count + 1):
            bits = value >> (4 * (ch - 1)) & 0xF
            if not bits & 1 or not self._mode(ch) & 3:
                continue
            if self._mode(ch) & 3 == TRC_INPUT:
                whys.append(f"CC{ch}E, a capture from TRC: not modelled")
            elif bits & 0xA == 0x8:
                whys.append(f"CC{ch}NP without CC{ch}P: reserved (taken as rising edges)")
        return "; ".join(whys)

    def _smcr_why(self, value: int) -> str:
        """What an SMCR write asks for that is not modelled: external clock mode 2 with an
        encoder mode, a trigger from an ITRx whose timer is not known, gated by TI1F_ED."""
        mode, ts = value & SMS, value >> 4 & 7
        encoder = mode in (ENCODER_TI2, ENCODER_TI1, ENCODER_BOTH)
        if value & ECE and encoder:
            return "ECE with an encoder mode: not modelled (neither counts)"
        if value & ECE and mode in (SLAVE_RESET, SLAVE_GATED, SLAVE_TRIGGER) and ts == TS_ETRF:
            return ("ECE with a slave mode on TS 111 (RM0377: TRGI must not be ETRF then): "
                    "not modelled (ETRF only counts)")
        if mode and not encoder and ts not in (TI1F_ED, TI1FP1, TI2FP2, TS_ETRF) and not (
                ts < 4 and self.itr[ts]):
            return f"TS {ts}, a trigger from ITR{ts}: not modelled (never comes)"
        if mode == SLAVE_GATED and ts == TI1F_ED:
            return "gated by TI1F_ED: not modelled (the counter stands)"
        return ""

    def _word(self, word: int) -> int:
        """The register at offset ``word`` (unmodelled ones as written)."""
        if word == CNT:
            return self._count()
        values = {CR1: self.cr1, DIER: self.dier, SR: self.sr, PSC: self.psc, ARR: self.arr}
        return values.get(word, self._regs.get(word, self._stored.get(word, 0)))


def part_timers(host: DeviceHost) -> list["_Tim"]:
    """The part's TIM2, TIM21 and TIM22 that the run maps."""
    found = (host.device(name) for name in TIMER_NAMES)
    return [timer for timer in found if isinstance(timer, _Tim)]


def unlink_timers(host: DeviceHost) -> None:
    """A timer's SMCR changed (or it was reset): which timers take which one's TRGO is looked
    up again, and each plans its events again (a TRGO that a timer takes is taken event by
    event)."""
    timers = part_timers(host)
    for timer in timers:
        timer._slaves = None
        timer._master = timer._itr_master() if hasattr(timer, "_regs") else None
    for timer in timers:
        if hasattr(timer, "_next") and timer.clocked():
            timer._schedule()


def replan_timers(host: DeviceHost) -> None:
    """What watches the pins changed (EXTI's IMR or EMR, SYSCFG's EXTICR): the timers plan
    their output edges again, as events that may wake the core or not."""
    for timer in part_timers(host):
        timer.pins_changed()


class Stm32l0Tim2(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim2", 0x4000_0000, 15, (APB1ENR, 0), 1
    channels, count, dma = (CCMR1, CCMR2, CCR1, CCR2, CCR3, CCR4), 4, True
    # TI4_RMP: COMP1, COMP2; ETR_RMP (STM32CubeL0's TIM2_ETR_*): 011 HSI16, 100 HSI48 (not on
    # this part), 101 LSE, 110 COMP2, 111 COMP1
    remaps = ((0x18, 4), (0x07, ETR))
    comparator_inputs = ((0x18, 0x08, 4, 1), (0x18, 0x10, 4, 0),  # TI4_RMP 01 COMP2, 10 COMP1
                         (0x07, 6, ETR, 1), (0x07, 7, ETR, 0))
    oscillators = ((0x07, 5, ETR, "LSE"),)
    remap_pins = ((0x18, 0x18),)  # TI4_RMP 11: TIM2_TI4_GPIO2, the pin


class Stm32l0Tim21(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim21", 0x4001_0800, 20, (APB2ENR, 2), 2
    # TI1_RMP: the RTC's wake-up, HSE/RTC, MSI, LSE, LSI...; ETR_RMP: 01 COMP2, 10 COMP1, 11 LSE
    remaps = ((0x1C, 1), (0x20, 2), (0x03, ETR))
    itr = ("stm32l0_tim2", "stm32l0_tim22", None, None)  # ITR0: TIM2, ITR1: TIM22
    # TI1_RMP 100, 101 (STM32CubeL0's LSI measurement); ETR_RMP 11
    oscillators = ((0x1C, 4 << 2, 1, "LSE"), (0x1C, 5 << 2, 1, "LSI"), (0x03, 3, ETR, "LSE"))
    comparator_inputs = ((0x1C, 6 << 2, 1, 0), (0x20, 0x20, 2, 1),  # TI1_RMP 110, TI2_RMP 1
                         (0x03, 1, ETR, 1), (0x03, 2, ETR, 0))


class Stm32l0Tim22(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim22", 0x4001_1400, 22, (APB2ENR, 5), 2
    remaps = ((0x0C, 1), (0x03, ETR))  # TI1_RMP: COMP1, COMP2; ETR_RMP: 01 COMP2, 10 COMP1,
    # 11 LSE (STM32CubeL0's current TIM22_ETR_*; its 2015 HAL had them the other way round)
    comparator_inputs = ((0x0C, 0x04, 1, 1), (0x0C, 0x08, 1, 0),  # TI1_RMP 01 COMP2, 10 COMP1
                         (0x03, 1, ETR, 1), (0x03, 2, ETR, 0))
    oscillators = ((0x03, 3, ETR, "LSE"),)
    remap_pins = ((0x0C, 0x0C),)  # TI1_RMP 11: TIM22_TI1_GPIO2, the pin
    itr = ("stm32l0_tim21", "stm32l0_tim2", None, None)  # ITR0: TIM21, ITR1: TIM2


DEVICES = (Stm32l0Tim2, Stm32l0Tim21, Stm32l0Tim22)
TIMER_NAMES = tuple(device.name for device in DEVICES)
