"""Host links (boardemu/links.py, boardemu serve): real clients (pyserial over socket://,
rfc2217:// and a pty; raw sockets; mpremote when the micro:bit board is there) against a real
board: mps2-an385 running a UART echo program compiled here (a-z come back upper-cased, so an
echo is told apart from a loopback).

The emulated CMSDK UART takes ~100 us of host time per byte (one byte per RX interrupt, several
MMIO accesses), i.e. ~7-11 kB/s: the bulk round trips use 256 KiB (BOARDEMU_LINK_BYTES=1048576
runs the full 1 MiB; allow ~2.5 minutes per link).
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import serial

from boardemu import links as L
from boardemu.emulator.machine import Machine

ROOT = Path(__file__).resolve().parent.parent
BIG = int(os.environ.get("BOARDEMU_LINK_BYTES", str(256 * 1024)))
BIG_TIMEOUT = 55 if BIG <= 256 * 1024 else BIG // 5000 + 10     # seconds, per link

ECHO_C = r"""
/* UART0 echo for mps2-an385: a banner, then every byte back, a-z upper-cased. Sleeps in WFI;
   the RX interrupt is enabled in the NVIC but masked by PRIMASK, so it only wakes the core. */
#include <stdint.h>
#define REG(a) (*(volatile uint32_t *)(a))
#define DATA   REG(0x40004000u)
#define STATE  REG(0x40004004u)   /* bit0 TX full, bit1 RX full */
#define CTRL   REG(0x40004008u)   /* bit0 TX enable, bit1 RX enable, bit3 RX interrupt */
#define INTCLR REG(0x4000400Cu)
#define NVIC_ISER REG(0xE000E100u)
#define NVIC_ICPR REG(0xE000E280u)
static void put(uint32_t c) { while (STATE & 1u) { } DATA = c; }
void reset(void) {
    const char *s = "echo ready\r\n";
    __asm volatile ("cpsid i");
    CTRL = 1u | 2u | 8u;
    NVIC_ISER = 1u;                      /* IRQ0: UART0 RX */
    while (*s) put((uint8_t)*s++);
    for (;;) {
        while (!(STATE & 2u)) { __asm volatile ("wfi"); }
        uint32_t c = DATA & 0xFFu;
        INTCLR = 2u;
        NVIC_ICPR = 1u;
        if (c >= 'a' && c <= 'z') c -= 32u;
        put(c);
    }
}
__attribute__((section(".vectors"), used))
const uint32_t vectors[2] = { 0x20010000u, (uint32_t)reset };
"""
ECHO_LD = "SECTIONS { . = 0x0; .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } }\n"


def build_echo_firmware(dest: Path) -> Path:
    """Compile the echo program into ``dest``; returns the ELF (also used by bench/bench_links.py)."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.fail("arm-none-eabi-gcc is missing: run 'make setup'")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "echo.c").write_text(ECHO_C)
    (dest / "echo.ld").write_text(ECHO_LD)
    elf = dest / "echo.elf"
    subprocess.run([gcc, "-mcpu=cortex-m3", "-mthumb", "-O2", "-nostdlib", "-ffreestanding",
                    "-T", str(dest / "echo.ld"), "-o", str(elf), str(dest / "echo.c")],
                   check=True, capture_output=True, timeout=60)
    return elf


@pytest.fixture(scope="session")
def echo_elf(tmp_path_factory):
    return build_echo_firmware(tmp_path_factory.mktemp("echo"))


class Served:
    """A board running in its own thread with links on its console (closed in ``close``)."""

    def __init__(self, board, firmware):
        self.m = Machine(board, firmware)
        self.links: list[L.Link] = []
        self.log: list[str] = []
        self.line_states: list[tuple[bool, bool]] = []
        self.m.events.subscribe("line-state", lambda e: self.line_states.append((e.dtr, e.rts)))
        self.thread = None
        self.reason = None

    def add(self, link):
        self.links.append(link.start())
        return link

    def socket(self, channel=None, **kw):
        return self.add(L.TcpLink(channel or self.m.console, "127.0.0.1", 0, log=self.log.append, **kw))

    def rfc2217(self, channel=None):
        return self.socket(channel, rfc2217=True)

    def pty(self, channel=None, **kw):
        return self.add(L.PtyLink(channel or self.m.console, log=self.log.append, **kw))

    def link(self, kind, channel=None):
        return {"socket": self.socket, "rfc2217": self.rfc2217, "pty": self.pty}[kind](channel)

    def start(self):
        def run():
            self.reason = self.m.run()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def close(self):
        self.m.pause()
        for link in self.links:
            link.close()
        if self.thread:
            self.thread.join(10)
            assert not self.thread.is_alive(), "the machine thread did not stop"

    def alive(self):
        return self.thread.is_alive() and not self.m.halted


