"""IO_QSPI (0x40018000): the six QSPI pins. Only the chip-select pad's output override
matters here: forcing SS low/high selects/deselects the flash (pico-sdk flash_cs_force)."""
from __future__ import annotations

from ._base import RpPeripheral

SS_CTRL = 0x0C


class IoQspi(RpPeripheral):
    def __init__(self, machine, name, base, irqs=(), **config):
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(6):
            self._rtab[8 * i] = self._status_reader(i)
            self._wtab[8 * i] = _ignore
            self._rtab[8 * i + 4] = self._ctrl_reader(i)
            self._wtab[8 * i + 4] = self._ctrl_writer(i)
        for off in range(0x30, 0x60, 4):
            self._rtab[off] = self._other_reader(off)
            self._wtab[off] = self._other_writer(off)

    def reset(self):
        super().reset()
        self.ctrl = [0] * 6
        self.other = {}

    def _status_reader(self, i):
        return lambda: 0

    def _ctrl_reader(self, i):
        return lambda: self.ctrl[i]

    def _ctrl_writer(self, i):
        def write_ctrl(v):
            self.ctrl[i] = v & 0x3033331F
            if 8 * i + 4 == SS_CTRL:
                outover = (v >> 8) & 3
                ssi = self.machine.peripherals.get("xip_ssi")
                if ssi is not None:
                    ssi.force_cs(True if outover == 2 else False if outover == 3 else None)
        return write_ctrl

    def _other_reader(self, off):
        return lambda: self.other.get(off, 0)

    def _other_writer(self, off):
        def write_other(v):
            self.other[off] = v
        return write_other


def _ignore(_v):
    pass


MODEL = IoQspi
