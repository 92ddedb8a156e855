"""The Pico's QSPI NOR flash (a W25Q16JV-class part) behind the SSI, as a byte-level SPI model.

The XIP window (0x10000000) reads the same memory directly; this model answers the commands
firmware sends through the SSI in serial mode: status registers (boot2 checks QE), JEDEC ID,
unique ID (0x4B: the pico-sdk reads it at boot), read (0x03/0x0B), write enable, page program
(AND, as NOR flash), 4K/32K/64K/chip erase. A transaction starts when chip select is asserted.
"""
from __future__ import annotations

import ctypes

JEDEC_ID = bytes([0xEF, 0x40, 0x15])       # Winbond, SPI NOR, 16 Mbit


def flash_region(machine):
    for r in machine.bus.regions:
        if r.name == "flash":
            return r
    raise RuntimeError("board has no 'flash' memory region")


def flash_erase(machine, offset: int, count: int) -> bool:
    """Erase [offset, offset+count) of the board flash to 0xFF. False if out of range."""
    r = flash_region(machine)
    if offset < 0 or count < 0 or offset + count > r.size:
        return False
    ctypes.memset(ctypes.addressof(r.buf) + offset, 0xFF, count)
    _invalidate(machine, r, offset, count)
    return True


def flash_program(machine, offset: int, data: bytes) -> bool:
    """NOR-program ``data`` at ``offset``: each byte ANDed into the flash. False if out of range."""
    r = flash_region(machine)
    n = len(data)
    if offset < 0 or offset + n > r.size:
        return False
    cur = ctypes.string_at(ctypes.addressof(r.buf) + offset, n)
    new = (int.from_bytes(cur, "little") & int.from_bytes(data, "little")).to_bytes(n, "little")
    ctypes.memmove(ctypes.addressof(r.buf) + offset, new, n)
    _invalidate(machine, r, offset, n)
    return True


def _invalidate(machine, region, offset, count):
    """Drop translated code over the changed bytes (every alias of the flash)."""
    uc = machine.cpu.uc
    for base, end, buf, _w in machine.bus.fast_access:
        if buf is region.buf:
            try:
                uc.ctl_remove_cache(base + offset, base + offset + max(count, 1))
            except Exception:
                pass


class FlashChip:
    def __init__(self, machine, unique_id: bytes = b"\xe6\x60\x58\x38\x83\x4b\x2a\x2f"):
        self.machine = machine
        self.unique_id = bytes(unique_id)
        self.wel = False
        self.selected = False
        self._start()

    def _start(self):
        self.cmd = None
        self.n = 0                 # bytes after the command byte
        self.addr = 0

    def select(self, on: bool):
        if on and not self.selected:
            self._start()
        if not on and self.selected:
            self._finish()
        self.selected = on

    def _finish(self):
        self._start()

    def transfer(self, byte: int) -> int:
        """One byte in (MOSI), one byte out (MISO)."""
        if self.cmd is None:
            self.cmd = byte
            self.n = 0
            if byte == 0x06:
                self.wel = True
            elif byte == 0x04:
                self.wel = False
            elif byte in (0xC7, 0x60) and self.wel:
                r = flash_region(self.machine)
                flash_erase(self.machine, 0, r.size)
                self.wel = False
            return 0xFF
        c = self.cmd
        i = self.n
        self.n += 1
        if c == 0x05:
            return 0x02 if self.wel else 0x00      # SR1: WEL, never BUSY
        if c == 0x35:
            return 0x02                            # SR2: QE
        if c == 0x15:
            return 0x00
        if c == 0x9F:
            return JEDEC_ID[i] if i < 3 else 0xFF
        if c == 0x4B:
            return self.unique_id[i - 4] if 4 <= i < 12 else 0xFF
        if c in (0x03, 0x0B, 0x02, 0x20, 0x52, 0xD8):
            if i < 3:
                self.addr = (self.addr << 8) | byte
                if i == 2:
                    self._addressed(c)
                return 0xFF
            if c == 0x0B and i == 3:
                return 0xFF
            if c in (0x03, 0x0B):
                r = flash_region(self.machine)
                a = self.addr % r.size
                self.addr += 1
                return r.buf[a]
            if c == 0x02 and self.wel:
                page = self.addr & ~0xFF
                a = page | ((self.addr + (i - 3)) & 0xFF)
                flash_program(self.machine, a, bytes([byte]))
            return 0xFF
        return 0xFF

    def _addressed(self, c):
        size = {0x20: 4096, 0x52: 32768, 0xD8: 65536}.get(c)
        if size and self.wel:
            r = flash_region(self.machine)
            a = (self.addr % r.size) & ~(size - 1)
            flash_erase(self.machine, a, size)
            self.wel = False
