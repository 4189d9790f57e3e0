"""The STM32L0x1's DMA controller, DMA1 (RM0377 section 11), as STM32CubeL0's HAL_DMA drives it
for its peripherals: the serial ports' HAL_UART_Transmit_DMA and HAL_UART_Receive_DMA, the
ADC's HAL_ADC_Start_DMA, and memory-to-memory copies; so that firmware moving its data by DMA
runs, instead of waiting for ever for a transfer-complete flag that never comes.

Seven channels at 0x40020000 + 20 x (n - 1): CCRn 0x08, CNDTRn 0x0C, CPARn 0x10, CMARn 0x14;
ISR 0x00 (GIF, TCIF, HTIF, TEIF per channel, 4 bits each), IFCR 0x04 (write 1 to clear them:
CGIF clears all four), CSELR 0xA8 (4 bits a channel: which peripheral's request it serves).

A channel, enabled (CCR.EN), moves CNDTR data items between the peripheral address (CPAR) and
the memory address (CMAR), each read at its own size (PSIZE, MSIZE: 8, 16 or 32 bits; the
reserved 11 as 32) and written at the other's (a narrower value zero-extended, a wider one's
low bits taken), in the direction CCR.DIR gives (0: from the peripheral), the addresses
aligned down to their size (the chip ignores the low bits) and stepping by it with PINC and
MINC. CPAR, CMAR and CNDTR take writes only while the channel is off (ignored and listed while
it is on), as do CCR's settings but its interrupt enables and EN. Enabling starts from CPAR and
CMAR with the count CNDTR holds, which counts down as items move (and stays where it is when EN
is cleared: a channel whose count ran out moves nothing more until it is written). HTIF sets
when half the count written has moved, TCIF when all of it has; then, with CIRC (not with
MEM2MEM, which RM0377 forbids with it), the channel starts again from CPAR, CMAR and the count
written. A transfer to or from an address no memory or peripheral answers (a write to flash or
to read-only system memory, the core's private peripherals, an unmapped address) sets TEIF and
clears EN. The interrupt lines are levels:
channel 1 IRQ 9, channels 2-3 IRQ 10, channels 4-7 IRQ 11, each high while a channel's flag is
set with its enable (TCIE, HTIE, TEIE).

What a channel serves: with MEM2MEM every item at once (no request), CMAR to CPAR's side as DIR
says, taking MEM2MEM_CYCLES core cycles an item: the data is there, TCIF set, when they are up;
otherwise the peripheral request CSELR selects (RM0377's mapping for this part): channels 1 and
2 code 0 the ADC (an end of conversion with ADC_CFGR1.DMAEN), channel 2 code 1 SPI1's receiver
(RXNE with SPI_CR2.RXDMAEN) and channel 3 code 1 its transmitter (TXE with TXDMAEN), channels 4
and 7 code 4 USART2's transmitter (TXE with USART_CR3.DMAT), channels 5 and 6 code 4 its
receiver (RXNE with DMAR), channels 2 and 7 code 5 LPUART1's transmitter, 3 and 6 its receiver,
channels 2 and 6 code 6 I2C1's transmitter (TXIS with I2C_CR1.TXDMAEN), 3 and 7 its receiver
(RXNE with RXDMAEN), code 8 TIM2's requests (sim/devices/stm32l0_tim.py: an update event with
DIER.UDE, a channel's compare or capture event with CCxDE): channel 1 CH3, 2 UP, 3 CH2, 4 CH4,
5 CH1, 7 CH2 or CH4 (as STM32CubeMX's data for the part's family lists them); a timer's request
drops when an item has been moved for it (but for a DMA burst's: up until its last transfer
through TIM2's DMAR, each served at once). A request is served at once, an item each time
(channels by CCR.PL, then by number); reading or writing the peripheral's data register as the
firmware would clears the request (a USART's TDR written: TXE clears until the shift register
takes the byte, so the bytes go out at the line's pace). A request still up after BURST items
in a row (a channel pointed at another register than its peripheral's data: nothing clears it)
is served on at an item every MEM2MEM_CYCLES, as time passes. The bus time a transfer takes from
the core is not modelled. Like the part's other peripherals it works only while its RCC clock
is on (AHBENR DMAEN, bit 0; AHBRSTR resets it, its interrupt lines with it:
sim.devices.stm32l0.Clocked), and not in Stop mode: a memory-to-memory copy whose clock stops
starts its items again when the clock is back.
"""

