"""Cortex-M CPU core: unicorn executes instructions; this module is the exception model.

unicorn runs Thumb code at JIT speed but has no NVIC. Here, in Python, are: the exception
state (pending/active/enabled, priorities, level-sensitive IRQ lines), exception entry and
return (stacking on MSP/PSP, EXC_RETURN, tail-chaining, late preemption between bursts),
SVC, PendSV, SysTick, HardFault escalation and lockup, WFI/WFE/SEV with the event register,
and ARM semihosting (``bkpt 0xab``).

The CPU runs in counted bursts of a given instruction budget. Two ways to count:

* block counting (the normal path): a native hook (``blockcount.c``, compiled on first use,
  see ``native.py``) runs once per translated block, before the block, adds the block's
  instruction count and ends the burst before the first block that starts at or past the
  budget. A burst may so run a few instructions past its budget (to the end of a block);
  time stays deterministic and is charged exactly for what ran. A stop requested from an MMIO
  callback (an interrupt became pending) takes effect at the next block boundary; blocks end
  at every branch, exception return, CPS/MSR and WFI, so this is at most a few instructions.
* exact counting (``run_burst(n, exact=True)``, used for single steps and while debugger
  breakpoints are set, and as the fallback when no C compiler is available): unicorn's own
  counted mode (``emu_start(count=n)``), which calls a hook helper on every instruction (about
  5x slower). We read its executed-instruction counter through ctypes (its offset in
  unicorn's engine struct is found once by calibration).

Either way peripherals read the instructions executed so far from inside MMIO callbacks
(``Clock.inflight``), so time read mid-burst is exact to the block.
"""
from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass, field

from unicorn import (
    UC_ARCH_ARM,
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_BLOCK,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_INVALID,
    UC_HOOK_TLB_FILL,
    UC_MEM_FETCH,
    UC_MEM_WRITE_PROT,
    UC_MODE_MCLASS,
    UC_MODE_THUMB,
    UC_PROT_ALL,
    UC_PROT_READ,
    UC_PROT_WRITE,
    UC_TLB_VIRTUAL,
    Uc,
    UcError,
)
from unicorn import arm_const as A

from . import events as ev

CPU_MODELS = {
    "cortex-m0": (A.UC_CPU_ARM_CORTEX_M0, 0x410CC200, 6),
    "cortex-m0+": (A.UC_CPU_ARM_CORTEX_M0, 0x410CC601, 6),
    "cortex-m3": (A.UC_CPU_ARM_CORTEX_M3, 0x412FC231, 7),
    "cortex-m4": (A.UC_CPU_ARM_CORTEX_M4, 0x410FC241, 7),
}

# Exception numbers
RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMON, PENDSV, SYSTICK = 11, 12, 14, 15
EXC_NAMES = {1: "Reset", 2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
             11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}

# unicorn (QEMU) interrupt numbers seen by UC_HOOK_INTR
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT, EXCP_BKPT, EXCP_EXCEPTION_EXIT = 1, 2, 3, 4, 7, 8
EXCP_NOCP, EXCP_INVSTATE, EXCP_UNALIGNED = 17, 18, 22

THREAD_PRIO = 0x100        # execution priority with nothing active
_REG_ORDER = [A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3, A.UC_ARM_REG_R4,
              A.UC_ARM_REG_R5, A.UC_ARM_REG_R6, A.UC_ARM_REG_R7, A.UC_ARM_REG_R8, A.UC_ARM_REG_R9,
              A.UC_ARM_REG_R10, A.UC_ARM_REG_R11, A.UC_ARM_REG_R12, A.UC_ARM_REG_SP, A.UC_ARM_REG_LR,
              A.UC_ARM_REG_PC, A.UC_ARM_REG_XPSR]
REG_NAMES = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",
             "sp", "lr", "pc", "xpsr"]
_FRAME_REGS = [A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3,
               A.UC_ARM_REG_R12, A.UC_ARM_REG_LR]


# ---------------------------------------------------------------------------------------
# exact instruction counter
# ---------------------------------------------------------------------------------------
_COUNTER_OFFSET: int | None | bool = False   # False = not calibrated yet, None = unavailable


def _calibrate_counter_offset() -> int | None:
    """Find where unicorn keeps ``emu_counter`` (followed by ``emu_count``) in its engine
    struct, by running known instruction counts and looking for the (counter, count) pair."""
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.mem_map(0, 0x1000)
    uc.mem_write(0, b"\xfe\xe7")             # b .
    base = uc._uch.value
    candidates = None
    for count in (0x1357, 0x2468):
        uc.emu_start(1, 0xFFE, count=count)
        raw = ctypes.string_at(base, 4096)
        hits = {off for off in range(0, 4096 - 16, 8)
                if struct.unpack_from("<QQ", raw, off) == (count + 1, count)}
        candidates = hits if candidates is None else candidates & hits
    if candidates and len(candidates) == 1:
        return candidates.pop()
    return None


def counter_offset() -> int | None:
    global _COUNTER_OFFSET
    if _COUNTER_OFFSET is False:
        try:
            _COUNTER_OFFSET = _calibrate_counter_offset()
        except Exception:          # pragma: no cover - depends on the unicorn build
            _COUNTER_OFFSET = None
    return _COUNTER_OFFSET


