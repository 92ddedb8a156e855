"""BBC micro:bit v1 (nRF51822) running the real MicroPython image from Debian's
firmware-microbit-micropython, driven through the console (raw REPL) and the Machine API; plus
register-level checks of the nRF51 models with a tiny program of our own.
"""
from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from boardemu.emulator import events as ev
from boardemu.emulator.loaders import Image, Segment
from boardemu.emulator.machine import Machine

from conftest import raw_exec, raw_repl_enter, run_cli

HEX = Path("/usr/share/firmware-microbit-micropython/firmware.hex")
needs_hex = pytest.mark.skipif(
    not HEX.exists(), reason=f"{HEX} missing (apt-get install firmware-microbit-micropython)")

HEART = ["09090", "99999", "99999", "09990", "00900"]


class MicroBit:
    """A booted micro:bit with MicroPython in the raw REPL."""

    def __init__(self):
        self.m = Machine("microbit", HEX)
        self.banner = self.m.run_until_output(b">>> ", 5).decode(errors="replace")
        raw_repl_enter(self.m)

    def exec(self, code: str, timeout: float = 30.0) -> str:
        """Run ``code``; return its output. Fails on a Python exception or a timeout."""
        return raw_exec(self.m, code, timeout)


@pytest.fixture
def mb():
    if not HEX.exists():
        pytest.skip(f"{HEX} missing (apt-get install firmware-microbit-micropython)")
    return MicroBit()


# -- MicroPython ------------------------------------------------------------------------------
@needs_hex
def test_boot_banner_and_prompt():
    m = Machine("microbit", HEX)
    out = m.run_until_output(b">>> ", 5).decode()
    assert "MicroPython v1.9.2" in out and "micro:bit" in out and "nRF51822" in out
    assert out.endswith(">>> ")
    assert m.time_s < 0.5                       # boots in a few tens of ms of board time
    m.console.send(b"6*7\r")
    assert b"42" in m.run_until_output(b"42\r\n>>> ", 5)


