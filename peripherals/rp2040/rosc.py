"""ROSC (0x40060000): ring oscillator. RANDOMBIT gives a reproducible pseudo-random bit stream
(a 32-bit LFSR seeded per board), so runs stay deterministic."""
from __future__ import annotations

from ._base import RpPeripheral


class Rosc(RpPeripheral):
    REGS = {0x18: "status", 0x1c: "randombit", 0x20: "count"}
    PLAIN = {
        0x00: ("ctrl", 0xFFFFFF, 0xAA0),
        0x04: ("freqa", 0xFFFF7777, 0),
        0x08: ("freqb", 0xFFFF7777, 0),
        0x0c: ("dormant", 0xFFFFFFFF, 0),
        0x10: ("div", 0xFFF, 0),
        0x14: ("phase", 0xFFF, 0x8),
    }

    def __init__(self, machine, name, base, irqs=(), seed=0x2545F491, **config):
        self.seed = seed or 1
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        super().reset()
        self.lfsr = self.seed
        self.count = 0

    def read_status(self):
        return (1 << 31) | (1 << 12)            # STABLE, ENABLED

    def write_status(self, v):
        pass

    def read_randombit(self):
        x = self.lfsr                            # xorshift32
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.lfsr = x
        return x & 1

    def read_count(self):
        return 0

    def write_count(self, v):
        self.count = v & 0xFF


MODEL = Rosc
