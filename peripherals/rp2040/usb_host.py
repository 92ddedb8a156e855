"""A USB host on the far end of the Pico's cable: enumerates the firmware's CDC-ACM device
through the RP2040 device controller model and bridges its bulk endpoints to a console
channel (what a PC's cdc_acm driver does).

Sequence (after the firmware enables its pull-up): bus reset; SET_ADDRESS; GET_DESCRIPTOR
device; GET_DESCRIPTOR configuration (9 bytes, then all of it); SET_CONFIGURATION; CDC
SET_LINE_CODING (115200 8N1) and SET_CONTROL_LINE_STATE (DTR and RTS on: MicroPython writes
to the CDC port only while DTR is set). Then:

* device -> host: whenever the firmware arms the bulk IN endpoint, the packet is taken and
  its bytes go to the channel (``Channel.put``);
* host -> device: bytes the host side queued (``Channel.send``) go into the bulk OUT buffer
  when the firmware has armed it, 64 bytes per packet; with nothing to send the buffer stays
  armed (NAK on the wire): no polling, no interrupts;
* DTR/RTS changes from a host link become SET_CONTROL_LINE_STATE requests; bulk OUT data
  waits until they are done (a port's open raises DTR before the program can write);
* SOF: one per millisecond of board time while the firmware enables the SOF interrupt
  (TinyUSB's RP2040-E15 workaround defers bulk IN buffers to the next SOF).

A chip reset (or the firmware dropping its pull-up) detaches the device; the host
enumerates it again when it reconnects. Control transfers are generator-driven: each
``yield`` waits for the firmware (a buffer armed, the bus reset acknowledged) or for time.
"""
from __future__ import annotations

from collections import deque

from boardemu.emulator import events as ev

BUF_AVAIL, BUF_FULL, BUF_LEN, BUF_LAST, BUF_PID = 1 << 10, 1 << 15, 0x3FF, 1 << 14, 1 << 13
ST_VBUS, ST_LINE_J, ST_CONNECTED, ST_SETUP_REC, ST_BUS_RESET = 1, 1 << 2, 1 << 16, 1 << 17, 1 << 19
EP_DOUBLE = 1 << 30

ATTACH_DELAY_US = 1000          # debounce after the pull-up appears
BUS_RESET_US = 100
STEP_US = 20                    # host turnaround between transactions
BYTE_NS = 700                   # ~12 Mbit/s with bit stuffing and packet overhead


def setup_packet(bm, req, value=0, index=0, length=0) -> bytes:
    return bytes([bm, req]) + value.to_bytes(2, "little") + index.to_bytes(2, "little") + \
        length.to_bytes(2, "little")


