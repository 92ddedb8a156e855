"""nRF51 NVMC: flash (and UICR) programming and erase.

Flash stays read-only memory on the bus (code runs from it at full speed); a CPU store to it
reaches ``_store`` through the bus store handler. With CONFIG.WEN the store programs the
word with NOR semantics (bits only go 1 -> 0: new = old & value); without it the store is
ignored (warning event). ERASEPAGE / ERASEPCR0 / ERASEPCR1 (CONFIG.EEN) set one page to 0xFF,
ERASEALL erases flash and UICR, ERASEUICR the UICR. READY reads 0 while an operation is in
progress (datasheet times by default, configurable).
"""
from __future__ import annotations

from boardemu.emulator import events as ev
from boardemu.emulator.peripheral import Peripheral

REN, WEN, EEN = 0, 1, 2


class Nvmc(Peripheral):
    REGS = {0x400: "ready", 0x504: "config", 0x508: "erasepage", 0x50C: "eraseall",
            0x510: "erasepcr0", 0x514: "eraseuicr"}

    def __init__(self, machine, name, base, irqs=(), flash="flash", uicr="uicr", page_size=1024,
                 write_us=46, erase_page_us=22_300, erase_all_us=22_300, **config):
        self.page_size = page_size
        self.write_cycles = machine.clock.us_to_cycles(write_us)
        self.erase_page_cycles = machine.clock.us_to_cycles(erase_page_us)
        self.erase_all_cycles = machine.clock.us_to_cycles(erase_all_us)
        super().__init__(machine, name, base, irqs=irqs, **config)
        bus = machine.bus
        self.flash = next((r for r in bus.regions if r.name == flash), None)
        self.uicr = next((r for r in bus.regions if r.name == uicr), None)
        for r in (self.flash, self.uicr):
            if r is not None:
                bus.add_store_handler(r.base, r.base + r.size, self._store)
        self.writes = 0
        self.erases = 0

    def reset(self):
        self.config = REN
        self.busy_until = 0

    # -- programming ----------------------------------------------------------------------------
    def _region(self, addr):
        for r in (self.flash, self.uicr):
            if r is not None and r.base <= addr < r.base + r.size:
                return r
        return None

    def _store(self, addr, size, value) -> bool:
        """A CPU store to flash/UICR (the bus calls this instead of faulting)."""
        if self.config & 3 != WEN:
            self._warn(f"flash write at 0x{addr:08x} while NVMC CONFIG.WEN is off: ignored")
            return True
        if size != 4 or addr & 3:
            self._warn(f"{size}-byte flash write at 0x{addr:08x}: the NVMC only writes aligned words")
        old = int.from_bytes(self.machine.bus.read(addr, size), "little")
        new = old & value & ((1 << (8 * size)) - 1)
        if new != old:
            self.machine.bus.write(addr, new.to_bytes(size, "little"))
        self.writes += 1
        self.busy_until = self.clock.now() + self.write_cycles
        return True

    def _erase(self, lo, hi):
        self.machine.bus.write(lo, b"\xff" * (hi - lo))
        self.erases += 1

    def _warn(self, msg):
        self.events.emit(ev.WARNING, message=f"{self.name}: {msg}")

    # -- registers --------------------------------------------------------------------------------
    def read_ready(self):
        return 1 if self.clock.now() >= self.busy_until else 0

    def read_config(self):
        return self.config

    def write_config(self, value):
        self.config = value & 3

    def _erase_page(self, addr):
        if self.config & 3 != EEN:
            self._warn(f"page erase at 0x{addr:08x} while CONFIG.EEN is off: ignored")
            return
        r = self._region(addr)
        if r is None:
            self._warn(f"page erase of 0x{addr:08x}: not flash")
            return
        if r is self.uicr:
            self._warn("ERASEPAGE cannot erase the UICR (use ERASEUICR)")
            return
        lo = addr & ~(self.page_size - 1)
        self._erase(lo, lo + self.page_size)
        self.busy_until = self.clock.now() + self.erase_page_cycles

    def read_erasepage(self):
        return 0

    def write_erasepage(self, value):
        self._erase_page(value)

    read_erasepcr0 = read_erasepage

    def write_erasepcr0(self, value):
        self._erase_page(value)

    def read_eraseall(self):
        return 0

    def write_eraseall(self, value):
        if value & 1 and self.config & 3 == EEN:
            for r in (self.flash, self.uicr):
                if r is not None:
                    self._erase(r.base, r.base + r.size)
            self.busy_until = self.clock.now() + self.erase_all_cycles

    def read_eraseuicr(self):
        return 0

    def write_eraseuicr(self, value):
        if value & 1 and self.config & 3 == EEN and self.uicr is not None:
            self._erase(self.uicr.base, self.uicr.base + self.uicr.size)
            self.busy_until = self.clock.now() + self.erase_page_cycles


MODEL = Nvmc
