"""Board filesystems in flash: build, read, inspect and extract the images a firmware mounts.

Two formats, chosen by the board definition's ``[filesystem]`` table:

* ``littlefs2`` (MicroPython's ``VfsLfs2``, e.g. the Pico): built and read with littlefs-python,
  with exactly the firmware's geometry and settings (``littlefs.py``);
* ``microbitfs`` (microbit-micropython's flat chunked file system, ``microbitfs.py``).

Common API::

    lay = layout("pico")                       # where and how the board keeps its filesystem
    data = build(lay, "src/", mpy=True)        # a bare image (exactly the region's bytes)
    fs = open_image(lay, data)                 # validated; FsError on a corrupt/foreign image
    fs.entries(); fs.read("/main.py"); fs.write("/x", b"..."); fs.to_bytes()
    extract(fs, "out/")

Every user-facing problem is an :class:`FsError` with a one-line message.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = [
    "Entry",
    "FsError",
    "Filesystem",
    "Layout",
    "build",
    "check_mpy",
    "extract",
    "is_erased",
    "layout",
    "new_filesystem",
    "open_image",
]

TYPES = ("littlefs2", "microbitfs")
MTIME_ATTR = 1          # MicroPython's VfsLfs2 mtime attribute: 8 bytes LE, ns since 1970-01-01
SOURCE_ONLY = ("boot.py", "main.py")   # kept as source by --mpy (the firmware runs them by name)


class FsError(Exception):
    """A user-facing filesystem problem (one line)."""


@dataclass
class Entry:
    path: str                     # absolute, '/'-separated: "/lib/x.py"
    is_dir: bool
    size: int = 0
    mtime_ns: int | None = None   # None when the format keeps no time (or the file has none)

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


@dataclass
class Layout:
    """Where and how a board's firmware keeps its filesystem (from the board definition)."""
    board: str
    board_path: str
    type: str
    flash_base: int
    flash_size: int
    offset: int                   # region offset in flash
    size: int                     # region size in bytes
    block_size: int
    read_size: int = 0
    prog_size: int = 0
    lookahead_size: int = 0
    cache_size: int = 0
    block_cycles: int = -1
    name_max: int = 255
    disk_version: int = 0x00020001
    mpy: object = None            # mpy.MpyTarget or None (the firmware imports no .mpy)
    resolved: bool = True         # microbitfs: False until the firmware's end placed the region
    extra: dict = field(default_factory=dict)

    @property
    def addr(self) -> int:
        return self.flash_base + self.offset

    @property
    def block_count(self) -> int:
        return self.size // self.block_size

    def describe(self) -> str:
        kind = "LittleFS" if self.type == "littlefs2" else "micro:bit filesystem"
        return (f"{kind} of board {self.board}: {_kib(self.size)} at flash offset 0x{self.offset:X} "
                f"(0x{self.addr:08X}), {self.block_count} blocks of {self.block_size} bytes")


def _kib(n: int) -> str:
    return f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} bytes"


class Filesystem:
    """A filesystem image in memory. Paths are absolute or relative to '/', '/'-separated."""
    layout: Layout

    def entries(self, path: str = "/", recursive: bool = True) -> list[Entry]:
        raise NotImplementedError

    def stat(self, path: str) -> Entry:
        raise NotImplementedError

    def read(self, path: str) -> bytes:
        raise NotImplementedError

    def write(self, path: str, data: bytes, mtime_ns: int | None = None) -> None:
        raise NotImplementedError

    def mkdir(self, path: str) -> None:
        raise NotImplementedError

    def remove(self, path: str) -> None:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        raise NotImplementedError

    def listdir(self, path: str = "/") -> list[str]:
        return [e.name for e in self.entries(path, recursive=False)]

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
            return True
        except FileNotFoundError:
            return False


def norm(path: str) -> str:
    """'a/b', '/a/b/', './a//b' -> '/a/b'; '' and '/' -> '/'. '..' is refused."""
    parts = []
    for p in str(path).replace("\\", "/").split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            raise FsError(f"{path}: '..' is not allowed in a board path")
        parts.append(p)
    return "/" + "/".join(parts)


