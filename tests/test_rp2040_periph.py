"""The emulated RP2040 peripheral blocks, exercised by the project's own bare-metal programs
(firmware/rp2040/tests/periph_*.c, built by `make firmware`) on the pico board.

Each program prints one named `PASS`/`FAIL` line per behaviour (with got/want on failure) and
exits by semihosting with 0 only when every check passed. The tests here run them, report the
failing checks by name, and read back from the Python side what the program left behind
(pins, reset events and their board times, board time skipped while sleeping).

No test depends on exact instruction counts: board-time checks allow a few microseconds.
"""
from __future__ import annotations

import re

from boardemu.emulator import events as ev
from boardemu.emulator.machine import Machine

from conftest import firmware

HZ = 125_000_000


class Run:
    """One program on a fresh pico board; every event (except console bytes) recorded."""

    def __init__(self, name: str, host_cfg: tuple[int, ...] | None = None):
        self.m = m = Machine("pico", firmware("rp2040", name))
        self.events: list = []
        self.out = ""
        m.events.subscribe(None, self._on_event)
        if host_cfg is not None:                 # the program's .noinit host_cfg, before it runs
            addr = m.symbol("host_cfg")
            assert addr is not None, f"{name} has no host_cfg"
            m.write_memory(addr, b"".join(v.to_bytes(4, "little") for v in host_cfg))

    def _on_event(self, e):
        if e.kind != ev.CONSOLE:
            self.events.append(e)

    def run(self, for_s: float, **kw):
        reason = self.m.run(for_s=for_s, **kw)
        self.out += self.m.semihost.read().decode(errors="replace")
        return reason

    def lines(self, kind: str) -> list[str]:
        return [ln[len(kind) + 1:] for ln in self.out.splitlines() if ln.startswith(kind + " ")]

    def info(self, name: str) -> int:
        for ln in self.lines("INFO"):
            if ln.startswith(name + " "):
                v = ln[len(name) + 1:]
                return int(v, 16) if v.startswith("0x") else int(v)
        raise AssertionError(f"no INFO {name!r} in the output")

    def assert_passed(self, *required: str, min_checks: int = 1):
        """Exit 0, no FAIL line, a DONE line, and the named checks among the PASS lines."""
        m = self.m
        fails = self.lines("FAIL")
        assert not fails, "failing checks:\n  " + "\n  ".join(fails) + f"\n--- output ---\n{self.out}"
        assert m.fault is None, f"fault: {m.fault}"
        assert m.halted == "exit" and m.exit_status == 0, f"halted {m.halted!r} status {m.exit_status}\n{self.out}"
        done = re.search(r"DONE (\d+) passed, 0 failed", self.out)
        assert done, self.out
        passed = set(self.lines("PASS"))
        assert int(done.group(1)) >= len(passed) >= min_checks, self.out
        missing = [r for r in required if r not in passed]
        assert not missing, f"checks not run: {missing}\n{self.out}"


# ---- TIMER -------------------------------------------------------------------------------------
def test_timer():
    r = Run("periph_timer")
    r.run(for_s=6000)          # the past-alarm check sleeps 2^32 us (71.6 min) of board time
    r.assert_passed(
        "timer rate 1 MHz at clk_sys 125 MHz (+-1%)",
        "TIMEHR latched by the TIMELR read (not the live high word)",
        "alarms fire in time order (1, 3, 2, 0), one IRQ each",
        "writing 1 to INTR bit 0 clears only bit 0",
        "forced IRQ taken once",
        "alarm 50 ms ahead fires on time while sleeping in WFI",
        "3 s alarm fires on time after a second jump",
        "past alarm fires when the low word comes round",
        "... 2^32 us later (high word + 1)",
        "paused counter does not move",
        "counter restarts from 0 after a block reset",
        min_checks=60)
    m = r.m
    # the past alarm really waited for the 32-bit wrap: 2^32 us of board time went by ...
    assert 4294.97 < m.time_s < 4300, m.time_s
    # ... while the core slept: far fewer instructions than cycles (idle time is skipped)
    assert m.instructions < m.time_s * HZ / 10_000, (m.instructions, m.time_s)
    assert r.info("TIMERAWL just after the block reset") < 100
    assert 247_500 < r.info("systick cycles per 2000 us") < 252_500


