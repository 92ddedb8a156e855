"""nRF51 RNG: START/STOP, VALRDY event, SHORTS VALRDY_STOP, CONFIG.DERCEN, VALUE.

Values are deterministic: a 32-bit xorshift generator seeded from the board file
(``config.seed``), one byte per VALRDY. A new value is produced one generation time after
START, and again after the firmware clears VALRDY (while started): the generator never
runs unobserved.
"""
from __future__ import annotations

from ._base import NrfPeripheral

VALRDY = 1


class Rng(NrfPeripheral):
    TASKS = {0x000: "start", 0x004: "stop"}
    EVENTS = {0x100: "valrdy"}
    SHORTS_MASK = 1
    PLAIN = {0x504: ("config", 1, 0)}
    REGS = {0x508: "value"}

    def __init__(self, machine, name, base, irqs=(), seed=0x6D696372, value_us=120, **config):
        self.seed = (seed & 0xFFFFFFFF) or 1
        self.gen_cycles = machine.clock.us_to_cycles(value_us)
        self.state = self.seed
        self._timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)

    def reset(self):
        self.cancel_timer()
        super().reset()
        self.running = False
        self.value = 0

    def _next_byte(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x & 0xFF

    def _schedule(self):
        if self._timer is None and self.running:
            cycles = self.gen_cycles * (4 if self.regs[0x504] & 1 else 1)
            self._timer = self.clock.after(cycles, self._produce)

    def _produce(self):
        self._timer = None
        if not self.running:
            return
        self.value = self._next_byte()
        if self.shorts & 1:
            self.running = False
        self.fire(VALRDY)

    def task_start(self):
        self.running = True
        if not self.ev & VALRDY:
            self._schedule()

    def task_stop(self):
        self.running = False
        self.cancel_timer()

    def event_cleared(self, bit):
        self._schedule()

    def read_value(self):
        return self.value

    def write_value(self, value):
        pass


MODEL = Rng
