"""WATCHDOG (0x40058000): countdown timer, forced trigger, scratch registers, reset reason.

LOAD sets the counter; it decrements twice per microsecond tick while CTRL.ENABLE is set
(RP2040-E1: the SDK doubles its load value for this) and resets the chip when it reaches zero.
CTRL.TRIGGER resets at once. A watchdog reset keeps SCRATCH0-7 and sets REASON (bit 0 timer,
bit 1 force); a power-on (or Machine API) reset clears them. The boot ROM reads SCRATCH4-7 to
resume at a given address (``watchdog_reboot`` with a PC).

TICK (the 1 us reference of TIMER) is stored: board time is the reference, whatever the divider.
"""
from __future__ import annotations

from ._base import RpPeripheral

ENABLE, TRIGGER = 1 << 30, 1 << 31
REASON_TIMER, REASON_FORCE = 1, 2


class Watchdog(RpPeripheral):
    REGS = {0x00: "ctrl", 0x04: "load", 0x08: "reason", 0x2c: "tick"}

    def __init__(self, machine, name, base, irqs=(), **config):
        self.scratch = [0] * 8
        self.reason = 0
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(8):
            self._rtab[0x0c + 4 * i] = self._scratch_reader(i)
            self._wtab[0x0c + 4 * i] = self._scratch_writer(i)

    def _scratch_reader(self, i):
        return lambda: self.scratch[i]

    def _scratch_writer(self, i):
        def write_scratch(v):
            self.scratch[i] = v & 0xFFFFFFFF
        return write_scratch

    def reset(self):
        super().reset()
        cause = self.machine.reset_cause
        if cause == "watchdog-timer":
            self.reason = REASON_TIMER
        elif cause == "watchdog-force":
            self.reason = REASON_FORCE
        else:
            self.reason = 0
            self.scratch = [0] * 8
        self.ctrl = 0x07000000
        self.count = 0
        self.loaded_at = 0          # clock cycle of the last LOAD
        self.tick = 0x200
        self._timer = None

    # counter: `count` at cycle `loaded_at`, then -2 per microsecond while enabled
    def _remaining(self):
        if not self.ctrl & ENABLE:
            return self.count
        clk = self.machine.clock
        us = (clk.now() - self.loaded_at) * 1_000_000 // clk.hz
        return max(0, self.count - 2 * us)

    def _reschedule(self):
        self.cancel_timer()
        if self.ctrl & ENABLE:
            clk = self.machine.clock
            us = (self.count + 1) // 2
            self._timer = clk.at(self.loaded_at + max(1, us * clk.hz // 1_000_000), self._expire)

    def _expire(self):
        self._timer = None
        self.machine.request_reset("watchdog-timer")

    def read_ctrl(self):
        return (self.ctrl & ~0xFFFFFF) | self._remaining()

    def write_ctrl(self, v):
        was = self.ctrl & ENABLE
        if was and not v & ENABLE:
            self.count = self._remaining()            # freeze
        self.ctrl = v & 0x47000000
        if v & ENABLE and not was:
            self.loaded_at = self.machine.clock.now()
        self._reschedule()
        if v & TRIGGER:
            self.machine.request_reset("watchdog-force")

    def read_load(self):
        return 0

    def write_load(self, v):
        self.count = v & 0xFFFFFF
        self.loaded_at = self.machine.clock.now()
        self._reschedule()

    def read_reason(self):
        return self.reason

    def write_reason(self, v):
        pass

    def read_tick(self):
        t = self.tick & 0x3FF
        return t | (1 << 10 if t & (1 << 9) else 0)

    def write_tick(self, v):
        self.tick = v & 0x3FF


MODEL = Watchdog
