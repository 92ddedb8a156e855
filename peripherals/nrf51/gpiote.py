"""nRF51 GPIOTE: four channels (event or task mode) and the PORT event (GPIO DETECT).

CONFIG[n]: MODE (1 event, 3 task), PSEL, POLARITY (1 LoToHi, 2 HiToLo, 3 toggle), OUTINIT.
Event mode: edges of the pin set IN[n]. Task mode: GPIOTE owns the pin and drives it;
OUT[n] sets, clears or toggles it per POLARITY (from firmware or PPI).
"""
from __future__ import annotations

from ._base import NrfPeripheral

PORT = 1 << 31


class Gpiote(NrfPeripheral):
    TASKS = {0x000: "out0", 0x004: "out1", 0x008: "out2", 0x00C: "out3"}
    EVENTS = {0x100: "in0", 0x104: "in1", 0x108: "in2", 0x10C: "in3", 0x17C: "port"}
    REGS = {0x510: "config0", 0x514: "config1", 0x518: "config2", 0x51C: "config3"}

    def __init__(self, machine, name, base, irqs=(), port="P0", **config):
        self.port = port
        self._subscribed = set()
        self.config_regs = [0, 0, 0, 0]
        super().__init__(machine, name, base, irqs=irqs, **config)
        machine.nrf_gpiote = self

    def task_out0(self):
        self._task_out(0)

    def task_out1(self):
        self._task_out(1)

    def task_out2(self):
        self._task_out(2)

    def task_out3(self):
        self._task_out(3)

    def read_config0(self):
        return self.config_regs[0]

    def read_config1(self):
        return self.config_regs[1]

    def read_config2(self):
        return self.config_regs[2]

    def read_config3(self):
        return self.config_regs[3]

    def write_config0(self, value):
        self._write_config(0, value)

    def write_config1(self, value):
        self._write_config(1, value)

    def write_config2(self, value):
        self._write_config(2, value)

    def write_config3(self, value):
        self._write_config(3, value)

    def reset(self):
        super().reset()
        gpio = getattr(self.machine, "nrf_gpio", None)
        for n in range(4):
            if self.config_regs[n] & 3 == 3 and gpio is not None:
                gpio.take_pin((self.config_regs[n] >> 8) & 31, False)
        self.config_regs = [0, 0, 0, 0]
        self.task_level = [0, 0, 0, 0]

    def _pin(self, n):
        return self.machine.pins.chip_pin(f"{self.port}.{(self.config_regs[n] >> 8) & 31}")

    def _write_config(self, n, value):
        value &= 0x0013_1F03
        gpio = getattr(self.machine, "nrf_gpio", None)
        old = self.config_regs[n]
        if old & 3 == 3 and gpio is not None:
            gpio.take_pin((old >> 8) & 31, False)
        self.config_regs[n] = value
        mode = value & 3
        if mode == 1:
            pin = self._pin(n)
            if pin.id not in self._subscribed:
                self._subscribed.add(pin.id)
                pin.subscribe(self._on_pin)
        elif mode == 3:
            idx = (value >> 8) & 31
            if gpio is not None:
                gpio.take_pin(idx, True)
            self.task_level[n] = (value >> 20) & 1
            self._pin(n).chip_drive(True, self.task_level[n])

    def _on_pin(self, pin, level):
        for n in range(4):
            cfg = self.config_regs[n]
            if cfg & 3 != 1 or self._pin(n) is not pin:
                continue
            pol = (cfg >> 16) & 3
            if pol == 3 or (pol == 1 and level) or (pol == 2 and not level):
                self.fire(1 << n)

    def _task_out(self, n):
        cfg = self.config_regs[n]
        if cfg & 3 != 3:
            return
        pol = (cfg >> 16) & 3
        lvl = self.task_level[n]
        lvl = 1 if pol == 1 else 0 if pol == 2 else (lvl ^ 1 if pol == 3 else lvl)
        self.task_level[n] = lvl
        self._pin(n).chip_drive(True, lvl)

    def port_detect(self):
        self.fire(PORT)


MODEL = Gpiote