# ---------------------------------------------------------------------------------------
# native block counter (blockcount.c)
class _CounterState(ctypes.Structure):
    _fields_ = [("mem_read", ctypes.c_void_p), ("emu_stop", ctypes.c_void_p),
                ("executed", ctypes.c_uint64), ("budget", ctypes.c_uint64),
                ("budget_stop", ctypes.c_uint32), ("misses", ctypes.c_uint32),
                ("notify", ctypes.c_void_p), ("nsites", ctypes.c_uint32), ("pad", ctypes.c_uint32),
                ("sites", ctypes.c_uint64 * 1024), ("cache", ctypes.c_uint8 * (8 * 8192))]

_NOTIFY = ctypes.CFUNCTYPE(None, ctypes.c_uint64)


_NO_BUDGET = 1 << 62


class BlockCounter:
    """The native per-block instruction counter hooked into one unicorn engine."""

    def __init__(self, uc, lib):
        from unicorn.unicorn_py3.unicorn import uclib
        self.uc = uc
        self._uclib = uclib
        self.lib = lib
        st = self.state = _CounterState()
        st.mem_read = ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p)
        st.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p)
        st.budget = _NO_BUDGET
        lib.be_block_forget(ctypes.byref(st))
        self._fn = ctypes.cast(lib.be_block_hook, ctypes.c_void_p)
        self._handle = None
        self.hook()

    def hook(self):
        """(Re)register the hook at the end of the block-hook list: other block hooks (CPSIE
        sites) run before it, so a stop they request ends the burst before the block."""
        lib, uch = self._uclib, self.uc._uch
        if self._handle is not None:
            lib.uc_hook_del(uch, ctypes.c_size_t(self._handle))
        h = ctypes.c_size_t()
        err = lib.uc_hook_add(uch, ctypes.byref(h), ctypes.c_int(UC_HOOK_BLOCK), self._fn,
                              ctypes.c_void_p(ctypes.addressof(self.state)), ctypes.c_uint64(1), ctypes.c_uint64(0))
        if err:
            raise UcError(err)
        self._handle = h.value

    def forget(self):
        self.lib.be_block_forget(ctypes.byref(self.state))

    def watch(self, addrs, fn) -> bool:
        """Call ``fn(addr)`` before any block starting at one of ``addrs`` runs. False if
        there are too many sites."""
        addrs = sorted(set(addrs))
        if len(addrs) > len(self.state.sites):
            return False
        self._notify = _NOTIFY(fn)                  # keep the thunk alive
        self.state.notify = ctypes.cast(self._notify, ctypes.c_void_p)
        arr = (ctypes.c_uint64 * max(1, len(addrs)))(*addrs)
        self.lib.be_block_sites(ctypes.byref(self.state), arr, len(addrs))
        return True


def _native_wanted() -> bool:
    from . import native
    return native.enabled()


def _block_counter_status() -> str:
    from pathlib import Path

    from . import native
    return native.status(Path(__file__).with_name("blockcount.c"))


def _block_counter_lib():
    from pathlib import Path

    from . import native
    lib = native.load(Path(__file__).with_name("blockcount.c"))
    if lib is not None:
        lib.be_block_forget.argtypes = [ctypes.c_void_p]
        lib.be_block_forget.restype = None
        lib.be_block_sites.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]
        lib.be_block_sites.restype = ctypes.c_uint32
    return lib


# ---------------------------------------------------------------------------------------
# fast register access: the binding's reg_read/reg_write cost microseconds each; one batched
# C call moves a whole set of registers for about the price of one.
_VP, _INT = ctypes.c_void_p, ctypes.c_int
try:
    from unicorn.unicorn_py3.unicorn import uclib as _uclib
    _reg_read_batch = ctypes.CFUNCTYPE(_INT, _VP, _VP, _VP, _INT)(("uc_reg_read_batch", _uclib))
    _reg_write_batch = ctypes.CFUNCTYPE(_INT, _VP, _VP, _VP, _INT)(("uc_reg_write_batch", _uclib))
except (ImportError, AttributeError):      # pragma: no cover - other binding layouts
    _reg_read_batch = _reg_write_batch = None


class RegBatch:
    """A fixed list of registers read or written with one C call (values as uint32)."""
    __slots__ = ("_h", "_pp", "_ptrs", "_regs", "_rp", "ids", "n", "uc", "vals")

    def __init__(self, uc, regs):
        self.uc = uc
        self.ids = list(regs)
        n = self.n = len(regs)
        self._regs = (ctypes.c_int * n)(*regs)
        self.vals = (ctypes.c_uint64 * n)()
        self._ptrs = (ctypes.c_void_p * n)(*[ctypes.addressof(self.vals) + 8 * i for i in range(n)])
        self._h = _VP(uc._uch.value)
        self._rp = _VP(ctypes.addressof(self._regs))
        self._pp = _VP(ctypes.addressof(self._ptrs))

    def read(self):
        if _reg_read_batch is None:
            return [self.uc.reg_read(r) for r in self.ids]
        # 32-bit registers fill the low half of each slot; the high half is never written
        _reg_read_batch(self._h, self._rp, self._pp, self.n)
        return self.vals[:]

    def write(self, values):
        if _reg_write_batch is None:
            for r, v in zip(self.ids, values):
                self.uc.reg_write(r, v)
            return
        self.vals[:] = [v & 0xFFFFFFFF for v in values]
        _reg_write_batch(self._h, self._rp, self._pp, self.n)