# -- board definition -> layout ----------------------------------------------------------------
def layout(board, firmware=None, flash: bytes | None = None) -> Layout:
    """The filesystem layout of ``board`` (a name, .toml path or Board). ``firmware`` (an Image)
    and ``flash`` (the whole flash's bytes) place a micro:bit region, whose start follows the
    firmware's end. Raises FsError when the board has no filesystem."""
    from boardemu.emulator.board import load_board
    b = load_board(board)
    spec = b.get("filesystem")
    if not spec:
        raise FsError(f"board {b.name} has no filesystem in its definition ({b.path} has no [filesystem] table)")
    where = f"{b.path}: filesystem"
    typ = spec["type"]
    if typ not in TYPES:
        raise FsError(f"{where}.type: expected {' or '.join(TYPES)}, got {typ!r}")
    fbase = b.get("flash.base")
    fsize = b.get("flash.size")
    if fbase is None or fsize is None:
        region = next((m for m in b.data["memory"] if m["kind"] == "flash"), None)
        if region is None:
            raise FsError(f"{b.path}: a filesystem needs a flash region ([flash] base and size)")
        fbase = region["base"] if fbase is None else fbase
        fsize = region["size"] if fsize is None else fsize
    if spec["offset"] + spec["size"] > fsize or spec["size"] <= 0:
        raise FsError(f"{where}: region 0x{spec['offset']:X}+0x{spec['size']:X} does not fit the "
                      f"{_kib(fsize)} flash")
    from .mpy import target_from_board
    lay = Layout(board=b.name, board_path=b.path, type=typ, flash_base=fbase, flash_size=fsize,
                 offset=spec["offset"], size=spec["size"],
                 block_size=spec.get("block_size", 4096 if typ == "littlefs2" else 1024),
                 read_size=spec.get("read_size", 0), prog_size=spec.get("prog_size", 0),
                 lookahead_size=spec.get("lookahead_size", 0), cache_size=spec.get("cache_size", 0),
                 block_cycles=spec.get("block_cycles", -1),
                 name_max=spec.get("name_max", 255 if typ == "littlefs2" else 120),
                 mpy=target_from_board(b, firmware))
    if "disk_version" in spec:
        lay.disk_version = _disk_version(spec["disk_version"], where)
    if typ == "littlefs2":
        from .littlefs import check_layout
        check_layout(lay)
    else:
        from .microbitfs import place
        place(lay, firmware, flash)
    return lay


def _disk_version(text: str, where: str) -> int:
    try:
        major, minor = (int(x) for x in text.split("."))
        return (major << 16) | minor
    except ValueError:
        raise FsError(f"{where}.disk_version: expected MAJOR.MINOR like \"2.1\", got {text!r}") from None


def _impl(lay: Layout):
    if lay.type == "littlefs2":
        from . import littlefs
        return littlefs
    from . import microbitfs
    return microbitfs


# -- images ---------------------------------------------------------------------------------------
def is_erased(data: bytes) -> bool:
    return data.count(0xFF) == len(data)


def open_image(lay: Layout, data: bytes, name: str = "image") -> Filesystem:
    """Open (and fully validate) a bare filesystem image. FsError names ``name`` on problems."""
    return _impl(lay).open_image(lay, bytes(data), name)


def new_filesystem(lay: Layout) -> Filesystem:
    """An empty, formatted filesystem of the board's geometry."""
    return _impl(lay).new_filesystem(lay)


def region_of_flash(lay: Layout, flash: bytes, name: str = "flash image") -> bytes:
    """The filesystem region's bytes out of a whole-flash image."""
    if len(flash) != lay.flash_size:
        raise FsError(f"{name}: {len(flash)} bytes, but board {lay.board}'s flash is {lay.flash_size} bytes "
                      f"(a whole-flash image is exactly the flash)")
    if not lay.resolved:
        raise FsError(f"{name}: cannot place the micro:bit filesystem without the firmware: give it with --firmware")
    return flash[lay.offset:lay.offset + lay.size]


