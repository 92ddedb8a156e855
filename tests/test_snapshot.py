"""Machine snapshots: save the board state, run on, restore, and get the same board again.

A restore must give back registers, memory, every model and board time, so that what runs after
it is exactly what ran after the snapshot; host-side things (event subscribers, output already
produced for the host) are left alone.
"""
from pathlib import Path

import pytest

from boardemu.emulator import events as ev
from boardemu.emulator.board import load_board
from boardemu.emulator.machine import Machine, firmware_build_dir
from boardemu.firmware import cached_image

from conftest import firmware, raw_exec, raw_repl_enter

MICROBIT_HEX = Path("/usr/share/firmware-microbit-micropython/firmware.hex")


def _finish(m):
    reason = m.run(for_s=20)
    return reason, m.exit_status, m.console.read(), m.clock.cycles


@pytest.mark.parametrize("prog", ["wfi_timer", "pendsv_switch", "systick"])
def test_restored_run_repeats_the_original_exactly(prog):
    m = Machine("mps2-an385", firmware("mps2", prog))
    m.run(max_instructions=3000)                          # part way: timers and interrupts in flight
    m.console.read()
    snap = m.snapshot()
    regs = m.cpu.regs()
    first = _finish(m)
    assert first[0] == "exit" and first[1] == 0 and b"PASS" in first[2]
    for _ in range(2):                                    # a snapshot can be restored again and again
        m.restore(snap)
        assert m.clock.cycles == snap.cycles and m.halted is None
        assert m.cpu.regs() == regs
        assert _finish(m) == first


def test_memory_time_and_host_side():
    m = Machine("mps2-an385", firmware("mps2", "wfi_timer"))
    m.run(for_s=0.001)
    ram = m.bus.region_at(0x20000000)
    before = m.bus.read(ram.base, 256)
    t0 = m.time_ns
    snap = m.snapshot()
    seen = []
    m.events.subscribe(ev.RESET, lambda e: seen.append("reset"))
    m.events.subscribe("restore", lambda e: seen.append((e.time_ns, e.data["from_ns"])))
    m.bus.write(ram.base, b"\xAA" * 256)
    m.run(for_s=0.003)
    t1 = m.time_ns
    m.restore(snap)
    assert m.bus.read(ram.base, 256) == before            # memory is back
    assert m.time_ns == t0 and t1 > t0                    # and board time
    assert seen == [(t0, t1)]                             # subscribers made after it still listen


def test_output_already_produced_for_the_host_is_kept():
    m = Machine("mps2-an385", firmware("mps2", "wfi_timer"))
    snap = m.snapshot()
    m.run(for_s=20)
    out = m.console.read()
    assert b"PASS" in out
    m.run(for_s=0)                                        # nothing new
    m.restore(snap)
    assert m.console.read() == b""                        # not replayed, not lost: read once


@pytest.mark.skipif(not MICROBIT_HEX.exists(), reason="firmware-microbit-micropython not installed")
def test_microbit_variables_display_and_buttons_roll_back():
    m = Machine("microbit", MICROBIT_HEX)
    m.run_until_output(">>> ", 5)
    raw_repl_enter(m)
    assert raw_exec(m, "x = 1\nprint(x)").strip() == "1"
    snap = m.snapshot()
    raw_exec(m, "x = 2\ndisplay.show(Image.HEART)")
    m.part("button_a").press()
    m.run(for_s=0.1)
    assert "".join(m.part("display").image()).strip("0")          # the heart is lit
    m.restore(snap)
    assert "".join(m.part("display").image()) == "0" * 25
    assert raw_exec(m, "print(x, button_a.is_pressed())").strip() == "1 False"


BOARD = load_board("pico")
PICO_IMAGE = cached_image(BOARD)
PICO_ROM = firmware_build_dir() / BOARD.get("chip.bootrom")


@pytest.mark.skipif(PICO_IMAGE is None or not PICO_ROM.exists(),
                    reason="official RPI_PICO v1.22 image not cached (boardemu firmware get pico)")
def test_pico_filesystem_and_usb_console_after_restore():
    m = Machine("pico", PICO_IMAGE)
    host = m.peripherals["usbctrl"].host
    m.run(for_s=2, until=lambda: host.configured)
    m.console.send(b"\r\n")
    m.run_until_output(">>> ", 5)
    raw_repl_enter(m)
    assert raw_exec(m, "import os\nx = 7\nprint(os.listdir())").strip() == "[]"
    snap = m.snapshot()
    raw_exec(m, "open('late.txt', 'w').write('x')\nx = 8")
    m.run(for_s=0.2)
    m.restore(snap)
    # the USB host, the device's endpoints, the divider and the flash all went back together
    assert raw_exec(m, "print(x, os.listdir(), 1000003 // 7, -7 // 2)").strip() == "7 [] 142857 -4"
    assert raw_exec(m, "import time\nt = time.ticks_ms()\ntime.sleep_ms(300)\n"
                       "print(time.ticks_diff(time.ticks_ms(), t) >= 300)").strip() == "True"
