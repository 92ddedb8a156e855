"""Logic traces of a run as VCD files (readable by GTKWave), in board time.

A :class:`Trace` listens to the machine's event bus and serial channels while a scenario runs
and keeps what it saw in memory; :meth:`Trace.write_vcd` writes it at the end (a VCD file must
declare every variable before the first value change, and which pins will change is known only
at the end). Contents:

* ``<board>.pins.<name>``: one 1-bit wire per pin that changed, named by its board names and
  its chip pin id (aliases of one VCD identifier: ``P3``, ``COL1`` and ``P0.4`` on the
  micro:bit), initial level at time 0;
* ``<board>.<port>.tx`` (8-bit wire: the last byte), ``tx_byte`` (an event per byte) and
  ``tx_text`` (a GTKWave string: the bytes of that write, escaped) for board output on each
  serial port that produced any; ``rx``/``rx_byte``/``rx_text`` likewise for what the scenario
  sent to the board (stamped when it was sent; the device takes the bytes at its own pace);
* ``<board>.reset.reset`` (an event per reset) and ``reset.cause`` (a string); a snapshot
  restore shows there too, with cause ``restore <time>``.

Trace time is board time run through: a restore takes board time back to the snapshot's, and the
trace goes on from where it was (offset by the time rewound), so it never runs backwards.

Timescale 1 ns; the header carries no wall-clock date, so the same run gives the same file.
"""
from __future__ import annotations

import itertools
import re

from boardemu.emulator import events as ev

VCD_DATE = "boardemu scenario trace (board time)"


def vcd_ident(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.\[\]]", "_", str(name))
    return s or "_"


def _text(data: bytes) -> str:
    out = []
    for b in data:
        if 32 <= b < 127:
            out.append(chr(b))
        elif b == 10:
            out.append("\n")
        elif b == 13:
            out.append("\r")
        elif b == 9:
            out.append("\t")
        else:
            out.append(f"<{b:02x}>")
    return "".join(out)


class Trace:
    def __init__(self, machine):
        self.m = machine
        self.board = machine.board.name
        self._seq = itertools.count()
        self.initial = {p.id: p.level for p in machine.pins}
        self.pin_names: dict[str, list[str]] = {p.id: [*p.names, p.id] for p in machine.pins}
        self.pins: list[tuple[int, int, str, int]] = []          # (t, seq, id, level)
        self.tx: dict[str, list[tuple[int, int, bytes]]] = {}    # port -> [(t, seq, data)]
        self.rx: dict[str, list[tuple[int, int, bytes]]] = {}
        self.resets: list[tuple[int, int, str]] = []
        self.offset = 0                                          # board time rewound by restores
        self._unsubs = [machine.events.subscribe(ev.PIN, self._on_pin),
                        machine.events.subscribe(ev.RESET, self._on_reset),
                        machine.events.subscribe("restore", self._on_restore)]
        for name, ch in machine.channels.items():
            self._unsubs.append(ch.subscribe(self._tx_listener(name)))

    def _tx_listener(self, port):
        lst = self.tx.setdefault(port, [])

        def on_data(data, lst=lst):
            lst.append((self.m.time_ns + self.offset, next(self._seq), bytes(data)))
        return on_data

    def _on_pin(self, e):
        if e.id not in self.pin_names:
            try:
                pin = self.m.pins.get(e.id)
                self.pin_names[e.id] = [*pin.names, pin.id]
            except KeyError:
                self.pin_names[e.id] = [e.pin]
        self.pins.append((e.time_ns + self.offset, next(self._seq), e.id, e.level))

    def _on_reset(self, e):
        self.resets.append((e.time_ns + self.offset, next(self._seq), e.cause))

    def _on_restore(self, e):
        self.offset += e.data["from_ns"] - e.time_ns
        self.resets.append((e.time_ns + self.offset, next(self._seq), f"restore {e.time_ns} ns"))
        # pins jump back to their levels at the snapshot
        last = dict(self.initial)
        for _t, _s, pid, level in self.pins:
            last[pid] = level
        for p in self.m.pins:
            if last.get(p.id, p.level) != p.level:
                self.pins.append((e.time_ns + self.offset, next(self._seq), p.id, p.level))

    def host_sent(self, port: str, data: bytes):
        """The scenario sent ``data`` to ``port`` (host -> board)."""
        self.rx.setdefault(port, []).append((self.m.time_ns + self.offset, next(self._seq), bytes(data)))

    def close(self):
        for u in self._unsubs:
            u()
        self._unsubs = []

    # -- output -------------------------------------------------------------------------------
    def write_vcd(self, path, end_ns: int):
        from vcd import VCDWriter

        top = vcd_ident(self.board).replace(".", "_")
        changes = []      # (t, seq, var, value)
        with open(path, "w", encoding="ascii", newline="\n") as f:
            w = VCDWriter(f, timescale="1 ns", date=VCD_DATE, version="boardemu",
                          comment=f"board {self.board}")
            def names(pid):
                out = []
                for n in self.pin_names.get(pid, [pid]):
                    n = vcd_ident(n)
                    if n not in out:
                        out.append(n)
                return out
            changed = sorted({pid for _, _, pid, _ in self.pins}, key=lambda pid: (names(pid)[0], pid))
            used_names = set()
            pin_vars = {}
            for pid in changed:
                # one variable per pin, named by its first board name, with its other board
                # names and its chip pin id as aliases (the same VCD identifier)
                var = None
                for name in names(pid):
                    if name in used_names:
                        continue
                    used_names.add(name)
                    if var is None:
                        var = pin_vars[pid] = w.register_var(f"{top}.pins", name, "wire", size=1,
                                                             init=self.initial.get(pid, 0))
                    else:
                        w.register_alias(f"{top}.pins", name, var)
            for t, seq, pid, level in self.pins:
                changes.append((t, seq, pin_vars[pid], level))
            for direction, table in (("tx", self.tx), ("rx", self.rx)):
                for port in sorted(table):
                    entries = table[port]
                    if not entries:
                        continue
                    scope = f"{top}.{vcd_ident(port).replace('.', '_')}"
                    wire = w.register_var(scope, direction, "wire", size=8, init=0)
                    strobe = w.register_var(scope, f"{direction}_byte", "event")
                    text = w.register_var(scope, f"{direction}_text", "string", init="")
                    for t, seq, data in entries:
                        for b in data:
                            changes.append((t, seq, wire, b))
                            changes.append((t, seq, strobe, True))
                        changes.append((t, seq, text, _text(data)))
            if self.resets:
                rv = w.register_var(f"{top}.reset", "reset", "event")
                cv = w.register_var(f"{top}.reset", "cause", "string", init="")
                for t, seq, cause in self.resets:
                    changes.append((t, seq, rv, True))
                    changes.append((t, seq, cv, str(cause)))
            changes.sort(key=lambda c: (c[0], c[1]))
            for t, _seq, var, value in changes:
                w.change(var, t, value)
            last = changes[-1][0] if changes else 0
            w.close(max(end_ns + self.offset, last))
