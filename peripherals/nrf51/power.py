"""nRF51 POWER + CLOCK + MPU (one 4 KiB block at 0x40000000, IRQ POWER_CLOCK).

CLOCK: HFCLKSTART/LFCLKSTART start the oscillators; HFCLKSTARTED / LFCLKSTARTED come after
the oscillator's start-up time (configurable, datasheet typicals by default). CAL -> DONE,
CTSTART -> CTTO after CTIV x 0.25 s. POWER: RESETREAS (kept across resets, write 1 to clear),
GPREGRET, RAMON, SYSTEMOFF (halts the board: only a reset brings it back). MPU registers are
storage.
"""
from __future__ import annotations

from ._base import NrfPeripheral

HFCLKSTARTED, LFCLKSTARTED, POFWARN, DONE, CTTO = 1, 2, 4, 8, 16
RESET_BITS = {"pin": 1, "api": 1, "watchdog": 2, "sysresetreq": 4, "lockup": 8, "system-off": 0x10000}


class PowerClock(NrfPeripheral):
    TASKS = {0x000: "hfclkstart", 0x004: "hfclkstop", 0x008: "lfclkstart", 0x00C: "lfclkstop",
             0x010: "cal", 0x014: "ctstart", 0x018: "ctstop", 0x078: "constlat", 0x07C: "lowpwr"}
    EVENTS = {0x100: "hfclkstarted", 0x104: "lfclkstarted", 0x108: "pofwarn", 0x10C: "done", 0x110: "ctto"}
    PLAIN = {
        0x41C: ("lfclksrccopy", 0x3, 0),
        0x510: ("pofcon", 0x7, 0),
        0x518: ("lfclksrc", 0x3, 0),
        0x51C: ("gpregret", 0xFF, 0),
        0x524: ("ramon", 0x00030003, 0x3),
        0x528: ("perr0", 0xFFFFFFFF, 0),
        0x52C: ("rlenr0", 0xFFFFFFFF, 0),
        0x538: ("ctiv", 0x7F, 0),
        0x544: ("reset", 0x1, 0),
        0x550: ("xtalfreq", 0xFF, 0xFF),
        0x554: ("ramonb", 0x00030003, 0x3),
        0x578: ("dcdcen", 0x1, 0),
        0x600: ("protenset0", 0xFFFFFFFF, 0),
        0x604: ("protenset1", 0xFFFFFFFF, 0),
        0x608: ("disableindebug", 0x1, 1),
        0x60C: ("protblocksize", 0x3, 0),
        0xA08: ("dcdcforce", 0x3, 0),
    }
    REGS = {0x400: "resetreas", 0x408: "hfclkrun", 0x40C: "hfclkstat", 0x414: "lfclkrun",
            0x418: "lfclkstat", 0x428: "ramstatus", 0x500: "systemoff"}

    def __init__(self, machine, name, base, irqs=(), hfxo_start_us=800, lfrc_start_us=600,
                 lfxo_start_us=1000, **config):
        self.hfxo_start_us = hfxo_start_us
        self.lfrc_start_us = lfrc_start_us
        self.lfxo_start_us = lfxo_start_us
        self.resetreas = 0
        self._timers = []
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        for t in getattr(self, "_timers", ()):
            t.cancel()
        self._timers = []
        cause = getattr(self.machine, "reset_cause", "power-on")
        if cause == "power-on":
            self.resetreas = 0
        else:
            self.resetreas |= RESET_BITS.get(cause, 1)
        gpregret = self.regs.get(0x51C, 0) if hasattr(self, "regs") and cause != "power-on" else 0
        super().reset()
        self.regs[0x51C] = gpregret
        self.hf_run = self.lf_run = False
        self.hf_xtal = False          # HFCLK source: RC until the crystal is started
        self.lf_running = False
        self.lf_src = 0

    def _after_us(self, us, fn):
        t = self.clock.after(self.clock.us_to_cycles(us), fn)
        self._timers.append(t)
        if len(self._timers) > 8:
            self._timers = [x for x in self._timers if not x.cancelled]

    # -- tasks ------------------------------------------------------------------------------
    def task_hfclkstart(self):
        self.hf_run = True
        self._after_us(self.hfxo_start_us, self._hf_started)

    def _hf_started(self):
        if self.hf_run:
            self.hf_xtal = True
            self.fire(HFCLKSTARTED)

    def task_hfclkstop(self):
        self.hf_run = False
        self.hf_xtal = False

    def task_lfclkstart(self):
        self.lf_run = True
        src = self.regs[0x518] & 3
        self.regs[0x41C] = src
        us = {0: self.lfrc_start_us, 1: self.lfxo_start_us, 2: 0}.get(src, self.lfrc_start_us)
        self._after_us(max(us, 1), lambda: self._lf_started(src))

    def _lf_started(self, src):
        if self.lf_run:
            self.lf_running = True
            self.lf_src = src
            self.fire(LFCLKSTARTED)

    def task_lfclkstop(self):
        self.lf_run = False
        self.lf_running = False

    def task_cal(self):
        self._after_us(1000, lambda: self.fire(DONE))

    def task_ctstart(self):
        self._after_us(250_000 * max(1, self.regs[0x538]), lambda: self.fire(CTTO))

    def task_ctstop(self):
        pass

    def task_constlat(self):
        pass

    def task_lowpwr(self):
        pass

    # -- registers -----------------------------------------------------------------------------
    def read_resetreas(self):
        return self.resetreas

    def write_resetreas(self, value):
        self.resetreas &= ~value

    def read_hfclkrun(self):
        return int(self.hf_run)

    def read_hfclkstat(self):
        # the HFCLK always runs while the CPU does; SRC=1 once the crystal has started
        return (1 << 16) | int(self.hf_xtal)

    def read_lfclkrun(self):
        return int(self.lf_run)

    def read_lfclkstat(self):
        return ((1 << 16) | self.lf_src) if self.lf_running else 0

    def read_ramstatus(self):
        return 0x3

    def read_systemoff(self):
        return 0

    def write_systemoff(self, value):
        if value & 1:
            self.machine.halt("system-off")


MODEL = PowerClock
