"""GDB remote stub (emulator/gdbstub.py) against Debian's gdb-multiarch and raw sockets.

The firmware is a small C program built here for mps2-an385 (own vector table, no libc): a
counter loop, ``add(counter, seed)`` (= add(5, 37) = 42), an optional spin loop a debugger can
switch on, then a semihosting exit with ``counter + 42`` (47). Breakpoints and single steps are
checked against a reference instruction trace of the same program (a unicorn code hook on every
address), so "PC exactly at the breakpoint, the instruction not executed and not counted" and
"one step = one instruction" are checked instruction by instruction.
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from unicorn import UC_HOOK_CODE

from boardemu.emulator.gdbstub import REFUSAL, GdbServer, checksum, frame
from boardemu.emulator.machine import Machine

BOARD = "mps2-an385"
GCC = shutil.which("arm-none-eabi-gcc")
GDB = shutil.which("gdb-multiarch")
IO_TIMEOUT = 5.0

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(GCC is None, reason="arm-none-eabi-gcc is not installed")]

PROGRAM = r"""
/* GDB stub test program, mps2-an385 (Cortex-M3): code at 0x0, RAM at 0x20000000. */
typedef unsigned int u32;
extern u32 _estack, _sidata, _sdata, _edata, _sbss, _ebss;

volatile int counter;          /* incremented in a loop */
volatile int spin;             /* a debugger sets it to keep the program busy */
volatile int seed = 37;        /* .data: copied from the image by the reset handler */

__attribute__((noinline)) int add(int a, int b) {
    return a + b;
}

static void sh_exit(int code) {
    static volatile u32 block[2];
    block[0] = 0x20026;                    /* ADP_Stopped_ApplicationExit */
    block[1] = (u32)code;
    register u32 r0 __asm("r0") = 0x20;    /* SYS_EXIT_EXTENDED */
    register volatile u32 *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) { }
}

int main(void) {
    for (int i = 0; i < 5; i++)
        counter++;
    int r = add(counter, seed);
    while (spin)
        counter++;
    counter += r;
    return counter;
}

void Reset_Handler(void) {
    u32 *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
    sh_exit(main());
}

void HardFault_Handler(void) {
    for (;;) { }
}

