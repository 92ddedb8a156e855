"""Scanned LED matrix (the micro:bit v1 5x5 display: 3 row x 9 column lines).

An LED is lit while its row line is high and its column line is low (rows active high,
columns active low; ``config.rows_active_high`` / ``cols_active_low`` change that). The part
integrates each LED's lit time between pin changes; a frame ends each time the first row line
goes active (one full scan), and then each LED's share of its row time gives its brightness
0-9 on the logarithmic scale MicroPython's display driver uses (level 9 = lit for the whole row
slot). When the scan stops (no new frame for ``static_after_ms``), the current static state
is shown (lit = 9).

``image()`` returns 5 strings of digits like ``Image`` repr rows; ``pixel(x, y)`` one value.
A ``display`` event (part, state = image) is emitted whenever the decoded image changes.
"""
from __future__ import annotations

import math

from boardemu.emulator import events as ev

# micro:bit v1 wiring: MAP[col][row] = (x, y), None = no LED
MICROBIT_V1_MAP = [
    [(0, 0), (4, 2), (2, 4)],
    [(2, 0), (0, 2), (4, 4)],
    [(4, 0), (2, 2), (0, 4)],
    [(4, 3), (1, 0), (0, 1)],
    [(3, 3), (3, 0), (1, 1)],
    [(2, 3), (3, 4), (2, 1)],
    [(1, 3), (1, 4), (3, 1)],
    [(0, 3), None, (4, 1)],
    [(1, 2), None, (3, 2)],
]
# on-time of each brightness level as a fraction of the row slot (MicroPython render_timings,
# cumulative, in 16 us ticks of a 6000 us slot)
LEVEL_ON = [0, 2, 4, 8, 15, 28, 53, 102, 199, 375]


def _thresholds():
    fr = [v / 375 for v in LEVEL_ON]
    th = [fr[1] / 2]                          # below: off
    for k in range(1, 9):
        th.append(math.sqrt(fr[k] * fr[k + 1]))
    return th                                 # th[k]: boundary between level k and k+1


class LedMatrix:
    KIND = "display"  # what front-ends show it as

    def __init__(self, machine, spec):
        self.machine = machine
        self.name = spec["name"]
        cfg = spec.get("config", {})
        pins = spec.get("pins", {})
        self.width = cfg.get("width", 5)
        self.height = cfg.get("height", 5)
        nrows = cfg.get("rows", 3)
        ncols = cfg.get("cols", 9)
        self.row_pins = [machine.pins.get(pins[f"row{r + 1}"]) for r in range(nrows)]
        self.col_pins = [machine.pins.get(pins[f"col{c + 1}"]) for c in range(ncols)]
        self.rows_high = cfg.get("rows_active_high", True)
        self.cols_low = cfg.get("cols_active_low", True)
        mapping = cfg.get("map", MICROBIT_V1_MAP)
        self.clock = machine.clock
        self.static_cycles = int(cfg.get("static_after_ms", 100) * machine.clock.hz // 1000)
        # LED index = y * width + x; table[r][cols_on_mask] -> lit LED bitmask
        self.nleds = self.width * self.height
        self.table = []
        for r in range(nrows):
            per_col = []
            for c in range(ncols):
                xy = mapping[c][r] if c < len(mapping) and r < len(mapping[c]) else None
                per_col.append(0 if xy is None else 1 << (xy[1] * self.width + xy[0]))
            tbl = [0] * (1 << ncols)
            for m in range(1, 1 << ncols):
                low = m & -m
                tbl[m] = tbl[m ^ low] | per_col[low.bit_length() - 1]
            self.table.append(tbl)
        self.th = _thresholds()
        for r, p in enumerate(self.row_pins):
            p.subscribe(self._row_listener(r))
        for c, p in enumerate(self.col_pins):
            p.subscribe(self._col_listener(c))
        self.reset()

    def reset(self):
        self.rows_on = 0
        self.cols_on = 0
        for r, p in enumerate(self.row_pins):
            if bool(p.level) == self.rows_high:
                self.rows_on |= 1 << r
        for c, p in enumerate(self.col_pins):
            if bool(p.level) != self.cols_low:
                self.cols_on |= 1 << c
        self.lit = self._lit()
        now = self.clock.now()
        self.last = now
        self.acc = [0] * self.nleds
        self.rows_seen = 0
        self.frame_start = None       # cycle of the last frame boundary
        self.levels = [0] * self.nleds
        self.frames = 0

    # -- pins ------------------------------------------------------------------------------------
    def _row_listener(self, r):
        bit = 1 << r

        def on_level(pin, level):
            active = bool(level) == self.rows_high
            if active == bool(self.rows_on & bit):
                return
            self._integrate()
            if active:
                self.rows_on |= bit
                self.rows_seen |= bit
                if r == 0:
                    self._frame_boundary()
            else:
                self.rows_on &= ~bit
            self.lit = self._lit()
        return on_level

    def _col_listener(self, c):
        bit = 1 << c

        def on_level(pin, level):
            active = bool(level) != self.cols_low
            if active == bool(self.cols_on & bit):
                return
            self._integrate()
            if active:
                self.cols_on |= bit
            else:
                self.cols_on &= ~bit
            self.lit = self._lit()
        return on_level

    def _lit(self):
        lit = 0
        rows, cols, table = self.rows_on, self.cols_on, self.table
        r = 0
        while rows:
            if rows & 1:
                lit |= table[r][cols]
            rows >>= 1
            r += 1
        return lit

    def _integrate(self):
        now = self.clock.now()
        dt = now - self.last
        self.last = now
        lit = self.lit
        if lit and dt:
            acc = self.acc
            while lit:
                low = lit & -lit
                acc[low.bit_length() - 1] += dt
                lit ^= low

    def _frame_boundary(self):
        now = self.clock.now()
        if self.frame_start is not None and now > self.frame_start:
            length = now - self.frame_start
            nrows = bin(self.rows_seen).count("1") or 1
            slot = length / nrows
            self._set_levels([self._level(a / slot) for a in self.acc])
        self.frame_start = now
        self.acc = [0] * self.nleds
        self.rows_seen = self.rows_on
        self.frames += 1

    def _level(self, frac):
        th = self.th
        for k in range(10):
            if k == 9 or frac < th[k]:
                return k
        return 9

    def _set_levels(self, levels):
        if levels != self.levels:
            self.levels = levels
            events = self.machine.events
            if events.wants(ev.DISPLAY):
                img = self.image()
                events.emit(ev.DISPLAY, part=self.name, state=img, image=img)

    # -- API ---------------------------------------------------------------------------------------
    def _current(self):
        now = self.clock.now()
        if self.frame_start is None or now - self.frame_start > self.static_cycles:
            lit = self.lit
            return [9 if lit >> i & 1 else 0 for i in range(self.nleds)]
        return self.levels

    def image(self) -> list[str]:
        """The display as rows of brightness digits, top row first (like ``Image`` repr)."""
        lv = self._current()
        w = self.width
        return ["".join(str(lv[y * w + x]) for x in range(w)) for y in range(self.height)]

    def pixel(self, x: int, y: int) -> int:
        return self._current()[y * self.width + x]

    def __str__(self):
        return ":".join(self.image())


MODEL = LedMatrix
