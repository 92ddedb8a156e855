"""NXP/Freescale MAG3110 3-axis magnetometer on I2C (micro:bit v1: address 0x0E, INT1 on
P0.29, active high).

Registers: DR_STATUS (0x00, ZYXDR), OUT_X/Y/Z (0x01-0x06, 16-bit big-endian two's complement,
0.1 uT per LSB), WHO_AM_I (0x07 = 0xC4), SYSMOD (0x08: 0 standby, 1 active raw, 2 active),
OFF_X/Y/Z (0x09-0x0E, user offsets subtracted unless CTRL_REG2.RAW), DIE_TEMP (0x0F),
CTRL_REG1 (0x10: AC, TM, FR, OS, DR), CTRL_REG2 (0x11: AUTO_MRST_EN, RAW, Mag_RST).
Auto-increment 0x00-0x06 (FR: MSBs only), then to 0x07.

Data ready: in active mode a new sample is ready one output-data period after the previous
one was read; INT1 is high while data is ready. TM triggers one measurement.

Readings: ``set_xyz(x, y, z)`` in nanotesla in the board's frame (``config.axes`` maps it to
the chip's axes, so the values are what the firmware reports; 100 nT per LSB);
``set_chip_xyz`` takes the chip's own axes.
"""
from __future__ import annotations

from ._i2c import ThreeAxisSensor

WHO_AM_I = 0xC4
DR_STATUS, OUT_Z_LSB, WHOAMI, SYSMOD, DIE_TEMP, CTRL_REG1, CTRL_REG2 = 0x00, 0x06, 0x07, 0x08, 0x0F, 0x10, 0x11


class MAG3110(ThreeAxisSensor):
    UNITS = "nanotesla"
    DEFAULT_ADDRESS = 0x0E

    def __init__(self, machine, spec):
        super().__init__(machine, spec)
        self.int1 = self.pin("int1")
        self.axes = self._parse_axes()
        self.reading = self.board_to_chip(self.config.get("xyz", (0, 0, 0)))
        self.celsius = float(self.config.get("celsius", 21))
        self._timer = None
        self.reset()

    def reset(self):
        self._stop_sampling()
        self.regs = bytearray(0x12)
        self.latched = [0, 0, 0]
        self.pointer = 0
        self._update_int()

    def _sample(self):
        raw = bool(self.regs[CTRL_REG2] & 0x20)
        out = []
        for i, v in enumerate(self.reading):
            c = round(v / 100)
            if not raw:
                off = (self.regs[0x09 + 2 * i] << 8 | self.regs[0x0A + 2 * i]) >> 1
                off = off - 0x8000 if off & 0x4000 else off
                c -= off
            out.append(max(-30000, min(30000, c)))
        self.latched = out

    @property
    def active(self):
        return bool(self.regs[CTRL_REG1] & 1)

    def _period_cycles(self):
        dr = self.regs[CTRL_REG1] >> 5
        os_ = (self.regs[CTRL_REG1] >> 3) & 3
        return int(self.clock.hz * (2 ** (dr + os_)) / 80)

    def _measuring(self):
        return self.active or bool(self.regs[CTRL_REG1] & 2)   # or TM: one measurement triggered

    def _take_sample(self):
        self.regs[CTRL_REG1] &= ~2                       # TM: one measurement done
        self._sample()

    def _update_int(self):
        if self.int1 is not None:
            self.int1.drive(1 if self.drdy else 0)

    def next_register(self, reg, write):
        if not write and reg <= OUT_Z_LSB:
            if self.regs[CTRL_REG1] & 4:                     # FR: MSBs only
                return {0: 1, 1: 3, 3: 5, 5: 7}.get(reg, reg + 1)
            return reg + 1
        return (reg + 1) if reg < CTRL_REG2 else 0

    def read_register(self, reg):
        if reg == DR_STATUS:
            return 0x0F if self.drdy else 0
        if 0x01 <= reg <= OUT_Z_LSB:
            c = self.latched[(reg - 1) >> 1] & 0xFFFF
            v = (c >> 8) if reg & 1 else (c & 0xFF)
            last = 0x05 if self.regs[CTRL_REG1] & 4 else OUT_Z_LSB
            if reg == last:
                self._data_read()
            return v
        if reg == WHOAMI:
            return WHO_AM_I
        if reg == SYSMOD:
            if not self.active:
                return 0
            return 1 if self.regs[CTRL_REG2] & 0x20 else 2
        if reg == DIE_TEMP:
            return round(self.celsius) & 0xFF
        if reg < len(self.regs):
            return self.regs[reg]
        return 0

    def write_register(self, reg, value):
        if reg in (DR_STATUS, WHOAMI, SYSMOD, DIE_TEMP) or 0x01 <= reg <= OUT_Z_LSB or reg >= len(self.regs):
            return
        if reg == CTRL_REG2:
            if value & 0x10:                                 # Mag_RST: one-shot sensor reset
                value &= ~0x10
            self.regs[reg] = value & 0xB0
            return
        self.regs[reg] = value & 0xFF
        if reg == CTRL_REG1:
            if not self._measuring():
                self._stop_sampling()
                self._update_int()
            self._schedule()


MODEL = MAG3110