__attribute__((section(".vectors"), used))
void (*const vectors[])(void) = {
    (void (*)(void))&_estack, Reset_Handler, HardFault_Handler /* NMI */, HardFault_Handler,
};
"""

LINKER_SCRIPT = """
ENTRY(Reset_Handler)
MEMORY { CODE (rx) : ORIGIN = 0x00000000, LENGTH = 4M
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 4M }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > CODE
  .data : { _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > CODE
  _sidata = LOADADDR(.data);
  .bss (NOLOAD) : { _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
  .stack (NOLOAD) : { . += 0x1000; _estack = .; } > RAM
}
"""
EXIT_STATUS = 5 + 42


@pytest.fixture(scope="module")
def elf(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gdbfw")
    (d / "prog.c").write_text(PROGRAM)
    (d / "link.ld").write_text(LINKER_SCRIPT)
    out = d / "prog.elf"
    subprocess.run([GCC, "-mcpu=cortex-m3", "-mthumb", "-O0", "-g", "-ffreestanding", "-nostdlib",
                    "-Wl,--no-warn-rwx-segments", "-T", str(d / "link.ld"), "-o", str(out), str(d / "prog.c")],
                   check=True, capture_output=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def trace(elf) -> list[int]:
    """Address of every instruction the program executes, from reset to its exit."""
    m = Machine(BOARD, elf)
    addrs: list[int] = []
    m.cpu.uc.hook_add(UC_HOOK_CODE, lambda uc, a, size, ud: addrs.append(a))
    assert m.run(for_s=1) == "exit" and m.exit_status == EXIT_STATUS
    assert len(addrs) == m.instructions
    return addrs


@pytest.fixture
def machine(elf):
    return Machine(BOARD, elf)


@pytest.fixture
def server(machine):
    srv = GdbServer(machine).start()
    try:
        yield srv
    finally:
        srv.close()


class Raw:
    """A minimal RSP client with bounded waits."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # '+' then a packet
        self.buf = b""
        self.ack = True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("stub closed the connection")
        self.buf += chunk

    def raw(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def packet(self) -> str:
        """The next packet (acks before it are skipped); acknowledged unless in no-ack mode."""
        while True:
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i)
            if i >= 0 and j >= 0 and len(self.buf) >= j + 3:
                data, cs = self.buf[i + 1:j], self.buf[j + 1:j + 3]
                self.buf = self.buf[j + 3:]
                assert int(cs, 16) == checksum(data)
                if self.ack:
                    self.sock.sendall(b"+")
                return data.decode("latin-1")
            self._fill()

    def cmd(self, p: str) -> str:
        self.sock.sendall(frame(p.encode("latin-1")))
        return self.packet()

    def monitor(self, text: str) -> str:
        return bytes.fromhex(self.cmd("qRcmd," + text.encode().hex())).decode()

    def cycles(self) -> int:
        return int(re.search(r"\((\d+) cycles", self.monitor("time")).group(1))

    def reg(self, n: int) -> int:
        return int.from_bytes(bytes.fromhex(self.cmd(f"p{n:x}")), "little")


def stop_pc(reply: str) -> int:
    m = re.search(r"0f:([0-9a-f]{8});", reply)
    assert m, reply
    return int.from_bytes(bytes.fromhex(m.group(1)), "little")


def wait_running(machine, since: int, timeout: float = IO_TIMEOUT):
    """Wait (bounded) until the board has run past cycle ``since`` (read from this thread)."""
    deadline = time.monotonic() + timeout
    while machine.clock.cycles <= since:
        assert time.monotonic() < deadline, "the board did not run"
        time.sleep(0.002)


def gdb(elf: Path, port: int, *commands: str) -> str:
    args = [GDB, "--batch", "-nx", str(elf), "-ex", f"target remote 127.0.0.1:{port}"]
    for c in commands:
        args += ["-ex", c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return r.stdout + "\n--- stderr ---\n" + r.stderr


def exit_code_line(status: int) -> str:
    """gdb prints the exit code in octal."""
    return rf"\[Inferior 1 \(Remote target\) exited with code 0*{status:o}\]"


# ---------------------------------------------------------------------------------------------
# real gdb
# ---------------------------------------------------------------------------------------------
needs_gdb = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed")


@needs_gdb
def test_gdb_session_breakpoint_variables_step_reset_exit(elf, server, machine):
    out = gdb(elf, server.port,
              "break add", "continue", "print a", "print b", "finish",
              "print counter", "set var counter = 41", "print counter",
              "monitor time", "shell sleep 0.2", "monitor time",
              "stepi", "info registers pc",
              "delete", "monitor reset", "continue")
    assert re.search(r"Breakpoint 1, add \(a=5, b=37\) at .*prog\.c:\d+", out), out
    assert re.search(r"\$1 = 5\n\$2 = 37\n", out), out
    assert "Value returned is $3 = 42" in out, out
    assert re.search(r"\$4 = 5\n\$5 = 41\n", out), out
    # stepi after finish: one instruction further in main
    pc = re.search(r"^pc\s+0x([0-9a-f]+)\s+0x[0-9a-f]+ <main\+(\d+)>", out, re.M)
    assert pc, out
    assert int(pc.group(1), 16) == (machine.symbol("main") & ~1) + int(pc.group(2))
    # board time stood still across the wall-clock pause while halted
    times = re.findall(r"board time ([\d.]+) s \((\d+) cycles", out)
    assert len(times) == 2 and times[0] == times[1] and int(times[0][1]) > 0, out
    assert "reset (cause 'debugger')" in out, out
    # after the reset the program runs again from the start (bss cleared: counter back to 0)
    assert re.search(exit_code_line(EXIT_STATUS), out), out
    assert len(server.log) == 1 and server.log[0].startswith("connected")


@needs_gdb
def test_gdb_variable_write_reaches_the_program(elf, server):
    out = gdb(elf, server.port, "break add", "continue", "finish", "set var counter = 41", "continue")
    assert "Value returned is $1 = 42" in out, out
    assert re.search(exit_code_line(41 + 42), out), out


@needs_gdb
def test_second_gdb_is_refused_with_a_reason(elf, server):
    with Raw(server.port) as first:
        assert first.cmd("?").startswith("T05")
        out = gdb(elf, server.port, "info registers pc")
        assert "another debugger is already attached" in out, out
        assert first.cmd("qC") == "QC1"                   # the first one is still served


# ---------------------------------------------------------------------------------------------
# breakpoints, stepping, time
# ---------------------------------------------------------------------------------------------
def test_breakpoint_stops_before_the_instruction_exactly(server, machine, trace):
    add = machine.symbol("add") & ~1
    original = machine.read_memory(add, 8)
    with Raw(server.port) as c:
        assert c.cmd(f"Z0,{add:x},2") == "OK"
        reply = c.cmd("c")
        assert reply.startswith("T05") and "swbreak:;" in reply, reply
        assert stop_pc(reply) == add
        # exactly the instructions before the first arrival at add ran; add's did not
        assert c.cycles() == trace.index(add)
        assert c.reg(0) == 5 and c.reg(1) == 37            # arguments, before the prologue
        assert c.cmd(f"m{add:x},8") == original.hex()     # memory is not patched
        # continuing from the breakpoint runs its instruction once, then on to the exit
        assert c.cmd("c") == "W%02x" % EXIT_STATUS
        assert c.cycles() == len(trace)


def test_hardware_breakpoint_and_continue_address(server, machine, trace):
    main = machine.symbol("main") & ~1
    add = machine.symbol("add") & ~1
    with Raw(server.port) as c:
        assert c.cmd(f"Z1,{main:x},2") == "OK"
        reply = c.cmd("vCont;c")
        assert "hwbreak:;" in reply and stop_pc(reply) == main
        assert c.cycles() == trace.index(main)
        assert c.cmd(f"z1,{main:x},2") == "OK"
        assert c.cmd(f"Z0,{add:x},2") == "OK"
        assert c.cmd(f"Z0,{add:x},2") == "OK"             # inserting twice is harmless
        assert stop_pc(c.cmd("c")) == add
        assert c.reg(0) == 5
        # 'c ADDR' resumes there: main again, so the loop adds 5 more before the next call
        assert stop_pc(c.cmd(f"c{main:x}")) == add
        assert c.reg(0) == 10
        # a breakpoint in code that already ran (translated by unicorn) still stops there
        # (added with no hook deleted in between: unicorn flushes its code cache on deletion)
        in_main = trace[trace.index(main):trace.index(add)]
        loop = next(a for a in in_main if in_main.count(a) == 5)             # the counter loop
        assert c.cmd(f"Z0,{loop:x},2") == "OK"
        assert stop_pc(c.cmd(f"c{main:x}")) == loop
        assert c.cmd(f"z0,{loop:x},2") == "OK" and c.cmd(f"z0,{add:x},2") == "OK"
        assert c.cmd("c").startswith("W")                  # removed: no more stops
        assert c.cmd("Z2,20000000,4") == ""               # watchpoints: not supported


def test_single_steps_follow_the_instruction_trace(server, machine, trace):
    """Step through the whole program: every step executes exactly one instruction."""
    with Raw(server.port) as c:
        assert c.cmd("QStartNoAckMode") == "OK"
        c.ack = False
        assert stop_pc(c.cmd("?")) == trace[0]
        for i in range(1, len(trace)):                     # step i executes trace[i - 1]
            if i == 60:
                assert c.cycles() == i - 1
                # a breakpoint at the current PC does not keep a step from leaving it
                assert c.cmd(f"Z0,{trace[i - 1]:x},2") == "OK"
            reply = c.cmd("s" if i % 2 else "vCont;s:1")
            assert reply.startswith("T05") and stop_pc(reply) == trace[i], (i, reply)
        # the last instruction is the semihosting exit
        assert c.cmd("s") == "W%02x" % EXIT_STATUS
        assert c.cycles() == len(trace)


def test_interrupt_and_time_stands_still_while_halted(server, machine, trace):
    add = machine.symbol("add") & ~1
    spin = machine.symbol("spin")
    counter = machine.symbol("counter")
    with Raw(server.port) as c:
        t0 = c.cycles()
        time.sleep(0.1)
        assert c.cycles() == t0 == 0                       # not started: nothing ran
        c.cmd(f"Z0,{add:x},2")
        stop_pc(c.cmd("c"))
        c.cmd(f"z0,{add:x},2")
        assert c.cmd(f"M{spin:x},4:01000000") == "OK"     # keep main busy
        for _ in range(2):
            since = c.cycles()
            c.sock.sendall(frame(b"c"))
            wait_running(machine, since + 10_000)
            c.sock.sendall(b"\x03")
            reply = c.packet()
            assert reply.startswith("T02"), reply
            t1 = c.cycles()
            n1 = int.from_bytes(bytes.fromhex(c.cmd(f"m{counter:x},4")), "little")
            time.sleep(0.2)
            assert c.cycles() == t1                        # halted: virtual time stands still
            assert int.from_bytes(bytes.fromhex(c.cmd(f"m{counter:x},4")), "little") == n1
            assert t1 > trace.index(add) and n1 > 5
        # a breakpoint in the loop that has been running (translated with no hook anywhere):
        # resuming from it runs one round of the loop, then stops there again
        pc = stop_pc(reply)
        assert c.cmd(f"Z0,{pc:x},2") == "OK"
        reply = c.cmd("c")
        assert "swbreak" in reply and stop_pc(reply) == pc, reply
        assert 0 < c.cycles() - t1 < 20
        assert c.cmd(f"z0,{pc:x},2") == "OK"
        c.cmd(f"M{spin:x},4:00000000")
        assert c.cmd("c").startswith("W")


def test_fault_reports_sigsegv_at_the_handler(server, machine):
    handler = machine.symbol("HardFault_Handler") & ~1
    with Raw(server.port) as c:
        assert c.cmd("P0f=00000060") == "OK"               # pc = 0x60000000: unmapped fetch
        reply = c.cmd("c")
        assert reply.startswith("T0b"), reply
        assert stop_pc(reply) == handler
        assert machine.fault is not None and "fetch" in machine.fault.kind
        assert c.monitor("reset").startswith("reset (cause 'debugger')")
        assert c.cmd("c") == "W%02x" % EXIT_STATUS


# ---------------------------------------------------------------------------------------------
# protocol edge cases
# ---------------------------------------------------------------------------------------------
def test_protocol_edge_cases(server, machine):
    with Raw(server.port) as c:
        c.sock.sendall(b"$qC#00")                          # bad checksum
        assert c.raw(1) == b"-"
        c.sock.sendall(frame(b"qC"))
        assert c.raw(1) == b"+"
        assert c.packet() == "QC1"
        assert "PacketSize=" in c.cmd("qSupported:multiprocess+;swbreak+")
        xml = ""
        while True:
            part = c.cmd(f"qXfer:features:read:target.xml:{len(xml):x},80")
            xml += part[1:]
            if part[0] == "l":
                break
        assert "org.gnu.gdb.arm.m-profile" in xml and '<reg name="xpsr"' in xml
        assert c.cmd("qAttached") == "1"
        assert c.cmd("qfThreadInfo") == "m1" and c.cmd("qsThreadInfo") == "l"
        assert c.cmd("Hg0") == "OK" and c.cmd("Hc-1") == "OK"
        assert c.cmd("vCont?").startswith("vCont;c;C;s;S")
        assert c.cmd("qSomethingNew") == ""                # unknown: empty reply
        regs = c.cmd("g")
        assert len(regs) == 8 * 23
        assert int.from_bytes(bytes.fromhex(regs[15 * 8:16 * 8]), "little") == machine.cpu.pc & ~1
        assert c.cmd("p10") == regs[16 * 8:17 * 8]         # xpsr, register 16
        assert c.cmd("P4=78563412") == "OK" and c.reg(4) == 0x12345678
        assert c.cmd("m60000000,4") == "E01"               # unmapped
        assert c.cmd("m207ffffe,4") == "0000"              # the readable prefix at the end of RAM
        assert c.cmd("M20000100,4:deadbeef") == "OK"
        assert c.cmd("X20000104,3:a}]b") == "OK"           # binary, with '}' escaping ']' ^ 0x20 = '}'
        assert c.cmd("m20000100,7") == "deadbeef617d62"
        assert machine.read_memory(0x20000100, 4) == bytes.fromhex("deadbeef")
        assert c.cmd("M60000000,1:00") == "E01"
        assert "unknown monitor command" in c.monitor("frobnicate")
        # a second client is turned away with a reason; the first one stays attached
        with socket.create_connection(("127.0.0.1", server.port), timeout=IO_TIMEOUT) as other:
            got = b""
            while not got.endswith(b"\n"):
                chunk = other.recv(256)
                assert chunk
                got += chunk
            assert got == REFUSAL
        assert c.cmd("qC") == "QC1"
        # detach: the session ends, the server keeps listening
        assert c.cmd("D") == "OK"
        with pytest.raises(EOFError):
            c.packet()
    with Raw(server.port) as again:
        assert again.cmd("?").startswith("T05")
        again.sock.sendall(frame(b"k"))                    # kill: stop serving
        assert server.wait(IO_TIMEOUT)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_close_interrupts_a_running_board(machine):
    """close() ends a session whose board is running (spinning forever) within bounded time,
    and leaves no hooks or host link behind: the owner can run the board afterwards."""
    spin = machine.symbol("spin")
    main = machine.symbol("main") & ~1
    hooks = len(machine.cpu.uc._callbacks)
    srv = GdbServer(machine).start()
    try:
        with Raw(srv.port) as c:
            c.cmd(f"Z0,{main:x},2")                        # after the reset handler cleared .bss
            assert stop_pc(c.cmd("c")) == main
            c.cmd(f"M{spin:x},4:01000000")
            since = c.cycles()
            c.sock.sendall(frame(b"c"))                    # spins until interrupted
            wait_running(machine, since + 10_000)
            t = time.monotonic()
            srv.close()
            assert time.monotonic() - t < 2
            assert srv.wait(0)
    finally:
        srv.close()
    assert machine.host_links == 0
    assert len(machine.cpu.uc._callbacks) == hooks         # the breakpoint hook is gone
    machine.write_memory(spin, bytes(4))
    assert machine.run(for_s=1) == "exit" and machine.exit_status > EXIT_STATUS


def test_client_vanishing_while_running_frees_the_server(server, machine):
    """A debugger that disconnects while the board runs does not leave the stub stuck in
    the run: the board stops and the next client is served."""
    spin = machine.symbol("spin")
    main = machine.symbol("main") & ~1
    with Raw(server.port) as c:
        c.cmd(f"Z0,{main:x},2")
        assert stop_pc(c.cmd("c")) == main
        c.cmd(f"M{spin:x},4:01000000")
        since = c.cycles()
        c.sock.sendall(frame(b"c"))
        wait_running(machine, since + 10_000)
    deadline = time.monotonic() + IO_TIMEOUT
    while True:                     # the old session may need a moment to notice and clean up
        again = Raw(server.port)
        reply = again.cmd("?")
        if not reply.startswith("E."):                     # E.: refused, still attached
            break
        again.close()
        assert time.monotonic() < deadline, "the stub never let go of the old client"
        time.sleep(0.01)
    with again:
        assert reply.startswith("T05") and stop_pc(reply) != main, reply
        t = again.cycles()
        assert t > since + 10_000
        time.sleep(0.05)
        assert again.cycles() == t                          # stopped when its client left


def test_serve_with_gdb_flag_accepts_a_debugger():
    """`boardemu serve --gdb PORT`: prints the gdb command line and answers the protocol."""
    import re
    import signal
    import socket
    import subprocess
    import sys

    from conftest import ROOT, firmware
    proc = subprocess.Popen([sys.executable, "-m", "boardemu.cli", "serve", "--board", "mps2-an385",
                             str(firmware("mps2", "hello")), "--gdb", "0", "--socket", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        port = None
        for _ in range(5):
            line = proc.stdout.readline().decode()
            m = re.search(r"target remote ([\d.]+):(\d+)", line)
            if m:
                port = int(m.group(2))
                break
        assert port, "no gdb connect line printed"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"$?#3f")
            data = b""
            while b"#" not in data[1:]:
                data += s.recv(100)
            assert data.startswith(b"+$S") or data.startswith(b"+$T") or data.startswith(b"$T"), data
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
