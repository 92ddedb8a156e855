"""NXP/Freescale MMA8653FC 3-axis 10-bit accelerometer on I2C (micro:bit v1: address 0x1D,
INT1 on P0.28).

Registers: STATUS (0x00, ZYXDR), OUT_X/Y/Z_MSB/LSB (0x01-0x06, 10-bit left-justified, two's
complement), SYSMOD (0x0B), INT_SOURCE (0x0C, SRC_DRDY), WHO_AM_I (0x0D = 0x5A),
XYZ_DATA_CFG (0x0E, FS: +-2/4/8 g), CTRL_REG1-5 (0x2A-0x2E: ACTIVE, F_READ, DR; RST;
PP_OD/IPOL; INT_EN_DRDY; INT_CFG_DRDY), OFF_X/Y/Z (0x2F-0x31). Other registers read back
what was written. Auto-increment walks 0x00-0x06 (F_READ: MSBs only) and wraps to 0x00.

Data ready: while ACTIVE, a new sample is ready one output-data period after the previous
one was read (one scheduled event, none while data sits unread). With INT_EN_DRDY routed to
INT1 (CTRL_REG5), INT1 is active (low, push-pull by default) while ZYXDR is set; reading the
data clears it.

Readings: ``set_xyz(x, y, z)`` in milli-g as the micro:bit counts them (1 g = 1024, i.e.
4 per LSB at +-2 g), in the board's frame (``config.axes`` maps it to the chip's axes, so the
values are what the firmware reports); ``set_chip_xyz`` takes the chip's own axes. Values are
clipped to the selected range and quantised to the chip's resolution.
"""
from __future__ import annotations

from ._i2c import ThreeAxisSensor

WHO_AM_I = 0x5A
ODR_HZ = [800, 400, 200, 100, 50, 12.5, 6.25, 1.5625]
STATUS, OUT_X_MSB, OUT_Z_LSB, SYSMOD, INT_SOURCE, WHOAMI, XYZ_DATA_CFG = 0x00, 0x01, 0x06, 0x0B, 0x0C, 0x0D, 0x0E
CTRL_REG1, CTRL_REG2, CTRL_REG3, CTRL_REG4, CTRL_REG5 = 0x2A, 0x2B, 0x2C, 0x2D, 0x2E


class MMA8653(ThreeAxisSensor):
    UNITS = "milli-g (1 g = 1024)"
    DEFAULT_ADDRESS = 0x1D

    def __init__(self, machine, spec):
        super().__init__(machine, spec)
        self.int1 = self.pin("int1")
        self.axes = self._parse_axes()
        self.reading = self.board_to_chip(self.config.get("xyz", (0, 0, -1024)))
        self._timer = None
        self.reset()

    def reset(self):
        self._stop_sampling()
        self.regs = bytearray(0x40)
        self.regs[WHOAMI] = WHO_AM_I
        self.pointer = 0
        self._update_int()

    # -- readings (set_xyz, set_chip_xyz, xyz: ThreeAxisSensor) ------------------------------
    def counts(self):
        """The 10-bit samples (X, Y, Z) for the current range."""
        fs = self.regs[XYZ_DATA_CFG] & 3
        per_lsb = 4 << fs                      # milli-g (1024/g) per LSB
        out = []
        for i, v in enumerate(self.reading):
            off = self.regs[0x2F + i]
            off = off - 256 if off & 0x80 else off
            c = round((v + off * 2) / per_lsb)           # OFF_n: about 2 milli-g per LSB
            out.append(max(-512, min(511, c)))
        return out

    # -- timing and INT1 ------------------------------------------------------------------------
    @property
    def active(self):
        return bool(self.regs[CTRL_REG1] & 1)

    def _period_cycles(self):
        return int(self.clock.hz / ODR_HZ[(self.regs[CTRL_REG1] >> 3) & 7])

    def _update_int(self):
        if self.int1 is None:
            return
        asserted = bool(self.drdy and self.regs[CTRL_REG4] & 1 and self.regs[CTRL_REG5] & 1)
        ipol = bool(self.regs[CTRL_REG3] & 0x02)          # 1 = active high
        level = ipol if asserted else not ipol
        self.int1.drive(1 if level else 0)

    # -- registers -------------------------------------------------------------------------------
    def next_register(self, reg, write):
        if not write and reg <= OUT_Z_LSB:
            if self.regs[CTRL_REG1] & 2:                   # F_READ: MSBs only
                return {0: 1, 1: 3, 3: 5, 5: 0}.get(reg, reg + 1)
            return 0 if reg == OUT_Z_LSB else reg + 1
        return (reg + 1) & 0x3F

    def read_register(self, reg):
        reg &= 0x3F
        if reg == STATUS:
            return 0x0F if self.drdy else 0x00
        if OUT_X_MSB <= reg <= OUT_Z_LSB:
            c = self.counts()[(reg - 1) >> 1] & 0x3FF
            v = (c >> 2) if reg & 1 else ((c & 3) << 6)
            last = 0x05 if self.regs[CTRL_REG1] & 2 else OUT_Z_LSB
            if reg == last:
                self._data_read()
            return v
        if reg == SYSMOD:
            return 1 if self.active else 0
        if reg == INT_SOURCE:
            return 1 if self.drdy else 0
        return self.regs[reg]

    def write_register(self, reg, value):
        reg &= 0x3F
        if reg in (STATUS, SYSMOD, INT_SOURCE, WHOAMI) or OUT_X_MSB <= reg <= OUT_Z_LSB:
            return                                          # read-only
        if reg == CTRL_REG2 and value & 0x40:              # RST: software reset
            self.reset()
            return
        self.regs[reg] = value & 0xFF
        if reg == CTRL_REG1:
            if not self.active:
                self._stop_sampling()
            self._schedule()
        self._update_int()


MODEL = MMA8653
