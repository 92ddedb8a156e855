"""The scenario engine: builds the board, runs the steps, reports.

Steps observe and drive the board only through the Machine API (``run``, pins, parts, console
channels) and its event bus. Waiting steps run the machine with a board-time limit and a
condition; the listeners that make a condition true also ask the machine to stop at once
(``machine.pause()`` from inside the machine thread ends the CPU burst before the next
instruction), so a step ends at the board time its condition was met and the next step's
actions happen then, not at the end of a burst.

Outcomes: a step that fails stops the scenario (status ``fail``); the scenario's own
``timeout`` of board time running out is ``timeout``; a problem with the scenario (file,
names, firmware) is ``error``. Exit statuses: 0 pass, 1 fail, 2 error, 3 timeout.
"""
from __future__ import annotations

import gc
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from boardemu.emulator import events as ev

from .loader import Scenario, ScenarioError, Step, format_ns, load_scenario

EXIT = {"pass": 0, "fail": 1, "error": 2, "timeout": 3}
TAIL_LINES = 20
RAW_REPL_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
RAW_REPL_RESULT = re.compile(rb"OK(.*?)\x04(.*?)\x04>", re.DOTALL)


class StepFailed(Exception):
    pass


class BoardTimeout(Exception):
    pass


def fmt_time(ns: int) -> str:
    """Board time for the report: '0.012 s' (or '35.2 us' below a millisecond)."""
    if ns >= 1_000_000 or ns == 0:
        return f"{ns / 1e9:.3f} s"
    return f"{ns / 1e3:.1f} us"


@dataclass
class StepResult:
    step: Step
    status: str                  # ok | FAIL | TIMEOUT
    time_ns: int
    message: str = ""
    note: str = ""               # extra facts of a passed step ("measured 4.00 Hz")

    def line(self) -> str:
        tag = {"ok": "ok  ", "FAIL": "FAIL", "TIMEOUT": "TIMEOUT"}[self.status]
        note = f"  {self.note}" if self.note else ""
        return f"  {tag} {self.step.index} {self.step.kind} {self.step.describe()}  ({fmt_time(self.time_ns)}){note}"


@dataclass
class Result:
    path: str
    name: str
    status: str                  # pass | fail | timeout | error
    steps: list[StepResult] = field(default_factory=list)
    message: str = ""            # why it failed / the scenario error (one line)
    serial_tail: str = ""
    time_ns: int = 0
    wall_s: float = 0.0
    report: str = ""             # everything the runner printed for this scenario
    missing_default_firmware: bool = False    # error because the board's default image is not installed

    @property
    def exit_code(self) -> int:
        return EXIT[self.status]

    @property
    def failed_step(self) -> StepResult | None:
        for s in self.steps:
            if s.status != "ok":
                return s
        return None


class Port:
    """A serial channel as the scenario sees it: everything it produced, and a read cursor."""

    def __init__(self, name: str, channel):
        self.name = name
        self.channel = channel
        self.buf = bytearray()
        self.cursor = 0


class _Capture:
    def __init__(self, path: Path, port: Port, line: int):
        self.path = path
        self.port = port
        self.line = line
        self.file = open(path, "wb")


# -- parts: what the steps expect of a part model ------------------------------------------------
def _part_can(part, verb: str) -> bool:
    if verb in ("press", "release"):
        return callable(getattr(part, verb, None)) or callable(getattr(part, "set_pressed", None))
    return False


def part_press(part, pressed: bool):
    fn = getattr(part, "press" if pressed else "release", None)
    if callable(fn):
        fn()
    else:
        part.set_pressed(pressed)


def part_controls(part) -> list[str] | None:
    """Names of the part's controls if it lists them (``controls`` attribute), else None."""
    c = getattr(part, "controls", None)
    if c is None:
        return None
    if isinstance(c, dict):
        return list(c)
    try:
        return list(c)
    except TypeError:
        return None


def _has_xyz(part) -> bool:
    return callable(getattr(part, "set_xyz", None)) and not callable(getattr(part, "set_control", None))


