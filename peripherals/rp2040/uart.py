"""UART0 (0x40034000, UART0_IRQ 20) and UART1 (0x40038000, UART1_IRQ 21): ARM PrimeCell PL011
as in the RP2040 datasheet (4.2), in board time.

Registers: DR (data 7:0; FE 8, PE 9, BE 10, OE 11 on reads), RSR/ECR (the error bits of the last
character read, OE when it happened; any write clears), FR (CTS 0, BUSY 3, RXFE 4, TXFF 5,
RXFF 6, TXFE 7), ILPR, IBRD/FBRD, LCR_H (BRK 0, PEN 1, EPS 2, STP2 3, FEN 4, WLEN 6:5, SPS 7),
CR (UARTEN 0, LBE 7, TXE 8, RXE 9, RTS 11, RTSEN 14, CTSEN 15), IFLS, IMSC/RIS/MIS/ICR,
DMACR (stored only: there is no DMA model) and the PeriphID/PCellID words at 0xFE0..0xFFC. The
atomic XOR/SET/CLR aliases work as on every APB block; DR, RSR/ECR and ICR take the raw value at
every alias (a read-modify-write of DR would pop the RX FIFO).

Line timing: a character takes (1 start + WLEN + parity + 1 or 2 stop) bit periods; a bit period
is 16 * (IBRD + FBRD/64) cycles of UARTCLK (clk_peri, = the emulated core clock unless the board
gives ``config.uartclk_hz``). As on the PL011, IBRD/FBRD take effect at the next LCR_H write
(the SDK's dummy LCR_H write after setting the baud rate). 32-entry FIFOs (depth 1 with FEN 0).

TX: a byte written to DR goes into the TX FIFO; while UARTEN and TXE are set the transmitter
takes the head into its shift register and the byte leaves one character time later (BUSY
meanwhile). It reaches the board's serial channel (named like the peripheral: ``uart0``) when its
stop bit ends, but only when a GPIO routes this UART's TX (IO_BANK0 FUNCSEL 2: GP0/12/16/28 for
UART0, GP4/8/20/24 for UART1) -- or back into the RX FIFO with LBE (loopback).

RX: host bytes (``machine.channels['uart0'].send``) enter the RX FIFO at the line rate while
UARTEN and RXE are set, a GPIO routes this UART's RX (GP1/13/17/29, GP5/9/21/25) and the FIFO
has room: they are never dropped, the host side waits instead (as with flow control).
``send_break()`` puts a break (a 0 byte with FE and BE) in the host stream.

Interrupts (RIS, line UARTINTR = RIS & IMSC): RX (bit 4) when a received character makes the RX
FIFO reach its IFLS level (FEN 0: any character), cleared when reads take it below; RT (bit 6)
when the FIFO holds data and nothing arrived for 32 bit periods, cleared when it empties; TX
(bit 5) when the transmitter takes a byte and the TX FIFO drops to its level from above, or
empties (FEN 0: the holding register empties), cleared when writes take it above the level;
FE/PE/BE/OE (7-10) as received characters carry them. ICR clears any of them. The modem
interrupts (0-3) never fire.

Pins: GPIOs routed to this UART's TX (and RTS) are driven by it: TX idles high (low during BRK);
RTS is the inverse of CR.RTS, or with RTSEN low while the RX FIFO has room. CR.CTSEN stalls the
transmitter while a routed CTS pin is high (not routed: never stalls). No bit-level waveform is
drawn on the TX pin: the bytes are visible on the channel and as ``uart-tx``/``uart-rx`` events.
"""
from __future__ import annotations

from collections import deque

from boardemu.emulator import events as ev

from ._base import RpPeripheral

F_UART = 2
FIFO_DEPTH = 32

# DR error bits / RSR bits
FE, PE, BE, OE = 1 << 8, 1 << 9, 1 << 10, 1 << 11
# FR
FR_CTS, FR_BUSY, FR_RXFE, FR_TXFF, FR_RXFF, FR_TXFE = 1, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7
# LCR_H
LCR_BRK, LCR_PEN, LCR_STP2, LCR_FEN = 1, 1 << 1, 1 << 3, 1 << 4
# CR
CR_UARTEN, CR_LBE, CR_TXE, CR_RXE, CR_RTS, CR_RTSEN, CR_CTSEN = 1, 1 << 7, 1 << 8, 1 << 9, 1 << 11, 1 << 14, 1 << 15
# RIS / IMSC / MIS / ICR
RXI, TXI, RTI, FEI, PEI, BEI, OEI = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 10
INT_MASK = 0x7FF