@pytest.fixture
def served(echo_elf):
    made = []

    def make(board="mps2-an385", firmware=None):
        s = Served(board, firmware or echo_elf)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


# -- helpers ---------------------------------------------------------------------------------
def read_until(ser, marker: bytes, timeout=10.0) -> bytes:
    """Read from a pyserial port until ``marker`` (bounded)."""
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while marker not in buf:
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker!r} not received in {timeout} s; got {bytes(buf[-200:])!r}")
        buf += ser.read(max(1, min(4096, ser.in_waiting)))
    return bytes(buf)


def sock_read_until(sock, marker: bytes, timeout=10.0) -> bytes:
    buf = bytearray()
    sock.settimeout(0.5)
    deadline = time.monotonic() + timeout
    while marker not in buf:
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker!r} not received in {timeout} s; got {bytes(buf[-200:])!r}")
        try:
            d = sock.recv(65536)
        except TimeoutError:
            continue
        if not d:
            raise AssertionError(f"connection closed before {marker!r}; got {bytes(buf[-200:])!r}")
        buf += d
    return bytes(buf)


def sync(ser, tag=b"sync"):
    """Wait for the echo of a fresh tag: everything before it (replay, earlier echoes) is skipped."""
    tag = tag + os.urandom(4).hex().encode() + b"\n"
    ser.write(tag)
    read_until(ser, tag.upper())


def open_client(url, **kw):
    kw.setdefault("timeout", 0.5)
    kw.setdefault("baudrate", 115200)
    return serial.serial_for_url(url, **kw)


