"""nRF51 RTC: 24-bit counter on LFCLK (32768 Hz) / (PRESCALER + 1), TICK, OVRFLW, COMPARE[n].

COUNTER is computed from virtual time on read. As on the chip, an RTC event is only produced
when it is enabled in EVTEN or INTEN; each enabled COMPARE / OVRFLW is one scheduled event at
the exact cycle the counter reaches it (so events are right when time jumps over idle
periods), and TICK is scheduled only while it is enabled.
"""
from __future__ import annotations

from ._base import NrfPeripheral

LFCLK_HZ = 32768
MASK = 0xFFFFFF
TICK, OVRFLW = 1, 2


class Rtc(NrfPeripheral):
    TASKS = {0x000: "start", 0x004: "stop", 0x008: "clear", 0x00C: "trigovrflw"}
    EVENTS = {0x100: "tick", 0x104: "ovrflw", 0x140: "compare0", 0x144: "compare1",
              0x148: "compare2", 0x14C: "compare3"}
    REGS = {0x340: "evten", 0x344: "evtenset", 0x348: "evtenclr", 0x504: "counter", 0x508: "prescaler"}

    def __init__(self, machine, name, base, irqs=(), channels=4, **config):
        self.nch = channels
        self._timers = {}
        super().__init__(machine, name, base, irqs=irqs, **config)
        self.inten_mask = TICK | OVRFLW | (((1 << channels) - 1) << 16)

    def reset(self):
        for t in self._timers.values():
            t.cancel()
        self._timers = {}
        super().reset()
        self.evten = 0
        self.prescaler = 0
        self.cc = [0] * 4
        self.running = False
        self.base_count = 0          # counter value at cycle t0
        self.t0 = 0
        self._div = self.clock.hz    # cycles per tick x LFCLK_HZ

    # -- time ------------------------------------------------------------------------------
    def _ticks_at(self, cycle):
        return (cycle - self.t0) * LFCLK_HZ // self._div

    def _cycle_of_tick(self, n):
        return self.t0 + -(-n * self._div // LFCLK_HZ)

    def counter(self):
        if not self.running:
            return self.base_count
        return (self.base_count + self._ticks_at(self.clock.now())) & MASK

    def _rebase(self):
        """Fold elapsed ticks into base_count, t0 = now."""
        now = self.clock.now()
        if self.running:
            n = self._ticks_at(now)
            self.base_count = (self.base_count + n) & MASK
            self.t0 = self._cycle_of_tick(n)      # keep the tick phase
        else:
            self.t0 = now

    # -- scheduling ------------------------------------------------------------------------------
    def _plan(self):
        for t in self._timers.values():
            t.cancel()
        self._timers = {}
        if not self.running:
            return
        enabled = self.evten | self.inten
        now = self.clock.now()
        n_now = self._ticks_at(now)
        c_now = (self.base_count + n_now) & MASK
        if enabled & TICK:
            self._timers["tick"] = self.clock.at(self._cycle_of_tick(n_now + 1), self._on_tick)
        if enabled & OVRFLW:
            k = (MASK + 1 - c_now) & MASK or MASK + 1
            self._timers["ovf"] = self.clock.at(self._cycle_of_tick(n_now + k), self._on_ovf)
        for i in range(self.nch):
            if enabled & (1 << (16 + i)):
                k = (self.cc[i] - c_now) & MASK or MASK + 1
                self._timers[i] = self.clock.at(self._cycle_of_tick(n_now + k), self._on_compare, i)

    def _on_tick(self):
        n = self._ticks_at(self.clock.now())
        self._timers["tick"] = self.clock.at(self._cycle_of_tick(n + 1), self._on_tick)
        self.fire(TICK)

    def _on_ovf(self):
        n = self._ticks_at(self.clock.now())
        self._timers["ovf"] = self.clock.at(self._cycle_of_tick(n + MASK + 1), self._on_ovf)
        self.fire(OVRFLW)

    def _on_compare(self, i):
        n = self._ticks_at(self.clock.now())
        self._timers[i] = self.clock.at(self._cycle_of_tick(n + MASK + 1), self._on_compare, i)
        self.fire(1 << (16 + i))

    # -- tasks ---------------------------------------------------------------------------------
    def task_start(self):
        if not self.running:
            self.t0 = self.clock.now()
            self.running = True
            self._plan()

    def task_stop(self):
        if self.running:
            self.base_count = self.counter()
            self.running = False
            self._plan()

    def task_clear(self):
        self._rebase()
        self.base_count = 0
        self.t0 = self.clock.now()
        self._plan()

    def task_trigovrflw(self):
        self._rebase()
        self.base_count = 0xFFFFF0
        self._plan()

    # -- registers -------------------------------------------------------------------------------
    def inten_changed(self, old):
        self._plan()

    def read_evten(self):
        return self.evten

    read_evtenset = read_evtenclr = read_evten

    def write_evten(self, value):
        self.evten = value & self.inten_mask
        self._plan()

    def write_evtenset(self, value):
        self.write_evten(self.evten | value)

    def write_evtenclr(self, value):
        self.write_evten(self.evten & ~value)

    def read_counter(self):
        return self.counter()

    def write_counter(self, value):
        pass                               # read-only

    def read_prescaler(self):
        return self.prescaler

    def write_prescaler(self, value):
        if self.running:
            return                         # only writable while stopped
        self.prescaler = value & 0xFFF
        self._div = self.clock.hz * (self.prescaler + 1)

    def read(self, off):
        if 0x540 <= off < 0x540 + 4 * self.nch:
            return self.cc[(off - 0x540) >> 2]
        return super().read(off)

    def write(self, off, value):
        if 0x540 <= off < 0x540 + 4 * self.nch:
            self.cc[(off - 0x540) >> 2] = value & MASK
            self._plan()
        else:
            super().write(off, value)


MODEL = Rtc
