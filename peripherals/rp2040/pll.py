"""PLL_SYS (0x40028000) / PLL_USB (0x4002c000): locked whenever powered (PWR.PD and VCOPD clear)."""
from __future__ import annotations

from ._base import RpPeripheral


class Pll(RpPeripheral):
    REGS = {0x00: "cs"}
    PLAIN = {
        0x04: ("pwr", 0x2D, 0x2D),
        0x08: ("fbdiv_int", 0xFFF, 0),
        0x0c: ("prim", 0x77000, 0x77000),
    }

    def reset(self):
        super().reset()
        self.cs = 1

    def read_cs(self):
        pwr = self.plain[0x04]
        locked = not (pwr & 0x21) and self.plain[0x08] >= 16
        return self.cs | (1 << 31 if locked else 0)

    def write_cs(self, v):
        self.cs = v & 0x13F


MODEL = Pll
