"""``boardemu fs``: build, list, print and extract board filesystem images; and the filesystem
options of ``boardemu run`` / ``boardemu serve`` (--fs, --fs-image, --flash, --dump-fs, --mpy).

Images are bare filesystem images (exactly the board's filesystem region, as ``fs build``
writes them) or, with ``--flash FILE``, whole-flash images of a board (as ``run --flash`` keeps
them; the region is found from the board definition). Errors: one line on stderr, exit 2.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from datetime import datetime
from pathlib import Path

EXIT_USAGE = 2


def _err(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"boardemu: {msg}", file=sys.stderr)
    return code


# -- parser -----------------------------------------------------------------------------------------
def add_fs_parser(sub) -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "fs", help="build, list, print and extract board filesystem images (LittleFS, micro:bit)",
        description=textwrap.fill(
            "Board filesystem images with exactly the geometry the board's firmware uses (from the "
            "[filesystem] table of the board definition): LittleFS for MicroPython boards such as the "
            "Pico, the micro:bit's own chunked file system for the micro:bit. IMAGE is a bare filesystem "
            "image (the filesystem region only, as 'fs build' writes it); with --flash FILE, a whole-flash "
            "image of the board (as 'boardemu run --flash FILE' keeps it).", 95),
        epilog="Examples:\n"
               "  boardemu fs build src/ -o fs.img --board pico --mpy\n"
               "  boardemu fs ls fs.img --board pico\n"
               "  boardemu fs cat --flash pico.flash --board pico /data/log.txt\n"
               "  boardemu fs extract fs.img -o out/ --board pico\n\n"
               "Exit status: 0 on success, 2 on bad input (missing file, corrupt or foreign image, files that\n"
               "do not fit, names too long).", formatter_class=fmt)
    fsub = p.add_subparsers(dest="fs_cmd", metavar="SUBCOMMAND")

    b = fsub.add_parser(
        "build", help="build a filesystem image from a directory",
        description=textwrap.fill(
            "Build a bare filesystem image of SRC_DIR's files for BOARD: directories, binary files and "
            "modification times are kept. With --mpy, .py files are compiled with mpy-cross into .mpy files "
            "of the version the firmware imports (the root boot.py and main.py stay source). The image is "
            "exactly the board's filesystem region; files that do not fit and names over the firmware's "
            "limit are errors.", 95))
    b.add_argument("src", metavar="SRC_DIR", help="directory whose contents become the filesystem root")
    b.add_argument("-o", "--output", metavar="IMAGE", required=True, help="image file to write")
    _board_args(b, required=True)
    b.add_argument("--mpy", action="store_true", help="compile .py files to .mpy with mpy-cross")

    for name, hlp, desc in (
            ("ls", "list the files of an image",
             "List the files under PATH (default /) of a bare image or of the filesystem in a whole-flash "
             "image: size, modification time (when the format keeps one) and path; directories end in '/'."),
            ("cat", "print a file of an image to stdout", "Write the bytes of file PATH to stdout."),
            ("extract", "copy files out of an image into a directory",
             "Copy PATH (a file or a directory, default /: everything) into DIR, keeping the tree and the "
             "modification times.")):
        s = fsub.add_parser(name, help=hlp, description=textwrap.fill(desc, 95),
                            usage=f"boardemu fs {name} [-h] [--board B] "
                                  f"{{IMAGE | --flash FILE}} {'PATH' if name == 'cat' else '[PATH]'}"
                                  f"{' [-o DIR]' if name == 'extract' else ''}")
        s.add_argument("items", nargs="*", metavar="IMAGE [PATH]",
                       help="bare filesystem image (omit it with --flash), then the path in the filesystem")
        s.add_argument("--flash", metavar="FILE", default=None,
                       help="read the filesystem out of this whole-flash image of the board (needs --board)")
        _board_args(s, required=False)
        if name == "extract":
            s.add_argument("-o", "--output", metavar="DIR", default=".", help="directory to write to (default .)")
        if name == "ls":
            s.add_argument("-R", "--recursive", action="store_true", default=True, help=argparse.SUPPRESS)
    return p


def _board_args(p, required: bool):
    p.add_argument("--board", "-b", default=None, required=required,
                   help="board name or .toml file (without it, a LittleFS image's own geometry is used)"
                   if not required else "board name or .toml file whose filesystem to build")
    p.add_argument("--firmware", metavar="FW", default=None,
                   help="firmware image that places the filesystem (micro:bit: the region starts after the "
                        "firmware; default: the board's default firmware)")


def add_fs_arguments(p: argparse.ArgumentParser) -> None:
    """--flash, --fs, --fs-image, --mpy, --dump-fs (shared by 'run' and 'serve')."""
    g = p.add_argument_group("board filesystem and flash (see 'boardemu fs --help')")
    g.add_argument("--flash", metavar="FILE", default=None,
                   help="keep the whole flash in FILE across runs: created erased on first use, loaded before "
                        "the firmware is written on top, saved when the run ends")
    x = g.add_mutually_exclusive_group()
    x.add_argument("--fs", metavar="SRC_DIR", default=None,
                   help="build the board filesystem from SRC_DIR's files and put it in flash before boot")
    x.add_argument("--fs-image", metavar="IMAGE", default=None,
                   help="put this filesystem image ('boardemu fs build') in flash before boot")
    g.add_argument("--mpy", action="store_true", help="with --fs: compile .py files to .mpy with mpy-cross")
    g.add_argument("--dump-fs", metavar="DIR", default=None,
                   help="when the run ends, copy the board's files into DIR")


# -- boardemu fs ------------------------------------------------------------------------------------
def cmd_fs(args) -> int:
    from boardemu.emulator.fsimage import FsError
    if args.fs_cmd is None:
        return _err("fs: give a subcommand: build, ls, cat or extract (see 'boardemu fs --help')")
    try:
        if args.fs_cmd == "build":
            return _build(args)
        return _inspect(args)
    except FsError as e:
        return _err(str(e))
    except BrokenPipeError:
        return 0


def _load_board(name):
    from boardemu.boards.schema import BoardError
    from boardemu.emulator.board import load_board
    from boardemu.emulator.fsimage import FsError
    try:
        return load_board(name)
    except BoardError as e:
        raise FsError(str(e)) from None


def _firmware_image(board, path, needed: bool):
    """The firmware Image that places the region (micro:bit): --firmware, else the board's default."""
    from boardemu.emulator.fsimage import FsError
    from boardemu.emulator.loaders import ImageError, load_image
    fw = path or board.get("firmware.default")
    if not fw or (not path and not Path(fw).exists()):
        return None
    try:
        return load_image(str(fw), family=board.get("chip.uf2_family"), base=board.get("firmware.bin_base"))
    except ImageError as e:
        if needed or path:
            raise FsError(str(e)) from None
        return None