@needs_hex
def test_cli_expect_prompt():
    r = run_cli("run", "--board", "microbit", "--expect", ">>> ", "--timeout", "5s", timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert b">>> " in r.stdout


def test_compute(mb):
    assert mb.exec("print(sum(range(100000)))") == "4999950000\n"


def test_display_shows_the_heart(mb):
    d = mb.m.part("display")
    assert d.image() == ["00000"] * 5
    shown = []
    mb.m.events.subscribe(ev.DISPLAY, lambda e: shown.append(e.image))
    mb.exec("import microbit\nmicrobit.display.show(microbit.Image.HEART)")
    mb.m.run(for_s=0.1)
    assert d.image() == HEART
    assert shown and shown[-1] == HEART
    # greyscale: the scanned PWM decodes to the image's brightness levels
    mb.exec("microbit.display.show(microbit.Image('01234:56789:90000:00000:99999'))")
    mb.m.run(for_s=0.1)
    assert d.image() == ["01234", "56789", "90000", "00000", "99999"]
    assert d.pixel(4, 1) == 9 and d.pixel(1, 0) == 1


def test_button_a_press_and_count(mb):
    m = mb.m
    a = m.part("button_a")
    assert mb.exec("import microbit\nprint(microbit.button_a.is_pressed(), microbit.button_a.get_presses())") \
        == "False 0\n"
    a.press()
    m.run(for_s=0.1)
    assert m.pin("BUTTON_A").level == 0 and m.pin("P5").level == 0
    assert mb.exec("print(microbit.button_a.is_pressed(), microbit.button_a.was_pressed())") == "True True\n"
    a.release()
    m.run(for_s=0.1)
    for _ in range(3):                           # MicroPython debounces over ~60 ms
        a.press()
        m.run(for_s=0.1)
        a.release()
        m.run(for_s=0.1)
    assert mb.exec("print(microbit.button_a.is_pressed(), microbit.button_a.get_presses(), "
                   "microbit.button_b.get_presses())") == "False 4 0\n"
    # button B through its pin directly
    m.pin("BUTTON_B").drive(0)
    m.run(for_s=0.1)
    m.pin("BUTTON_B").drive(1)
    m.run(for_s=0.1)
    assert mb.exec("print(microbit.button_b.get_presses())") == "1\n"


def test_accelerometer_and_compass_readings(mb):
    m = mb.m
    m.run(for_s=0.05)                            # first sample: one 50 Hz period after start-up
    assert mb.exec("import microbit\nprint(microbit.accelerometer.get_values())") == "(0, 0, -1024)\n"
    m.part("accelerometer").set_xyz(512, -256, 1024)
    m.part("compass").set_xyz(1000, -2000, 3000)
    m.run(for_s=0.1)
    assert mb.exec("print(microbit.accelerometer.get_x())") == "512\n"
    assert mb.exec("print(microbit.accelerometer.get_values())") == "(512, -256, 1024)\n"
    assert mb.exec("c = microbit.compass\nprint(c.get_x(), c.get_y(), c.get_z())") == "1000 -2000 3000\n"
    traffic = []
    m.events.subscribe(ev.I2C, lambda e: traffic.append(e))
    m.part("accelerometer").set_xyz(-1024, 0, 0)
    m.run(for_s=0.1)
    assert mb.exec("print(microbit.accelerometer.get_x())") == "-1024\n"
    assert any(e.addr == 0x1D and e.write == b"\x01" for e in traffic)   # OUT_X_MSB read


def test_pins_digital_analog_and_pwm(mb):
    m = mb.m
    mb.exec("import microbit\nmicrobit.pin0.write_digital(1)")
    assert m.pin("P0").level == 1 and m.pin("P0.3").chip_oe
    mb.exec("microbit.pin0.write_digital(0)")
    assert m.pin("P0").level == 0
    m.pin("P1").drive(1)
    assert mb.exec("print(microbit.pin1.read_digital())") == "1\n"
    m.pin("P1").drive(0)
    assert mb.exec("print(microbit.pin1.read_digital())") == "0\n"
    m.pin("P1").release()                        # floating: the chip's pull decides
    assert mb.exec("microbit.pin1.set_pull(microbit.pin1.PULL_UP)\nprint(microbit.pin1.read_digital())") == "1\n"
    assert mb.exec("microbit.pin1.set_pull(microbit.pin1.PULL_DOWN)\nprint(microbit.pin1.read_digital())") == "0\n"
    m.peripheral("adc").set_voltage(2, 1.65)     # pin2 = P0.1 = AIN2, half of VDD
    assert mb.exec("print(microbit.pin2.read_analog())") == "512\n"
    # PWM on pin0: 256/1023 of a 10 ms period
    edges = []
    m.pin("P0").subscribe(lambda pin, level: edges.append((m.clock.now(), level)))
    mb.exec("microbit.pin0.write_analog(256)\nmicrobit.pin0.set_analog_period(10)")
    edges.clear()
    m.run(for_s=0.1)
    assert len(edges) >= 16
    high = sum(t2 - t1 for (t1, l1), (t2, _) in zip(edges, edges[1:]) if l1)
    assert 0.22 < high / (edges[-1][0] - edges[0][0]) < 0.28


def test_radio_sends_into_the_void(mb):
    sent = []
    mb.m.events.subscribe("radio", lambda e: sent.append((e.frequency, e.packet)))
    out = mb.exec("import radio\nradio.on()\nradio.config(channel=12)\nradio.send('hello')\n"
                  "print(radio.receive())\nradio.off()")
    assert out == "None\n"                      # nobody else on the air
    assert sent and sent[-1][0] == 2412 and sent[-1][1].endswith(b"hello")


def test_running_time_follows_board_time(mb):
    m = mb.m
    t1 = int(mb.exec("import microbit\nprint(microbit.running_time())"))
    b1 = m.time_s
    m.run(for_s=2.0)
    t2 = int(mb.exec("print(microbit.running_time())"))
    b2 = m.time_s
    assert abs((t2 - t1) - (b2 - b1) * 1000) < 30
    assert abs(t2 - m.time_s * 1000) < 100


def test_sleep_costs_board_time_not_wall_time(mb):
    m = mb.m
    b0 = m.time_s
    w0 = time.perf_counter()
    out = mb.exec("import microbit\nt = microbit.running_time()\nmicrobit.sleep(10000)\n"
                  "print(microbit.running_time() - t)")
    wall = time.perf_counter() - w0
    assert 10000 <= int(out) < 10050
    assert m.time_s - b0 >= 10.0
    assert wall < 5.0                            # loose sanity bound: idle is nearly free


def test_files_and_listdir(mb):
    assert mb.exec("import os\nprint(os.listdir())") == "[]\n"
    out = mb.exec("with open('notes.txt', 'w') as f:\n    f.write('hello micro:bit ' * 40)\n"
                  "print(open('notes.txt').read()[:15], len(open('notes.txt').read()))\n"
                  "print(os.listdir(), os.size('notes.txt'))")
    assert out == "hello micro:bit 640\n['notes.txt'] 640\n"
    nvmc = mb.m.peripheral("nvmc")
    assert nvmc.writes >= 640 // 4
    assert mb.exec("os.remove('notes.txt')\nprint(os.listdir())") == "[]\n"


def test_uart_input_is_never_dropped(mb):
    # 1200 bytes sent at once: the UART takes them at the line rate, only as fast as the
    # firmware reads RXD (the raw REPL stores them without echo), so none is lost
    text = "".join(chr(ord("a") + i % 26) for i in range(1200))
    assert mb.exec(f"s = '{text}'\nprint(len(s), s[-6:], sum(map(ord, s)))") \
        == f"1200 {text[-6:]} {sum(map(ord, text))}\n"
    # ...and it takes the line's time: 10 bits per byte at 115200 baud
    m = mb.m
    b0 = m.time_s
    mb.exec("x = '" + "y" * 1000 + "'")
    assert m.time_s - b0 >= 1000 * 10 / 115200


@needs_hex
def test_runs_are_deterministic():
    outs = []
    for _ in range(2):
        b = MicroBit()
        outs.append((b.exec("import random\nprint(random.getrandbits(30), random.randint(0, 999))"),
                     b.m.instructions))
    assert outs[0] == outs[1]


# -- nRF51 models with a tiny program -----------------------------------------------------------
# At reset: NVMC CONFIG=WEN; *0x3F000 = 0x12345678; *0x3F000 = 0xFFFF00FF (NOR: AND);
# CONFIG=REN; *0x3F004 = 0 (ignored: no WEN); r4 += 1; then WFI forever.
TINY = bytes.fromhex("064801210160064a064b1360064b1360002101605160013430bffde7"
                     "04e5014000f0030078563412ff00ffff")


def tiny_machine():
    img = bytearray(0x40) + TINY
    img[0:8] = struct.pack("<II", 0x20004000, 0x41)
    return Machine("microbit", Image("tiny.bin", "bin", [Segment(0, bytes(img))]))


def _rw(m):
    return (lambda a, v: m.bus.write(a, struct.pack("<I", v))), m.bus.read32


def test_nvmc_flash_writes_are_nor_and_need_wen():
    m = tiny_machine()
    warnings = []
    m.events.subscribe(ev.WARNING, lambda e: warnings.append(e.message))
    assert m.run(for_s=0.01) == "time"
    _, r = _rw(m)
    assert r(0x3F000) == 0x12340078            # 0x12345678 & 0xFFFF00FF
    assert r(0x3F004) == 0xFFFFFFFF            # written without WEN: ignored, with a warning
    assert any("WEN" in w for w in warnings)
    assert m.cpu.regs()["r4"] == 1             # the stores completed; execution went on
    assert m.fault is None
    w, r = _rw(m)
    w(0x4001E504, 2)                           # EEN
    w(0x4001E508, 0x3F000)                     # ERASEPAGE
    assert r(0x4001E400) == 0                  # busy
    assert r(0x3F000) == 0xFFFFFFFF
    m.run(for_s=0.05)
    assert r(0x4001E400) == 1


def test_rtc_compare_fires_across_idle_time():
    m = tiny_machine()
    w, r = _rw(m)
    rtc0 = 0x4000B000
    w(rtc0 + 0x540, 32768 * 10)                # CC[0]: 10 s
    w(rtc0 + 0x304, 1 << 16)                   # INTENSET COMPARE0
    w(rtc0 + 0x000, 1)                         # START
    m.run(for_s=5)
    assert r(rtc0 + 0x140) == 0
    assert r(rtc0 + 0x504) == 32768 * 5
    m.run(for_s=6)
    assert r(rtc0 + 0x140) == 1
    assert m.cpu.pending & (1 << (16 + 11))    # RTC0 IRQ line
    w(rtc0 + 0x140, 0)
    assert not m.cpu.lines & (1 << (16 + 11))  # level-sensitive: cleared with the event
    # an event not enabled in INTEN/EVTEN is not produced at all (as on the chip)
    w(rtc0 + 0x308, 1 << 16)
    w(rtc0 + 0x544, r(rtc0 + 0x504) + 100)
    m.run(for_s=0.1)
    assert r(rtc0 + 0x144) == 0


def test_timer_compare_clear_short_and_polled_event():
    m = tiny_machine()
    w, r = _rw(m)
    t1 = 0x40009000
    w(t1 + 0x508, 3)                           # 32-bit
    w(t1 + 0x510, 4)                           # 1 MHz
    w(t1 + 0x540, 1000)                        # CC[0] = 1 ms
    w(t1 + 0x544, 700)                         # CC[1]: polled, no interrupt
    w(t1 + 0x200, 1)                           # SHORTS COMPARE0_CLEAR
    w(t1 + 0x304, 1 << 16)
    w(t1 + 0x000, 1)
    m.run(for_s=0.0105)
    assert r(t1 + 0x140) == 1 and r(t1 + 0x144) == 1
    w(t1 + 0x048, 1)                           # CAPTURE[2]
    assert 490 <= r(t1 + 0x548) <= 510         # 10.5 ms: counter cleared every 1 ms
    w(t1 + 0x144, 0)
    m.run(for_s=0.0001)                        # counter 500 -> 600: no CC[1] match yet
    assert r(t1 + 0x144) == 0
    m.run(for_s=0.0002)
    assert r(t1 + 0x144) == 1


def test_twi_address_nack_and_register_read():
    m = tiny_machine()
    w, r = _rw(m)
    twi = 0x40003000
    w(twi + 0x500, 5)
    w(twi + 0x588, 0x42)                       # nobody there
    w(twi + 0x008, 1)                          # STARTTX
    m.run(for_s=0.001)
    assert r(twi + 0x124) == 1 and r(twi + 0x4C4) & 2      # ERROR, ERRORSRC.ANACK
    w(twi + 0x014, 1)
    m.run(for_s=0.001)
    assert r(twi + 0x104) == 1                 # STOPPED
    for off in (0x104, 0x124, 0x4C4):
        w(twi + off, 0 if off != 0x4C4 else 7)
    w(twi + 0x588, 0x1D)                       # MMA8653: read WHO_AM_I (0x0D)
    w(twi + 0x008, 1)
    w(twi + 0x51C, 0x0D)
    m.run(for_s=0.001)
    assert r(twi + 0x11C) == 1 and r(twi + 0x124) == 0
    w(twi + 0x200, 2)                          # SHORTS BB_STOP: one byte
    w(twi + 0x000, 1)                          # STARTRX (repeated start)
    m.run(for_s=0.001)
    assert r(twi + 0x108) == 1 and r(twi + 0x518) == 0x5A
    assert r(twi + 0x104) == 1


def test_uart_line_timing_and_rx_flow_control(tmp_path):
    board = (Path(__file__).resolve().parent.parent / "boards" / "microbit.toml").read_text()
    board = board.replace('tx_timing = "immediate"', 'tx_timing = "line"')
    assert 'tx_timing = "line"' in board
    (tmp_path / "mb-line.toml").write_text(board)
    img = bytearray(0x40) + TINY
    img[0:8] = struct.pack("<II", 0x20004000, 0x41)
    m = Machine(str(tmp_path / "mb-line.toml"), Image("tiny.bin", "bin", [Segment(0, bytes(img))]))
    m.run(for_s=0.001)
    w, r = _rw(m)
    uart = 0x40002000
    w(uart + 0x500, 4)                         # ENABLE
    w(uart + 0x50C, 24)                        # PSELTXD
    w(uart + 0x524, 0x01D7E000)                # 115200
    w(uart + 0x008, 1)                         # STARTTX
    w(uart + 0x51C, ord("A"))
    assert m.console.read() == b"A" and r(uart + 0x11C) == 0
    m.run(for_s=80e-6)
    assert r(uart + 0x11C) == 0                # a character is 86.8 us on the line
    m.run(for_s=10e-6)
    assert r(uart + 0x11C) == 1
    # RX: host bytes arrive one character time apart, into the 6-byte FIFO, never dropped
    w(uart + 0x000, 1)                         # STARTRX
    m.console.send(b"0123456789")
    m.run(for_s=0.01)
    assert r(uart + 0x108) == 1
    got = bytes(r(uart + 0x518) for _ in range(7))     # RXD + 6 in the FIFO; the rest waits
    assert got == b"0123456"
    m.run(for_s=0.01)
    assert bytes(r(uart + 0x518) for _ in range(3)) == b"789"
