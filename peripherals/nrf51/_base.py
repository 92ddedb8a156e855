"""Common nRF51 peripheral register model: tasks, events, shortcuts, interrupts, POWER.

Subclasses declare ``TASKS = {offset: "name"}`` (a write of 1 calls ``task_<name>()``) and
``EVENTS = {offset: "name"}``. Event state is one bitmask, bit n = event register
0x100 + 4n, which is also the INTEN bit of that event on every nRF51 block. The IRQ line is
``events & inten`` (level-sensitive): it stays high until the firmware clears the event or
the enable bit. Events also go to the PPI (``machine.nrf_ppi``) when a channel listens to them.

Registers that are plain storage go in ``PLAIN = {offset: (name, mask, reset)}``.
"""
from __future__ import annotations

from boardemu.emulator.peripheral import Peripheral

OFF_SHORTS, OFF_INTEN, OFF_INTENSET, OFF_INTENCLR, OFF_POWER = 0x200, 0x300, 0x304, 0x308, 0xFFC


class NrfPeripheral(Peripheral):
    TASKS: dict[int, str] = {}
    EVENTS: dict[int, str] = {}
    PLAIN: dict[int, tuple] = {}
    SHORTS_MASK = 0
    INTEN_MASK = None          # None: every declared event

    def __init__(self, machine, name, base, irqs=(), **config):
        self._task_fns = {}
        for off, tname in self.TASKS.items():
            self._task_fns[off] = getattr(self, "task_" + tname)
        self._event_bits = {off: 1 << ((off - 0x100) >> 2) for off in self.EVENTS}
        if self.INTEN_MASK is None:
            self.inten_mask = 0
            for b in self._event_bits.values():
                self.inten_mask |= b
        else:
            self.inten_mask = self.INTEN_MASK
        self.ev = 0
        self.inten = 0
        self._line = False
        super().__init__(machine, name, base, irqs=irqs, **config)
        # fast paths: event registers and INTEN go straight to small closures (firmware polls
        # events; each MMIO access costs a Python call, keep it one)
        polls = type(self).poll_events is not NrfPeripheral.poll_events
        for off, bit in self._event_bits.items():
            if off not in self._rtab:
                self._rtab[off] = self._event_reader(bit, polls)
            if off not in self._wtab:
                self._wtab[off] = self._event_writer(bit)
        for off in (OFF_INTEN, OFF_INTENSET, OFF_INTENCLR):
            self._rtab.setdefault(off, self._read_inten)
        self._wtab.setdefault(OFF_INTENSET, self._write_intenset)
        self._wtab.setdefault(OFF_INTENCLR, self._write_intenclr)
        for off, fn in self._task_fns.items():
            self._wtab.setdefault(off, self._task_writer(fn))

    def _event_reader(self, bit, polls):
        if polls:
            def read_event():
                self.poll_events()
                return 1 if self.ev & bit else 0
        else:
            def read_event():
                return 1 if self.ev & bit else 0
        return read_event

    def _event_writer(self, bit):
        def write_event(value):
            if value:
                self.fire(bit)
            else:
                self.ev &= ~bit
                self.event_cleared(bit)
                if self._line and not self.ev & self.inten:
                    self._line = False
                    if self._irq is not None:
                        self._irq.set(False)
        return write_event

    @staticmethod
    def _task_writer(fn):
        def write_task(value):
            if value & 1:
                fn()
        return write_task

    def _read_inten(self):
        return self.inten

    def _write_intenset(self, value):
        self.set_inten(self.inten | (value & self.inten_mask))

    def _write_intenclr(self, value):
        self.set_inten(self.inten & ~value)

    # -- state ---------------------------------------------------------------------------
    def reset(self):
        self._irq = self.irqs[0] if self.irqs else None
        self.ev = 0
        self.inten = 0
        self.shorts = 0
        self.power = 1
        self.regs = {off: spec[2] for off, spec in self.PLAIN.items()}
        self._update_irq()

    def _update_irq(self):
        level = bool(self.ev & self.inten)
        if level != self._line:
            self._line = level
            if self._irq is not None:
                self._irq.set(level)

    def fire(self, bit: int):
        """The event with mask ``bit`` happens now."""
        self.ev |= bit
        if bit & self.inten and not self._line:
            self._line = True
            if self._irq is not None:
                self._irq.set(True)
        ppi = getattr(self.machine, "nrf_ppi", None)
        if ppi is not None and ppi.routes:
            ppi.event(self.base + 0x100 + 4 * (bit.bit_length() - 1))
        if bit & self.shorts_events:
            self.on_short(bit)

    # subclasses with SHORTS: which events have shortcuts enabled (recomputed on SHORTS writes)
    shorts_events = 0

    def on_short(self, bit):
        """An event with an enabled shortcut fired (override)."""

    def trigger_task(self, offset: int):
        """Trigger the task at ``offset`` (PPI entry point)."""
        fn = self._task_fns.get(offset)
        if fn is not None:
            fn()

    # -- bus ------------------------------------------------------------------------------
    def read(self, off):
        if 0x100 <= off < 0x200:
            bit = self._event_bits.get(off)
            if bit is None:
                return self.unhandled("read", off)
            self.poll_events()
            return 1 if self.ev & bit else 0
        if off == OFF_INTEN or off == OFF_INTENSET or off == OFF_INTENCLR:
            return self.inten
        if off == OFF_SHORTS:
            return self.shorts
        if off == OFF_POWER:
            return self.power
        if off in self.regs:
            return self.regs[off]
        if off < 0x80:
            return 0                       # tasks are write-only
        return self.unhandled("read", off)

    def write(self, off, value):
        if off < 0x80:
            fn = self._task_fns.get(off)
            if fn is None:
                self.unhandled("write", off, value)
            elif value & 1:
                fn()
            return
        if 0x100 <= off < 0x200:
            bit = self._event_bits.get(off)
            if bit is None:
                self.unhandled("write", off, value)
                return
            if value:
                self.fire(bit)
            else:
                self.ev &= ~bit
                self.event_cleared(bit)
                self._update_irq()
            return
        if off == OFF_INTENSET:
            self.set_inten(self.inten | (value & self.inten_mask))
        elif off == OFF_INTENCLR:
            self.set_inten(self.inten & ~value)
        elif off == OFF_INTEN:
            self.set_inten(value & self.inten_mask)
        elif off == OFF_SHORTS:
            self.shorts = value & self.SHORTS_MASK
            self.shorts_changed()
        elif off == OFF_POWER:
            on = value & 1
            if self.power and not on:
                self.power_off()
            self.power = on
        elif off in self.PLAIN:
            name, mask, _reset = self.PLAIN[off]
            self.regs[off] = value & mask
            self.plain_written(off, self.regs[off])
        else:
            self.unhandled("write", off, value)

    def set_inten(self, value):
        old = self.inten
        self.inten = value
        if value != old:
            self.inten_changed(old)
        self._update_irq()

    # -- hooks for subclasses -----------------------------------------------------------------
    def poll_events(self):
        """Bring lazily computed events up to date before an event register is read."""

    def event_cleared(self, bit):
        """The firmware cleared an event."""

    def inten_changed(self, old):
        """INTEN changed (e.g. to (un)schedule compare events)."""

    def shorts_changed(self):
        pass

    def plain_written(self, off, value):
        pass

    def power_off(self):
        """POWER=0: the block loses its state."""
        self.reset()