def wait_for(cond, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


# -- unit ---------------------------------------------------------------------------------------
def test_parse_address():
    assert L.parse_address("4000") == ("127.0.0.1", 4000)
    assert L.parse_address(":4000") == ("127.0.0.1", 4000)
    assert L.parse_address("0.0.0.0:5") == ("0.0.0.0", 5)
    assert L.parse_address("[::1]:7") == ("::1", 7)
    for bad in ("x", "70000", "::1:4", "[::1]", "host:"):
        with pytest.raises(ValueError):
            L.parse_address(bad)


# -- each link with pyserial --------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_socket_pyserial_echo_and_replay(served):
    s = served()
    link = s.socket()
    s.start()
    assert link.target.startswith("socket://127.0.0.1:")
    assert link.hint == f"mpremote connect {link.target}"
    wait_for(lambda: link.ring_bytes >= 12, what="the banner in the ring")
    # a raw client first: it gets what the board said while nobody was connected
    with socket.create_connection(link.address, timeout=5) as c:
        assert sock_read_until(c, b"echo ready\r\n").startswith(b"echo ready\r\n")
        c.sendall(b"abc\n")
        assert sock_read_until(c, b"ABC\n").endswith(b"ABC\n")
    ser = open_client(link.target)
    try:
        sync(ser)
        ser.write(b"hello, world\n")
        assert read_until(ser, b"\n") == b"HELLO, WORLD\n"
    finally:
        ser.close()
    assert s.alive()
    assert any("connected" in line for line in s.log)


@pytest.mark.timeout(60)
def test_rfc2217_pyserial_settings_and_line_state(served):
    s = served()
    link = s.rfc2217()
    s.start()
    assert link.target.startswith("rfc2217://127.0.0.1:")
    ser = open_client(link.target)
    try:
        sync(ser)
        wait_for(lambda: (True, True) in s.line_states, what="DTR/RTS raised on open")
        for baud in (9600, 115200, 1000000):
            ser.baudrate = baud                       # SET_BAUDRATE, acknowledged by the server
            assert link.serial_face.baudrate == baud
            ser.write(b"baud %d\n" % baud)
            assert read_until(ser, b"\n").endswith(b"BAUD %d\n" % baud)
        del s.line_states[:]
        ser.dtr = False
        wait_for(lambda: s.line_states and s.line_states[-1] == (False, True), what="DTR drop")
        ser.rts = False
        wait_for(lambda: s.line_states[-1] == (False, False), what="RTS drop")
        ser.dtr = True
        ser.rts = True
        wait_for(lambda: s.line_states[-1] == (True, True), what="DTR/RTS raise")
        assert s.m.console.dtr and s.m.console.rts
        assert ser.cts and ser.dsr and ser.cd and not ser.ri      # modem lines from the server
        ser.reset_input_buffer()                                  # purge: acknowledged
        ser.write(b"\xff\xfe\xffx\n")                             # IAC escaping both ways
        assert read_until(ser, b"X\n").endswith(b"\xff\xfe\xffX\n")
    finally:
        ser.close()
    wait_for(lambda: s.line_states[-1] == (False, False), what="lines dropped on close")
    assert s.alive()


@pytest.mark.timeout(60)
def test_pty_pyserial_bauds_and_open_close(served, tmp_path):
    s = served()
    symlink = tmp_path / "board"
    link = s.pty(symlink=symlink)
    s.start()
    assert os.path.realpath(symlink) == link.path and link.path.startswith("/dev/pts/")
    assert link.target == str(symlink)
    for i, baud in enumerate((9600, 115200, 1000000)):
        ser = serial.Serial(str(symlink), baudrate=baud, timeout=0.5, exclusive=True)
        try:
            wait_for(lambda: link.connected, what="open seen")
            assert link.baudrate == baud
            sync(ser)
            ser.write(b"pty %d\n" % baud)
            assert read_until(ser, b"\n").endswith(b"PTY %d\n" % baud)
            # a pty has no modem lines: the ioctl fails (documented), the port stays usable
            with pytest.raises(OSError) as e:
                ser.dtr = False
            assert e.value.errno in (errno.ENOTTY, errno.EINVAL)
            ser.write(b"still\n")
            assert read_until(ser, b"STILL\n")
        finally:
            ser.close()
        wait_for(lambda: not link.connected, what="close seen")
    # opening/closing the slave is what the board sees as DTR/RTS
    # (delivered through the machine thread: allow it to catch up under load)
    wait_for(lambda: s.line_states.count((True, True)) == 3 and s.line_states.count((False, False)) == 3,
             what="three DTR/RTS raises and drops")
    # a writer that comes and goes between two polls is not lost
    before = link.bytes_in
    with open(link.path, "wb", buffering=0) as f:
        f.write(b"quick\n")
    wait_for(lambda: link.bytes_in == before + len(b"quick\n"), what="the quick writer's bytes")
    s.close()
    assert not os.path.lexists(symlink), "the symlink is removed on close"


@pytest.mark.timeout(60)
def test_pty_link_refuses_to_replace_a_file(served, tmp_path):
    s = served()
    f = tmp_path / "taken"
    f.write_text("x")
    with pytest.raises(L.LinkError, match="not a symlink"):
        s.pty(symlink=f)
    assert f.read_text() == "x"
    assert s.m.host_links == 0


# -- bulk: byte-identical round trips -------------------------------------------------------------
BULK_CLIENT = r"""
import hashlib, json, os, sys, threading, time
import serial
url, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ser = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
tag = b"sync%s\n" % os.urandom(4).hex().encode()
ser.write(tag)
buf, t0 = b"", time.monotonic()
while tag.upper() not in buf and time.monotonic() - t0 < 20:
    buf += ser.read(4096)
payload = os.urandom(n)            # every byte value: NUL, CR/LF, XON/XOFF, 0xff (telnet IAC)
t0 = time.monotonic()
w = threading.Thread(target=ser.write, args=(payload,), daemon=True)
w.start()
got = bytearray()
while len(got) < n and time.monotonic() - t0 < limit:
    got += ser.read(65536)
dt = time.monotonic() - t0
w.join(5)
ser.close()
first_bad = next((i for i, (a, b) in enumerate(zip(got, payload.upper())) if a != b), None)
print(json.dumps({"synced": tag.upper() in buf, "sent": n, "got": len(got), "seconds": dt,
                  "identical": bytes(got) == payload.upper(), "first_bad": first_bad}))
"""


@pytest.mark.timeout(BIG_TIMEOUT + 5)
@pytest.mark.parametrize("kind", ["socket", "rfc2217", "pty"])
def test_bulk_roundtrip_byte_identical(served, kind):
    """BIG random bytes through the link and the board's UART and back, from a client in its own
    process (as mpremote would be: the board thread keeps the interpreter to itself)."""
    s = served()
    link = s.link(kind)
    s.start()
    r = subprocess.run([sys.executable, "-c", BULK_CLIENT, link.target, str(BIG), str(BIG_TIMEOUT - 8)],
                       check=False, capture_output=True, timeout=BIG_TIMEOUT)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    res = json.loads(r.stdout.decode().strip().splitlines()[-1])
    print(f"{kind}: {BIG} bytes round trip in {res['seconds']:.1f} s ({res['got'] / res['seconds'] / 1e3:.1f} kB/s)")
    assert res["synced"]
    assert res["got"] == BIG, f"{res['got']} of {BIG} bytes came back in {res['seconds']:.1f} s"
    assert res["identical"], f"first difference at byte {res['first_bad']}"
    assert s.alive()


@pytest.mark.timeout(60)
def test_input_backpressure_bounds_the_channel_queue(served):
    """A client writing much faster than the board reads is held back by TCP, not queued."""
    s = served()
    link = s.socket()
    link._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)   # no multi-MB autotuning
    s.start()
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    c.settimeout(5)
    c.connect(link.address)
    try:
        sock_read_until(c, b"ready\r\n")
        c.settimeout(30)
        big = b"z" * (4 << 20)
        t = threading.Thread(target=lambda: _sendall_quiet(c, big), daemon=True)
        t.start()
        peak = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.0:
            peak = max(peak, s.m.console.rx_available())
            time.sleep(0.005)
        assert peak > 0
        assert peak <= L.IN_HIGH_WATER + L.READ_CHUNK, peak
        assert t.is_alive(), "the client's 4 MiB write should still be held back by flow control"
    finally:
        _shutdown(c)
    assert s.alive()


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)         # wakes a sendall blocked in another thread
    except OSError:
        pass
    sock.close()


