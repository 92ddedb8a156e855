"""nRF51 TWI master (I2C), SPI0_TWI0 / SPI1_TWI1 blocks with ENABLE = 5.

Transfers take bus time at FREQUENCY (9 bit times per byte, START + address, STOP), as
scheduled events. STARTTX / STARTRX address the part attached at ADDRESS on this bus
(``attach``); no part means no ACK: ERROR with ERRORSRC.ANACK (the transfer then waits for
STOP). A byte boundary (BB) comes at the start of each data byte; the shortcuts BB_SUSPEND /
BB_STOP and the SUSPEND / STOP tasks take effect when that byte is done. Received bytes go to
RXD (RXDREADY); without a pending suspend/stop the next byte starts when RXD has been read.
Written TXD bytes are sent (TXDSENT, or ERROR with DNACK). Each finished transfer is reported
as an ``i2c`` event (bus, addr, write, read, ack).

Parts implement ``i2c_start(read) -> ack``, ``i2c_write(byte) -> ack``, ``i2c_read() -> byte``
and ``i2c_stop()``.
"""
from __future__ import annotations

from boardemu.emulator import events as ev

from ._base import NrfPeripheral

STOPPED, RXDREADY, TXDSENT, ERROR, BB, SUSPENDED = 1 << 1, 1 << 2, 1 << 7, 1 << 9, 1 << 14, 1 << 18
BB_SUSPEND, BB_STOP = 1, 2
ANACK, DNACK, OVERRUN = 2, 4, 1
ENABLE_TWI = 5


