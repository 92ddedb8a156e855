#!/usr/bin/env python3
"""micro:bit bench: MicroPython (Debian's firmware-microbit-micropython) on boardemu vs QEMU.

The same image on both: boot to the first ``>>> `` prompt, then one CPU-bound workload through
the raw REPL (``for i in range(N): s += i*i % 7``, N = 200000 by default), timed from sending the
code to the end of its output. Wall-clock seconds for each, and boardemu / QEMU ratios.

QEMU runs as ``qemu-system-arm -M microbit -device loader,file=HEX -nographic -monitor none
-serial stdio``: the serial port alone on stdio (with plain ``-nographic`` the monitor shares
stdio and takes Ctrl-A, which the raw REPL needs). QEMU's micro:bit runs its timers on host
time and is not cycle-counted; boardemu counts every instruction (1 per cycle at 16 MHz), so
boardemu also reports the board time the workload took.

Prints the figures and records them in docs/performance.md between the microbit-bench markers
(``--no-record`` to skip).
"""
from __future__ import annotations

import argparse
import os
import platform
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _report import update_section

HEX = "/usr/share/firmware-microbit-micropython/firmware.hex"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def workload(n: int) -> bytes:
    return f"s = 0\nfor i in range({n}):\n    s += i * i % 7\nprint(s)\n".encode()


def expected(n: int) -> bytes:
    return str(sum(i * i % 7 for i in range(n))).encode()


# -- boardemu (in this process) -------------------------------------------------------------------
def run_boardemu(n: int):
    from boardemu.emulator.machine import Machine
    t0 = time.perf_counter()
    m = Machine("microbit", HEX)
    m.run_until_output(b">>> ", 10)
    boot = time.perf_counter() - t0
    m.console.read()
    m.console.send(b"\r\x01")
    m.run_until_output(RAW_BANNER, 10)
    m.console.read()
    seen = bytearray()
    unsub = m.console.subscribe(seen.extend)
    b0, i0 = m.time_s, m.instructions
    t0 = time.perf_counter()
    m.console.send(workload(n) + b"\x04")
    m.run(for_s=3600, until=lambda: seen.endswith(b"\x04>"))
    wall = time.perf_counter() - t0
    unsub()
    if expected(n) not in seen:
        raise SystemExit(f"boardemu: unexpected output {bytes(seen[-200:])!r}")
    return {"boot": boot, "work": wall, "board_s": m.time_s - b0, "instructions": m.instructions - i0}


# -- QEMU (a child process on a pipe) --------------------------------------------------------------
# QEMU with instruction-counted virtual time, as boardemu keeps it: 2^6 ns = 64 ns per
# instruction (a ~16 MHz core, as the nRF51), idle time skipped.
ICOUNT = ["-icount", "shift=6,sleep=off"]


class Qemu:
    def __init__(self, qemu, extra=()):
        self.cmd = [qemu, "-M", "microbit", "-device", f"loader,file={HEX}",
                    "-nographic", "-monitor", "none", "-serial", "stdio", *extra]
        self.buf = bytearray()

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, bufsize=0)
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()

    def wait_for(self, token: bytes, timeout: float):
        end = time.perf_counter() + timeout
        fd = self.p.stdout.fileno()
        while token not in self.buf:
            left = end - time.perf_counter()
            if left <= 0:
                raise SystemExit(f"qemu: {token!r} not seen in {timeout} s: {bytes(self.buf[-200:])!r}")
            r, _, _ = select.select([fd], [], [], min(left, 0.5))
            if r:
                data = os.read(fd, 65536)
                if not data:
                    raise SystemExit(f"qemu exited: {bytes(self.buf[-200:])!r}")
                self.buf += data

    def send(self, data: bytes):
        self.p.stdin.write(data)
        self.p.stdin.flush()