def _sendall_quiet(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass


@pytest.mark.timeout(60)
def test_output_is_never_dropped_for_a_slow_client(served, monkeypatch):
    """A connected client that stops reading makes the board wait; once it reads, every byte
    arrives."""
    monkeypatch.setattr(L, "OUT_LIMIT", 2048)
    monkeypatch.setattr(L, "STALL_LOG_S", 0.5)
    s = served()
    link = s.socket()
    link._listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)   # small kernel buffers
    s.start()
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(5)
    c.connect(link.address)
    try:
        sock_read_until(c, b"ready\r\n")
        payload = os.urandom(40_000)
        threading.Thread(target=lambda: _sendall_quiet(c, payload), daemon=True).start()
        time.sleep(4)                                   # not reading
        produced = s.m.console.total_out
        assert produced < 12 + len(payload), "the board should be waiting for the client"
        assert any("not reading" in line for line in s.log)
        got = bytearray()
        c.settimeout(1)
        deadline = time.monotonic() + 40
        while len(got) < len(payload) and time.monotonic() < deadline:
            try:
                got += c.recv(65536)
            except TimeoutError:
                pass
        assert bytes(got) == payload.upper()
    finally:
        c.close()
    assert s.alive()


@pytest.mark.timeout(60)
def test_ring_keeps_last_output_while_nobody_is_connected(served, monkeypatch):
    monkeypatch.setattr(L, "RING_SIZE", 1000)
    s = served()
    link = s.socket()
    s.start()
    data = bytes(b"abcdefghij"[i % 10] for i in range(2500))
    s.m.console.send(data)                      # input from elsewhere; the echo has no client
    wait_for(lambda: s.m.console.total_out >= 12 + len(data), timeout=20, what="the echo")
    with socket.create_connection(link.address, timeout=5) as c:
        c.settimeout(1)
        got = bytearray()
        with pytest.raises(TimeoutError):
            while True:
                got += c.recv(65536)
    assert bytes(got) == data.upper()[-1000:]


