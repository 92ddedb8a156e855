"""System Control Space (0xE000E000): NVIC, SCB and SysTick registers of the Cortex-M core.

The state lives in the core (:mod:`cortexm`); this model is its register view.
"""
from __future__ import annotations

from .cortexm import BUSFAULT, DEBUGMON, MEMMANAGE, NMI, PENDSV, SVCALL, SYSTICK, USAGEFAULT
from .peripheral import Peripheral

SCS_BASE = 0xE000E000


class SystemControlSpace(Peripheral):
    size = 0x1000
    REGS = {
        0x004: "ictr", 0x010: "syst_csr", 0x014: "syst_rvr", 0x018: "syst_cvr", 0x01C: "syst_calib",
        0xD00: "cpuid", 0xD04: "icsr", 0xD08: "vtor", 0xD0C: "aircr", 0xD10: "scr", 0xD14: "ccr",
        0xD18: "shpr1", 0xD1C: "shpr2", 0xD20: "shpr3", 0xD24: "shcsr", 0xD28: "cfsr", 0xD2C: "hfsr",
        0xD34: "mmfar", 0xD38: "bfar", 0xD88: "cpacr", 0xD90: "mpu_type", 0xF00: "stir",
    }

    def __init__(self, machine, name="scs", base=SCS_BASE, systick_ref_hz=None, **config):
        self.cpu = machine.cpu
        self.systick_ref_hz = systick_ref_hz
        super().__init__(machine, name, base, **config)

    def reset(self):
        self.ccr = 0x208 if self.cpu.v6m else 0x200
        self.cpacr = 0
        self.st_csr = 0
        self.st_rvr = 0
        self.st_cur = 0           # value while disabled
        self.st_zero_at = 0       # cycle at which the counter next reaches zero (enabled)
        self.st_timer = None
        self.st_countflag = 0

    # -- NVIC ----------------------------------------------------------------------------
    def read(self, off):
        cpu = self.cpu
        if 0x100 <= off < 0x140:                       # ISER
            return (cpu.enabled >> (16 + 32 * ((off - 0x100) // 4))) & 0xFFFFFFFF
        if 0x180 <= off < 0x1C0:                       # ICER
            return (cpu.enabled >> (16 + 32 * ((off - 0x180) // 4))) & 0xFFFFFFFF
        if 0x200 <= off < 0x240:
            return (cpu.pending >> (16 + 32 * ((off - 0x200) // 4))) & 0xFFFFFFFF
        if 0x280 <= off < 0x2C0:
            return (cpu.pending >> (16 + 32 * ((off - 0x280) // 4))) & 0xFFFFFFFF
        if 0x300 <= off < 0x340:
            return (cpu.active >> (16 + 32 * ((off - 0x300) // 4))) & 0xFFFFFFFF
        if 0x400 <= off < 0x5F0:
            first = 16 + off - 0x400
            return sum((cpu.prio[first + i] & 0xFF) << (8 * i) for i in range(4) if first + i < cpu.nexc)
        return self.unhandled("read", off)

    def write(self, off, value):
        cpu = self.cpu
        if 0x100 <= off < 0x140:
            bits = self._irq_bits(off - 0x100, value)
            cpu.enabled |= bits
            if cpu.pending & bits:
                cpu.request_stop()
        elif 0x180 <= off < 0x1C0:
            cpu.enabled &= ~self._irq_bits(off - 0x180, value)
        elif 0x200 <= off < 0x240:
            cpu.set_pending_bits(self._irq_bits(off - 0x200, value))
        elif 0x280 <= off < 0x2C0:
            cpu.clear_pending_bits(self._irq_bits(off - 0x280, value))
        elif 0x300 <= off < 0x340:
            pass                                        # IABR is read-only
        elif 0x400 <= off < 0x5F0:
            for i in range(4):
                self._set_prio(16 + off - 0x400 + i, (value >> (8 * i)) & 0xFF)
        else:
            self.unhandled("write", off, value)

    def _irq_bits(self, rel, value):
        return (value & 0xFFFFFFFF) << (16 + 32 * (rel // 4)) & ((1 << self.cpu.nexc) - 1)

    def _set_prio(self, exc, byte):
        cpu = self.cpu
        if 4 <= exc < cpu.nexc:
            cpu.prio[exc] = byte & cpu.prio_mask
            if cpu.pending:
                cpu.request_stop()

    def sub_word_write(self, off, size, value):
        # IPR and SHPR are byte-accessible: write just the bytes addressed
        if 0x400 <= off < 0x5F0 or 0xD18 <= off < 0xD24:
            base_exc = 16 + off - 0x400 if off < 0x5F0 else 4 + off - 0xD18
            for i in range(size):
                self._set_prio(base_exc + i, (value >> (8 * i)) & 0xFF)
        else:
            super().sub_word_write(off, size, value)

    def read_ictr(self):
        return max(0, (self.cpu.num_irqs + 31) // 32 - 1)

    # -- SCB -----------------------------------------------------------------------------
    def read_cpuid(self):
        return self.cpu.cpuid

    def read_icsr(self):
        cpu = self.cpu
        v = cpu.ipsr()
        best = cpu.best_pending()
        if best is not None:
            v |= (best[0] & 0x1FF) << 12
        if cpu.pending >> 16:
            v |= 1 << 22
        if cpu.pending & (1 << PENDSV):
            v |= 1 << 28
        if cpu.pending & (1 << SYSTICK):
            v |= 1 << 26
        if cpu.pending & (1 << NMI):
            v |= 1 << 31
        act = cpu.active & ~(1 << cpu.ipsr())
        if not act:
            v |= 1 << 11                                # RETTOBASE
        return v

    def write_icsr(self, value):
        cpu = self.cpu
        if value & (1 << 31):
            cpu.set_pending_bits(1 << NMI)
        if value & (1 << 28):
            cpu.set_pending_bits(1 << PENDSV)
        elif value & (1 << 27):
            cpu.clear_pending_bits(1 << PENDSV)
        if value & (1 << 26):
            cpu.set_pending_bits(1 << SYSTICK)
        elif value & (1 << 25):
            cpu.clear_pending_bits(1 << SYSTICK)

    def read_vtor(self):
        return self.cpu.vtor

    def write_vtor(self, value):
        self.cpu.vtor = value & 0xFFFFFF80

    def read_aircr(self):
        return 0xFA050000 | (self.cpu.prigroup << 8)

    def write_aircr(self, value):
        if (value >> 16) != 0x05FA:
            return
        cpu = self.cpu
        if not cpu.v6m:
            cpu.prigroup = (value >> 8) & 7
        if value & 4:
            self.machine.request_reset("sysresetreq")
        if value & 2 and not cpu.v6m:                   # VECTCLRACTIVE (debug use)
            cpu.active = 0

    def read_scr(self):
        return self.cpu.scr

    def write_scr(self, value):
        self.cpu.scr = value & 0x16

    def read_ccr(self):
        return self.ccr

    def write_ccr(self, value):
        if not self.cpu.v6m:
            self.ccr = (value & 0x31B) | 0x200

    def _shpr_read(self, first):
        cpu = self.cpu
        return sum((max(cpu.prio[first + i], 0) & 0xFF) << (8 * i) for i in range(4))

    def _shpr_write(self, first, value):
        for i in range(4):
            exc = first + i
            if exc in (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMON, PENDSV, SYSTICK):
                if self.cpu.v6m and exc not in (SVCALL, PENDSV, SYSTICK):
                    continue
                self._set_prio(exc, (value >> (8 * i)) & 0xFF)

    def read_shpr1(self):
        return 0 if self.cpu.v6m else self._shpr_read(4)

    def write_shpr1(self, value):
        self._shpr_write(4, value)

    def read_shpr2(self):
        return self._shpr_read(8)

    def write_shpr2(self, value):
        self._shpr_write(8, value)

    def read_shpr3(self):
        return self._shpr_read(12)

    def write_shpr3(self, value):
        self._shpr_write(12, value)

    def read_shcsr(self):
        cpu = self.cpu
        v = cpu.shcsr
        for bit, exc in ((0, MEMMANAGE), (1, BUSFAULT), (3, USAGEFAULT), (7, SVCALL), (10, PENDSV), (11, SYSTICK)):
            if cpu.active & (1 << exc):
                v |= 1 << bit
        if cpu.pending & (1 << SVCALL):
            v |= 1 << 15
        return v

    def write_shcsr(self, value):
        cpu = self.cpu
        if cpu.v6m:
            return
        cpu.shcsr = value & (7 << 16)
        for bit, exc in ((16, MEMMANAGE), (17, BUSFAULT), (18, USAGEFAULT)):
            if value & (1 << bit):
                cpu.enabled |= 1 << exc
            else:
                cpu.enabled &= ~(1 << exc)

    def read_cfsr(self):
        return self.cpu.cfsr

    def write_cfsr(self, value):
        self.cpu.cfsr &= ~value

    def read_hfsr(self):
        return self.cpu.hfsr

    def write_hfsr(self, value):
        self.cpu.hfsr &= ~value

    def read_mmfar(self):
        return self.cpu.mmfar

    def read_bfar(self):
        return self.cpu.bfar

    def read_cpacr(self):
        return self.cpacr

    def write_cpacr(self, value):
        if self.cpu.model == "cortex-m4":
            self.cpacr = value & (0xF << 20)

    def read_mpu_type(self):
        return 0

    def write_stir(self, value):
        irq = value & 0x1FF
        if irq < self.cpu.num_irqs:
            self.cpu.set_pending_bits(1 << (16 + irq))

    # -- SysTick -------------------------------------------------------------------------
    def _st_div(self):
        if self.st_csr & 4 or not self.systick_ref_hz:
            return 1
        return max(1, self.clock.hz // self.systick_ref_hz)

    def _st_value(self):
        if not self.st_csr & 1 or self.st_timer is None:
            return self.st_cur
        div = self._st_div()
        remaining = -(-(self.st_zero_at - self.clock.now()) // div)
        return max(0, min(remaining, self.st_rvr))

    def _st_arm(self, first_ticks):
        if self.st_timer is not None:
            self.st_timer.cancel()
            self.st_timer = None
        if self.st_csr & 1 and first_ticks > 0:
            self.st_zero_at = self.clock.now() + first_ticks * self._st_div()
            self.st_timer = self.clock.at(self.st_zero_at, self._st_zero)

    def _st_zero(self):
        self.st_timer = None
        self.st_countflag = 1
        if self.st_csr & 2:
            self.cpu.set_pending_bits(1 << SYSTICK)
        if self.st_rvr:
            self.st_zero_at += (self.st_rvr + 1) * self._st_div()
            self.st_timer = self.clock.at(self.st_zero_at, self._st_zero)
        else:
            self.st_cur = 0          # RVR == 0: the counter stops at zero

    def read_syst_csr(self):
        v = (self.st_csr & 7) | (self.st_countflag << 16)
        self.st_countflag = 0
        return v

    def write_syst_csr(self, value):
        was = self.st_csr & 1
        cur = self._st_value()
        self.st_csr = value & 7
        if not self.systick_ref_hz:
            self.st_csr |= 4
        if value & 1 and not was:
            self._st_arm(cur if cur else self.st_rvr + 1)
        elif not value & 1 and was:
            self.st_cur = cur
            self._st_arm(0)

    def read_syst_rvr(self):
        return self.st_rvr

    def write_syst_rvr(self, value):
        self.st_rvr = value & 0xFFFFFF

    def read_syst_cvr(self):
        return self._st_value()

    def write_syst_cvr(self, value):
        self.st_cur = 0
        self.st_countflag = 0
        if self.st_csr & 1:
            self._st_arm(self.st_rvr + 1)

    def read_syst_calib(self):
        if not self.systick_ref_hz:
            return 0x80000000                            # NOREF
        return (self.systick_ref_hz // 100) & 0xFFFFFF  # 10 ms in reference ticks
