"""SIO (0xd0000000): single-cycle IO of core 0 — CPUID, GPIO, inter-core FIFO, spinlocks,
hardware divider. No atomic aliases (SIO is not on the APB/AHB fabric).

GPIO: GPIO_OUT / GPIO_OE (with SET, CLR, XOR registers) drive the pins whose IO_BANK0
FUNCSEL is SIO (5); GPIO_IN reads every pin's level as the pad sees it, including pins the
chip drives itself. The divider computes at once (the SDK waits its 8 cycles anyway); writing
QUOTIENT/REMAINDER restores a saved state (the SDK saves it around interrupt handlers);
CSR: READY bit 0, DIRTY bit 1 (set by a write, cleared by reading QUOTIENT). Dividing by zero
gives the hardware's results: quotient -1 (unsigned 0xffffffff) or, signed, -1 for a
non-negative dividend and 1 for a negative one; remainder = dividend.

Only core 0 runs: the FIFO to core 1 accepts writes (RDY) and never has data (VLD 0).

Fast path: MicroPython touches CPUID and a spinlock on every allocation and the divider's five
registers on every division (~100 accesses per line of a typical loop). When the native
helper ``sio_fast.c`` can be built (see ``emulator/native.py``), the page is mapped with C
callbacks that answer those registers directly and pass everything else to this model; the
divider and spinlock state lives in one ``SioState`` struct shared by both sides.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

from boardemu.emulator import native
from boardemu.emulator.peripheral import Peripheral

M32 = 0xFFFFFFFF
_READ_CB = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32)
_WRITE_CB = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint64)


class SioState(ctypes.Structure):
    _fields_ = [("py_read", ctypes.c_void_p), ("py_write", ctypes.c_void_p),
                ("dividend", ctypes.c_uint32), ("divisor", ctypes.c_uint32), ("quot", ctypes.c_uint32),
                ("rem", ctypes.c_uint32), ("dirty", ctypes.c_uint32), ("locks", ctypes.c_uint32)]


def _state_field(name):
    return property(lambda self: getattr(self.st, name),
                    lambda self, v: setattr(self.st, name, int(v) & M32))


def _s32(v):
    v &= M32
    return v - (1 << 32) if v & 0x80000000 else v


class Sio(Peripheral):
    size = 0x1000
    REGS = {0x000: "cpuid", 0x004: "gpio_in", 0x008: "gpio_hi_in",
            0x010: "gpio_out", 0x014: "gpio_out_set", 0x018: "gpio_out_clr", 0x01c: "gpio_out_xor",
            0x020: "gpio_oe", 0x024: "gpio_oe_set", 0x028: "gpio_oe_clr", 0x02c: "gpio_oe_xor",
            0x030: "gpio_hi_out", 0x034: "gpio_hi_out_set", 0x038: "gpio_hi_out_clr",
            0x03c: "gpio_hi_out_xor", 0x040: "gpio_hi_oe", 0x044: "gpio_hi_oe_set",
            0x048: "gpio_hi_oe_clr", 0x04c: "gpio_hi_oe_xor",
            0x050: "fifo_st", 0x054: "fifo_wr", 0x058: "fifo_rd", 0x05c: "spinlock_st",
            0x060: "div_udividend", 0x064: "div_udivisor", 0x068: "div_sdividend",
            0x06c: "div_sdivisor", 0x070: "div_quotient", 0x074: "div_remainder", 0x078: "div_csr"}

    dividend = _state_field("dividend")
    divisor = _state_field("divisor")
    quot = _state_field("quot")
    rem = _state_field("rem")
    dirty = _state_field("dirty")
    locks = _state_field("locks")

    def __init__(self, machine, name, base, irqs=(), **config):
        self.gpio = None            # IO_BANK0 model, set when it is built
        self.st = SioState()
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(32):
            self._rtab[0x100 + 4 * i] = self._lock_reader(1 << i)
            self._wtab[0x100 + 4 * i] = self._lock_writer(1 << i)
        machine.rp_sio = self

    def reset(self):
        self.out = 0
        self.oe = 0
        self.hi_out = 0
        self.hi_oe = 0
        self.locks = 0
        self.fifo_err = 0
        if self.irqs:
            self.irqs[0].set(False)
        self.dividend = 0
        self.divisor = 0
        self.quot = 0
        self.rem = 0
        self.dirty = 0
        gpio = getattr(self.machine, "rp_io_bank0", None)
        if gpio is not None:
            gpio.sio_changed()

    def read_cpuid(self):
        return 0

    # -- GPIO -----------------------------------------------------------------------------------
    def read_gpio_in(self):
        gpio = self.machine.rp_io_bank0
        return gpio.levels if gpio is not None else 0

    def read_gpio_hi_in(self):
        return 0x3C if self.hi_oe == 0 else self.hi_out & 0x3F    # QSPI pins: CSn/SD idle high

    def _set_out(self, v):
        v &= 0x3FFFFFFF
        if v != self.out:
            self.out = v
            self.machine.rp_io_bank0.sio_changed()

    def _set_oe(self, v):
        v &= 0x3FFFFFFF
        if v != self.oe:
            self.oe = v
            self.machine.rp_io_bank0.sio_changed()

    def read_gpio_out(self):
        return self.out

    def write_gpio_out(self, v):
        self._set_out(v)

    def write_gpio_out_set(self, v):
        self._set_out(self.out | v)

    def write_gpio_out_clr(self, v):
        self._set_out(self.out & ~v)

    def write_gpio_out_xor(self, v):
        self._set_out(self.out ^ v)

    def read_gpio_oe(self):
        return self.oe

    def write_gpio_oe(self, v):
        self._set_oe(v)

    def write_gpio_oe_set(self, v):
        self._set_oe(self.oe | v)

    def write_gpio_oe_clr(self, v):
        self._set_oe(self.oe & ~v)

    def write_gpio_oe_xor(self, v):
        self._set_oe(self.oe ^ v)

    def read_gpio_hi_out(self):
        return self.hi_out

    def write_gpio_hi_out(self, v):
        self.hi_out = v & 0x3F

    def write_gpio_hi_out_set(self, v):
        self.hi_out |= v & 0x3F

    def write_gpio_hi_out_clr(self, v):
        self.hi_out &= ~v

    def write_gpio_hi_out_xor(self, v):
        self.hi_out ^= v & 0x3F

    def read_gpio_hi_oe(self):
        return self.hi_oe

    def write_gpio_hi_oe(self, v):
        self.hi_oe = v & 0x3F

    def write_gpio_hi_oe_set(self, v):
        self.hi_oe |= v & 0x3F

    def write_gpio_hi_oe_clr(self, v):
        self.hi_oe &= ~v

    def write_gpio_hi_oe_xor(self, v):
        self.hi_oe ^= v & 0x3F

    # -- FIFO (core 1 is not running) ----------------------------------------------------------
    def read_fifo_st(self):
        return 0x2 | self.fifo_err                     # RDY; VLD never

    def write_fifo_st(self, v):
        self.fifo_err &= ~(v & 0xC)                    # WOF/ROE are write-1-to-clear
        self._fifo_irq()

    def write_fifo_wr(self, v):
        pass

    def read_fifo_rd(self):
        self.fifo_err |= 0x8                           # ROE: read while empty
        self._fifo_irq()
        return 0

    def _fifo_irq(self):
        # SIO_IRQ_PROC0 is asserted while VLD, WOF or ROE is set (VLD never is: no core 1)
        if self.irqs:
            self.irqs[0].set(bool(self.fifo_err))

    # -- spinlocks -------------------------------------------------------------------------------
    def read_spinlock_st(self):
        return self.locks

    def _lock_reader(self, bit):
        def claim():
            if self.locks & bit:
                return 0
            self.locks |= bit
            return bit
        return claim

    def _lock_writer(self, bit):
        def release(_v):
            self.locks &= ~bit
        return release

    # -- divider -----------------------------------------------------------------------------------
    def _udiv(self):
        n, d = self.dividend & M32, self.divisor & M32
        if d == 0:
            self.quot, self.rem = M32, n
        else:
            self.quot, self.rem = n // d, n % d
        self.dirty = 1

    def _sdiv(self):
        n, d = _s32(self.dividend), _s32(self.divisor)
        if d == 0:
            q, r = (-1 if n >= 0 else 1), n
        else:
            q = abs(n) // abs(d)
            if (n < 0) != (d < 0):
                q = -q
            r = n - q * d
        self.quot, self.rem = q & M32, r & M32
        self.dirty = 1

    def write_div_udividend(self, v):
        self.dividend = v
        self._udiv()

    def write_div_udivisor(self, v):
        self.divisor = v
        self._udiv()

    def write_div_sdividend(self, v):
        self.dividend = v
        self._sdiv()

    def write_div_sdivisor(self, v):
        self.divisor = v
        self._sdiv()

    def read_div_udividend(self):
        return self.dividend & M32

    read_div_sdividend = read_div_udividend

    def read_div_udivisor(self):
        return self.divisor & M32

    read_div_sdivisor = read_div_udivisor

    def read_div_quotient(self):
        self.dirty = 0
        return self.quot

    def write_div_quotient(self, v):
        self.quot = v & M32
        self.dirty = 1

    def read_div_remainder(self):
        return self.rem

    def write_div_remainder(self, v):
        self.rem = v & M32
        self.dirty = 1

    def read_div_csr(self):
        return 1 | (2 if self.dirty else 0)


    # -- native fast path -------------------------------------------------------------------------
    def native_mmio(self):
        """(read fn, write fn, user pointer) for a C-mapped page, or None (pure Python)."""
        lib = native.load(Path(__file__).with_name("sio_fast.c"))
        if lib is None:
            return None
        self._py_read = _READ_CB(lambda off, size: self.mmio_read(None, off, size, None))
        self._py_write = _WRITE_CB(lambda off, size, value: self.mmio_write(None, off, size, value, None))
        self.st.py_read = ctypes.cast(self._py_read, ctypes.c_void_p)
        self.st.py_write = ctypes.cast(self._py_write, ctypes.c_void_p)
        return (ctypes.cast(lib.be_sio_read, ctypes.c_void_p), ctypes.cast(lib.be_sio_write, ctypes.c_void_p),
                ctypes.addressof(self.st))


MODEL = Sio
