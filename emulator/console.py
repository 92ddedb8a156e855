"""Byte channels between a board device (UART, USB CDC, semihosting) and the host.

Host-side calls (``send``) are thread-safe: bytes are queued and handed to the device between
CPU bursts, at the rate the device takes them (its FIFO / USB buffer), never dropped.
Board output is kept in a bounded tail buffer (``max_buffer`` bytes, oldest dropped first) for
``read()``; listeners see every byte as it is produced.
"""
from __future__ import annotations

import threading
from collections import deque

from . import events as ev


class Channel:
    # host-facing state a snapshot restore leaves alone (emulator/snapshot.py)
    SNAPSHOT_LIVE = ("_out", "_out_lock", "_rx", "_rx_lock", "listeners", "_line_sources", "dtr", "rts",
                     "total_out")

    def __init__(self, machine, name: str, event_kind: str = ev.UART_TX, max_buffer: int = 1 << 20):
        self.machine = machine
        self.name = name
        self.event_kind = event_kind
        self.max_buffer = max_buffer
        self._out = bytearray()
        self._out_lock = threading.Lock()
        self._rx = deque()          # host -> board, bytes objects
        self._rx_lock = threading.Lock()
        self.listeners: list = []
        self.device_notify = None   # device callback: host data is waiting (called in the machine thread)
        self.line_state_notify = None   # device callback(dtr, rts): host line state changed (machine thread)
        self.dtr = False            # host line state as last set by a link (set_line_state)
        self.rts = False
        self._line_sources: dict = {}   # source -> (dtr, rts); the device sees their OR
        self.total_out = 0

    # -- device side (machine thread) ------------------------------------------------------
    def put(self, data: bytes) -> None:
        """The board produced ``data``."""
        if not data:
            return
        data = bytes(data)
        self.total_out += len(data)
        with self._out_lock:
            self._out += data
            extra = len(self._out) - self.max_buffer
            if extra > 0:
                del self._out[:extra]
        events = self.machine.events
        if events.wants(self.event_kind):
            events.emit(self.event_kind, port=self.name, data=data)
        if events.wants(ev.CONSOLE) and self is self.machine.console:
            events.emit(ev.CONSOLE, port=self.name, data=data)
        for fn in tuple(self.listeners):
            fn(data)

    def rx_available(self) -> int:
        with self._rx_lock:
            return sum(len(b) for b in self._rx)

    def rx_take(self, n: int = 1) -> bytes:
        out = bytearray()
        with self._rx_lock:
            while self._rx and len(out) < n:
                chunk = self._rx[0]
                need = n - len(out)
                out += chunk[:need]
                if len(chunk) > need:
                    self._rx[0] = chunk[need:]
                else:
                    self._rx.popleft()
        return bytes(out)

    # -- host side (any thread) ------------------------------------------------------------
    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return
        with self._rx_lock:
            self._rx.append(bytes(data))
        self.machine.post(self._notify)

    def _notify(self):
        if self.device_notify is not None:
            self.device_notify()

    def set_line_state(self, dtr: bool | None = None, rts: bool | None = None, source=None) -> None:
        """The host raised/dropped DTR and/or RTS (None: unchanged); thread-safe. Delivered in the
        machine thread at the next burst boundary (bytes sent earlier may still be queued for the
        device). Devices that care (USB CDC line state, an auto-reset circuit) set
        ``line_state_notify``; others ignore it. Emits a ``line-state`` event (port, dtr, rts).

        ``source`` (a link, say) keeps one state per opener: what the device sees is the OR over
        all of them, as several programs holding one serial port open do -- a client closing one
        link does not drop DTR under a client still connected on another."""
        with self._rx_lock:
            cur = self._line_sources.get(source, (False, False))
            cur = (cur[0] if dtr is None else bool(dtr), cur[1] if rts is None else bool(rts))
            if cur == (False, False) and source is not None:
                self._line_sources.pop(source, None)
            else:
                self._line_sources[source] = cur
            self.dtr = any(d for d, _ in self._line_sources.values())
            self.rts = any(r for _, r in self._line_sources.values())
            state = (self.dtr, self.rts)
        self.machine.post(self._line_state, *state)

    def _line_state(self, dtr, rts):
        events = self.machine.events
        if events.wants("line-state"):
            events.emit("line-state", port=self.name, dtr=dtr, rts=rts)
        if self.line_state_notify is not None:
            self.line_state_notify(dtr, rts)

    def read(self) -> bytes:
        """Everything produced since the last read (bounded tail)."""
        with self._out_lock:
            data = bytes(self._out)
            self._out.clear()
        return data

    def peek(self) -> bytes:
        with self._out_lock:
            return bytes(self._out)

    def subscribe(self, fn):
        self.listeners.append(fn)
        return lambda: self.listeners.remove(fn) if fn in self.listeners else None
