"""nRF51 PPI: 16 programmable channels (EEP -> TEP), CHEN/CHENSET/CHENCLR, channel groups.

Peripheral events look up ``routes`` (event register address -> task addresses) when they
fire; a task address is delivered to the peripheral mapped there (``trigger_task``).
Pre-programmed channels 20-31 are not modelled (they serve the RADIO).
"""
from __future__ import annotations

from boardemu.emulator.peripheral import Peripheral

NCH = 16


class Ppi(Peripheral):
    REGS = {0x500: "chen", 0x504: "chenset", 0x508: "chenclr"}

    def __init__(self, machine, name, base, irqs=(), **config):
        self.routes = {}
        super().__init__(machine, name, base, irqs=irqs, **config)
        machine.nrf_ppi = self

    def reset(self):
        self.chen = 0
        self.eep = [0] * NCH
        self.tep = [0] * NCH
        self.chg = [0] * 4
        self.routes = {}

    def _rebuild(self):
        routes = {}
        for i in range(NCH):
            if self.chen >> i & 1 and self.eep[i] and self.tep[i]:
                routes.setdefault(self.eep[i], []).append(self.tep[i])
        self.routes = routes
        # timers decide per channel whether a match must be scheduled exactly
        for p in self.machine.bus.peripherals:
            replan = getattr(p, "_plan", None)
            if replan is not None and getattr(p, "next_match", None) is not None:
                replan()

    def event(self, addr):
        for task in self.routes.get(addr, ()):
            self._trigger(task)

    def _trigger(self, addr):
        for p in self.machine.bus.peripherals:
            if p.base <= addr < p.base + p.size:
                fn = getattr(p, "trigger_task", None)
                if fn is not None:
                    fn(addr - p.base)
                return

    def read_chen(self):
        return self.chen

    read_chenset = read_chenclr = read_chen

    def write_chen(self, value):
        self.chen = value & 0xFFFF
        self._rebuild()

    def write_chenset(self, value):
        self.write_chen(self.chen | value)

    def write_chenclr(self, value):
        self.write_chen(self.chen & ~value)

    def read(self, off):
        if 0x510 <= off < 0x510 + 8 * NCH:
            i, which = divmod(off - 0x510, 8)
            return self.eep[i] if which == 0 else self.tep[i]
        if 0x800 <= off < 0x810:
            return self.chg[(off - 0x800) >> 2]
        if off < 0x20:
            return 0
        return self.unhandled("read", off)

    def write(self, off, value):
        if 0x510 <= off < 0x510 + 8 * NCH:
            i, which = divmod(off - 0x510, 8)
            if which == 0:
                self.eep[i] = value
            else:
                self.tep[i] = value
            self._rebuild()
        elif 0x800 <= off < 0x810:
            self.chg[(off - 0x800) >> 2] = value & 0xFFFF
        elif off < 0x20 and value & 1:
            # TASKS_CHG[n].EN (0x000 + 8n) / DIS (0x004 + 8n)
            n, dis = divmod(off, 8)
            mask = self.chg[n]
            self.write_chen(self.chen & ~mask if dis else self.chen | mask)
        else:
            self.unhandled("write", off, value)


MODEL = Ppi
