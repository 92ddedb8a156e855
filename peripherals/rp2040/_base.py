"""Common RP2040 register block: the bus's atomic aliases and plain register storage.

Every APB/AHB-Lite block occupies 16 KiB: the registers at +0x0000, and aliases that apply a
write atomically: +0x1000 XOR, +0x2000 SET (bitwise OR), +0x3000 CLR (AND NOT) (datasheet
2.1.2). Reads at an alias read the register. Byte and half-word stores are replicated across
the word by the bus (the peripheral sees a 32-bit write), as on the real chip.

Write-1-to-clear registers (``W1C``) take the raw bus value at every alias (TinyUSB clears
BUFF_STATUS and SIE_STATUS bits through the CLR alias): the register sees the bits written,
not a read-modify-write result.

Registers that are plain storage go in ``PLAIN = {offset: (name, mask, reset)}``; they read
back what was written (masked) and need no code.
"""
from __future__ import annotations

from boardemu.emulator.peripheral import Peripheral

XOR, SET, CLR = 1, 2, 3


class RpPeripheral(Peripheral):
    size = 0x4000
    PLAIN: dict[int, tuple] = {}
    W1C: frozenset = frozenset()
    ALIASES = True

    def __init__(self, machine, name, base, irqs=(), **config):
        super().__init__(machine, name, base, irqs=irqs, **config)
        for off, (_n, mask, _r) in self.PLAIN.items():
            self._rtab.setdefault(off, self._plain_reader(off))
            self._wtab.setdefault(off, self._plain_writer(off, mask))

    def _plain_reader(self, off):
        regs = self.plain

        def read_plain():
            return regs[off]
        return read_plain

    def _plain_writer(self, off, mask):
        regs = self.plain

        def write_plain(value):
            regs[off] = value & mask
        return write_plain

    def reset(self):
        if not hasattr(self, "plain"):
            self.plain = {}
        self.plain.clear()
        self.plain.update({off: spec[2] for off, spec in self.PLAIN.items()})

    def mmio_read(self, uc, offset, size, _ud):
        off = offset & 0xFFF
        fn = self._rtab.get(off & ~3)
        v = fn() if fn is not None else self.read(off & ~3)
        if size == 4:
            return v
        return (v >> ((off & 3) * 8)) & ((1 << (size * 8)) - 1)

    def mmio_write(self, uc, offset, size, value, _ud):
        if size == 1:
            value = (value & 0xFF) * 0x01010101
        elif size == 2:
            value = (value & 0xFFFF) * 0x00010001
        off = offset & 0xFFC
        alias = (offset >> 12) & 3
        if alias and self.ALIASES:
            if off in self.W1C:
                pass                       # raw value: a write of 1 clears, whatever the alias
            else:
                fn = self._rtab.get(off)
                cur = fn() if fn is not None else self.read(off)
                if alias == XOR:
                    value ^= cur
                elif alias == SET:
                    value |= cur
                else:
                    value = cur & ~value
        fn = self._wtab.get(off)
        if fn is not None:
            fn(value)
        else:
            self.write(off, value)


class IrqMixin:
    """INTR/INTE/INTF/INTS interrupt block with one IRQ line: line = (raw | force) & enable."""

    def irq_reset(self):
        self.intr = 0
        self.inte = 0
        self.intf = 0
        self._line = False

    def raw_intr(self) -> int:
        return self.intr

    def update_irq(self):
        level = bool((self.raw_intr() | self.intf) & self.inte)
        if level != self._line:
            self._line = level
            if self.irqs:
                self.irqs[0].set(level)

    def ints(self) -> int:
        return (self.raw_intr() | self.intf) & self.inte
