"""nRF51 TEMP: START -> DATARDY after the conversion time; TEMP in 0.25 degC steps.

The die temperature is a board setting (``config.celsius``) and can be changed at run time
with ``set_celsius()``.
"""
from __future__ import annotations

from ._base import NrfPeripheral

DATARDY = 1


class Temp(NrfPeripheral):
    TASKS = {0x000: "start", 0x004: "stop"}
    EVENTS = {0x100: "datardy"}
    REGS = {0x508: "temp"}

    def __init__(self, machine, name, base, irqs=(), celsius=21.0, conversion_us=36, **config):
        self.celsius = float(celsius)
        self.conv_cycles = machine.clock.us_to_cycles(conversion_us)
        self._timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)

    def set_celsius(self, value):
        self.celsius = float(value)

    def reset(self):
        self.cancel_timer()
        super().reset()
        self.temp = 0

    def task_start(self):
        if self._timer is None:
            self._timer = self.clock.after(self.conv_cycles, self._done)

    def task_stop(self):
        self.cancel_timer()

    def _done(self):
        self._timer = None
        self.temp = round(self.celsius * 4) & 0xFFFFFFFF
        self.fire(DATARDY)

    def read_temp(self):
        return self.temp

    def write_temp(self, value):
        pass


MODEL = Temp
