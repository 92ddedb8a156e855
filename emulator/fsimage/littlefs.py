"""LittleFS v2 images with a board firmware's exact geometry, through littlefs-python.

The configuration mirrors MicroPython's VfsLfs2 (extmod/vfs_lfsx.c): block size and count from
the block device, read/prog sizes and lookahead from the VfsLfs2 arguments (defaults 32/32/32),
cache_size = min(block_size, 4 * max(read_size, prog_size)), block_cycles = 100. File mtimes are
user attribute 1: 8 bytes little-endian, nanoseconds since 1970-01-01 (extmod/vfs_lfs.c).

littlefs checks its configuration with C asserts that abort the process, so every geometry is
checked here first; foreign images are recognised by their superblock before littlefs mounts them.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from littlefs import lfs
from littlefs.context import UserContext
from littlefs.errors import LittleFSError

from . import MTIME_ATTR, Entry, Filesystem, FsError, Layout, _kib, is_erased, norm

ERR = LittleFSError.Error
TYPE_REG, TYPE_DIR = 1, 2
MAGIC = b"littlefs"


def check_layout(lay: Layout) -> None:
    """Fill MicroPython's defaults in and check what littlefs would assert on."""
    where = f"{lay.board_path}: filesystem"
    lay.read_size = lay.read_size or 32
    lay.prog_size = lay.prog_size or 32
    lay.lookahead_size = lay.lookahead_size or 32
    lay.cache_size = lay.cache_size or min(lay.block_size, 4 * max(lay.read_size, lay.prog_size))
    if lay.block_cycles == -1:
        lay.block_cycles = 100
    bs = lay.block_size
    problems = [
        (bs < 128, f"block_size {bs} is below littlefs's minimum of 128"),
        (lay.size % bs != 0, f"size {lay.size} is not a multiple of block_size {bs}"),
        (lay.size // bs < 2, "a LittleFS needs at least 2 blocks"),
        (lay.cache_size % lay.read_size != 0, f"cache_size {lay.cache_size} is not a multiple of read_size"),
        (lay.cache_size % lay.prog_size != 0, f"cache_size {lay.cache_size} is not a multiple of prog_size"),
        (bs % lay.cache_size != 0, f"block_size {bs} is not a multiple of cache_size {lay.cache_size}"),
        (lay.lookahead_size <= 0 or lay.lookahead_size % 8 != 0,
         f"lookahead_size {lay.lookahead_size} is not a positive multiple of 8"),
        (lay.block_cycles == 0, "block_cycles must not be 0 (-1 disables wear levelling)"),
        (not 1 <= lay.name_max <= 1022, f"name_max {lay.name_max} is out of range 1..1022"),
        (lay.disk_version >> 16 != 2, "disk_version must be 2.x"),
    ]
    for bad, what in problems:
        if bad:
            raise FsError(f"{where}: {what}")


class _Buffer(UserContext):
    """Block device over a bytearray (no per-call logging: images are built file by file)."""

    def __init__(self, buf: bytearray, block_size: int):
        self.buffer = buf
        self.in_size = len(buf)
        self.bs = block_size
        self.erased = b"\xff" * block_size

    def read(self, cfg, block, off, size):
        s = block * self.bs + off
        return self.buffer[s:s + size]

    def prog(self, cfg, block, off, data):
        s = block * self.bs + off
        self.buffer[s:s + len(data)] = data
        return 0

    def erase(self, cfg, block):
        s = block * self.bs
        self.buffer[s:s + self.bs] = self.erased
        return 0

    def sync(self, cfg):
        return 0


@dataclass
class Superblock:
    version: int
    block_size: int
    block_count: int
    name_max: int

    @property
    def version_text(self):
        return f"{self.version >> 16}.{self.version & 0xFFFF}"


def superblock(data: bytes) -> Superblock | None:
    """The superblock fields after the first 'littlefs' magic in the image's first blocks."""
    i = data.find(MAGIC, 0, 1 << 17)
    while i >= 0:
        raw = data[i + len(MAGIC) + 4:i + len(MAGIC) + 4 + 16]
        if len(raw) == 16:
            v, bs, bc, nm = struct.unpack("<4I", raw)
            if v >> 16 == 2 and bs >= 128 and bc >= 1:
                return Superblock(v, bs, bc, nm)
        i = data.find(MAGIC, i + 1, 1 << 17)
    return None


def _config(lay: Layout, buf: bytearray) -> lfs.LFSConfig:
    return lfs.LFSConfig(context=_Buffer(buf, lay.block_size), block_size=lay.block_size,
                         block_count=lay.block_count, read_size=lay.read_size, prog_size=lay.prog_size,
                         block_cycles=lay.block_cycles, cache_size=lay.cache_size,
                         lookahead_size=lay.lookahead_size, name_max=lay.name_max,
                         disk_version=lay.disk_version)


def _err_name(e: LittleFSError) -> str:
    try:
        return ERR(e.code).name
    except ValueError:
        return f"error {e.code}"


class LittleFsImage(Filesystem):
    def __init__(self, lay: Layout, buf: bytearray, name: str):
        self.layout = lay
        self.name = name
        self.buf = buf
        self.cfg = _config(lay, buf)
        self.fs = lfs.LFSFilesystem()

    # -- mount / format ---------------------------------------------------------------------------
    def _format(self):
        lfs.format(self.fs, self.cfg)
        lfs.mount(self.fs, self.cfg)

    def _validate(self):
        """Read every directory and file once: a corrupt image fails here, not on the board."""
        try:
            for e in self.entries("/", recursive=True):
                if not e.is_dir:
                    self.read(e.path)
        except LittleFSError as e:
            raise FsError(f"{self.name}: corrupt LittleFS image ({_err_name(e)} while reading it)") from None
        except UnicodeDecodeError:
            raise FsError(f"{self.name}: a file name in the image is not UTF-8") from None

    # -- reading ------------------------------------------------------------------------------------
    def _mtime(self, path: str) -> int | None:
        try:
            raw = lfs.getattr(self.fs, path, MTIME_ATTR)
        except LittleFSError:
            return None
        return int.from_bytes(raw[:8], "little") if len(raw) >= 8 else None

    def stat(self, path: str) -> Entry:
        path = norm(path)
        if path == "/":
            return Entry("/", True)
        try:
            st = lfs.stat(self.fs, path)
        except LittleFSError as e:
            if e.code in (ERR.LFS_ERR_NOENT, ERR.LFS_ERR_NOTDIR):
                raise FileNotFoundError(path) from None
            raise
        is_dir = st.type == TYPE_DIR
        return Entry(path, is_dir, 0 if is_dir else st.size, None if is_dir else self._mtime(path))

    def entries(self, path: str = "/", recursive: bool = True) -> list[Entry]:
        path = norm(path)
        top = self.stat(path)
        if not top.is_dir:
            return [top]
        out = []
        try:
            dh = lfs.dir_open(self.fs, path)
        except LittleFSError as e:
            if e.code == ERR.LFS_ERR_NOENT:
                raise FileNotFoundError(path) from None
            raise
        try:
            items = []
            while (info := lfs.dir_read(self.fs, dh)) is not None:
                if info.name not in (".", ".."):
                    items.append(info)
        finally:
            lfs.dir_close(self.fs, dh)
        for info in sorted(items, key=lambda i: i.name):
            p = path.rstrip("/") + "/" + info.name
            if info.type == TYPE_DIR:
                out.append(Entry(p, True))
                if recursive:
                    out += self.entries(p, True)
            else:
                out.append(Entry(p, False, info.size, self._mtime(p)))
        return out

    def read(self, path: str) -> bytes:
        e = self.stat(path)
        if e.is_dir:
            raise IsADirectoryError(e.path)
        fh = lfs.file_open(self.fs, e.path, "r")
        try:
            chunks = []
            while True:
                b = lfs.file_read(self.fs, fh, 1 << 16)
                if not b:
                    break
                chunks.append(b)
        finally:
            lfs.file_close(self.fs, fh)
        return b"".join(chunks)

    # -- writing --------------------------------------------------------------------------------------
    def _nospace(self, what: str):
        lay = self.layout
        return FsError(f"{what}: no space left: the files do not fit the {_kib(lay.size)} filesystem of board "
                       f"{lay.board} ({lay.block_count} blocks of {lay.block_size} bytes)")

    def mkdir(self, path: str) -> None:
        path = norm(path)
        parts = path.strip("/").split("/")
        cur = ""
        for p in parts:
            cur += "/" + p
            try:
                lfs.mkdir(self.fs, cur)
            except LittleFSError as e:
                if e.code == ERR.LFS_ERR_EXIST:
                    continue
                if e.code == ERR.LFS_ERR_NOSPC:
                    raise self._nospace(cur) from None
                if e.code == ERR.LFS_ERR_NAMETOOLONG:
                    raise FsError(f"{cur}: name longer than {self.layout.name_max} bytes") from None
                raise FsError(f"{cur}: cannot create directory ({_err_name(e)})") from None

    def write(self, path: str, data: bytes, mtime_ns: int | None = None) -> None:
        path = norm(path)
        if path == "/":
            raise FsError("/: not a file name")
        parent = path.rsplit("/", 1)[0]
        if parent:
            self.mkdir(parent)
        try:
            fh = lfs.file_open(self.fs, path, "w")
            try:
                lfs.file_write(self.fs, fh, bytes(data))
            finally:
                lfs.file_close(self.fs, fh)
            if mtime_ns is not None:
                lfs.setattr(self.fs, path, MTIME_ATTR, int(mtime_ns).to_bytes(8, "little"))
        except LittleFSError as e:
            if e.code == ERR.LFS_ERR_NOSPC:
                raise self._nospace(path) from None
            if e.code == ERR.LFS_ERR_NAMETOOLONG:
                raise FsError(f"{path}: name longer than {self.layout.name_max} bytes") from None
            if e.code == ERR.LFS_ERR_ISDIR:
                raise FsError(f"{path}: is a directory") from None
            raise FsError(f"{path}: cannot write ({_err_name(e)})") from None

    def remove(self, path: str) -> None:
        e = self.stat(path)
        if e.is_dir:
            for child in reversed(self.entries(e.path, recursive=True)):
                lfs.remove(self.fs, child.path)
        lfs.remove(self.fs, e.path)

    def to_bytes(self) -> bytes:
        return bytes(self.buf)


def new_filesystem(lay: Layout) -> LittleFsImage:
    img = LittleFsImage(lay, bytearray(b"\xff" * lay.size), "new image")
    img._format()
    return img


def open_image(lay: Layout, data: bytes, name: str) -> LittleFsImage:
    if len(data) > lay.size:
        raise FsError(f"{name}: {len(data)} bytes, too big for the {lay.describe()}")
    if len(data) != lay.size:
        raise FsError(f"{name}: {len(data)} bytes, but the {lay.describe()} is {lay.size} bytes "
                      f"(a bare image is exactly the region)")
    if is_erased(data):
        raise FsError(f"{name}: erased (all 0xFF): no filesystem yet (the firmware formats it at boot)")
    sb = superblock(data)
    if sb is None:
        raise FsError(f"{name}: not a LittleFS image (no littlefs superblock)")
    img = LittleFsImage(lay, bytearray(data), name)
    try:
        lfs.mount(img.fs, img.cfg)
    except LittleFSError as e:
        # say why when the (unchecked) superblock shows another geometry; else it is corrupt
        raise _foreign(lay, sb, name) or FsError(f"{name}: corrupt LittleFS image (mount failed: "
                                                 f"{_err_name(e)})") from None
    st = lfs.fs_stat(img.fs)
    problem = _foreign(lay, Superblock(st.disk_version, st.block_size, st.block_count, st.name_max), name)
    if problem:
        raise problem
    img._validate()
    return img


def _foreign(lay: Layout, sb: Superblock, name: str) -> FsError | None:
    if (sb.block_size, sb.block_count) != (lay.block_size, lay.block_count):
        return FsError(f"{name}: LittleFS of {sb.block_count} blocks of {sb.block_size} bytes, but board "
                       f"{lay.board} uses {lay.block_count} blocks of {lay.block_size} bytes")
    if sb.version >> 16 != lay.disk_version >> 16 or sb.version > lay.disk_version:
        ours = f"{lay.disk_version >> 16}.{lay.disk_version & 0xFFFF}"
        return FsError(f"{name}: LittleFS disk version {sb.version_text}, newer than the firmware's {ours}")
    if sb.name_max > lay.name_max:
        return FsError(f"{name}: LittleFS allows names of {sb.name_max} bytes, the firmware only {lay.name_max}")
    return None
