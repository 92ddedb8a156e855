"""Host links: a board's console as a pseudo-terminal, an RFC 2217 server or a raw TCP socket,
so that mpremote, pyserial, picocom, socat, ... talk to the emulated board as they would to a
board behind a USB serial adapter.

    links = [PtyLink(m.console, symlink="/tmp/board").start(),
             TcpLink(m.console, port=4000, rfc2217=True).start()]
    print(*(link.hint for link in links), sep="\\n")   # mpremote connect /dev/pts/7, ...
    m.run()                                           # in its own thread, or the main one
    for link in links: link.close()

URLs: mpremote opens whatever pyserial's ``serial_for_url`` opens (mpremote 1.29,
``transport_serial.py``), so ``mpremote connect rfc2217://HOST:PORT`` and
``mpremote connect socket://HOST:PORT`` work as well as a /dev/pts path.

Threads: every link runs one I/O thread. It talks to the board only through the Channel
(``send``, ``set_line_state``, ``subscribe``) and ``machine.host_links`` (raised while the link
is open, so an idle board with nothing scheduled waits for input instead of reporting a
deadlock). Board output reaches a link through its Channel listener, in the machine thread; the
link thread does all socket/pty writes.

Data policy
-----------
* Host -> board: bytes are queued in the Channel and handed to the device at the rate it takes
  them; nothing is dropped. While more than 64 KiB wait in the Channel, links stop reading from
  their clients, so the client's own flow control (TCP window, pty buffer) holds it back.
* Board -> host, client connected: every byte is delivered, in order. Each client has an output
  buffer; when 1 MiB is pending (a client that stops reading), the board waits (its time stops)
  until the client reads or disconnects -- as a USB CDC device does with a host that does not
  read. A client that disconnects loses what was still pending for it; the board goes on.
  Writes to a client are at least 1 ms apart (like USB full-speed frames): streaming output goes
  out in batches, so a 1-byte request/reply takes ~1 ms, and the link thread does not steal the
  interpreter from the board once per byte.
* Board -> host, no client connected: the last 64 KiB are kept per link and sent to the next
  client as soon as it connects (the boot banner, say). Older bytes are dropped. Output that a
  client of another link on the same channel received is replayed only if it is less than
  0.1 s old (a pty's opener may have been there that long before the link noticed): an
  mpremote session on one link does not show up at the start of the next one on another. pyserial clears
  its input on open (pty: tcflush; RFC 2217: purge; socket://: reads what is already there), so
  pyserial and mpremote clients usually do not see this replay; nc/socat/picocom do.
* One client per TCP link: a second one gets a one-line "busy" message and is disconnected
  (the refusal is logged on stderr). A pty cannot refuse a second opener; pyserial and mpremote
  lock the port (flock) so that a second one of them fails to open it.

Line state
----------
* RFC 2217: SET_CONTROL DTR/RTS on/off go to ``channel.set_line_state`` (the board sees them if
  its device cares); a client disconnecting drops both. Baud rate, data size, parity, stop bits
  and flow control settings are accepted and acknowledged (the emulated line has no rate); the
  modem lines reported to the client are CTS, DSR and CD asserted. Purge requests are
  acknowledged but nothing is discarded (nothing is ever dropped). BREAK is ignored.
* pty: a pseudo-terminal has no modem lines: TIOCMSET/TIOCMBIS fail with ENOTTY (pyserial and
  mpremote ignore that, as for QEMU's ptys), so a DTR drop/raise by the client is NOT visible to
  the board. What is visible is the slave being opened (reported as DTR+RTS raised) and the last
  opener closing it (DTR+RTS dropped), detected by polling the master for POLLHUP every 50 ms.
  The slave is in raw mode; termios changes (baud rate 9600 ... 4 Mbaud, raw/cooked) are
  accepted and ignored by the board; the slave is put back in raw mode when the last opener
  closes it. (TIOCPKT packet mode was not used: it reports flushes and flow-control stops, not
  opens/closes or modem lines.)
* socket: raw bytes, no line control: a client connecting is reported as DTR+RTS raised, its
  disconnecting as both dropped (the port being opened and closed).
* Several links on one channel: each link's state is kept apart and the board sees their OR, so
  a client leaving one link does not drop DTR under a client still connected on another (a USB
  CDC console such as the Pico's only sends output while DTR is set).

Idle time while a client is connected
-------------------------------------
An idle board skips virtual time to its next event (docs/architecture.md): a firmware that waits
for the host with a timeout -- mpremote's ``mount`` waits 1 s for each reply, ``select.poll(ms)``
on stdin -- would see its timeout expire in microseconds of host time, before any client could
answer. So while at least one client is connected to any link of a board, an ``IdlePacer``
holds the board's *idle* time to wall-clock time: every 2 ms of board time it checks whether the
core sleeps, and if so waits until as much wall time has passed as board time did since the last
check (cut short as soon as a link has input for the board). Time the core spends running is
never slowed, and with no client connected idle time is skipped as before.

Listeners bind 127.0.0.1 unless an address is named.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import sys
import termios
import threading
import time
import tty
from collections import deque

DEFAULT_HOST = "127.0.0.1"
OUT_LIMIT = 1 << 20          # bytes pending for one client before the board waits for it
RING_SIZE = 64 << 10         # board output kept while no client is connected
IN_HIGH_WATER = 64 << 10     # host->board bytes queued in the channel before links stop reading
READ_CHUNK = 16 << 10
SEND_CHUNK = 64 << 10
PTY_POLL_S = 0.05            # how often a closed pty is checked for a new opener
COALESCE_S = 0.001           # output writes to a client are at least this far apart
SHARED_GRACE_S = 2 * PTY_POLL_S  # output another link's client got: replayed only if this recent
STALL_LOG_S = 5.0            # log once when the board has waited this long for a slow client
IDLE_PACE_S = 0.002          # while a client is connected, idle board time is held to wall time
                             # in steps of this much board time (IdlePacer)

POLICY = """\
data policy: host->board bytes are queued and never dropped (links stop reading from a client
while more than 64 KiB wait for the board). Board->host bytes are never dropped while a client
is connected (if a client stops reading, the board waits once 1 MiB is pending). With no client
connected, each link keeps the last 64 KiB of output and sends it to the next client when it
connects (not what a client of another link received more than 0.1 s before). Output is
written to a client at most once per millisecond (batched, as USB frames).
One client per TCP link: a second one gets a 'busy' line and is disconnected.
DTR/RTS from RFC 2217 clients reach the board; a pty has no modem lines (opening/closing it is
reported as DTR/RTS raised/dropped); a socket:// connection is reported as DTR/RTS raised.
While a client is connected, board time does not run ahead of wall time while the board idles
(so timeouts in the firmware waiting for the client mean what they say).
Listeners bind 127.0.0.1 unless an address is given."""


class LinkError(Exception):
    """A user-facing problem opening a link (one line)."""


def _stderr_log(msg: str) -> None:
    try:
        sys.stderr.write(msg.rstrip("\n") + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def parse_address(text: str, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """'4000' -> (default_host, 4000); 'HOST:4000'; '[::1]:4000'; ':4000' -> default host."""
    s = str(text).strip()
    if s.startswith("["):
        host, sep, rest = s[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"bad address {text!r}: use [IPV6]:PORT")
        port = rest[1:]
    elif ":" in s:
        if s.count(":") > 1:
            raise ValueError(f"bad address {text!r}: write an IPv6 address as [ADDR]:PORT")
        host, port = s.split(":")
    else:
        host, port = "", s
    try:
        p = int(port, 10)
    except ValueError:
        raise ValueError(f"bad port in {text!r}") from None
    if not 0 <= p <= 65535:
        raise ValueError(f"bad port in {text!r}: {p} is not in 0..65535")
    return (host or default_host), p


class IdlePacer:
    """Holds a board's idle time to wall time while host clients are connected (module doc).
    One per machine (``IdlePacer.of(machine)``), shared by its links; ``acquire``/``release``
    count connected clients (any thread). The tick runs in the machine thread as a clock event,
    re-armed after a chip reset (which clears the scheduler) or a snapshot restore."""

    def __init__(self, machine):
        self.machine = machine
        self.users = 0
        self.ticks = 0               # ticks that found the core asleep (for tests)
        self.waited_s = 0.0          # wall time spent holding idle time back
        self._lock = threading.Lock()
        self._kick = threading.Event()
        self._timer = None
        self._anchor = (0, 0.0)
        self._period = max(1, int(IDLE_PACE_S * machine.clock.hz))
        self._gen = 0                # tick chain generation: a chain from before a reset/restore dies
        machine.events.subscribe("reset", self._on_reset)
        machine.events.subscribe("restore", self._on_reset)

    @classmethod
    def of(cls, machine) -> IdlePacer:
        pacer = getattr(machine, "_boardemu_idle_pacer", None)
        if pacer is None:
            pacer = cls(machine)
            machine._boardemu_idle_pacer = pacer
        return pacer

    def acquire(self) -> None:
        with self._lock:
            self.users += 1
            first = self.users == 1
        if first:
            self.machine.post(self._arm)

    def release(self) -> None:
        with self._lock:
            self.users = max(0, self.users - 1)
        self._kick.set()             # a tick waiting now stops waiting; the next one disarms

    def kick(self) -> None:
        """Input for the board is queued: stop holding idle time back now."""
        self._kick.set()

    # machine thread
    def _arm(self) -> None:
        if self.users and self._timer is None:
            clock = self.machine.clock
            self._anchor = (clock.now(), time.monotonic())
            self._timer = clock.after(self._period, self._tick, self._gen)

    def _on_reset(self, event) -> None:
        # a reset cleared the scheduler; a snapshot restore put back the scheduler of its time
        # (maybe with a copy of an old tick in it, which then finds its generation stale)
        self._gen += 1
        self._timer = None
        self._arm()

    def _tick(self, gen) -> None:
        if gen != self._gen:
            return
        self._timer = None
        if not self.users:
            return
        clock = self.machine.clock
        now = clock.now()
        if getattr(self.machine.cpu, "sleeping", None):
            b0, w0 = self._anchor
            due = w0 + (now - b0) / clock.hz
            t0 = time.monotonic()
            while not self._kick.is_set() and self.users:
                delay = due - time.monotonic()
                if delay <= 0:
                    break
                self._kick.wait(min(delay, IDLE_PACE_S))
            self.ticks += 1
            self.waited_s += time.monotonic() - t0
        kicked = self._kick.is_set()
        self._kick.clear()
        self._anchor = (now, time.monotonic())
        # after a kick, tick again one cycle later: the machine takes the input it was posted
        # only after this event returns, and a sleeping core would otherwise skip straight to
        # the next tick -- a whole period of wall time before the input reaches the device
        self._timer = clock.after(1 if kicked else self._period, self._tick, gen)


class Link:
    """One way in to a board channel from the host. Subclasses open the endpoint (``_open``),
    run the I/O loop (``_loop``) and release it (``_release``)."""

    kind = "link"

    def __init__(self, channel, *, log=None):
        self.channel = channel
        self.machine = channel.machine
        self.log = log or _stderr_log
        self._cv = threading.Condition()
        self._out = bytearray()        # pending for the connected client (already encoded)
        # output while no client is connected: [received by another link's client?, time, bytes]
        self._ring: deque[list] = deque()
        self.ring_bytes = 0
        self._connected = False
        self._closing = False
        self._poked = False
        self._last_flush = 0.0
        self._wake_r = self._wake_w = -1
        self._unsub = None
        self._siblings: list = []      # the started links on this channel (this one included)
        self._pacer = IdlePacer.of(self.machine)
        self._paced = False            # this link holds a pacer reference (a client is connected)
        self._thread: threading.Thread | None = None
        self._started = False
        self._closed = False
        self.clients = 0               # clients served so far
        self.bytes_in = 0              # host -> board
        self.bytes_out = 0             # board -> host (sent to clients)

    # -- public ---------------------------------------------------------------------------
    @property
    def target(self) -> str:
        """What to give a client: a device path or a pyserial URL."""
        raise NotImplementedError

    @property
    def hint(self) -> str:
        return f"mpremote connect {self.target}"

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> Link:
        if self._started:
            return self
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        try:
            self._open()
        except BaseException:
            self._release()
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            self._wake_r = self._wake_w = -1
            raise
        self._started = True
        self._siblings = self.channel.__dict__.setdefault("_boardemu_links", [])
        self._siblings.append(self)
        self._unsub = self.channel.subscribe(self._on_output)
        self.machine.host_links += 1
        self._thread = threading.Thread(target=self._thread_main, name=f"boardemu-{self.kind}-link",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: disconnect the client, close the endpoint. Idempotent."""
        if self._closed or not self._started:
            self._closed = True
            return
        self._closed = True
        if self._unsub:
            self._unsub()
        if self in self._siblings:
            self._siblings.remove(self)
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._poke(force=True)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1
        self.machine.host_links = max(0, self.machine.host_links - 1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- board output (machine thread) ------------------------------------------------------
    def _encode(self, data: bytes) -> bytes:
        return data

    def _on_output(self, data: bytes) -> None:
        with self._cv:
            if self._closing:
                return
            if not self._connected:
                self._keep(data)
                return
            self._out += self._encode(data)
            self._poke()
            if len(self._out) <= OUT_LIMIT:
                return
            # flow control: the board waits for a client that does not keep up
            t0 = time.monotonic()
            warned = False
            while self._connected and not self._closing and len(self._out) > OUT_LIMIT:
                self._cv.wait(0.25)
                if not warned and time.monotonic() - t0 > STALL_LOG_S:
                    warned = True
                    self.log(f"boardemu: {self.describe()}: the client is not reading; "
                             f"the board waits until it does (or disconnects)")

    def _keep(self, data: bytes) -> None:
        """Board output while no client is connected (under ``_cv``): the last RING_SIZE bytes.
        Output a client of another link on this channel received is marked as such: it is only
        replayed if it is recent (SHARED_GRACE_S, the time a pty open may go unnoticed), so a
        session on one link does not show up at the start of the next session on another."""
        now = time.monotonic()
        shared = any(link._connected for link in self._siblings)
        ring = self._ring
        if ring and ring[-1][0] == shared and (not shared or now - ring[-1][1] < 0.01):
            ring[-1][1] = now
            ring[-1][2] += data
        else:
            ring.append([shared, now, bytearray(data)])
        self.ring_bytes += len(data)
        while self.ring_bytes > RING_SIZE:
            head = ring[0][2]
            extra = self.ring_bytes - RING_SIZE
            if len(head) <= extra:
                ring.popleft()
                self.ring_bytes -= len(head)
            else:
                del head[:extra]
                self.ring_bytes -= extra

    def _poke(self, force: bool = False) -> None:
        """Wake the link thread (cheap when it is already awake)."""
        if self._poked and not force:
            return
        self._poked = True
        try:
            os.write(self._wake_w, b"!")
        except (BlockingIOError, OSError):
            pass

    # -- link thread helpers ----------------------------------------------------------------
    def _drain_wake(self) -> None:
        since = time.monotonic() - self._last_flush
        if self._connected and since < COALESCE_S and len(self._out) < SEND_CHUNK // 4:
            # at most one write per millisecond (as USB full-speed frames): streaming output goes
            # out in batches instead of one system call and thread switch (GIL) per byte, which
            # would slow the board itself; a reply after a quiet spell goes out at once
            time.sleep(COALESCE_S - since)
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass
        # cleared after the drain: a poke that found the flag set relied on this thread looking
        # at the output after this point (it always flushes after draining)
        self._poked = False

    def _attach(self) -> None:
        with self._cv:
            self._connected = True
            cutoff = time.monotonic() - SHARED_GRACE_S
            kept = b"".join(bytes(c[2]) for c in self._ring if not c[0] or c[1] >= cutoff)
            self._out = bytearray(self._encode(kept))
            self._ring.clear()
            self.ring_bytes = 0
        self.clients += 1
        if not self._paced:
            self._paced = True
            self._pacer.acquire()

    def _detach(self) -> None:
        with self._cv:
            self._connected = False
            self._out = bytearray()
            self._cv.notify_all()
        if self._paced:
            self._paced = False
            self._pacer.release()

    def _queue_raw(self, data: bytes) -> None:
        """Protocol bytes for the client (telnet replies), in order with board output."""
        with self._cv:
            if self._connected:
                self._out += data

    def _pending(self) -> bytes:
        with self._cv:
            return bytes(self._out[:SEND_CHUNK]) if self._out else b""

    def _sent(self, n: int) -> None:
        if n <= 0:
            return
        self.bytes_out += n
        self._last_flush = time.monotonic()
        with self._cv:
            del self._out[:n]
            if len(self._out) <= OUT_LIMIT:
                self._cv.notify_all()

    def _set_lines(self, dtr=None, rts=None) -> None:
        """This link's DTR/RTS (the board sees the OR over the links of its channel)."""
        self.channel.set_line_state(dtr=dtr, rts=rts, source=self)
        self._pacer.kick()

    def _throttled(self) -> bool:
        return self.channel.rx_available() > IN_HIGH_WATER

    def _to_board(self, data: bytes) -> None:
        if data:
            self.bytes_in += len(data)
            self.channel.send(data)
            self._pacer.kick()

    def _thread_main(self) -> None:
        try:
            while not self._closing:
                try:
                    self._loop()
                except Exception as e:  # noqa: BLE001 -- keep serving: the board must not lose its link
                    if self._closing:
                        break
                    self.log(f"boardemu: {self.describe()}: internal error: {type(e).__name__}: {e}; "
                             f"client disconnected")
                    self._drop_client()
                    time.sleep(0.1)
        finally:
            self._drop_client(quiet=True)
            self._release()

    # -- subclass API ---------------------------------------------------------------------------
    def describe(self) -> str:
        return f"{self.kind} {self.target}"

    def _open(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        """Serve until closing (return) or raise on an unexpected error."""
        raise NotImplementedError

    def _drop_client(self, quiet: bool = False) -> None:
        self._detach()

    def _release(self) -> None:
        pass


# -- TCP: raw socket and RFC 2217 -------------------------------------------------------------
class _SerialFace:
    """What pyserial's RFC 2217 ``PortManager`` sees as the serial port: settings are stored and
    acknowledged, DTR/RTS go to the channel, the modem lines read as a ready adapter."""

    def __init__(self, link: TcpLink):
        self._link = link
        self.baudrate = 115200
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = False
        self.break_condition = False
        self._dtr = False
        self._rts = False
        self.cts = True
        self.dsr = True
        self.cd = True
        self.ri = False

    @property
    def dtr(self):
        return self._dtr

    @dtr.setter
    def dtr(self, value):
        self._dtr = bool(value)
        self._link._set_lines(dtr=self._dtr)

    @property
    def rts(self):
        return self._rts

    @rts.setter
    def rts(self, value):
        self._rts = bool(value)
        self._link._set_lines(rts=self._rts)

    def reset_input_buffer(self):       # purge: acknowledged, nothing dropped (see module doc)
        pass

    def reset_output_buffer(self):
        pass


class _Connection:
    """``PortManager``'s connection: its telnet replies go out in order with board output."""

    def __init__(self, link: TcpLink):
        self._link = link

    def write(self, data):
        self._link._queue_raw(bytes(data))


class TcpLink(Link):
    """A TCP listener serving one client at a time: raw bytes (``socket://``) or telnet with
    RFC 2217 serial-port control (``rfc2217://``)."""

    def __init__(self, channel, host: str = DEFAULT_HOST, port: int = 0, *, rfc2217: bool = False,
                 log=None):
        super().__init__(channel, log=log)
        self.rfc2217 = rfc2217
        self.kind = "rfc2217" if rfc2217 else "socket"
        self.host = host or DEFAULT_HOST
        self.port = int(port)
        self.address: tuple[str, int] | None = None
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._peer = ""
        self._pm = None
        self.serial_face: _SerialFace | None = None
        self.refused = 0

    @property
    def target(self) -> str:
        host, port = self.address if self.address else (self.host, self.port)
        if ":" in host:
            host = f"[{host}]"
        return f"{self.kind}://{host}:{port}"

    def _open(self):
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror as e:
            raise LinkError(f"cannot listen on {self.host}:{self.port}: {e.strerror}") from None
        fam, typ, proto, _, sa = infos[0]
        s = socket.socket(fam, typ, proto)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(sa)
            s.listen(8)
            s.setblocking(False)
        except OSError as e:
            s.close()
            raise LinkError(f"cannot listen on {self.host}:{self.port}: {e.strerror or e}") from None
        self._listener = s
        self.address = s.getsockname()[:2]
        if self.rfc2217:
            import serial.rfc2217  # noqa: F401  (fail now, not at the first client)

    def _release(self):
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
            self._listener = None

    def describe(self) -> str:
        return self.target

    def _encode(self, data):
        return data.replace(b"\xff", b"\xff\xff") if self.rfc2217 else data

    # connection management (link thread)
    def _accept(self):
        try:
            sock, addr = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.log(f"boardemu: {self.describe()}: accept failed: {e}")
            return
        peer = _fmt_peer(addr)
        if self._client is not None and self._client_gone():
            self._drop_client()             # it hung up just before: not a second client
        if self._client is not None:
            self.refused += 1
            self.log(f"boardemu: {self.describe()}: refused {peer}: busy with {self._peer}")
            msg = f"boardemu: {self.target} is busy: another client ({self._peer}) is connected\r\n"
            threading.Thread(target=_refuse, args=(sock, msg), daemon=True).start()
            return
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self._client, self._peer = sock, peer
        self._attach()
        if self.rfc2217:
            from serial.rfc2217 import PortManager
            self.serial_face = _SerialFace(self)
            self._pm = PortManager(self.serial_face, _Connection(self))
        else:
            # socket:// has no line control: a connection is the port being opened, as a PC's
            # driver raises DTR/RTS on open (a USB CDC console only talks while DTR is set)
            self._set_lines(dtr=True, rts=True)
        self.log(f"boardemu: {self.describe()}: client {peer} connected")

    def _drop_client(self, quiet=False, reason="disconnected"):
        sock, self._client = self._client, None
        self._pm = None
        self._detach()
        if sock is None:
            return
        try:
            sock.close()
        except OSError:
            pass
        if not self.rfc2217 or self.serial_face is not None:
            self._set_lines(dtr=False, rts=False)   # the port closed: lines drop
        if not quiet:
            self.log(f"boardemu: {self.describe()}: client {self._peer} {reason}")

    def _client_gone(self) -> bool:
        """Read what the current client still sent; True if it has hung up meanwhile."""
        for _ in range(16):
            try:
                data = self._client.recv(READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                return True
            if not data:
                return True
            self._input(data)
        return False

    def _input(self, data: bytes) -> None:
        if self._pm is not None:
            data = self._telnet(data)
        self._to_board(data)

    def _telnet(self, data: bytes) -> bytes:
        """Strip telnet/RFC 2217 commands (handled by the PortManager) from client data. Plain
        runs are copied as they are; only IAC sequences go through the byte-wise state machine."""
        from serial.rfc2217 import IAC, M_NORMAL
        pm = self._pm
        out = []
        i, n = 0, len(data)
        while i < n:
            if pm.mode == M_NORMAL and pm.suboption is None:
                j = data.find(IAC, i)
                if j < 0:
                    out.append(data[i:])
                    break
                out.append(data[i:j])
                i = j
            out.extend(pm.filter(data[i:i + 1]))
            i += 1
        return b"".join(out)

    def _loop(self):
        while not self._closing:
            client = self._client
            rl = [self._wake_r, self._listener]
            wl = []
            throttled = False
            if client is not None:
                throttled = self._throttled()
                if not throttled:
                    rl.append(client)
                if self._out:
                    wl.append(client)
            r, _, _ = select.select(rl, wl, [], 0.02 if throttled else 0.5)
            if self._closing:
                return
            if self._wake_r in r:
                self._drain_wake()
            if self._listener in r:
                self._accept()
            if client is not None and client is self._client and client in r:
                try:
                    data = client.recv(READ_CHUNK)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError as e:
                    self._drop_client(reason=f"disconnected ({e.strerror or e})")
                    continue
                if data == b"":
                    self._drop_client()
                    continue
                if data:
                    _quickack(client)
                    self._input(data)
            if self._client is not None:
                self._flush_out()

    def _flush_out(self):
        client = self._client
        while True:
            chunk = self._pending()
            if not chunk:
                return
            try:
                n = client.send(chunk)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                gone = e.errno in (errno.EPIPE, errno.ECONNRESET)
                self._drop_client(reason="disconnected" if gone else f"disconnected ({e.strerror or e})")
                return
            self._sent(n)
            if n < len(chunk):
                return


_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _quickack(sock) -> None:
    """Acknowledge the client's data at once (Linux; the flag does not stick, so it is set
    after every read). pyserial's socket:// client leaves Nagle's algorithm on: its small
    writes wait for our ACK, which delayed ACK would hold back ~40 ms when the board has
    nothing to answer yet -- mpremote's raw-paste handshake hit that on every command."""
    if _TCP_QUICKACK is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
        except OSError:
            pass


def _fmt_peer(addr) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _refuse(sock: socket.socket, message: str) -> None:
    """Tell a second client why, then hang up gracefully (reading what it sent, so that the
    close does not turn into a reset that would lose the message)."""
    try:
        sock.settimeout(1.0)
        sock.sendall(message.encode())
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if not sock.recv(4096):
                break
    except OSError:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


# -- pseudo-terminal ------------------------------------------------------------------------
_BAUDS = {getattr(termios, n): int(n[1:]) for n in dir(termios) if n[:1] == "B" and n[1:].isdigit()}


class PtyLink(Link):
    """A pseudo-terminal whose slave (/dev/pts/N) behaves like a USB serial adapter's tty."""

    kind = "pty"

    def __init__(self, channel, *, symlink: str | os.PathLike | None = None, log=None):
        super().__init__(channel, log=log)
        self.symlink = os.path.abspath(symlink) if symlink else None
        self.path: str | None = None        # the slave device
        self._master = -1
        self._poll = None

    @property
    def target(self) -> str:
        return self.symlink or self.path or "(pty)"

    def describe(self) -> str:
        return f"pty {self.path}" + (f" ({self.symlink})" if self.symlink else "")

    @property
    def baudrate(self) -> int | None:
        """The rate the slave's opener set (informational: the board ignores it)."""
        try:
            return _BAUDS.get(termios.tcgetattr(self._master)[5])
        except (termios.error, OSError):
            return None

    def _open(self):
        try:
            master, slave = os.openpty()
        except OSError as e:
            raise LinkError(f"cannot open a pseudo-terminal: {e.strerror}") from None
        self._master = master                 # released by start() if anything below fails
        try:
            self.path = os.ttyname(slave)
            tty.setraw(slave)
            attrs = termios.tcgetattr(slave)
            attrs[4] = attrs[5] = termios.B115200
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
        finally:
            # Only clients hold the slave open: the master then reports POLLHUP while none does.
            os.close(slave)
        os.set_blocking(master, False)
        if self.symlink:
            try:
                if os.path.islink(self.symlink):
                    os.unlink(self.symlink)
                elif os.path.exists(self.symlink):
                    raise LinkError(f"--pty-link {self.symlink}: exists and is not a symlink")
                os.symlink(self.path, self.symlink)
            except OSError as e:
                raise LinkError(f"cannot create symlink {self.symlink}: {e.strerror}") from None
        self._poll = select.poll()
        self._poll.register(master, select.POLLIN)
        self._poll.register(self._wake_r, select.POLLIN)

    def _release(self):
        if self._master >= 0:
            try:
                os.close(self._master)
            except OSError:
                pass
            self._master = -1
        if self.symlink:
            try:
                if os.path.islink(self.symlink) and os.readlink(self.symlink) == self.path:
                    os.unlink(self.symlink)
            except OSError:
                pass

    def _read_master(self) -> bool:
        """Read what the client wrote; False when the slave side is closed (EIO)."""
        for _ in range(8):
            try:
                data = os.read(self._master, READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError as e:
                if e.errno == errno.EIO:
                    return False
                raise
            if not data:
                return False
            self._to_board(data)
            if len(data) < READ_CHUNK or self._throttled():
                return True
        return True

    def _master_events(self, timeout_ms) -> int:
        p = select.poll()
        p.register(self._master, select.POLLIN)
        for fd, ev in p.poll(timeout_ms):
            return ev
        return 0

    def _on_open(self):
        self._attach()
        self._set_lines(dtr=True, rts=True)
        self.log(f"boardemu: {self.describe()}: opened")

    def _on_close(self):
        try:                                        # the next opener finds a raw line again
            tty.setraw(self._master)                # (before 'connected' drops: a new opener's
        except (termios.error, OSError):            # settings must not be overwritten)
            pass
        self._detach()
        self._set_lines(dtr=False, rts=False)
        self.log(f"boardemu: {self.describe()}: closed")

    def _drop_client(self, quiet=False):
        if self._connected:
            self._detach()

    def _loop(self):
        master = self._master
        while not self._closing:
            if not self._connected:
                ev = self._master_events(0)
                if not ev & select.POLLHUP:
                    # an opener holds the slave: DTR goes up before its first bytes go to the
                    # board (the connected branch reads them), as a port's open() raises DTR
                    # before the program can write
                    self._on_open()
                    continue
                if ev & select.POLLIN:                  # a writer that came and went quickly
                    self._read_master()
                r, _, _ = select.select([self._wake_r], [], [], PTY_POLL_S)
                if r:
                    self._drain_wake()
                continue
            throttled = self._throttled()
            mask = (0 if throttled else select.POLLIN) | (select.POLLOUT if self._out else 0)
            self._poll.modify(master, mask)
            events = self._poll.poll(20 if throttled else 500)
            if self._closing:
                return
            hup = False
            for fd, ev in events:
                if fd == self._wake_r:
                    self._drain_wake()
                    continue
                if ev & select.POLLIN and not throttled and not self._read_master():
                    hup = True
                if ev & (select.POLLHUP | select.POLLERR):
                    hup = True
            if hup:
                while self._read_master() and self._master_events(0) & select.POLLIN:
                    pass
                self._on_close()
                continue
            self._flush_out()

    def _flush_out(self):
        while True:
            chunk = self._pending()
            if not chunk:
                return
            try:
                n = os.write(self._master, chunk)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno == errno.EIO:        # closed under us: the loop sees the POLLHUP
                    return
                raise
            self._sent(n)
            if n < len(chunk):
                return
