"""The Cortex-M core on the reference board (mps2-an385), with the project's own test programs.

Each program checks one part of the exception model on the emulated CPU, prints PASS/FAIL lines
over the CMSDK UART and exits through semihosting with its status.
"""
import pytest

from boardemu.emulator import events as ev
from boardemu.emulator.machine import Machine

from conftest import firmware, run_cli

BOARD = "mps2-an385"
CHECK_PROGRAMS = ["exc_priority", "tailchain", "pendsv_switch", "systick", "primask", "wfi_timer",
                  "sysreset", "hardfault"]


def boot(name, **kw):
    return Machine(BOARD, firmware("mps2", name), **kw)


@pytest.mark.parametrize("name", CHECK_PROGRAMS)
def test_exception_model_program_passes(name):
    m = boot(name)
    reason = m.run(for_s=20)
    out = m.console.read().decode(errors="replace")
    assert reason == "exit", f"{name}: stopped by {reason}\n{out}"
    assert "FAIL" not in out, out
    assert "PASS" in out, out
    assert m.exit_status == 0, out


def test_sysreset_resets_the_chip_and_keeps_ram():
    m = boot("sysreset")
    resets = []
    m.events.subscribe(ev.RESET, lambda e: resets.append(e.cause))
    assert m.run(for_s=5) == "exit"
    out = m.console.read().decode()
    assert "REBOOTING" in out and m.exit_status == 0
    assert resets == ["sysresetreq"]


def test_hardfault_is_reported_with_symbol_then_handled():
    m = boot("hardfault")
    faults = []
    m.events.subscribe(ev.FAULT, lambda e: faults.append(e.report))
    assert m.run(for_s=5) == "exit"
    assert m.exit_status == 0
    assert len(faults) == 1
    rep = faults[0]
    assert rep.address == 0x60000000
    assert "bus fault" in rep.kind
    assert rep.symbol is not None          # the ELF's symbols name where it happened
    text = rep.format()
    assert f"pc=0x{rep.pc:08x}" in text and "r0=" in text and "sp=" in text


def test_lockup_halts_with_a_readable_report():
    r = run_cli("run", "--board", BOARD, firmware("mps2", "lockup"), "--timeout", "5s")
    assert r.returncode == 125
    err = r.stderr.decode()
    assert "BEFORE" in r.stdout.decode()
    assert "FAULT:" in err and "locked up" in err and "pc=0x" in err
    assert "Traceback" not in err


def test_wfi_idle_skips_time():
    m = boot("wfi_timer")
    assert m.run(for_s=5) == "exit"
    # the program slept ~10 ms of board time in WFI: far fewer instructions than cycles
    assert m.clock.cycles >= 0.010 * m.clock.hz
    assert m.instructions < m.clock.cycles / 4


def test_cli_prints_console_and_returns_firmware_status():
    r = run_cli("run", "--board", BOARD, firmware("mps2", "hello"))
    assert r.returncode == 0, r.stderr
    assert b"Hello from mps2-an385" in r.stdout
    r = run_cli("run", "--board", BOARD, firmware("mps2", "exit3"))
    assert r.returncode == 3


def test_cli_trace_prints_events():
    r = run_cli("run", "--board", BOARD, firmware("mps2", "sysreset"), "--trace")
    assert r.returncode == 0
    assert "reset: cause=sysresetreq" in r.stderr.decode()


def test_same_image_same_run():
    """Determinism: two runs give the same event stream with the same board timestamps."""
    def record():
        m = boot("systick")
        log = []
        m.events.subscribe(None, lambda e: log.append((e.time_ns, e.kind, repr(sorted(e.data.items())))))
        m.run(for_s=5)
        return log, m.clock.cycles, m.instructions
    a, b = record(), record()
    assert a == b
    assert len(a[0]) > 10


def test_step_executes_single_instructions():
    m = boot("hello")
    pc0 = m.regs()["pc"]
    assert m.step(1) == 1
    assert m.instructions == 0 or m.clock.cycles == 1
    assert m.regs()["pc"] != pc0
    m.step(10)
    assert m.clock.cycles == 11


def test_run_until_time_and_condition():
    m = boot("wfi_timer")
    assert m.run(for_s=0.001) == "time"
    assert m.clock.cycles == int(0.001 * m.clock.hz)
    m2 = boot("hello")
    out = m2.run_until_output("Hello", timeout_s=1)
    assert b"Hello" in out


def test_pacing_holds_board_time_to_wall_time():
    import time
    m = boot("bench_idle", pace=True)       # 10 s of timer-driven idling
    t0 = time.perf_counter()
    assert m.run(for_s=0.2) == "time"
    assert time.perf_counter() - t0 >= 0.18
    assert abs(m.time_s - 0.2) < 1e-6


def test_reset_from_api():
    m = boot("hello")
    m.run(for_s=1)
    assert m.halted == "exit"
    m.reset("api")
    assert m.halted is None
    assert m.run(for_s=1) == "exit"
    assert m.console.read().count(b"Hello from mps2-an385") == 2
