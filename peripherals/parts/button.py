"""Push button between a pin and ground, with the board's pull-up (active low; the micro:bit
buttons A and B have external 10 kOhm pull-ups). ``config.active_low = false`` for a button
to VDD with a pull-down.

``press()`` / ``release()`` / ``click()``; ``pressed`` tells the state. The pin is driven
from outside the chip: pressed = the active level, released = the resistor's level.
"""
from __future__ import annotations

from boardemu.emulator import events as ev


class Button:
    KIND = "button"  # what front-ends show it as

    def __init__(self, machine, spec):
        self.machine = machine
        self.name = spec["name"]
        cfg = spec.get("config", {})
        self.active_low = cfg.get("active_low", True)
        self.pin = machine.pins.get(spec["pins"]["pin"])
        self.pressed = False
        self.presses = 0
        self.reset()

    def reset(self):
        self._drive()

    def _drive(self):
        active = 0 if self.active_low else 1
        self.pin.drive(active if self.pressed else 1 - active)

    def _set(self, pressed):
        if pressed == self.pressed:
            return
        self.pressed = pressed
        if pressed:
            self.presses += 1
        self._drive()
        events = self.machine.events
        if events.wants(ev.PART):
            events.emit(ev.PART, part=self.name, pressed=pressed)

    def press(self):
        """Press (and hold) the button. Thread-safe: takes effect in the machine thread, at the
        start of the next run() step."""
        self.machine.post(self._set, True)

    def release(self):
        self.machine.post(self._set, False)

    def click(self):
        """Press now and release after ``hold_s`` seconds of board time (0.1 s)."""
        self.machine.post(self._click)

    def _click(self, hold_s=0.1):
        self._set(True)
        clock = self.machine.clock
        clock.after(int(hold_s * clock.hz), self._set, False)


MODEL = Button
