#!/usr/bin/env python3
"""Pico bench: the official MicroPython v1.22 RPI_PICO image on boardemu.

1. Boot to REPL: wall time from building the machine to the first ``>>> `` on the USB console
   (the built-in host enumerates the CDC device, then a newline asks for a prompt).
2. The peers' CPU-bound loop (../shared/notes/peers.md): ``for i in range(N): s += i*i % 7`` with
   N = 200000, run through the raw REPL; wall time, board time and instructions.
   With ``--rp2040py`` (after ``pip install rp2040py``) the peer runs the same image and loop
   here, in a child process, and the ratio uses its wall time less its start-up. Without it the
   ratio falls back to the peers' notes' 205 s for rp2040py 0.3.6 (measured on another machine:
   the peer took 502-555 s on the 2-core reference machine of 2026-12-03).

Prints the figures and records them in docs/performance.md (``--no-record`` to skip). Needs the
image in the firmware cache (``boardemu firmware get pico``) and the boot ROM (``make firmware``).
"""
from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _report import update_section

RP2040PY_S = 205.0          # peers.md: rp2040py 0.3.6, N = 200000
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def workload(n: int) -> bytes:
    return f"s = 0\nfor i in range({n}):\n    s += i * i % 7\nprint(s)\n".encode()


def _rp2040py(image: Path, code: str, want: bytes) -> float:
    exe = shutil.which("rp2040py")
    if exe is None:
        raise SystemExit("bench_pico: --rp2040py needs the peer installed: pip install rp2040py")
    t0 = time.perf_counter()
    r = subprocess.run([exe, "micropython", "--image", str(image), "-c", code],
                       capture_output=True, timeout=7200)
    wall = time.perf_counter() - t0
    if want not in r.stdout:
        raise SystemExit(f"bench_pico: rp2040py did not print {want.decode()}: {r.stdout[-300:]!r} {r.stderr[-300:]!r}")
    return wall


def run_rp2040py(image: Path, n: int) -> tuple[float, float]:
    """rp2040py on the same image: (wall time of ``micropython -c LOOP``, wall time of the same
    command with a one-line program, i.e. its start-up and boot). The loop's own time is the
    difference, compared with boardemu's loop time measured from the raw REPL."""
    boot = min(_rp2040py(image, "print(12345)", b"12345") for _ in range(2))
    total = _rp2040py(image, workload(n).decode(), str(sum(i * i % 7 for i in range(n))).encode())
    return total, boot


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200000, help="loop count (default 200000, as the peers' figure)")
    ap.add_argument("--rp2040py", action="store_true",
                    help="also run the peer rp2040py on the same image and loop (minutes)")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    from boardemu.emulator.board import load_board
    from boardemu.emulator.machine import Machine
    from boardemu.firmware import cached_image
    image = cached_image(load_board("pico"))
    if image is None:
        print("bench_pico: the official RPI_PICO image is not cached (boardemu firmware get pico): skipped")
        return 0

    t0 = time.perf_counter()
    m = Machine("pico", image)
    host = m.peripheral("usbctrl").host
    m.run(for_s=2, until=lambda: host.configured)
    m.console.send(b"\r\n")
    m.run_until_output(b">>> ", 2)
    boot_wall, boot_board = time.perf_counter() - t0, m.time_s

    m.console.read()
    m.console.send(b"\r\x01")
    m.run_until_output(RAW_BANNER, 5)
    m.console.read()
    seen = bytearray()
    m.console.subscribe(seen.extend)
    b0, i0 = m.time_s, m.instructions
    t0 = time.perf_counter()
    m.console.send(workload(args.n) + b"\x04")
    m.run(for_s=3600, until=lambda: seen.count(b"\x04") >= 2)
    wall = time.perf_counter() - t0
    board, instr = m.time_s - b0, m.instructions - i0
    want = str(sum(i * i % 7 for i in range(args.n))).encode()
    ok = want in seen

    if args.rp2040py:
        print(f"running rp2040py on the same loop (N={args.n}; minutes: ~500-560 s for N=200000 on the "
              "2-core reference machine)...", flush=True)
        total, boot = run_rp2040py(image, args.n)
        peer_s, peer_src = total - boot, f"measured here: {total:.1f} s run - {boot:.1f} s start-up"
    elif args.n == 200000:                  # the loop is not linear in N (bignums)
        peer_s, peer_src = RP2040PY_S, "peers.md"
    else:
        peer_s, peer_src = None, ""
    ratio = peer_s / wall if peer_s else None
    lines = [
        f"boot to REPL: {boot_wall:.2f} s wall ({boot_board * 1000:.1f} ms board time)",
        f"loop N={args.n}: {wall:.2f} s wall, {board:.2f} s board time, {instr / 1e6:.0f} M instructions "
        f"({instr / wall / 1e6:.0f} M instr/s){'' if ok else ' WRONG RESULT'}",
        (f"vs rp2040py ({peer_s:.1f} s, {peer_src}): {ratio:.1f}x faster (target 50x)" if ratio
         else "vs rp2040py: only compared at N=200000 (or with --rp2040py)"),
    ]
    print("\n".join(lines))
    if not args.no_record:
        table = ["| figure | value |", "|---|---|",
                 f"| boot to REPL, wall | {boot_wall:.2f} s (target < 1 s) |",
                 f"| boot to REPL, board time | {boot_board * 1000:.1f} ms |",
                 f"| loop N={args.n}, wall | {wall:.2f} s |",
                 f"| loop, board time / instructions | {board:.2f} s / {instr / 1e6:.0f} M |",
                 f"| speed-up over rp2040py ({peer_s:.1f} s, {peer_src}) | {ratio:.1f}x (target 50x) |"
                 if ratio else "| speed-up over rp2040py | n/a (N != 200000) |",
                 *([f"| (peers.md's rp2040py figure from another host: {RP2040PY_S:.0f} s) | "
                    f"{RP2040PY_S / wall:.1f}x |"] if args.rp2040py and args.n == 200000 else []),
                 "", f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
                 f"{platform.python_version()}; image {image.name}."]
        update_section(ROOT / "docs" / "performance.md", "pico-bench", "\n".join(table))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