def _build(args) -> int:
    from boardemu.emulator import fsimage
    from boardemu.emulator.flashstore import write_atomic
    board = _load_board(args.board)
    lay0 = fsimage.layout(board)
    image = _firmware_image(board, args.firmware, needed=True) if lay0.type == "microbitfs" else None
    lay = fsimage.layout(board, image) if image is not None else lay0
    data = fsimage.build(lay, args.src, mpy=args.mpy,
                         log=lambda m: print(f"boardemu: {m}", file=sys.stderr))
    out = Path(args.output)
    try:
        write_atomic(out, data)
    except OSError as e:
        raise fsimage.FsError(f"{out}: cannot write: {e.strerror}") from None
    fs = fsimage.open_image(lay, data, str(out))
    n = sum(1 for e in fs.entries() if not e.is_dir)
    print(f"boardemu: wrote {out}: {n} file{'s' if n != 1 else ''}, {lay.describe()}", file=sys.stderr)
    return 0


def _read(path: str, what: str) -> bytes:
    from boardemu.emulator.fsimage import FsError
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise FsError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise FsError(f"{path}: is a directory, not a {what}") from None
    except OSError as e:
        raise FsError(f"{path}: cannot read: {e.strerror}") from None


def open_any(image: str | None, flash: str | None, board_name: str | None, firmware: str | None = None):
    """Open a bare image or the filesystem of a whole-flash image (validated): a Filesystem."""
    from boardemu.emulator import fsimage
    from boardemu.emulator.fsimage import FsError
    if flash is not None:
        if board_name is None:
            raise FsError("--flash: give the board with --board (the filesystem region comes from its definition)")
        board = _load_board(board_name)
        data = _read(flash, "flash image")
        lay0 = fsimage.layout(board, None, data)
        img = _firmware_image(board, firmware, needed=True) if lay0.type == "microbitfs" else None
        lay = fsimage.layout(board, img, data) if img is not None else lay0
        region = fsimage.region_of_flash(lay, data, flash)
        if fsimage.is_erased(region) and lay.type == "littlefs2":
            raise FsError(f"{flash}: the filesystem region is erased: no filesystem yet (the firmware formats it "
                          f"at first boot)")
        return fsimage.open_image(lay, region, f"{flash} (filesystem region)")
    data = _read(image, "filesystem image")
    if board_name is None:
        return fsimage.open_image(_layout_from_superblock(data, image), data, image)
    board = _load_board(board_name)
    lay = fsimage.layout(board)
    if len(data) == lay.flash_size and len(data) != lay.size:
        return open_any(None, image, board_name, firmware)      # a whole-flash image given as IMAGE
    return fsimage.open_image(lay, data, image)


def _layout_from_superblock(data: bytes, name: str):
    """A read-only layout for a LittleFS image of unknown board: its own superblock's geometry."""
    from boardemu.emulator.fsimage import FsError, Layout, is_erased
    from boardemu.emulator.fsimage.littlefs import check_layout, superblock
    sb = None if is_erased(data) else superblock(data)
    if sb is None:
        raise FsError(f"{name}: not a LittleFS image (no littlefs superblock); for another board's filesystem "
                      f"give --board (e.g. --board microbit)")
    bs = sb.block_size
    lay = Layout(board="(from the image)", board_path=name, type="littlefs2", flash_base=0, flash_size=len(data),
                 offset=0, size=len(data), block_size=bs, read_size=16 if bs % 16 == 0 else bs,
                 prog_size=16 if bs % 16 == 0 else bs, cache_size=bs, lookahead_size=32,
                 name_max=max(1, min(sb.name_max, 1022)), disk_version=max(sb.version, 0x00020000))
    try:
        check_layout(lay)
    except FsError:
        raise FsError(f"{name}: LittleFS superblock with an unusable geometry ({sb.block_count} blocks of {bs} "
                      f"bytes)") from None
    if sb.block_count * bs != len(data):
        raise FsError(f"{name}: {len(data)} bytes, but its LittleFS superblock says {sb.block_count} blocks of "
                      f"{bs} bytes")
    return lay


