"""GDB remote serial protocol server for a Machine (``gdb-multiarch``: ``target remote :PORT``).

    srv = GdbServer(machine, port=3333).start()     # port 0: a free one, see srv.port
    srv.wait()                                      # until a debugger kills the session ('k')
    srv.close()

Threads. A listener thread accepts connections; one client at a time is served, and a second one
gets a one-line refusal and is closed. While a client is attached, its session thread is the
machine thread: it runs the Machine on ``c``/``s`` and touches memory and registers only between
runs, so nobody else may run the machine meanwhile. A reader thread turns socket bytes into
packets; a Ctrl-C (0x03) from gdb calls ``machine.pause()`` (thread-safe), which ends the current
burst at the next instruction. While the target is stopped the board does not run at all:
virtual time stands still. While attached, ``machine.host_links`` is raised, so a board that
sleeps with nothing scheduled waits for the debugger (Ctrl-C) instead of halting as deadlocked.

Stops. ``c`` runs until a breakpoint (``T05 swbreak``/``hwbreak``), a fault event (``T0b``
SIGSEGV: PC is at the first instruction of the fault handler, the faulting context is stacked,
like a vector catch), a lockup (``T0b``), a ``bkpt`` in the firmware (``T05``), Ctrl-C (``T02``)
or a semihosting exit (``W<status>``). ``s`` is ``machine.step(1)``: exactly one instruction
(a pending interrupt is taken first, so a step may land in a handler).

Breakpoints (Z0 and Z1 alike) are unicorn code hooks restricted to their one address
(``CortexM.add_breakpoint``), not ``bkpt`` instructions patched into memory: no memory is
modified (``m`` shows the firmware's bytes; ROM, flash and code the firmware rewrites need no
care), the hook costs nothing anywhere else, and nothing at all with no breakpoint set. It runs
before the instruction; ``emu_stop`` there leaves PC exactly on it, unexecuted, and the core
takes it out of the burst's instruction count, so virtual time at a breakpoint is exact (checked
against an instruction trace in the tests). Translated code is invalidated when a hook is added
or removed. Resuming from an address that holds a breakpoint executes that instruction once
instead of stopping at it again (gdb steps over its breakpoints itself anyway). Limit: unicorn
cannot stop inside an IT block (the stop lands after it), but gdb never places breakpoints there.

Registers follow the target description sent with qXfer:features:read: r0-r12, sp, lr, pc are
0-15, xpsr 16 (org.gnu.gdb.arm.m-profile); msp, psp, primask, basepri, faultmask, control 17-22
(org.gnu.gdb.arm.m-system; ARMv6-M has no basepri/faultmask).

Monitor commands (``monitor ...`` in gdb): ``reset`` (warm reset, cause 'debugger'), ``time``
(board time), ``help``. ``k`` ends the session and stops the server (the process stays alive);
``D`` ends the session and keeps listening; the board stays where it is in both cases.
"""
from __future__ import annotations

import queue
import socket
import threading

from unicorn import UcError
from unicorn import arm_const as A

from . import events as ev

SIGINT, SIGTRAP, SIGSEGV = 2, 5, 11
PACKET_SIZE = 0x4000
MAX_MEM_READ = 0x1000                    # bytes per 'm' reply (gdb splits larger reads)

_CORE = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",
         "sp", "lr", "pc"]
_CORE_IDS = [A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3, A.UC_ARM_REG_R4,
             A.UC_ARM_REG_R5, A.UC_ARM_REG_R6, A.UC_ARM_REG_R7, A.UC_ARM_REG_R8, A.UC_ARM_REG_R9,
             A.UC_ARM_REG_R10, A.UC_ARM_REG_R11, A.UC_ARM_REG_R12, A.UC_ARM_REG_SP,
             A.UC_ARM_REG_LR, A.UC_ARM_REG_PC]
_SYSTEM = [("msp", A.UC_ARM_REG_MSP), ("psp", A.UC_ARM_REG_PSP), ("primask", A.UC_ARM_REG_PRIMASK),
           ("basepri", A.UC_ARM_REG_BASEPRI), ("faultmask", A.UC_ARM_REG_FAULTMASK),
           ("control", A.UC_ARM_REG_CONTROL)]
REFUSAL = b"boardemu gdbstub: another debugger is already attached; connection refused\n"


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % checksum(payload)


