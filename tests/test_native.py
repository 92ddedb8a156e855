"""The native (C) hot paths: the block-granular instruction counter and the RP2040 SIO page.

Each is checked against the pure-Python path it replaces (``BOARDEMU_NATIVE=0``): the same
programs give the same results, time stays deterministic, and exact single steps still exist.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from boardemu.emulator import native
from boardemu.emulator.machine import Machine

from conftest import firmware

ROOT = Path(__file__).resolve().parents[1]
BLOCKCOUNT = ROOT / "emulator" / "blockcount.c"
SIO_FAST = ROOT / "peripherals" / "rp2040" / "sio_fast.c"
pytestmark = pytest.mark.skipif(native.compiler() is None, reason="no C compiler on this machine")


@pytest.fixture
def no_native(monkeypatch):
    """Machines built inside the test use the pure-Python paths."""
    monkeypatch.setenv("BOARDEMU_NATIVE", "0")
    monkeypatch.setattr(native, "_loaded", {})
    yield
    native._loaded.clear()


def test_native_helpers_build_and_load():
    for src in (BLOCKCOUNT, SIO_FAST):
        assert native.load(src) is not None, native.status(src)
        assert native.status(src) == "native"
    m = Machine("mps2-an385", firmware("mps2", "hello"))
    assert m.cpu.blocks is not None


def test_build_command_lists_every_helper():
    r = subprocess.run([sys.executable, "-m", "boardemu.emulator.native"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "blockcount.c: ok" in r.stdout and "sio_fast.c: ok" in r.stdout


def test_broken_source_is_a_clean_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("BOARDEMU_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "bad.c"
    bad.write_text("this is not C;\n")
    assert native.load(bad) is None
    assert "failed on bad.c" in native.status(bad)


def _run_program(name):
    m = Machine("mps2-an385", firmware("mps2", name))
    reason = m.run(for_s=20)
    verdicts = b"\n".join(ln for ln in m.console.read().splitlines() if not ln.startswith(b"INFO"))
    return reason, m.exit_status, verdicts, m.instructions, m.cpu.blocks is not None


@pytest.mark.parametrize("name", ["systick", "tailchain", "wfi_timer", "pendsv_switch", "primask"])
def test_block_counting_passes_the_exception_model_programs_like_exact_counting(name, no_native):
    exact = _run_program(name)
    native._loaded.clear()
    os.environ["BOARDEMU_NATIVE"] = "1"
    fast = _run_program(name)
    assert not exact[4] and fast[4]                      # really the two different paths
    assert exact[:3] == fast[:3]                         # same exit, status and verdicts
    assert b"PASS" in fast[2] and b"FAIL" not in fast[2]
    # a stop requested mid-block (an interrupt pended by a store) lands at the block's end, so
    # code may run a few instructions longer before the handler: totals agree to a few percent
    assert abs(fast[3] - exact[3]) <= max(64, exact[3] // 20), (fast[3], exact[3])


def test_block_counting_is_deterministic():
    runs = [_run_program("systick") for _ in range(2)]
    assert runs[0] == runs[1]


def test_single_steps_are_exact_with_block_counting():
    m = Machine("mps2-an385", firmware("mps2", "bench_cpu"))
    assert m.cpu.blocks is not None
    m.run(for_s=0.0001)                                  # some block-counted bursts first
    c0, pcs = m.clock.cycles, []
    for _ in range(40):
        assert m.step(1) == 1
        pcs.append(m.cpu.pc)
    assert m.clock.cycles - c0 == 40
    assert len(set(pcs)) > 3                             # it moved, one instruction at a time
    m.run(for_s=0.0001)                                  # and back to block counting
    assert m.clock.cycles > c0 + 40


def _pico(rom_prog):
    rom = ROOT / "firmware" / "build" / "rp2040" / "bootrom.bin"
    if not rom.exists():
        pytest.skip("firmware not built (make firmware)")
    return Machine("pico", firmware("rp2040", rom_prog), bootrom=str(rom))


def test_sio_fast_path_is_mapped_and_shares_state_with_the_model():
    m = _pico("hello")
    sio = m.rp_sio
    assert sio.native_mmio() is not None
    # divider through the bus (the C callbacks), state read back through the Python model
    base = 0xd0000000
    m.bus.write(base + 0x068, (-7 & 0xFFFFFFFF).to_bytes(4, "little"))     # SDIVIDEND
    m.bus.write(base + 0x06c, (2).to_bytes(4, "little"))                    # SDIVISOR
    assert sio.dividend == (-7 & 0xFFFFFFFF) and sio.divisor == 2
    assert m.bus.read32(base + 0x078) == 3                                 # READY | DIRTY
    assert m.bus.read32(base + 0x070) == (-3 & 0xFFFFFFFF)                 # quotient -3
    assert m.bus.read32(base + 0x074) == (-1 & 0xFFFFFFFF)                 # remainder -1
    assert m.bus.read32(base + 0x078) == 1                                 # DIRTY cleared
    # spinlock 5: claim, claim again fails, SPINLOCK_ST, release
    assert m.bus.read32(base + 0x114) == 1 << 5
    assert m.bus.read32(base + 0x114) == 0
    assert sio.locks == 1 << 5 and m.bus.read32(base + 0x05c) == 1 << 5
    m.bus.write(base + 0x114, b"\0\0\0\0")
    assert sio.locks == 0
    # a register the C side does not handle goes to the model (GPIO_OUT_SET / GPIO_OUT)
    m.bus.write(base + 0x014, (1 << 25).to_bytes(4, "little"))
    assert sio.out == 1 << 25 and m.bus.read32(base + 0x010) == 1 << 25
    # unsigned division by zero: quotient all ones, remainder the dividend
    m.bus.write(base + 0x060, (1234).to_bytes(4, "little"))
    m.bus.write(base + 0x064, (0).to_bytes(4, "little"))
    assert m.bus.read32(base + 0x070) == 0xFFFFFFFF and m.bus.read32(base + 0x074) == 1234


def test_sio_python_path_matches(no_native):
    m = _pico("hello")
    assert m.rp_sio.native_mmio() is None
    base = 0xd0000000
    m.bus.write(base + 0x068, (-7 & 0xFFFFFFFF).to_bytes(4, "little"))
    m.bus.write(base + 0x06c, (2).to_bytes(4, "little"))
    assert m.bus.read32(base + 0x070) == (-3 & 0xFFFFFFFF)
    assert m.bus.read32(base + 0x074) == (-1 & 0xFFFFFFFF)
    assert m.bus.read32(base + 0x114) == 1 << 5 and m.bus.read32(base + 0x114) == 0