class Twi(NrfPeripheral):
    TASKS = {0x000: "startrx", 0x008: "starttx", 0x014: "stop", 0x01C: "suspend", 0x020: "resume"}
    EVENTS = {0x104: "stopped", 0x108: "rxdready", 0x11C: "txdsent", 0x124: "error", 0x138: "bb",
              0x148: "suspended"}
    SHORTS_MASK = 3
    PLAIN = {
        0x500: ("enable", 7, 0),
        0x508: ("pselscl", 0xFFFFFFFF, 0xFFFFFFFF),
        0x50C: ("pselsda", 0xFFFFFFFF, 0xFFFFFFFF),
        0x524: ("frequency", 0xFFFFFFFF, 0x04000000),
        0x588: ("address", 0x7F, 0),
    }
    REGS = {0x4C4: "errorsrc", 0x518: "rxd", 0x51C: "txd"}

    def __init__(self, machine, name, base, irqs=(), **config):
        self.devices = {}
        self._timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)

    def attach(self, address: int, device):
        """Put an I2C part on this bus at 7-bit ``address``."""
        self.devices[address & 0x7F] = device

    def reset(self):
        self.cancel_timer()
        super().reset()
        self.errorsrc = 0
        self.rxd = 0
        self.txd = 0
        self.txd_pending = False
        self.state = "idle"        # idle addr rx_byte tx_byte wait_rxd wait_tx suspended nack stopping
        self.reading = False
        self.dev = None
        self.stop_pending = False
        self.suspend_pending = False
        self._log_addr = None
        self._log_w = bytearray()
        self._log_r = bytearray()
        self._bit = self._bit_cycles()

    def _bit_cycles(self):
        bps = self.regs[0x524] * 16_000_000 / (1 << 32)
        return max(1, round(self.clock.hz / (bps if bps >= 1000 else 250_000)))

    def plain_written(self, off, value):
        if off == 0x524:
            self._bit = self._bit_cycles()
        elif off == 0x500 and value != ENABLE_TWI:
            self.cancel_timer()
            self.state = "idle"
            self.dev = None

    def _after_bits(self, bits, fn, *args):
        self.cancel_timer()
        self._timer = self.clock.after(bits * self._bit, fn, *args)

    # -- address phase -----------------------------------------------------------------------
    def _start(self, read):
        if self.regs[0x500] != ENABLE_TWI:
            return
        if self._log_addr is not None:
            self._report()                 # repeated start: the previous transfer ends here
        if self.dev is not None:
            self.dev.i2c_stop()
        self._log_addr = self.regs[0x588]
        self.reading = read
        self.dev = None
        self.stop_pending = self.suspend_pending = False
        self.state = "addr"
        self._after_bits(10, self._addr_done, read)      # START + 7-bit address + R/W + ACK

    def _addr_done(self, read):
        self._timer = None
        dev = self.devices.get(self._log_addr)
        if dev is None or not dev.i2c_start(read):
            self.state = "nack"
            self.errorsrc |= ANACK
            self.fire(ERROR)
            if self.stop_pending:
                self._do_stop()
            return
        self.dev = dev
        if read:
            self._begin_rx()
        elif self.stop_pending:
            self._do_stop()
        elif self.txd_pending:
            self._begin_tx()
        else:
            self.state = "wait_tx"

    def task_starttx(self):
        self._start(False)

    def task_startrx(self):
        self._start(True)

    # -- bytes --------------------------------------------------------------------------------
    def _byte_boundary(self):
        self.fire(BB)
        if self.shorts & BB_SUSPEND:
            self.suspend_pending = True
        if self.shorts & BB_STOP:
            self.stop_pending = True

    def _begin_rx(self):
        self.state = "rx_byte"
        self._byte_boundary()
        self._after_bits(9, self._rx_done)

    def _rx_done(self):
        self._timer = None
        b = self.dev.i2c_read() & 0xFF
        self._log_r.append(b)
        self.rxd = b
        self.fire(RXDREADY)
        self._after_byte("wait_rxd")

    def _begin_tx(self):
        self.state = "tx_byte"
        self.txd_pending = False
        b = self.txd
        self._byte_boundary()
        self._after_bits(9, self._tx_done, b)

    def _tx_done(self, b):
        self._timer = None
        self._log_w.append(b)
        if not self.dev.i2c_write(b):
            self.errorsrc |= DNACK
            self.fire(ERROR)
        else:
            self.fire(TXDSENT)
        self._after_byte("wait_tx")

    def _after_byte(self, waiting):
        if self.stop_pending:
            self._do_stop()
        elif self.suspend_pending:
            self.suspend_pending = False
            self.state = "suspended"
            self.fire(SUSPENDED)
        elif waiting == "wait_tx" and self.txd_pending:
            self._begin_tx()
        else:
            self.state = waiting

    # -- STOP / SUSPEND / RESUME -------------------------------------------------------------------
    def _do_stop(self):
        self.state = "stopping"
        self.stop_pending = False
        self._after_bits(2, self._stopped)

    def _stopped(self):
        self._timer = None
        if self.dev is not None:
            self.dev.i2c_stop()
        self._report()
        self.dev = None
        self.state = "idle"
        self.fire(STOPPED)

    def task_stop(self):
        st = self.state
        if st in ("addr", "rx_byte", "tx_byte"):
            self.stop_pending = True
        elif st in ("wait_rxd", "wait_tx", "suspended", "nack"):
            self._do_stop()

    def task_suspend(self):
        st = self.state
        if st in ("addr", "rx_byte", "tx_byte"):
            self.suspend_pending = True
        elif st in ("wait_rxd", "wait_tx"):
            self.state = "suspended"
            self.fire(SUSPENDED)

    def task_resume(self):
        if self.state != "suspended":
            return
        if self.reading:
            self._begin_rx()
        elif self.txd_pending:
            self._begin_tx()
        else:
            self.state = "wait_tx"

    def _report(self):
        if self._log_addr is None:
            return
        events = self.machine.events
        if events.wants(ev.I2C):
            events.emit(ev.I2C, bus=self.name, addr=self._log_addr, write=bytes(self._log_w),
                        read=bytes(self._log_r), ack=self.dev is not None)
        self._log_addr = None
        self._log_w = bytearray()
        self._log_r = bytearray()

    # -- registers ----------------------------------------------------------------------------
    def read_errorsrc(self):
        return self.errorsrc

    def write_errorsrc(self, value):
        self.errorsrc &= ~value

    def read_rxd(self):
        if self.state == "wait_rxd":
            self._begin_rx()
        return self.rxd

    def write_rxd(self, value):
        pass

    def read_txd(self):
        return self.txd

    def write_txd(self, value):
        self.txd = value & 0xFF
        self.txd_pending = True
        if self.state == "wait_tx":
            self._begin_tx()


MODEL = Twi
