"""TIMER (0x40054000): 64-bit microsecond counter and four alarms (TIMER_IRQ_0..3).

The counter is board time in microseconds plus an offset (TIMEHW/TIMELW writes set it).
Reading TIMELR latches the high word for TIMEHR. Writing ALARMn arms it; it fires when the low
32 bits of the counter reach the value, i.e. after (target - now) mod 2^32 microseconds — also
when board time jumps over it (idle skipping), since firing is scheduled, not polled. Firing
clears ARMED bit n and sets INTR bit n; IRQ n = (INTR | INTF) & INTE bit n. PAUSE stops the
counter. A reset of the block (RESETS, or a chip reset) sets the counter to 0, and it counts
from 0 again when the block leaves reset (``released``), as on the chip.
"""
from __future__ import annotations

from ._base import RpPeripheral

M32 = 0xFFFFFFFF


class Timer(RpPeripheral):
    REGS = {0x00: "timehw", 0x04: "timelw", 0x08: "timehr", 0x0c: "timelr",
            0x10: "alarm0", 0x14: "alarm1", 0x18: "alarm2", 0x1c: "alarm3",
            0x20: "armed", 0x24: "timerawh", 0x28: "timerawl", 0x2c: "dbgpause", 0x30: "pause",
            0x34: "intr", 0x38: "inte", 0x3c: "intf", 0x40: "ints"}
    W1C = frozenset({0x34, 0x20})

    def __init__(self, machine, name, base, irqs=(), **config):
        self._us_div = None
        super().__init__(machine, name, base, irqs=irqs, **config)
        self.hz = machine.clock.hz
        for i in range(4):
            self._rtab[0x10 + 4 * i] = self._alarm_reader(i)
            self._wtab[0x10 + 4 * i] = self._alarm_writer(i)

    def reset(self):
        super().reset()
        if getattr(self, "_alarms", None):
            for t in self._alarms:
                if t is not None:
                    t.cancel()
        self._alarms = [None] * 4
        self.targets = [0] * 4
        self.armed = 0
        self.intr = 0
        self.inte = 0
        self.intf = 0
        self.lines = [False] * 4
        self.offset = -self._board_us()     # counter = board microseconds + offset: 0 now
        self.latched_hi = 0
        self.lw = 0
        self.paused_at = None
        self.dbgpause = 7

    def _board_us(self) -> int:
        clk = self.machine.clock
        return clk.now() * 1_000_000 // clk.hz

    def released(self):
        """RESETS let the block out of reset: the counter starts from 0 now."""
        if self.paused_at is None:
            self.offset = -self._board_us()
        else:
            self.paused_at = 0
        for i in range(4):
            if self.armed >> i & 1:
                self._schedule(i)

    # -- the counter ------------------------------------------------------------------------
    def now_us(self) -> int:
        if self.paused_at is not None:
            return self.paused_at
        clk = self.machine.clock
        return (clk.now() * 1_000_000 // self.hz + self.offset) & 0xFFFFFFFFFFFFFFFF

    def read_timerawl(self):
        clk = self.machine.clock
        return (clk.now() * 1_000_000 // self.hz + self.offset) & M32 if self.paused_at is None \
            else self.paused_at & M32

    def read_timerawh(self):
        return self.now_us() >> 32

    def read_timelr(self):
        t = self.now_us()
        self.latched_hi = t >> 32
        return t & M32

    def read_timehr(self):
        return self.latched_hi

    def read_timelw(self):
        return 0

    def read_timehw(self):
        return 0

    def write_timelw(self, v):
        self.lw = v & M32

    def write_timehw(self, v):
        new = ((v & M32) << 32) | self.lw
        if self.paused_at is not None:
            self.paused_at = new
        else:
            clk = self.machine.clock
            self.offset = new - clk.now() * 1_000_000 // self.hz
        for i in range(4):
            if self.armed >> i & 1:
                self._schedule(i)

    def read_pause(self):
        return 1 if self.paused_at is not None else 0

    def write_pause(self, v):
        if v & 1 and self.paused_at is None:
            self.paused_at = self.now_us()
            for t in self._alarms:
                if t is not None:
                    t.cancel()
            self._alarms = [None] * 4
        elif not v & 1 and self.paused_at is not None:
            clk = self.machine.clock
            self.offset = self.paused_at - clk.now() * 1_000_000 // self.hz
            self.paused_at = None
            for i in range(4):
                if self.armed >> i & 1:
                    self._schedule(i)

    def read_dbgpause(self):
        return self.dbgpause

    def write_dbgpause(self, v):
        self.dbgpause = v & 6

    # -- alarms --------------------------------------------------------------------------------
    def _alarm_reader(self, i):
        return lambda: self.targets[i]

    def _alarm_writer(self, i):
        def write_alarm(v):
            self.targets[i] = v & M32
            self.armed |= 1 << i
            self._schedule(i)
        return write_alarm

    def _schedule(self, i):
        t = self._alarms[i]
        if t is not None:
            t.cancel()
            self._alarms[i] = None
        if self.paused_at is not None:
            return
        clk = self.machine.clock
        now_c = clk.now()
        now_us = now_c * 1_000_000 // self.hz + self.offset
        delay = (self.targets[i] - now_us) & M32
        if delay == 0:
            self._fire(i)
            return
        target_us = now_us + delay - self.offset           # in board microseconds
        when = -(-target_us * self.hz // 1_000_000)
        self._alarms[i] = clk.at(max(when, now_c + 1), self._fire, i)

    def _fire(self, i):
        self._alarms[i] = None
        bit = 1 << i
        if not self.armed & bit:
            return
        self.armed &= ~bit
        self.intr |= bit
        self._update(bit)

    def _update(self, bits=0xF):
        ints = (self.intr | self.intf) & self.inte
        for i in range(4):
            if bits >> i & 1:
                level = bool(ints >> i & 1)
                if level != self.lines[i]:
                    self.lines[i] = level
                    if i < len(self.irqs):
                        self.irqs[i].set(level)

    def read_armed(self):
        return self.armed

    def write_armed(self, v):
        v &= 0xF
        self.armed &= ~v
        for i in range(4):
            if v >> i & 1 and self._alarms[i] is not None:
                self._alarms[i].cancel()
                self._alarms[i] = None

    def read_intr(self):
        return self.intr

    def write_intr(self, v):
        self.intr &= ~v
        self._update()

    def read_inte(self):
        return self.inte

    def write_inte(self, v):
        self.inte = v & 0xF
        self._update()

    def read_intf(self):
        return self.intf

    def write_intf(self, v):
        self.intf = v & 0xF
        self._update()

    def read_ints(self):
        return (self.intr | self.intf) & self.inte


MODEL = Timer
