"""nRF51 WDT: START, CRV (32.768 kHz ticks), RREN / RR[n] reload requests, TIMEOUT -> reset.

The timeout is one scheduled event, moved on every complete reload. On TIMEOUT the event
fires (interrupt if enabled) and the chip resets two LFCLK ticks later.
"""
from __future__ import annotations

from ._base import NrfPeripheral

TIMEOUT = 1
RELOAD_MAGIC = 0x6E524635


class Wdt(NrfPeripheral):
    TASKS = {0x000: "start"}
    EVENTS = {0x100: "timeout"}
    PLAIN = {0x504: ("crv", 0xFFFFFFFF, 0xFFFFFFFF), 0x508: ("rren", 0xFF, 1), 0x50C: ("config", 0x9, 1)}
    REGS = {0x400: "runstatus", 0x404: "reqstatus"}

    def __init__(self, machine, name, base, irqs=(), **config):
        self._timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        self.cancel_timer()
        super().reset()
        self.running = False
        self.reqstatus = 1

    def _period_cycles(self):
        return (self.regs[0x504] + 1) * self.clock.hz // 32768

    def _arm(self):
        self.cancel_timer()
        self._timer = self.clock.after(self._period_cycles(), self._timeout)

    def _timeout(self):
        self._timer = None
        self.fire(TIMEOUT)
        self.clock.after(2 * self.clock.hz // 32768, self.machine.request_reset, "watchdog")

    def task_start(self):
        if not self.running:
            self.running = True
            self.reqstatus = self.regs[0x508]
            self._arm()

    def read_runstatus(self):
        return int(self.running)

    def read_reqstatus(self):
        return self.reqstatus

    def read(self, off):
        if 0x600 <= off < 0x620:
            return 0
        return super().read(off)

    def write(self, off, value):
        if 0x600 <= off < 0x620:
            if self.running and value == RELOAD_MAGIC:
                self.reqstatus &= ~(1 << ((off - 0x600) >> 2))
                if not self.reqstatus & self.regs[0x508]:
                    self.reqstatus = self.regs[0x508]
                    self._arm()
            return
        if self.running and off in (0x504, 0x508, 0x50C):
            return                          # locked while running
        super().write(off, value)


MODEL = Wdt