def _inspect(args) -> int:
    from boardemu.emulator import fsimage
    from boardemu.emulator.fsimage import FsError
    items = list(args.items)
    cmd = args.fs_cmd
    if args.flash is None:
        if not items:
            raise FsError(f"fs {cmd}: give an IMAGE (or --flash FILE)")
        image = items.pop(0)
    else:
        image = None
    if len(items) > 1:
        raise FsError(f"fs {cmd}: too many arguments: {' '.join(items)}")
    path = items[0] if items else None
    if cmd == "cat" and path is None:
        raise FsError("fs cat: give the PATH of the file to print")
    fs = open_any(image, args.flash, args.board, args.firmware)
    path = fsimage.norm(path or "/")
    if cmd == "cat":
        try:
            data = fs.read(path)
        except FileNotFoundError:
            raise FsError(f"{path}: no such file in the image") from None
        except IsADirectoryError:
            raise FsError(f"{path}: is a directory") from None
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    if cmd == "extract":
        written = fsimage.extract(fs, args.output, path)
        print(f"boardemu: extracted {len(written)} file{'s' if len(written) != 1 else ''} to {args.output}",
              file=sys.stderr)
        return 0
    try:
        entries = fs.entries(path, recursive=True)
    except FileNotFoundError:
        raise FsError(f"{path}: no such file or directory in the image") from None
    for e in entries:
        size = "-" if e.is_dir else str(e.size)
        when = datetime.fromtimestamp(e.mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S") if e.mtime_ns else ""
        print(f"{size:>10}  {when:<19}  {e.path}{'/' if e.is_dir else ''}")
    return 0


# -- run / serve ------------------------------------------------------------------------------------
def check_fs_arguments(args) -> str | None:
    """Problems with the filesystem options alone (before anything is built)."""
    if getattr(args, "mpy", False) and not getattr(args, "fs", None):
        return "--mpy needs --fs SRC_DIR (it compiles the .py files of SRC_DIR)"
    return None


def setup_fs(m, args) -> str | None:
    """Before boot: put --fs / --fs-image in the board's flash, then check the .mpy files of its
    filesystem (warnings on stderr). Returns an error message, or None."""
    from boardemu.emulator import fsimage
    from boardemu.emulator.flashstore import filesystem_of, fs_layout
    from boardemu.emulator.fsimage import FsError
    problem = check_fs_arguments(args)
    if problem:
        return problem
    src, image, dump = getattr(args, "fs", None), getattr(args, "fs_image", None), getattr(args, "dump_fs", None)
    wants = src or image or dump
    try:
        if not wants and not m.board.get("filesystem"):
            return None
        if not m.board.get("filesystem"):
            opt = "--fs" if src else "--fs-image" if image else "--dump-fs"
            return f"{opt}: board {m.board.name} has no filesystem in its definition"
        lay = fs_layout(m)
        if src:
            m.write_filesystem(fsimage.build(lay, src, mpy=getattr(args, "mpy", False)))
        elif image:
            from boardemu.emulator.flashstore import write_filesystem
            write_filesystem(m, _read(image, "filesystem image"), image)
        if lay.type == "littlefs2" or src or image:
            try:
                fs = filesystem_of(m)
            except FsError as e:
                if getattr(args, "flash", None):
                    print(f"boardemu: warning: {e} (the firmware may reformat it)", file=sys.stderr)
                fs = None
            for w in fsimage.check_mpy(fs) if fs is not None else ():
                print(f"boardemu: warning: {w}", file=sys.stderr)
    except FsError as e:
        return str(e)
    return None


def finish_fs(m, args) -> bool:
    """After the run: --dump-fs, then save the --flash file. Prints problems; False if any."""
    from boardemu.emulator import fsimage
    from boardemu.emulator.flashstore import filesystem_of
    from boardemu.emulator.fsimage import FsError
    from boardemu.emulator.machine import MachineError
    ok = True
    dump = getattr(args, "dump_fs", None)
    if dump:
        try:
            fs = filesystem_of(m)
            if fs is None:
                raise FsError(f"--dump-fs: board {m.board.name} has no filesystem in flash (the region is erased)")
            written = fsimage.extract(fs, dump, "/")
            print(f"boardemu: --dump-fs: {len(written)} file{'s' if len(written) != 1 else ''} written to {dump}",
                  file=sys.stderr)
        except FsError as e:
            _err(str(e))
            ok = False
    try:
        m.close()
    except MachineError as e:
        _err(str(e))
        ok = False
    return ok
