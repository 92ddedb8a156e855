"""XIP_CTRL (0x14000000): cache control. The cache is not modelled (flash reads are direct):
FLUSH completes at once, STAT reads FLUSH_READY | FIFO_EMPTY, counters read zero."""
from __future__ import annotations

from ._base import RpPeripheral


class XipCtrl(RpPeripheral):
    REGS = {0x04: "flush", 0x08: "stat", 0x0c: "ctr_hit", 0x10: "ctr_acc", 0x1c: "stream_fifo"}
    PLAIN = {0x00: ("ctrl", 0xF, 0x3), 0x14: ("stream_addr", 0xFFFFFFFC, 0), 0x18: ("stream_ctr", 0x3FFFFF, 0)}

    def read_flush(self):
        return 0

    def write_flush(self, v):
        pass

    def read_stat(self):
        return 0x3

    def read_ctr_hit(self):
        return 0

    def write_ctr_hit(self, v):
        pass

    read_ctr_acc = read_ctr_hit
    write_ctr_acc = write_ctr_hit

    def read_stream_fifo(self):
        return 0


MODEL = XipCtrl
