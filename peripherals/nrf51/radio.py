"""nRF51 RADIO (2.4 GHz), as far as firmware sees it with nobody else on the air.

The state machine and its timing: TXEN / RXEN ramp up (140 us) to READY; START sends the
packet at PACKETPTR (ADDRESS, PAYLOAD, END after the packet's air time at MODE's bit rate) or
listens; STOP; DISABLE -> DISABLED; shortcuts (READY_START, END_DISABLE, DISABLED_TXEN,
DISABLED_RXEN, END_START). STATE follows. Sent packets are reported as ``radio`` events
(part, frequency in MHz, packet bytes); nothing is ever received (there is no other radio), so a
listening radio just waits. Other registers are storage.
"""
from __future__ import annotations

from ._base import NrfPeripheral

READY, ADDRESS, PAYLOAD, END, DISABLED = 1, 2, 4, 8, 16
S_READY_START, S_END_DISABLE, S_DISABLED_TXEN, S_DISABLED_RXEN, S_END_START = 1, 2, 4, 8, 32
DISABLED_ST, RXRU, RXIDLE, RX, RXDISABLE, TXRU, TXIDLE, TX, TXDISABLE = 0, 1, 2, 3, 4, 9, 10, 11, 12
RAMP_US = 140
DISABLE_US = 4
BITRATE = {0: 1_000_000, 1: 2_000_000, 2: 250_000, 3: 2_000_000}


class Radio(NrfPeripheral):
    TASKS = {0x000: "txen", 0x004: "rxen", 0x008: "start", 0x00C: "stop", 0x010: "disable",
             0x014: "rssistart", 0x018: "rssistop", 0x01C: "bcstart", 0x020: "bcstop"}
    EVENTS = {0x100: "ready", 0x104: "address", 0x108: "payload", 0x10C: "end", 0x110: "disabled",
              0x114: "devmatch", 0x118: "devmiss", 0x11C: "rssiend", 0x128: "bcmatch"}
    SHORTS_MASK = 0x1FF
    PLAIN = {off: (f"r{off:03x}", 0xFFFFFFFF, 0) for off in (
        0x504, 0x508, 0x50C, 0x510, 0x514, 0x518, 0x51C, 0x520, 0x524, 0x528, 0x52C, 0x530,
        0x534, 0x538, 0x53C, 0x540, 0x544, 0x554, 0x560, 0x640, 0x724, 0x728, 0x72C, 0x730, 0x734)}
    PLAIN.update({0x600 + 4 * i: (f"dab{i}", 0xFFFFFFFF, 0) for i in range(8)})
    PLAIN.update({0x620 + 4 * i: (f"dap{i}", 0xFFFF, 0) for i in range(8)})
    REGS = {0x400: "crcstatus", 0x408: "rxmatch", 0x40C: "rxcrc", 0x410: "dai", 0x548: "rssisample",
            0x550: "state"}

    def __init__(self, machine, name, base, irqs=(), **config):
        self._timer = None
        super().__init__(machine, name, base, irqs=irqs, **config)
        self.sent = []              # packets sent (bytes), for tests and front-ends

    def reset(self):
        self.cancel_timer()
        super().reset()
        self.regs[0x544] = 150       # TIFS
        self.regs[0x540] = 0
        self.state = DISABLED_ST

    def _after_us(self, us, fn):
        self.cancel_timer()
        self._timer = self.clock.after(self.clock.us_to_cycles(us), fn)

    def _at(self, cycles, fn):
        self.cancel_timer()
        self._timer = self.clock.after(cycles, fn)

    def _fire(self, bit):
        self.fire(bit)
        s = self.shorts
        if bit == READY and s & S_READY_START:
            self.task_start()
        elif bit == END:
            if s & S_END_DISABLE:
                self.task_disable()
            elif s & S_END_START:
                self.task_start()
        elif bit == DISABLED:
            if s & S_DISABLED_TXEN:
                self.task_txen()
            elif s & S_DISABLED_RXEN:
                self.task_rxen()

    # -- tasks -------------------------------------------------------------------------------
    def task_txen(self):
        if self.state == DISABLED_ST:
            self.state = TXRU
            self._after_us(RAMP_US, self._ramped)

    def task_rxen(self):
        if self.state == DISABLED_ST:
            self.state = RXRU
            self._after_us(RAMP_US, self._ramped)

    def _ramped(self):
        self._timer = None
        self.state = TXIDLE if self.state == TXRU else RXIDLE
        self._fire(READY)

    def task_start(self):
        if self.state == TXIDLE:
            self.state = TX
            data = self._packet()
            bits = 8 * (1 + self._addr_len() + len(data) + self._crc_len())
            self._at(max(1, bits * self.clock.hz // BITRATE.get(self.regs[0x510] & 3, 1_000_000)),
                     lambda: self._sent(data))
        elif self.state == RXIDLE:
            self.state = RX             # listens: nobody else is on the air

    def _addr_len(self):
        return ((self.regs[0x518] >> 16) & 7) + 1        # PCNF1.BALEN + prefix byte

    def _crc_len(self):
        return self.regs[0x534] & 3

    def _packet(self):
        ptr = self.regs[0x504]
        pcnf0, pcnf1 = self.regs[0x514], self.regs[0x518]
        lflen = pcnf0 & 0xF
        s0 = (pcnf0 >> 8) & 1
        s1 = -(-((pcnf0 >> 16) & 0xF) // 8)
        maxlen = pcnf1 & 0xFF
        statlen = (pcnf1 >> 8) & 0xFF
        try:
            head = self.machine.bus.read(ptr, s0 + (1 if lflen else 0) + s1)
            length = head[s0] & ((1 << lflen) - 1) if lflen else 0
            length = min(length + statlen, maxlen) if maxlen else length + statlen
            return bytes(self.machine.bus.read(ptr, len(head) + length))
        except Exception:
            return b""

    def _sent(self, data):
        self._timer = None
        self.state = TXIDLE
        self.sent.append(data)
        events = self.machine.events
        if events.wants("radio"):
            events.emit("radio", part=self.name, frequency=2400 + (self.regs[0x508] & 0x7F), packet=data)
        self._fire(ADDRESS)
        self._fire(PAYLOAD)
        self._fire(END)

    def task_stop(self):
        if self.state in (TX, RX):
            self.cancel_timer()
            self.state = TXIDLE if self.state == TX else RXIDLE

    def task_disable(self):
        # DISABLE in the DISABLED state still ends with a DISABLED event (firmware waits for it)
        if self.state != DISABLED_ST:
            self.state = TXDISABLE if self.state in (TXRU, TXIDLE, TX) else RXDISABLE
        self._after_us(DISABLE_US, self._disabled)

    def _disabled(self):
        self._timer = None
        self.state = DISABLED_ST
        self._fire(DISABLED)

    def task_rssistart(self):
        self.fire(1 << 7)            # RSSIEND: nothing on the air

    def task_rssistop(self):
        pass

    def task_bcstart(self):
        pass

    def task_bcstop(self):
        pass

    # -- registers ----------------------------------------------------------------------------
    def read_state(self):
        return self.state

    def read_crcstatus(self):
        return 0

    def read_rxmatch(self):
        return 0

    def read_rxcrc(self):
        return 0

    def read_dai(self):
        return 0

    def read_rssisample(self):
        return 127                    # -127 dBm: silence


MODEL = Radio
