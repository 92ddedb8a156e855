"""nRF51 TIMER: timer (16 MHz / 2^PRESCALER) or counter (COUNT task) mode, BITMODE 8/16/24/32,
CC[4] with CAPTURE tasks, COMPARE events, SHORTS (COMPARE[n]_CLEAR, COMPARE[n]_STOP).

The counter is computed from virtual time. A COMPARE match is a scheduled event only when
something acts on it at that instant (its interrupt, a shortcut, a PPI channel); otherwise the
channel's next match time is kept and the event register is brought up to date when the
firmware reads an event (one comparison while nothing is due). CC registers keep the value
written; matching uses the low BITMODE bits.
"""
from __future__ import annotations

from ._base import NrfPeripheral

BITS = {0: 16, 1: 8, 2: 24, 3: 32}
NEVER = 1 << 62


class Timer(NrfPeripheral):
    TASKS = {0x000: "start", 0x004: "stop", 0x008: "count", 0x00C: "clear", 0x010: "shutdown",
             0x040: "capture0", 0x044: "capture1", 0x048: "capture2", 0x04C: "capture3"}
    EVENTS = {0x140: "compare0", 0x144: "compare1", 0x148: "compare2", 0x14C: "compare3"}
    SHORTS_MASK = 0x0F0F
    REGS = {0x504: "mode", 0x508: "bitmode", 0x510: "prescaler",
            0x540: "cc0", 0x544: "cc1", 0x548: "cc2", 0x54C: "cc3"}
    PLAIN = {0xC0C: ("anomaly73", 0xFFFFFFFF, 0)}     # PAN 73 workaround register (TIMER0)

    def __init__(self, machine, name, base, irqs=(), **config):
        self._timers = [None] * 4
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        for i, t in enumerate(self._timers):
            if t is not None:
                t.cancel()
                self._timers[i] = None
        super().reset()
        self.mode = 0
        self.bitmode = 0
        self.mask = 0xFFFF
        self.prescaler = 4
        self.cc = [0] * 4
        self.running = False
        self.base_count = 0
        self.t0 = 0
        self.next_match = [None] * 4     # cycle of each channel's next match (timer mode, running)
        self.lazy_due = NEVER            # earliest next_match of the unscheduled channels
        self._gen = 0
        self.want = 0

    # -- counter -----------------------------------------------------------------------------
    def counter(self):
        if self.running and not self.mode:
            return (self.base_count + ((self.clock.now() - self.t0) >> self.prescaler)) & self.mask
        return self.base_count

    def _rebase(self):
        now = self.clock.now()
        if self.running and not self.mode:
            n = (now - self.t0) >> self.prescaler
            self.base_count = (self.base_count + n) & self.mask
            self.t0 += n << self.prescaler
        else:
            self.t0 = now

    # -- matches -------------------------------------------------------------------------------
    def _update_want(self):
        """Channels whose match must happen at its exact cycle: its interrupt, a shortcut or a
        PPI channel acts on it. The others are brought up to date when read."""
        want = (self.inten >> 16) | self.shorts | (self.shorts >> 8)
        ppi = getattr(self.machine, "nrf_ppi", None)
        if ppi is not None and ppi.routes:
            for i in range(4):
                if self.base + 0x140 + 4 * i in ppi.routes:
                    want |= 1 << i
        self.want = want & 0xF

    def _plan(self):
        """Recompute the next match of every channel; schedule those that need it."""
        self._gen += 1
        self._update_want()
        self._catch_up()
        for i in range(4):
            self._plan_channel(i)

    def _plan_channel(self, i):
        t = self._timers[i]
        if t is not None:
            t.cancel()
            self._timers[i] = None
        if not self.running or self.mode:
            self.next_match[i] = None
        else:
            pre = self.prescaler
            n_now = (self.clock.now() - self.t0) >> pre
            k = (self.cc[i] - self.base_count - n_now) & self.mask or self.mask + 1
            when = self.t0 + ((n_now + k) << pre)
            self.next_match[i] = when
            if self.want >> i & 1:
                self._timers[i] = self.clock.at(when, self._on_match, i)
        self._update_lazy_due()

    def _update_lazy_due(self):
        due = NEVER
        timers = self._timers
        for i, w in enumerate(self.next_match):
            if w is not None and timers[i] is None and w < due:
                due = w
        self.lazy_due = due

    def _catch_up(self):
        """Set COMPARE events of unscheduled channels whose match time has passed."""
        now = self.clock.now()
        if now < self.lazy_due:
            return
        nm, timers = self.next_match, self._timers
        period = (self.mask + 1) << self.prescaler
        for i in range(4):
            w = nm[i]
            if w is not None and w <= now and timers[i] is None:
                self.ev |= 1 << (16 + i)
                nm[i] = w + ((now - w) // period + 1) * period
        self._update_lazy_due()
        self._update_irq()

    def poll_events(self):
        if self.lazy_due <= self.clock.now():
            self._catch_up()

    def _on_match(self, i):
        self._timers[i] = None
        bit = 1 << (16 + i)
        self.next_match[i] = None
        s = self.shorts
        if s & (1 << i) or s & (1 << (8 + i)):
            # shortcut: the counter is cleared / stopped at the match
            self._rebase()
            if s & (1 << i):
                self.base_count = 0
                self.t0 = self.clock.now()
            if s & (1 << (8 + i)):
                self.running = False
            self.fire(bit)
            self._plan()
            return
        gen = self._gen
        self.fire(bit)
        # next match of this channel: one full wrap later (unless something replanned meanwhile)
        if gen == self._gen and self.running and self._timers[i] is None:
            when = self.clock.now() + ((self.mask + 1) << self.prescaler)
            self.next_match[i] = when
            if self.want >> i & 1:
                self._timers[i] = self.clock.at(when, self._on_match, i)
            else:
                self._update_lazy_due()

    # -- tasks ---------------------------------------------------------------------------------
    def task_start(self):
        if not self.running:
            self.running = True
            self.t0 = self.clock.now()
            self._plan()

    def task_stop(self):
        if self.running:
            self._catch_up()
            self.base_count = self.counter()
            self.running = False
            self._plan()

    def task_shutdown(self):
        self.task_stop()

    def task_clear(self):
        self._catch_up()
        self._rebase()
        self.base_count = 0
        self.t0 = self.clock.now()
        self._plan()

    def task_count(self):
        if self.running and self.mode == 1:
            self.base_count = (self.base_count + 1) & self.mask
            for i in range(4):
                if self.cc[i] & self.mask == self.base_count:
                    s = self.shorts
                    if s & (1 << i):
                        self.base_count = 0
                    if s & (1 << (8 + i)):
                        self.running = False
                    self.fire(1 << (16 + i))

    def _set_cc(self, i, value):
        # a lazily kept match of this channel that has already passed becomes its event first
        if self.lazy_due <= self.clock.now():
            self._catch_up()
        self.cc[i] = value
        self._gen += 1
        self._plan_channel(i)

    def task_capture0(self):
        self._set_cc(0, self.counter())

    def task_capture1(self):
        self._set_cc(1, self.counter())

    def task_capture2(self):
        self._set_cc(2, self.counter())

    def task_capture3(self):
        self._set_cc(3, self.counter())

    # -- registers -------------------------------------------------------------------------------
    def inten_changed(self, old):
        self._plan()

    def shorts_changed(self):
        self._plan()

    def read_mode(self):
        return self.mode

    def write_mode(self, value):
        self._rebase()
        self.mode = value & 1
        self._plan()

    def read_bitmode(self):
        return self.bitmode

    def write_bitmode(self, value):
        self._rebase()
        self.bitmode = value & 3
        self.mask = (1 << BITS[self.bitmode]) - 1
        self.base_count &= self.mask
        self._plan()

    def read_prescaler(self):
        return self.prescaler

    def write_prescaler(self, value):
        self._rebase()
        self.prescaler = min(value & 0xF, 9)
        self.t0 = self.clock.now()
        self._plan()

    def read_cc0(self):
        return self.cc[0]

    def read_cc1(self):
        return self.cc[1]

    def read_cc2(self):
        return self.cc[2]

    def read_cc3(self):
        return self.cc[3]

    def write_cc0(self, value):
        self._set_cc(0, value & 0xFFFFFFFF)

    def write_cc1(self, value):
        self._set_cc(1, value & 0xFFFFFFFF)

    def write_cc2(self, value):
        self._set_cc(2, value & 0xFFFFFFFF)

    def write_cc3(self, value):
        self._set_cc(3, value & 0xFFFFFFFF)


MODEL = Timer