# -- connections --------------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_100_connect_disconnect_cycles(served):
    s = served()
    link = s.socket()
    s.start()
    for i in range(100):
        with socket.create_connection(link.address, timeout=5) as c:
            if i % 10 == 0:
                c.sendall(b"c%d\n" % i)
                sock_read_until(c, b"C%d\n" % i)
            elif i % 3 == 0:
                c.sendall(b"x" * 100)           # leave without reading the echo
    ser = open_client(link.target)
    try:
        sync(ser)
        ser.write(b"after 100\n")
        assert read_until(ser, b"\n").endswith(b"AFTER 100\n")
    finally:
        ser.close()
    assert link.clients == 101
    assert s.alive() and s.m.host_links == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["socket", "rfc2217"])
def test_second_client_is_refused(served, kind):
    s = served()
    link = s.rfc2217() if kind == "rfc2217" else s.socket()
    s.start()
    first = open_client(link.target)
    try:
        sync(first)
        with socket.create_connection(link.address, timeout=5) as second:
            second.settimeout(5)
            msg = bytearray()
            while True:
                d = second.recv(1024)
                if not d:
                    break
                msg += d
        assert msg.startswith(b"boardemu: ") and b"busy" in msg and msg.endswith(b"\r\n")
        assert msg.count(b"\n") == 1
        wait_for(lambda: any("refused" in line for line in s.log), what="the refusal on the log")
        first.write(b"first ok\n")                  # the first client is undisturbed
        assert read_until(first, b"\n").endswith(b"FIRST OK\n")
    finally:
        first.close()
    assert link.refused == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["socket", "rfc2217", "pty"])
def test_disconnect_mid_transfer_then_new_client(served, kind):
    s = served()
    link = {"socket": s.socket, "rfc2217": s.rfc2217, "pty": s.pty}[kind]()
    s.start()
    ser = open_client(link.target)
    sync(ser)
    ser.write(os.urandom(30_000))
    time.sleep(0.5)
    ser.read(100)
    ser.close()                                     # gone, mid-transfer
    wait_for(lambda: not link.connected, what="the disconnect")
    time.sleep(0.3)
    ser = open_client(link.target)
    try:
        sync(ser, b"next")                          # the rest of the old echo may come first
        ser.write(b"new client\n")
        assert read_until(ser, b"\n").endswith(b"NEW CLIENT\n")
    finally:
        ser.close()
    assert s.alive()


@pytest.mark.timeout(60)
def test_several_links_on_one_board(served):
    s = served()
    a, b, p = s.socket(), s.rfc2217(), s.pty()
    s.start()
    assert s.m.host_links == 3
    sa, sb, sp = open_client(a.target), open_client(b.target), open_client(p.target)
    try:
        for src in (sa, sb, sp):
            tag = b"from-%s\n" % os.urandom(3).hex().encode()
            src.write(tag)
            for dst in (sa, sb, sp):                # everybody sees the board's answer
                assert read_until(dst, tag.upper()).endswith(tag.upper())
    finally:
        for x in (sa, sb, sp):
            x.close()
    for link in (a, b, p):
        link.close()
    assert s.m.host_links == 0


# -- the CLI --------------------------------------------------------------------------------------
def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "boardemu.cli", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)


def _read_lines(stream, n, timeout=20.0, pattern=rb"mpremote connect (\S+)"):
    """The first n matches of ``pattern`` on a pipe (bounded)."""
    found, seen = [], b""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    os.set_blocking(fd, False)
    while len(found) < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {n} connect lines, got {seen!r}")
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not chunk:
            raise AssertionError(f"process ended; output {seen!r}")
        seen += chunk
        found = re.findall(pattern, seen)
    return [f.decode() for f in found], seen


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_subprocess(echo_elf, tmp_path, sig):
    symlink = tmp_path / "dev-board"
    p = _cli("serve", "--board", "mps2-an385", echo_elf, "--socket", "0", "--rfc2217", "127.0.0.1:0",
             "--pty", "--pty-link", symlink)
    try:
        targets, _ = _read_lines(p.stdout, 3)
        assert targets[0] == str(symlink) and os.path.islink(symlink)
        assert targets[1].startswith("rfc2217://127.0.0.1:") and targets[2].startswith("socket://127.0.0.1:")
        for t in targets:
            ser = open_client(t)
            try:
                sync(ser)
                ser.write(b"via %s\n" % t.encode())
                assert read_until(ser, b"\n").endswith(b"VIA %s\n" % t.upper().encode())
            finally:
                ser.close()
        p.send_signal(sig)
        _, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert not os.path.lexists(symlink)


