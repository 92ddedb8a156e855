"""CMSDK APB UART (ARM DDI 0479): one-byte TX/RX buffers, TX/RX interrupts.

TX bytes go to the board console channel at once (the TX buffer never reads full). Host bytes
reach RX one at a time, at the line rate set by BAUDDIV, and only when the RX buffer is empty:
input is never dropped (flow control towards the host).
"""
from boardemu.emulator.peripheral import Peripheral

STATE_TXFULL, STATE_RXFULL, STATE_TXOVR, STATE_RXOVR = 1, 2, 4, 8
CTRL_TXEN, CTRL_RXEN, CTRL_TXINT, CTRL_RXINT, CTRL_TXOVRINT, CTRL_RXOVRINT = 1, 2, 4, 8, 16, 32
INT_TX, INT_RX, INT_TXOVR, INT_RXOVR = 1, 2, 4, 8
ID_REGS = {0xFD0: 0x04, 0xFE0: 0x21, 0xFE4: 0xB8, 0xFE8: 0x1B, 0xFEC: 0x00,
           0xFF0: 0x0D, 0xFF4: 0xF0, 0xFF8: 0x05, 0xFFC: 0xB1}


class CmsdkUart(Peripheral):
    REGS = {0x00: "data", 0x04: "state", 0x08: "ctrl", 0x0C: "intstatus", 0x10: "bauddiv"}

    def __init__(self, machine, name, base, irqs=(), **config):
        self.channel = machine.channel(name)
        super().__init__(machine, name, base, irqs=irqs, **config)
        self.channel.device_notify = self._host_data

    def reset(self):
        self.state = 0
        self.ctrl = 0
        self.intstatus = 0
        self.bauddiv = 0
        self.rxbyte = 0
        self._rx_timer = None
        self._update_irqs()

    def _update_irqs(self):
        if not self.irqs:
            return
        rx_line = bool(self.intstatus & (INT_RX | INT_RXOVR))
        tx_line = bool(self.intstatus & (INT_TX | INT_TXOVR))
        if len(self.irqs) >= 2:
            self.irqs[0].set(rx_line)
            self.irqs[1].set(tx_line)
        else:
            self.irqs[0].set(rx_line or tx_line)

    # host -> board
    def _char_cycles(self):
        return max(16, 10 * self.bauddiv) if self.bauddiv >= 16 else 160

    def _host_data(self):
        """Host bytes are waiting: the next one arrives after one character time at the
        configured line rate (BAUDDIV; 160 cycles when unset)."""
        if self._rx_timer is None and not self.state & STATE_RXFULL:
            self._rx_timer = self.clock.after(self._char_cycles(), self._rx_deliver)

    def _rx_deliver(self):
        self._rx_timer = None
        if self.state & STATE_RXFULL or not self.ctrl & CTRL_RXEN:
            return
        data = self.channel.rx_take(1)
        if not data:
            return
        self.rxbyte = data[0]
        self.state |= STATE_RXFULL
        if self.ctrl & CTRL_RXINT:
            self.intstatus |= INT_RX
            self._update_irqs()

    # registers
    def read_data(self):
        v = self.rxbyte
        if self.state & STATE_RXFULL:
            self.state &= ~STATE_RXFULL
            if self.channel.rx_available():
                if self.bauddiv < 16 and not self.ctrl & CTRL_RXINT:
                    # no line rate configured and polled: next byte is there at once
                    self._rx_deliver()
                else:
                    self._host_data()
        return v

    def write_data(self, value):
        if self.ctrl & CTRL_TXEN:
            self.channel.put(bytes((value & 0xFF,)))
            if self.ctrl & CTRL_TXINT:
                self.intstatus |= INT_TX
                self._update_irqs()

    def read_state(self):
        return self.state

    def write_state(self, value):
        self.state &= ~(value & (STATE_TXOVR | STATE_RXOVR))

    def read_ctrl(self):
        return self.ctrl

    def write_ctrl(self, value):
        self.ctrl = value & 0x7F
        if self.ctrl & CTRL_RXEN and self.channel.rx_available():
            self._host_data()

    def read_intstatus(self):
        return self.intstatus

    def write_intstatus(self, value):               # INTCLEAR: write 1 to clear
        self.intstatus &= ~value
        self._update_irqs()

    def read_bauddiv(self):
        return self.bauddiv

    def write_bauddiv(self, value):
        self.bauddiv = value & 0xFFFFF

    def read(self, off):
        if off in ID_REGS:
            return ID_REGS[off]
        return self.unhandled("read", off)


MODEL = CmsdkUart
