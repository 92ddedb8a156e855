"""RESETS (0x4000c000): per-block reset control. RESET_DONE reads the complement of RESET.

Putting a block into reset (bit 0 -> 1) returns its model to the power-on state, so firmware
that re-initialises a block (the SDK does for every block at boot, MicroPython for UARTs and
USB) starts from known values. A model with a ``released()`` method is told when its block
leaves reset (bit 1 -> 0): the TIMER counts from 0 from then on. Bit order from the datasheet (2.14.3).
"""
from __future__ import annotations

from ._base import RpPeripheral

BLOCKS = ("adc", "busctrl", "dma", "i2c0", "i2c1", "io_bank0", "io_qspi", "jtag", "pads_bank0",
          "pads_qspi", "pio0", "pio1", "pll_sys", "pll_usb", "pwm", "rtc", "spi0", "spi1", "syscfg",
          "sysinfo", "tbman", "timer", "uart0", "uart1", "usbctrl")
ALL = (1 << len(BLOCKS)) - 1


class Resets(RpPeripheral):
    REGS = {0x0: "reset", 0x4: "wdsel", 0x8: "reset_done"}

    def reset(self):
        super().reset()
        self.state = ALL
        self.wdsel_v = 0

    def read_reset(self):
        return self.state

    def write_reset(self, v):
        v &= ALL
        entering = v & ~self.state
        leaving = self.state & ~v
        self.state = v
        for bits, method in ((entering, "reset"), (leaving, "released")):
            i = 0
            while bits:
                if bits & 1:
                    p = self.machine.peripherals.get(BLOCKS[i])
                    fn = getattr(p, method, None) if p is not self else None
                    if fn is not None:
                        fn()
                bits >>= 1
                i += 1

    def read_wdsel(self):
        return self.wdsel_v

    def write_wdsel(self, v):
        self.wdsel_v = v & ALL

    def read_reset_done(self):
        return ~self.state & ALL

    def held(self, block: str) -> bool:
        return bool(self.state >> BLOCKS.index(block) & 1)


MODEL = Resets
