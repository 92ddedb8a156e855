"""A single LED on a pin (to ground through a resistor: lit while the pin is high;
``config.active_low = true`` for an LED to VDD). Reports ``part`` events (part, lit) and counts
changes; ``lit`` is the state now, ``toggles`` the number of changes since reset."""
from __future__ import annotations

from boardemu.emulator import events as ev


class Led:
    KIND = "led"  # what front-ends show it as

    def __init__(self, machine, spec):
        self.machine = machine
        self.name = spec["name"]
        self.active_low = spec.get("config", {}).get("active_low", False)
        self.pin = machine.pins.get(spec["pins"]["pin"])
        self.pin.subscribe(self._on_level)
        self.reset()

    def reset(self):
        self.lit = bool(self.pin.level) != self.active_low
        self.toggles = 0

    def _on_level(self, pin, level):
        lit = bool(level) != self.active_low
        if lit == self.lit:
            return
        self.lit = lit
        self.toggles += 1
        events = self.machine.events
        if events.wants(ev.PART):
            events.emit(ev.PART, part=self.name, lit=lit)


MODEL = Led
