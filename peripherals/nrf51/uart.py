"""nRF51 UART0: the board console.

TX: a byte written to TXD (UART enabled, STARTTX given) goes to the console channel, and
TXDRDY follows one character time later (10 bits at BAUDRATE); bytes written back to back are
serialised. ``config.tx_timing = "immediate"`` raises TXDRDY at once instead (no line time:
firmware that busy-polls TXDRDY then prints at emulator speed, but output takes no board
time). A UART whose TXD pin is not connected (PSELTXD = 0xFFFFFFFF, e.g. mbed's dummy write
at init) sends nothing anywhere.

RX: after STARTRX, host bytes arrive at the line rate into the 6-byte RX FIFO, but only while
the FIFO has room: input is never dropped (the host is flow-controlled instead). The FIFO head
is in RXD; each byte moved into RXD raises RXDRDY; reading RXD pops it.
"""
from __future__ import annotations

from collections import deque

from boardemu.emulator import events as ev

from ._base import NrfPeripheral

RXDRDY, TXDRDY, ERROR, RXTO = 1 << 2, 1 << 7, 1 << 9, 1 << 17
PSEL_DISCONNECTED = 0xFFFFFFFF


class Uart(NrfPeripheral):
    TASKS = {0x000: "startrx", 0x004: "stoprx", 0x008: "starttx", 0x00C: "stoptx", 0x01C: "suspend"}
    EVENTS = {0x100: "cts", 0x104: "ncts", 0x108: "rxdrdy", 0x11C: "txdrdy", 0x124: "error", 0x144: "rxto"}
    SHORTS_MASK = 0x18                 # CTS_STARTRX, NCTS_STOPRX
    PLAIN = {
        0x500: ("enable", 0x7, 0),
        0x508: ("pselrts", 0xFFFFFFFF, PSEL_DISCONNECTED),
        0x50C: ("pseltxd", 0xFFFFFFFF, PSEL_DISCONNECTED),
        0x510: ("pselcts", 0xFFFFFFFF, PSEL_DISCONNECTED),
        0x514: ("pselrxd", 0xFFFFFFFF, PSEL_DISCONNECTED),
        0x524: ("baudrate", 0xFFFFFFFF, 0x04000000),
        0x56C: ("config", 0xF, 0),
    }
    REGS = {0x480: "errorsrc", 0x518: "rxd", 0x51C: "txd"}

    def __init__(self, machine, name, base, irqs=(), fifo=6, tx_timing="line", **config):
        if tx_timing not in ("line", "immediate"):
            raise TypeError(f"tx_timing must be 'line' or 'immediate', not {tx_timing!r}")
        self.tx_immediate = tx_timing == "immediate"
        self.channel = machine.channel(name)
        self.fifo_size = max(1, int(fifo))
        self._rx_timer = None
        self._tx_timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)
        self.channel.device_notify = self._host_data

    def reset(self):
        for t in (self._rx_timer, self._tx_timer):
            if t is not None:
                t.cancel()
        self._rx_timer = self._tx_timer = None
        super().reset()
        self.rx_on = False
        self.tx_on = False
        self.rxd = 0
        self.rxd_valid = False
        self.fifo = deque()
        self.errorsrc = 0
        self.tx_free_at = 0              # cycle at which the line is free
        self.tx_queue = 0                # bytes written whose TXDRDY is still due
        self._char_cycles = self._compute_char_cycles()

    def _compute_char_cycles(self):
        baud = self.regs[0x524] * 16_000_000 / (1 << 32)
        if baud < 300:
            baud = 9600
        bits = 10 + (1 if self.regs[0x56C] & 0xE else 0)     # parity adds a bit
        return max(1, round(bits * self.clock.hz / baud))

    def plain_written(self, off, value):
        if off in (0x524, 0x56C):
            self._char_cycles = self._compute_char_cycles()
        elif off == 0x500 and value != 4:
            self.rx_on = self.tx_on = False

    @property
    def enabled(self):
        return self.regs[0x500] == 4

    # -- TX ----------------------------------------------------------------------------------
    def task_starttx(self):
        if self.enabled:
            self.tx_on = True

    def task_stoptx(self):
        self.tx_on = False

    def task_suspend(self):
        self.tx_on = False
        self.rx_on = False

    def read_txd(self):
        return 0

    def write_txd(self, value):
        if not (self.enabled and self.tx_on):
            return
        now = self.clock.now()
        start = max(now, self.tx_free_at)
        self.tx_free_at = start + self._char_cycles
        if self.regs[0x50C] != PSEL_DISCONNECTED:
            self.channel.put(bytes((value & 0xFF,)))
        if self.tx_immediate:
            self.tx_free_at = now
            self.fire(TXDRDY)
            return
        self.tx_queue += 1
        if self._tx_timer is None:
            self._tx_timer = self.clock.at(start + self._char_cycles, self._tx_done)

    def _tx_done(self):
        self._tx_timer = None
        self.tx_queue -= 1
        self.fire(TXDRDY)
        if self.tx_queue > 0:
            self._tx_timer = self.clock.after(self._char_cycles, self._tx_done)

    # -- RX ----------------------------------------------------------------------------------
    def task_startrx(self):
        if self.enabled:
            self.rx_on = True
            self._host_data()

    def task_stoprx(self):
        self.rx_on = False
        self.cancel_timer("_rx_timer")
        self.fire(RXTO)

    def _host_data(self):
        """Host bytes are waiting (or room appeared): schedule the next arrival."""
        if (self._rx_timer is None and self.rx_on and len(self.fifo) < self.fifo_size
                and self.channel.rx_available()):
            self._rx_timer = self.clock.after(self._char_cycles, self._rx_arrive)

    def _rx_arrive(self):
        self._rx_timer = None
        if not self.rx_on or len(self.fifo) >= self.fifo_size:
            return
        data = self.channel.rx_take(1)
        if not data:
            return
        events = self.machine.events
        if events.wants(ev.UART_RX):
            events.emit(ev.UART_RX, port=self.name, data=data)
        if self.rxd_valid:
            self.fifo.append(data[0])
        else:
            self.rxd = data[0]
            self.rxd_valid = True
            self.fire(RXDRDY)
        self._host_data()

    def read_rxd(self):
        v = self.rxd
        if self.rxd_valid:
            if self.fifo:
                self.rxd = self.fifo.popleft()
                self.fire(RXDRDY)
                self._host_data()
            else:
                self.rxd_valid = False
        return v

    def write_rxd(self, value):
        pass

    def read_errorsrc(self):
        return self.errorsrc

    def write_errorsrc(self, value):
        self.errorsrc &= ~value


MODEL = Uart