from dataclasses import dataclass

from sim.devices import lane
from sim.devices.stm32l0 import Clocked, merge
from sim.devices.stm32l0_tim import part_timers

DMA_BASE = 0x4002_0000
ISR, IFCR, CSELR = 0x00, 0x04, 0xA8
CHANNELS = 7
CCR, CNDTR, CPAR, CMAR = 0x08, 0x0C, 0x10, 0x14  # channel 1's; channel n's 20 x (n - 1) on
STRIDE = 20
EN, TCIE, HTIE, TEIE, DIR, CIRC, PINC, MINC = 1, 2, 4, 8, 16, 32, 64, 128
MEM2MEM = 1 << 14
_IE = TCIE | HTIE | TEIE
GIF, TCIF, HTIF, TEIF = 1, 2, 4, 8  # a channel's four ISR bits
AHBENR = 0x30
IRQS = (9, 10, 10, 11, 11, 11, 11)  # by channel 1-7
MEM2MEM_CYCLES = 4  # core cycles an item of a memory-to-memory transfer takes (an estimate)
# the peripheral request a channel serves, by (channel, CSELR code): (device, line)
REQUESTS = {
    (1, 0): ("stm32l0_adc", "adc"), (2, 0): ("stm32l0_adc", "adc"),
    (2, 1): ("stm32l0_spi1", "rx"), (3, 1): ("stm32l0_spi1", "tx"),
    (4, 4): ("stm32l0_usart2", "tx"), (7, 4): ("stm32l0_usart2", "tx"),
    (5, 4): ("stm32l0_usart2", "rx"), (6, 4): ("stm32l0_usart2", "rx"),
    (2, 5): ("stm32l0_lpuart1", "tx"), (7, 5): ("stm32l0_lpuart1", "tx"),
    (3, 5): ("stm32l0_lpuart1", "rx"), (6, 5): ("stm32l0_lpuart1", "rx"),
    (2, 6): ("stm32l0_i2c1", "tx"), (6, 6): ("stm32l0_i2c1", "tx"),
    (3, 6): ("stm32l0_i2c1", "rx"), (7, 6): ("stm32l0_i2c1", "rx"),
    (1, 8): ("stm32l0_tim2", "ch3"), (2, 8): ("stm32l0_tim2", "up"),
    (3, 8): ("stm32l0_tim2", "ch2"), (4, 8): ("stm32l0_tim2", "ch4"),
    (5, 8): ("stm32l0_tim2", "ch1"), (7, 8): ("stm32l0_tim2", "ch2/ch4"),
}
BURST = 4  # items a request may take at once before it is paced (service)
SIZES = (1, 2, 4, 4)  # bytes an item: PSIZE, MSIZE 8, 16, 32 bits (11, reserved: as 32)
PERIPHERALS = 0x4000_0000  # the peripherals' (and the core's) addresses from here on


@dataclass(eq=False)  # (identity: a channel owns its copy's timer)
class _Channel:
    number: int
    ccr: int = 0
    cndtr: int = 0  # items still to move (what CNDTR reads)
    initial: int = 0  # the count written: a circular channel's again, the half its HTIF
    cpar: int = 0
    cmar: int = 0
    paddr: int = 0  # the addresses the next item moves between
    maddr: int = 0
    flags: int = 0  # TCIF, HTIF, TEIF (GIF is their or)
    burst: int = 0  # items moved in this service without its request dropping


