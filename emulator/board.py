"""Board definitions: load a board by name (``boards/<name>.toml``) or by path, validate it."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from boardemu.boards import schema
from boardemu.boards.schema import BoardError

BOARDS_DIR = Path(schema.__file__).resolve().parent
CPUS = ("cortex-m0", "cortex-m0+", "cortex-m3", "cortex-m4")


@dataclass
class Board:
    name: str
    path: str
    data: dict

    @property
    def description(self):
        return self.data.get("description", "")

    @property
    def chip(self):
        return self.data["chip"]

    def get(self, dotted, default=None):
        cur = self.data
        for part in dotted.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur


def board_names() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def find_board(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or os.sep in name_or_path:
        if not p.is_file():
            raise BoardError(name_or_path, "no such board file")
        return p
    cand = BOARDS_DIR / f"{name_or_path}.toml"
    if not cand.is_file():
        raise BoardError(name_or_path, f"unknown board (known boards: {', '.join(board_names())})")
    return cand


def load_board(name_or_path) -> Board:
    if isinstance(name_or_path, Board):
        return name_or_path
    path = find_board(str(name_or_path))
    shown = str(path) if not path.is_relative_to(BOARDS_DIR) else f"boards/{path.name}"
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            msg = f"line {m.group(1)}: " + msg[:m.start()].strip()
        raise BoardError(shown, f"not valid TOML: {msg}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BoardError(shown, f"cannot read: {e}") from None
    data = schema.validate(raw, shown)
    _check_semantics(data, shown)
    return Board(data["name"], shown, data)


def _check_semantics(d, path):
    cpu = d["chip"]["cpu"]
    if cpu not in CPUS:
        raise BoardError(path, f"chip.cpu: unknown CPU {cpu!r} (known: {', '.join(CPUS)})")
    if not 1 <= d["chip"]["irqs"] <= 480:
        raise BoardError(path, "chip.irqs: must be between 1 and 480")
    if not 2 <= d["chip"]["priority_bits"] <= 8:
        raise BoardError(path, "chip.priority_bits: must be between 2 and 8")
    if d["chip"]["clock_hz"] <= 0:
        raise BoardError(path, "chip.clock_hz: must be positive")
    for i, m in enumerate(d["memory"]):
        if m["kind"] not in ("ram", "rom", "flash"):
            raise BoardError(path, f"memory[{i}].kind: expected ram, rom or flash, got {m['kind']!r}")
        if m["base"] % 4096 or m["size"] % 4096 or m["size"] <= 0:
            raise BoardError(path, f"memory[{i}]: base and size must be 4 KiB aligned")
    irqs = d["chip"]["irqs"]
    for name, p in d.get("peripherals", {}).items():
        for n in p.get("irqs", []):
            if not isinstance(n, int) or not 0 <= n < irqs:
                raise BoardError(path, f"peripherals.{name}.irqs: IRQ {n!r} out of range 0..{irqs - 1}")
    policy = d.get("bus", {}).get("unmapped", "fault")
    if policy not in ("fault", "warn"):
        raise BoardError(path, f"bus.unmapped: expected fault or warn, got {policy!r}")
    lockup = d.get("faults", {}).get("lockup", "halt")
    if lockup not in ("halt", "reset"):
        raise BoardError(path, f"faults.lockup: expected halt or reset, got {lockup!r}")
    con = d.get("console", {}).get("device")
    if con and con != "semihosting" and con not in d.get("peripherals", {}):
        raise BoardError(path, f"console.device: no peripheral named {con!r}")
    pins = d.get("pins", {})
    for i, part in enumerate(d.get("parts", [])):
        for role, pin in part.get("pins", {}).items():
            if pin not in pins and pin not in pins.values():
                raise BoardError(path, f"parts[{i}].pins.{role}: unknown pin {pin!r}")
