"""Shared fixtures: paths to the project's own firmware (built by `make firmware`), CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FW_BUILD = ROOT / "firmware" / "build"


def firmware(chip: str, name: str) -> Path:
    """Path of an own test program; fails (not skips) when it was not built: `make test`
    builds firmware first, and a missing program is a broken build."""
    p = FW_BUILD / chip / f"{name}.elf"
    if not p.exists():
        pytest.fail(f"{p} is missing: run 'make firmware'")
    return p


def run_cli(*args, timeout=120, input_bytes=None):
    """Run the real `boardemu` CLI (as installed) and return the CompletedProcess."""
    cmd = [sys.executable, "-m", "boardemu.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, input=input_bytes,
                          cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


# -- MicroPython's raw REPL (what mpremote speaks), shared by the board tests --------------------
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def raw_repl_enter(m) -> None:
    """From the friendly REPL's prompt into the raw REPL (Ctrl-A)."""
    m.console.read()
    m.console.send(b"\r\x01")
    m.run_until_output(RAW_BANNER, 5)
    m.console.read()


def raw_exec(m, code: str, timeout: float = 30.0) -> str:
    """Run ``code`` in the raw REPL; return its output. Fails on a Python exception or a timeout."""
    seen = bytearray()
    unsub = m.console.subscribe(seen.extend)
    try:
        m.console.send(code.encode() + b"\x04")
        m.run(for_s=timeout, until=lambda: seen.count(b"\x04") >= 2 and seen.endswith(b"\x04>"))
    finally:
        unsub()
    m.console.read()
    s = bytes(seen)
    assert s.startswith(b"OK"), f"raw REPL did not accept the code: {s[:200]!r}"
    parts = s[2:].split(b"\x04")
    assert len(parts) >= 3, f"no result within {timeout} s of board time: {s[-300:]!r}"
    out, err = parts[0].decode(errors="replace"), parts[1].decode(errors="replace")
    assert not err, f"MicroPython raised:\n{err}"
    return out.replace("\r\n", "\n")
