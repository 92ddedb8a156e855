"""boardemu command line: run firmware on an emulated board, list boards.

Exit status of ``boardemu run``: the firmware's own status when it exits (semihosting), 0 when
a time limit ends a run that did not fail, 2 for bad input (file, board, options), 124 when the
board-time timeout expires with --expect unmet, 125 when the board faults (lockup) or deadlocks.
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_USAGE = 2
EXIT_TIMEOUT = 124
EXIT_FAULT = 125
EXIT_INTERNAL = 70


def _err(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"boardemu: {msg}", file=sys.stderr)
    return code


def _parse_time(s: str) -> float:
    """'10', '10s', '250ms', '5us' -> seconds."""
    s = s.strip().lower()
    for suffix, mult in (("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("m", 60.0)):
        if s.endswith(suffix):
            return float(s[: -len(suffix)]) * mult
    return float(s)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="boardemu",
        description="Run MicroPython boards and bare-metal firmware on an emulated Cortex-M board.",
        epilog="Run 'boardemu COMMAND --help' for the options of a command.")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    r = sub.add_parser("run", help="run firmware on a board, console on this terminal",
                       description="Boot a board with FIRMWARE (ELF, UF2, Intel HEX or raw BIN) and connect "
                                   "its console to this terminal. Without arguments: the BBC micro:bit "
                                   "with MicroPython from Debian's firmware-microbit-micropython.",
                       epilog="Exit status: the firmware's status if it exits (semihosting); 0 if the time "
                              "limit ends the run; 2 bad input; 124 --expect not met in time; "
                              "125 fault/lockup or deadlock.")
    r.add_argument("firmware", nargs="?", help="firmware image (default: the board's default firmware)")
    r.add_argument("--board", "-b", default=None, help="board name or board .toml file (see 'boardemu boards')")
    r.add_argument("--timeout", "-t", type=_parse_time, default=None,
                   help="stop after this much board time (e.g. 10s, 250ms)")
    r.add_argument("--expect", default=None, help="stop with status 0 once this text appears on the console")
    r.add_argument("--trace", action="store_true", help="print board events (pins, resets, faults, warnings) to stderr")
    r.add_argument("--pace", action="store_true", help="hold board time to wall-clock time (for watching LEDs)")
    r.add_argument("--quantum", type=int, default=None, help="instructions per CPU burst (default 200000)")
    r.add_argument("--base", type=lambda s: int(s, 0), default=None, help="load address for a raw .bin image")
    r.add_argument("--bootrom", default=None, help="boot ROM image to use instead of the project's own (RP2040)")
    r.add_argument("--no-input", action="store_true", help="do not forward this terminal's input to the board")
    from boardemu.serve import add_link_arguments, add_serve_parser  # host links (boardemu/links.py)
    add_link_arguments(r)
    from boardemu.fs_cli import add_fs_arguments, add_fs_parser  # board filesystems (emulator/fsimage/)
    add_fs_arguments(r)
    add_serve_parser(sub)
    from boardemu.scenarios.cli import add_scenario_parser  # scenario runner (scenarios/)
    add_scenario_parser(sub)
    add_fs_parser(sub)
    from boardemu.tui import add_tui_parser  # full-screen terminal UI (boardemu/tui.py)
    add_tui_parser(sub)

    from boardemu.firmware import add_firmware_parser  # official images (boardemu/firmware.py)
    add_firmware_parser(sub)

    sub.add_parser("boards", help="list the boards boardemu knows",
                   description="List board definitions shipped in boards/.")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd is None:
        # 'boardemu' alone: same as 'boardemu run' (the default board)
        args = parser.parse_args(["run", *(argv or [])])
    try:
        if args.cmd == "boards":
            return cmd_boards(args)
        if args.cmd == "run":
            return cmd_run(args)
        if args.cmd == "serve":
            from boardemu.serve import cmd_serve
            return cmd_serve(args)
        if args.cmd == "firmware":
            from boardemu.firmware import cmd_firmware
            return cmd_firmware(args)
        if args.cmd == "scenario":
            from boardemu.scenarios.cli import cmd_scenario
            return cmd_scenario(args)
        if args.cmd == "tui":
            from boardemu.tui import cmd_tui
            return cmd_tui(args)
        if args.cmd == "fs":
            from boardemu.fs_cli import cmd_fs
            return cmd_fs(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:          # never a traceback for users; BOARDEMU_DEBUG=1 shows it
        if os.environ.get("BOARDEMU_DEBUG"):
            raise
        return _err(f"internal error: {type(e).__name__}: {e} (BOARDEMU_DEBUG=1 shows details)", EXIT_INTERNAL)
    parser.print_help()
    return EXIT_USAGE


def cmd_boards(args) -> int:
    from boardemu.boards.schema import BoardError
    from boardemu.emulator.board import board_names, load_board
    for name in board_names():
        try:
            b = load_board(name)
            print(f"{name:<16} {b.chip['cpu']:<11} {b.chip['clock_hz'] / 1e6:>6.1f} MHz  {b.description}")
        except BoardError as e:
            print(f"{name:<16} (invalid: {e})")
    return 0


def cmd_run(args) -> int:
    from boardemu.boards.schema import BoardError
    from boardemu.emulator import events as ev
    from boardemu.emulator.board import load_board
    from boardemu.emulator.loaders import ImageError, load_image
    from boardemu.emulator.machine import Machine, MachineError

    board_name = args.board or "microbit"
    try:
        board = load_board(board_name)
    except BoardError as e:
        return _err(str(e))
    from boardemu.firmware import default_image
    if args.firmware:
        fw = args.firmware
    else:
        path, hint = default_image(board)
        if path is None:
            return _err(f"board {board.name}: {hint}")
        if not path.exists():
            return _err(f"default firmware {path} for board {board.name} is missing{hint}")
        fw = str(path)
    try:
        img = load_image(fw, family=board.get("chip.uf2_family"),
                         base=args.base if args.base is not None else board.get("firmware.bin_base"))
        kw = {}
        if args.quantum:
            kw["quantum"] = args.quantum
        if args.bootrom:
            kw["bootrom"] = args.bootrom
        m = Machine(board, img, pace=args.pace, flash=args.flash, **kw)
    except (ImageError, MachineError, BoardError) as e:
        return _err(str(e))
    from boardemu.fs_cli import finish_fs, setup_fs
    problem = setup_fs(m, args)           # --fs / --fs-image into flash, .mpy check
    if problem:
        return _err(problem)

    out = sys.stdout.buffer

    def write_out(data: bytes):
        out.write(data)
        out.flush()

    for ch in {m.console, m.semihost}:
        ch.subscribe(write_out)
    if args.trace:
        def trace(e):
            if e.kind in (ev.UART_TX, ev.CONSOLE):
                return
            detail = ", ".join(f"{k}={v}" for k, v in e.data.items() if k != "report")
            print(f"[{e.time_ns / 1e9:12.6f}] {e.kind}: {detail}", file=sys.stderr)
        m.events.subscribe(None, trace)

    from boardemu.serve import close_links, open_links, wants_links
    links = []
    if wants_links(args):
        from boardemu.links import LinkError
        try:
            links = open_links(m, args)
        except LinkError as e:
            return _err(str(e))
        for link in links:
            print(f"boardemu: {link.hint}", file=sys.stderr)

    interactive = sys.stdin.isatty() and not args.no_input and args.expect is None
    term = None
    if interactive:
        from boardemu.terminal import RawTerminal
        term = RawTerminal(m)
        term.start()
        print(f"boardemu: {board.name} running {os.path.basename(fw)} — press Ctrl-] to quit",
              file=sys.stderr)

    def on_usb(e):
        # a USB serial console shows nothing until it is opened: like a terminal program
        # does, ask the REPL for a fresh prompt once the host has configured the device
        if e.data.get("what") == "configured" and (interactive or args.expect):
            m.console.send(b"\r\n")
    m.events.subscribe("usb", on_usb)

    expect = args.expect.encode() if args.expect else None
    seen = bytearray()
    if expect:
        m.console.subscribe(seen.extend)
    try:
        reason = m.run(for_s=args.timeout, until=(lambda: expect in seen) if expect else None)
    finally:
        if term:
            term.stop()
        close_links(links)
        fs_ok = finish_fs(m, args)        # --dump-fs, save the --flash file
    if m.fault is not None and reason in ("fault", "halt"):
        print("\n" + m.fault.format(), file=sys.stderr)
    if not fs_ok:
        return EXIT_USAGE
    if reason == "condition":
        return 0
    if reason == "exit":
        return m.exit_status or 0
    if reason == "fault":
        if m.fault is None:
            print("boardemu: the core locked up", file=sys.stderr)
        return EXIT_FAULT
    if reason == "deadlock":
        return _err("the CPU is asleep with nothing scheduled to wake it (deadlock); stopping", EXIT_FAULT)
    if reason == "halt":
        return _err(f"board halted: {m.halted}", EXIT_FAULT)
    if reason == "time" and expect:
        return _err(f"{args.expect!r} did not appear within {args.timeout} s of board time", EXIT_TIMEOUT)
    if reason == "paused":
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
