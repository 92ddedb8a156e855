"""CMSDK APB timer (ARM DDI 0479): 32-bit down-counter at PCLK with reload and interrupt.

The counter is computed from virtual time on read; reaching zero is a scheduled event.
"""
from boardemu.emulator.peripheral import Peripheral

CTRL_EN, CTRL_SELEXTEN, CTRL_SELEXTCLK, CTRL_IRQEN = 1, 2, 4, 8
ID_REGS = {0xFD0: 0x04, 0xFE0: 0x22, 0xFE4: 0xB8, 0xFE8: 0x1B, 0xFEC: 0x00,
           0xFF0: 0x0D, 0xFF4: 0xF0, 0xFF8: 0x05, 0xFFC: 0xB1}


class CmsdkTimer(Peripheral):
    REGS = {0x00: "ctrl", 0x04: "value", 0x08: "reload", 0x0C: "intstatus"}

    def reset(self):
        self.ctrl = 0
        self.reload = 0
        self.value = 0            # while stopped
        self.zero_at = 0
        self.intstatus = 0
        self.cancel_timer()
        if self.irqs:
            self.irqs[0].set(False)

    def _running(self):
        return self.ctrl & CTRL_EN and not self.ctrl & CTRL_SELEXTCLK

    def _current(self):
        if not self._running() or self._timer is None:
            return self.value
        return max(0, self.zero_at - self.clock.now())

    def _arm(self, value):
        self.cancel_timer()
        self.value = value
        if self._running():
            # counts value, value-1, ..., 0: zero is reached after `value` cycles
            self.zero_at = self.clock.now() + value
            self._timer = self.clock.at(self.zero_at, self._zero)

    def _zero(self):
        self._timer = None
        if self.ctrl & CTRL_IRQEN:
            self.intstatus = 1
            if self.irqs:
                self.irqs[0].set(True)
        # reload on the next clock edge: period is reload + 1 cycles
        period = self.reload + 1
        self.zero_at += period
        self.value = self.reload
        self._timer = self.clock.at(self.zero_at, self._zero)

    def read_ctrl(self):
        return self.ctrl

    def write_ctrl(self, value):
        cur = self._current()
        self.ctrl = value & 0xF
        self._arm(cur)

    def read_value(self):
        return self._current()

    def write_value(self, value):
        self._arm(value & 0xFFFFFFFF)

    def read_reload(self):
        return self.reload

    def write_reload(self, value):
        self.reload = value & 0xFFFFFFFF
        self._arm(self.reload)          # writing RELOAD also loads the counter

    def read_intstatus(self):
        return self.intstatus

    def write_intstatus(self, value):   # INTCLEAR
        if value & 1:
            self.intstatus = 0
            if self.irqs:
                self.irqs[0].set(False)

    def read(self, off):
        if off in ID_REGS:
            return ID_REGS[off]
        return self.unhandled("read", off)


MODEL = CmsdkTimer