def _current_xyz(part) -> list:
    for attr in ("xyz", "mg", "nt"):
        v = getattr(part, attr, None)
        if isinstance(v, (list, tuple)) and len(v) == 3:
            return list(v)
    return [0, 0, 0]


def part_can_control(part, name: str) -> bool:
    if name == "pressed" and _part_can(part, "press"):
        return True
    if name in ("x", "y", "z") and _has_xyz(part):
        return True
    names = part_controls(part)
    if names is not None:
        return name in names
    if callable(getattr(part, "set_control", None)) or callable(getattr(part, f"set_{name}", None)):
        return True
    return hasattr(part, name) and not callable(getattr(part, name)) and not name.startswith("_")


def part_set_all(part, values: dict):
    """Set several controls; x/y/z of a part with ``set_xyz(x, y, z)`` (a sensor) go together."""
    values = dict(values)
    if _has_xyz(part) and any(k in values for k in ("x", "y", "z")):
        cur = _current_xyz(part)
        for i, k in enumerate("xyz"):
            if k in values:
                cur[i] = values.pop(k)
        part.set_xyz(*cur)
    for name, value in values.items():
        part_set(part, name, value)


def part_set(part, name: str, value):
    if name == "pressed" and _part_can(part, "press"):
        part_press(part, bool(value))
        return
    fn = getattr(part, "set_control", None)
    if callable(fn):
        fn(name, value)
        return
    fn = getattr(part, f"set_{name}", None)
    if callable(fn):
        fn(value)
        return
    setattr(part, name, value)