# ---------------------------------------------------------------------------------------
@dataclass
class FaultReport:
    kind: str                  # "bus fault (read)", "undefined instruction", "lockup", ...
    pc: int
    regs: dict
    address: int | None = None
    symbol: str | None = None
    time_ns: int = 0
    detail: str = ""
    lockup: bool = False
    exception: int = 0         # IPSR when it happened

    def format(self) -> str:
        head = f"FAULT: {self.kind} at pc=0x{self.pc:08x}"
        if self.symbol:
            head += f" ({self.symbol})"
        if self.address is not None:
            head += f", address 0x{self.address:08x}"
        lines = [head]
        name = EXC_NAMES.get(self.exception, f"IRQ{self.exception - 16}")
        mode = "thread" if self.exception == 0 else f"handler {name}"
        lines.append(f"  board time {self.time_ns / 1e9:.6f} s, {mode} mode"
                     + (", core locked up" if self.lockup else ""))
        if self.detail:
            lines.append("  " + self.detail)
        names = [n for n in REG_NAMES if n in self.regs]
        for i in range(0, len(names), 4):
            lines.append("  " + "  ".join(f"{n:>4}=0x{self.regs[n]:08x}" for n in names[i:i + 4]))
        return "\n".join(lines)


class Halt(Exception):
    """Raised inside the run loop to stop the board (exit, lockup, breakpoint...)."""


@dataclass
class CoreState:
    pending: int = 0
    active: int = 0
    lines: int = 0
    event: bool = False
    sleeping: str | None = None   # None | "wfi" | "wfe"
    extra: dict = field(default_factory=dict)


class IrqLine:
    """A peripheral's interrupt output wired to one NVIC input (level-sensitive)."""
    __slots__ = ("bit", "cpu", "n")

    def __init__(self, cpu, n):
        self.cpu = cpu
        self.n = n
        self.bit = 1 << (16 + n)

    def set(self, level: bool):
        cpu = self.cpu
        if level:
            if not cpu.lines & self.bit:
                cpu.lines |= self.bit
                cpu.set_pending_bits(self.bit)
        else:
            cpu.lines &= ~self.bit

    def pulse(self):
        self.cpu.set_pending_bits(self.bit)

    @property
    def level(self):
        return bool(self.cpu.lines & self.bit)


