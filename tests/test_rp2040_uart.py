"""RP2040 UART (PL011 model, peripherals/rp2040/uart.py).

* Register level, on any machine: reset values, IDs, FIFO flags, aliases, pin routing -- poking
  the model without running code; and the bare-metal program firmware/rp2040/tests/uart_loopback.c
  (make firmware), which checks loopback, FIFO depth, interrupts, timing and overrun on the chip.
* With the official MicroPython v1.22 image in the firmware cache (skipped cleanly without it):
  ``machine.UART(0, 115200).write()`` reaches the host at the line rate, host bytes are read by
  ``uart.read()`` through MicroPython's RX interrupt and ring buffer, an echo loop, pin routing.
"""
from __future__ import annotations

import pytest

from boardemu.emulator.board import load_board
from boardemu.emulator.machine import Machine, firmware_build_dir
from boardemu.firmware import cached_image

from conftest import firmware, raw_exec, raw_repl_enter

BOARD = load_board("pico")
IMAGE = cached_image(BOARD)
ROM = firmware_build_dir() / BOARD.get("chip.bootrom")
needs_rom = pytest.mark.skipif(not ROM.exists(), reason=f"{ROM} missing (make firmware)")
needs_image = pytest.mark.skipif(IMAGE is None, reason="official RPI_PICO v1.22 image not cached "
                                                       "(boardemu firmware get pico)")

UART0, UART1 = 0x40034000, 0x40038000
DR, RSR, FR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, ICR, DMACR = \
    0x00, 0x04, 0x18, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C, 0x40, 0x44, 0x48
IO_BANK0 = 0x40014000


# -- register level, no code running -----------------------------------------------------------------
class Regs:
    def __init__(self, m, name="uart0"):
        self.m = m
        self.p = m.peripheral(name)

    def rd(self, off, size=4):
        return self.p.mmio_read(None, off, size, None)

    def wr(self, off, value, size=4):
        self.p.mmio_write(None, off, size, value, None)


@pytest.fixture
def chip():
    return Machine("pico")            # no firmware: the models only


@needs_rom
def test_reset_values_and_ids(chip):
    r = Regs(chip)
    assert r.rd(FR) == 0x90                      # TXFE | RXFE
    assert r.rd(CR) == 0x300                     # TXE | RXE
    assert r.rd(IFLS) == 0x12
    assert [r.rd(0xFE0 + 4 * i) for i in range(8)] == [0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1]
    assert Regs(chip, "uart1").rd(0xFE8) == 0x34
    assert chip.peripheral("uart0").irqs[0].n == 20
    assert chip.peripheral("uart1").irqs[0].n == 21
    r.wr(DMACR, 0xFF)
    assert r.rd(DMACR) == 7
    r.wr(0x2000 + CR, 1)                         # SET alias
    assert r.rd(CR) == 0x301
    r.wr(0x3000 + CR, 0x200)                     # CLR alias
    assert r.rd(CR) == 0x101
    r.wr(0x1000 + CR, 0x101)                     # XOR alias
    assert r.rd(CR) == 0


@needs_rom
def test_fifo_flags_depth_and_divisor_latch(chip):
    r = Regs(chip)
    r.wr(IBRD, 67)
    r.wr(FBRD, 52)
    assert r.p.div == 0                          # latched by the LCR_H write only
    r.wr(LCR_H, 0x60)                            # 8 bits, FIFO off: depth 1
    assert r.p.div == 64 * 67 + 52
    assert round(r.p.baud) == round(4 * 125_000_000 / (64 * 67 + 52))
    r.wr(DR, 0x41)                               # UART disabled: the byte waits in the FIFO
    assert r.rd(FR) == 0x10 | 0x20 | 0x08        # RXFE, TXFF (depth 1), BUSY
    r.wr(DR, 0x42)                               # full: lost
    assert len(r.p.txq) == 1
    r.wr(0x2000 + LCR_H, 0x10)                   # FEN through the SET alias
    for i in range(31):
        r.wr(DR, i)
    assert r.rd(FR) & 0x20 and len(r.p.txq) == 32
    assert r.rd(LCR_H) == 0x70


@needs_rom
def test_pins_follow_funcsel(chip):
    r = Regs(chip)
    io = chip.peripheral("io_bank0")
    gp0, gp4 = chip.pin("GP0"), chip.pin("GP4")
    assert not gp0.chip_oe
    io.mmio_write(None, 0x04, 4, 2, None)         # GPIO0_CTRL FUNCSEL = UART: UART0 TX idles high
    assert gp0.chip_oe and gp0.level == 1
    assert r.p.route[0] == [0] and r.p.route[1] == []
    r.wr(LCR_H, 0x61)                             # BRK: the line goes low
    assert gp0.level == 0
    r.wr(LCR_H, 0x60)
    assert gp0.level == 1
    io.mmio_write(None, 0x24, 4, 2, None)         # GPIO4 is UART1 TX
    assert gp4.level == 1 and Regs(chip, "uart1").p.route[0] == [4]
    io.mmio_write(None, 0x04, 4, 0x1F, None)      # NULL: released
    assert not gp0.chip_oe and r.p.route[0] == []


def test_bare_metal_loopback_program():
    """firmware/rp2040/tests/uart_loopback.c: loopback, FIFOs, interrupts, line timing."""
    m = Machine("pico", firmware("rp2040", "uart_loopback"))
    out = bytearray()
    m.semihost.subscribe(out.extend)
    uart1 = m.channels["uart1"]
    uart1.send(b"ping")
    m.peripheral("uart1").send_break()
    reason = m.run(for_s=2)
    text = out.decode(errors="replace")
    assert reason == "exit" and m.exit_status == 0, text
    assert "FAIL" not in text and "DONE" in text, text
    assert uart1.read() == b"PING"                # the program echoes UART1 upper-cased