# ---- WATCHDOG ----------------------------------------------------------------------------------
def test_watchdog_timeout_and_trigger():
    r = Run("periph_watchdog")
    console = []
    r.m.events.subscribe(ev.CONSOLE, console.append)
    r.run(for_s=1)
    r.assert_passed(
        "CTRL.TIME counts down twice per us",
        "clearing ENABLE freezes CTRL.TIME",
        "reloading LOAD (kicking) keeps the watchdog from expiring",
        "REASON = TIMER after a timeout reset",
        "SCRATCH0-7 kept across the timeout reset",
        "TIMER restarted from 0 by the chip reset",
        "REASON = FORCE after CTRL.TRIGGER",
        "SCRATCH0-7 kept across the forced reset",
        "three boots",
        min_checks=20)
    assert 1990 <= r.info("watchdog ticks in 1000 us") <= 2010
    assert r.out.count("periph_watchdog boot") == 3
    resets = [e for e in r.events if e.kind == ev.RESET]
    assert [e.data["cause"] for e in resets] == ["watchdog-timer", "watchdog-force"]
    # the timeout reset did not come early (LOAD / 2 us = 5000 us after arming; its exact
    # timing: test_watchdog_timeout_timing), the forced one at once
    armed_ns = _time_of_output(console, "WATCHDOG TIMEOUT ARMED")
    assert resets[0].time_ns - armed_ns >= 4_990_000
    trig_ns = _time_of_output(console, "WATCHDOG TRIGGER")
    assert 0 <= resets[1].time_ns - trig_ns < 20_000
    # the board keeps what survives a watchdog reset; a power-on (API) reset clears it, and the
    # program then passes again from its first stage
    wd = r.m.peripherals["watchdog"]
    assert wd.reason == 2
    r.m.reset()
    assert wd.reason == 0 and wd.scratch == [0] * 8
    r.out = ""
    r.run(for_s=1)
    r.assert_passed("REASON 0 after power-on", "SCRATCH0-7 read 0 after power-on", "three boots")


def _time_of_output(console_events, text: str) -> int:
    seen = ""
    for e in console_events:
        seen += _event_text(e)
        if text in seen:
            return e.time_ns
    raise AssertionError(f"{text!r} never printed")


def _event_text(e) -> str:
    d = e.data.get("data", b"")
    return d.decode(errors="replace") if isinstance(d, (bytes, bytearray)) else str(d)


def test_watchdog_timeout_timing():
    """The timeout reset comes LOAD / 2 us after the program enabled the watchdog."""
    r = Run("periph_watchdog")
    console = []
    r.m.events.subscribe(ev.CONSOLE, console.append)
    r.run(for_s=1)
    resets = [e for e in r.events if e.kind == ev.RESET]
    armed_ns = _time_of_output(console, "WATCHDOG TIMEOUT ARMED")
    delay_us = (resets[0].time_ns - armed_ns) / 1000
    assert 4990 <= delay_us <= 5010, delay_us


def test_watchdog_timeout_while_sleeping():
    """The same program waiting for the timeout in WFI: board time skips to the expiry and the
    watchdog must still reset the chip then."""
    r = Run("periph_watchdog", host_cfg=(0x4057C0DE, 1))
    r.run(for_s=1)
    resets = [e for e in r.events if e.kind == ev.RESET]
    assert resets and resets[0].data["cause"] == "watchdog-timer", (r.m.halted, r.out[-300:])
    assert resets[0].time_ns < 50_000_000, resets[0].time_ns
    r.assert_passed("REASON = TIMER after a timeout reset", "REASON = FORCE after CTRL.TRIGGER")


# ---- SIO, IO_BANK0, PADS_BANK0 -----------------------------------------------------------------
HOST_MAGIC = 0x4057C0DE


