"""IO_BANK0 (0x40014000): GPIO0-29 function select, overrides, status and interrupts
(IO_IRQ_BANK0). With PADS_BANK0 (pulls, input enable, output disable) it decides what each
board pin ``GPIOn`` sees from the chip, and what the chip reads back.

Function 5 (SIO) pins are driven by SIO GPIO_OUT/GPIO_OE; a peripheral model that drives its
pins registers its function with ``add_function`` (the UARTs: function 2) and is asked for its
(OE, OUT) of each pin routed to it, and told when the routing or a routed pin's level changes.
Other functions leave the pin undriven. GPIO_IN is every pin's pad level (input enable set),
including pins the chip drives itself.

Interrupts per pin (INTRn, 4 bits each): LEVEL_LOW, LEVEL_HIGH (live), EDGE_LOW, EDGE_HIGH
(latched on real transitions only, write 1 to clear). PROC0 INTE/INTF/INTS; the IRQ line is
the OR of PROC0_INTS.
"""
from __future__ import annotations

from ._base import RpPeripheral

NPINS = 30
F_SIO, F_NULL = 5, 0x1F


class IoBank0(RpPeripheral):
    def __init__(self, machine, name, base, irqs=(), **config):
        self.pins = [machine.pins.chip_pin(f"GPIO{i}") for i in range(NPINS)]
        self.func_out = {}              # (funcsel, gpio) -> fn(gpio) -> (oe, out)
        self.func_notify = {}           # (funcsel, gpio) -> fn(): routing or level changed
        self.levels = 0                 # GPIO_IN as the chip reads it
        self.raw_levels = 0             # pad levels
        for i, p in enumerate(self.pins):
            p.subscribe(self._listener(i))
            if p.level:
                self.raw_levels |= 1 << i
        self._line = False
        machine.rp_io_bank0 = self
        super().__init__(machine, name, base, irqs=irqs, **config)
        regs = {}
        for i in range(NPINS):
            self._rtab[8 * i] = self._status_reader(i)
            self._wtab[8 * i] = _ignore
            self._rtab[8 * i + 4] = self._ctrl_reader(i)
            self._wtab[8 * i + 4] = self._ctrl_writer(i)
        for k in range(4):
            self._rtab[0xF0 + 4 * k] = self._intr_reader(k)
            self._wtab[0xF0 + 4 * k] = self._intr_writer(k)
            for base_off, arr in ((0x100, "inte"), (0x110, "intf"), (0x130, "inte1"),
                                  (0x140, "intf1"), (0x160, "dwake_e"), (0x170, "dwake_f")):
                self._rtab[base_off + 4 * k] = self._arr_reader(arr, k)
                self._wtab[base_off + 4 * k] = self._arr_writer(arr, k)
            for base_off, fn in ((0x120, self._ints0), (0x150, self._ints1), (0x180, self._ints_dw)):
                self._rtab[base_off + 4 * k] = (lambda f, kk: (lambda: f(kk)))(fn, k)
                self._wtab[base_off + 4 * k] = _ignore
        del regs

    def add_function(self, funcsel, gpios, output, on_change=None):
        """A peripheral drives the GPIOs in ``gpios`` when their FUNCSEL is ``funcsel``:
        ``output(gpio)`` -> (oe, out); ``on_change()`` after the routing of one of them or the
        level of a routed one changed."""
        for i in gpios:
            self.func_out[(funcsel, i)] = output
            if on_change is not None:
                self.func_notify[(funcsel, i)] = on_change
            if self.ctrl[i] & 0x1F == funcsel:
                self._drive(i)

    def function_changed(self, funcsel, gpios):
        """The peripheral's outputs changed: drive the pins routed to it again."""
        for i in gpios:
            if self.ctrl[i] & 0x1F == funcsel:
                self._drive(i)

    @property
    def sio(self):
        return getattr(self.machine, "rp_sio", None)

    def reset(self):
        super().reset()
        self.ctrl = [F_NULL] * NPINS
        self.edges = 0                  # latched edge bits, 4 bits per pin (bits 2,3 of each)
        self.arr = {a: [0] * 4 for a in ("inte", "intf", "inte1", "intf1", "dwake_e", "dwake_f")}
        for i in range(NPINS):
            self._drive(i)
        self._recompute_levels()
        for fn in {id(f): f for f in self.func_notify.values()}.values():
            fn()                        # the routing to peripherals is gone

    # -- pins ------------------------------------------------------------------------------------
    def _listener(self, i):
        bit = 1 << i

        def on_level(pin, level):
            old = self.raw_levels & bit
            if level:
                self.raw_levels |= bit
            else:
                self.raw_levels &= ~bit
            if bool(old) != bool(level):
                self.edges |= (8 if level else 4) << (4 * i)
            self._recompute_levels()
            if self.func_notify:
                fn = self.func_notify.get((self.ctrl[i] & 0x1F, i))
                if fn is not None:
                    fn()
        return on_level

    def _pads(self):
        return getattr(self.machine, "rp_pads_bank0", None)

    def _recompute_levels(self):
        pads = self._pads()
        ie = pads.ie_mask if pads is not None else (1 << NPINS) - 1
        lv = self.raw_levels & ie
        for i in range(NPINS):
            inover = (self.ctrl[i] >> 16) & 3
            if inover:
                bit = 1 << i
                v = {1: not (self.raw_levels & bit), 2: False, 3: True}[inover]
                lv = (lv | bit) if v else (lv & ~bit)
        self.levels = lv
        self._update_irq()

    def _drive(self, i):
        ctrl = self.ctrl[i]
        fn = ctrl & 0x1F
        sio = self.sio
        out = oe = 0
        if fn == F_SIO and sio is not None:
            out = sio.out >> i & 1
            oe = sio.oe >> i & 1
        elif self.func_out:
            drv = self.func_out.get((fn, i))
            if drv is not None:
                oe, out = drv(i)
        outover = (ctrl >> 8) & 3
        out = (out, out ^ 1, 0, 1)[outover]
        oeover = (ctrl >> 12) & 3
        oe = (oe, oe ^ 1, 0, 1)[oeover]
        pads = self._pads()
        if pads is not None and pads.regs[i] & 0x80:           # OD: output disable
            oe = 0
        pin = self.pins[i]
        if pin.chip_oe != bool(oe) or (oe and pin.chip_out != out):
            pin.chip_drive(bool(oe), out)

    def sio_changed(self):
        for i in range(NPINS):
            if self.ctrl[i] & 0x1F == F_SIO or self.pins[i].chip_oe:
                self._drive(i)

    def pads_changed(self, i):
        self._drive(i)
        self._recompute_levels()

    def _status_reader(self, i):
        def read_status():
            pin = self.pins[i]
            v = 0
            if pin.chip_oe:
                v |= (1 << 12) | (1 << 13)
                if pin.chip_out:
                    v |= (1 << 8) | (1 << 9)
            if self.levels >> i & 1:
                v |= (1 << 17) | (1 << 19)
            return v
        return read_status

    def _ctrl_reader(self, i):
        return lambda: self.ctrl[i]

    def _ctrl_writer(self, i):
        def write_ctrl(v):
            old = self.ctrl[i] & 0x1F
            self.ctrl[i] = v & 0x3033331F
            self._drive(i)
            self._recompute_levels()
            new = v & 0x1F
            if new != old and self.func_notify:
                for f in {self.func_notify.get((old, i)), self.func_notify.get((new, i))}:
                    if f is not None:
                        f()
        return write_ctrl

    # -- interrupts --------------------------------------------------------------------------------
    def _raw(self, k):
        v = 0
        lv = self.levels
        for j in range(8):
            i = 8 * k + j
            if i >= NPINS:
                break
            bits = (2 if lv >> i & 1 else 1) | ((self.edges >> (4 * i)) & 0xC)
            v |= bits << (4 * j)
        return v

    def _intr_reader(self, k):
        return lambda: self._raw(k)

    def _intr_writer(self, k):
        def write_intr(v):
            mask = 0
            for j in range(8):
                mask |= ((v >> (4 * j)) & 0xC) << (4 * (8 * k + j))
            self.edges &= ~mask
            self._update_irq()
        return write_intr

    def _arr_reader(self, name, k):
        return lambda: self.arr[name][k]

    def _arr_writer(self, name, k):
        def write_arr(v):
            self.arr[name][k] = v & 0xFFFFFFFF
            self._update_irq()
        return write_arr

    def _ints0(self, k):
        return (self._raw(k) | self.arr["intf"][k]) & self.arr["inte"][k]

    def _ints1(self, k):
        return (self._raw(k) | self.arr["intf1"][k]) & self.arr["inte1"][k]

    def _ints_dw(self, k):
        return (self._raw(k) | self.arr["dwake_f"][k]) & self.arr["dwake_e"][k]

    def _update_irq(self):
        if not hasattr(self, "arr"):
            return
        inte, intf = self.arr["inte"], self.arr["intf"]
        level = False
        for k in range(4):
            if inte[k] and ((self._raw(k) | intf[k]) & inte[k]):
                level = True
                break
            if intf[k] & inte[k]:
                level = True
                break
        if level != self._line:
            self._line = level
            if self.irqs:
                self.irqs[0].set(level)


def _ignore(_v):
    pass


MODEL = IoBank0