def build(lay: Layout, src_dir, mpy: bool = False, log=None) -> bytes:
    """A bare image of ``src_dir``'s files (directories, binary files and mtimes kept). With
    ``mpy``, ``.py`` files (but the root boot.py/main.py) become ``.mpy`` compiled with mpy-cross
    for the firmware's .mpy version."""
    src = Path(src_dir)
    if not src.is_dir():
        raise FsError(f"{src_dir}: no such directory")
    files, dirs = _collect(src)
    fs = new_filesystem(lay)
    compiler = None
    if mpy:
        from .mpy import Compiler
        compiler = Compiler(lay.mpy, lay.board)
    for d in dirs:
        fs.mkdir(d)
    for rel, path in files:
        data = path.read_bytes()
        mtime = path.stat().st_mtime_ns
        if compiler and rel.endswith(".py") and rel.lstrip("/") not in SOURCE_ONLY:
            data = compiler.compile(path, rel)
            rel = rel[:-3] + ".mpy"
            if log:
                log(f"compiled {rel}")
        _check_name(lay, rel)
        fs.write(rel, data, mtime_ns=mtime)
    return fs.to_bytes()


def _collect(src: Path):
    files, dirs = [], []
    for root, dnames, fnames in os.walk(src, followlinks=True):
        dnames.sort()
        rroot = Path(root)
        for d in dnames:
            dirs.append("/" + (rroot / d).relative_to(src).as_posix())
        for f in sorted(fnames):
            p = rroot / f
            if not p.is_file():
                raise FsError(f"{p}: not a regular file")
            files.append(("/" + p.relative_to(src).as_posix(), p))
    return files, dirs


def _check_name(lay: Layout, path: str):
    for part in path.strip("/").split("/"):
        n = len(part.encode())
        if n > lay.name_max:
            raise FsError(f"{path}: name {part[:40]!r}… is {n} bytes; board {lay.board}'s filesystem allows "
                          f"{lay.name_max}")


def extract(fs: Filesystem, dest, path: str = "/") -> list[Path]:
    """Write the files under ``path`` (a file or a directory) to directory ``dest``, keeping the
    tree and mtimes. Returns the files written."""
    dest = Path(dest)
    path = norm(path)
    try:
        top = fs.stat(path)
    except FileNotFoundError:
        raise FsError(f"{path}: no such file or directory in the image") from None
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FsError(f"{dest}: cannot create: {e.strerror}") from None
    items = [top] if not top.is_dir else fs.entries(path, recursive=True)
    base = PurePosixPath(path) if path == "/" else PurePosixPath(path).parent   # a directory comes with its name
    written = []
    for e in items:
        rel = PurePosixPath(e.path).relative_to(base)
        if any(p in ("", ".", "..") for p in rel.parts) or "\0" in e.path:
            raise FsError(f"{e.path}: unsafe name in the image")
        out = dest.joinpath(*rel.parts)
        try:
            if e.is_dir:
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(fs.read(e.path))
            if e.mtime_ns is not None:
                os.utime(out, ns=(e.mtime_ns, e.mtime_ns))
        except OSError as err:
            raise FsError(f"{out}: cannot write: {err.strerror}") from None
        written.append(out)
    return written


def check_mpy(fs: Filesystem, target=None) -> list[str]:
    """Warnings for every .mpy file the firmware would refuse (file name and both versions)."""
    from .mpy import compatibility_problem, read_header
    out = []
    for e in fs.entries("/", recursive=True):
        if e.is_dir or not e.path.endswith(".mpy"):
            continue
        head = fs.read(e.path)[:8]
        problem = compatibility_problem(read_header(head), target if target is not None else fs.layout.mpy,
                                        fs.layout.board)
        if problem:
            out.append(f"{e.path}: {problem}")
    return out