class CortexM:
    SNAPSHOT_LIVE = ("symbols", "uc")

    def __init__(self, machine, model: str = "cortex-m3", num_irqs: int = 32, prio_bits: int = 3,
                 semihosting: bool = True):
        if model not in CPU_MODELS:
            raise ValueError(f"unknown CPU model {model!r} (known: {', '.join(CPU_MODELS)})")
        self.machine = machine
        self.model = model
        uc_model, self.cpuid, self.arch = CPU_MODELS[model]
        self.v6m = self.arch == 6
        self.num_irqs = num_irqs
        self.prio_bits = prio_bits
        self.prio_mask = (0xFF << (8 - prio_bits)) & 0xFF
        self.semihosting = semihosting
        self.clock = machine.clock
        self.events = machine.events

        uc = self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(uc_model)
        uc.hook_add(UC_HOOK_INTR, self._on_intr)
        self._inv_hooks = [uc.hook_add(UC_HOOK_MEM_INVALID, self._on_bad_access)]
        self.last_bad_access = None
        # unicorn 2.1.4 keeps every store to a page that is also mapped executable (or that a
        # memory hook covers) on QEMU's slow path (TLB_NOTDIRTY is never cleared): ~5x slower
        # stores. In virtual-TLB mode our fill hook maps RAM data pages read/write without
        # execute, so stores to them take the fast path; fetches still map pages executable.
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        uc.hook_add(UC_HOOK_TLB_FILL, self._tlb_fill)
        off = counter_offset()
        if off is not None:
            self._ctr = ctypes.c_uint64.from_address(uc._uch.value + off)
            self._cnt = ctypes.c_uint64.from_address(uc._uch.value + off + 8)
        else:
            self._ctr = self._cnt = None
        lib = _block_counter_lib()
        self.blocks = BlockCounter(uc, lib) if lib is not None else None
        if lib is None and _native_wanted():
            self.events.emit(ev.WARNING, message="native instruction counter unavailable "
                             f"({_block_counter_status()}): exact counting, about 3x slower")
        self._exact_mode = None         # which counting the translated code was made for
        self._breakpoints = 0           # debugger breakpoints set: count exactly while any

        self.nexc = 16 + num_irqs
        R = A
        self._rb_entry = RegBatch(uc, [R.UC_ARM_REG_XPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_SP,
                                       R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3,
                                       R.UC_ARM_REG_R12, R.UC_ARM_REG_LR])
        self._rb_masks = RegBatch(uc, [R.UC_ARM_REG_PRIMASK, R.UC_ARM_REG_FAULTMASK, R.UC_ARM_REG_BASEPRI])
        self._rb_ret = RegBatch(uc, [R.UC_ARM_REG_XPSR, R.UC_ARM_REG_MSP, R.UC_ARM_REG_PSP, R.UC_ARM_REG_CONTROL])
        self._wb_vec_msp = RegBatch(uc, [R.UC_ARM_REG_SP, R.UC_ARM_REG_LR, R.UC_ARM_REG_XPSR, R.UC_ARM_REG_PC])
        self._wb_vec_psp = RegBatch(uc, [R.UC_ARM_REG_SP, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_LR,
                                         R.UC_ARM_REG_XPSR, R.UC_ARM_REG_PC])
        self._wb_chain = RegBatch(uc, [R.UC_ARM_REG_LR, R.UC_ARM_REG_XPSR, R.UC_ARM_REG_PC])
        _frame_out = [R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3,
                      R.UC_ARM_REG_R12, R.UC_ARM_REG_LR, R.UC_ARM_REG_PC]
        self._wb_ret_thread_psp = RegBatch(uc, [R.UC_ARM_REG_XPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_SP] + _frame_out)
        self._wb_ret_thread_msp = RegBatch(uc, [R.UC_ARM_REG_XPSR, R.UC_ARM_REG_SP] + _frame_out)
        self._wb_ret_handler = RegBatch(uc, [R.UC_ARM_REG_SP, R.UC_ARM_REG_XPSR] + _frame_out)
        self._rb_pc = RegBatch(uc, [A.UC_ARM_REG_PC])
        self.ram = []            # [(base, end, ctypes buffer)] writable memory, set by the machine
        self.mem = []            # the same for all memory (reads)
        self.reset_state()
        self.burst_end = 0          # cycle at which the current burst ends (while running)
        self.in_burst = False
        self._stop_requested = False
        self.symbols = None
        self.on_sysresetreq = None  # set by the machine
        self.semihost_out = None    # callback(bytes)
        # ``bkpt #n`` traps for high-level emulation (e.g. boot ROM flash functions): n -> fn(pc).
        # The handler sets registers and the PC (usually pc + 2) itself.
        self.bkpt_handlers: dict = {}
        self._sev_hooks = []

    # -- code sites that need attention ----------------------------------------------------
    MAX_SITE_HOOKS = 512

    def instrument(self, segments):
        """Hook the few instructions whose effect unicorn hides from us, by address:
        SEV sets the event register; CPSIE i / MSR PRIMASK / MSR BASEPRI end the burst right
        after them when an interrupt is waiting, so it is taken at the next instruction.

        Cost: while bursts are counted, unicorn calls its per-instruction hook helper on every
        instruction, and that helper walks every UC_HOOK_CODE hook's bounds (each one-address
        code hook slows all code; 13 of them made MicroPython 2.5x slower). CPS and MSR always
        end QEMU's translation block, so the unmask sites use a block hook on the block that
        starts right after them instead: block hooks are only called for blocks starting in
        their bounds, and it runs after the CPSIE/MSR and before the next instruction."""
        sev, unmask = [], []
        for seg in segments:
            data, base = seg.data, seg.addr
            start = base & 1
            for off in range(start, len(data) - 1, 2):
                hw = data[off] | data[off + 1] << 8
                if hw == 0xBF40:
                    sev.append(base + off)
                elif hw == 0xB662:
                    unmask.append(base + off + 2)
                elif hw & 0xFFF0 == 0xF380 and off + 3 < len(data) and data[off + 3] == 0x88 \
                        and data[off + 2] in (0x10, 0x11, 0x12):
                    unmask.append(base + off + 4)
        if len(sev) + len(unmask) > self.MAX_SITE_HOOKS:
            self.events.emit(ev.WARNING, message=f"{len(sev) + len(unmask)} SEV/CPSIE sites: not instrumented")
            return
        for addr in sev:
            self.uc.hook_add(UC_HOOK_CODE, self._on_sev, None, addr, addr)
        if self.blocks is not None and self.blocks.watch(unmask, self._on_unmask_site):
            return                      # the native counter watches the unmask sites
        for addr in unmask:
            self.uc.hook_add(UC_HOOK_BLOCK, self._on_unmask, None, addr, addr)
        if self.blocks is not None and unmask:
            self.blocks.hook()          # keep the counter last in the block-hook list

    def _on_sev(self, uc, addr, size, _ud):
        self.event = True

    def _on_unmask_site(self, addr):
        try:
            self._on_unmask(None, addr, 0, None)
        except Exception as e:             # a ctypes callback must not raise
            self.events.emit(ev.WARNING, message=f"unmask site 0x{addr:08x}: {e}")

    def _on_unmask(self, uc, addr, size, _ud):
        # runs at the start of the block after the unmasking instruction, before its first
        # instruction: the clean stop lands there, if the waiting interrupt can now be taken
        # (stopping for one still masked would make no progress)
        if self.pending & self.enabled:
            best = self.best_pending()
            if best is not None and best[1] < self.exec_priority():
                self.request_stop()

    # -- state ---------------------------------------------------------------------------
    def reset_state(self):
        n = self.nexc
        self.prio = [0] * n
        self.prio[RESET], self.prio[NMI], self.prio[HARDFAULT] = -3, -2, -1
        self.pending = 0
        self.active = 0
        self.lines = 0
        # system exceptions that are always enabled
        self.enabled = (1 << NMI) | (1 << HARDFAULT) | (1 << SVCALL) | (1 << PENDSV) | (1 << SYSTICK)
        if not self.v6m:
            self.enabled |= 1 << DEBUGMON
        self.shcsr = 0
        self.vtor = 0
        self.prigroup = 0
        self.scr = 0
        self.event = False
        self.sleeping = None
        self.cfsr = 0
        self.hfsr = 0
        self.mmfar = 0
        self.bfar = 0
        self.last_fault: FaultReport | None = None
        self.lockup = False

    # -- interrupt lines & pending ----------------------------------------------------------
    def irq_line(self, n: int) -> IrqLine:
        if not 0 <= n < self.num_irqs:
            raise ValueError(f"IRQ {n} out of range (0..{self.num_irqs - 1})")
        return IrqLine(self, n)

    def set_pending_bits(self, bits: int):
        new = bits & ~self.pending
        self.pending |= bits
        if new:
            if self.scr & 0x10:           # SEVONPEND
                self.event = True
            if self.in_burst and (new & self.enabled):
                self.request_stop()

    def clear_pending_bits(self, bits: int):
        # a level-sensitive line that is still high stays pending
        self.pending &= ~(bits & ~self.lines)

    def request_stop(self):
        """End the current burst at the next instruction boundary.

        Lowering unicorn's instruction budget to what has run so far makes its count hook stop
        cleanly before the next instruction. (``emu_stop`` from inside an MMIO callback would
        leave PC on the access and replay it when resumed.)"""
        if self.in_burst and not self._stop_requested:
            self._stop_requested = True
            if not self._exact_mode:
                self.blocks.state.budget = 0
            elif self._cnt is not None:
                self._cnt.value = self._ctr.value
            else:
                self.uc.emu_stop()

    def on_schedule(self, when: int):
        if self.in_burst and when < self.burst_end:
            if not self._exact_mode:
                # block counting: shorten the burst to end at the new deadline
                st = self.blocks.state
                left = when - self.clock.cycles
                if left < st.budget:
                    st.budget = max(left, 0)
                self.burst_end = when
            else:
                self.request_stop()

    # -- debugger breakpoints -----------------------------------------------------------------
    def add_breakpoint(self, addr: int, fn):
        """Call ``fn(addr)`` just before the instruction at ``addr`` executes; if it returns
        true, the burst ends there (``stop_before_insn``). The code hook is restricted to that
        one address, so it costs nothing anywhere else. Returns a handle for
        ``remove_breakpoint``. (unicorn skips hooks on IT-block instructions whose condition
        fails, and cannot stop inside an IT block: gdb never places breakpoints there.)"""
        addr &= ~1

        def hook(uc, a, size, _ud):
            if fn(a):
                self.stop_before_insn()

        h = self.uc.hook_add(UC_HOOK_CODE, hook, None, addr, addr)
        self.uc.ctl_remove_cache(addr, addr + 4)    # code translated before the hook existed
        self._breakpoints += 1
        return h

    def remove_breakpoint(self, handle, addr: int):
        addr &= ~1
        self.uc.hook_del(handle)
        self.uc.ctl_remove_cache(addr, addr + 4)    # drop the hook call from translated code
        self._breakpoints = max(0, self._breakpoints - 1)

    def stop_before_insn(self):
        """From a code hook: end the burst BEFORE the hooked instruction. ``emu_stop`` there
        leaves PC on it, unexecuted; unicorn's count hook has already counted it, so the
        budget drops below the counter and ``run_burst`` does not count it either."""
        self._stop_requested = True
        if self._cnt is not None:
            self._cnt.value = self._ctr.value - 1
        self.uc.emu_stop()

    # -- priorities -------------------------------------------------------------------------
    def group_prio(self, exc: int) -> int:
        p = self.prio[exc]
        if p < 0 or self.v6m:
            return p
        # PRIGROUP: bits [prigroup:0] are subpriority
        return p & (~((2 << self.prigroup) - 1) & 0xFF)

    def exec_priority(self, active=None, primask=None) -> int:
        act = self.active if active is None else active
        p = THREAD_PRIO
        while act:
            low = act & -act
            exc = low.bit_length() - 1
            gp = self.group_prio(exc)
            p = min(p, gp)
            act ^= low
        pm, fm, bp = self._rb_masks.read()
        if primask is None:
            primask = pm & 1
        if primask and p > 0:
            p = 0
        if not self.v6m:
            if fm & 1 and p > -1:
                p = -1
            bp &= self.prio_mask
            if bp:
                gbp = bp & (~((2 << self.prigroup) - 1) & 0xFF)
                p = min(p, gbp)
        return p

    def best_pending(self):
        """Highest-priority pending and enabled exception: (exc, group priority) or None."""
        cand = self.pending & self.enabled
        if not cand:
            return None
        best = None
        bp = 0x200
        while cand:
            low = cand & -cand
            exc = low.bit_length() - 1
            cand ^= low
            p = self.prio[exc]
            if p < bp:
                best, bp = exc, p
        return best, self.group_prio(best)

    # -- registers ---------------------------------------------------------------------------
    def reg(self, r):
        return self.uc.reg_read(r)

    def regs(self) -> dict:
        uc = self.uc
        d = {name: uc.reg_read(r) for name, r in zip(REG_NAMES, _REG_ORDER)}
        d["msp"] = uc.reg_read(A.UC_ARM_REG_MSP)
        d["psp"] = uc.reg_read(A.UC_ARM_REG_PSP)
        d["primask"] = uc.reg_read(A.UC_ARM_REG_PRIMASK)
        d["control"] = uc.reg_read(A.UC_ARM_REG_CONTROL)
        if not self.v6m:
            d["basepri"] = uc.reg_read(A.UC_ARM_REG_BASEPRI)
            d["faultmask"] = uc.reg_read(A.UC_ARM_REG_FAULTMASK)
        return d

    @property
    def pc(self) -> int:
        return self._rb_pc.read()[0]

    def ipsr(self) -> int:
        return self.uc.reg_read(A.UC_ARM_REG_IPSR) & 0x1FF

    def read16(self, addr) -> int:
        return struct.unpack("<H", self.mem_read(addr, 2))[0]

    # -- reset ------------------------------------------------------------------------------
    def cpu_reset(self, vtor: int = 0):
        """Core reset: registers from the vector table at ``vtor``; NVIC state cleared."""
        self.reset_state()
        self.vtor = vtor
        uc = self.uc
        for r in _REG_ORDER[:13]:
            uc.reg_write(r, 0)
        uc.reg_write(A.UC_ARM_REG_XPSR, 0x01000000)     # thread mode, Thumb
        uc.reg_write(A.UC_ARM_REG_CONTROL, 0)
        uc.reg_write(A.UC_ARM_REG_PRIMASK, 0)
        if not self.v6m:
            uc.reg_write(A.UC_ARM_REG_BASEPRI, 0)
            uc.reg_write(A.UC_ARM_REG_FAULTMASK, 0)
        uc.reg_write(A.UC_ARM_REG_PSP, 0)
        uc.reg_write(A.UC_ARM_REG_LR, 0xFFFFFFFF)
        try:
            sp = self.read32(vtor)
            pc = self.read32(vtor + 4)
        except UcError:
            sp = pc = 0
        uc.reg_write(A.UC_ARM_REG_SP, sp & ~3)
        uc.reg_write(A.UC_ARM_REG_PC, pc | 1)
        self._reset_pc_thumb = pc & 1

    # -- exception entry/return ------------------------------------------------------------
    def _vector(self, exc) -> int:
        return self.read32(self.vtor + 4 * exc)

    @staticmethod
    def _find(regions, addr, size):
        for base, end, buf in regions:
            if base <= addr and addr + size <= end:
                return buf, addr - base
        return None, 0

    def mem_read(self, addr, size) -> bytes:
        """Read memory (exception frames, vectors): straight from RAM/flash buffers."""
        buf, off = self._find(self.mem, addr, size)
        if buf is not None:
            return ctypes.string_at(ctypes.addressof(buf) + off, size)
        return bytes(self.uc.mem_read(addr, size))

    def mem_write(self, addr, data):
        """Write exception frames straight into RAM (no code lives on stack pages)."""
        buf, off = self._find(self.ram, addr, len(data))
        if buf is not None:
            ctypes.memmove(ctypes.addressof(buf) + off, data, len(data))
        else:
            self.uc.mem_write(addr, data)

    def read32(self, addr) -> int:
        return struct.unpack("<I", self.mem_read(addr, 4))[0]

    def enter_exception(self, exc: int, return_addr: int):
        """Stack the context and vector to ``exc`` (the CPU's exception entry sequence)."""
        xpsr, control, sp, r0, r1, r2, r3, r12, lr = self._rb_entry.read()
        handler_mode = (xpsr & 0x1FF) != 0
        use_psp = (not handler_mode) and (control & 2)
        stacked_xpsr = (xpsr | 0x01000000) & ~0x200
        if sp & 4:
            sp -= 4
            stacked_xpsr |= 0x200
        sp = (sp - 32) & 0xFFFFFFFF
        frame = struct.pack("<8I", r0, r1, r2, r3, r12, lr, return_addr & ~1, stacked_xpsr)
        try:
            self.mem_write(sp, frame)
        except UcError:
            self._stacking_fault(exc, sp)
            return
        vec = self._activate(exc)
        if vec is None:
            return
        if use_psp:
            # SP (=PSP) first, then CONTROL.SPSEL=0 banks SP over to MSP, then handler state
            self._wb_vec_psp.write((sp, control & ~2, 0xFFFFFFFD, 0x01000000 | exc, vec | 1))
        else:
            self._wb_vec_msp.write((sp, 0xFFFFFFF1 if handler_mode else 0xFFFFFFF9, 0x01000000 | exc, vec | 1))

    def _activate(self, exc):
        """Mark ``exc`` active and return its handler address (None if the vector is bad)."""
        bit = 1 << exc
        self.active |= bit
        self.pending &= ~bit
        self.event = True
        self.sleeping = None
        try:
            vec = self._vector(exc)
        except UcError:
            vec = 0
        if not vec & 1:
            # vector without the Thumb bit: INVSTATE on the first instruction of the handler
            self.raise_fault("invalid vector (no Thumb bit) for exception %d: 0x%08x" % (exc, vec),
                             vec, usage=True)
            return None
        return vec

    def _vector_to(self, exc, exc_return):
        """Tail-chain: enter ``exc`` without stacking (the frame is already there)."""
        vec = self._activate(exc)
        if vec is not None:
            self._wb_chain.write((exc_return, 0x01000000 | exc, vec | 1))

    def _stacking_fault(self, exc, sp):
        self.report_fault("stacking fault", self.pc, address=sp, lockup=True,
                          detail=f"could not push the exception frame for exception {exc} at sp=0x{sp:08x}")

    def exception_return(self, exc_return: int):
        xpsr_now, msp, psp, control = self._rb_ret.read()
        exc = xpsr_now & 0x1FF
        bit = 1 << exc
        if not self.active & bit:
            self.raise_fault(f"exception return from inactive exception {exc}", exc_return, usage=True)
            return
        self.active &= ~bit
        if self.lines & bit:                # level-sensitive: re-pend while the line is high
            self.pending |= bit
        self.event = True
        kind = exc_return & 0xF
        if kind not in (1, 9, 0xD) or (exc_return | 0xFF) != 0xFFFFFFFF:
            self.raise_fault(f"invalid EXC_RETURN 0x{exc_return:08x}", exc_return, usage=True)
            return
        to_thread = kind != 1
        # tail-chaining: a pending exception that would preempt the context we return to
        if self.pending & self.enabled:
            best = self.best_pending()
            if best is not None and best[1] < self.exec_priority():
                self._vector_to(best[0], exc_return)
                return
        use_psp = kind == 0xD
        sp = psp if use_psp else msp
        try:
            r0, r1, r2, r3, r12, lr, pc, xpsr = struct.unpack("<8I", self.mem_read(sp, 32))
        except UcError:
            self.report_fault("unstacking fault", exc_return, address=sp, lockup=True)
            return
        sp += 32
        if xpsr & 0x200:
            sp += 4
        xpsr = (xpsr & ~0x200) | 0x01000000
        frame = (r0, r1, r2, r3, r12, lr, pc | 1)
        if to_thread:
            if use_psp:
                # IPSR=0 first (thread mode), then CONTROL.SPSEL=1 banks SP to PSP, then SP
                self._wb_ret_thread_psp.write((xpsr & ~0x1FF, control | 2, sp) + frame)
            else:
                self._wb_ret_thread_msp.write((xpsr & ~0x1FF, sp) + frame)
        else:
            self._wb_ret_handler.write((sp, xpsr) + frame)
        if to_thread and self.scr & 2 and not self.active:    # SLEEPONEXIT
            self.sleeping = "wfi"
            self.request_stop()

    # -- taking interrupts between bursts ---------------------------------------------------
    def take_pending(self) -> bool:
        """Enter the best pending exception if it preempts. Returns True if one was taken."""
        best = self.best_pending()
        if best is None:
            return False
        if best[1] < self.exec_priority():
            self.enter_exception(best[0], self.pc)
            return True
        return False

    def masked_pending(self) -> bool:
        """A pending enabled exception is held back only by PRIMASK/BASEPRI/FAULTMASK."""
        best = self.best_pending()
        if best is None:
            return False
        return best[1] < self.exec_priority(primask=0)

    def wake_pending(self) -> bool:
        """Whether a sleeping core wakes now (WFI: an exception that would preempt if
        PRIMASK were clear; WFE: also the event register)."""
        best = self.best_pending()
        if best is not None and best[1] < self.exec_priority(primask=0):
            return True
        if self.sleeping == "wfe" and self.event:
            self.event = False
            return True
        return False

    # -- faults -----------------------------------------------------------------------------
    def report_fault(self, kind, pc, address=None, lockup=False, detail=""):
        sym = self.symbols.format(pc) if self.symbols is not None and self.symbols.lookup(pc) else None
        rep = FaultReport(kind=kind, pc=pc, regs=self.regs(), address=address, symbol=sym,
                          time_ns=self.clock.now_ns(), detail=detail, lockup=lockup,
                          exception=self.ipsr())
        self.last_fault = rep
        self.events.emit(ev.FAULT, report=rep)
        if lockup:
            self.lockup = True
            raise Halt("lockup")
        return rep

    def raise_fault(self, kind, pc, address=None, usage=False, bus=False, detail=""):
        """A synchronous fault at ``pc``: report it, then escalate like the hardware does
        (configurable fault if enabled on ARMv7-M, else HardFault; lockup if the fault
        happens at priority -1 or above)."""
        exec_p = self.exec_priority()
        target = HARDFAULT
        if not self.v6m:
            if bus:
                self.cfsr |= 0x8200 if address is not None else 0x100   # PRECISERR|BFARVALID
                if address is not None:
                    self.bfar = address
                if self.shcsr & (1 << 17) and self.group_prio(BUSFAULT) < exec_p:
                    target = BUSFAULT
            elif usage:
                self.cfsr |= 1 << 16                                     # UNDEFINSTR
                if self.shcsr & (1 << 18) and self.group_prio(USAGEFAULT) < exec_p:
                    target = USAGEFAULT
            if target == HARDFAULT:
                self.hfsr |= 1 << 30                                     # FORCED
        if target == HARDFAULT and exec_p <= -1:
            self.report_fault(kind, pc, address, lockup=True,
                              detail=detail or "fault while the HardFault/NMI handler was running")
            return
        self.report_fault(kind, pc, address, detail=detail)
        self.enter_exception(target, pc)

    # -- the burst --------------------------------------------------------------------------
    def _on_intr(self, uc, intno, _ud):
        try:
            if intno == EXCP_EXCEPTION_EXIT:
                self.exception_return(self.pc | 1)
            elif intno == EXCP_SWI:
                pc = uc.reg_read(A.UC_ARM_REG_PC)
                if self.group_prio(SVCALL) < self.exec_priority():
                    self.enter_exception(SVCALL, pc)
                else:
                    self.raise_fault("SVC executed at a priority that cannot take SVCall", pc - 2)
            elif intno == EXCP_BKPT:
                pc = uc.reg_read(A.UC_ARM_REG_PC)
                op = self.read16(pc)
                hle = self.bkpt_handlers.get(op & 0xFF) if op >> 8 == 0xBE else None
                if hle is not None:
                    hle(pc)
                elif self.semihosting and op == 0xBEAB:
                    self.machine.semihost_call(pc)
                else:
                    self.report_fault("breakpoint instruction (no debugger attached)", pc)
                    self.machine.halt("bkpt", pc=pc)
            elif intno in (EXCP_UDEF, EXCP_NOCP, EXCP_INVSTATE, EXCP_UNALIGNED):
                pc = uc.reg_read(A.UC_ARM_REG_PC)
                what = {EXCP_UDEF: "undefined instruction", EXCP_NOCP: "coprocessor instruction",
                        EXCP_INVSTATE: "invalid state (branch to ARM state)",
                        EXCP_UNALIGNED: "unaligned access"}[intno]
                self.raise_fault(what, pc, usage=True)
            else:
                self.raise_fault(f"CPU exception {intno}", uc.reg_read(A.UC_ARM_REG_PC))
        except Halt:
            uc.emu_stop()
            self.machine._halt_pending = True

    def memory_mapped(self):
        """Called once the machine has mapped memory (``self.ram`` set): the fault hook is
        narrowed to addresses outside writable RAM (a memory hook over RAM would put its
        stores back on unicorn's slow path)."""
        uc = self.uc
        for h in self._inv_hooks:
            uc.hook_del(h)
        self._inv_hooks = []
        lo = 0
        for base, end in sorted((b, e) for b, e, _buf in self.ram):
            if base > lo:
                self._inv_hooks.append(uc.hook_add(UC_HOOK_MEM_INVALID, self._on_bad_access, None, lo, base - 1))
            lo = max(lo, end)
        if lo <= 0xFFFFFFFF:
            self._inv_hooks.append(uc.hook_add(UC_HOOK_MEM_INVALID, self._on_bad_access, None, lo, 0xFFFFFFFF))

    def _tlb_fill(self, uc, vaddr, access, entry, _ud):
        entry.paddr = vaddr
        if access != UC_MEM_FETCH:
            for base, end, _buf in self.ram:
                if base <= vaddr < end:
                    entry.perms = UC_PROT_READ | UC_PROT_WRITE
                    return True
        entry.perms = UC_PROT_ALL
        return True

    def _on_bad_access(self, uc, access, address, size, value, _ud):
        self.last_bad_access = address
        self.last_bad_store = (address, size, value) if access == UC_MEM_WRITE_PROT else None
        return False

    def run_burst(self, budget: int, exact: bool = False) -> int:
        """Execute about ``budget`` instructions (exactly ``budget`` at most with ``exact``;
        block counting may finish the block it is in). Returns how many ran."""
        exact = exact or self.blocks is None or self._breakpoints > 0
        if exact != self._exact_mode:
            # unicorn adds its per-instruction count hook without retranslating: drop the
            # translated code whenever the counting method changes
            self.uc.ctl_flush_tb()
            self._exact_mode = exact
        if not exact:
            return self._run_blocks(budget)
        uc = self.uc
        start = self.clock.cycles
        self.burst_end = start + budget
        self._stop_requested = False
        ctr = self._ctr
        if ctr is not None:
            self.clock.inflight = lambda: ctr.value
        self.in_burst = True
        err = None
        pc = self.pc
        try:
            uc.emu_start(pc | 1, 0xFFFFFFFF, count=budget)
        except UcError as e:
            err = e
        finally:
            self.in_burst = False
            self.clock.inflight = _zero
        if ctr is not None:
            n = ctr.value
            executed = n - 1 if n > self._cnt.value else n
        else:
            executed = budget
        if err is not None:
            self._burst_error(err)
        elif executed < budget:
            pc = self.pc
            if executed and self._insn_before(pc) == 0xBF30:    # WFI
                self.sleeping = "wfi"
        return executed

    def _run_blocks(self, budget: int) -> int:
        st = self.blocks.state
        st.executed = 0
        st.budget = budget
        st.budget_stop = 0
        self.burst_end = self.clock.cycles + budget
        self._stop_requested = False
        self.clock.inflight = self._inflight_blocks
        self.in_burst = True
        err = None
        try:
            self.uc.emu_start(self.pc | 1, 0xFFFFFFFF)
        except UcError as e:
            err = e
        finally:
            self.in_burst = False
            self.clock.inflight = _zero
        executed = st.executed
        st.budget = _NO_BUDGET
        if err is not None:
            self._burst_error(err)
        elif not st.budget_stop and executed:
            if self._insn_before(self.pc) == 0xBF30:            # WFI
                self.sleeping = "wfi"
        return executed

    def _inflight_blocks(self):
        return self.blocks.state.executed

    def _store_to_rom(self, pc) -> bool:
        """A store to read-only memory that the bus hands to a model (a flash controller
        programming flash, ``Bus.add_store_handler``): the model did it, so the store
        instruction (16-bit, or 32-bit Thumb-2) is skipped as completed. Multi-register stores
        (STM/PUSH) into such memory only get their first word through."""
        st = getattr(self, "last_bad_store", None)
        self.last_bad_store = None
        handler = getattr(self.machine.bus, "store_to_rom", None)
        if st is None or handler is None or not handler(*st):
            return False
        hw = self.read16(pc)
        self.uc.reg_write(A.UC_ARM_REG_PC, (pc + (4 if hw >> 11 in (0x1D, 0x1E, 0x1F) else 2)) | 1)
        return True

    def _insn_before(self, pc):
        try:
            return self.read16(pc - 2)
        except UcError:
            return None

    def _burst_error(self, e: UcError):
        uc = self.uc
        pc = uc.reg_read(A.UC_ARM_REG_PC)
        code = e.errno
        if code == UC_ERR_INSN_INVALID:
            if self._insn_before(pc) == 0xBF20:                  # WFE
                if self.event:
                    self.event = False
                else:
                    self.sleeping = "wfe"
                return
            self.raise_fault("undefined instruction", pc, usage=True)
        elif code in (UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_READ_PROT, UC_ERR_WRITE_PROT):
            if code == UC_ERR_WRITE_PROT and self._store_to_rom(pc):
                return
            addr = self.last_bad_access
            what = "read" if code in (UC_ERR_READ_UNMAPPED, UC_ERR_READ_PROT) else "write"
            why = "unmapped" if code in (UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED) else "read-only"
            self.raise_fault(f"bus fault: {what} of {why} memory", pc, address=addr, bus=True)
        elif code in (UC_ERR_FETCH_UNMAPPED, UC_ERR_FETCH_PROT):
            self.raise_fault("bus fault: instruction fetch from unmapped memory", pc, address=pc, bus=True)
        else:
            self.raise_fault(f"CPU error: {e}", pc)


def _zero():
    return 0
