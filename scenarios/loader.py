"""Scenario files: YAML read with line numbers, then validated as a whole before anything runs.

Every mistake in a file (bad YAML, unknown key or step, wrong type, bad regex, missing firmware)
is a :class:`ScenarioError` reported as ``FILE:LINE: problem`` in one line. Names that depend
on the board (pins, parts, serial ports) are checked by the engine once the board is built,
still before the first step runs, with the line of the step that used them.

File format (see scenarios/README.md for every step)::

    name: hello                      # optional, default: the file name
    board: mps2-an385                # board name, or a board .toml (relative to this file)
    firmware: ../fw/hello.elf        # relative to this file, or absolute; default: the board's
    timeout: 5s                      # board time for the whole scenario (default 10s)
    parts: {button_a: {pressed: true}}
    steps:
      - wait-serial: "Hello"
      - wait-serial: {regex: "v\\d+", timeout: 250ms}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

DEFAULT_TIMEOUT_NS = 10_000_000_000


class ScenarioError(Exception):
    """A problem with the scenario itself (exit status 2); ``str()`` is one line FILE:LINE: problem."""

    def __init__(self, path, line: int | None, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


# -- YAML with line numbers -----------------------------------------------------------------------
@dataclass
class Y:
    """A YAML value and the (1-based) line it starts on. Maps hold ``{key: Y}``, lists ``[Y]``."""
    value: Any
    line: int
    kind: str          # "map" | "seq" | "scalar"

    def plain(self):
        if self.kind == "map":
            return {k: v.plain() for k, v in self.value.items()}
        if self.kind == "seq":
            return [v.plain() for v in self.value]
        return self.value


def _describe(y: Y) -> str:
    if y.kind == "map":
        return "a mapping"
    if y.kind == "seq":
        return "a list"
    v = y.value
    if v is None:
        return "nothing (null)"
    return f"{type(v).__name__} {v!r}"


def parse_yaml(text: str, path) -> Y | None:
    """Compose ``text`` and convert it to :class:`Y` nodes (duplicate keys are errors)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        ctx = getattr(e, "context", None)
        cmark = getattr(e, "context_mark", None)
        if mark is not None and cmark is not None and "<stream end>" in str(problem):
            mark = cmark            # "got end of file": the line where the open construct began
        msg = f"not valid YAML: {problem}" + (f" ({ctx})" if ctx else "")
        raise ScenarioError(path, mark.line + 1 if mark else None, msg) from None
    if root is None:
        return None
    constructor = SafeConstructor()

    def conv(node, depth=0):
        line = node.start_mark.line + 1
        if depth > 100:
            raise ScenarioError(path, line, "nesting too deep")
        if isinstance(node, MappingNode):
            out: dict[str, Y] = {}
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    raise ScenarioError(path, knode.start_mark.line + 1, "merge keys (<<) are not supported")
                if not isinstance(knode, ScalarNode):
                    raise ScenarioError(path, knode.start_mark.line + 1, "keys must be plain names")
                key = str(constructor.construct_object(knode))
                if key in out:
                    raise ScenarioError(path, knode.start_mark.line + 1, f"{key}: duplicate key")
                out[key] = conv(vnode, depth + 1)
                out[key].key_line = knode.start_mark.line + 1
            return Y(out, line, "map")
        if isinstance(node, SequenceNode):
            return Y([conv(n, depth + 1) for n in node.value], line, "seq")
        try:
            return Y(constructor.construct_object(node), line, "scalar")
        except ConstructorError as e:
            raise ScenarioError(path, line, f"bad value: {e.problem}") from None

    return conv(root)


# -- value types --------------------------------------------------------------------------------
class Bad(ValueError):
    """A value of the wrong type or form; the caller adds file, line and key."""


