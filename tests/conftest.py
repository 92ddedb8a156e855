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