class Stm32l0Dma(Clocked):
    name, base, size = "stm32l0_dma", DMA_BASE, 0x400
    clock = (AHBENR, 0)

    def reset(self) -> None:
        super().reset()
        # (a reset by AHBRSTR: no copy or paced request goes on; each channel owns its copy's
        # event, _pace the paced requests')
        for owner in [*getattr(self, "channels", ()), getattr(self, "_pace", None)]:
            self.host.exceptions.set_timer(owner, None, lambda: None)
        self.channels = [_Channel(n) for n in range(1, CHANNELS + 1)]
        self.active = False
        self.cselr = 0
        self._serving = False
        self._again = False
        self._pace = object()

    def _enabled(self) -> None:
        """``active``: a channel is on, so peripherals' requests may be served (an attribute:
        a peripheral asks at each of its register accesses)."""
        self.active = any(ch.ccr & EN for ch in self.channels)

    def restart(self) -> None:
        """After an RCC change (its clock, its reset): the lines as the flags are now, a
        memory-to-memory copy cut short by the clock planned again, requests served."""
        self._update_lines()
        if self.clocked():
            for ch in self.channels:  # (one under way goes on as planned)
                if (ch.ccr & EN and ch.ccr & MEM2MEM and ch.cndtr
                        and not self.host.exceptions.has_timer(ch)):
                    self._start_mem2mem(ch)
            self.service()

    # --- transfers ------------------------------------------------------------------------------
    def _request(self, ch: _Channel) -> tuple[str, str] | None:
        return REQUESTS.get((ch.number, self.cselr >> (4 * (ch.number - 1)) & 0xF))

    def _channels_for(self, device: str, line: str) -> list[_Channel]:
        """The enabled channels with items left that serve ``device``'s request ``line``."""
        if not self.active or not self.clocked():
            return []
        found = []
        for ch in self.channels:
            if ch.ccr & EN and not ch.ccr & MEM2MEM and ch.cndtr:
                request = self._request(ch)
                if request is None or request[0] != device:
                    continue
                if request[1] == line or (request[1] == "ch2/ch4" and line in ("ch2", "ch4")):
                    found.append(ch)
        return found

    def serves(self, device: str, line: str) -> bool:
        """Whether an enabled channel with items left serves ``device``'s request ``line``
        (a timer plans its events for the DMA only then)."""
        return bool(self._channels_for(device, line))

    def wakes(self, device: str, line: str) -> bool:
        """Whether serving ``device``'s request ``line`` may lead to something that wakes the
        core: a channel serving it has an interrupt enabled whose flag is still clear (TCIE,
        HTIE, TEIE; a flag left set raises its line no more), or it ends (not CIRC: what the
        peripheral plans changes then), or it writes another peripheral (a GPIO pin's edge,
        an EXTI line ... may follow; ``device``'s own registers, as its data register, are
        its own planning's). A circular channel that only fills memory, or feeds ``device``
        itself, wakes nothing, however long it runs."""
        return any(self._channel_wakes(ch, device) for ch in self._channels_for(device, line))

    def _channel_wakes(self, ch: _Channel, device: str) -> bool:
        """``wakes`` for one channel serving ``device``."""
        own = self.host.device(device)
        base = getattr(own, "base", 0)
        end = base + getattr(own, "size", 0)
        target = ch.cpar if ch.ccr & DIR else ch.cmar  # (a peripheral's, not the device's own)
        interrupt = bool(ch.ccr & _IE & ~ch.flags) and self.host.exceptions.irq_wakes(
            IRQS[ch.number - 1])  # (a flag still clear, on a line that can wake the core)
        return interrupt or not ch.ccr & CIRC or (
            target >= PERIPHERALS and not base <= target < end)

    def _requests_changed(self) -> None:
        """What the channels serve changed (enabled, selected, run out): the timers plan
        their events for it again. (Whether serving them wakes the core is asked while it
        sleeps: wakes, from the requesters' set_timer predicates.)"""
        for timer in part_timers(self.host):
            timer.dma_changed()

    def service(self) -> None:
        """Serve the peripheral requests that are up, an item at a time, the channels by
        priority (a peripheral calls this when its request may have risen). A request still
        up after BURST items in a row (a channel pointed at the wrong register: nothing
        clears it) is served on at an item every MEM2MEM_CYCLES, as time passes (_pace)."""
        if self._serving:  # (a transfer's own register access asked again)
            self._again = True
            return
        if not self.clocked() or not self.active:
            return
        self._serving = True
        try:
            while True:
                self._again = False
                if not self._serve_one() and not self._again:
                    break
        finally:
            self._serving = False

    def _by_priority(self) -> list[_Channel]:
        return sorted(self.channels, key=lambda c: (-(c.ccr >> 12 & 3), c.number))

    def _asking(self, ch: _Channel) -> bool:
        """The channel is on, has items left and its peripheral's request is up."""
        if not ch.ccr & EN or ch.ccr & MEM2MEM or not ch.cndtr:
            return False
        request = self._request(ch)
        if request is None:
            return False
        asking = getattr(self.host.device(request[0]), "dma_request", None)
        return asking is not None and bool(asking(request[1]))

    def _serve_one(self) -> bool:
        paced = False
        for ch in self._by_priority():
            if not self._asking(ch):
                ch.burst = 0
                continue
            if ch.burst >= BURST:  # still up: served as time passes
                paced = True
                continue
            ch.burst += 1
            self._move(ch)
            return True
        if paced and not self.host.exceptions.has_timer(self._pace):
            # waking only when an item moved could (a circular channel that only refills
            # memory from a request nothing clears moves data for ever and wakes nothing)
            self.host.exceptions.set_timer(
                self._pace, self.host.exceptions.now + MEM2MEM_CYCLES, self._paced,
                self._paced_wake)
        return False

    def _paced_wake(self) -> bool:
        """Whether a paced item may wake the core (asked while it sleeps): one of the
        channels served at that pace's may (_channel_wakes)."""
        return any(self._channel_wakes(ch, request[0]) for ch in self._by_priority()
                   if ch.burst >= BURST and (request := self._request(ch)) is not None)

    def _paced(self) -> None:
        """An item for the highest-priority request that stayed up, then the others."""
        if not self.clocked():
            return
        for ch in self._by_priority():
            if ch.burst >= BURST and self._asking(ch):
                self._serving = True
                try:
                    self._move(ch)
                finally:
                    self._serving = False
                break
        self.service()

    def _move(self, ch: _Channel) -> None:
        """One item, then the flags. An address is aligned down to its item's size (the chip
        ignores the low bits)."""
        psize, msize = SIZES[ch.ccr >> 8 & 3], SIZES[ch.ccr >> 10 & 3]
        if ch.ccr & DIR:  # memory to peripheral
            source, ssize, dest, dsize = ch.maddr, msize, ch.paddr, psize
        else:
            source, ssize, dest, dsize = ch.paddr, psize, ch.maddr, msize
        via = ch.paddr & -psize  # (the peripheral address the item goes through)
        value = self.host.bus_read(source & -ssize, ssize)
        if value is None or not self.host.bus_write(dest & -dsize, dsize,
                                                    value & ((1 << 8 * dsize) - 1)):
            ch.flags |= TEIF
            ch.ccr &= ~EN
            self._enabled()
            self._update_lines()
            self._requests_changed()
            return
        if ch.ccr & PINC:
            ch.paddr = (ch.paddr + psize) & 0xFFFF_FFFF
        if ch.ccr & MINC:
            ch.maddr = (ch.maddr + msize) & 0xFFFF_FFFF
        ch.cndtr -= 1
        if not ch.ccr & MEM2MEM:  # (a timer's request drops when its item is served)
            request = self._request(ch)
            served = None if request is None else getattr(
                self.host.device(request[0]), "dma_served", None)
            if served is not None and request is not None and served(request[1], via):
                ch.burst = 0  # (a timer's DMA burst: its next transfer at once, not paced)
        self._count_flags(ch)

    def _count_flags(self, ch: _Channel) -> None:
        done = ch.initial - ch.cndtr
        if 2 * done >= ch.initial > 2 * (done - 1):
            ch.flags |= HTIF
        if not ch.cndtr:
            ch.flags |= TCIF
            if not ch.ccr & CIRC:
                self._requests_changed()
            request = None if ch.ccr & MEM2MEM else self._request(ch)
            if request is not None:  # the peripheral sees the end of transfer (the ADC's
                ended = getattr(self.host.device(request[0]), "dma_ended", None)
                if ended is not None:  # one-shot mode stops its requests there)
                    ended(request[1])
            if ch.ccr & CIRC and not ch.ccr & MEM2MEM:  # (RM0377 forbids the pair)
                ch.cndtr = ch.initial
                self._load(ch)
        self._update_lines()

    def _load(self, ch: _Channel) -> None:
        ch.paddr, ch.maddr = ch.cpar, ch.cmar

    def _start_mem2mem(self, ch: _Channel) -> None:
        at = self.host.exceptions.now + MEM2MEM_CYCLES * ch.cndtr if ch.cndtr else None
        self.host.exceptions.set_timer(ch, at, lambda: self._finish_mem2mem(ch))

    def _finish_mem2mem(self, ch: _Channel) -> None:
        if not self.clocked():  # (planned again when the clock is back: restart)
            return
        while ch.ccr & EN and ch.cndtr and ch.ccr & MEM2MEM:
            self._move(ch)

    # --- the interrupt lines ---------------------------------------------------------------------
    def _update_lines(self) -> None:
        high: dict[int, bool] = {}
        for ch in self.channels:
            irq = IRQS[ch.number - 1]
            raised = bool(ch.flags & ch.ccr & _IE)  # TCIF/TCIE ... TEIF/TEIE share their bits
            high[irq] = high.get(irq, False) or raised
        for irq, level in high.items():
            self.host.set_irq_level(irq, level, self)

    # --- registers ------------------------------------------------------------------------------
    def _isr(self) -> int:
        value = 0
        for ch in self.channels:
            flags = ch.flags | (GIF if ch.flags else 0)
            value |= flags << (4 * (ch.number - 1))
        return value

    def _channel_at(self, word: int) -> tuple[_Channel, int] | None:
        if not CCR <= word < CCR + STRIDE * CHANNELS:
            return None
        index, reg = divmod(word - CCR, STRIDE)
        return (self.channels[index], reg + CCR) if reg + CCR in (CCR, CNDTR, CPAR, CMAR) \
            else None

    def read_word(self, word: int) -> int:
        if word == ISR:
            return self._isr()
        if word == CSELR:
            return self.cselr
        found = self._channel_at(word)
        if found is None:
            return 0
        ch, reg = found
        return {CCR: ch.ccr, CNDTR: ch.cndtr, CPAR: ch.cpar, CMAR: ch.cmar}[reg]

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in (ISR, IFCR, CSELR) and self._channel_at(word) is None:
            self.host.unmodelled(self, offset, size, None)
        return lane(self.read_word(word), offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        new = merge(self.read_word(word), offset, size, value)
        if word == IFCR:
            for ch in self.channels:
                bits = new >> (4 * (ch.number - 1)) & 0xF
                ch.flags &= ~(0xE if bits & GIF else bits & 0xE)
            self._update_lines()
            return
        if word == CSELR:
            self.cselr = new & 0x0FFF_FFFF
            self._requests_changed()
            self.service()
            return
        found = self._channel_at(word)
        if found is None:
            self.host.unmodelled(self, offset, size, value)
            return
        ch, reg = found
        if reg == CCR:
            self._write_ccr(ch, offset, size, value, new)
            return
        if ch.ccr & EN:
            self.host.unmodelled(self, offset, size, value,
                                 f"ignored: channel {ch.number} is enabled (CCR.EN)")
            return
        if reg == CNDTR:
            ch.cndtr = ch.initial = new & 0xFFFF
        elif reg == CPAR:
            ch.cpar = new
        else:
            ch.cmar = new

    def _write_ccr(self, ch: _Channel, offset: int, size: int, value: int, new: int) -> None:
        new &= 0x7FFF
        if ch.ccr & EN and new & EN and (new ^ ch.ccr) & ~(EN | _IE):
            self.host.unmodelled(self, offset, size, value,
                                 f"settings ignored: channel {ch.number} is enabled (CCR.EN)")
            new = (new & (EN | _IE)) | (ch.ccr & ~(EN | _IE))
        started = new & EN and not ch.ccr & EN
        ch.ccr = new
        self._enabled()
        if started:  # the addresses from CPAR and CMAR, the count from what CNDTR holds
            self._load(ch)
            if ch.ccr & MEM2MEM:
                self._start_mem2mem(ch)
        elif not new & EN:
            self.host.exceptions.set_timer(ch, None, lambda: None)
        self._update_lines()
        self._requests_changed()
        if started and not ch.ccr & MEM2MEM:
            self.service()


DEVICES = (Stm32l0Dma,)
