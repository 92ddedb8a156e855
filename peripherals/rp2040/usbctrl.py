"""USBCTRL (registers 0x50110000, DPRAM 0x50100000, USBCTRL_IRQ 5): the RP2040 USB device
controller, with a built-in USB host on the other side of the cable (``usb_host.CdcHost``)
that enumerates the firmware's CDC-ACM device and bridges it to the board console.

DPRAM layout (device mode, datasheet 4.1.2.5): setup packet at 0x000, endpoint control
EPn IN/OUT at 0x008 + 8(n-1) / +4, buffer control EPn IN/OUT at 0x080 + 8n / +4, EP0 buffer at
0x100. Buffer control: LEN 9:0, AVAILABLE 10, STALL 11, PID 13, LAST 14, FULL 15 for buffer 0;
the same in 31:16 for buffer 1. When firmware makes a buffer AVAILABLE, the host side takes it
(IN: data read, FULL cleared) or fills it (OUT: data written, LEN, FULL set) once it has
something to send, clears AVAILABLE and sets BUFF_STATUS bit 2n (IN) / 2n+1 (OUT).

Interrupt sources (INTR): BUFF_STATUS (any BUFF_STATUS bit), SETUP_REQ (SIE_STATUS.SETUP_REC),
BUS_RESET (SIE_STATUS.BUS_RESET), DEV_CONN_DIS (connection changed; cleared by writing
SIE_STATUS.CONNECTED), DEV_SUSPEND, DEV_RESUME_FROM_HOST, DEV_SOF (cleared by reading SOF_RD).
"""
from __future__ import annotations

from boardemu.emulator.peripheral import Peripheral

from ._base import RpPeripheral
from .usb_host import CdcHost

INTR_BUFF_STATUS, INTR_BUS_RESET, INTR_DEV_CONN_DIS = 1 << 4, 1 << 12, 1 << 13
INTR_DEV_SUSPEND, INTR_DEV_RESUME, INTR_SETUP_REQ, INTR_DEV_SOF = 1 << 14, 1 << 15, 1 << 16, 1 << 17
ST_SUSPENDED, ST_RESUME, ST_CONNECTED, ST_SETUP_REC, ST_BUS_RESET = 1 << 4, 1 << 11, 1 << 16, 1 << 17, 1 << 19
ST_W1C = 0xFF0F0810 | ST_SUSPENDED        # write-1-to-clear bits of SIE_STATUS
SIE_PULLUP_EN = 1 << 16
MAIN_CONTROLLER_EN = 1

BUF_AVAIL, BUF_FULL, BUF_LEN = 1 << 10, 1 << 15, 0x3FF


