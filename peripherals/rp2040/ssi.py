"""XIP_SSI (0x18000000): the Synopsys DW_apb_ssi that talks to the QSPI flash.

Execute-in-place reads do not go through this model (the flash is mapped memory); what firmware
sends in serial mode does: each frame written to DR0 is clocked through the flash chip model
and its answer is pushed into the RX FIFO (16 deep). Chip select follows IO_QSPI's SS output
override when the firmware forces it (the pico-sdk's flash_do_cmd); otherwise (boot2) a new
transaction starts with the first frame written after the RX FIFO was emptied by reads, or after
the SSI was disabled. SR always shows the transmitter idle (TFE, TFNF, not BUSY).
"""
from __future__ import annotations

from collections import deque

from . import rom
from ._base import RpPeripheral
from .flashchip import FlashChip


class Ssi(RpPeripheral):
    REGS = {0x08: "ssienr", 0x20: "txflr", 0x24: "rxflr", 0x28: "sr", 0x60: "dr0",
            0x30: "isr", 0x34: "risr", 0x58: "idr", 0x5c: "ssi_version_id"}
    PLAIN = {
        0x00: ("ctrlr0", 0x01FFFFFF, 0),
        0x04: ("ctrlr1", 0xFFFF, 0),
        0x0c: ("mwcr", 7, 0),
        0x10: ("ser", 1, 0),
        0x14: ("baudr", 0xFFFF, 0),
        0x18: ("txftlr", 0xFF, 0),
        0x1c: ("rxftlr", 0xFF, 0),
        0x2c: ("imr", 0x3F, 0x3F),
        0x38: ("txoicr", 0, 0), 0x3c: ("rxoicr", 0, 0), 0x40: ("rxuicr", 0, 0),
        0x44: ("msticr", 0, 0), 0x48: ("icr", 0, 0),
        0x4c: ("dmacr", 3, 0), 0x50: ("dmatdlr", 0xFF, 0), 0x54: ("dmardlr", 0xFF, 0),
        0xf0: ("rx_sample_dly", 0xFF, 0),
        0xf4: ("spi_ctrlr0", 0xFFFFFFFF, 0x03000000),
        0xf8: ("txd_drive_edge", 0xFF, 0),
    }
    ALIASES = False          # XIP_SSI has no atomic aliases

    def __init__(self, machine, name, base, irqs=(), **config):
        self.chip = FlashChip(machine)
        machine.rp_flash_chip = self.chip
        rom.install(machine)                 # the boot ROM's flash functions act on this flash
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(1, 36):
            self._rtab.setdefault(0x60 + 4 * i, self.read_dr0)
            self._wtab.setdefault(0x60 + 4 * i, self.write_dr0)

    def reset(self):
        super().reset()
        self.enabled = 0
        self.rx = deque()
        self.forced = False     # chip select forced by IO_QSPI
        self.fresh = True       # next frame starts a transaction (auto chip select)

    def read_ssienr(self):
        return self.enabled

    def write_ssienr(self, v):
        self.enabled = v & 1
        if not self.enabled:
            self.rx.clear()
            self.fresh = True
            if not self.forced:
                self.chip.select(False)

    def force_cs(self, low: bool | None):
        """IO_QSPI SS override: True = forced low (selected), False = forced high, None = SSI."""
        if low is None:
            self.forced = False
            self.chip.select(False)
            self.fresh = True
            return
        self.forced = True
        self.chip.select(low)

    def write_dr0(self, v):
        if not self.enabled:
            return
        if not self.forced and self.fresh:
            self.chip.select(False)
            self.chip.select(True)
            self.fresh = False
        frames = ((self.plain[0x00] >> 16) & 0x1F) + 1
        out = 0
        nbytes = max(1, frames // 8)
        for k in range(nbytes):
            byte = (v >> (8 * (nbytes - 1 - k))) & 0xFF
            out = (out << 8) | (self.chip.transfer(byte) if self.chip.selected else 0xFF)
        if len(self.rx) < 16:
            self.rx.append(out)

    def read_dr0(self):
        if not self.rx:
            return 0
        v = self.rx.popleft()
        if not self.rx:
            self.fresh = True
        return v

    def read_txflr(self):
        return 0

    def read_rxflr(self):
        return len(self.rx)

    def read_sr(self):
        return 0x6 | (0x8 if self.rx else 0) | (0x10 if len(self.rx) >= 16 else 0)

    def read_isr(self):
        return 0

    def read_risr(self):
        return 0x1                                    # TX FIFO empty

    def read_idr(self):
        return 0x51535049

    def read_ssi_version_id(self):
        return 0x3430312A


MODEL = Ssi
