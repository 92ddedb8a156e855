"""PADS_QSPI (0x40020000): pad controls of the QSPI pins (stored, no effect)."""
from __future__ import annotations

from ._base import RpPeripheral


class PadsQspi(RpPeripheral):
    PLAIN = {0x00: ("voltage_select", 1, 0), 0x04: ("sclk", 0xFF, 0x56), 0x08: ("sd0", 0xFF, 0x52),
             0x0c: ("sd1", 0xFF, 0x52), 0x10: ("sd2", 0xFF, 0x52), 0x14: ("sd3", 0xFF, 0x52),
             0x18: ("ss", 0xFF, 0x5A)}


MODEL = PadsQspi
