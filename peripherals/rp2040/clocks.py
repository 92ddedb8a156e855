"""CLOCKS (0x40008000): clock generators, their glitchless muxes and the frequency counter.

Each generator has CTRL / DIV / SELECTED at 0xC * n: gpout0-3, ref (0x30), sys (0x3c), peri,
usb, adc, rtc. clk_ref and clk_sys have glitchless muxes: SELECTED is one-hot of CTRL.SRC
(the SDK polls it after switching); the others read 1. The core clock of the emulation is the
board's ``clock_hz`` whatever the firmware programs (the SDK tracks frequencies in software);
the frequency counter FC0 reports the frequency the firmware configured where it can be known.
"""
from __future__ import annotations

from ._base import RpPeripheral

N_CLOCKS = 10
REF, SYS = 4, 5


class Clocks(RpPeripheral):
    REGS = {0x80: "fc0_ref_khz", 0x94: "fc0_src", 0x98: "fc0_status", 0x9c: "fc0_result",
            0x7c: "sys_resus_status"}
    PLAIN = {}
    for _i in range(N_CLOCKS):
        PLAIN[0xC * _i] = (f"ctrl{_i}", 0x13F1FFF, 0)
        PLAIN[0xC * _i + 4] = (f"div{_i}", 0xFFFFFFFF, 0x100)
    PLAIN.update({
        0x78: ("sys_resus_ctrl", 0x1FFF, 0xFF),
        0x84: ("fc0_min_khz", 0x1FFFFFF, 0),
        0x88: ("fc0_max_khz", 0x1FFFFFF, 0x1FFFFFF),
        0x8c: ("fc0_delay", 7, 1),
        0x90: ("fc0_interval", 0xF, 8),
        0xa0: ("wake_en0", 0xFFFFFFFF, 0xFFFFFFFF),
        0xa4: ("wake_en1", 0x7FFF, 0x7FFF),
        0xa8: ("sleep_en0", 0xFFFFFFFF, 0xFFFFFFFF),
        0xac: ("sleep_en1", 0x7FFF, 0x7FFF),
        0xb0: ("enabled0", 0, 0xFFFFFFFF),
        0xb4: ("enabled1", 0, 0x7FFF),
        0xb8: ("intr", 0, 0),
        0xbc: ("inte", 1, 0),
        0xc0: ("intf", 1, 0),
        0xc4: ("ints", 0, 0),
    })
    del _i
    # FC0_SRC values -> nominal kHz (the board's crystal is 12 MHz)
    FC_KHZ = {0x01: 0, 0x02: 0, 0x03: 6500, 0x04: 6500, 0x05: 12000, 0x06: 0, 0x07: 0,
              0x08: None, 0x09: 12000, 0x0a: None, 0x0b: None, 0x0c: 48000, 0x0d: 48000, 0x0e: 46}

    def __init__(self, machine, name, base, irqs=(), **config):
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(N_CLOCKS):
            self._rtab[0xC * i + 8] = self._selected_reader(i)

    def reset(self):
        super().reset()
        self.fc_src = 0
        self.fc_result = 0

    def _selected_reader(self, i):
        def read_selected():
            if i in (REF, SYS):
                src = self.plain[0xC * i] & (3 if i == REF else 1)
                return 1 << src
            return 1
        return read_selected

    def read_sys_resus_status(self):
        return 0

    def read_fc0_ref_khz(self):
        return self.plain.get(0x80, 0)

    def write_fc0_ref_khz(self, v):
        self.plain[0x80] = v & 0xFFFFF

    def write_fc0_src(self, v):
        self.fc_src = v & 0xFF
        khz = self.FC_KHZ.get(self.fc_src)
        if khz is None:          # clk_sys / clk_peri / clk_usb...: the emulated core clock
            khz = self.machine.clock.hz // 1000 if self.fc_src in (0x08, 0x0b) else 48000
        self.fc_result = khz << 5

    def read_fc0_src(self):
        return self.fc_src

    def read_fc0_status(self):
        return 1 << 4 if self.fc_src else 0             # DONE

    def read_fc0_result(self):
        return self.fc_result


MODEL = Clocks