# -- the official MicroPython image ----------------------------------------------------------------
class Pico:
    def __init__(self):
        self.m = m = Machine("pico", IMAGE)
        host = m.peripheral("usbctrl").host
        m.run(for_s=2, until=lambda: host.configured)
        assert host.configured
        m.console.send(b"\r\n")
        m.run_until_output(b">>> ", 5)
        raw_repl_enter(m)
        self.uart = m.channels["uart0"]

    def exec(self, code, timeout=30.0):
        return raw_exec(self.m, code, timeout)


@pytest.fixture(scope="module")
def pico():
    if IMAGE is None:
        pytest.skip("official RPI_PICO v1.22 image not cached (boardemu firmware get pico)")
    if not ROM.exists():
        pytest.skip(f"{ROM} missing (make firmware)")
    p = Pico()
    p.exec("import machine, time\nu = machine.UART(0, 115200)\n")
    return p


@needs_image
def test_write_arrives_at_the_baud_rate(pico):
    m = pico.m
    pico.uart.read()
    seen = []
    unsub = m.events.subscribe("uart-tx", lambda e: seen.append((e.time_ns, e.port, e.data["data"])))
    try:
        assert pico.exec("print(u.write(b'hi'))") == "2\n"
        m.run(for_s=0.001)
    finally:
        unsub()
    assert pico.uart.read() == b"hi"
    tx = [(t, d) for t, port, d in seen if port == "uart0"]
    assert [d for _, d in tx] == [b"h", b"i"]
    # 115200 baud from clk_peri 125 MHz: divisor 4340/64 -> 10 bits = 10850 cycles = 86.8 us
    assert tx[1][0] - tx[0][0] == 86_800
    assert m.pin("GP0").level == 1                # TX idles high
    assert "tx=0, rx=1" in pico.exec("print(u)")


@needs_image
def test_host_bytes_are_read(pico):
    pico.uart.send(b"hello")
    assert pico.exec("time.sleep_ms(5)\nprint(u.any(), u.read())") == "5 b'hello'\n"
    assert pico.exec("print(u.read())") == "None\n"


@needs_image
def test_rx_interrupt_fills_the_ring_buffer(pico):
    """200 bytes (the FIFO holds 32) arrive while the program sleeps: MicroPython's RX and RX
    timeout interrupts move them into its 256-byte ring buffer."""
    data = bytes(range(48, 48 + 50)) * 4
    pico.uart.send(data)
    out = pico.exec("time.sleep_ms(40)\nd = u.read()\nprint(len(d), sum(d), d[:5])")
    assert out == f"200 {sum(data)} {data[:5]!r}\n"


@needs_image
def test_long_write_uses_the_tx_interrupt(pico):
    pico.uart.read()
    assert pico.exec("n = u.write(b'0123456789' * 40)\nu.flush()\nprint(n, u.txdone())") == "400 True\n"
    assert pico.uart.read() == b"0123456789" * 40


@needs_image
def test_echo_loop(pico):
    m = pico.m
    pico.exec("def echo(n):\n"
              "    got = 0\n"
              "    while got < n:\n"
              "        d = u.read()\n"
              "        if d:\n"
              "            u.write(d.upper())\n"
              "            got += len(d)\n"
              "    print('echoed', got)\n")
    m.console.read()
    m.console.send(b"echo(26)\x04")               # raw REPL: runs while the host talks to UART0
    pico.uart.read()
    m.run(for_s=0.01)
    pico.uart.send(b"abcdefghijklm")
    m.run_until_output(b"ABCDEFGHIJKLM", 1, channel=pico.uart)
    pico.uart.send(b"nopqrstuvwxyz")
    seen = m.run_until_output(b"NOPQRSTUVWXYZ", 1, channel=pico.uart)
    assert seen == b"NOPQRSTUVWXYZ"
    m.run(for_s=0.05)
    assert m.console.read() == b"OKechoed 26\r\n\x04\x04>"


@needs_image
def test_routing_follows_the_pins(pico):
    pico.uart.read()
    # GP0 taken back by SIO: UART0's TX reaches no pin, nothing arrives
    pico.exec("p = machine.Pin(0, machine.Pin.OUT)\nu.write(b'lost')\nu.flush()\n")
    pico.m.run(for_s=0.001)
    assert pico.uart.read() == b""
    # UART0 on GP16/GP17 instead
    pico.exec("u = machine.UART(0, 115200, tx=machine.Pin(16), rx=machine.Pin(17))\nu.write(b'moved')\n")
    pico.m.run(for_s=0.001)
    assert pico.uart.read() == b"moved"
    # UART1 (GP4/GP5), 9600 baud, 7 bits even parity 2 stop bits: 1+7+1+2 = 11 bits
    seen = []
    unsub = pico.m.events.subscribe("uart-tx", lambda e: seen.append(e.time_ns) if e.port == "uart1" else None)
    try:
        pico.exec("u1 = machine.UART(1, 9600, bits=7, parity=0, stop=2)\nu1.write(b'ab')\n")
        pico.m.run(for_s=0.01)
    finally:
        unsub()
    assert pico.m.channels["uart1"].read() == b"ab"
    assert abs((seen[1] - seen[0]) - 11 / 9600 * 1e9) < 1000
    pico.exec("u = machine.UART(0, 115200)\n")
