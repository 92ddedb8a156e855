"""The event bus: every front-end observes the board through it.

Events carry the board time (virtual nanoseconds) at which they happened. Emitting an event
nobody listens to costs one dict lookup; hot paths guard with ``bus.wants(kind)`` and skip
building the payload at all.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Event kinds used across the project (front-ends may rely on these names).
PIN = "pin"              # pin=name, level=0/1, driver="chip"|"external"
UART_TX = "uart-tx"      # port=name, data=bytes  (board -> host)
UART_RX = "uart-rx"      # port=name, data=bytes  (host -> board)
CONSOLE = "console"      # data=bytes: console output, whatever the console is
RESET = "reset"          # cause=str
FAULT = "fault"          # report=FaultReport
HALT = "halt"            # reason=str, status=int|None
EXIT = "exit"            # status=int (semihosting exit)
WARNING = "warning"      # message=str
DISPLAY = "display"      # part=name, state=...
PART = "part"            # part=name, ... (part-specific)
I2C = "i2c"              # bus=name, addr=int, write=bytes, read=bytes


@dataclass(slots=True)
class Event:
    kind: str
    time_ns: int
    data: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None


class EventBus:
    def __init__(self, clock=None):
        self._subs: dict[str, list[Callable[[Event], None]]] = {}
        self._all: list[Callable[[Event], None]] = []
        self._clock = clock

    def subscribe(self, kind: str | None, fn: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``fn(event)`` for events of ``kind`` (None = every kind). Returns an unsubscribe."""
        lst = self._all if kind is None else self._subs.setdefault(kind, [])
        lst.append(fn)

        def unsubscribe():
            if fn in lst:
                lst.remove(fn)
        return unsubscribe

    def wants(self, kind: str) -> bool:
        return bool(self._all) or bool(self._subs.get(kind))

    def emit(self, kind: str, **data) -> None:
        subs = self._subs.get(kind)
        if not subs and not self._all:
            return
        ev = Event(kind, self._clock.now_ns() if self._clock else 0, data)
        for fn in tuple(subs or ()):
            fn(ev)
        for fn in tuple(self._all):
            fn(ev)