def escape_binary(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in (0x23, 0x24, 0x7D, 0x2A):          # '#', '$', '}', '*'
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape_binary(data: bytes) -> bytes:
    out = bytearray()
    it = iter(data)
    for b in it:
        out.append(next(it, 0) ^ 0x20 if b == 0x7D else b)
    return bytes(out)


def target_xml(v6m: bool) -> bytes:
    regs = "".join(f'<reg name="{n}" bitsize="32"{_reg_type(n)}/>' for n in _CORE)
    system = "".join(f'<reg name="{n}" bitsize="32"{_reg_type(n)}/>' for n, _ in _system_regs(v6m))
    return ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">'
            '<target version="1.0"><architecture>arm</architecture>'
            f'<feature name="org.gnu.gdb.arm.m-profile">{regs}<reg name="xpsr" bitsize="32"/></feature>'
            f'<feature name="org.gnu.gdb.arm.m-system">{system}</feature>'
            '</target>').encode()


def _reg_type(name):
    return {"sp": ' type="data_ptr"', "msp": ' type="data_ptr"', "psp": ' type="data_ptr"',
            "pc": ' type="code_ptr"', "lr": ' type="code_ptr"'}.get(name, ' type="uint32"')


def _system_regs(v6m):
    return [(n, r) for n, r in _SYSTEM if not (v6m and n in ("basepri", "faultmask"))]


