#!/usr/bin/env python3
"""`make bench`: core figures on the project's own bench programs (mps2-an385).

Prints, and records in docs/performance.md (between the core-bench markers):
  * instructions per second on a CPU-bound program (target >= 150 M/s),
  * the cost of one CPU burst, of one MMIO access, of one interrupt round trip,
  * wall time of 10 s of mostly idle board time.
Other benches (bench/bench_*.py) record their own sections.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from boardemu.emulator.machine import Machine

from _report import update_section

FW = ROOT / "firmware" / "build" / "mps2"


def timed_run(name, **kw):
    m = Machine("mps2-an385", FW / f"{name}.elf", **kw)
    t0 = time.perf_counter()
    reason = m.run(for_s=600)
    wall = time.perf_counter() - t0
    if reason != "exit" or m.exit_status != 0:
        raise SystemExit(f"bench program {name} did not finish cleanly: {reason} {m.exit_status}\n"
                         f"{m.console.read().decode(errors='replace')}")
    return m, wall


def best_of(n, fn):
    return min((fn() for _ in range(n)), key=lambda r: r[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    ap.add_argument("--no-record", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    for name in ("bench_cpu", "bench_mmio", "bench_irq", "bench_idle"):
        if not (FW / f"{name}.elf").exists():
            raise SystemExit(f"{FW / name}.elf is missing: run 'make firmware'")

    rows = []
    m, wall = best_of(args.repeat, lambda: timed_run("bench_cpu"))
    ips = m.instructions / wall
    rows.append(("CPU-bound program (bench_cpu)", f"{m.instructions / 1e6:.0f} M instr in {wall:.3f} s",
                 f"**{ips / 1e6:.0f} M instr/s** (target ≥ 150)"))
    print(f"cpu: {m.instructions} instructions, {wall:.3f} s, {ips / 1e6:.1f} M instr/s")

    small_q = 2000
    m2, wall2 = best_of(args.repeat, lambda: timed_run("bench_cpu", quantum=small_q))
    bursts = m2.instructions / small_q
    big_bursts = m.instructions / 200_000
    per_burst = (wall2 - wall) / (bursts - big_bursts)
    rows.append(("one CPU burst (quantum 2000 vs 200000)", f"{bursts:,.0f} bursts",
                 f"**{per_burst * 1e6:.2f} µs** per burst"))
    print(f"burst: {per_burst * 1e6:.2f} us")

    m3, wall3 = best_of(args.repeat, lambda: timed_run("bench_mmio"))
    n_mmio = 1_000_000
    per_mmio = (wall3 - m3.instructions / ips) / n_mmio
    rows.append(("MMIO read (1 M reads of UART STATE)", f"{wall3:.3f} s", f"**{per_mmio * 1e6:.2f} µs** per access"))
    print(f"mmio: {per_mmio * 1e6:.3f} us/access")

    m4, wall4 = best_of(args.repeat, lambda: timed_run("bench_irq"))
    n_irq = 100_000
    per_irq = (wall4 - m4.instructions / ips) / n_irq
    rows.append(("interrupt round trip (100 k PendSV: pend, entry, handler, return)", f"{wall4:.3f} s",
                 f"**{per_irq * 1e6:.2f} µs** per interrupt"))
    print(f"irq: {per_irq * 1e6:.2f} us/round trip")

    m5, wall5 = best_of(args.repeat, lambda: timed_run("bench_idle"))
    rows.append(("idle: 10 000 timer IRQs at 1 kHz with WFI", f"{m5.time_s:.1f} s board time",
                 f"**{wall5:.3f} s** wall ({m5.time_s / wall5:.0f}× real time)"))
    print(f"idle: {m5.time_s:.2f} s board time in {wall5:.3f} s wall")

    table = ["| figure | measured | result |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    env = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, " \
          f"{time.strftime('%Y-%m-%d')}, best of {args.repeat}"
    text = "\n".join(table) + f"\n\nMeasured by `make bench` ({env}).\n"
    print()
    print(text)
    if not args.no_record:
        update_section(ROOT / "docs" / "performance.md", "core-bench", text)


if __name__ == "__main__":
    main()