def test_serve_help_documents_the_policy():
    r = subprocess.run([sys.executable, "-m", "boardemu.cli", "serve", "--help"], check=False, capture_output=True,
                       timeout=30, cwd=ROOT)
    assert r.returncode == 0
    text = r.stdout.decode()
    for word in ("--pty-link", "--rfc2217", "--socket", "never dropped", "64 KiB", "127.0.0.1", "busy"):
        assert word in text, word


@pytest.mark.timeout(60)
def test_serve_bad_addresses(echo_elf):
    r = subprocess.run([sys.executable, "-m", "boardemu.cli", "serve", "--board", "mps2-an385",
                        str(echo_elf), "--socket", "99999"], check=False,
                       capture_output=True, timeout=30, cwd=ROOT)
    assert r.returncode == 2 and b"99999" in r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "boardemu.cli", "serve", "--board", "mps2-an385",
                            str(echo_elf), "--rfc2217", str(port)], check=False,
                           capture_output=True, timeout=30, cwd=ROOT)
    assert r.returncode == 2
    assert r.stderr.decode().strip() == f"boardemu: cannot listen on 127.0.0.1:{port}: Address already in use"


@pytest.mark.timeout(60)
def test_run_with_a_socket_link_keeps_the_console_on_stdout(echo_elf):
    p = _cli("run", "--board", "mps2-an385", echo_elf, "--socket", "0", "--no-input", stdin=subprocess.DEVNULL)
    try:
        (target,), _ = _read_lines(p.stderr, 1)
        ser = open_client(target)
        try:
            sync(ser)
            ser.write(b"both ways\n")
            assert read_until(ser, b"\n").endswith(b"BOTH WAYS\n")
        finally:
            ser.close()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert out.startswith(b"echo ready\r\n") and b"BOTH WAYS\n" in out
    assert p.returncode == 130 and b"Traceback" not in err


# -- mpremote over each link, against a raw-REPL stand-in ---------------------------------------
class RawReplStandIn:
    """A device on a board channel that speaks MicroPython's REPL protocol as mpremote uses it
    (friendly/raw REPL, raw-paste with window flow control, soft reset), running the code with
    CPython. It checks the transport -- links + mpremote -- without a MicroPython image. Runs in
    the machine thread (Channel.device_notify)."""

    BANNER = b"MicroPython v0.0-stand-in; boardemu raw-REPL stand-in\r\n>>> "
    WINDOW = 64

    def __init__(self, channel):
        self.ch = channel
        self.mode = "friendly"
        self.code = bytearray()
        self.paste_got = 0
        self.esc = b""
        self.soft_resets = 0
        self.line_states = []
        channel.device_notify = self.feed
        channel.line_state_notify = lambda dtr, rts: self.line_states.append((dtr, rts))

    def feed(self):
        data = self.ch.rx_take(1 << 20)
        for b in data:
            self.byte(b)

    def out(self, data: bytes):
        self.ch.put(data)

    def byte(self, b):
        if self.mode == "paste":
            if b == 4:
                self.out(b"\x04")
                self.run()
                self.mode = "raw"
                return
            self.code.append(b)
            self.paste_got += 1
            if self.paste_got % self.WINDOW == 0:
                self.out(b"\x01")                      # the host may send another window
            return
        if self.esc:                                  # \x05 A \x01: raw-paste request
            self.esc += bytes((b,))
            if len(self.esc) == 3:
                ok = self.esc == b"\x05A\x01"
                self.esc = b""
                if ok:
                    self.out(b"R\x01" + self.WINDOW.to_bytes(2, "little"))
                    self.mode, self.code, self.paste_got = "paste", bytearray(), 0
            return
        if self.mode == "raw":
            if b == 1:
                self.code.clear()
                self.out(b"raw REPL; CTRL-B to exit\r\n>")
            elif b == 2:
                self.mode = "friendly"
                self.out(b"\r\n" + self.BANNER)
            elif b == 3:
                self.code.clear()
            elif b == 4:
                if not self.code:
                    self.soft_resets += 1
                    self.out(b"MPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
                else:
                    self.out(b"OK")
                    self.run()
            elif b == 5 and not self.code:
                self.esc = b"\x05"
            else:
                self.code.append(b)
            return
        if b == 1:                                    # friendly REPL
            self.mode = "raw"
            self.code.clear()
            self.out(b"raw REPL; CTRL-B to exit\r\n>")
        elif b == 3:
            self.out(b"\r\nKeyboardInterrupt\r\n>>> ")
        elif b == 4:
            self.soft_resets += 1
            self.out(b"MPY: soft reboot\r\n" + self.BANNER)
        elif b == 13:
            self.out(b"\r\n>>> ")

    def run(self):
        import contextlib
        import io
        import traceback
        out, err = io.StringIO(), ""
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(bytes(self.code).decode(), "<stdin>", "exec"), {"__name__": "__main__"})  # noqa: S102
        except BaseException:  # noqa: BLE001 -- the traceback goes to the host, as on MicroPython
            err = traceback.format_exc(limit=0)
        self.code.clear()
        self.out(out.getvalue().replace("\n", "\r\n").encode() + b"\x04"
                 + err.replace("\n", "\r\n").encode() + b"\x04>")


