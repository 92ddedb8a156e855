"""SYSINFO (0x40000000) and TBMAN (0x4006c000): what silicon this is.

CHIP_ID reports revision 2 (B2): the pico-sdk's USB enumeration workaround only runs on
revision 1, and it needs to drive the USB PHY by hand. PLATFORM says ASIC (not FPGA).
"""
from __future__ import annotations

from ._base import RpPeripheral


class SysInfo(RpPeripheral):
    PLAIN = {
        0x00: ("chip_id", 0, 0x20002927),       # REVISION 2, PART 0x0002, MANUFACTURER 0x493
        0x04: ("platform", 0, 0x00000002),      # ASIC
        0x40: ("gitref_rp2040", 0, 0x00000000),
    }

    def __init__(self, machine, name, base, irqs=(), revision=2, **config):
        self.revision = revision
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        super().reset()
        self.plain[0x00] = (self.revision << 28) | 0x0002927


class TbMan(RpPeripheral):
    PLAIN = {0x00: ("platform", 0, 0x00000001)}          # ASIC=1, FPGA=0


MODEL = SysInfo
