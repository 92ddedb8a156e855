"""CLOCKS (0x40008000): clock generators, their glitchless muxes and the frequency counter.

Each generator has CTRL / DIV / SELECTED at 0xC * n: gpout0-3, ref (0x30), sys (0x3c), peri,
usb, adc, rtc. clk_ref and clk_sys have glitchless muxes: SELECTED is one-hot of CTRL.SRC
(the SDK polls it after switching); the others read 1. The core clock of the emulation is the
board's ``clock_hz`` whatever the firmware programs (the SDK tracks frequencies in software);
the frequency counter FC0 reports the frequency the firmware configured: XOSC 12 MHz when
enabled, ROSC its nominal 6.5 MHz, the PLLs from REFDIV/FBDIV/POSTDIV while powered, and each
generator from its source select and divider. FC0_SRC codes (datasheet): 1 pll_sys, 2 pll_usb,
3/4 rosc, 5 xosc, 6/7 gpin, 8 clk_ref, 9 clk_sys, 0xa clk_peri, 0xb clk_usb, 0xc clk_adc,
0xd clk_rtc. FC0_STATUS: DONE, and PASS or FAIL (with SLOW/FAST) against FC0_MIN/MAX_KHZ.
"""
from __future__ import annotations

from ._base import RpPeripheral

N_CLOCKS = 10
REF, SYS, PERI, USB, ADC, RTC = 4, 5, 6, 7, 8, 9
XOSC_HZ, ROSC_HZ = 12_000_000, 6_500_000
ENABLE = 1 << 11


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
    def __init__(self, machine, name, base, irqs=(), **config):
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(N_CLOCKS):
            self._rtab[0xC * i + 8] = self._selected_reader(i)

    def reset(self):
        super().reset()
        self.fc_src = 0
        self.fc_result = 0
        self.fc_status = 0

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
        hz = self._source_hz(self.fc_src) if self.fc_src else 0
        self.fc_result = hz * 32 // 1000                  # KHZ 29:5, FRAC 4:0
        khz = hz // 1000
        lo, hi = self.plain[0x84], self.plain[0x88]
        if not self.fc_src:
            self.fc_status = 0
        elif lo <= khz <= hi:
            self.fc_status = 1 << 4 | 1                    # DONE, PASS
        else:
            self.fc_status = 1 << 4 | 1 << 16 | (1 << 20 if khz < lo else 1 << 24)   # FAIL, SLOW/FAST

    def read_fc0_src(self):
        return self.fc_src

    def read_fc0_status(self):
        return self.fc_status

    # -- configured frequencies (Hz) -----------------------------------------------------------
    def _xosc_hz(self):
        x = self.machine.peripherals.get("xosc")
        return XOSC_HZ if x is None or x.read_status() & (1 << 12) else 0

    def _pll_hz(self, name):
        p = self.machine.peripherals.get(name)
        if p is None:
            return 0
        pwr, fb, prim = p.plain[0x04], p.plain[0x08], p.plain[0x0c]
        ref = self._xosc_hz() // max(1, p.cs & 0x3F)
        if p.cs & (1 << 8):                               # BYPASS: the reference itself
            return ref
        if pwr & 0x29 or fb < 16:                         # PD, VCOPD or POSTDIVPD
            return 0
        pd1, pd2 = (prim >> 16) & 7, (prim >> 12) & 7
        return ref * fb // max(1, pd1 * pd2)

    def _divided(self, i, hz):
        div = self.plain[0xC * i + 4]
        return hz * 256 // div if div else 0

    def _gen_hz(self, i):
        ctrl = self.plain[0xC * i]
        aux = (ctrl >> 5) & 7
        if i == REF:
            src = ctrl & 3
            hz = (ROSC_HZ if src == 0 else XOSC_HZ if src == 2 and self._xosc_hz()
                  else self._pll_hz("pll_usb") if src == 1 and aux == 0 else 0)
            return self._divided(i, hz)
        if i == SYS:
            if not ctrl & 1:
                hz = self._gen_hz(REF)
            else:
                hz = {0: self._pll_hz("pll_sys"), 1: self._pll_hz("pll_usb"), 2: ROSC_HZ,
                      3: self._xosc_hz()}.get(aux, 0)
            return self._divided(i, hz)
        if not ctrl & ENABLE:
            return 0
        if i == PERI:
            return {0: self._gen_hz(SYS), 1: self._pll_hz("pll_sys"), 2: self._pll_hz("pll_usb"),
                    3: ROSC_HZ, 4: self._xosc_hz()}.get(aux, 0)
        hz = {0: self._pll_hz("pll_usb"), 1: self._pll_hz("pll_sys"), 2: ROSC_HZ,
              3: self._xosc_hz()}.get(aux, 0)              # usb, adc, rtc
        return self._divided(i, hz)

    def _source_hz(self, src):
        return {1: lambda: self._pll_hz("pll_sys"), 2: lambda: self._pll_hz("pll_usb"),
                3: lambda: ROSC_HZ, 4: lambda: ROSC_HZ, 5: self._xosc_hz,
                8: lambda: self._gen_hz(REF), 9: lambda: self._gen_hz(SYS),
                10: lambda: self._gen_hz(PERI), 11: lambda: self._gen_hz(USB),
                12: lambda: self._gen_hz(ADC), 13: lambda: self._gen_hz(RTC)}.get(src, lambda: 0)()

    def read_fc0_result(self):
        return self.fc_result


MODEL = Clocks
