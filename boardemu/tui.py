"""``boardemu tui``: a Textual front-end for a running board.

The board runs in its own thread (``BoardRunner``); the screen talks to it only through the
Machine API (``post``, ``pause``, ``reset``, console channels, ``pin()``, ``part()``) and the event
bus. Event callbacks run in the machine thread and only note what changed; the screen redraws
from those notes at most ``REFRESH_HZ`` times a second.
"""
from __future__ import annotations

import argparse
import queue
import re
import textwrap
import threading
import time

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Button, DataTable, Footer, Input, Log, Static

from boardemu.emulator import events as ev

REFRESH_HZ = 20
EXIT_USAGE = 2

# brightness 0-9 -> two cells per LED (roughly square on a terminal)
_SHADE = {0: "··", 1: "░░", 2: "░░", 3: "░░", 4: "▒▒", 5: "▒▒", 6: "▒▒", 7: "▓▓", 8: "▓▓", 9: "██"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[^\[]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def render_image(rows: list[str]) -> str:
    """A display image (rows of brightness digits 0-9) as text, two characters per LED."""
    return "\n".join("".join(_SHADE.get(int(c), "??") for c in row) for row in rows)


def clean_output(text: str) -> str:
    """Board console output as plain text for the log: CRLF -> LF, escape sequences and other
    control characters dropped (the REPL's line editing uses them)."""
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    return _CONTROL.sub("", text)


def pin_driver(pin) -> str:
    """Who sets a pin's level now: chip, host (anything outside the chip: a test, a button,
    this screen), pull-up/pull-down, or nobody (floating, reads 0)."""
    return pin.driver or "-"


class BoardRunner:
    """Runs ``machine.run()`` in a thread, with pause/resume and calls into the machine thread.

    ``call(fn, *args)`` runs ``fn`` in the machine thread: between bursts while the board runs,
    or at once (from the runner thread) while it is paused or halted -- so a reset also works on
    a paused or halted board."""

    def __init__(self, machine):
        self.m = machine
        self.paused = False
        self.stopped: str | None = None      # why run() ended by itself (halt, fault, exit)
        self.error: BaseException | None = None
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._kick = threading.Event()
        self._quit = False
        self._thread: threading.Thread | None = None

    def start(self):
        self.m.host_links += 1              # the screen may send input: an idle board waits for it
        from boardemu.links import IdlePacer  # and its idle time follows wall time, as with a link client
        self._pacer = IdlePacer.of(self.m)
        self._pacer.acquire()
        self._thread = threading.Thread(target=self._loop, name="boardemu-machine", daemon=True)
        self._thread.start()
        return self

    def call(self, fn, *args):
        self._calls.put((fn, args))
        self._kick.set()
        self.m.post(self._drain)

    def set_paused(self, paused: bool):
        self.paused = paused
        if paused:
            self.m.pause()
        self._kick.set()

    def stop(self, timeout: float = 10.0):
        self._quit = True
        self.m.pause()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            self.m.host_links = max(0, self.m.host_links - 1)
            self._pacer.release()

    @property
    def running(self) -> bool:
        return not self.paused and not self.m.halted

    def _drain(self):
        while True:
            try:
                fn, args = self._calls.get_nowait()
            except queue.Empty:
                return
            fn(*args)

    def _loop(self):
        m = self.m
        try:
            while not self._quit:
                self._drain()
                if self.paused or m.halted:
                    self._kick.wait(0.1)
                    self._kick.clear()
                    continue
                reason = m.run(until=lambda: self.paused or self._quit)
                if reason not in ("paused", "condition"):
                    self.stopped = reason
        except BaseException as e:  # noqa: BLE001 -- shown on the screen
            self.error = e


class PinTable(DataTable):
    """Board pins: level and driver; h / l / r drive the selected pin high, low, or release it."""

    BINDINGS = [
        Binding("h", "poke(1)", "Pin high"),
        Binding("l", "poke(0)", "Pin low"),
        Binding("r", "poke(None)", "Release pin"),
    ]

    def action_poke(self, level):
        self.app.poke_pin(self.selected_pin(), level)

    def selected_pin(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return key.value


class TuiApp(App):
    """The board's console, pins, parts and state, live."""

    TITLE = "boardemu"
    CSS = """
    #left { width: 3fr; }
    #right { width: 2fr; min-width: 36; }
    #console { height: 1fr; border: round $primary; }
    #console-input { dock: bottom; }
    #parts { height: auto; max-height: 50%; border: round $secondary; }
    #display { width: auto; height: auto; padding: 0 1; }
    #leds { height: auto; }
    .buttons { height: auto; }
    .buttons Button { min-width: 10; margin-right: 1; }
    .sensor-label { height: auto; }
    #pins { height: 1fr; border: round $secondary; }
    #status { height: 1; background: $boost; padding: 0 1; }
    """
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f5", "toggle_pause", "Pause/resume", priority=True),
        Binding("f6", "reset", "Reset", priority=True),
        Binding("f2", "tap_button(0)", "Button 1", priority=True),
        Binding("f3", "tap_button(1)", "Button 2", priority=True),
        Binding("shift+f2", "hold_button(0)", "Hold 1", show=False, priority=True),
        Binding("shift+f3", "hold_button(1)", "Hold 2", show=False, priority=True),
        Binding("ctrl+c", "send_byte(3)", "^C to board", show=False, priority=True),
        Binding("ctrl+d", "send_byte(4)", "^D to board", show=False, priority=True),
        Binding("ctrl+e", "send_byte(5)", "^E to board", show=False, priority=True),
    ]

    def __init__(self, machine, title: str | None = None):
        super().__init__()
        self.m = machine
        if title:
            self.sub_title = title
        self.runner = BoardRunner(machine)
        self._lock = threading.Lock()
        self._out = bytearray()
        self._dirty_pins: set[str] = set()
        self._reset_info = (machine.reset_cause, 0)
        self._halt_info: str | None = None
        self._unsubs: list = []
        self._timer = None
        self._ips = 0.0
        self._ips_mark = (time.perf_counter(), machine.instructions)
        # parts by the kind they declare (KIND: button, led, display, sensor)
        parts = [(spec["name"], machine.part(spec["name"])) for spec in machine.board.get("parts", [])]

        def of_kind(kind):
            return [(n, p) for n, p in parts if getattr(p, "KIND", None) == kind]
        self.matrix = next(iter(of_kind("display")), None)
        self.board_buttons = of_kind("button")
        self.board_leds = of_kind("led")
        self.board_sensors = of_kind("sensor")
        self._held: set[str] = set()
        self._shown: dict = {}

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                log = Log(id="console", max_lines=5000)
                log.border_title = f"console ({self.m.console.name})"
                yield log
                yield Input(placeholder="type here, Enter sends it (Ctrl-C/D/E go to the board)",
                            id="console-input")
            with Vertical(id="right"):
                if self.matrix or self.board_leds or self.board_buttons or self.board_sensors:
                    with VerticalScroll(id="parts"):
                        if self.matrix:
                            yield Static("", id="display")
                        if self.board_leds:
                            yield Static("", id="leds")
                        if self.board_buttons:
                            with Horizontal(classes="buttons"):
                                for i, (name, _p) in enumerate(self.board_buttons):
                                    key = f" F{i + 2}" if i < 2 else ""
                                    yield Button(f"{name}{key}", id=f"button-{name}", compact=True)
                        for name, part in self.board_sensors:
                            yield Static("", id=f"sensor-label-{name}", classes="sensor-label")
                            yield Input(value=" ".join(str(v) for v in part.xyz()),
                                        placeholder="x y z, Enter sets", id=f"sensor-{name}")
                yield PinTable(id="pins", cursor_type="row", zebra_stripes=True)
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        m = self.m
        if self.query("#parts"):
            self.query_one("#parts").border_title = "parts"
        table = self.query_one(PinTable)
        table.border_title = "pins (h high, l low, r release)"
        table.add_column("pin", key="pin")
        table.add_column("chip", key="chip")
        table.add_column("level", key="level")
        table.add_column("driver", key="driver")
        for name in m.board.get("pins", {}):
            pin = m.pin(name)
            table.add_row(name, pin.id, str(pin.level), pin_driver(pin), key=name)
        self._pin_rows: dict[str, list[str]] = {}
        for name in m.board.get("pins", {}):
            self._pin_rows.setdefault(m.pin(name).id, []).append(name)

        for ch in {m.console, m.semihost}:
            self._unsubs.append(ch.subscribe(self._on_output))
        sub = m.events.subscribe
        self._unsubs += [sub(ev.PIN, self._on_pin), sub(ev.RESET, self._on_reset),
                         sub(ev.HALT, self._on_halt), sub("usb", self._on_usb)]
        self.query_one("#console-input", Input).focus()
        self._refresh()
        self.runner.start()
        self._timer = self.set_interval(1 / REFRESH_HZ, self._refresh)

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.runner.stop()
        for unsub in self._unsubs:
            unsub()

    # -- machine thread: note what changed (cheap) ----------------------------------------------
    def _on_output(self, data: bytes):
        with self._lock:
            self._out += data

    def _on_pin(self, e):
        with self._lock:
            self._dirty_pins.add(e.data["id"])

    def _on_reset(self, e):
        self._reset_info = (e.data.get("cause", "?"), e.time_ns)
        self._halt_info = None
        self.runner.stopped = None

    def _on_halt(self, e):
        status = e.data.get("status")
        self._halt_info = e.data.get("reason", "?") + (f" (status {status})" if status is not None else "")

    def _on_usb(self, e):
        # a USB serial console shows nothing until opened: ask for a prompt, as 'boardemu run' does
        if e.data.get("what") == "configured":
            self.m.console.send(b"\r\n")

    # -- screen refresh ---------------------------------------------------------------------------
    def _refresh(self) -> None:
        try:
            self._refresh_widgets()
        except NoMatches:
            pass                # the app is shutting down: its widgets are already gone

    def _refresh_widgets(self) -> None:
        with self._lock:
            out, self._out = bytes(self._out), bytearray()
            dirty, self._dirty_pins = self._dirty_pins, set()
        if out:
            self.query_one("#console", Log).write(clean_output(out.decode("utf-8", "replace")))
        if dirty:
            table = self.query_one(PinTable)
            for pin_id in dirty:
                for name in self._pin_rows.get(pin_id, ()):
                    pin = self.m.pin(name)
                    table.update_cell(name, "level", str(pin.level))
                    table.update_cell(name, "driver", pin_driver(pin))
        self._refresh_parts()
        self._refresh_status()

    def _show(self, widget_id: str, text: str):
        if self._shown.get(widget_id) != text:
            self._shown[widget_id] = text
            self.query_one(f"#{widget_id}", Static).update(text)

    def _refresh_parts(self):
        if self.matrix:
            self._show("display", render_image(self.matrix[1].image()))
        if self.board_leds:
            self._show("leds", "  ".join(f"{'●' if p.lit else '○'} {n}" for n, p in self.board_leds))
        for name, part in self.board_buttons:
            button = self.query_one(f"#button-{name}", Button)
            button.variant = "warning" if part.pressed else "default"
        for name, part in self.board_sensors:
            units = getattr(part, "UNITS", "")
            x, y, z = part.xyz()
            self._show(f"sensor-label-{name}", f"{name}: x={x} y={y} z={z}  [{units}]")

    def _refresh_status(self):
        m, r = self.m, self.runner
        now = time.perf_counter()
        t0, n0 = self._ips_mark
        if now - t0 >= 0.5:
            self._ips = (m.instructions - n0) / (now - t0)
            self._ips_mark = (now, m.instructions)
        if r.error is not None:
            state = f"error: {type(r.error).__name__}: {r.error}"
        elif m.halted:
            state = f"halted: {self._halt_info or m.halted}"
        elif r.paused:
            state = "paused"
        else:
            state = "running"
        cause, at_ns = self._reset_info
        self._show("status", f"board time {m.time_s:.6f} s   {state}   {self._ips / 1e6:.2f} M instr/s   "
                             f"reset: {cause} @ {at_ns / 1e9:.3f} s")

    # -- input ----------------------------------------------------------------------------------------
    def on_input_submitted(self, message: Input.Submitted) -> None:
        inp = message.input
        if inp.id == "console-input":
            self.m.console.send(message.value.encode() + b"\r")
            inp.value = ""
        elif inp.id and inp.id.startswith("sensor-"):
            name = inp.id[len("sensor-"):]
            try:
                x, y, z = (int(float(v)) for v in message.value.replace(",", " ").split())
            except ValueError:
                self.notify("give three numbers: x y z", severity="error")
                return
            self.m.part(name).set_xyz(x, y, z)

    def on_button_pressed(self, message: Button.Pressed) -> None:
        bid = message.button.id or ""
        if bid.startswith("button-"):
            self.m.part(bid[len("button-"):]).click()

    def action_send_byte(self, byte: int) -> None:
        self.m.console.send(bytes([byte]))

    def action_toggle_pause(self) -> None:
        self.runner.set_paused(not self.runner.paused)
        self._refresh_status()

    def action_reset(self) -> None:
        self.runner.call(self.m.reset, "tui")

    def action_tap_button(self, index: int) -> None:
        if index < len(self.board_buttons):
            self.board_buttons[index][1].click()

    def action_hold_button(self, index: int) -> None:
        if index < len(self.board_buttons):
            name, part = self.board_buttons[index]
            if name in self._held:
                self._held.discard(name)
                part.release()
            else:
                self._held.add(name)
                part.press()

    def poke_pin(self, name: str | None, level) -> None:
        """Drive a pin from outside the chip (None releases it), in the machine thread."""
        if name is None:
            return
        self.runner.call(self.m.pin(name).drive, level)


# -- command line ----------------------------------------------------------------------------------
def add_tui_parser(sub) -> argparse.ArgumentParser:
    t = sub.add_parser(
        "tui", help="run a board in a full-screen terminal UI (console, pins, parts, state)",
        description=textwrap.fill(
            "Boot a board with FIRMWARE (default: the board's default firmware, as 'boardemu run') and "
            "show it live: the console (an input line sends text + Enter), the board's pins (level, "
            "who drives them; drive one high/low or release it), its parts (LEDs, the micro:bit "
            "display, buttons, sensors you can set) and a status bar (board time, run state, "
            "instructions per second, last reset). Board time follows wall time unless --fast.", 95),
        epilog=textwrap.dedent("""\
            keys:
              Enter        send the input line (+ CR) to the board console
              Ctrl-C/D/E   sent to the board (MicroPython: interrupt, soft reset, paste mode)
              F2 / F3      press and release the first / second button (Shift: hold/let go)
              F5           pause / resume the board      F6  reset the board
              h / l / r    in the pins table: drive the selected pin high / low, release it
              Tab          next field                    Ctrl-Q  quit"""),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("firmware", nargs="?", help="firmware image (default: the board's default firmware)")
    t.add_argument("--board", "-b", default=None, help="board name or board .toml file (see 'boardemu boards')")
    t.add_argument("--fast", dest="pace", action="store_false",
                   help="run as fast as the host can (default: board time held to wall-clock time)")
    t.add_argument("--quantum", type=int, default=None, help="instructions per CPU burst (default 200000)")
    t.add_argument("--base", type=lambda v: int(v, 0), default=None, help="load address for a raw .bin image")
    t.add_argument("--bootrom", default=None, help="boot ROM image to use instead of the project's own (RP2040)")
    from boardemu.fs_cli import add_fs_arguments  # board filesystem and flash file
    add_fs_arguments(t)
    return t


def cmd_tui(args) -> int:
    import os

    from boardemu.fs_cli import finish_fs
    from boardemu.serve import _build_machine
    m, fw = _build_machine(args)
    if m is None:
        return fw
    app = TuiApp(m, title=f"{m.board.name}: {os.path.basename(str(fw))}")
    try:
        app.run()
    finally:
        app.runner.stop()
        fs_ok = finish_fs(m, args)
    if app.runner.error is not None:
        raise app.runner.error
    return 0 if fs_ok else EXIT_USAGE
