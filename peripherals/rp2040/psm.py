"""PSM (0x40010000): power-on state machine. FRCE_OFF of a block is reflected in DONE at once;
WDSEL chooses what a watchdog reset restarts (all of the modelled chip is restarted anyway)."""
from __future__ import annotations

from ._base import RpPeripheral

ALL = 0x1FFFF


class Psm(RpPeripheral):
    REGS = {0xC: "done"}
    PLAIN = {
        0x0: ("frce_on", ALL, 0),
        0x4: ("frce_off", ALL, 0),
        0x8: ("wdsel", ALL, 0),
    }

    def read_done(self):
        return ALL & ~self.plain[0x4]


MODEL = Psm
