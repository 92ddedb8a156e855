"""The Machine: a board built from its definition, running firmware in virtual time.

Every front-end (CLI, TUI, scenarios, serial links, GDB) uses this API and observes
``machine.events``; none reaches into a peripheral directly.

    m = Machine("mps2-an385", "hello.elf")
    m.run(for_s=1.0)                      # board time
    print(m.console.read())

Threading: the machine runs in one thread. Other threads talk to it with ``post(fn)`` (and the
thread-safe ``Channel.send`` / ``Pin`` helpers that post for them), and ``pause()``.
"""
from __future__ import annotations

import importlib
import queue
import struct
import threading
import time
from pathlib import Path

from unicorn import UcError
from unicorn import arm_const as A

from . import events as ev
from .board import Board, load_board
from .bus import Bus, LoadError
from .clock import Clock
from .console import Channel
from .cortexm import CortexM, FaultReport, Halt
from .loaders import Image, ImageError, load_image
from .pins import PinBank
from .scs import SystemControlSpace

DEFAULT_QUANTUM = 200_000          # instructions per burst when nothing is scheduled sooner
MASKED_QUANTUM = 500               # burst length while an interrupt waits behind PRIMASK/BASEPRI


class MachineError(Exception):
    """A user-facing problem building or running a machine (one line)."""


class StopReason(str):
    """Why ``run`` returned: 'time', 'condition', 'paused', 'halt', 'exit', 'fault', 'deadlock'."""


def resolve_model(type_name: str, kind="peripherals"):
    """``cmsdk.uart`` -> boardemu.peripherals.cmsdk.uart.MODEL; ``led`` -> parts.led.MODEL."""
    package = "boardemu.peripherals" if kind == "peripherals" else "boardemu.peripherals.parts"
    mod_name = f"{package}.{type_name}"
    try:
        mod = importlib.import_module(mod_name)
        return mod.MODEL
    except (ImportError, AttributeError):
        raise MachineError(f"no {kind[:-1]} model named {type_name!r}") from None


