"""Register-file I2C slave: the common protocol of small I2C sensors.

Write transfer: the first byte sets the register pointer, following bytes are written to
consecutive registers. Read transfer: bytes come from the register pointer on, which
auto-increments (``next_register`` lets a chip skip or wrap). Subclasses implement
``read_register(reg)`` / ``write_register(reg, value)``.
"""
from __future__ import annotations

from boardemu.emulator import events as ev
from boardemu.emulator.machine import MachineError


class I2CRegisterDevice:
    DEFAULT_ADDRESS = 0

    def __init__(self, machine, spec):
        self.machine = machine
        self.spec = spec
        self.name = spec["name"]
        self.config = spec.get("config", {})
        self.clock = machine.clock
        self.address = spec.get("address", self.DEFAULT_ADDRESS)
        bus_name = spec.get("bus")
        bus = machine.peripherals.get(bus_name)
        if bus is None or not hasattr(bus, "attach"):
            raise MachineError(f"part {self.name}: no I2C bus named {bus_name!r}")
        bus.attach(self.address, self)
        self.pointer = 0
        self._first = False

    # -- I2C protocol --------------------------------------------------------------------------
    def i2c_start(self, read: bool) -> bool:
        self._first = not read
        return True

    def i2c_write(self, byte: int) -> bool:
        if self._first:
            self.pointer = byte
            self._first = False
        else:
            self.write_register(self.pointer, byte)
            self.pointer = self.next_register(self.pointer, write=True)
        return True

    def i2c_read(self) -> int:
        v = self.read_register(self.pointer) & 0xFF
        self.pointer = self.next_register(self.pointer, write=False)
        return v

    def i2c_stop(self):
        pass

    # -- chip specifics ------------------------------------------------------------------------
    def next_register(self, reg: int, write: bool) -> int:
        return (reg + 1) & 0xFF

    def read_register(self, reg: int) -> int:
        return 0

    def write_register(self, reg: int, value: int) -> None:
        pass

    def _parse_axes(self):
        """``config.axes``: how the board's x, y, z (as the firmware reports them) relate to the
        chip's axes, e.g. ["-x", "-y", "z"]: board x = -chip X, board y = -chip Y, board z = chip Z."""
        spec = self.config.get("axes", ["x", "y", "z"])
        axes = []
        for a in spec:
            a = a.strip().lower()
            sign = -1 if a.startswith("-") else 1
            axes.append((sign, "xyz".index(a.lstrip("+-"))))
        return axes

    def board_to_chip(self, xyz):
        chip = [0, 0, 0]
        for (sign, idx), v in zip(self.axes, xyz):
            chip[idx] = sign * int(v)
        return chip

    def chip_to_board(self, chip):
        return [sign * chip[idx] for sign, idx in self.axes]

    def pin(self, role: str):
        """The board pin wired to this part's ``role`` (None if not wired)."""
        name = self.spec.get("pins", {}).get(role)
        return self.machine.pins.get(name) if name else None


class ThreeAxisSensor(I2CRegisterDevice):
    """An I2C sensor whose reading is an (x, y, z) triple the host sets (``reading``: chip
    axes, in the part's ``UNITS``); the board's axes map to the chip's through ``config.axes``."""
    KIND = "sensor"  # what front-ends show it as
    UNITS = "units"

    def set_xyz(self, x, y, z):
        """The reading in the board's frame. Thread-safe: takes effect in the machine thread
        (at the next run() step)."""
        self.machine.post(self._set, self.board_to_chip((x, y, z)))

    def set_chip_xyz(self, x, y, z):
        """The reading on the chip's own X, Y, Z axes."""
        self.machine.post(self._set, [int(x), int(y), int(z)])

    def xyz(self):
        """The reading now set, in the board's frame."""
        return tuple(self.chip_to_board(self.reading))

    def _set(self, reading):
        self.reading = reading
        events = self.machine.events
        if events.wants(ev.PART):
            events.emit(ev.PART, part=self.name, xyz=self.xyz())

    # -- data-ready timing: a sample every _period_cycles() while _measuring() -------------------
    def _measuring(self) -> bool:
        return self.active

    def _schedule(self):
        if self._timer is None and self._measuring() and not self.drdy:
            self._timer = self.clock.after(self._period_cycles(), self._sample_ready)

    def _sample_ready(self):
        self._timer = None
        if self._measuring():
            self._take_sample()
            self.drdy = True
            self._update_int()

    def _take_sample(self):
        """Latch the reading for the output registers (devices that latch at data-ready)."""

    def _data_read(self):
        """The last output register was read: data-ready clears, the next sample is timed."""
        if self.drdy:
            self.drdy = False
            self._update_int()
            self._schedule()

    def _stop_sampling(self):
        self.drdy = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