# -- the session ----------------------------------------------------------------------------------
class Session:
    def __init__(self, scenario: Scenario, *, echo: Callable[[str], None] | None = None,
                 vcd: Path | None = None, serial_log: Path | None = None, outdir: Path | None = None,
                 machine_hook: Callable | None = None):
        self.sc = scenario
        self.echo = echo or (lambda s: None)
        self.vcd_path = Path(vcd) if vcd else None
        self.serial_log_path = Path(serial_log) if serial_log else None
        self._outdir = outdir             # a path, a callable returning one (made on first use), or None: cwd
        self.machine_hook = machine_hook
        self.m = None
        self.trace = None
        self.ports: dict[str, Port] = {}
        self.pins: dict[int, object] = {}     # step index -> Pin
        self.parts: dict[int, object] = {}
        self.captures: dict[str, _Capture] = {}
        self.resets: list[tuple[int, str]] = []
        self.reset_cursor = 0
        self._watch = None
        self._unsubs = []
        self._serial_log = None
        self.deadline = 0
        self.lines: list[str] = []

    @property
    def outdir(self) -> Path:
        if callable(self._outdir):
            self._outdir = self._outdir()
        return Path(self._outdir) if self._outdir else Path.cwd()

    def say(self, text: str):
        self.lines.append(text)
        self.echo(text)

    def err(self, line, problem):
        return ScenarioError(self.sc.path, line, problem)

    # -- building ----------------------------------------------------------------------------------
    def build(self):
        from boardemu.boards.schema import BoardError
        from boardemu.emulator.board import load_board
        from boardemu.emulator.loaders import ImageError
        from boardemu.emulator.machine import Machine, MachineError

        sc = self.sc
        try:
            board = load_board(sc.board)
        except BoardError as e:
            raise self.err(sc.line_of("board"), f"board: {e}") from None
        fw = sc.firmware
        if fw is None:
            from boardemu.firmware import default_image
            fw, hint = default_image(board)
            if fw is None and not board.get("firmware.cache"):
                raise self.err(sc.line_of("board") or 1,
                               f"firmware: missing, and board {board.name} has no default firmware")
            if fw is None or not fw.is_file():
                # the board's default or official image is not installed / cached: the pytest
                # plugin skips such a scenario, the runner reports a scenario error
                if fw is None:
                    msg = f"the official firmware of board {board.name} is not cached: {hint}"
                else:
                    msg = f"the default firmware of board {board.name} is missing: {fw}{hint}"
                e = self.err(sc.line_of("board"), msg)
                e.missing_default_firmware = True
                raise e
        self.firmware = fw
        try:
            self.m = m = Machine(board, str(fw), flash=str(sc.flash) if sc.flash else None)
        except (ImageError, MachineError, BoardError) as e:
            raise self.err(sc.line_of("firmware") or sc.line_of("board"), str(e)) from None
        if self.machine_hook is not None:
            self.machine_hook(m)
        self._resolve_names()
        self.fs_files = self._fs_files()
        return m

    def _fs_files(self) -> dict:
        """The scenario's files, ``{file: x.py, mpy: true}`` entries compiled for the board's
        firmware (the mpy-cross that emits its .mpy version; a scenario error without one)."""
        from .loader import MpySource
        files = {}
        compiler = None
        for fname, data in (self.sc.fs or {}).items():
            if isinstance(data, MpySource):
                from boardemu.emulator.fsimage import FsError
                from boardemu.emulator.fsimage import mpy as mpymod
                try:
                    if compiler is None:
                        compiler = mpymod.Compiler(mpymod.target_from_board(self.m.board, self.m.image),
                                                   self.m.board.name)
                    data = compiler.compile(data.path, fname)
                except FsError as e:
                    raise self.err(data.line, f"fs.{fname}: {str(e).replace('--mpy: ', '')}") from None
            files[fname] = data
        return files

    def _port(self, name: str | None, line: int, where: str = "") -> Port:
        m = self.m
        if name in (None, "", "console"):
            key, ch = m.console.name, m.console
        else:
            ch = m.channels.get(name)
            if ch is None:
                known = ", ".join(["console", *sorted(m.channels)])
                raise self.err(line, f"{where}unknown serial port {name!r} (ports of {m.board.name}: {known})")
            key = name
        port = self.ports.get(key)
        if port is None:
            port = self.ports[key] = Port(key, ch)
        return port

    def _pin(self, name: str, line: int, where: str = ""):
        try:
            return self.m.pins.get(name)
        except KeyError:
            names = sorted(self.m.pins.by_name) or sorted(self.m.pins.by_id)
            known = ", ".join(names) if names else "none"
            raise self.err(line, f"{where}unknown pin {name!r} (pins of {self.m.board.name}: {known})") from None

    def _part(self, name: str, line: int, where: str = ""):
        part = self.m.parts.get(name)
        if part is None:
            known = ", ".join(sorted(self.m.parts)) or "none"
            raise self.err(line, f"{where}unknown part {name!r} (parts of {self.m.board.name}: {known})")
        return part

    def _filesystem(self, line, what):
        fs = getattr(self.m, "filesystem", None)
        if fs is None:
            raise self.err(line, f"{what}: not supported for this board yet ({self.m.board.name} has no "
                                 f"filesystem support in boardemu)")
        return fs() if callable(fs) else fs

    def _resolve_names(self):
        """Check every name a step uses against the built board, before the first step runs."""
        from boardemu.emulator.machine import Machine

        sc = self.sc
        self._port(None, 0)
        for pname, (vals, line) in sc.parts.items():
            part = self._part(pname, line, f"parts.{pname}: ")
            for cname in vals:
                if not part_can_control(part, cname):
                    raise self.err(line, f"parts.{pname}: {type(part).__name__} has no control {cname!r}")
        if sc.fs is not None:
            self._filesystem(sc.line_of("fs"), "fs")
        for st in sc.steps:
            a = st.args
            where = f"step {st.index} ({st.kind}): "
            if "port" in a or st.kind in ("wait-serial", "write-serial", "exec") or \
                    (st.kind == "capture" and "start" in a):
                self._port(a.get("port"), st.line_of("port"), where)
            if "pin" in a:
                self.pins[st.index] = self._pin(a["pin"], st.line_of("pin"), where)
            if st.kind in ("press", "release"):
                part = self._part(a["part"], st.line_of("part"), where)
                if not _part_can(part, "press"):
                    raise self.err(st.line_of("part"), f"step {st.index} ({st.kind}): part {a['part']!r} "
                                                       f"({type(part).__name__}) is not a button")
                self.parts[st.index] = part
            if st.kind == "set-control":
                part = self._part(a["part"], st.line_of("part"), where)
                for cname in a:
                    if cname != "part" and not part_can_control(part, cname):
                        controls = part_controls(part)
                        known = f" (controls: {', '.join(controls)})" if controls else ""
                        raise self.err(st.line_of(cname), f"step {st.index} (set-control): part {a['part']!r} "
                                                          f"has no control {cname!r}{known}")
                self.parts[st.index] = part
            if st.kind in ("expect-display", "wait-display"):
                name = a.get("part", "display")
                part = self._part(name, st.line_of("part"), where)
                if not callable(getattr(part, "image", None)):
                    raise self.err(st.line_of("part"), f"{where}part {name!r} ({type(part).__name__}) is not a display")
                self.parts[st.index] = part
            if st.kind == "expect-file":
                self._filesystem(st.line, "expect-file")
            if st.kind in ("snapshot", "restore"):
                if not (callable(getattr(Machine, "snapshot", None)) and callable(getattr(Machine, "restore", None))):
                    raise self.err(st.line, f"step {st.index} ({st.kind}): not supported: the emulator core "
                                            f"has no snapshots yet")
        saved = [st.args["name"] for st in sc.steps if st.kind == "snapshot"]
        for st in sc.steps:
            if st.kind == "restore" and st.args["name"] not in saved:
                raise self.err(st.line, f"step {st.index} (restore): no snapshot named {st.args['name']!r}")
        started = set()
        for st in sc.steps:
            if st.kind == "capture":
                if "start" in st.args:
                    if st.args["start"] in started:
                        raise self.err(st.line, f"step {st.index} (capture): {st.args['start']} is already "
                                                f"being captured")
                    started.add(st.args["start"])
                elif st.args["stop"] not in started:
                    raise self.err(st.line, f"step {st.index} (capture): no capture of {st.args['stop']} started")
                else:
                    started.discard(st.args["stop"])

    def attach(self):
        """Start listening (serial ports, resets, trace, logs) and apply initial part values."""
        m = self.m
        for port in self.ports.values():
            self._unsubs.append(port.channel.subscribe(self._serial_listener(port)))
        self._unsubs.append(m.events.subscribe(ev.RESET, self._on_reset))
        self._unsubs.append(m.events.subscribe(ev.HALT, lambda e: self._poke()))
        if self.vcd_path:
            from .trace import Trace
            self.trace = Trace(m)
        if self.serial_log_path:
            self._serial_log = open(self.serial_log_path, "wb")
            log = self._serial_log
            self._unsubs.append(m.console.subscribe(log.write))
        for pname, (vals, _line) in self.sc.parts.items():
            part_set_all(m.parts[pname], vals)
        if self.sc.fs:
            fs = self._filesystem(self.sc.line_of("fs"), "fs")
            for fname, data in self.fs_files.items():
                fs.write(fname, data)
        if self.sc.parts:
            self.settle()

    def _serial_listener(self, port: Port):
        def on_data(data):
            port.buf += data
            if self._watch is not None:
                self._poke()
        return on_data

    def _on_reset(self, e):
        self.resets.append((e.time_ns, e.cause))
        self._poke()

    def _poke(self):
        """Something the current wait may be waiting for happened: stop the run if it is met."""
        w = self._watch
        if w is not None and w():
            self._watch = None
            self.m.pause()

    def detach(self):
        for u in self._unsubs:
            u()
        self._unsubs = []
        for cap in self.captures.values():
            cap.file.close()
        self.captures.clear()
        if self._serial_log:
            self._serial_log.close()
            self._serial_log = None
        if self.trace:
            self.trace.close()

    # -- running the board -------------------------------------------------------------------------
    def _cycles(self, ns: int) -> int:
        return self.m.clock.ns_to_cycles(ns)

    def _halt_text(self) -> str:
        m = self.m
        if m.halted == "exit":
            return f"the firmware exited with status {m.exit_status}"
        if m.halted in ("lockup", "hardfault-loop"):
            rep = m.fault.format().splitlines()[0] if m.fault is not None else "the core locked up"
            return f"the board faulted ({rep})"
        if m.halted == "deadlock":
            return "the board deadlocked"
        return f"the board halted ({m.halted})"

    def wait(self, done: Callable[[], bool], timeout_ns: int | None, what: str):
        """Run until ``done()``; ``timeout_ns`` is the step's own limit (None: the scenario's)."""
        m = self.m
        own = None if timeout_ns is None else m.clock.cycles + self._cycles(timeout_ns)
        self.wait_until(done, own, what, timeout_ns)

    def wait_until(self, done, own_deadline, what, timeout_ns=None):
        m = self.m
        deadline = self.deadline if own_deadline is None else min(own_deadline, self.deadline)
        while True:
            if done():
                return
            if callable(what):
                what = what() if m.halted or m.clock.cycles >= deadline else what
            if m.halted:
                raise StepFailed(f"{what}: {self._halt_text()} at {fmt_time(m.time_ns)}")
            now = m.clock.cycles
            if now >= deadline:
                if own_deadline is not None and own_deadline <= self.deadline:
                    limit = f" within {format_ns(timeout_ns)}" if timeout_ns is not None else ""
                    raise StepFailed(f"{what}{limit}")
                raise BoardTimeout(f"{what}: the scenario's timeout of {format_ns(self.sc.timeout_ns)} of "
                                   f"board time ran out")
            self._watch = done
            try:
                m.run(max_instructions=deadline - now, until=done)
            finally:
                self._watch = None

    def run_for(self, ns: int):
        """Let ``ns`` of board time pass (less if the board halts: its time stops)."""
        m = self.m
        target = m.clock.cycles + self._cycles(ns)
        end = min(target, self.deadline)
        while m.clock.cycles < end and not m.halted:
            m.run(max_instructions=end - m.clock.cycles)
        if target > self.deadline and not m.halted:
            raise BoardTimeout(f"the scenario's timeout of {format_ns(self.sc.timeout_ns)} of board time ran out")

    def send(self, port: Port, data: bytes):
        if self.trace:
            self.trace.host_sent(port.name, data)
        port.channel.send(data)

    # -- the steps --------------------------------------------------------------------------------------
    def step_wait_serial(self, st: Step):
        a = st.args
        port = self._port(a.get("port"), 0)
        found = {}
        if "text" in a:
            needle = a["text"].encode()

            def done():
                i = port.buf.find(needle, port.cursor)
                if i < 0:
                    return False
                found["end"] = i + len(needle)
                return True
            what = f"{a['text']!r} did not appear on {port.name}"
        else:
            rx = re.compile(a["regex"].pattern.encode(), a["regex"].flags & ~re.UNICODE)

            def done():
                mt = rx.search(port.buf, port.cursor)
                if mt is None:
                    return False
                found["end"] = mt.end()
                return True
            what = f"nothing matching /{a['regex'].pattern}/ appeared on {port.name}"
        self.wait(done, a.get("timeout"), what)
        port.cursor = found["end"]

    def step_write_serial(self, st: Step):
        port = self._port(st.args.get("port"), 0)
        self.send(port, st.args["text"].encode())

    def step_exec(self, st: Step):
        a = st.args
        port = self._port(a.get("port"), 0)
        m = self.m
        own = None if "timeout" not in a else m.clock.cycles + self._cycles(a["timeout"])
        mark = len(port.buf)
        self.send(port, b"\x03\x03\x01")          # Ctrl-C Ctrl-C (stop a program), Ctrl-A (raw REPL)
        pos = {}

        def banner():
            i = port.buf.find(RAW_REPL_BANNER, mark)
            if i < 0:
                return False
            pos["p"] = i + len(RAW_REPL_BANNER)
            return True
        self.wait_until(banner, own, f"no raw REPL prompt on {port.name} (is MicroPython at its REPL?)",
                        a.get("timeout"))
        self.send(port, a["code"].encode() + b"\x04")
        got = {}

        def result():
            mt = RAW_REPL_RESULT.search(port.buf, pos["p"])
            if mt is None:
                return False
            got["m"] = mt
            return True
        self.wait_until(result, own, "the code did not finish", a.get("timeout"))
        mt = got["m"]
        port.cursor = mt.end()
        self.send(port, b"\r\x02")                     # back to the friendly REPL
        out = mt.group(1).decode("utf-8", "replace").replace("\r\n", "\n")
        err = mt.group(2).decode("utf-8", "replace").replace("\r\n", "\n")
        if "exception" in a:
            if not err:
                raise StepFailed(f"expected an exception containing {a['exception']!r}, none was raised; "
                                 f"output: {_clip(out)!r}")
            if a["exception"] not in err:
                raise StepFailed(f"expected an exception containing {a['exception']!r}, got: {_clip(err.strip())}")
        elif err:
            raise StepFailed(f"the code raised: {_clip(err.strip(), 400)}")
        if "output" in a:
            kind, want = a["output"]
            if kind == "text":
                if out.strip("\n") != want.strip("\n"):
                    raise StepFailed(f"output {_clip(out)!r}, expected {want!r}")
            elif not want.search(out):
                raise StepFailed(f"output {_clip(out)!r} does not match /{want.pattern}/")

    def settle(self):
        """Let actions posted to the machine thread (parts' thread-safe setters) take effect now,
        without running an instruction."""
        if not self.m.halted:
            self.m.run(max_instructions=0)

    def step_set_pin(self, st: Step):
        self.pins[st.index].drive(st.args["level"])
        self.settle()

    def step_press(self, st: Step):
        part_press(self.parts[st.index], True)
        self.settle()

    def step_release(self, st: Step):
        part_press(self.parts[st.index], False)
        self.settle()

    def step_set_control(self, st: Step):
        part_set_all(self.parts[st.index], {k: v for k, v in st.args.items() if k != "part"})
        self.settle()

    @staticmethod
    def _image_matches(rows, want) -> bool:
        if len(rows) != len(want):
            return False
        for r, w in zip(rows, want):
            if len(r) != len(w):
                return False
            for c, p in zip(r, w):
                if p == "?" or p == c or (p == "#" and c != "0") or (p == "." and c == "0"):
                    continue
                return False
        return True

    def step_expect_display(self, st: Step):
        part, want = self.parts[st.index], st.args["image"]
        rows = list(part.image())
        if not self._image_matches(rows, want):
            raise StepFailed(f"the display shows {':'.join(rows)}, expected {':'.join(want)}")

    def step_wait_display(self, st: Step):
        part, want = self.parts[st.index], st.args["image"]
        unsub = self.m.events.subscribe(ev.DISPLAY, lambda e: self._poke())
        try:
            self.wait(lambda: self._image_matches(list(part.image()), want), st.args.get("timeout"),
                      lambda: f"the display did not show {':'.join(want)} (it shows {':'.join(part.image())})")
        finally:
            unsub()

    def step_expect_pin(self, st: Step):
        pin = self.pins[st.index]
        if pin.level != st.args["level"]:
            raise StepFailed(f"pin {st.args['pin']} is {pin.level}, expected {st.args['level']}")

    def _pin_events(self, pin, fn):
        def on_pin(e):
            if e.id == pin.id:
                fn(e)
                self._poke()
        return self.m.events.subscribe(ev.PIN, on_pin)

    def step_wait_pin(self, st: Step):
        a = st.args
        pin = self.pins[st.index]
        if "level" in a:
            want = a["level"]
            unsub = self._pin_events(pin, lambda e: None)
            try:
                self.wait(lambda: pin.level == want, a.get("timeout"),
                          lambda: f"pin {a['pin']} did not reach level {want} (it is {pin.level})")
            finally:
                unsub()
            return
        edge = a["edge"]
        seen = []

        def on(e):
            if edge == "any" or (edge == "rising") == (e.level == 1):
                seen.append(e)
        unsub = self._pin_events(pin, on)
        try:
            self.wait(lambda: bool(seen), a.get("timeout"), lambda: f"no {edge} edge on pin {a['pin']} "
                                                                    f"(level stayed {pin.level})")
        finally:
            unsub()

    def step_expect_blink(self, st: Step):
        a = st.args
        pin = self.pins[st.index]
        window = a.get("window", 1_000_000_000)
        hz = a["hz"]
        tol_kind, tol = a.get("tolerance", ("rel", 0.10))
        margin = hz * tol if tol_kind == "rel" else tol
        edges = []
        unsub = self._pin_events(pin, lambda e: edges.append(e.time_ns))
        t0 = self.m.time_ns
        try:
            self.run_for(window)
        finally:
            unsub()
        span = self.m.time_ns - t0
        if self.m.halted and span < window:
            raise StepFailed(f"{self._halt_text()} {format_ns(span)} into the {format_ns(window)} window")
        if len(edges) < 3:
            raise StepFailed(f"pin {a['pin']} did not blink: {len(edges)} edge(s) in {format_ns(window)} "
                             f"(expected {hz:g} Hz ± {margin:g})")
        measured = (len(edges) - 1) / 2 / ((edges[-1] - edges[0]) / 1e9)
        if abs(measured - hz) > margin:
            raise StepFailed(f"pin {a['pin']} blinks at {measured:.4g} Hz, expected {hz:g} Hz ± {margin:.3g} "
                             f"({len(edges)} edges in {format_ns(window)})")
        return f"measured {measured:.3f} Hz"

    def step_delay(self, st: Step):
        self.run_for(st.args["time"])

    def step_expect_reset(self, st: Step):
        a = st.args
        cause = a.get("cause")
        hit = {}

        def done():
            for i in range(self.reset_cursor, len(self.resets)):
                got = self.resets[i][1]
                # a family name matches its kinds: 'watchdog' is watchdog-timer or watchdog-force
                if cause is None or got == cause or got.startswith(cause + "-"):
                    hit["i"] = i
                    return True
            return False
        seen = lambda: ", ".join(c for _, c in self.resets[self.reset_cursor:]) or "none"  # noqa: E731
        try:
            self.wait(done, a.get("timeout"), f"no {'reset' if cause is None else cause + ' reset'}")
        except StepFailed as e:
            raise StepFailed(f"{e} (resets seen: {seen()})") from None
        self.reset_cursor = hit["i"] + 1

    def step_expect_exit(self, st: Step):
        a = st.args
        m = self.m
        try:
            self.wait(lambda: m.halted is not None, a.get("timeout"), "the firmware did not exit")
        except StepFailed:
            if m.halted and m.halted != "exit":
                raise StepFailed(f"expected an exit, but {self._halt_text()}") from None
            raise
        if m.halted != "exit":
            raise StepFailed(f"expected an exit, but {self._halt_text()}")
        if "status" in a and m.exit_status != a["status"]:
            raise StepFailed(f"the firmware exited with status {m.exit_status}, expected {a['status']}")

    def step_capture(self, st: Step):
        a = st.args
        if "start" in a:
            path = self.outdir / a["start"]
            path.parent.mkdir(parents=True, exist_ok=True)
            port = self._port(a.get("port"), 0)
            cap = _Capture(path, port, st.line)
            cap.unsub = port.channel.subscribe(cap.file.write)
            self.captures[a["start"]] = cap
        else:
            cap = self.captures.pop(a["stop"])
            cap.unsub()
            cap.file.close()

    def step_expect_file(self, st: Step):
        a = st.args
        fs = self._filesystem(st.line, "expect-file")
        try:
            data = fs.read(a["path"])
        except FileNotFoundError:
            raise StepFailed(f"no file {a['path']!r} on the board") from None
        text = data.decode("utf-8", "replace")
        if "content" in a and text != a["content"]:
            raise StepFailed(f"{a['path']} holds {_clip(text)!r}, expected {_clip(a['content'])!r}")
        if "regex" in a and not a["regex"].search(text):
            raise StepFailed(f"{a['path']} holds {_clip(text)!r}, no match for /{a['regex'].pattern}/")

    def step_snapshot(self, st: Step):
        self.snapshots = getattr(self, "snapshots", {})
        self.snapshots[st.args["name"]] = self.m.snapshot()

    def step_restore(self, st: Step):
        self.m.restore(self.snapshots[st.args["name"]])

    # -- the run ----------------------------------------------------------------------------------------
    def serial_tail(self, n: int = TAIL_LINES) -> str:
        parts = []
        for port in self.ports.values():
            if not port.buf and port.channel is not self.m.console:
                continue
            text = bytes(port.buf[-8192:]).decode("utf-8", "replace")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            text = "".join(c if c == "\n" or c == "\t" or c >= " " else f"\\x{ord(c):02x}" for c in text)
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            lines = lines[-n:]
            parts.append((port.name, lines))
        out = []
        for name, lines in parts:
            if not lines:
                out.append(f"  --- no serial output on {name} ---")
                continue
            out.append(f"  --- last {len(lines)} lines of serial output ({name}) ---")
            out.extend(f"  | {ln}" for ln in lines)
        return "\n".join(out)

    def run_steps(self) -> Result:
        sc, m = self.sc, self.m
        res = Result(str(sc.path), sc.name, "pass")
        self.deadline = m.clock.cycles + self._cycles(sc.timeout_ns)
        for st in sc.steps:
            handler = getattr(self, "step_" + st.kind.replace("-", "_"))
            try:
                note = handler(st)
            except StepFailed as e:
                r = StepResult(st, "FAIL", m.time_ns, str(e))
                res.status, res.message = "fail", f"step {st.index} {st.kind}: {e}"
            except BoardTimeout as e:
                r = StepResult(st, "TIMEOUT", m.time_ns, str(e))
                res.status, res.message = "timeout", f"step {st.index} {st.kind}: {e}"
            else:
                r = StepResult(st, "ok", m.time_ns, note=note or "")
            res.steps.append(r)
            self.say(r.line())
            if r.status != "ok":
                self.say(f"       {r.message}")
                res.serial_tail = self.serial_tail()
                if res.serial_tail:
                    self.say(res.serial_tail)
                break
        res.time_ns = m.time_ns
        return res


