"""PADS_BANK0 (0x4001c000): pad controls of GPIO0-29 (+ SWCLK, SWD): output disable (OD),
input enable (IE), drive, pull-up (PUE) / pull-down (PDE), Schmitt, slew. Pulls go to the
board pins (both set = bus keeper: the pin keeps its level)."""
from __future__ import annotations

from ._base import RpPeripheral

NPINS = 30
PAD_RESET = 0x56                # IE, 4 mA, pull-down, Schmitt


class PadsBank0(RpPeripheral):
    PLAIN = {0x00: ("voltage_select", 1, 0), 0x7c: ("swclk", 0xFF, 0xDA), 0x80: ("swd", 0xFF, 0x5A)}

    def __init__(self, machine, name, base, irqs=(), **config):
        self.regs = [PAD_RESET] * NPINS
        self.pins = [machine.pins.chip_pin(f"GPIO{i}") for i in range(NPINS)]
        machine.rp_pads_bank0 = self
        super().__init__(machine, name, base, irqs=irqs, **config)
        for i in range(NPINS):
            self._rtab[4 + 4 * i] = self._reader(i)
            self._wtab[4 + 4 * i] = self._writer(i)

    def reset(self):
        super().reset()
        self.regs = [PAD_RESET] * NPINS
        self.ie_mask = (1 << NPINS) - 1
        for i in range(NPINS):
            self._apply(i)

    def _reader(self, i):
        return lambda: self.regs[i]

    def _writer(self, i):
        def write_pad(v):
            self.regs[i] = v & 0xFF
            self._apply(i)
            bank = getattr(self.machine, "rp_io_bank0", None)
            if bank is not None:
                bank.pads_changed(i)
        return write_pad

    def _apply(self, i):
        v = self.regs[i]
        if v & 0x40:
            self.ie_mask |= 1 << i
        else:
            self.ie_mask &= ~(1 << i)
        pu, pd = v & 0x8, v & 0x4
        pin = self.pins[i]
        pull = 1 if pu and not pd else 0 if pd and not pu else (pin.level if pu and pd else None)
        if pin.pull != pull:
            pin.set_pull(pull)


MODEL = PadsBank0
