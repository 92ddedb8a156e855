"""Official firmware images: where boardemu looks for them and how it fetches them.

Boards name their official image in ``[firmware]``: ``cache`` (a glob matched in the cache
directory), ``url`` and optionally ``sha256``. The cache is ``~/.cache/boardemu/firmware`` (or
``$BOARDEMU_FIRMWARE_CACHE``). ``boardemu firmware get BOARD`` downloads the image there and
checks it (UF2 family and, when known, SHA-256); offline it says so in one line.
"""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path


class FirmwareError(Exception):
    pass


def cache_dir() -> Path:
    env = os.environ.get("BOARDEMU_FIRMWARE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "boardemu" / "firmware"


def cached_image(board) -> Path | None:
    """The newest cached official image of ``board`` (by name), or None."""
    pattern = board.get("firmware.cache")
    if not pattern:
        return None
    hits = sorted(cache_dir().glob(pattern))
    return hits[-1] if hits else None


def default_image(board) -> tuple[Path | None, str]:
    """(path, hint): the board's default firmware, and what to do when it is missing."""
    p = board.get("firmware.default")
    if p:
        pkg = board.get("firmware.package")
        hint = f" (install it: apt-get install {pkg}, or run 'make setup')" if pkg else ""
        return Path(p), hint
    c = cached_image(board)
    if c is not None:
        return c, ""
    if board.get("firmware.cache"):
        return None, (f"no official image in {cache_dir()}: run 'boardemu firmware get {board.name}' "
                      f"(needs the network) or give a FIRMWARE file")
    return None, "give a FIRMWARE file"


def get(board, progress=True) -> Path:
    url = board.get("firmware.url")
    if not url:
        raise FirmwareError(f"board {board.name} has no official image to download")
    dest = cache_dir() / url.rsplit("/", 1)[-1]
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            total = int(r.headers.get("Content-Length") or 0)
            data = bytearray()
            while True:
                chunk = r.read(65536)
                if not chunk:
                    break
                data += chunk
                if progress and total:
                    print(f"\rboardemu: {dest.name}: {len(data) * 100 // total}%", end="", file=sys.stderr)
            if progress and total:
                print(file=sys.stderr)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise FirmwareError(f"cannot download {url}: {reason} (offline? copy the file into {cache_dir()})") \
            from None
    want = board.get("firmware.sha256")
    if want and hashlib.sha256(data).hexdigest() != want.lower():
        raise FirmwareError(f"{url}: SHA-256 mismatch: not the expected image (nothing saved)")
    from boardemu.emulator.loaders import ImageError, load_image
    tmp = dest.with_suffix(dest.suffix + ".part")
    tmp.write_bytes(data)
    try:
        load_image(str(tmp), family=board.get("chip.uf2_family"), base=board.get("firmware.bin_base"))
    except ImageError as e:
        tmp.unlink()
        raise FirmwareError(f"{url}: downloaded file is not a usable image: {e}") from None
    tmp.replace(dest)
    return dest


def add_firmware_parser(sub):
    f = sub.add_parser("firmware", help="list or download official firmware images",
                       description="Official firmware images live in the cache directory "
                                   f"({cache_dir()}); boards find them there by name.")
    fs = f.add_subparsers(dest="fw_cmd", metavar="ACTION")
    g = fs.add_parser("get", help="download and check a board's official image",
                      description="Download the board's official MicroPython image into the cache "
                                  "(skipped when it is already there).")
    g.add_argument("board", help="board name, e.g. pico")
    fs.add_parser("list", help="show each board's firmware and whether it is available")


def cmd_firmware(args) -> int:
    from boardemu.boards.schema import BoardError
    from boardemu.emulator.board import board_names, load_board
    if args.fw_cmd == "get":
        try:
            board = load_board(args.board)
            path = get(board)
        except (BoardError, FirmwareError) as e:
            print(f"boardemu: {e}", file=sys.stderr)
            return 2
        print(path)
        return 0
    if args.fw_cmd == "list":
        for name in board_names():
            b = load_board(name)
            p, hint = default_image(b)
            state = str(p) if p is not None and p.exists() else "missing" + (f": {hint.strip(' ()')}" if hint else "")
            print(f"{name:<16} {state}")
        return 0
    print("boardemu: firmware: give an action (get, list); see 'boardemu firmware --help'", file=sys.stderr)
    return 2
