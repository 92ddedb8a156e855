#!/usr/bin/env python3
"""Scenario throughput: scenarios per minute on scenarios/examples.

Three figures, printed and recorded in docs/performance.md (between the scenario-bench markers):
  * the runner in-process (``run_scenario`` in a loop: board build + steps, no start-up costs),
  * ``pytest`` on COPIES copies of the examples, serial,
  * the same with ``pytest -n 2`` (pytest-xdist, two workers).
The pytest figures include interpreter and plugin start-up (the way CI runs them).
Usage: python bench/bench_scenarios.py [--copies N] [--rounds N] [--no-record]
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from boardemu.scenarios.engine import run_scenario  # noqa: E402
from boardemu.scenarios.loader import load_scenario, looks_like_scenario  # noqa: E402

from _report import update_section  # noqa: E402

EXAMPLES = ROOT / "scenarios" / "examples"


def runnable_examples() -> list[Path]:
    """Examples whose firmware (and board) is there; the others are reported as left out."""
    out = []
    for p in sorted(EXAMPLES.glob("*.yaml")):
        if not looks_like_scenario(p):
            continue
        res = run_scenario(p)
        if res.status == "pass":
            out.append(p)
        else:
            print(f"left out {p.name}: {res.status}: {res.message}", file=sys.stderr)
    return out


def copy_examples(files, dest: Path, copies: int):
    """COPIES copies of each file in dest, firmware/board paths made absolute."""
    for p in files:
        sc = load_scenario(p)
        text = p.read_text()
        if sc.firmware is not None:
            text = re.sub(r"(?m)^firmware:.*$", f"firmware: {sc.firmware.resolve()}", text)
        if sc.board.endswith(".toml"):
            text = re.sub(r"(?m)^board:.*$", f"board: {Path(sc.board).resolve()}", text)
        for i in range(copies):
            (dest / f"{p.stem}_{i:03d}.yaml").write_text(text)
    for d in EXAMPLES.iterdir():          # data the examples name by relative path (fs sources)
        if d.is_dir() and not (dest / d.name).exists():
            shutil.copytree(d, dest / d.name)


def pytest_run(path: Path, workers: int | None) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider", "-W", "ignore"]
    if workers:
        cmd += ["-n", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=env, timeout=1800)
    wall = time.perf_counter() - t0
    out = r.stdout.decode()
    m = re.search(r"(\d+) passed", out)
    if r.returncode != 0 or not m:
        raise SystemExit(f"pytest failed ({r.returncode}):\n{out[-3000:]}\n{r.stderr.decode()[-2000:]}")
    return wall, int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=10, help="copies of each example for the pytest runs")
    ap.add_argument("--rounds", type=int, default=3, help="in-process rounds over the examples")
    ap.add_argument("--no-record", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()

    files = runnable_examples()
    if not files:
        raise SystemExit("no runnable example: run 'make firmware'")
    names = ", ".join(p.stem for p in files)
    print(f"examples: {names}")

    t0 = time.perf_counter()
    board_ns = 0
    for _ in range(args.rounds):
        for p in files:
            res = run_scenario(p)
            assert res.status == "pass", res.report
            board_ns += res.time_ns
    wall = time.perf_counter() - t0
    n = args.rounds * len(files)
    inproc = n / wall * 60
    print(f"in-process: {n} scenarios in {wall:.2f} s = {inproc:.0f} scenarios/min "
          f"({wall / n * 1000:.1f} ms each)")

    rows = [("runner in-process (`run_scenario` loop)", f"{n} in {wall:.2f} s", f"**{inproc:.0f}** /min")]
    per = []
    for p in files:                                   # one scenario of each kind, for scale
        t1 = time.perf_counter()
        res = run_scenario(p)
        per.append(f"{p.stem} {time.perf_counter() - t1:.2f} s wall / {res.time_ns / 1e9:.3f} s board")
    with tempfile.TemporaryDirectory(prefix="scenario-bench-") as tmp:
        copy_examples(files, Path(tmp), args.copies)
        for workers in (None, 2):
            wall, passed = pytest_run(Path(tmp), workers)
            rate = passed / wall * 60
            label = "`pytest` serial" if workers is None else f"`pytest -n {workers}`"
            print(f"{label}: {passed} scenarios in {wall:.2f} s = {rate:.0f} scenarios/min")
            rows.append((label, f"{passed} in {wall:.2f} s", f"**{rate:.0f}** /min"))

    table = ["| how | scenarios | throughput |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    env = (f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
           f"{time.strftime('%Y-%m-%d')}, load average {load:.1f} at the end")
    text = (f"`python bench/bench_scenarios.py` — {env}. Examples: {names} "
            f"({args.copies} copies of each for the pytest runs; wall time includes pytest start-up).\n\n"
            + "\n".join(table) + "\n\nOne run of each: " + "; ".join(per) + ".\n")
    print()
    print(text)
    if not args.no_record:
        update_section(ROOT / "docs" / "performance.md", "scenario-bench", text)


if __name__ == "__main__":
    main()
