"""Base class for register-level peripheral models.

A model declares its registers as ``REGS = {offset: "name"}`` and implements
``read_<name>()`` / ``write_<name>(value)``; anything else goes to ``read(offset)`` /
``write(offset, value)``, which subclasses may override. Byte and half-word accesses are
folded into word accesses by default (reads shift the word, writes are replicated across the
word as on AHB/APB buses); override ``sub_word_write`` where a block behaves differently.

Models get time from ``self.clock`` (cycles), raise interrupts through ``self.irq(n)`` lines,
and report to front-ends with ``self.emit(kind, **data)``. They never talk to front-ends.
"""
from __future__ import annotations

from . import events as ev


class Peripheral:
    size = 0x1000
    REGS: dict[int, str] = {}

    def __init__(self, machine, name: str, base: int, irqs=(), **config):
        self.machine = machine
        self.name = name
        self.base = base
        self.clock = machine.clock
        self.events = machine.events
        self.config = config
        self.irqs = [machine.cpu.irq_line(n) for n in irqs]
        self._warned: set = set()
        rtab, wtab = {}, {}
        for off, reg in self.REGS.items():
            r = getattr(self, "read_" + reg, None)
            w = getattr(self, "write_" + reg, None)
            if r is not None:
                rtab[off] = r
            if w is not None:
                wtab[off] = w
        self._rtab, self._wtab = rtab, wtab
        self.reset()

    # -- to be overridden ---------------------------------------------------------------
    def reset(self):
        """Return to the power-on state (called on every chip reset)."""

    def read(self, offset: int) -> int:
        """Word read of a register not in REGS."""
        return self.unhandled("read", offset)

    def write(self, offset: int, value: int) -> None:
        """Word write of a register not in REGS."""
        self.unhandled("write", offset, value)

    # -- helpers ------------------------------------------------------------------------
    def irq(self, i: int = 0):
        return self.irqs[i]

    def emit(self, kind, **data):
        self.events.emit(kind, **data)

    def unhandled(self, what, offset, value=None) -> int:
        key = (what, offset)
        if key not in self._warned:
            self._warned.add(key)
            msg = f"{self.name}: unimplemented register {what} at +0x{offset:03x} (0x{self.base + offset:08x})"
            if value is not None:
                msg += f" value 0x{value:08x}"
            self.events.emit(ev.WARNING, message=msg)
        return 0

    def reg_read(self, offset: int) -> int:
        fn = self._rtab.get(offset)
        return fn() if fn is not None else self.read(offset)

    def reg_write(self, offset: int, value: int) -> None:
        fn = self._wtab.get(offset)
        if fn is not None:
            fn(value)
        else:
            self.write(offset, value)

    def sub_word_write(self, offset: int, size: int, value: int) -> None:
        if size == 1:
            value = (value & 0xFF) * 0x01010101
        else:
            value = (value & 0xFFFF) * 0x00010001
        self.reg_write(offset & ~3, value)

    def native_mmio(self):
        """A model with a native (C) fast path returns ``(read_fn, write_fn, user_ptr)``
        (C function pointers with unicorn's MMIO callback signatures); None maps the model's
        Python ``mmio_read``/``mmio_write``."""
        return None

    def cancel_timer(self, attr: str = "_timer"):
        """Cancel the clock event held in attribute ``attr`` (if one is scheduled) and clear it."""
        t = getattr(self, attr, None)
        if t is not None:
            t.cancel()
        setattr(self, attr, None)

    # -- bus entry points (unicorn mmio callbacks; keep them short: they are hot) --------
    def mmio_read(self, uc, offset, size, _ud):
        if size == 4:
            fn = self._rtab.get(offset)
            return fn() if fn is not None else self.read(offset)
        aligned = offset & ~3
        fn = self._rtab.get(aligned)
        v = fn() if fn is not None else self.read(aligned)
        return (v >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def mmio_write(self, uc, offset, size, value, _ud):
        if size == 4:
            fn = self._wtab.get(offset)
            if fn is not None:
                fn(value)
            else:
                self.write(offset, value)
        else:
            self.sub_word_write(offset, size, value)
