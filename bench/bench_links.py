#!/usr/bin/env python3
"""Host links bench: throughput and latency over each link (socket://, rfc2217://, pty).

Prints, and records in docs/performance.md (between the links-bench markers):
  * pyserial round-trip throughput through the echo board (mps2-an385 + UART echo program):
    what a client gets from an emulated CMSDK UART;
  * pyserial round-trip throughput through an echo device in the machine thread (no UART): what
    the link itself carries;
  * round-trip latency of a 1-byte exchange through the echo board (median of 200);
  * mpremote over each link against the raw-REPL stand-in of tests/test_links.py: wall time of
    `mpremote connect URL exec "print(1)"` and output throughput of a 200 kB print;
  * mpremote `exec` wall time with MicroPython on the micro:bit board, when that board is there.
Clients run in separate processes, as they would in use.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from _report import update_section

KINDS = ("socket", "rfc2217", "pty")


# -- client side (a separate process) ------------------------------------------------------------
def client_main(url: str, mode: str, nbytes: int, count: int) -> None:
    import serial
    ser = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
    try:
        tag = b"sync%s\n" % os.urandom(4).hex().encode()
        ser.write(tag)
        buf = b""
        deadline = time.monotonic() + 20
        while tag.upper() not in buf and time.monotonic() < deadline:
            buf += ser.read(4096)
        if tag.upper() not in buf:
            raise SystemExit(f"no echo from {url}")
        if mode == "throughput":
            payload = os.urandom(nbytes)
            t0 = time.perf_counter()
            w = threading.Thread(target=ser.write, args=(payload,), daemon=True)
            w.start()
            got = bytearray()
            while len(got) < nbytes and time.perf_counter() - t0 < 300:
                got += ser.read(65536)
            dt = time.perf_counter() - t0
            w.join(10)
            ok = bytes(got) == payload.upper()
            print(json.dumps({"seconds": dt, "bytes": nbytes, "ok": ok}))
        else:
            ser.timeout = 2
            times = []
            for _ in range(count):
                t0 = time.perf_counter()
                ser.write(b"a")
                if ser.read(1) != b"A":
                    raise SystemExit("bad echo")
                times.append(time.perf_counter() - t0)
            print(json.dumps({"median": statistics.median(times), "p90": sorted(times)[int(0.9 * len(times))]}))
    finally:
        ser.close()


def run_client(url, mode, nbytes=0, count=0):
    r = subprocess.run([sys.executable, __file__, "--client", url, mode, str(nbytes), str(count)],
                       check=False, capture_output=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"client {url} {mode} failed: {r.stderr.decode()[-2000:]}")
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


# -- server side ---------------------------------------------------------------------------------
def _quiet(msg):
    pass


@contextmanager
def served(kind, firmware, device="board", board="mps2-an385"):
    from boardemu import links as L
    from boardemu.emulator.machine import Machine
    m = Machine(board, firmware)
    ch = m.console
    extra = None
    if device == "channel":                 # an echo in the machine thread: the link alone
        ch = m.channel("bench-echo")
        ch.device_notify = lambda: ch.put(ch.rx_take(1 << 20).upper())
    elif device == "repl":
        from test_links import RawReplStandIn
        extra = RawReplStandIn(m.channel("repl"))
        ch = extra.ch
    link = (L.PtyLink(ch, log=_quiet) if kind == "pty"
            else L.TcpLink(ch, "127.0.0.1", 0, rfc2217=(kind == "rfc2217"), log=_quiet)).start()
    t = threading.Thread(target=m.run, daemon=True)
    t.start()
    try:
        yield link
    finally:
        m.pause()
        link.close()
        t.join(10)


def mpremote_time(target, *args):
    t0 = time.perf_counter()
    r = subprocess.run(["mpremote", "connect", target, *args], check=False, capture_output=True,
                       timeout=120)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"mpremote {target} {args} failed: {(r.stdout + r.stderr).decode()[-2000:]}")
    return dt, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", nargs=4, metavar=("URL", "MODE", "BYTES", "COUNT"), help=argparse.SUPPRESS)
    ap.add_argument("--board-bytes", type=int, default=64 * 1024, help="round trip size through the echo board")
    ap.add_argument("--link-bytes", type=int, default=2 * 1024 * 1024, help="round trip size, link alone")
    ap.add_argument("--no-record", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    if args.client:
        url, mode, n, c = args.client
        return client_main(url, mode, int(n), int(c))

    from test_links import build_echo_firmware
    fw = build_echo_firmware(Path(tempfile.mkdtemp(prefix="bench-links-")))
    rows = []
    for kind in KINDS:
        with served(kind, fw) as link:
            tp = run_client(link.target, "throughput", args.board_bytes)
            lat = run_client(link.target, "latency", count=200)
        with served(kind, fw, device="channel") as link:
            cap = run_client(link.target, "throughput", args.link_bytes)
        with served(kind, fw, device="repl") as link:
            small = statistics.median(mpremote_time(link.target, "exec", "print(1)")[0] for _ in range(5))
            big, _ = mpremote_time(link.target, "exec", "print('x' * 200000)")
            mp_tp = 200_000 / max(big - small, 1e-6)
        for r in (tp, cap):
            if not r["ok"]:
                raise SystemExit(f"{kind}: round trip was not byte-identical")
        row = {
            "kind": kind,
            "board_kBps": tp["bytes"] / tp["seconds"] / 1e3,
            "link_kBps": cap["bytes"] / cap["seconds"] / 1e3,
            "lat_ms": lat["median"] * 1e3, "lat90_ms": lat["p90"] * 1e3,
            "mp_exec_s": small, "mp_kBps": mp_tp / 1e3,
        }
        rows.append(row)
        print(f"{kind:8} echo board {row['board_kBps']:7.1f} kB/s | link alone {row['link_kBps']:8.1f} kB/s | "
              f"1-byte round trip {row['lat_ms']:.2f} ms (p90 {row['lat90_ms']:.2f}) | "
              f"mpremote exec {row['mp_exec_s']:.2f} s, output {row['mp_kBps']:.1f} kB/s", flush=True)

    mp_line = ""
    try:
        from boardemu.emulator.board import board_names, load_board
        fwmb = load_board("microbit").get("firmware.default") if "microbit" in board_names() else None
    except Exception:  # noqa: BLE001 -- no usable micro:bit board: skip that figure
        fwmb = None
    if fwmb and os.path.exists(fwmb):
        times = []
        for kind in KINDS:
            with served(kind, fwmb, board="microbit") as link:
                mpremote_time(link.target, "exec", "print(1)")           # boot
                times.append((kind, statistics.median(
                    mpremote_time(link.target, "exec", "print(1+1)")[0] for _ in range(3))))
        mp_line = "\n\nmpremote `exec \"print(1+1)\"` with MicroPython on the micro:bit board: " + ", ".join(
            f"{k} {t:.2f} s" for k, t in times) + "."
        print(mp_line.strip())

    text = (
        f"`python bench/bench_links.py` — {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Clients (pyserial 3.5, mpremote) in separate processes.\n\n"
        "| link | round trip via echo board (UART) | round trip, link alone | 1-byte round trip (median / p90) "
        "| `mpremote exec \"print(1)\"` | mpremote output |\n"
        "|---|---|---|---|---|---|\n"
        + "".join(f"| {r['kind']} | {r['board_kBps']:.1f} kB/s | {r['link_kBps']:.0f} kB/s | "
                  f"{r['lat_ms']:.2f} / {r['lat90_ms']:.2f} ms | {r['mp_exec_s']:.2f} s | {r['mp_kBps']:.1f} kB/s |\n"
                  for r in rows)
        + f"\nEcho board: mps2-an385 running the UART echo program of tests/test_links.py, "
          f"{args.board_bytes // 1024} KiB each way; the emulated CMSDK UART (one byte per RX interrupt) "
          f"is the limit. Link alone: an echo device in the machine thread on a spare channel, "
          f"{args.link_bytes // 1024} KiB each way (RFC 2217: pyserial's client decodes telnet byte by "
          f"byte in Python, which is the limit). The 1-byte round trip includes the links' 1 ms "
          f"write pacing (USB-frame-like batching). mpremote: against the raw-REPL stand-in "
          f"(tests/test_links.py); exec time is mostly mpremote's start-up and soft reset; output "
          f"throughput is bounded by mpremote reading one byte per call." + mp_line
    )
    if not args.no_record:
        update_section(ROOT / "docs" / "performance.md", "links-bench", text)
        print("recorded in docs/performance.md")


if __name__ == "__main__":
    main()