IFLS_LEVELS = (4, 8, 16, 24, 28)        # 1/8, 1/4, 1/2, 3/4, 7/8 of 32
ID_REGS = {0xFE0: 0x11, 0xFE4: 0x10, 0xFE8: 0x34, 0xFEC: 0x00,
           0xFF0: 0x0D, 0xFF4: 0xF0, 0xFF8: 0x05, 0xFFC: 0xB1}


def uart_pin(gpio: int) -> tuple[int, int]:
    """(UART instance, role) of GPIO ``gpio`` under FUNCSEL 2: role 0 TX, 1 RX, 2 CTS, 3 RTS."""
    return ((gpio + 4) >> 3) & 1, gpio & 3


class Uart(RpPeripheral):
    REGS = {0x000: "dr", 0x004: "rsr", 0x018: "fr", 0x024: "ibrd", 0x028: "fbrd", 0x02C: "lcr_h",
            0x030: "cr", 0x034: "ifls", 0x038: "imsc", 0x03C: "ris", 0x040: "mis", 0x044: "icr"}
    PLAIN = {0x020: ("ilpr", 0xFF, 0), 0x048: ("dmacr", 0x7, 0)}
    W1C = frozenset({0x000, 0x004, 0x044})

    def __init__(self, machine, name, base, irqs=(), uartclk_hz=None, index=None, **config):
        self.channel = machine.channel(name)
        if index is None:
            index = 1 if name.endswith("1") else 0
        self.index = int(index)
        self.uartclk = int(uartclk_hz or machine.clock.hz)
        self._tx_timer = self._rx_timer = self._rt_timer = None
        self._line = False
        self._breaks: deque = deque()       # host-stream positions of pending breaks
        self._rx_taken = 0                  # bytes taken from the host stream so far
        self.gpios = [i for i in range(30) if uart_pin(i)[0] == self.index]
        super().__init__(machine, name, base, irqs=irqs, **config)
        for off, v in ID_REGS.items():
            self._rtab[off] = (lambda value: (lambda: value))(v)
            self._wtab[off] = _ignore
        self.channel.device_notify = self._host_data
        bank = getattr(machine, "rp_io_bank0", None)
        if bank is not None and hasattr(bank, "add_function"):
            bank.add_function(F_UART, self.gpios, self._pin_output, self._routing_changed)

    def reset(self):
        for t in (self._tx_timer, self._rx_timer, self._rt_timer):
            if t is not None:
                t.cancel()
        self._tx_timer = self._rx_timer = self._rt_timer = None
        super().reset()
        self.ibrd = self.fbrd = 0
        self.lcr_h = 0
        self.depth = 1
        self.cr = CR_TXE | CR_RXE
        self.ifls = 0x12
        self.imsc = 0
        self.ris = 0
        self.rsr = 0
        self.div = 0                    # latched 64 * IBRD + FBRD
        self.txq: deque = deque()
        self.rxq: deque = deque()       # values with error bits (DR read format)
        self.tx_shift = None            # the byte being sent
        self.pending_oe = False         # an overrun to flag on the next character stored
        self._reroute()
        self._update_irq()
        self._drive_pins()

    # -- configuration ----------------------------------------------------------------------------
    def frame_bits(self) -> int:
        lcr = self.lcr_h
        return 1 + 5 + ((lcr >> 5) & 3) + (1 if lcr & LCR_PEN else 0) + (2 if lcr & LCR_STP2 else 1)

    def bit_cycles(self, bits: int = 1) -> int:
        """Core cycles for ``bits`` bit periods at the latched divisor (0: not configured)."""
        if not self.div:
            return 0
        return -(-bits * self.div * self.machine.clock.hz // (4 * self.uartclk))

    @property
    def baud(self) -> float:
        return 4 * self.uartclk / self.div if self.div else 0.0

    def _running(self, bit) -> bool:
        cr = self.cr
        return bool(cr & CR_UARTEN and cr & bit and self.div)

    def read_ibrd(self):
        return self.ibrd

    def write_ibrd(self, v):
        self.ibrd = v & 0xFFFF

    def read_fbrd(self):
        return self.fbrd

    def write_fbrd(self, v):
        self.fbrd = v & 0x3F

    def read_lcr_h(self):
        return self.lcr_h

    def write_lcr_h(self, v):
        old = self.lcr_h
        self.lcr_h = v & 0xFF
        self.depth = FIFO_DEPTH if v & LCR_FEN else 1
        ib = self.ibrd
        if ib == 0:
            self.div = 0
            if self.cr & CR_UARTEN:
                self.unhandled("write", 0x24, 0)        # warns once: IBRD 0 is invalid
        else:
            self.div = 64 * ib + (0 if ib == 0xFFFF else self.fbrd)
        if (old ^ v) & LCR_BRK:
            self._drive_pins()
        self._tx_kick()
        self._host_data()

    def read_cr(self):
        return self.cr

    def write_cr(self, v):
        self.cr = v & 0xFF87
        self._drive_pins()
        self._tx_kick()
        self._host_data()

    def read_ifls(self):
        return self.ifls

    def write_ifls(self, v):
        self.ifls = v & 0x3F

    def _rx_level(self) -> int:
        return IFLS_LEVELS[min((self.ifls >> 3) & 7, 4)] if self.lcr_h & LCR_FEN else 1

    def _tx_level(self) -> int:
        return IFLS_LEVELS[min(self.ifls & 7, 4)] if self.lcr_h & LCR_FEN else 0

    # -- interrupts ----------------------------------------------------------------------------------
    def read_imsc(self):
        return self.imsc

    def write_imsc(self, v):
        self.imsc = v & INT_MASK
        self._update_irq()

    def read_ris(self):
        return self.ris

    def write_ris(self, v):
        pass

    def read_mis(self):
        return self.ris & self.imsc

    def write_mis(self, v):
        pass

    def read_icr(self):
        return 0

    def write_icr(self, v):
        self.ris &= ~(v & INT_MASK)
        self._update_irq()

    def _update_irq(self):
        level = bool(self.ris & self.imsc)
        if level != self._line:
            self._line = level
            if self.irqs:
                self.irqs[0].set(level)

    # -- status -----------------------------------------------------------------------------------------
    def read_fr(self):                      # hot: firmware busy-polls it
        txn, rxn, d = len(self.txq), len(self.rxq), self.depth
        v = FR_BUSY if txn or self.tx_shift is not None else 0
        if not txn:
            v |= FR_TXFE
        elif txn >= d:
            v |= FR_TXFF
        if not rxn:
            v |= FR_RXFE
        elif rxn >= d:
            v |= FR_RXFF
        cts = self.route[2]
        if cts and cts[0] >= 0 and not (self.machine.rp_io_bank0.levels >> cts[0] & 1):
            v |= FR_CTS
        return v

    def write_fr(self, v):
        pass

    def read_rsr(self):
        return self.rsr

    def write_rsr(self, v):
        self.rsr = 0

    # -- TX ------------------------------------------------------------------------------------------------
    def read_dr(self):
        if not self.rxq:
            return 0
        v = self.rxq.popleft()
        self.rsr = ((v >> 8) & 7) | (self.rsr & 8)
        if v & OE:
            self.rsr |= 8
        changed = False
        if self.ris & RXI and len(self.rxq) < self._rx_level():
            self.ris &= ~RXI
            changed = True
        if not self.rxq and self.ris & RTI:
            self.ris &= ~RTI
            changed = True
        if not self.rxq:
            self.cancel_timer("_rt_timer")
        if changed:
            self._update_irq()
        if self.cr & CR_RTSEN:
            self._drive_pins()
        self._host_data()
        return v

    def write_dr(self, v):
        if len(self.txq) >= self.depth:
            return                                  # lost, as on the PL011 (no TX overrun flag)
        self.txq.append(v & 0xFF)
        if self.ris & TXI and len(self.txq) > self._tx_level():
            self.ris &= ~TXI
            self._update_irq()
        self._tx_kick()

    def _tx_kick(self):
        if self.tx_shift is not None or not self.txq or not self._running(CR_TXE):
            return
        if self.cr & CR_CTSEN and self._cts_stalls():
            return
        before = len(self.txq)
        self.tx_shift = self.txq.popleft()
        after = before - 1
        level = self._tx_level()
        if after <= level and (before > level or after == 0) and not self.ris & TXI:
            self.ris |= TXI
            self._update_irq()
        self._tx_timer = self.clock.after(self.bit_cycles(self.frame_bits()), self._tx_done)

    def _tx_done(self):
        self._tx_timer = None
        b = self.tx_shift
        self.tx_shift = None
        if self.cr & CR_LBE:
            self._receive(b, 0)
        elif self._tx_routed():
            self.channel.put(bytes((b,)))
        self._tx_kick()

    # -- RX --------------------------------------------------------------------------------------------------
    def send_break(self):
        """Host side (thread-safe): a break condition after the bytes already sent."""
        self.machine.post(self._queue_break)

    def _queue_break(self):
        self._breaks.append(self._rx_taken + self.channel.rx_available())
        self._host_data()

    def _rx_open(self) -> bool:
        return self._running(CR_RXE) and not self.cr & CR_LBE and self._rx_routed()

    def _host_data(self):
        """Host bytes are waiting, or room or the receiver appeared: schedule the next arrival."""
        if (self._rx_timer is None and len(self.rxq) < self.depth and self._rx_open()
                and (self._breaks or self.channel.rx_available())):
            self._rx_timer = self.clock.after(self.bit_cycles(self.frame_bits()), self._rx_arrive)

    def _rx_arrive(self):
        self._rx_timer = None
        if not self._rx_open() or len(self.rxq) >= self.depth:
            return
        if self._breaks and self._breaks[0] <= self._rx_taken:
            self._breaks.popleft()
            self._receive(0, FE | BE)
        else:
            data = self.channel.rx_take(1)
            if not data:
                return
            self._rx_taken += 1
            events = self.machine.events
            if events.wants(ev.UART_RX):
                events.emit(ev.UART_RX, port=self.name, data=data)
            self._receive(data[0], 0)
        self._host_data()

    def _receive(self, byte: int, errors: int):
        """A character finished arriving (from the line or the loopback)."""
        if not self.cr & CR_UARTEN or not self.cr & CR_RXE:
            return
        if len(self.rxq) >= self.depth:
            self.pending_oe = True                  # the shift register is overwritten
            self.rsr |= 8
            self.ris |= OEI
            self._update_irq()
            return
        v = (byte & 0xFF) | errors
        if self.pending_oe:
            v |= OE
            self.pending_oe = False
        self.rxq.append(v)
        ris = self.ris
        if len(self.rxq) >= self._rx_level():
            ris |= RXI
        if errors & FE:
            ris |= FEI
        if errors & PE:
            ris |= PEI
        if errors & BE:
            ris |= BEI
        if ris != self.ris:
            self.ris = ris
            self._update_irq()
        self.cancel_timer("_rt_timer")
        self._rt_timer = self.clock.after(self.bit_cycles(32), self._rx_timeout)
        if self.cr & CR_RTSEN:
            self._drive_pins()

    def _rx_timeout(self):
        self._rt_timer = None
        if self.rxq and not self.ris & RTI:
            self.ris |= RTI
            self._update_irq()

    # -- pins (IO_BANK0 FUNCSEL 2) ----------------------------------------------------------------
    def _bank(self):
        return getattr(self.machine, "rp_io_bank0", None)

    def _reroute(self):
        """Which GPIOs route TX, RX, CTS, RTS to this UART (role -> [gpio]); [-1]: no IO_BANK0
        model on this board, always connected."""
        bank = self._bank()
        if bank is None or not hasattr(bank, "add_function"):
            self.route = [[-1], [-1], [], []]
            return
        route = [[], [], [], []]
        for i in self.gpios:
            if bank.ctrl[i] & 0x1F == F_UART:
                route[i & 3].append(i)
        self.route = route

    def _tx_routed(self) -> bool:
        return bool(self.route[0])

    def _rx_routed(self) -> bool:
        return bool(self.route[1])

    def _cts_asserted(self) -> bool:
        cts = self.route[2]
        return bool(cts) and cts[0] >= 0 and not (self.machine.rp_io_bank0.levels >> cts[0] & 1)

    def _cts_stalls(self) -> bool:
        return bool(self.route[2]) and not self._cts_asserted()

    def _pin_output(self, gpio: int) -> tuple[int, int]:
        """(oe, out) of a GPIO routed to this UART (called by IO_BANK0)."""
        role = gpio & 3
        if role == 0:
            return 1, 0 if self.lcr_h & LCR_BRK else 1
        if role == 3:
            if self.cr & CR_RTSEN:
                return 1, 0 if len(self.rxq) < self.depth else 1
            return 1, 0 if self.cr & CR_RTS else 1
        return 0, 0

    def _drive_pins(self):
        bank = self._bank()
        if bank is not None and hasattr(bank, "function_changed"):
            bank.function_changed(F_UART, self.gpios)

    def _routing_changed(self):
        """IO_BANK0 changed a FUNCSEL or a pin level that concerns this UART."""
        self._reroute()
        self._host_data()
        self._tx_kick()


def _ignore(_v):
    pass


MODEL = Uart