_TIME_UNITS = (("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1), ("s", 1_000_000_000))


def parse_time_ns(v) -> int:
    """'5s', '250ms', '10us', '100ns', or a number of seconds -> nanoseconds (board time)."""
    if isinstance(v, bool):
        raise Bad(f"expected a time like 5s or 250ms, got {v!r}")
    if isinstance(v, (int, float)):
        if v < 0:
            raise Bad(f"time must not be negative, got {v!r}")
        return round(v * 1_000_000_000)
    if isinstance(v, str):
        s = v.strip().lower().replace(" ", "")
        for suffix, mult in _TIME_UNITS:
            if s.endswith(suffix):
                try:
                    num = float(s[: -len(suffix)])
                except ValueError:
                    break
                if num < 0:
                    break
                return round(num * mult)
    raise Bad(f"expected a time like 5s, 250ms or 10us, got {v!r}")


def format_ns(ns: int) -> str:
    if ns >= 1_000_000_000 and ns % 1_000_000 == 0:
        return f"{ns / 1e9:g} s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:g} ms"
    if ns >= 1_000:
        return f"{ns / 1e3:g} us"
    return f"{ns} ns"


def t_str(y: Y):
    if y.kind != "scalar" or not isinstance(y.value, str):
        raise Bad(f"expected a string, got {_describe(y)} (quote it)")
    return y.value


def t_nonempty_str(y: Y):
    s = t_str(y)
    if not s:
        raise Bad("must not be empty")
    return s


def t_time(y: Y):
    if y.kind != "scalar":
        raise Bad(f"expected a time like 5s or 250ms, got {_describe(y)}")
    return parse_time_ns(y.value)


def t_int(y: Y):
    if y.kind != "scalar" or isinstance(y.value, bool) or not isinstance(y.value, int):
        raise Bad(f"expected an integer, got {_describe(y)}")
    return y.value


def t_number(y: Y):
    if y.kind != "scalar" or isinstance(y.value, bool) or not isinstance(y.value, (int, float)):
        raise Bad(f"expected a number, got {_describe(y)}")
    return y.value


def t_positive(y: Y):
    v = t_number(y)
    if v <= 0:
        raise Bad(f"must be positive, got {v!r}")
    return v


_LEVELS = {0: 0, 1: 1, "low": 0, "high": 1, "0": 0, "1": 1}      # True/False hash as 1/0


def t_level(y: Y):
    v = y.value.lower() if y.kind == "scalar" and isinstance(y.value, str) else y.value
    if y.kind == "scalar" and v in _LEVELS and not isinstance(v, float):
        return _LEVELS[v]
    raise Bad(f"expected a level 0/1 (or low/high), got {_describe(y)}")


def t_level_or_release(y: Y):
    v = y.value
    if y.kind == "scalar" and (v is None or (isinstance(v, str) and v.lower() in ("release", "z", "float"))):
        return None
    try:
        return t_level(y)
    except Bad:
        raise Bad(f"expected a level 0/1 (low/high) or release, got {_describe(y)}") from None


def t_regex(y: Y):
    s = t_str(y)
    try:
        return re.compile(s, re.MULTILINE)
    except re.error as e:
        raise Bad(f"bad regular expression: {e}") from None


def t_tolerance(y: Y):
    """'10%' (relative) or a number of Hz (absolute) -> ('rel', 0.1) | ('abs', 0.5)."""
    if y.kind == "scalar" and isinstance(y.value, str) and y.value.strip().endswith("%"):
        try:
            pct = float(y.value.strip()[:-1])
        except ValueError:
            raise Bad(f"expected a tolerance like 10% or 0.5 (Hz), got {y.value!r}") from None
        if pct < 0:
            raise Bad("tolerance must not be negative")
        return ("rel", pct / 100.0)
    if y.kind == "scalar" and isinstance(y.value, str) and y.value.strip().lower().endswith("hz"):
        try:
            return ("abs", float(y.value.strip()[:-2]))
        except ValueError:
            pass
    try:
        v = t_number(y)
    except Bad:
        raise Bad(f"expected a tolerance like 10% or 0.5 (Hz), got {_describe(y)}") from None
    if v < 0:
        raise Bad("tolerance must not be negative")
    return ("abs", float(v))


def t_hz(y: Y):
    if y.kind == "scalar" and isinstance(y.value, str) and y.value.strip().lower().endswith("hz"):
        try:
            v = float(y.value.strip()[:-2])
        except ValueError:
            raise Bad(f"expected a frequency like 2 or 2Hz, got {y.value!r}") from None
        if v > 0:
            return v
    return float(t_positive(y))


def t_edge(y: Y):
    s = t_str(y).lower()
    if s not in ("rising", "falling", "any"):
        raise Bad(f"expected rising, falling or any, got {y.value!r}")
    return s


def t_bool(y: Y):
    if y.kind != "scalar" or not isinstance(y.value, bool):
        raise Bad(f"expected true or false, got {_describe(y)}")
    return y.value


def t_scalar(y: Y):
    if y.kind != "scalar" or y.value is None:
        raise Bad(f"expected a value, got {_describe(y)}")
    return y.value


def t_text_or_regex(y: Y):
    """'text' | {text: ...} | {regex: ...} -> ('text', str) | ('regex', Pattern)."""
    if y.kind == "scalar":
        return ("text", t_nonempty_str(y))
    if y.kind == "map":
        keys = set(y.value)
        if keys == {"text"}:
            return ("text", t_nonempty_str(y.value["text"]))
        if keys == {"regex"}:
            return ("regex", t_regex(y.value["regex"]))
        raise Bad("expected a string, {text: ...} or {regex: ...}")
    raise Bad(f"expected a string or {{regex: ...}}, got {_describe(y)}")


def t_image(y: Y):
    """A display image: "09090:09090:00000:90009:09990" (MicroPython's Image string) or a list of
    rows; digits are brightness 0-9, '#' any lit LED, '.' an unlit one, '?' anything."""
    if y.kind == "seq":
        rows = [t_str(r) for r in y.value]
    elif y.kind == "scalar" and isinstance(y.value, str):
        rows = [r for r in y.value.strip().rstrip(":").split(":")]
    else:
        raise Bad(f"expected an image like \"09090:09090:00000:90009:09990\" or a list of rows, got {_describe(y)}")
    rows = [r.strip() for r in rows]
    if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
        raise Bad("image rows must be non-empty and all the same length")
    bad = {c for r in rows for c in r} - set("0123456789#.?")
    if bad:
        raise Bad(f"image: unexpected characters {''.join(sorted(bad))!r} (use 0-9, # lit, . off, ? any)")
    return rows


# -- steps --------------------------------------------------------------------------------------
@dataclass
class StepSpec:
    keys: dict[str, Callable]            # key -> validator
    short: str | None = None             # key a scalar value stands for: `- delay: 100ms`
    required: tuple = ()
    one_of: tuple = ()                   # exactly one of these keys
    any_of: tuple = ()                   # at least one of these keys
    check: Callable | None = None        # extra check(args) -> raises Bad
    help: str = ""


def _capture_check(args):
    if ("start" in args) == ("stop" in args):
        raise Bad("give either start: FILE or stop: FILE")
    if "stop" in args and "port" in args:
        raise Bad("port goes with start")


def _wait_pin_check(args):
    if ("edge" in args) == ("level" in args):
        raise Bad("give either edge: rising|falling|any or level: 0|1")


def _expect_file_check(args):
    if "content" in args and "regex" in args:
        raise Bad("give content or regex, not both")


STEPS: dict[str, StepSpec] = {
    "wait-serial": StepSpec({"text": t_nonempty_str, "regex": t_regex, "timeout": t_time, "port": t_str},
                            short="text", one_of=("text", "regex"),
                            help="wait until text (or a regex) appears on a serial port"),
    "write-serial": StepSpec({"text": t_str, "port": t_str}, short="text", required=("text",),
                             help="send text to a serial port"),
    "exec": StepSpec({"code": t_str, "output": t_text_or_regex, "exception": t_nonempty_str,
                      "timeout": t_time, "port": t_str}, short="code", required=("code",),
                     help="run code through MicroPython's raw REPL; check output / exception"),
    "set-pin": StepSpec({"pin": t_nonempty_str, "level": t_level_or_release}, required=("pin", "level"),
                        help="drive a pin from outside (level 0/1, or release)"),
    "press": StepSpec({"part": t_nonempty_str}, short="part", required=("part",), help="press a button part"),
    "release": StepSpec({"part": t_nonempty_str}, short="part", required=("part",), help="release a button part"),
    "set-control": StepSpec({"part": t_nonempty_str, "*": t_scalar}, required=("part",),
                            help="set a part's control values (e.g. accelerometer x/y/z)"),
    "expect-pin": StepSpec({"pin": t_nonempty_str, "level": t_level}, required=("pin", "level"),
                           help="the pin's level now"),
    "wait-pin": StepSpec({"pin": t_nonempty_str, "edge": t_edge, "level": t_level, "timeout": t_time},
                         required=("pin",), check=_wait_pin_check,
                         help="wait for an edge or a level on a pin"),
    "expect-blink": StepSpec({"pin": t_nonempty_str, "hz": t_hz, "tolerance": t_tolerance, "window": t_time},
                             required=("pin", "hz"),
                             help="the pin toggles at hz (± tolerance) over a window of board time"),
    "expect-display": StepSpec({"part": t_nonempty_str, "image": t_image}, short="image", required=("image",),
                               help="the LED display part shows this image now"),
    "wait-display": StepSpec({"part": t_nonempty_str, "image": t_image, "timeout": t_time}, short="image",
                             required=("image",), help="wait until the LED display part shows this image"),
    "delay": StepSpec({"time": t_time}, short="time", required=("time",), help="let board time pass"),
    "expect-reset": StepSpec({"cause": t_nonempty_str, "timeout": t_time}, short="cause",
                             help="a reset (of this cause) happens within the timeout"),
    "expect-exit": StepSpec({"status": t_int, "timeout": t_time}, short="status",
                            help="the firmware exits (semihosting) with this status"),
    "capture": StepSpec({"start": t_nonempty_str, "stop": t_nonempty_str, "port": t_str},
                        check=_capture_check, help="start/stop logging a serial port to a file"),
    "expect-file": StepSpec({"path": t_nonempty_str, "content": t_str, "regex": t_regex},
                            required=("path",), check=_expect_file_check,
                            help="a file on the board filesystem (checked after the run)"),
    "snapshot": StepSpec({"name": t_nonempty_str}, short="name", required=("name",), help="save the board state"),
    "restore": StepSpec({"name": t_nonempty_str}, short="name", required=("name",), help="restore a saved state"),
}

STEP_NAMES = tuple(STEPS)


@dataclass
class Step:
    index: int                  # 1-based position in the file
    kind: str
    args: dict
    line: int
    key_lines: dict = field(default_factory=dict)
    label: str | None = None

    def line_of(self, key):
        return self.key_lines.get(key, self.line)

    def describe(self) -> str:
        """Short text for the report: wait-serial "Hello"."""
        a = self.args
        k = self.kind
        if self.label:
            return f"{k} {self.label}"
        if k == "wait-serial":
            s = f'"{_short(a["text"])}"' if "text" in a else f"/{_short(a['regex'].pattern)}/"
            return s if "port" not in a else f"{s} on {a['port']}"
        if k == "write-serial":
            return f'"{_short(a["text"])}"'
        if k == "exec":
            return f'"{_short(a["code"])}"'
        if k in ("set-pin", "expect-pin"):
            lvl = a["level"]
            return f"{a['pin']} {'release' if lvl is None else lvl}"
        if k in ("press", "release"):
            return a["part"]
        if k == "set-control":
            vals = " ".join(f"{key}={v}" for key, v in a.items() if key != "part")
            return f"{a['part']} {vals}"
        if k == "wait-pin":
            return f"{a['pin']} {a['edge']}" if "edge" in a else f"{a['pin']} level {a['level']}"
        if k == "expect-blink":
            return f"{a['pin']} {a['hz']:g} Hz"
        if k == "delay":
            return format_ns(a["time"])
        if k in ("expect-display", "wait-display"):
            return ":".join(a["image"])
        if k == "expect-reset":
            return a.get("cause", "any")
        if k == "expect-exit":
            return str(a.get("status", "any"))
        if k == "capture":
            return f"start {a['start']}" if "start" in a else f"stop {a['stop']}"
        if k == "expect-file":
            return a["path"]
        return a.get("name", "")


def _short(s: str, n: int = 40) -> str:
    r = s.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return r if len(r) <= n else r[: n - 3] + "..."


def parse_step(y: Y, index: int, path) -> Step:
    if y.kind != "map":
        raise ScenarioError(path, y.line, f"step {index}: expected a mapping like '- wait-serial: \"text\"', "
                                          f"got {_describe(y)}")
    label = None
    entries = dict(y.value)
    if "name" in entries and len(entries) > 1:
        ny = entries.pop("name")
        try:
            label = t_nonempty_str(ny)
        except Bad as e:
            raise ScenarioError(path, ny.line, f"step {index}: name: {e}") from None
    kinds = [k for k in entries if k in STEPS]
    unknown = [k for k in entries if k not in STEPS]
    if unknown:
        k = unknown[0]
        raise ScenarioError(path, entries[k].key_line, f"step {index}: unknown step {k!r} "
                                                       f"(known steps: {', '.join(STEP_NAMES)})")
    if len(kinds) != 1:
        raise ScenarioError(path, y.line, f"step {index}: one step per list item, got {', '.join(kinds)}")
    kind = kinds[0]
    spec = STEPS[kind]
    body = entries[kind]
    key_lines = {}
    if body.kind == "map":
        raw = body.value
    elif spec.short is not None and (body.kind == "scalar"):
        raw = {spec.short: body}
    elif spec.short is None and not spec.required and body.kind == "scalar" and body.value is None:
        raw = {}
    else:
        form = f"'{kind}: VALUE' or '{kind}: {{...}}'" if spec.short else f"'{kind}: {{...}}'"
        raise ScenarioError(path, body.line, f"step {index} ({kind}): expected {form}, got {_describe(body)}")
    args: dict = {}
    for key, vy in raw.items():
        validator = spec.keys.get(key) or spec.keys.get("*")
        if validator is None:
            known = ", ".join(k for k in spec.keys if k != "*")
            raise ScenarioError(path, getattr(vy, "key_line", vy.line),
                                f"step {index} ({kind}): unknown key {key!r} (known: {known})")
        try:
            args[key] = validator(vy)
        except Bad as e:
            raise ScenarioError(path, vy.line, f"step {index} ({kind}): {key}: {e}") from None
        key_lines[key] = vy.line
    for key in spec.required:
        if key not in args:
            raise ScenarioError(path, body.line, f"step {index} ({kind}): {key} is missing")
    if spec.one_of and sum(k in args for k in spec.one_of) != 1:
        raise ScenarioError(path, body.line, f"step {index} ({kind}): give exactly one of "
                                             f"{' or '.join(spec.one_of)}")
    if spec.check:
        try:
            spec.check(args)
        except Bad as e:
            raise ScenarioError(path, body.line, f"step {index} ({kind}): {e}") from None
    return Step(index, kind, args, y.line, key_lines, label)


# -- the file -----------------------------------------------------------------------------------
@dataclass
class MpySource:
    """An ``fs`` entry ``{file: x.py, mpy: true}``: compiled with the mpy-cross that matches the
    board's firmware when the board is built (emulator/fsimage/mpy.py)."""
    path: Path
    line: int


TOP_KEYS = ("name", "description", "board", "firmware", "timeout", "parts", "flash", "fs", "steps")


@dataclass
class Scenario:
    path: Path
    name: str
    board: str                      # name, or a resolved .toml path
    firmware: Path | None           # resolved; None = the board's default
    timeout_ns: int
    steps: list[Step]
    parts: dict = field(default_factory=dict)      # part -> {control: value}
    flash: Path | None = None
    fs: dict | None = None                          # board path -> bytes or MpySource
    description: str = ""
    lines: dict = field(default_factory=dict)      # top-level key -> line

    def line_of(self, key):
        return self.lines.get(key)


def looks_like_scenario(path) -> bool:
    """A YAML file with a top-level ``steps:`` key (cheap text check, no parsing)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20)
    except OSError:
        return False
    return re.search(rb"(?m)^steps[ \t]*:", head) is not None


def _resolve(base: Path, p: str) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else (base / q)


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file; raises :class:`ScenarioError`."""
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(shown, None, "no such scenario file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(shown, None, f"cannot read: {e}") from None
    root = parse_yaml(text, shown)
    if root is None:
        raise ScenarioError(shown, None, "empty scenario file (needs board: and steps:)")
    if root.kind != "map":
        raise ScenarioError(shown, root.line, f"expected a mapping with board: and steps:, got {_describe(root)}")
    top = root.value
    lines = {k: v.key_line for k, v in top.items()}
    for key, vy in top.items():
        if key not in TOP_KEYS:
            raise ScenarioError(shown, vy.key_line, f"unknown key {key!r} (known keys: {', '.join(TOP_KEYS)})")

    def get(key, validator, default=None):
        vy = top.get(key)
        if vy is None:
            return default
        try:
            return validator(vy)
        except Bad as e:
            raise ScenarioError(shown, vy.line, f"{key}: {e}") from None

    base = path.resolve().parent
    name = get("name", t_nonempty_str, path.stem)
    description = get("description", t_str, "")
    if "board" not in top:
        raise ScenarioError(shown, root.line, "board: is missing (a board name, see 'boardemu boards')")
    board = get("board", t_nonempty_str)
    if board.endswith(".toml") or "/" in board:
        board = str(_resolve(base, board))
    timeout_ns = get("timeout", t_time, DEFAULT_TIMEOUT_NS)
    if timeout_ns <= 0:
        raise ScenarioError(shown, top["timeout"].line, "timeout: must be more than 0")

    firmware = None
    if "firmware" in top:
        fw = get("firmware", t_nonempty_str)
        firmware = _resolve(base, fw)
        if not firmware.is_file():
            raise ScenarioError(shown, top["firmware"].line, f"firmware: no such file: {firmware}")
    flash = None
    if "flash" in top:
        fl = get("flash", t_nonempty_str)
        flash = _resolve(base, fl)
        if not flash.is_file():
            raise ScenarioError(shown, top["flash"].line, f"flash: no such file: {flash}")

    parts = {}
    if "parts" in top:
        py = top["parts"]
        if py.kind != "map":
            raise ScenarioError(shown, py.line, f"parts: expected a mapping part -> {{control: value}}, "
                                                f"got {_describe(py)}")
        for pname, cy in py.value.items():
            if cy.kind != "map":
                raise ScenarioError(shown, cy.line, f"parts.{pname}: expected a mapping of control values, "
                                                    f"got {_describe(cy)}")
            vals = {}
            for cname, vy in cy.value.items():
                try:
                    vals[cname] = t_scalar(vy)
                except Bad as e:
                    raise ScenarioError(shown, vy.line, f"parts.{pname}.{cname}: {e}") from None
            parts[pname] = (vals, cy.line)

    fs = None
    if "fs" in top:
        fy = top["fs"]
        if fy.kind != "map":
            raise ScenarioError(shown, fy.line, f"fs: expected a mapping board-path -> content, got {_describe(fy)}")
        fs = {}
        for fname, vy in fy.value.items():
            if vy.kind == "map" and "file" in vy.value and set(vy.value) <= {"file", "mpy"}:
                src = _resolve(base, t_nonempty_str(vy.value["file"]))
                if not src.is_file():
                    raise ScenarioError(shown, vy.line, f"fs.{fname}: no such file: {src}")
                compile_mpy = False
                if "mpy" in vy.value:
                    my = vy.value["mpy"]
                    if my.kind != "scalar" or not isinstance(my.value, bool):
                        raise ScenarioError(shown, my.line, f"fs.{fname}: mpy: expected true or false, "
                                                            f"got {_describe(my)}")
                    compile_mpy = my.value
                if compile_mpy and not fname.endswith(".mpy"):
                    raise ScenarioError(shown, vy.line, f"fs.{fname}: mpy: true makes an .mpy file: "
                                                        f"name it {fname.rsplit('.', 1)[0]}.mpy")
                fs[fname] = MpySource(src, vy.line) if compile_mpy else src.read_bytes()
            elif vy.kind == "map":
                raise ScenarioError(shown, vy.line, f"fs.{fname}: expected text, {{file: PATH}} or "
                                                    f"{{file: PATH.py, mpy: true}}")
            else:
                try:
                    fs[fname] = t_str(vy).encode()
                except Bad as e:
                    raise ScenarioError(shown, vy.line, f"fs.{fname}: {e} (or {{file: PATH}})") from None

    if "steps" not in top:
        raise ScenarioError(shown, root.line, "steps: is missing")
    sy = top["steps"]
    if sy.kind != "seq":
        raise ScenarioError(shown, sy.line, f"steps: expected a list of steps, got {_describe(sy)}")
    steps = [parse_step(item, i + 1, shown) for i, item in enumerate(sy.value)]
    if not steps:
        raise ScenarioError(shown, sy.line, "steps: the list is empty")
    return Scenario(path=path, name=name, board=board, firmware=firmware, timeout_ns=timeout_ns, steps=steps,
                    parts=parts, flash=flash, fs=fs, description=description, lines=lines)
