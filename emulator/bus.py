"""The system bus: RAM/ROM/flash regions and MMIO peripherals mapped into the CPU.

Regions are backed by unicorn memory (JIT speed). Peripherals are unicorn MMIO regions whose
callbacks go straight to the model. Unmapped accesses follow the board's policy: ``fault``
(bus fault, as silicon does) or ``warn`` (peripheral-space holes read as zero, writes ignored,
one warning event per address).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, UcError

from . import events as ev

PAGE = 0x1000


def _round_up(x, a=PAGE):
    return (x + a - 1) & ~(a - 1)


@dataclass
class Region:
    name: str
    base: int
    size: int
    kind: str            # "ram" | "rom" | "flash"
    writable: bool
    buf: object = None   # ctypes buffer backing the region (shared by its mirrors)

    def contains(self, addr, size=1):
        return self.base <= addr and addr + size <= self.base + self.size


class Bus:
    def __init__(self, uc, events, unmapped: str = "fault"):
        self.uc = uc
        self.events = events
        self.unmapped = unmapped
        self.regions: list[Region] = []
        self.peripherals: list = []
        self._mmio_ranges: list[tuple[int, int, object]] = []
        self._warned: set[int] = set()
        self.fast_access: list = []      # (base, end, ctypes buffer, writable), mirrors included
        self.store_handlers: list = []   # (lo, hi, fn): CPU stores to read-only memory in [lo, hi)
        self._thunks: list = []

    # -- memory ---------------------------------------------------------------------------
    def add_memory(self, name, base, size, kind="ram", writable=None, fill=0x00, mirrors=()):
        if base % PAGE or size % PAGE:
            raise ValueError(f"memory region {name} must be 4 KiB aligned (base 0x{base:x}, size 0x{size:x})")
        writable = (kind == "ram") if writable is None else writable
        buf = (ctypes.c_ubyte * size)()
        if fill:
            ctypes.memset(buf, fill, size)
        perms = UC_PROT_ALL if writable else (UC_PROT_READ | UC_PROT_EXEC)
        region = Region(name, base, size, kind, writable, buf)
        for addr in (base, *mirrors):
            self.uc.mem_map_ptr(addr, size, perms, ctypes.addressof(buf))
            self.fast_access.append((addr, addr + size, buf, writable))
        self.regions.append(region)
        return region

    def region_at(self, addr, size=1) -> Region | None:
        for r in self.regions:
            if r.contains(addr, size):
                return r
        return None

    def load(self, addr: int, data: bytes, what="image") -> None:
        """Write image bytes into backing memory (ROM and flash included)."""
        r = self.region_at(addr, len(data))
        if r is None:
            raise LoadError(f"{what} data at 0x{addr:08x}..0x{addr + len(data):08x} is outside the board's memory")
        ctypes.memmove(ctypes.addressof(r.buf) + addr - r.base, data, len(data))

    def read(self, addr: int, size: int) -> bytes:
        """Debugger-style read: memory regions directly, peripherals through their models."""
        r = self.region_at(addr, size)
        if r is not None:
            return ctypes.string_at(ctypes.addressof(r.buf) + addr - r.base, size)
        return bytes(self.uc.mem_read(addr, size))

    def write(self, addr: int, data: bytes) -> None:
        """Debugger-style write (RAM, ROM and flash included). Goes through unicorn so that
        translated code covering the bytes is invalidated."""
        self.uc.mem_write(addr, bytes(data))

    def read32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little")

    def add_store_handler(self, lo: int, hi: int, fn) -> None:
        """Route CPU stores to read-only memory in [lo, hi) to ``fn(addr, size, value)``
        instead of a bus fault (flash written through a flash controller). ``fn`` returns
        True when it took the store (the instruction then completes), False to fault."""
        self.store_handlers.append((lo, hi, fn))

    def store_to_rom(self, addr: int, size: int, value: int) -> bool:
        for lo, hi, fn in self.store_handlers:
            if lo <= addr < hi:
                return bool(fn(addr, size, value))
        return False

    # -- peripherals ----------------------------------------------------------------------
    def add_peripheral(self, p) -> None:
        size = _round_up(p.size)
        for b, s, other in self._mmio_ranges:
            if p.base < b + s and b < p.base + size:
                raise ValueError(f"peripheral {p.name} at 0x{p.base:08x} overlaps {other.name} at 0x{b:08x}")
        if p.base % PAGE:
            raise ValueError(f"peripheral {p.name} base 0x{p.base:08x} is not 4 KiB aligned")
        fast = p.native_mmio()
        if fast is None:
            fast = self._direct_callbacks(p)
        _mmio_map_native(self.uc, p.base, size, *fast)
        self._mmio_ranges.append((p.base, size, p))
        self.peripherals.append(p)

    def _direct_callbacks(self, p):
        """ctypes thunks straight to the model's ``mmio_read``/``mmio_write`` (the binding's
        ``mmio_map`` adds two Python frames per access). An exception in a model is handed
        to the binding the way its own wrappers do: stored, emulation stopped, re-raised by
        ``emu_start``."""
        uc = self.uc
        read, write = p.mmio_read, p.mmio_write

        def on_read(_h, offset, size, _ud):
            try:
                return read(uc, offset, size, None)
            except BaseException as e:
                _hand_over(uc, e)
                return 0

        def on_write(_h, offset, size, value, _ud):
            try:
                write(uc, offset, size, value, None)
            except BaseException as e:
                _hand_over(uc, e)

        thunks = (_MMIO_READ(on_read), _MMIO_WRITE(on_write))
        self._thunks.append(thunks)                 # unicorn keeps raw pointers: keep them alive
        return (ctypes.cast(thunks[0], ctypes.c_void_p), ctypes.cast(thunks[1], ctypes.c_void_p), None)

    def finalize(self, holes: list[tuple[int, int]] = ()):
        """With the ``warn`` policy, map catch-all handlers over the given address windows
        wherever nothing else is mapped (peripheral space holes)."""
        if self.unmapped != "warn":
            return
        taken = sorted([(r.base, r.size) for r in self.regions] + [(b, s) for b, s, _ in self._mmio_ranges])
        for lo, hi in holes:
            cur = lo
            for b, s in taken:
                if b + s <= cur or b >= hi:
                    continue
                if b > cur:
                    self._map_hole(cur, b)
                cur = max(cur, b + s)
            if cur < hi:
                self._map_hole(cur, hi)

    def _map_hole(self, lo, hi):
        try:
            self.uc.mmio_map(lo, hi - lo, self._hole_read, lo, self._hole_write, lo)
        except UcError:
            pass

    def _hole_read(self, uc, offset, size, base):
        self._warn(base + offset, "read")
        return 0

    def _hole_write(self, uc, offset, size, value, base):
        self._warn(base + offset, f"write 0x{value:x}")

    def _warn(self, addr, what):
        if addr not in self._warned:
            self._warned.add(addr)
            self.events.emit(ev.WARNING, message=f"unmapped {what} at 0x{addr:08x} (read as zero / ignored)")


_MMIO_READ = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint, ctypes.c_void_p)
_MMIO_WRITE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint, ctypes.c_uint64, ctypes.c_void_p)


def _hand_over(uc, e):
    if getattr(uc, "_hook_exception", None) is None:
        uc._hook_exception = e
    uc.emu_stop()


def _mmio_map_native(uc, base, size, read_fn, write_fn, user):
    from unicorn.unicorn_py3.unicorn import uclib
    err = uclib.uc_mmio_map(uc._uch, ctypes.c_uint64(base), ctypes.c_size_t(size), read_fn,
                            ctypes.c_void_p(user), write_fn, ctypes.c_void_p(user))
    if err:
        raise UcError(err)


class LoadError(Exception):
    pass