class Machine:
    # host-side attributes a snapshot restore leaves alone (emulator/snapshot.py)
    SNAPSHOT_LIVE = ("events", "_posted", "_wake", "host_links", "_pause", "board", "options", "flash_path",
                     "flash_file", "pace", "quantum", "_boardemu_idle_pacer")

    def __init__(self, board, firmware=None, *, quantum: int = DEFAULT_QUANTUM, pace: bool = False,
                 flash: str | None = None, options: dict | None = None, bootrom: str | None = None):
        self.board: Board = load_board(board)
        chip = self.board.chip
        self.options = options or {}
        self.quantum = int(quantum)
        self.pace = pace
        self.clock = Clock(chip["clock_hz"])
        self.events = ev.EventBus(self.clock)
        self.cpu = CortexM(self, chip["cpu"], chip["irqs"], chip["priority_bits"])
        self.clock.on_schedule = self.cpu.on_schedule
        self.bus = Bus(self.cpu.uc, self.events, self.board.get("bus.unmapped", "fault"))
        self.pins = PinBank(self.events)
        for name, pin_id in self.board.get("pins", {}).items():
            self.pins.alias(name, pin_id)
        self.channels: dict[str, Channel] = {}
        self.semihost = self.channel("semihosting", ev.CONSOLE)
        self.image: Image | None = None
        self.flash_path = flash

        self._posted: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._pause = False
        self._reset_request: str | None = None
        self._halt_pending = False
        self.halted: str | None = None
        self.exit_status: int | None = None
        self.reset_cause = "power-on"
        self.host_links = 0           # >0 while something outside may send input (keeps an idle board alive)
        self.instructions = 0

        for m in self.board.data["memory"]:
            fill = m.get("fill", 0xFF if m["kind"] == "flash" else 0)
            self.bus.add_memory(m["name"], m["base"], m["size"], m["kind"], fill=fill,
                                mirrors=m.get("mirrors", []))
            if m.get("ignore_writes"):
                self.bus.add_store_handler(m["base"], m["base"] + m["size"], _ignore_store)
            for addr, words in m.get("contents", {}).items():
                self.bus.load(int(addr, 0), struct.pack(f"<{len(words)}I", *words), "board contents")
        rom = bootrom or chip.get("bootrom")
        if rom:
            self._load_bootrom(rom, chip.get("vector_table", 0))
        # RAM first: exception frames (the most frequent core-side accesses) live there
        self.cpu.mem = [(b, e, buf) for b, e, buf, _w in sorted(self.bus.fast_access, key=lambda r: not r[3])]
        self.cpu.ram = [(b, e, buf) for b, e, buf, w in self.bus.fast_access if w]
        self.cpu.memory_mapped()
        self.scs = SystemControlSpace(self, systick_ref_hz=chip.get("systick_ref_hz"))
        self.bus.add_peripheral(self.scs)
        self.peripherals: dict[str, object] = {}
        for name, spec in self.board.get("peripherals", {}).items():
            cls = resolve_model(spec["type"])
            try:
                p = cls(self, name, spec["base"], irqs=spec.get("irqs", ()), **spec.get("config", {}))
            except TypeError as e:
                raise MachineError(f"{self.board.path}: peripherals.{name}: {e}") from None
            self.bus.add_peripheral(p)
            self.peripherals[name] = p
        self.parts: dict[str, object] = {}
        for spec in self.board.get("parts", []):
            cls = resolve_model(spec["type"], "parts")
            self.parts[spec["name"]] = cls(self, spec)
        self.bus.finalize([tuple(w) for w in self.board.get("bus.warn_windows", [])])
        con = self.board.get("console.device", "semihosting")
        self.console: Channel = self.semihost if con == "semihosting" else self.channel(con)
        self.flash_file = None
        if flash is not None:                  # the whole flash from a file first, the firmware on top
            from .flashstore import FlashFile, FlashFileError
            try:
                self.flash_file = FlashFile(self, flash)
            except FlashFileError as e:
                raise MachineError(str(e)) from None
        if firmware is not None:
            self.load(firmware)
        self._do_reset("power-on", emit=False)

    # -- building blocks ------------------------------------------------------------------
    def channel(self, name: str, event_kind: str = ev.UART_TX) -> Channel:
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = Channel(self, name, event_kind)
        return ch

    def peripheral(self, name: str):
        return self.peripherals[name]

    def _load_bootrom(self, rom: str, addr: int):
        path = Path(rom)
        if not path.is_absolute() and not path.exists():
            path = firmware_build_dir() / rom
        try:
            data = path.read_bytes()
        except OSError:
            raise MachineError(f"boot ROM {path} for board {self.board.name} is missing "
                               f"(build it with 'make firmware', or give one with --bootrom)") from None
        try:
            self.bus.load(addr, data, "boot ROM")
        except LoadError as e:
            raise MachineError(f"boot ROM {path}: {e}") from None
        self.bootrom_path = str(path)

    def load(self, firmware) -> Image:
        """Load an image (path or Image) into the board's memory."""
        if isinstance(firmware, Image):
            img = firmware
        else:
            img = load_image(str(firmware), family=self.board.get("chip.uf2_family"),
                             base=self.board.get("firmware.bin_base"))
        for seg in img.segments:
            try:
                self.bus.load(seg.addr, seg.data)
            except LoadError as e:
                raise ImageError(img.path, f"does not fit board {self.board.name}: {e}") from None
        self.image = img
        self.cpu.symbols = img.symbols
        self.cpu.instrument(img.segments)
        for p in self.bus.peripherals:
            hook = getattr(p, "image_loaded", None)
            if hook is not None:
                hook(img)
        return img

    # -- time -------------------------------------------------------------------------------
    @property
    def time_ns(self) -> int:
        return self.clock.now_ns()

    @property
    def time_s(self) -> float:
        return self.clock.now() / self.clock.hz

    # -- cross-thread -------------------------------------------------------------------------
    def post(self, fn, *args):
        """Run ``fn(*args)`` in the machine thread between bursts (thread-safe)."""
        self._posted.put((fn, args))
        self._wake.set()
        self.cpu.request_stop() if self.cpu.in_burst else None

    def pause(self):
        """Ask a running ``run()`` to return with reason 'paused' (thread-safe)."""
        self._pause = True
        self._wake.set()
        if self.cpu.in_burst:
            self.cpu.request_stop()

    def _drain_posted(self):
        while True:
            try:
                fn, args = self._posted.get_nowait()
            except queue.Empty:
                return
            fn(*args)

    # -- control -------------------------------------------------------------------------------
    def request_reset(self, cause: str):
        self._reset_request = cause
        self.cpu.request_stop()

    def snapshot(self):
        """Save the whole board state (CPU, memory, every model, pending events) at the current
        board time; ``restore`` goes back to it, any number of times. Call between runs."""
        from . import snapshot
        return snapshot.take(self)

    def restore(self, snap) -> None:
        """Put the board back to a ``snapshot()``: board time, registers, memory and models are
        as they were; host-side things (links, event subscribers, output already produced for
        the host, queued host input) are left as they are. Emits a ``restore`` event (at the
        snapshot's time; ``from_ns``: the board time it left)."""
        from . import snapshot
        before = self.time_ns
        snapshot.put_back(self, snap)
        self.events.emit("restore", from_ns=before)

    def reset(self, cause: str = "api"):
        """Reset the chip (memory kept, as a warm reset); the board console reconnects."""
        self._do_reset(cause)

    def _do_reset(self, cause, emit=True):
        self._reset_request = None
        self.halted = None
        self.exit_status = None
        self.reset_cause = cause
        self.clock.clear()
        self.cpu.cpu_reset(self.board.get("chip.vector_table", 0))
        for p in self.bus.peripherals:
            p.reset()
        for part in self.parts.values():
            reset = getattr(part, "reset", None)
            if reset:
                reset()
        if emit:
            self.events.emit(ev.RESET, cause=cause)

    def halt(self, reason: str, status: int | None = None, **info):
        """Stop the board (from a model or hook): run() returns; the board stays halted."""
        self.halted = reason
        if status is not None:
            self.exit_status = status
        self._halt_pending = True
        self.events.emit(ev.HALT, reason=reason, status=status, **info)
        self.cpu.request_stop()

    @property
    def fault(self) -> FaultReport | None:
        return self.cpu.last_fault

    # -- the run loop ---------------------------------------------------------------------------
    def run(self, *, for_s: float | None = None, until_s: float | None = None, until=None,
            max_instructions: int | None = None) -> StopReason:
        """Run until board time ``until_s`` / for ``for_s`` seconds, until ``until()`` is true
        (checked between bursts), until paused, or until the board halts."""
        clock, cpu = self.clock, self.cpu
        limit = None
        if for_s is not None:
            limit = clock.cycles + int(for_s * clock.hz)
        if until_s is not None:
            limit = int(until_s * clock.hz) if limit is None else min(limit, int(until_s * clock.hz))
        if max_instructions is not None:
            cap = clock.cycles + max_instructions
            limit = cap if limit is None else min(limit, cap)
        self._pause = False
        if self.halted:
            return StopReason("halt")
        wall0, virt0 = time.perf_counter(), clock.cycles
        quantum = self.quantum
        try:
            while True:
                if not self._posted.empty():
                    self._drain_posted()
                if self._reset_request:
                    self._do_reset(self._reset_request)
                if clock.fire_due() and self._reset_request:
                    # a scheduled event (a watchdog timeout) asked for the reset: now, before
                    # another burst runs or idle time is skipped
                    self._do_reset(self._reset_request)
                if self._halt_pending:
                    self._halt_pending = False
                    if self.halted:
                        return self._halted_reason()
                if self._pause:
                    self._pause = False
                    return StopReason("paused")
                if until is not None and until():
                    return StopReason("condition")
                now = clock.cycles
                if limit is not None and now >= limit:
                    return StopReason("time")
                if cpu.sleeping:
                    if cpu.wake_pending():
                        cpu.sleeping = None
                    else:
                        nxt = clock.next_deadline()
                        if nxt is None and limit is None:
                            if self.host_links:
                                self._wake.wait(0.05)
                                self._wake.clear()
                                continue
                            self.halted = "deadlock"
                            self.events.emit(ev.HALT, reason="deadlock", status=None)
                            return StopReason("deadlock")
                        target = nxt if limit is None or (nxt is not None and nxt < limit) else limit
                        if self.pace:
                            self._pace_to(target, wall0, virt0)
                            if not self._posted.empty() or self._pause:
                                continue
                        clock.cycles = max(now, target)
                        continue
                if cpu.pending & cpu.enabled:
                    cpu.take_pending()
                budget = quantum
                nxt = clock.next_deadline()
                if nxt is not None and nxt - now < budget:
                    budget = nxt - now
                if limit is not None and limit - now < budget:
                    budget = limit - now
                if budget <= 0:
                    continue
                if cpu.pending & cpu.enabled and budget > MASKED_QUANTUM and cpu.masked_pending():
                    budget = MASKED_QUANTUM
                executed = cpu.run_burst(budget)
                clock.cycles += executed
                self.instructions += executed
                if self.pace:
                    self._pace_to(clock.cycles, wall0, virt0)
        except Halt:
            return self._on_lockup()

    def _halted_reason(self):
        if self.halted == "exit":
            return StopReason("exit")
        if self.halted in ("lockup", "hardfault-loop"):
            return StopReason("fault")
        return StopReason("halt")

    def _on_lockup(self):
        if self.board.get("faults.lockup", "halt") == "reset":
            self._do_reset("lockup")
            return StopReason("fault")
        self.halted = "lockup"
        self.events.emit(ev.HALT, reason="lockup", status=None)
        return StopReason("fault")

    def _pace_to(self, target_cycles, wall0, virt0):
        due = wall0 + (target_cycles - virt0) / self.clock.hz
        delay = due - time.perf_counter()
        if delay > 0:
            self._wake.wait(min(delay, 0.05))
            self._wake.clear()

    def step(self, n: int = 1) -> int:
        """Execute exactly ``n`` instructions (interrupts are taken between them)."""
        done = 0
        while done < n and not self.halted:
            self.clock.fire_due()
            if self.cpu.sleeping:
                if not self.cpu.wake_pending():
                    nxt = self.clock.next_deadline()
                    if nxt is None:
                        break
                    self.clock.cycles = nxt
                    continue
                self.cpu.sleeping = None
            if self.cpu.pending & self.cpu.enabled:
                try:
                    self.cpu.take_pending()
                except Halt:
                    self._on_lockup()
                    break
            try:
                k = self.cpu.run_burst(1, exact=True)
            except Halt:
                self._on_lockup()
                break
            self.clock.cycles += k
            done += k or 1
        return done

    def run_until_output(self, text, timeout_s: float = 10.0, channel: Channel | None = None) -> bytes:
        """Run until ``text`` (bytes/str) appears in the console output (board time limit).
        Returns all output seen; raises TimeoutError with the output tail if it never came."""
        ch = channel or self.console
        if isinstance(text, str):
            text = text.encode()
        seen = bytearray()
        unsub = ch.subscribe(seen.extend)
        try:
            reason = self.run(for_s=timeout_s, until=lambda: text in seen)
        finally:
            unsub()
        if text not in seen:
            tail = bytes(seen[-300:]).decode("utf-8", "replace")
            raise TimeoutError(f"{text!r} not seen within {timeout_s} s of board time ({reason}); "
                               f"output tail: {tail!r}")
        return bytes(seen)

    # -- memory & registers (debugger view) --------------------------------------------------
    def read_memory(self, addr: int, size: int) -> bytes:
        return self.bus.read(addr, size)

    def write_memory(self, addr: int, data: bytes):
        self.bus.write(addr, data)

    def regs(self) -> dict:
        return self.cpu.regs()

    def symbol(self, name: str) -> int | None:
        return self.image.symbols.address_of(name) if self.image and self.image.symbols else None

    def pin(self, name: str):
        return self.pins.get(name)

    def part(self, name: str):
        return self.parts[name]

    # -- flash file and board filesystem (emulator/flashstore.py, emulator/fsimage/) -----------
    def read_filesystem(self) -> bytes:
        """The bytes of the board's filesystem region (fsimage.FsError if the board has none)."""
        from .flashstore import read_filesystem
        return read_filesystem(self)

    def write_filesystem(self, image: bytes) -> None:
        """Put a bare filesystem image (``boardemu fs build``) in the board's filesystem region,
        validated in full first (fsimage.FsError). Best before boot."""
        from .flashstore import write_filesystem
        write_filesystem(self, image)

    @property
    def filesystem(self):
        """File-level view of the board filesystem (read/write/listdir), None if the board has none."""
        from .flashstore import board_filesystem
        return board_filesystem(self)

    def close(self) -> None:
        """End of use: writes the flash file back (``flash=``). Safe to call more than once."""
        if self.flash_file is not None:
            from .flashstore import FlashFileError
            try:
                self.flash_file.save()
            except FlashFileError as e:
                raise MachineError(str(e)) from None

    # -- semihosting ---------------------------------------------------------------------------
    def semihost_call(self, pc: int):
        """ARM semihosting (``bkpt 0xab``): console output, exit, clock. Runs inside a hook."""
        uc = self.cpu.uc
        op = uc.reg_read(A.UC_ARM_REG_R0)
        arg = uc.reg_read(A.UC_ARM_REG_R1)
        ret = 0
        rd = self.bus.read

        def words(n):
            return struct.unpack(f"<{n}I", rd(arg, 4 * n))

        try:
            if op == 0x03:                                   # SYS_WRITEC
                self.semihost.put(rd(arg, 1))
            elif op == 0x04:                                 # SYS_WRITE0
                out = bytearray()
                addr = arg
                while len(out) < 65536:
                    b = rd(addr, 1)
                    if b == b"\0":
                        break
                    out += b
                    addr += 1
                self.semihost.put(bytes(out))
            elif op == 0x05:                                 # SYS_WRITE (handle, buf, len)
                handle, buf, n = words(3)
                self.semihost.put(rd(buf, n))
                ret = 0
            elif op == 0x01:                                 # SYS_OPEN (":tt" only)
                ret = 1
            elif op == 0x02:                                 # SYS_CLOSE
                ret = 0
            elif op == 0x09:                                 # SYS_ISTTY
                ret = 1
            elif op == 0x10:                                 # SYS_CLOCK: centiseconds
                ret = self.clock.now() * 100 // self.clock.hz
            elif op == 0x11:                                 # SYS_TIME
                ret = self.clock.now() // self.clock.hz
            elif op == 0x18:                                 # SYS_EXIT
                reason = arg if arg < 0x30000 else words(1)[0]
                self.halt("exit", 0 if reason == 0x20026 else 1)
            elif op == 0x20:                                 # SYS_EXIT_EXTENDED
                reason, code = words(2)
                self.halt("exit", code if reason == 0x20026 else 1)
            elif op == 0x30:                                 # SYS_ELAPSED
                t = self.clock.now()
                self.bus.write(arg, struct.pack("<Q", t))
            elif op == 0x31:                                 # SYS_TICKFREQ
                ret = self.clock.hz
            else:
                ret = 0xFFFFFFFF
                self.events.emit(ev.WARNING, message=f"unsupported semihosting call 0x{op:x} at pc=0x{pc:08x}")
        except UcError:
            ret = 0xFFFFFFFF
        uc.reg_write(A.UC_ARM_REG_R0, ret & 0xFFFFFFFF)
        uc.reg_write(A.UC_ARM_REG_PC, (pc + 2) | 1)


def _ignore_store(addr, size, value) -> bool:
    return True


def firmware_build_dir() -> Path:
    """Where ``make firmware`` puts the project's own firmware (boot ROMs, test programs)."""
    import os
    env = os.environ.get("BOARDEMU_FIRMWARE_BUILD")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "firmware" / "build"


def default_firmware(board: Board) -> Path | None:
    p = board.get("firmware.default")
    return Path(p) if p else None
