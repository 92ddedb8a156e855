"""XOSC (0x40024000): the 12 MHz crystal oscillator; stable as soon as it is enabled."""
from __future__ import annotations

from ._base import RpPeripheral

ENABLE, DISABLE = 0xFAB, 0xD1E


class Xosc(RpPeripheral):
    REGS = {0x04: "status"}
    PLAIN = {
        0x00: ("ctrl", 0xFFFFFF, 0xAA0),
        0x08: ("dormant", 0xFFFFFFFF, 0),
        0x0c: ("startup", 0x10_3FFF, 0xC4),
        0x1c: ("count", 0xFF, 0),
    }

    def read_status(self):
        enabled = (self.plain[0x00] >> 12) & 0xFFF == ENABLE
        return ((1 << 31) | (1 << 12) if enabled else 0) | 0          # STABLE | ENABLED, FREQ_RANGE 1_15MHZ

    def write_status(self, v):
        pass                                   # BADWRITE is W1C; nothing to clear


MODEL = Xosc
