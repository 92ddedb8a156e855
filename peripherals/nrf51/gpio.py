"""nRF51 GPIO port P0 (32 pins) at 0x50000000.

OUT/OUTSET/OUTCLR, DIR/DIRSET/DIRCLR, IN, PIN_CNF[n] (DIR, INPUT buffer connect, PULL, DRIVE,
SENSE). Pins are the board's ``P0.n`` chip pins: outputs drive them (open-drain drive modes
release the pin instead of driving the "disconnected" level), PULL sets the pin's pull
resistor, and IN shows each pin's level where the input buffer is connected. IN is a bitmask
kept up to date by pin listeners, so polling it costs one attribute read.

SENSE: the DETECT signal (any pin at its sense level) goes to GPIOTE as its PORT event
(``machine.nrf_gpiote``), on DETECT's rising edge.
"""
from __future__ import annotations

from boardemu.emulator.peripheral import Peripheral

CNF_RESET = 0x00000002          # input, buffer disconnected, no pull
# DRIVE values whose "1" (resp. "0") level is disconnected (open drain / open source)
_D1 = {6, 7}                     # S0D1, H0D1
_D0 = {4, 5}                     # D0S1, D0H1


class Gpio(Peripheral):
    REGS = {0x504: "out", 0x508: "outset", 0x50C: "outclr", 0x510: "in", 0x514: "dir",
            0x518: "dirset", 0x51C: "dirclr"}

    def __init__(self, machine, name, base, irqs=(), pins=32, port="P0", **config):
        self.npins = pins
        self.port = port
        self.pins = [machine.pins.chip_pin(f"{port}.{i}") for i in range(pins)]
        self.levels = 0
        for i, p in enumerate(self.pins):
            p.subscribe(self._listener(i))
            if p.level:
                self.levels |= 1 << i
        self.owned = 0                    # pins driven by another block (GPIOTE task mode)
        super().__init__(machine, name, base, irqs=irqs, **config)
        machine.nrf_gpio = self

    def _listener(self, i):
        bit = 1 << i

        def on_level(pin, level):
            if level:
                self.levels |= bit
            else:
                self.levels &= ~bit
            if self.sense_mask & bit:
                self._update_detect()
        return on_level

    def reset(self):
        self.out = 0
        self.dir = 0
        self.cnf = [CNF_RESET] * self.npins
        self.connected = 0               # input buffer connected
        self.sense_mask = 0
        self.sense_high = 0              # pins sensing for high (others in sense_mask: low)
        self.detect = False
        self.open_drain1 = 0             # "1" level not driven
        self.open_drain0 = 0             # "0" level not driven
        for i, p in enumerate(self.pins):
            if p.chip_oe or p.pull is not None:
                p.chip_drive(False, 0)
                p.set_pull(None)

    # -- driving pins --------------------------------------------------------------------------
    def _apply(self, changed):
        changed &= ~self.owned
        pins, out, dir_ = self.pins, self.out, self.dir
        od1, od0 = self.open_drain1, self.open_drain0
        while changed:
            low = changed & -changed
            i = low.bit_length() - 1
            changed ^= low
            level = 1 if out & low else 0
            oe = bool(dir_ & low)
            if oe and ((level and od1 & low) or (not level and od0 & low)):
                oe = False
            pins[i].chip_drive(oe, level)

    def _set_out(self, value):
        value &= 0xFFFFFFFF
        changed = (self.out ^ value) & self.dir
        self.out = value
        if changed:
            self._apply(changed)

    def _set_dir(self, value):
        value &= 0xFFFFFFFF
        changed = self.dir ^ value
        self.dir = value
        for i in range(self.npins):
            if changed >> i & 1:
                self.cnf[i] = (self.cnf[i] & ~1) | (value >> i & 1)
        if changed:
            self._apply(changed)

    # -- registers ---------------------------------------------------------------------------
    def read_out(self):
        return self.out

    def write_out(self, value):
        self._set_out(value)

    read_outset = read_outclr = read_out

    def write_outset(self, value):
        self._set_out(self.out | value)

    def write_outclr(self, value):
        self._set_out(self.out & ~value)

    def read_in(self):
        return self.levels & self.connected

    def write_in(self, value):
        pass

    def read_dir(self):
        return self.dir

    read_dirset = read_dirclr = read_dir

    def write_dir(self, value):
        self._set_dir(value)

    def write_dirset(self, value):
        self._set_dir(self.dir | value)

    def write_dirclr(self, value):
        self._set_dir(self.dir & ~value)

    def read(self, off):
        if 0x700 <= off < 0x700 + 4 * self.npins:
            return self.cnf[(off - 0x700) >> 2]
        return self.unhandled("read", off)

    def write(self, off, value):
        if 0x700 <= off < 0x700 + 4 * self.npins:
            self._write_cnf((off - 0x700) >> 2, value & 0x0003070F)
        else:
            self.unhandled("write", off, value)

    def _write_cnf(self, i, value):
        bit = 1 << i
        self.cnf[i] = value
        if value & 2:
            self.connected &= ~bit
        else:
            self.connected |= bit
        drive = (value >> 8) & 7
        self.open_drain1 = (self.open_drain1 | bit) if drive in _D1 else (self.open_drain1 & ~bit)
        self.open_drain0 = (self.open_drain0 | bit) if drive in _D0 else (self.open_drain0 & ~bit)
        pull = (value >> 2) & 3
        pin = self.pins[i]
        want = {1: 0, 3: 1}.get(pull)
        if pin.pull != want:
            pin.set_pull(want)
        sense = (value >> 16) & 3
        if sense in (2, 3):
            self.sense_mask |= bit
            self.sense_high = (self.sense_high | bit) if sense == 2 else (self.sense_high & ~bit)
        else:
            self.sense_mask &= ~bit
        new_dir = (self.dir & ~bit) | (value & 1) << i
        if new_dir != self.dir:
            self.dir = new_dir
        self._apply(bit)
        self._update_detect()

    def _update_detect(self):
        m = self.sense_mask
        lv = self.levels
        det = bool((lv & self.sense_high & m) | (~lv & ~self.sense_high & m))
        if det != self.detect:
            self.detect = det
            if det:
                gpiote = getattr(self.machine, "nrf_gpiote", None)
                if gpiote is not None:
                    gpiote.port_detect()

    # -- for other blocks -------------------------------------------------------------------------
    def take_pin(self, i, owner_drives: bool):
        """GPIOTE task mode takes over pin ``i`` (True) or gives it back (False)."""
        bit = 1 << i
        if owner_drives:
            self.owned |= bit
        else:
            self.owned &= ~bit
            self._apply(bit)


MODEL = Gpio
