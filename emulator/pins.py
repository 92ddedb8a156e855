"""Pins: the electrical meeting point of the chip's GPIO models and board parts.

A pin's level is resolved from who drives it: the chip (output enabled), an external driver
(a button, a test, the TUI), or the pull resistor. Changes are reported as ``pin`` events and to
listeners (GPIO input sensing, LEDs, logic traces).
"""
from __future__ import annotations

from . import events as ev


class Pin:
    __slots__ = ("bank", "chip_oe", "chip_out", "ext", "id", "level", "listeners", "names", "pull")

    def __init__(self, bank, pin_id: str):
        self.bank = bank
        self.id = pin_id
        self.names: list[str] = []
        self.chip_oe = False
        self.chip_out = 0
        self.ext = None          # None = not driven externally, else 0/1
        self.pull = None         # None | 0 | 1 (chip pull-down/up, or a board resistor)
        self.level = 0
        self.listeners: list = []

    @property
    def name(self):
        return self.names[0] if self.names else self.id

    @property
    def driver(self) -> str | None:
        """Who sets the level now: "chip", "host" (anything outside the chip: a part, a test,
        a front-end), "pull-up", "pull-down", or None (floating: reads 0)."""
        if self.chip_oe:
            return "chip"
        if self.ext is not None:
            return "host"
        if self.pull is not None:
            return "pull-up" if self.pull else "pull-down"
        return None

    def _resolve(self):
        if self.chip_oe:
            lvl = self.chip_out
        elif self.ext is not None:
            lvl = self.ext
        elif self.pull is not None:
            lvl = self.pull
        else:
            lvl = 0
        if lvl != self.level:
            self.level = lvl
            events = self.bank.events
            if events.wants(ev.PIN):
                events.emit(ev.PIN, pin=self.name, id=self.id, level=lvl,
                            driver="chip" if self.chip_oe else "external")
            for fn in tuple(self.listeners):
                fn(self, lvl)

    # chip side
    def chip_drive(self, oe: bool, out: int):
        self.chip_oe = bool(oe)
        self.chip_out = 1 if out else 0
        self._resolve()

    def set_pull(self, pull):
        self.pull = pull
        self._resolve()

    # outside world
    def drive(self, level):
        """Drive the pin from outside the chip (None releases it). Machine thread only: from
        another thread, ``machine.post(pin.drive, level)``."""
        self.ext = None if level is None else (1 if level else 0)
        self._resolve()

    def release(self):
        self.drive(None)

    def subscribe(self, fn):
        self.listeners.append(fn)


class PinBank:
    def __init__(self, events):
        self.events = events
        self.by_id: dict[str, Pin] = {}
        self.by_name: dict[str, Pin] = {}

    def chip_pin(self, pin_id: str) -> Pin:
        p = self.by_id.get(pin_id)
        if p is None:
            p = self.by_id[pin_id] = Pin(self, pin_id)
        return p

    def alias(self, name: str, pin_id: str):
        p = self.chip_pin(pin_id)
        if name not in p.names:
            p.names.append(name)
        self.by_name[name] = p

    def get(self, name: str) -> Pin:
        p = self.by_name.get(name) or self.by_id.get(name)
        if p is None:
            raise KeyError(f"unknown pin {name!r}")
        return p

    def __iter__(self):
        return iter(self.by_id.values())
