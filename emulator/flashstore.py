"""A Machine's whole flash kept in a file across runs, and its board filesystem.

``Machine(..., flash="board.flash")``: the file holds exactly the board's flash. It is created
from the erased state (0xFF) on first use; on load its contents go in first and the firmware
image is then written on top, as a UF2/hex flasher would (so the filesystem region survives a
firmware update). ``machine.close()`` writes it back atomically (temporary file + rename).

``machine.read_filesystem()`` / ``machine.write_filesystem(image)`` move a bare filesystem image
(see emulator/fsimage/) in and out of the board's filesystem region; an image is validated in
full before a byte of flash changes. ``machine.filesystem`` is a file-level view of the same
region (read/write/listdir), used by scenarios.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .fsimage import Filesystem, FsError, is_erased, layout, new_filesystem, open_image


class FlashFileError(Exception):
    """A flash file that cannot be used (one line)."""


def flash_region(machine):
    """The bus region holding the board's main flash."""
    base = machine.board.get("flash.base")
    if base is None:
        for r in machine.bus.regions:
            if r.kind == "flash":
                return r
        raise FlashFileError(f"board {machine.board.name} has no flash")
    r = machine.bus.region_at(base)
    if r is None:
        raise FlashFileError(f"board {machine.board.name}: no memory at its flash base 0x{base:08X}")
    return r


def write_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class FlashFile:
    """The whole flash of ``machine`` in the file ``path``."""

    def __init__(self, machine, path):
        self.machine = machine
        self.path = Path(path)
        self.region = flash_region(machine)
        self.size = machine.board.get("flash.size") or self.region.size
        self.saved = False
        if self.path.exists():
            self._load()
        else:
            try:
                write_atomic(self.path, b"\xff" * self.size)
            except OSError as e:
                raise FlashFileError(f"{self.path}: cannot create the flash file: {e.strerror}") from None

    def _load(self):
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise FlashFileError(f"{self.path}: cannot read the flash file: {e.strerror}") from None
        if len(data) != self.size:
            raise FlashFileError(f"{self.path}: {len(data)} bytes, but board {self.machine.board.name}'s flash is "
                                 f"{self.size} bytes (a flash file holds the whole flash)")
        self.machine.bus.load(self.region.base, data, "flash file")

    def contents(self) -> bytes:
        return self.machine.bus.read(self.region.base, self.size)

    def save(self) -> None:
        try:
            write_atomic(self.path, self.contents())
        except OSError as e:
            raise FlashFileError(f"{self.path}: cannot save the flash file: {e.strerror}") from None
        self.saved = True


# -- the board filesystem -------------------------------------------------------------------------
def fs_layout(machine):
    """The board's filesystem layout, placed for the machine's firmware. FsError if none."""
    region = flash_region(machine)
    flash = machine.bus.read(region.base, region.size)
    return layout(machine.board, machine.image, flash)


def read_filesystem(machine) -> bytes:
    """The bytes of the board's filesystem region (whatever they hold: erased, valid, corrupt)."""
    lay = fs_layout(machine)
    return machine.bus.read(lay.addr, lay.size)


def write_filesystem(machine, image: bytes, name: str = "filesystem image") -> None:
    """Put a bare filesystem image in the board's region (validated in full first). Best done
    before the firmware boots (or with the board reset after): a running firmware that has the
    filesystem mounted keeps its own caches."""
    lay = fs_layout(machine)
    fs = open_image(lay, bytes(image), name)
    data = fs.to_bytes()
    if len(data) != lay.size:          # cannot happen with a validated image; never write half
        raise FsError(f"{name}: {len(data)} bytes for a {lay.size}-byte region")
    machine.bus.write(lay.addr, data)


def filesystem_of(machine, create: bool = False) -> Filesystem | None:
    """The board filesystem as read now; None if the region is erased (and not ``create``)."""
    lay = fs_layout(machine)
    data = machine.bus.read(lay.addr, lay.size)
    if is_erased(data) and lay.type == "littlefs2":
        return new_filesystem(lay) if create else None
    return open_image(lay, data, f"board {machine.board.name}'s filesystem")


class BoardFilesystem:
    """File-level access to a machine's filesystem region (each call reads the flash anew)."""

    def __init__(self, machine):
        self.machine = machine

    def read(self, path: str) -> bytes:
        fs = filesystem_of(self.machine)
        if fs is None:
            raise FileNotFoundError(path)
        return fs.read(path)

    def write(self, path: str, data: bytes, mtime_ns: int | None = None) -> None:
        fs = filesystem_of(self.machine, create=True)
        fs.write(path, data, mtime_ns)
        write_filesystem(self.machine, fs.to_bytes())

    def entries(self, path: str = "/", recursive: bool = True):
        fs = filesystem_of(self.machine)
        return [] if fs is None else fs.entries(path, recursive)

    def listdir(self, path: str = "/") -> list[str]:
        fs = filesystem_of(self.machine)
        return [] if fs is None else fs.listdir(path)


def board_filesystem(machine) -> BoardFilesystem | None:
    return BoardFilesystem(machine) if machine.board.get("filesystem") else None
