"""VREG_AND_CHIP_RESET (0x40064000): regulator, brown-out, and CHIP_RESET: why the chip last
came out of a chip-level reset. HAD_POR after power-on (and after a reset from the Machine
API, which acts like a power cycle or the RUN pin: HAD_RUN for 'run-pin'); a watchdog reset
does not go through the chip-level reset and leaves it unchanged."""
from __future__ import annotations

from ._base import RpPeripheral

HAD_POR, HAD_RUN, HAD_PSM_RESTART = 1 << 8, 1 << 16, 1 << 20


class Vreg(RpPeripheral):
    REGS = {0x8: "chip_reset"}
    PLAIN = {
        0x0: ("vreg", 0xF3, 0xB1),
        0x4: ("bod", 0xF1, 0x91),
    }

    def __init__(self, machine, name, base, irqs=(), **config):
        self.chip_reset = HAD_POR
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        cause = self.machine.reset_cause
        if cause.startswith("watchdog"):
            keep = self.plain.get(0x0), self.plain.get(0x4)
            super().reset()
            self.plain[0x0], self.plain[0x4] = keep
            return
        super().reset()
        self.chip_reset = HAD_RUN if cause == "run-pin" else HAD_POR

    def read_chip_reset(self):
        return self.chip_reset

    def write_chip_reset(self, v):
        self.chip_reset = (self.chip_reset & ~(1 << 24)) | (v & (1 << 24))


MODEL = Vreg