def run_qemu(qemu: str, n: int, extra=()):
    with Qemu(qemu, extra) as q:
        q.wait_for(b">>> ", 30)
        boot = time.perf_counter() - q.t0
        q.buf.clear()
        q.send(b"\r\x01")
        q.wait_for(RAW_BANNER, 30)
        q.buf.clear()
        t0 = time.perf_counter()
        q.send(workload(n) + b"\x04")
        q.wait_for(b"\x04>", 3600)
        wall = time.perf_counter() - t0
        if expected(n) not in q.buf:
            raise SystemExit(f"qemu: unexpected output {bytes(q.buf[-200:])!r}")
    return {"boot": boot, "work": wall}


def best(results, key):
    return min(r[key] for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200_000, help="loop count of the workload (default 200000)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each (best is kept)")
    ap.add_argument("--qemu", default="qemu-system-arm", help="QEMU binary")
    ap.add_argument("--no-record", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    if not os.path.exists(HEX):
        raise SystemExit(f"{HEX} is missing: apt-get install firmware-microbit-micropython")
    qemu = shutil.which(args.qemu)
    if qemu is None:
        raise SystemExit(f"{args.qemu} not found: apt-get install qemu-system-arm")

    be = [run_boardemu(args.n) for _ in range(args.repeat)]
    qe = [run_qemu(qemu, args.n) for _ in range(args.repeat)]
    qi = [run_qemu(qemu, args.n, ICOUNT) for _ in range(args.repeat)]
    qi_work = best(qi, "work")
    b_boot, b_work = best(be, "boot"), best(be, "work")
    q_boot, q_work = best(qe, "boot"), best(qe, "work")
    board_s, instr = be[0]["board_s"], be[0]["instructions"]
    ver = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout.split("\n")[0]

    print(f"workload: for i in range({args.n}): s += i*i % 7   (best of {args.repeat})")
    print(f"{'':10s} {'boot to >>>':>12s} {'workload':>10s}")
    print(f"{'boardemu':10s} {b_boot:11.3f}s {b_work:9.3f}s   ({instr / 1e6:.0f} M instructions, "
          f"{board_s:.1f} s board time, {instr / b_work / 1e6:.0f} M instr/s)")
    print(f"{'qemu':10s} {q_boot:11.3f}s {q_work:9.3f}s   ({ver})")
    print(f"{'ratio':10s} {b_boot / q_boot:11.2f}x {b_work / q_work:9.2f}x   (boardemu / QEMU; target <= 1.5)")
    print(f"{'qemu -icount':12s} {'':10s} {qi_work:9.3f}s   ({' '.join(ICOUNT)}: instruction-counted time, "
          f"as boardemu; boardemu / this = {b_work / qi_work:.2f}x)")

    if not args.no_record:
        text = (
            f"`python bench/bench_microbit_qemu.py` — MicroPython v1.9.2 for micro:bit (Debian "
            f"firmware-microbit-micropython), CPython {platform.python_version()}, {ver}.\n\n"
            f"| | boot to `>>> ` | workload: `for i in range({args.n}): s += i*i % 7` |\n"
            f"|---|---|---|\n"
            f"| boardemu | {b_boot:.3f} s | {b_work:.2f} s ({instr / 1e6:.0f} M instructions = "
            f"{board_s:.1f} s of board time; {instr / b_work / 1e6:.0f} M instr/s) |\n"
            f"| QEMU `-M microbit` | {q_boot:.3f} s | {q_work:.2f} s |\n"
            f"| ratio boardemu / QEMU | {b_boot / q_boot:.2f}x | **{b_work / q_work:.2f}x** (target ≤ 1.5) |\n"
            f"| QEMU `{' '.join(ICOUNT)}` (for reference) | | {qi_work:.2f} s; boardemu / this = "
            f"{b_work / qi_work:.2f}x |\n\n"
            f"Wall-clock seconds, best of {args.repeat}. QEMU's micro:bit is not cycle-counted (timers on "
            f"host time: its board sees the ~3 s it runs for, so few timer interrupts); boardemu counts every "
            f"instruction in virtual time. With `-icount` QEMU keeps time the same way (1 instruction = "
            f"64 ns, idle skipped), so its timers fire as often as boardemu's: the like-for-like figure.\n")
        update_section(ROOT / "docs" / "performance.md", "microbit-bench", text)


if __name__ == "__main__":
    main()