class CdcHost:
    def __init__(self, ctrl, channel):
        self.ctrl = ctrl
        self.dp = ctrl.dpram
        self.machine = ctrl.machine
        self.clock = ctrl.machine.clock
        self.channel = channel
        channel.device_notify = self._host_data
        channel.line_state_notify = self._line_state
        self.line = (True, True)                 # DTR, RTS as the host wants them
        self._timers = []
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------------
    def reset(self):
        for t in self._timers:
            t.cancel()
        self._timers = []
        self.attached = False
        self.configured = False
        self.proc = None            # running control sequence (generator)
        self.wait = None            # what it waits for: ("in", idx) / ("out", idx, data) / ("reset-ack",)
        self.ep_in = self.ep_out = None
        self.comm_if = 0
        self.pending_ctrl = deque()
        self.lines_pending = 0      # line-state requests queued or running (bulk OUT waits)
        self.epoch = getattr(self, "epoch", 0) + 1
        self.in_busy = False
        self.out_busy = False
        self.sof_timer = None

    def _after_us(self, us, fn, *args):
        t = self.clock.after(max(1, us * self.clock.hz // 1_000_000), fn, *args)
        self._timers.append(t)
        if len(self._timers) > 64:
            self._timers = [x for x in self._timers if not x.cancelled]
        return t

    def pullup(self, up: bool):
        if up and not self.attached:
            self.attached = True
            self.ctrl.set_status(ST_VBUS)
            self._after_us(ATTACH_DELAY_US, self._start)
        elif not up and self.attached:
            self.reset()
            self.ctrl.clear_status(ST_CONNECTED | ST_LINE_J)
            self.ctrl.connection_event()
            self._emit("detached")

    def _emit(self, what, **data):
        self.machine.events.emit(ev.WARNING if what == "error" else "usb", port=self.channel.name,
                                 what=what, **data)

    def _start(self):
        if not self.attached:
            return
        self.proc = self._enumerate()
        self._resume(None)

    # -- the generator machinery -------------------------------------------------------------------
    def _resume(self, value):
        if self.proc is None:
            return
        try:
            self.wait = self.proc.send(value)
        except StopIteration:
            self.proc = None
            self.wait = None
            self._next_control()
            return
        except UsbError as e:
            self.proc = None
            self.wait = None
            self._emit("error", message=f"USB host: {e}")
            return
        w = self.wait
        if w[0] == "time":
            self._after_us(w[1], self._resume, None)
        elif w[0] in ("in", "out"):
            self._try_wait()

    def _try_wait(self):
        w = self.wait
        if w is None or w[0] not in ("in", "out"):
            return
        idx = w[1]
        if not self._armed(idx):
            return
        self.wait = ("busy",)
        if w[0] == "in":
            data = self._take_in(idx)
            self._after_us(STEP_US + len(data) * BYTE_NS // 1000, self._complete_ctrl, idx, data)
        else:
            self._give_out(idx, w[2])
            self._after_us(STEP_US + len(w[2]) * BYTE_NS // 1000, self._complete_ctrl, idx, None)

    def _complete_ctrl(self, idx, data):
        self.ctrl.buffer_done(idx)
        self._after_us(STEP_US, self._resume, data)

    # -- buffers ---------------------------------------------------------------------------------------
    def _bc_off(self, idx):
        return 0x80 + 4 * idx

    def _data_off(self, idx):
        n = idx >> 1
        if n == 0:
            return 0x100
        ep_ctrl = self.dp.word(0x08 + 8 * (n - 1) + (4 if idx & 1 else 0))
        return ep_ctrl & 0xFFC0

    def _double(self, idx):
        n = idx >> 1
        if n == 0:
            return False
        return bool(self.dp.word(0x08 + 8 * (n - 1) + (4 if idx & 1 else 0)) & EP_DOUBLE)

    def _armed(self, idx):
        return bool(self.dp.word(self._bc_off(idx)) & BUF_AVAIL)

    def _take_in(self, idx) -> bytes:
        """The host reads the armed IN buffer(s) of ``idx``: returns the bytes."""
        off = self._bc_off(idx)
        bc = self.dp.word(off)
        base = self._data_off(idx)
        n0 = bc & BUF_LEN
        data = bytes(self.dp.mem[base:base + n0])
        bc &= ~(BUF_AVAIL | BUF_FULL)
        if self._double(idx) and n0 == 64 and (bc >> 16) & BUF_AVAIL:
            n1 = (bc >> 16) & BUF_LEN
            data += bytes(self.dp.mem[base + 64:base + 64 + n1])
            bc &= ~((BUF_AVAIL | BUF_FULL) << 16)
        self.dp.set_word(off, bc)
        return data

    def _give_out(self, idx, data: bytes):
        off = self._bc_off(idx)
        bc = self.dp.word(off)
        base = self._data_off(idx)
        n = len(data)
        self.dp.mem[base:base + n] = data
        bc = (bc & ~(BUF_AVAIL | BUF_LEN)) | BUF_FULL | n
        self.dp.set_word(off, bc)

    def buffer_armed(self, idx):
        """The firmware made buffer ``idx`` available (called from the DPRAM write)."""
        if self.wait is not None and self.wait[0] in ("in", "out") and self.wait[1] == idx:
            self._after_us(1, self._try_wait)
            return
        if not self.configured:
            return
        if idx == self.ep_in and not self.in_busy:
            self.in_busy = True
            self._after_us(1, self._pump_in)
        elif idx == self.ep_out and not self.out_busy:
            self._pump_out()

    # -- data endpoints ------------------------------------------------------------------------------
    def _pump_in(self):
        if not self.configured or not self._armed(self.ep_in):
            self.in_busy = False
            return
        data = self._take_in(self.ep_in)
        self._after_us(STEP_US + len(data) * BYTE_NS // 1000, self._in_done, data)

    def _in_done(self, data):
        self.in_busy = False
        if not self.configured:
            return
        self.ctrl.buffer_done(self.ep_in)
        if data:
            self.channel.put(data)
        if self._armed(self.ep_in):
            self.in_busy = True
            self._after_us(1, self._pump_in)

    def _host_data(self):
        if self.configured and not self.out_busy:
            self._pump_out()

    def _pump_out(self):
        idx = self.ep_out
        if (not self.configured or self.lines_pending or not self._armed(idx)
                or not self.channel.rx_available()):
            return
        room = self.dp.word(self._bc_off(idx)) & BUF_LEN or 64
        data = self.channel.rx_take(min(64, room))
        self._give_out(idx, data)
        self.out_busy = True
        self._after_us(STEP_US + len(data) * BYTE_NS // 1000, self._out_done)

    def _out_done(self):
        self.out_busy = False
        if not self.configured:
            return
        self.ctrl.buffer_done(self.ep_out)
        self._pump_out()

    # -- SOF -----------------------------------------------------------------------------------------
    def sof_wanted(self):
        if self.sof_timer is None and self.attached:
            self.sof_timer = self._after_us(1000, self._sof)

    def _sof(self):
        self.sof_timer = None
        if not self.attached:
            return
        self.ctrl.sof()
        if self.ctrl.inte & (1 << 17):
            self.sof_timer = self._after_us(1000, self._sof)

    # -- line state -------------------------------------------------------------------------------------
    def _line_state(self, dtr, rts):
        self.line = (bool(dtr), bool(rts))
        if self.configured:
            self.lines_pending += 1
            self.pending_ctrl.append(self._line_state_request(self.epoch))
            if self.proc is None:
                self._next_control()

    def _line_state_request(self, epoch):
        """SET_CONTROL_LINE_STATE; bulk OUT data waits until it is done, as a PC's driver
        finishes it in open() before the program can write (data typed into a port that has
        just been opened must not reach the firmware while it still thinks DTR is low:
        MicroPython drops its output then)."""
        try:
            yield from self._set_line_state()
        finally:
            if epoch == self.epoch:             # not one dropped by a reset (closed later by GC)
                self.lines_pending -= 1
                if not self.lines_pending:
                    self._pump_out()

    def _next_control(self):
        if self.proc is None and self.pending_ctrl:
            self.proc = self.pending_ctrl.popleft()
            self._resume(None)

    # -- control transfers ---------------------------------------------------------------------------
    def bus_reset_acknowledged(self):
        if self.wait is not None and self.wait[0] == "reset-ack":
            self.wait = ("busy",)
            self._after_us(STEP_US, self._resume, None)

    def _control(self, setup: bytes, data_out: bytes = b""):
        self.dp.mem[0:8] = setup
        self.ctrl.set_status(ST_SETUP_REC)
        length = int.from_bytes(setup[6:8], "little")
        if setup[0] & 0x80:                                  # IN data stage
            data = b""
            while True:
                chunk = yield ("in", 0)
                data += chunk
                if len(chunk) < 64 or len(data) >= length:
                    break
            yield ("out", 1, b"")                             # status stage: ZLP OUT
            return data
        for i in range(0, len(data_out), 64):
            yield ("out", 1, data_out[i:i + 64])
        yield ("in", 0)                                       # status stage: ZLP IN
        return b""

    def _enumerate(self):
        ctrl = self.ctrl
        ctrl.set_status(ST_BUS_RESET)
        yield ("reset-ack",)
        ctrl.set_status(ST_CONNECTED | ST_LINE_J | ST_VBUS)
        ctrl.connection_event()
        yield ("time", BUS_RESET_US)
        yield from self._control(setup_packet(0x00, 5, value=1))             # SET_ADDRESS 1
        dev = yield from self._control(setup_packet(0x80, 6, value=0x0100, length=18))
        if len(dev) < 18:
            raise UsbError(f"short device descriptor ({len(dev)} bytes)")
        head = yield from self._control(setup_packet(0x80, 6, value=0x0200, length=9))
        if len(head) < 9:
            raise UsbError("short configuration descriptor")
        total = int.from_bytes(head[2:4], "little")
        conf = yield from self._control(setup_packet(0x80, 6, value=0x0200, length=total))
        self._parse_config(conf)
        yield from self._control(setup_packet(0x00, 9, value=conf[5]))     # SET_CONFIGURATION
        coding = (115200).to_bytes(4, "little") + bytes([0, 0, 8])
        yield from self._control(setup_packet(0x21, 0x20, index=self.comm_if, length=7), coding)
        self.configured = True
        self._emit("configured", vid=int.from_bytes(dev[8:10], "little"),
                   pid=int.from_bytes(dev[10:12], "little"))
        yield from self._set_line_state()
        if self._armed(self.ep_in):
            self.buffer_armed(self.ep_in)
        self._pump_out()

    def _set_line_state(self):
        dtr, rts = self.line
        yield from self._control(setup_packet(0x21, 0x22, value=(1 if dtr else 0) | (2 if rts else 0),
                                              index=self.comm_if))

    def _parse_config(self, conf: bytes):
        i = 0
        cur_class = None
        cur_if = None
        ep_in = ep_out = None
        while i + 2 <= len(conf):
            n, kind = conf[i], conf[i + 1]
            if n < 2:
                break
            if kind == 4 and n >= 9:                          # interface
                cur_if, cur_class = conf[i + 2], conf[i + 5]
                if cur_class == 0x02:
                    self.comm_if = cur_if
            elif kind == 5 and n >= 7 and cur_class == 0x0A:  # endpoint of the CDC data interface
                addr, attrs = conf[i + 2], conf[i + 3]
                if attrs & 3 == 2:
                    if addr & 0x80:
                        ep_in = addr & 0xF
                    else:
                        ep_out = addr & 0xF
            i += n
        if ep_in is None or ep_out is None:
            raise UsbError("no CDC data interface with bulk IN and OUT endpoints in the configuration")
        self.ep_in = 2 * ep_in
        self.ep_out = 2 * ep_out + 1


class UsbError(Exception):
    pass