def test_sio_gpio_divider_spinlocks():
    r = Run("periph_sio", host_cfg=(HOST_MAGIC, 0))
    m = r.m
    gp6 = []
    m.events.subscribe(ev.PIN, lambda e: gp6.append((e.data["level"], e.data["driver"]))
                       if e.data["id"] == "GPIO6" else None)
    m.pin("GP10").drive(1)             # the program checks it sees these over its own pulls
    m.pin("GP11").drive(0)
    r.run(for_s=1)
    r.assert_passed(
        "CPUID = 0 on core 0",
        "GPIO_OUT_XOR toggles bits",
        "GPIO_IN reflects the driven outputs",
        "pull-up: undriven pin reads 1",
        "input disabled (IE 0): reads 0",
        "pad OD: pin undriven, pull-down wins",
        "INOVER invert: pin 1 reads 0",
        "host drives GP10 high (over pull-down), GP11 low (over pull-up)",
        "chip output 0 wins over the host's drive",
        "rising edge on GP5 raises IO_IRQ_BANK0",
        "unsigned divide = libgcc on every operand pair",
        "signed divide = libgcc (truncating, remainder sign of dividend)",
        "divide by zero: quotient -1 / +1 / 0xffffffff, remainder = dividend",
        "reading QUOTIENT clears DIRTY; READY",
        "restored quotient (-1000 / 33 = -30)",
        "second claim of lock 5 returns 0",
        "reading an empty FIFO sets ROE",
        min_checks=75)
    assert r.info("divider operand pairs") > 9000
    # what the program left on the pins, seen from the board side
    assert m.pin("GP25").level == 1 and m.pin("LED").level == 1
    assert m.pin("GP3").level == 0 and m.pin("GP3").chip_oe
    assert m.pin("GP4").level == 1 and not m.pin("GP4").chip_oe           # pulled up, undriven
    assert m.pin("GP10").level == 1 and not m.pin("GP10").chip_oe         # the host's drive again
    assert gp6 == [(1, "chip"), (0, "chip"), (1, "chip"), (0, "chip"), (1, "chip")], gp6
    assert m.part("led").lit
    # the host drives GP4 low now: the program has finished, but the chip's input sees it
    m.pin("GP4").drive(0)
    assert m.peripherals["io_bank0"].levels >> 4 & 1 == 0


def test_sio_fifo_error_raises_irq():
    r = Run("periph_sio")
    r.run(for_s=1)
    assert r.info("FIFO ROE pends SIO_IRQ_PROC0") == 1


# ---- RESETS, PSM, aliases, narrow stores, CLOCKS/XOSC/PLL, RTC -------------------------------
def test_system_blocks_and_rtc():
    r = Run("periph_blocks")
    r.run(for_s=30)
    r.assert_passed(
        "RESET_DONE = ~RESET at boot",
        "RESET_DONE clear when held again",
        "PADS_BANK0 reset restores pad 7 (0x56)",
        "core 1 forced off: DONE bit clear",
        "WATCHDOG SCRATCH0: XOR alias",
        "PADS_BANK0 GPIO8: CLR/SET/XOR aliases",
        "byte store replicated to all 4 lanes",
        "half-word store replicated to both halves",
        "byte store through the SET alias sets the replicated bits",
        "XOSC STABLE after enable",
        "PLL_SYS LOCK (12 MHz x 125 / 6 / 2)",
        "clk_sys SELECTED follows SRC = aux (PLL_SYS)",
        "FC0 clk_sys = 125000 kHz",
        "FC0 clk_rtc = 46.875 kHz (48 MHz / 1024)",
        "FC0_STATUS DONE and PASS for every source (bit = FC0_SRC)",
        "PLL_USB loses LOCK when its VCO is powered down",
        "leap day 2024-02-29",
        "alarm 3 s after the load (+-1 ms, while sleeping)",
        "2023-02-28 + 1 s = 2023-03-01",
        "RTC_1 holds the date latched by the RTC_0 read",
        "stopped RTC keeps its time",
        min_checks=60)
    m = r.m
    # about 7.5 s of RTC waits, spent asleep
    assert 7.4 < m.time_s < 7.7, m.time_s
    assert m.instructions < 5_000_000, m.instructions
    assert 2_999_000 <= r.info("us from load to RTC alarm") <= 3_001_000
    # state left behind, read from the models
    assert m.peripherals["pll_sys"].read_cs() >> 31 == 1
    assert m.peripherals["clocks"].plain[0x3C] & 1 == 1            # clk_sys on its aux source
    assert not m.peripherals["rtc"].read_ctrl() & 2                # RTC stopped
    assert m.peripherals["resets"].read_reset_done() & (1 << 15)   # RTC out of reset