class DpRam(Peripheral):
    """The 4 KiB dual-port RAM (plain memory for the CPU; buffer-control writes wake the host)."""
    size = 0x1000

    def __init__(self, machine, name, base, ctrl):
        self.ctrl = ctrl
        self.mem = bytearray(0x1000)
        super().__init__(machine, name, base)

    def reset(self):
        self.mem[:] = bytes(0x1000)

    def mmio_read(self, uc, offset, size, _ud):
        return int.from_bytes(self.mem[offset:offset + size], "little")

    def mmio_write(self, uc, offset, size, value, _ud):
        self.mem[offset:offset + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if 0x80 <= offset < 0x100:
            self.ctrl.buffer_control_written((offset - 0x80) >> 2)

    # helpers for the host side
    def word(self, off):
        return int.from_bytes(self.mem[off:off + 4], "little")

    def set_word(self, off, v):
        self.mem[off:off + 4] = (v & 0xFFFFFFFF).to_bytes(4, "little")


class UsbCtrl(RpPeripheral):
    REGS = {0x00: "addr_endp", 0x40: "main_ctrl", 0x48: "sof_rd", 0x4c: "sie_ctrl",
            0x50: "sie_status", 0x58: "buff_status", 0x5c: "buff_cpu_should_handle",
            0x60: "ep_abort", 0x64: "ep_abort_done", 0x70: "ep_status_stall_nak",
            0x8c: "intr", 0x90: "inte", 0x94: "intf", 0x98: "ints"}
    PLAIN = {0x44: ("sof_wr", 0x7FF, 0), 0x54: ("int_ep_ctrl", 0xFFFE, 0), 0x68: ("ep_stall_arm", 3, 0),
             0x6c: ("nak_poll", 0x3FF03FF, 0x100010), 0x74: ("usb_muxing", 0xF, 0),
             0x78: ("usb_pwr", 0x3F, 0), 0x7c: ("usbphy_direct", 0x7FFFFF, 0),
             0x80: ("usbphy_direct_override", 0xFFFF, 0), 0x84: ("usbphy_trim", 0x1F1F, 0x1F1F)}
    W1C = frozenset({0x50, 0x58, 0x64, 0x70})

    def __init__(self, machine, name, base, irqs=(), dpram=0x50100000, console=None, **config):
        self.dpram = DpRam(machine, f"{name}_dpram", dpram, self)
        machine.bus.add_peripheral(self.dpram)
        self.channel = machine.channel(console or name)
        self.host = None
        self._line = False
        super().__init__(machine, name, base, irqs=irqs, **config)
        self.host = CdcHost(self, self.channel)
        for i in range(1, 16):
            self._rtab[4 * i] = self._addr_reader(i)
            self._wtab[4 * i] = self._addr_writer(i)
        for off in (0x48, 0x5c, 0x88, 0x8c, 0x98):          # read-only (rp2040_usb_init clears all)
            self._wtab[off] = _ignore
        self._rtab.setdefault(0x88, lambda: 0)

    def reset(self):
        super().reset()
        self.dpram.reset()
        self.addr_endp = [0] * 16
        self.main_ctrl = 0
        self.sie_ctrl = 0
        self.sie_status = 0
        self.buff_status = 0
        self.abort = 0
        self.conn_dis = False
        self.sof_latch = False
        self.frame = 0
        self.inte = 0
        self.intf = 0
        self._update()
        if self.host is not None:
            self.host.reset()

    # -- interrupts ------------------------------------------------------------------------------
    def raw_intr(self):
        st = self.sie_status
        v = 0
        if self.buff_status:
            v |= INTR_BUFF_STATUS
        if st & ST_SETUP_REC:
            v |= INTR_SETUP_REQ
        if st & ST_BUS_RESET:
            v |= INTR_BUS_RESET
        if self.conn_dis:
            v |= INTR_DEV_CONN_DIS
        if st & ST_SUSPENDED:
            v |= INTR_DEV_SUSPEND
        if st & ST_RESUME:
            v |= INTR_DEV_RESUME
        if self.sof_latch:
            v |= INTR_DEV_SOF
        return v

    def _update(self):
        level = bool((self.raw_intr() | self.intf) & self.inte)
        if level != self._line:
            self._line = level
            if self.irqs:
                self.irqs[0].set(level)

    def read_intr(self):
        return self.raw_intr()

    def write_intr(self, v):
        pass

    def read_inte(self):
        return self.inte

    def write_inte(self, v):
        was = self.inte
        self.inte = v & 0xFFFFF
        self._update()
        if self.inte & INTR_DEV_SOF and not was & INTR_DEV_SOF and self.host is not None:
            self.host.sof_wanted()

    def read_intf(self):
        return self.intf

    def write_intf(self, v):
        self.intf = v & 0xFFFFF
        self._update()

    def read_ints(self):
        return (self.raw_intr() | self.intf) & self.inte

    # -- registers ---------------------------------------------------------------------------------
    def read_addr_endp(self):
        return self.addr_endp[0]

    def write_addr_endp(self, v):
        self.addr_endp[0] = v & 0xF007F

    def _addr_reader(self, i):
        return lambda: self.addr_endp[i]

    def _addr_writer(self, i):
        def write_addr(v):
            self.addr_endp[i] = v & 0x60F007F
        return write_addr

    def read_main_ctrl(self):
        return self.main_ctrl

    def write_main_ctrl(self, v):
        self.main_ctrl = v & 0x80000003
        self._connection_changed()

    def read_sie_ctrl(self):
        return self.sie_ctrl

    def write_sie_ctrl(self, v):
        self.sie_ctrl = v & 0xFF07FFFF
        self._connection_changed()

    def _connection_changed(self):
        up = bool(self.main_ctrl & MAIN_CONTROLLER_EN) and bool(self.sie_ctrl & SIE_PULLUP_EN) \
            and not self.main_ctrl & 2
        if self.host is not None:
            self.host.pullup(up)

    def read_sie_status(self):
        return self.sie_status

    def write_sie_status(self, v):
        if v & ST_CONNECTED:
            self.conn_dis = False
        self.sie_status &= ~(v & (ST_W1C | ST_SETUP_REC | ST_BUS_RESET))
        self._update()
        if v & ST_BUS_RESET and self.host is not None:
            self.host.bus_reset_acknowledged()

    def read_sof_rd(self):
        self.sof_latch = False
        self._update()
        return self.frame

    def read_buff_status(self):
        return self.buff_status

    def write_buff_status(self, v):
        self.buff_status &= ~v
        self._update()

    def read_buff_cpu_should_handle(self):
        return 0

    def read_ep_abort(self):
        return self.abort

    def write_ep_abort(self, v):
        self.abort = v

    def read_ep_abort_done(self):
        return self.abort                    # aborts complete at once

    def write_ep_abort_done(self, v):
        pass

    def read_ep_status_stall_nak(self):
        return 0

    def write_ep_status_stall_nak(self, v):
        pass

    # -- the device side as the host sees it -----------------------------------------------------
    def buffer_control_written(self, index):
        """Buffer control word ``index`` (2n = EPn IN, 2n+1 = EPn OUT) was written."""
        if self.host is not None and self.dpram.word(0x80 + 4 * index) & (BUF_AVAIL | (BUF_AVAIL << 16)):
            self.host.buffer_armed(index)

    def set_status(self, bits):
        self.sie_status |= bits
        self._update()

    def clear_status(self, bits):
        self.sie_status &= ~bits
        self._update()

    def buffer_done(self, index):
        self.buff_status |= 1 << index
        self._update()

    def connection_event(self):
        self.conn_dis = True
        self._update()

    def sof(self):
        self.frame = (self.frame + 1) & 0x7FF
        self.sof_latch = True
        self._update()


def _ignore(_v):
    pass


MODEL = UsbCtrl
