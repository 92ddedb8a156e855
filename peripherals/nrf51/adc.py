"""nRF51 ADC (8/9/10-bit SAR): START -> END after the conversion time, RESULT, BUSY.

CONFIG: RES, INPSEL (analog input with no / 2/3 / 1/3 prescaling, or VDD with 2/3 or 1/3),
REFSEL (VBG 1.2 V, external, VDD/2, VDD/3), PSEL (one AIN bit). The voltage on an analog
input is what ``set_voltage(ain, volts)`` set, else the digital level of its pin x VDD.
"""
from __future__ import annotations

from ._base import NrfPeripheral

END = 1
AIN_PINS = {0: 26, 1: 27, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}     # nRF51822 QFAA
INPUT_SCALE = {0: 1.0, 1: 2 / 3, 2: 1 / 3, 5: 2 / 3, 6: 1 / 3}


class Adc(NrfPeripheral):
    TASKS = {0x000: "start", 0x004: "stop"}
    EVENTS = {0x100: "end"}
    PLAIN = {0x500: ("enable", 3, 0), 0x504: ("config", 0x0003FF7F, 0x18)}
    REGS = {0x400: "busy", 0x508: "result"}
    CONV_US = {0: 20, 1: 36, 2: 68}

    def __init__(self, machine, name, base, irqs=(), vdd=3.3, ext_ref=1.2, port="P0", **config):
        self.vdd = float(vdd)
        self.ext_ref = float(ext_ref)
        self.port = port
        self.voltages = {}
        self._timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)

    def set_voltage(self, ain: int, volts):
        """Voltage on analog input AIN<ain> (None: follow the pin's digital level)."""
        if volts is None:
            self.voltages.pop(ain, None)
        else:
            self.voltages[ain] = float(volts)

    def reset(self):
        self.cancel_timer()
        super().reset()
        self.result = 0

    def _input_volts(self, cfg):
        inpsel = (cfg >> 2) & 7
        if inpsel in (5, 6):
            return self.vdd
        psel = (cfg >> 8) & 0xFF
        if not psel:
            return 0.0
        ain = (psel & -psel).bit_length() - 1
        if ain in self.voltages:
            return self.voltages[ain]
        pin = self.machine.pins.chip_pin(f"{self.port}.{AIN_PINS[ain]}")
        return self.vdd if pin.level else 0.0

    def _convert(self):
        cfg = self.regs[0x504]
        res = cfg & 3
        bits = {0: 8, 1: 9, 2: 10}.get(res, 10)
        vin = self._input_volts(cfg) * INPUT_SCALE.get((cfg >> 2) & 7, 1.0)
        ref = {0: 1.2, 1: self.ext_ref, 2: self.vdd / 2, 3: self.vdd / 3}[(cfg >> 5) & 3]
        full = (1 << bits) - 1
        return max(0, min(full, round(vin / ref * full)))

    def task_start(self):
        if self.regs[0x500] & 1 and self._timer is None:
            us = self.CONV_US.get(self.regs[0x504] & 3, 68)
            self._timer = self.clock.after(self.clock.us_to_cycles(us), self._done)

    def task_stop(self):
        self.cancel_timer()

    def _done(self):
        self._timer = None
        self.result = self._convert()
        self.fire(END)

    def read_busy(self):
        return 1 if self._timer is not None else 0

    def read_result(self):
        return self.result

    def write_result(self, value):
        pass


MODEL = Adc