def _shown(p) -> str:
    try:
        rel = os.path.relpath(p)
    except ValueError:
        return str(p)
    return rel if not rel.startswith("..") else str(Path(p).resolve())


def _clip(s: str, n: int = 200) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def run_scenario(path, *, echo: Callable[[str], None] | None = None, vcd=None, serial_log=None,
                 outdir=None, machine_hook=None) -> Result:
    """Load, validate and run one scenario file. Never raises for scenario problems: they are
    a Result with status 'error' and a one-line message."""
    wall0 = time.perf_counter()
    lines: list[str] = []

    def say(s):
        lines.append(s)
        if echo:
            echo(s)
    try:
        sc = load_scenario(path)
    except ScenarioError as e:
        return Result(str(path), Path(path).stem, "error", message=str(e), report=str(e),
                      wall_s=time.perf_counter() - wall0)
    session = Session(sc, echo=say, vcd=vcd, serial_log=serial_log, outdir=outdir, machine_hook=machine_hook)
    try:
        session.build()
    except ScenarioError as e:
        res = Result(str(path), sc.name, "error", message=str(e), report=str(e),
                     wall_s=time.perf_counter() - wall0)
        res.missing_default_firmware = getattr(e, "missing_default_firmware", False)
        return res
    say(f"scenario {sc.name} ({path}): board {session.m.board.name}, firmware {_shown(session.firmware)}")
    try:
        session.attach()
        res = session.run_steps()
        if session.vcd_path:
            session.trace.write_vcd(session.vcd_path, session.m.time_ns)
    except ScenarioError as e:
        return Result(str(path), sc.name, "error", message=str(e), report=str(e),
                      wall_s=time.perf_counter() - wall0)
    finally:
        session.detach()
        # A Machine lives in reference cycles (core <-> models <-> hooks) holding the emulator's
        # memory outside Python's accounting: collect it now, or a long pytest session grows by
        # megabytes per scenario until a full collection happens to run.
        session.m = session.trace = None
        gc.collect(1)
    res.wall_s = time.perf_counter() - wall0
    n = len(sc.steps)
    if res.status == "pass":
        say(f"PASS {sc.name}: {n} step{'s' * (n != 1)}, {fmt_time(res.time_ns)} of board time")
    elif res.status == "timeout":
        say(f"TIMEOUT {sc.name}: {res.message}")
    else:
        say(f"FAIL {sc.name}: {res.message}")
    res.report = "\n".join(lines)
    return res
