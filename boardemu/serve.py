"""``boardemu serve``: run a board headless and expose its console as host links (pty, RFC 2217,
raw TCP socket) for mpremote, pyserial and terminal programs; also the link options of
``boardemu run``.

The board runs in its own thread (``Machine.run()``); the links run their own I/O threads
(boardemu/links.py). Ctrl-C or SIGTERM stops serving cleanly (exit status 0).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import threading

EXIT_USAGE = 2
EXIT_FAULT = 125


def _address(text: str):
    from boardemu.links import parse_address
    try:
        return parse_address(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_link_arguments(p: argparse.ArgumentParser) -> None:
    """--pty, --pty-link, --rfc2217, --socket (shared by 'run' and 'serve')."""
    g = p.add_argument_group("host links (where mpremote/pyserial connect)")
    g.add_argument("--pty", action="store_true",
                   help="expose the console as a pseudo-terminal (/dev/pts/N)")
    g.add_argument("--pty-link", metavar="PATH", default=None,
                   help="also make PATH a symlink to that pseudo-terminal (implies --pty; removed on exit)")
    g.add_argument("--rfc2217", metavar="[HOST:]PORT", type=_address, action="append", default=[],
                   help="serve the console over RFC 2217 (telnet serial control) on HOST:PORT "
                        "(host default 127.0.0.1; port 0 picks one); repeatable")
    g.add_argument("--socket", metavar="[HOST:]PORT", type=_address, action="append", default=[],
                   help="serve the console as raw bytes over TCP on HOST:PORT; repeatable")


def wants_links(args) -> bool:
    return bool(getattr(args, "pty", False) or getattr(args, "pty_link", None)
                or getattr(args, "rfc2217", None) or getattr(args, "socket", None))


def open_links(machine, args, log=None) -> list:
    """Start the links named by the link options on the board console. Raises LinkError (all
    links already started are closed again)."""
    from boardemu.links import PtyLink, TcpLink
    links = []
    try:
        if args.pty or args.pty_link:
            links.append(PtyLink(machine.console, symlink=args.pty_link, log=log).start())
        for host, port in args.rfc2217:
            links.append(TcpLink(machine.console, host, port, rfc2217=True, log=log).start())
        for host, port in args.socket:
            links.append(TcpLink(machine.console, host, port, log=log).start())
    except BaseException:
        close_links(links)
        raise
    return links


def close_links(links) -> None:
    for link in reversed(links):
        try:
            link.close()
        except Exception as e:  # noqa: BLE001 -- closing must go on for the others
            print(f"boardemu: closing {link.describe()}: {e}", file=sys.stderr)


def add_serve_parser(sub) -> argparse.ArgumentParser:
    from boardemu.links import POLICY
    s = sub.add_parser(
        "serve", help="run a board headless; its console on a pty / RFC 2217 / TCP socket",
        description=textwrap.fill(
            "Boot a board with FIRMWARE (default: the board's default firmware) without a terminal "
            "and expose its console as host links. Prints one line per link saying where to connect "
            "(e.g. 'mpremote connect socket://127.0.0.1:4001'), then serves until Ctrl-C or SIGTERM. "
            "Several links may be open at once: all receive the board's output, input from any goes "
            "to the board. Without a link option: --pty.", 95),
        epilog=POLICY + "\n\n" + textwrap.fill(
            "Exit status: 0 when stopped by Ctrl-C/SIGTERM; 2 bad input; if the board stops by "
            "itself: the firmware's exit status, or 125 (fault, lockup, halt).", 95),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("firmware", nargs="?", help="firmware image (default: the board's default firmware)")
    s.add_argument("--board", "-b", default=None, help="board name or board .toml file (see 'boardemu boards')")
    s.add_argument("--gdb", metavar="[HOST:]PORT", type=_address, default=None,
                   help="GDB remote server on HOST:PORT (host default 127.0.0.1). The board waits halted "
                        "until the debugger continues it (like QEMU -s -S); console links keep working")
    s.add_argument("--pace", action="store_true", help="hold board time to wall-clock time")
    s.add_argument("--quantum", type=int, default=None, help="instructions per CPU burst (default 200000)")
    s.add_argument("--base", type=lambda v: int(v, 0), default=None, help="load address for a raw .bin image")
    s.add_argument("--bootrom", default=None, help="boot ROM image to use instead of the project's own (RP2040)")
    add_link_arguments(s)
    from boardemu.fs_cli import add_fs_arguments  # board filesystem and flash file
    add_fs_arguments(s)
    return s


def _err(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"boardemu: {msg}", file=sys.stderr)
    return code


def _build_machine(args):
    """(machine, firmware path) or (None, exit status) after printing the problem."""
    from boardemu.boards.schema import BoardError
    from boardemu.emulator.board import load_board
    from boardemu.emulator.loaders import ImageError, load_image
    from boardemu.emulator.machine import Machine, MachineError

    try:
        board = load_board(args.board or "microbit")
    except BoardError as e:
        return None, _err(str(e))
    from boardemu.firmware import default_image
    if args.firmware:
        fw = args.firmware
    else:                       # as 'boardemu run': a Debian package's image or the firmware cache
        path, hint = default_image(board)
        if path is None:
            return None, _err(f"board {board.name}: {hint}")
        if not path.exists():
            return None, _err(f"default firmware {path} for board {board.name} is missing{hint}")
        fw = str(path)
    try:
        img = load_image(fw, family=board.get("chip.uf2_family"),
                         base=args.base if args.base is not None else board.get("firmware.bin_base"))
        kw = {"quantum": args.quantum} if args.quantum else {}
        if getattr(args, "bootrom", None):
            kw["bootrom"] = args.bootrom
        m = Machine(board, img, pace=args.pace, flash=getattr(args, "flash", None), **kw)
    except (ImageError, MachineError, BoardError) as e:
        return None, _err(str(e))
    from boardemu.fs_cli import setup_fs
    problem = setup_fs(m, args)           # --fs / --fs-image into flash, .mpy check
    if problem:
        return None, _err(problem)
    return m, fw


def board_stop_status(m, reason) -> int:
    """Exit status when the board stopped by itself (same meaning as 'boardemu run')."""
    if m.fault is not None and reason in ("fault", "halt"):
        print("\n" + m.fault.format(), file=sys.stderr)
    if reason == "exit":
        print(f"boardemu: the firmware exited with status {m.exit_status or 0}", file=sys.stderr)
        return m.exit_status or 0
    if reason == "deadlock":
        return _err("the CPU is asleep with nothing scheduled to wake it (deadlock); stopping", EXIT_FAULT)
    if reason == "fault":
        return _err("the board faulted (lockup); stopping", EXIT_FAULT)
    return _err(f"board stopped: {m.halted or reason}", EXIT_FAULT)


def cmd_serve(args) -> int:
    from boardemu.links import LinkError

    gdb_addr = getattr(args, "gdb", None)
    if not wants_links(args) and gdb_addr is None:
        args.pty = True
    m, fw = _build_machine(args)
    if m is None:
        return fw
    try:
        links = open_links(m, args)
    except LinkError as e:
        return _err(str(e))
    gdb = None
    if gdb_addr is not None:
        from boardemu.emulator.gdbstub import GdbServer
        try:
            gdb = GdbServer(m, host=gdb_addr[0], port=gdb_addr[1]).start()
        except OSError as e:
            close_links(links)
            return _err(f"cannot listen for GDB on {gdb_addr[0]}:{gdb_addr[1]}: {e.strerror}")

    stop = threading.Event()
    outcome: dict = {}

    def board():
        try:
            outcome["reason"] = m.run()
        except BaseException as e:  # noqa: BLE001 -- re-raised in the main thread
            outcome["error"] = e
        finally:
            stop.set()

    def on_signal(signum, frame):
        outcome.setdefault("signal", signum)
        stop.set()

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=board, name="boardemu-machine", daemon=True)
    try:
        for link in links:
            print(link.hint, flush=True)
        if gdb is not None:
            print(f"gdb-multiarch -ex 'target remote {gdb.host}:{gdb.port}'", flush=True)
        print(f"boardemu: {m.board.name} running {os.path.basename(str(fw))}, serving "
              f"{len(links)} link{'s' if len(links) != 1 else ''}"
              + (" and GDB (board halted until the debugger continues)" if gdb else "")
              + " — Ctrl-C stops", file=sys.stderr, flush=True)
        if gdb is None:
            thread.start()
        while not stop.wait(0.5):
            pass
    finally:
        m.pause()
        if gdb is not None:
            gdb.close()
        close_links(links)          # also frees a board waiting for a slow client
        if thread.is_alive():
            thread.join(10)
        for sig, handler in old.items():
            signal.signal(sig, handler)
        from boardemu.fs_cli import finish_fs
        fs_ok = finish_fs(m, args)        # --dump-fs, save the --flash file
    if not fs_ok:
        return EXIT_USAGE
    if "signal" in outcome:
        print("boardemu: stopped", file=sys.stderr)
        return 0
    if "error" in outcome:
        raise outcome["error"]
    return board_stop_status(m, outcome.get("reason"))
