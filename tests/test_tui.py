"""The Textual front-end (boardemu/tui.py) driven with Textual's pilot against the micro:bit with
Debian's MicroPython image: console in and out, button, display, pause/resume, reset, pins.

Typing goes in as key events posted to the app (what the terminal driver does): pilot.press()
waits for the whole process to go idle after each key, which a running board never does.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

HEX = Path("/usr/share/firmware-microbit-micropython/firmware.hex")
pytestmark = pytest.mark.skipif(
    not HEX.exists(), reason=f"{HEX} missing (apt-get install firmware-microbit-micropython)")

HEART = ["09090", "99999", "99999", "09990", "00900"]
HEART_TEXT = "\n".join([
    "··██··██··",
    "██████████",
    "██████████",
    "··██████··",
    "····██····",
])
BLANK_TEXT = "\n".join(["··········"] * 5)


def run(coro):
    asyncio.run(asyncio.wait_for(coro, 50))


async def wait_for(cond, timeout=10.0, what="condition"):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.05)


class Session:
    """A booted micro:bit in the TUI, at the REPL prompt."""

    def __init__(self, app, pilot):
        self.app, self.pilot, self.m = app, pilot, app.m

    def console_text(self) -> str:
        from textual.widgets import Log
        return "\n".join(self.app.query_one("#console", Log).lines)

    def status(self) -> str:
        return str(self.app.query_one("#status").content)

    async def type_line(self, text: str):
        """Type ``text`` into the console input and press Enter."""
        from textual import events
        self.app.query_one("#console-input").focus()
        for ch in text:
            self.app.post_message(events.Key(ch, ch))
        await wait_for(lambda: self.app.query_one("#console-input").value == text, 5, f"typed {text!r}")
        self.app.post_message(events.Key("enter", "\r"))

    async def command(self, line: str, timeout=10.0) -> str:
        """Run one REPL line; return what it printed (between the echo and the next prompt)."""
        before = self.console_text()
        await self.type_line(line)

        def done():
            new = self.console_text()[len(before):]
            return line in new and new.endswith(">>> ")
        await wait_for(done, timeout, f"reply to {line!r}")
        new = self.console_text()[len(before):]
        return new[new.index(line) + len(line):].rsplit(">>> ", 1)[0].strip()


def with_board(test):
    """Run ``test(session)`` against a freshly booted micro:bit in the TUI."""
    from boardemu.emulator.machine import Machine
    from boardemu.tui import TuiApp

    async def main():
        m = Machine("microbit", HEX, pace=True)
        app = TuiApp(m)
        async with app.run_test(size=(150, 50)) as pilot:
            s = Session(app, pilot)
            await wait_for(lambda: s.console_text().endswith(">>> "), 15, "the REPL prompt")
            await test(s)
        assert not app.runner._thread, "the board thread was not stopped"
        assert app.runner.error is None
    run(main())


def test_console_roundtrip():
    async def t(s):
        assert "MicroPython" in s.console_text()
        assert await s.command("print(1+1)") == "2"
        assert await s.command("6*7") == "42"
    with_board(t)


def test_ctrl_c_interrupts_the_board():
    async def t(s):
        await s.type_line("while True: pass")
        await s.type_line("")                   # end the compound statement: the loop runs
        await asyncio.sleep(0.3)
        assert not s.console_text().endswith(">>> ")
        await s.pilot.press("ctrl+c")           # passes through the input line to the board
        await wait_for(lambda: "KeyboardInterrupt" in s.console_text()
                       and s.console_text().endswith(">>> "), 10, "KeyboardInterrupt")
    with_board(t)


def test_buttons_and_accelerometer_through_the_ui():
    async def t(s):
        await s.command("import microbit")
        assert await s.command("microbit.button_a.was_pressed()") == "False"
        await s.pilot.click("#button-button_a")
        t0 = s.m.time_s
        await wait_for(lambda: s.m.time_s > t0 + 0.3, 10, "board time after the press")
        assert await s.command("microbit.button_a.was_pressed()") == "True"
        assert await s.command("microbit.button_b.was_pressed()") == "False"
        await s.pilot.press("f3")               # button B's key
        t0 = s.m.time_s
        await wait_for(lambda: s.m.time_s > t0 + 0.3, 10, "board time after the press")
        assert await s.command("microbit.button_b.was_pressed()") == "True"
        # the accelerometer's field: x y z + Enter
        assert await s.command("microbit.accelerometer.get_values()") == "(0, 0, -1024)"
        field = s.app.query_one("#sensor-accelerometer")
        field.focus()
        field.value = "256 -512 1024"
        await s.pilot.press("enter")
        await wait_for(lambda: "x=256 y=-512 z=1024" in str(s.app.query_one("#sensor-label-accelerometer").content),
                       5, "the new reading in the sensor label")
        assert await s.command("microbit.accelerometer.get_values()") == "(256, -512, 1024)"
    with_board(t)


def test_display_shows_heart():
    async def t(s):
        display = s.app.query_one("#display")
        assert str(display.content) == BLANK_TEXT
        await s.command("from microbit import *")
        await s.command("display.show(Image.HEART)")
        await wait_for(lambda: str(display.content) == HEART_TEXT, 10, "the heart on the display widget")
        assert s.m.part("display").image() == HEART
    with_board(t)


def test_pause_resume_and_reset():
    async def t(s):
        await s.pilot.press("f5")
        await wait_for(lambda: "paused" in s.status(), 5, "paused status")
        t0 = s.m.time_s
        await asyncio.sleep(0.5)
        assert s.m.time_s == t0, "board time advanced while paused"
        await s.pilot.press("f5")
        await wait_for(lambda: s.m.time_s > t0 + 0.2, 10, "board time after resume")
        assert "running" in s.status()
        assert "reset: power-on" in s.status()
        n = s.console_text().count("MicroPython v1.9.2")
        await s.pilot.press("f6")
        await wait_for(lambda: "reset: tui" in s.status(), 5, "reset cause in the status bar")
        await wait_for(lambda: s.console_text().count("MicroPython v1.9.2") == n + 1, 10, "boot banner again")
        assert s.m.time_s < t0 + 5                # a reset starts board time over
    with_board(t)


def test_pins_table():
    async def t(s):
        from boardemu.tui import PinTable
        table = s.app.query_one(PinTable)

        def cell(pin, col):
            return str(table.get_cell(pin, col))
        assert cell("P0", "level") == "0" and cell("P0", "driver") != "chip"
        await s.command("from microbit import *")
        await s.command("pin0.write_digital(1)")
        await wait_for(lambda: cell("P0", "level") == "1", 5, "P0 high in the pins table")
        assert cell("P0", "driver") == "chip"
        await s.command("pin0.write_digital(0)")
        await wait_for(lambda: cell("P0", "level") == "0", 5, "P0 low in the pins table")
        # drive an input pin from the table: the board reads it
        assert await s.command("pin1.read_digital()") == "0"
        table.focus()
        table.move_cursor(row=table.get_row_index("P1"))
        await s.pilot.press("h")
        await wait_for(lambda: cell("P1", "level") == "1" and cell("P1", "driver") == "host", 5, "P1 poked high")
        assert await s.command("pin1.read_digital()") == "1"
        table.focus()
        await s.pilot.press("r")
        await wait_for(lambda: cell("P1", "driver") != "host", 5, "P1 released")
    with_board(t)
