"""RTC (0x4005c000, RTC_IRQ 25): calendar clock counting seconds of board time, with a
date/time match alarm.

SETUP_0/SETUP_1 hold a date-time that CTRL.LOAD copies into the counter; with CTRL.ENABLE the
clock runs (CTRL.ACTIVE follows ENABLE at once) at clk_rtc / (CLKDIV_M1 + 1), 1 Hz with the
SDK's divider. RTC_0 reads the current time of day and latches the date that RTC_1 then reads
(datasheet: read RTC_0 before RTC_1), so the pair is consistent across midnight. DOTW is kept as loaded and
advances mod 7 at midnight (MicroPython counts Monday as 0; the RTC does not care).

Alarm: IRQ_SETUP_0/1 select which fields must match (year, month, day, day of week, hour,
minute, second); with MATCH_ENA the raw interrupt (INTR bit 0, IRQ_SETUP_0.MATCH_ACTIVE) is
high during every second in which all enabled fields match. The check runs once per board
second while the alarm is enabled, so idle skipping still works.
"""
from __future__ import annotations

import datetime as dt

from ._base import RpPeripheral

CLK_RTC_HZ = 46875
ENABLE, ACTIVE, LOAD, NOTLEAP = 1, 2, 1 << 4, 1 << 8
MATCH_ENA, MATCH_ACTIVE = 1 << 28, 1 << 29


class Rtc(RpPeripheral):
    REGS = {0x0c: "ctrl", 0x10: "irq_setup_0", 0x14: "irq_setup_1", 0x18: "rtc_1", 0x1c: "rtc_0",
            0x20: "intr", 0x24: "inte", 0x28: "intf", 0x2c: "ints"}
    PLAIN = {0x00: ("clkdiv_m1", 0xFFFF, 0), 0x04: ("setup_0", 0xFFFF1F, 0x00000000),
             0x08: ("setup_1", 0x71F3F3F, 0)}

    def reset(self):
        super().reset()
        t = getattr(self, "_tick", None)
        if t is not None:
            t.cancel()
        self._tick = None
        self.ctrl = 0
        self.irq0 = 0
        self.irq1 = 0
        self.inte = 0
        self.intf = 0
        self._line = False
        self.match = False
        self.cal = dt.datetime(2000, 1, 1)   # calendar time at `base_cycle`
        self.base_dotw = 0
        self.base_cycle = 0
        self.frozen_s = 0                      # seconds counted while stopped
        self.latched_1 = 0                     # RTC_1 as latched by the last RTC_0 read

    # -- time ------------------------------------------------------------------------------------
    def _period_cycles(self):
        div = self.plain[0x00] + 1
        return max(1, self.machine.clock.hz * div // CLK_RTC_HZ)

    def _elapsed(self):
        if not self.ctrl & ENABLE:
            return self.frozen_s
        return self.frozen_s + (self.machine.clock.now() - self.base_cycle) // self._period_cycles()

    def _now(self):
        s = self._elapsed()
        t = self.cal + dt.timedelta(seconds=s)
        days = (t.date() - self.cal.date()).days
        return t, (self.base_dotw + days) % 7

    def read_ctrl(self):
        return self.ctrl | (ACTIVE if self.ctrl & ENABLE else 0)

    def write_ctrl(self, v):
        if v & LOAD:
            s0, s1 = self.plain[0x04], self.plain[0x08]
            year, month, day = (s0 >> 12) & 0xFFF, (s0 >> 8) & 0xF, s0 & 0x1F
            try:
                self.cal = dt.datetime(max(1, year), min(max(month, 1), 12), max(day, 1),
                                        (s1 >> 16) & 0x1F, (s1 >> 8) & 0x3F, s1 & 0x3F)
            except ValueError:
                self.cal = dt.datetime(max(1, year), min(max(month, 1), 12), 1)
            self.base_dotw = (s1 >> 24) & 7
            self.frozen_s = 0
            self.base_cycle = self.machine.clock.now()
        en = v & ENABLE
        if en and not self.ctrl & ENABLE:
            self.base_cycle = self.machine.clock.now()
        elif not en and self.ctrl & ENABLE:
            self.frozen_s = self._elapsed()
        self.ctrl = v & (ENABLE | NOTLEAP)
        self._schedule()

    def read_rtc_1(self):
        return self.latched_1

    def read_rtc_0(self):
        t, dotw = self._now()
        self.latched_1 = (t.year << 12) | (t.month << 8) | t.day
        return (dotw << 24) | (t.hour << 16) | (t.minute << 8) | t.second

    # -- alarm -------------------------------------------------------------------------------------
    def read_irq_setup_0(self):
        return self.irq0 | (MATCH_ACTIVE if self.irq0 & MATCH_ENA else 0)

    def write_irq_setup_0(self, v):
        self.irq0 = v & 0x17FFFF1F
        self._check()
        self._schedule()

    def read_irq_setup_1(self):
        return self.irq1

    def write_irq_setup_1(self, v):
        self.irq1 = v & 0xF71F3F3F
        self._check()

    def _matches(self):
        if not (self.irq0 & MATCH_ENA and self.ctrl & ENABLE):
            return False
        t, dotw = self._now()
        a0, a1 = self.irq0, self.irq1
        checks = ((a0 >> 26 & 1, (a0 >> 12) & 0xFFF, t.year), (a0 >> 25 & 1, (a0 >> 8) & 0xF, t.month),
                  (a0 >> 24 & 1, a0 & 0x1F, t.day), (a1 >> 31 & 1, (a1 >> 24) & 7, dotw),
                  (a1 >> 30 & 1, (a1 >> 16) & 0x1F, t.hour), (a1 >> 29 & 1, (a1 >> 8) & 0x3F, t.minute),
                  (a1 >> 28 & 1, a1 & 0x3F, t.second))
        return all(not ena or want == have for ena, want, have in checks)

    def _check(self):
        self.match = self._matches()
        self._update()

    def _schedule(self):
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self.irq0 & MATCH_ENA and self.ctrl & ENABLE:
            clk = self.machine.clock
            p = self._period_cycles()
            nxt = self.base_cycle + ((clk.now() - self.base_cycle) // p + 1) * p
            self._tick = clk.at(nxt, self._on_second)

    def _on_second(self):
        self._tick = None
        self._check()
        self._schedule()

    def _update(self):
        level = bool(((1 if self.match else 0) | self.intf) & self.inte)
        if level != self._line:
            self._line = level
            if self.irqs:
                self.irqs[0].set(level)

    def read_intr(self):
        return 1 if self.match else 0

    def read_inte(self):
        return self.inte

    def write_inte(self, v):
        self.inte = v & 1
        self._update()

    def read_intf(self):
        return self.intf

    def write_intf(self, v):
        self.intf = v & 1
        self._update()

    def read_ints(self):
        return ((1 if self.match else 0) | self.intf) & self.inte


MODEL = Rtc
