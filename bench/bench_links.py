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
  * mpremote `exec` wall time with MicroPython on the micro:bit board, when that board is there;
  * with the official MicroPython image on the Raspberry Pi Pico (USB CDC console; when it is in
    the firmware cache): `mpremote fs cp` throughput both ways, the wall time of a whole
    `mpremote connect URL exec "pass"` and the round trip of one `exec("pass")` inside an
    mpremote session (recorded in its own section, links-pico-bench).
Clients run in separate processes, as they would in use. ``--quick`` runs everything with tiny
sizes and records nothing (a check that the bench works); ``--pico-only`` runs the Pico part.
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


def mp_session_client(url: str, count: int) -> None:
    """Round trip of one raw-REPL ``exec("pass")`` inside one mpremote session (its transport)."""
    from mpremote.transport_serial import SerialTransport
    t = SerialTransport(url, baudrate=115200)
    try:
        t.enter_raw_repl(soft_reset=False)
        t.exec("pass")
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            t.exec("pass")
            times.append(time.perf_counter() - t0)
        t.exit_raw_repl()
    finally:
        t.close()
    print(json.dumps({"median": statistics.median(times), "p90": sorted(times)[int(0.9 * len(times))]}))


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
    ap.add_argument("--pico-bytes", type=int, default=128 * 1024,
                    help="file size for mpremote fs cp on the Pico (each way)")
    ap.add_argument("--latency-count", type=int, default=200, help="1-byte round trips per link")
    ap.add_argument("--mp-reps", type=int, default=5, help="repetitions of whole mpremote commands")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes and few repetitions, nothing recorded (checks the bench runs)")
    ap.add_argument("--pico-only", action="store_true", help="only the Pico (mpremote + MicroPython) part")
    ap.add_argument("--no-record", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args()
    if args.client:
        url, mode, n, c = args.client
        if mode == "mp-session":
            return mp_session_client(url, int(c))
        return client_main(url, mode, int(n), int(c))
    if args.quick:
        args.board_bytes, args.link_bytes, args.pico_bytes = 4096, 65536, 2048
        args.latency_count, args.mp_reps, args.no_record = 20, 1, True
    if args.pico_only:
        return bench_pico(args)

    from test_links import build_echo_firmware
    fw = build_echo_firmware(Path(tempfile.mkdtemp(prefix="bench-links-")))
    rows = []
    for kind in KINDS:
        with served(kind, fw) as link:
            tp = run_client(link.target, "throughput", args.board_bytes)
            lat = run_client(link.target, "latency", count=args.latency_count)
        with served(kind, fw, device="channel") as link:
            cap = run_client(link.target, "throughput", args.link_bytes)
        with served(kind, fw, device="repl") as link:
            small = statistics.median(mpremote_time(link.target, "exec", "print(1)")[0]
                                      for _ in range(args.mp_reps))
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
                    mpremote_time(link.target, "exec", "print(1+1)")[0] for _ in range(min(3, args.mp_reps)))))
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
    bench_pico(args)


def bench_pico(args):
    """mpremote against the official MicroPython image on the Pico, over each link."""
    from boardemu.emulator.board import load_board
    from boardemu.firmware import cached_image
    image = cached_image(load_board("pico"))
    if image is None:
        print("pico: official RPI_PICO image not cached (boardemu firmware get pico): skipped")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-links-pico-"))
    src, back = work / "data.bin", work / "back.bin"
    payload = os.urandom(args.pico_bytes)
    src.write_bytes(payload)
    rows = []
    for kind in KINDS:
        with served(kind, image, board="pico") as link:
            t = link.target
            mpremote_time(t, "exec", "pass")                       # boot, USB enumeration
            cmd = statistics.median(mpremote_time(t, "exec", "pass")[0] for _ in range(args.mp_reps))
            sess = run_client(t, "mp-session", count=max(10, args.latency_count // 4))
            up, _ = mpremote_time(t, "fs", "cp", str(src), ":bench.bin")
            down, _ = mpremote_time(t, "fs", "cp", ":bench.bin", str(back))
            mpremote_time(t, "fs", "rm", ":bench.bin")
        if back.read_bytes() != payload:
            raise SystemExit(f"pico {kind}: fs cp round trip was not byte-identical")
        row = {"kind": kind, "cmd_s": cmd, "sess_ms": sess["median"] * 1e3, "sess90_ms": sess["p90"] * 1e3,
               "up_kBps": args.pico_bytes / up / 1e3, "down_kBps": args.pico_bytes / down / 1e3,
               "up_s": up, "down_s": down}
        rows.append(row)
        print(f"pico {kind:8} mpremote exec \"pass\" {cmd:.2f} s | exec(\"pass\") in a session "
              f"{row['sess_ms']:.1f} ms (p90 {row['sess90_ms']:.1f}) | fs cp {args.pico_bytes // 1024} KiB: "
              f"to board {row['up_kBps']:.2f} kB/s ({up:.1f} s), back {row['down_kBps']:.2f} kB/s ({down:.1f} s)",
              flush=True)
    try:
        load = f", load average {os.getloadavg()[0]:.1f} at the end"
    except OSError:
        load = ""
    text = (
        f"`python bench/bench_links.py --pico-only` — {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs{load}. Raspberry Pi Pico board, official "
        f"MicroPython {image.name}, console on USB CDC; mpremote and pyserial in separate processes.\n\n"
        "| link | `mpremote connect URL exec \"pass\"` | `exec(\"pass\")` in one session (median / p90) "
        f"| `fs cp` {args.pico_bytes // 1024} KiB to the board | `fs cp` back |\n"
        "|---|---|---|---|---|\n"
        + "".join(f"| {r['kind']} | {r['cmd_s']:.2f} s | {r['sess_ms']:.1f} / {r['sess90_ms']:.1f} ms | "
                  f"{r['up_kBps']:.2f} kB/s ({r['up_s']:.1f} s) | {r['down_kBps']:.2f} kB/s ({r['down_s']:.1f} s) |\n"
                  for r in rows)
        + "\nThe whole command's time is mostly mpremote's own: start-up, soft reset, and pyserial's "
          "close (socket:// sleeps 0.3 s, RFC 2217 negotiates). mpremote moves files 256 bytes per "
          "raw-REPL command (`w(b'...')` to the board, `print(repr(r(256)))` back) and polls the port "
          "with 10 ms sleeps, so `fs cp` is bounded by per-command round trips and by the board "
          "compiling each command, not by the links."
    )
    if not args.no_record:
        update_section(ROOT / "docs" / "performance.md", "links-pico-bench", text)
        print("recorded in docs/performance.md (links-pico-bench)")


if __name__ == "__main__":
    main()