class GdbServer:
    def __init__(self, machine, host: str = "127.0.0.1", port: int = 0):
        self.machine = machine
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._session: _Session | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.stopped = threading.Event()     # set when the server no longer serves ('k' or close)
        self.log: list[str] = []             # one line per connection / refusal

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> GdbServer:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.requested_port))
        s.listen(2)
        self._listener = s
        self.port = s.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=f"gdbstub:{self.port}", daemon=True)
        self._thread.start()
        return self

    def __enter__(self):
        return self.start() if self._listener is None else self

    def __exit__(self, *exc):
        self.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops serving (a debugger sent 'k', or ``close()``)."""
        return self.stopped.wait(timeout)

    def close(self, timeout: float = 5.0):
        """Stop listening, end the session (interrupting a running board), join the threads."""
        self._closing.set()
        self._stop_listening()
        with self._lock:
            sess = self._session
        if sess is not None:
            sess.abort()
            sess.join(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.stopped.set()

    def _stop_listening(self):
        s, self._listener = self._listener, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    # -- connections ------------------------------------------------------------------------
    def _accept_loop(self):
        listener = self._listener
        while not self._closing.is_set():
            try:
                conn, peer = listener.accept()
            except OSError:
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                accept = self._session is None and not self._closing.is_set()
                if accept:
                    self.log.append(f"connected {peer[0]}:{peer[1]}")
                    self._session = _Session(self, conn, peer)
                    self._session.start()          # under the lock: close() joins started threads
            if not accept:
                self.log.append(f"refused {peer[0]}:{peer[1]}: another debugger is attached")
                threading.Thread(target=_refuse, args=(conn,), name="gdbstub-refuse", daemon=True).start()
        self.stopped.set()

    def _session_ended(self, sess, kill: bool):
        with self._lock:
            if self._session is sess:
                self._session = None
        if kill:
            self._closing.set()
            self._stop_listening()
            self.stopped.set()


def _refuse(conn: socket.socket, timeout: float = 2.0):
    """Turn a second client away: the reason as a text line at once (gdb ignores text while it
    waits for an ack), then as an ``E.`` error reply to its first packet, which gdb shows as
    "Remote failure reply: E.<reason>"; then close."""
    try:
        conn.sendall(REFUSAL)
        conn.settimeout(timeout)
        buf = b""
        while b"#" not in buf or len(buf) < buf.index(b"#") + 3:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buf += chunk
        conn.sendall(b"+" + frame(b"E." + REFUSAL.strip().replace(b";", b",")))
    except OSError:
        pass
    finally:
        conn.close()


class _Session:
    """One attached debugger: a reader thread (socket -> packets) and the serving thread, which
    is the machine thread for as long as the session lasts."""

    def __init__(self, server: GdbServer, conn: socket.socket, peer):
        self.server = server
        self.machine = server.machine
        self.conn = conn
        self.peer = peer
        self.alive = True
        self.packets: queue.SimpleQueue = queue.SimpleQueue()
        self.interrupt = threading.Event()
        self.ack = True
        self._send_lock = threading.Lock()
        self._last_sent = b""
        self._aborted = False                       # close(): end now
        self._disconnected = False                  # the client went away (queued packets still run)
        self.running = False
        self.breakpoints: dict[int, list] = {}      # addr -> [hook handle, {"sw", "hw"}]
        self._skip_pc: int | None = None
        self._hit: tuple[int, str] | None = None
        self._fault = None
        self._kill = False
        self._thread = threading.Thread(target=self._serve, name=f"gdbstub-session:{peer[1]}", daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name=f"gdbstub-reader:{peer[1]}", daemon=True)

    def start(self):
        self._reader.start()
        self._thread.start()

    def join(self, timeout):
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._reader.join(timeout)

    def abort(self):
        """From another thread: make the session end soon (running board included)."""
        self._aborted = True
        self.interrupt.set()
        self.machine.pause()
        self._shutdown_socket()

    def _shutdown_socket(self):
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- wire ---------------------------------------------------------------------------------
    def _read_loop(self):
        buf = bytearray()
        conn = self.conn
        try:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                self._parse(buf)
        finally:
            self._disconnected = True
            self.packets.put(None)
            if self.running:                            # nobody left to interrupt the board
                self.interrupt.set()
                self.machine.pause()

    def _parse(self, buf: bytearray):
        while buf:
            c = buf[0]
            if c == 0x24:                                  # '$' packet '#' checksum
                end = buf.find(b"#")
                if end < 0 or len(buf) < end + 3:
                    return
                data, cs = bytes(buf[1:end]), bytes(buf[end + 1:end + 3])
                del buf[:end + 3]
                try:
                    good = int(cs, 16) == checksum(data)
                except ValueError:
                    good = False
                if not good:
                    self._raw_send(b"-")
                    continue
                if self.ack:
                    self._raw_send(b"+")
                self.packets.put(data)
            elif c == 0x03:                                # Ctrl-C
                del buf[0]
                self.interrupt.set()
                self.machine.pause()
            elif c == 0x2D:                                # '-': resend
                del buf[0]
                if self.ack and self._last_sent:
                    self._raw_send(self._last_sent)
            else:                                          # '+' and noise between packets
                del buf[0]

    def _raw_send(self, data: bytes):
        with self._send_lock:
            try:
                self.conn.sendall(data)
            except OSError:
                pass

    def send(self, payload: bytes | str):
        if isinstance(payload, str):
            payload = payload.encode()
        pkt = frame(payload)
        self._last_sent = pkt
        self._raw_send(pkt)

    # -- the session ---------------------------------------------------------------------------
    def _serve(self):
        m = self.machine
        m.host_links += 1
        unsub = m.events.subscribe(ev.FAULT, self._on_fault)
        try:
            while not self._aborted:
                data = self.packets.get()
                if data is None or self._aborted:
                    break
                try:
                    reply = self.handle(data.decode("latin-1"))
                except _EndSession:
                    break
                except Exception as e:                      # a broken request must not kill the stub
                    m.events.emit(ev.WARNING, message=f"gdbstub: {data[:40]!r}: {type(e).__name__}: {e}")
                    reply = "E03"
                if reply is not None:
                    self.send(reply)
        finally:
            unsub()
            for addr in list(self.breakpoints):
                self._remove_bp(addr, None)
            m.host_links -= 1
            self.alive = False
            # free the server's slot before the client sees the connection close: a client that
            # detaches and reconnects at once must not be refused as a second debugger
            self.server._session_ended(self, self._kill)
            self._shutdown_socket()
            self.conn.close()

    def _on_fault(self, event):
        self._fault = event.report
        if self.running:
            self.machine.pause()

    # -- packets ---------------------------------------------------------------------------
    def handle(self, p: str) -> str | None:
        if not p:
            return ""
        c = p[0]
        if c == "?":
            return self._stop_reply(SIGTRAP)
        if c == "g":
            return "".join(_hex32(v) for v in self._read_regs())
        if c == "G":
            vals = _le_words(p[1:])
            for num, v in enumerate(vals):
                self._write_reg(num, v)
            return "OK"
        if c == "p":
            num = int(p[1:], 16)
            regs = self._read_regs()
            return _hex32(regs[num]) if num < len(regs) else "E01"
        if c == "P":
            num, val = p[1:].split("=")
            num = int(num, 16)
            if num >= self._nregs():
                return "E01"
            self._write_reg(num, _le_words(val)[0])
            return "OK"
        if c == "m":
            addr, n = (int(x, 16) for x in p[1:].split(","))
            data = self._read_mem(addr, min(n, MAX_MEM_READ))
            return data.hex() if data else "E01"
        if c == "M":
            head, hexdata = p[1:].split(":", 1)
            addr = int(head.split(",")[0], 16)
            return self._write_mem(addr, bytes.fromhex(hexdata))
        if c == "X":
            head, _, raw = p[1:].partition(":")
            addr, n = (int(x, 16) for x in head.split(","))
            data = unescape_binary(raw.encode("latin-1"))[:n]
            return self._write_mem(addr, data) if data else "OK"
        if c in "cs":
            if len(p) > 1:
                self._set_pc(int(p[1:], 16))
            return self._resume(step=c == "s")
        if c in "CS":                                       # signal ignored
            _, _, addr = p[1:].partition(";")
            if addr:
                self._set_pc(int(addr, 16))
            return self._resume(step=c == "S")
        if c in "Zz":
            return self._breakpoint(c == "Z", p[1:])
        if c == "H" or c == "T":
            return "OK"
        if c == "k":
            self._kill = True
            raise _EndSession
        if c == "D":
            self.send("OK")
            raise _EndSession
        if p.startswith("vCont"):
            return self._vcont(p)
        if p.startswith("vKill"):
            self._kill = True
            self.send("OK")
            raise _EndSession
        if p.startswith("q") or p.startswith("Q"):
            return self._query(p)
        return ""

    def _query(self, p: str) -> str:
        if p.startswith("qSupported"):
            return (f"PacketSize={PACKET_SIZE:x};qXfer:features:read+;QStartNoAckMode+;"
                    "swbreak+;hwbreak+;vContSupported+")
        if p == "QStartNoAckMode":
            self.send("OK")
            self.ack = False
            return None
        if p.startswith("qXfer:features:read:"):
            annex, _, span = p[len("qXfer:features:read:"):].partition(":")
            if annex != "target.xml":
                return "E00"
            off, n = (int(x, 16) for x in span.split(","))
            xml = target_xml(self.machine.cpu.v6m)
            chunk = xml[off:off + n]
            return ("l" if off + n >= len(xml) else "m") + escape_binary(chunk).decode("latin-1")
        if p == "qAttached" or p.startswith("qAttached:"):
            return "1"
        if p == "qC":
            return "QC1"
        if p == "qfThreadInfo":
            return "m1"
        if p == "qsThreadInfo":
            return "l"
        if p.startswith("qThreadExtraInfo"):
            return b"cpu".hex()
        if p.startswith("qRcmd,"):
            out = self._monitor(bytes.fromhex(p[6:]).decode("utf-8", "replace").strip())
            return out.encode().hex() if out else "OK"
        if p == "qSymbol::":
            return "OK"
        return ""

    def _vcont(self, p: str) -> str:
        if p == "vCont?":
            return "vCont;c;C;s;S"
        for action in p[6:].split(";"):
            act, _, thread = action.partition(":")
            if thread not in ("", "1", "-1", "p1.1", "p1.-1"):
                continue
            if act[:1] in ("c", "C"):
                return self._resume(step=False)
            if act[:1] in ("s", "S"):
                return self._resume(step=True)
            return "E01"
        return "OK"

    # -- running ---------------------------------------------------------------------------
    def _resume(self, step: bool) -> str:
        m = self.machine
        pc = m.cpu.pc & ~1
        self._skip_pc = pc if pc in self.breakpoints else None
        self._hit = None
        self._fault = None
        self.running = True
        try:
            if step:
                if not m.halted:
                    m.step(1)
            else:
                m.run(until=self._should_stop)
        finally:
            self.running = False
        if self._aborted or self._disconnected:
            raise _EndSession
        return self._after_stop(step)

    def _should_stop(self) -> bool:
        # checked between bursts: catches a Ctrl-C / disconnect whose pause() came too early
        return self.interrupt.is_set() or self._disconnected or self._aborted

    def _after_stop(self, step: bool) -> str:
        m = self.machine
        interrupted = self.interrupt.is_set()
        self.interrupt.clear()
        if m.halted == "exit":
            return "W%02x" % ((m.exit_status or 0) & 0xFF)
        if m.halted in ("lockup", "hardfault-loop"):
            return self._stop_reply(SIGSEGV)
        if m.halted:
            return self._stop_reply(SIGTRAP)
        if self._hit is not None:
            return self._stop_reply(SIGTRAP, "swbreak:;" if "sw" in self._hit[1] else "hwbreak:;")
        if self._fault is not None:
            return self._stop_reply(SIGSEGV)
        if interrupted and not step:
            return self._stop_reply(SIGINT)
        return self._stop_reply(SIGTRAP)

    def _stop_reply(self, sig: int, extra: str = "") -> str:
        if self.machine.halted in ("lockup", "hardfault-loop") and sig == SIGTRAP:
            sig = SIGSEGV
        r = self.machine.cpu.uc.reg_read
        return (f"T{sig:02x}thread:1;0d:{_hex32(r(A.UC_ARM_REG_SP))};0e:{_hex32(r(A.UC_ARM_REG_LR))};"
                f"0f:{_hex32(r(A.UC_ARM_REG_PC) & ~1)};{extra}")

    # -- breakpoints -------------------------------------------------------------------------
    def _breakpoint(self, insert: bool, args: str) -> str:
        kind, addr, *_ = args.split(";")[0].split(",")
        if kind not in ("0", "1"):
            return ""                                      # watchpoints: not supported
        addr = int(addr, 16) & ~1
        tag = "sw" if kind == "0" else "hw"
        if insert:
            entry = self.breakpoints.get(addr)
            if entry is None:
                handle = self.machine.cpu.add_breakpoint(addr, self._on_breakpoint)
                entry = self.breakpoints[addr] = [handle, set()]
            entry[1].add(tag)
        else:
            self._remove_bp(addr, tag)
        return "OK"

    def _remove_bp(self, addr: int, tag: str | None):
        entry = self.breakpoints.get(addr)
        if entry is None:
            return
        entry[1].discard(tag)
        if tag is None or not entry[1]:
            del self.breakpoints[addr]
            self.machine.cpu.remove_breakpoint(entry[0], addr)

    def _on_breakpoint(self, addr: int) -> bool:
        """Code hook (machine thread, inside a burst): stop before the instruction at addr."""
        if addr == self._skip_pc:                 # the instruction we resumed from runs once
            self._skip_pc = None
            return False
        entry = self.breakpoints.get(addr)
        if entry is None or not self.running:
            return False
        self._hit = (addr, entry[1])
        self.machine.pause()
        return True

    # -- registers & memory --------------------------------------------------------------------
    def _nregs(self) -> int:
        return 17 + len(_system_regs(self.machine.cpu.v6m))

    def _reg_ids(self):
        return _CORE_IDS + [A.UC_ARM_REG_XPSR] + [r for _, r in _system_regs(self.machine.cpu.v6m)]

    def _read_regs(self) -> list[int]:
        uc = self.machine.cpu.uc
        vals = [uc.reg_read(r) & 0xFFFFFFFF for r in self._reg_ids()]
        vals[15] &= ~1
        return vals

    def _write_reg(self, num: int, value: int):
        ids = self._reg_ids()
        if num >= len(ids):
            return
        if num == 15:
            self._set_pc(value)
        else:
            self.machine.cpu.uc.reg_write(ids[num], value & 0xFFFFFFFF)

    def _set_pc(self, addr: int):
        self.machine.cpu.uc.reg_write(A.UC_ARM_REG_PC, (addr & 0xFFFFFFFF) | 1)

    def _read_mem(self, addr: int, n: int) -> bytes:
        """The bytes at addr..addr+n, or the readable prefix of them (b"" if none)."""
        read = self.machine.read_memory
        try:
            return read(addr, n)
        except (UcError, ValueError, OverflowError):
            pass
        out = bytearray()
        for a in range(addr, addr + n):
            try:
                out += read(a, 1)
            except (UcError, ValueError, OverflowError):
                break
        return bytes(out)

    def _write_mem(self, addr: int, data: bytes) -> str:
        try:
            self.machine.write_memory(addr, data)
        except (UcError, ValueError, OverflowError):
            return "E01"
        return "OK"

    # -- monitor -------------------------------------------------------------------------------
    def _monitor(self, cmd: str) -> str:
        m = self.machine
        word = cmd.split()[0] if cmd.split() else ""
        if word == "reset":
            m.reset("debugger")
            return (f"reset (cause 'debugger'): pc=0x{m.cpu.pc & ~1:08x} "
                    f"sp=0x{m.cpu.uc.reg_read(A.UC_ARM_REG_SP):08x}\n")
        if word == "time":
            return f"board time {m.time_ns / 1e9:.9f} s ({m.clock.now()} cycles at {m.clock.hz} Hz)\n"
        if word in ("help", ""):
            return ("monitor commands:\n  reset   warm reset of the board (cause 'debugger')\n"
                    "  time    board time (virtual; stands still while halted)\n")
        return f"unknown monitor command {word!r} (try 'monitor help')\n"


class _EndSession(Exception):
    pass


def _hex32(v: int) -> str:
    return (v & 0xFFFFFFFF).to_bytes(4, "little").hex()


def _le_words(hexdata: str) -> list[int]:
    raw = bytes.fromhex(hexdata)
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw) - 3, 4)]
