#!/usr/bin/env python3
"""Board filesystem bench: time to build a 1 MB LittleFS image with 200 files for the Pico.

Prints, and records in docs/performance.md (between the fs-bench markers):
  * build: 200 files (1 MB in all, in 10 directories, random contents) -> a bare image with the
    Pico's geometry (boardemu.emulator.fsimage.build), best of N;
  * open + full validation of that image (mount, read every file), and extracting it;
  * the same build through the CLI (`boardemu fs build`, a new process each time);
  * a micro:bit filesystem of 20 small files (its format is built in Python).
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from boardemu.emulator import fsimage

from _report import update_section

HEX = Path("/usr/share/firmware-microbit-micropython/firmware.hex")


def make_tree(root: Path, dirs: int = 10) -> tuple[int, int]:
    """200 files, 1 MB: 64 of 8000 bytes (two 4 KiB blocks each) and 136 of 3946 bytes (one block).
    200 files of 5.2 kB would not fit: LittleFS gives each file whole blocks (2 x 4 KiB)."""
    rng = random.Random(1)
    sizes = [8000] * 64 + [3946] * 136
    rng.shuffle(sizes)
    for i, size in enumerate(sizes):
        d = root / f"dir{i % dirs}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:03d}.bin").write_bytes(rng.randbytes(size))
    return len(sizes), sum(sizes)


def best(n, fn):
    times = []
    out = None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-record", action="store_true", help="print only; leave docs/performance.md alone")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "src"
        nfiles, total = make_tree(src)
        lay = fsimage.layout("pico")
        t_build, data = best(args.repeat, lambda: fsimage.build(lay, src))
        rows.append((f"build: {nfiles} files, {total / 1e6:.2f} MB -> Pico LittleFS image (1408 KiB)",
                     f"{t_build:.3f} s",
                     f"**{total / t_build / 1e6:.1f} MB/s**"))
        t_open, fs = best(args.repeat, lambda: fsimage.open_image(lay, data))
        rows.append(("open + validate (mount, read every file)", f"{t_open:.3f} s", f"{total / t_open / 1e6:.1f} MB/s"))
        out = tmp / "out"
        t_ext, _ = best(args.repeat, lambda: fsimage.extract(fs, out))
        rows.append((f"extract {nfiles} files", f"{t_ext:.3f} s", f"{total / t_ext / 1e6:.1f} MB/s"))
        img = tmp / "fs.img"
        cmd = [sys.executable, "-m", "boardemu.cli", "fs", "build", str(src), "-o", str(img), "--board", "pico"]
        t_cli, _ = best(args.repeat, lambda: subprocess.run(cmd, check=True, capture_output=True))
        rows.append(("`boardemu fs build` (new process, same tree)", f"{t_cli:.3f} s", "wall time"))
        if HEX.exists():
            from boardemu.emulator.loaders import load_image
            mlay = fsimage.layout("microbit", load_image(str(HEX)))
            msrc = tmp / "mb"
            msrc.mkdir()
            for i in range(20):
                (msrc / f"f{i}.txt").write_bytes(os.urandom(300))
            t_mb, _ = best(args.repeat, lambda: fsimage.build(mlay, msrc))
            rows.append(("micro:bit: 20 files of 300 B -> 16 KiB region", f"{t_mb * 1e3:.1f} ms", ""))

    text = [f"`python bench/bench_fs.py` — CPython {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"littlefs-python {_version('littlefs-python')}, best of {args.repeat}.", "",
            "| figure | time | rate |", "|---|---|---|"]
    text += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    report = "\n".join(text)
    print(report)
    if not args.no_record:
        update_section(ROOT / "docs" / "performance.md", "fs-bench", report)
        print("recorded in docs/performance.md")


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