def mpremote(target, *args, timeout=40):
    r = subprocess.run(["mpremote", "connect", target, *map(str, args)], check=False, capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
    return r.stdout.decode().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def mp_script(tmp_path_factory):
    p = tmp_path_factory.mktemp("mp") / "script.py"
    p.write_text("x = 6 * 7\nprint('script says', x)\n" + "# padding for raw-paste windows\n" * 20)
    return p


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["socket", "rfc2217", "pty"])
def test_mpremote_over_link_with_raw_repl_stand_in(served, kind, mp_script, tmp_path):
    if shutil.which("mpremote") is None:
        pytest.fail("mpremote is missing: pip install -e '.[dev]'")
    s = served()
    repl = RawReplStandIn(s.m.channel("repl"))
    if kind == "pty":       # through the --pty-link symlink (mpremote treats /dev/pts/N specially)
        link = s.pty(repl.ch, symlink=tmp_path / "mp-board")
    else:
        link = s.link(kind, repl.ch)
    s.start()
    assert mpremote(link.target, "exec", "print(1+1)").strip() == "2"
    assert mpremote(link.target, "eval", "1+2").strip() == "3"
    assert "script says 42" in mpremote(link.target, "run", mp_script)
    n = repl.soft_resets
    mpremote(link.target, "soft-reset")
    assert repl.soft_resets == n + 1
    # several commands on one connection, output larger than a raw-paste window
    out = mpremote(link.target, "exec", "print('a' * 5000)", "+", "eval", "'z'.upper()")
    assert out.split() == ["a" * 5000, "Z"]
    if kind == "rfc2217":           # mpremote drops RTS then DTR when it closes the port
        assert (False, False) in repl.line_states
    assert s.alive() and not link.connected


# -- mpremote against MicroPython (the micro:bit board, when it is there) -------------------------
def _microbit_ready():
    from boardemu.emulator.board import board_names, load_board
    if "microbit" not in board_names():
        return "boards/microbit.toml is not there yet"
    fw = load_board("microbit").get("firmware.default")
    if not fw or not os.path.exists(fw):
        return f"the micro:bit MicroPython image ({fw}) is absent"
    return None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["socket", "rfc2217", "pty"])
def test_mpremote_micropython(served, kind, mp_script):
    why = _microbit_ready()
    if why:
        pytest.skip(why)
    s = served("microbit", _default_fw("microbit"))
    link = s.link(kind)
    s.start()
    t = link.target
    assert mpremote(t, "exec", "print(1+1)").strip() == "2"
    assert mpremote(t, "eval", "1+2").strip() == "3"
    assert "script says 42" in mpremote(t, "run", mp_script)
    mpremote(t, "soft-reset")
    assert mpremote(t, "exec", "print('after reset')").strip() == "after reset"
    assert s.alive()


def _default_fw(board):
    from boardemu.emulator.board import load_board
    return load_board(board).get("firmware.default")
