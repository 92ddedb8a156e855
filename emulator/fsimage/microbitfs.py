"""The micro:bit MicroPython file system (microbit-micropython v1.0.1, MicroPython v1.9.2).

Format (source/microbit/filesystem.c, inc/microbit/filesystem.h and memory.h of that release):

* The region is a run of 1 KiB flash pages. It ends below the compass calibration page, which
  is the last flash page (0x3FC00), or the page below 0x3E000 when a script is appended there
  (first byte 'M'). Its start is ``end - 240 chunks`` rounded up to a page, moved up a page at a
  time while it lies under the end of the firmware (text + initialised data).
* One page of the region is the spare/persistent page, whose first byte is 0xFD: the last page
  (then the chunks fill the pages before it) or the first page (then the chunks follow it).
  The firmware writes 0xFD to the last page when neither has it.
* Chunks are 128 bytes, numbered from 1: marker, 126 data bytes, next-chunk index. Markers:
  0xFF unused (erased), 0x00 freed, 0xFE first chunk of a file, else the previous chunk's index.
  The first chunk's data starts with end_offset (the data offset in the last chunk where the file
  ends; 0xFF: never closed), the name length (at most 120) and the name; file data follows.
  The last chunk's next index is 0xFF. A writer that fills a chunk exactly links a new, empty one.
* No directories and no times; .mpy files cannot be imported by this firmware.
"""
from __future__ import annotations

from . import Entry, Filesystem, FsError, Layout, is_erased, norm

CHUNK = 128
DATA = CHUNK - 2
UNUSED, FREED, FILE_START, PERSISTENT = 0xFF, 0x00, 0xFE, 0xFD
MAX_CHUNKS = 240
NAME_MAX = 120
END_OF_ROM = 0x40000
APPENDED_SCRIPT = 0x3E000


def _roundup(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def region_end(lay: Layout, script: bool) -> int:
    """Flash offset where the region ends (the compass calibration page)."""
    page = lay.block_size
    return (APPENDED_SCRIPT if script else END_OF_ROM) - lay.flash_base - page


def code_end(image) -> int | None:
    """End of the firmware's text + data in flash (what the firmware calls microbit_end_of_code)."""
    if image is None:
        return None
    ends = [s.addr + len(s.data) for s in image.segments if s.addr < APPENDED_SCRIPT and s.data]
    return max(ends) if ends else None


def _script_appended(image, flash: bytes | None, lay: Layout) -> bool:
    if flash is not None and len(flash) > APPENDED_SCRIPT - lay.flash_base:
        return flash[APPENDED_SCRIPT - lay.flash_base] == ord("M")
    if image is not None:
        for s in image.segments:
            if s.addr <= APPENDED_SCRIPT < s.addr + len(s.data):
                return s.data[APPENDED_SCRIPT - s.addr] == ord("M")
    return False


def place(lay: Layout, image=None, flash: bytes | None = None) -> None:
    """Set the layout's region as the firmware computes it (init_limits in filesystem.c). Without
    a firmware image the region stays the board file's largest one, marked unresolved."""
    page = lay.block_size
    lay.name_max = min(lay.name_max, NAME_MAX)
    if lay.size % page or lay.offset % page:
        raise FsError(f"{lay.board_path}: filesystem: offset and size must be whole {page}-byte pages")
    script = _script_appended(image, flash, lay)
    end = region_end(lay, script)          # the compass page: the region stops below it
    lay.extra["script"] = script
    cend = code_end(image)
    if cend is None:
        lay.resolved = False
        return
    last = end - page                      # "last page" (persistent page when chunks come first)
    start = _roundup(last - CHUNK * MAX_CHUNKS, page)
    while start < cend - lay.flash_base:
        start += page
    if start >= last:
        raise FsError(f"board {lay.board}: the firmware ends at 0x{cend:X} and leaves no room for its filesystem")
    lay.offset, lay.size, lay.resolved = start, end - start, True


def max_region(page: int) -> int:
    """Largest region: 240 chunks' worth of whole pages and the spare page."""
    return CHUNK * MAX_CHUNKS // page * page + page


def fit(lay: Layout, length: int, name: str) -> Layout:
    """A copy of an unresolved layout placed for a bare image of ``length`` bytes (the region
    ends at the compass page, so the length gives its start)."""
    page = lay.block_size
    if lay.resolved:
        return lay
    end = region_end(lay, lay.extra.get("script", False))
    if length % page or length < 2 * page:
        raise FsError(f"{name}: {length} bytes is not a micro:bit filesystem region (whole {page}-byte pages, "
                      f"at least 2)")
    if length > max_region(page) or end - length < 0:
        raise FsError(f"{name}: {length} bytes, too big for the micro:bit filesystem (at most {MAX_CHUNKS} chunks "
                      f"of {CHUNK} bytes and a spare page)")
    from dataclasses import replace
    return replace(lay, offset=end - length, size=length, resolved=True, extra=dict(lay.extra))


class MicrobitFsImage(Filesystem):
    def __init__(self, lay: Layout, files: dict[str, bytes], raw: bytes | None = None):
        self.layout = lay
        self.files = files             # name -> data, in chunk order
        self._raw = raw                # the image as read, while nothing changed

    @property
    def chunks(self) -> int:
        return (self.layout.size - self.layout.block_size) // CHUNK

    # -- reading ------------------------------------------------------------------------------------
    def _name(self, path: str) -> str:
        p = norm(path)
        return p[1:]

    def stat(self, path: str) -> Entry:
        name = self._name(path)
        if name == "":
            return Entry("/", True)
        if name not in self.files:
            raise FileNotFoundError("/" + name)
        return Entry("/" + name, False, len(self.files[name]))

    def entries(self, path: str = "/", recursive: bool = True) -> list[Entry]:
        top = self.stat(path)
        if not top.is_dir:
            return [top]
        return [Entry("/" + n, False, len(d)) for n, d in sorted(self.files.items())]

    def read(self, path: str) -> bytes:
        e = self.stat(path)
        if e.is_dir:
            raise IsADirectoryError(e.path)
        return self.files[e.path[1:]]

    # -- writing --------------------------------------------------------------------------------------
    def _check_name(self, name: str):
        if "/" in name:
            raise FsError(f"/{name}: the micro:bit filesystem has no directories")
        n = len(name.encode())
        if n > self.layout.name_max:
            raise FsError(f"/{name}: name is {n} bytes; the micro:bit filesystem allows {self.layout.name_max}")

    def write(self, path: str, data: bytes, mtime_ns: int | None = None) -> None:
        name = self._name(path)
        if not name:
            raise FsError("/: not a file name")
        self._check_name(name)
        files = dict(self.files)
        files.pop(name, None)
        files[name] = bytes(data)
        need = sum(chunks_needed(n, d) for n, d in files.items())
        if need > self.chunks:
            free = self.chunks * DATA
            raise FsError(f"/{name}: no space left: the files need {need} chunks of {CHUNK} bytes, the micro:bit "
                          f"filesystem of this firmware has {self.chunks} (about {free} bytes in all)")
        self.files = files
        self._raw = None

    def mkdir(self, path: str) -> None:
        if self._name(path):
            raise FsError(f"{norm(path)}: the micro:bit filesystem has no directories")

    def remove(self, path: str) -> None:
        e = self.stat(path)
        if e.is_dir:
            raise FsError("/: cannot remove the root")
        del self.files[e.path[1:]]
        self._raw = None

    def to_bytes(self) -> bytes:
        if self._raw is not None:
            return self._raw
        return layout_bytes(self.layout, self.files)


def chunks_needed(name: str, data: bytes) -> int:
    # first chunk holds end_offset, name length and name; a chunk filled exactly links a new one
    return (2 + len(name.encode()) + len(data)) // DATA + 1


def layout_bytes(lay: Layout, files: dict[str, bytes]) -> bytes:
    """The region's bytes: files in chunks 1, 2, ... in order, the persistent page last."""
    page = lay.block_size
    n = (lay.size - page) // CHUNK
    out = bytearray(b"\xff" * lay.size)
    out[lay.size - page] = PERSISTENT
    idx = 1

    def chunk_at(i):
        return (i - 1) * CHUNK

    for name, data in files.items():
        payload = bytes([0, len(name.encode())]) + name.encode() + data
        first = idx
        prev = None
        pos = 0
        while True:
            if idx > n:
                raise FsError(f"/{name}: no space left in the micro:bit filesystem ({n} chunks)")
            c = chunk_at(idx)
            out[c] = FILE_START if prev is None else prev
            if prev is not None:
                out[chunk_at(prev) + CHUNK - 1] = idx
            piece = payload[pos:pos + DATA]
            out[c + 1:c + 1 + len(piece)] = piece
            pos += len(piece)
            prev, idx = idx, idx + 1
            if len(piece) < DATA:
                end_offset = len(piece)
                break
        out[chunk_at(first) + 1] = end_offset
    return bytes(out)


def parse(lay: Layout, data: bytes, name: str) -> dict[str, bytes]:
    """Files of a region image, read as the firmware reads them. FsError on a foreign or corrupt one."""
    page = lay.block_size
    size = len(data)
    n = (size - page) // CHUNK
    if data[0] == PERSISTENT:
        base = page                         # persistent page first: chunks follow it
    else:
        base = 0
        if data[size - page] not in (PERSISTENT, UNUSED):
            raise FsError(f"{name}: not a micro:bit filesystem (no 0x{PERSISTENT:X} marker on its first or "
                          f"last page)")

    def chunk(i):
        c = base + (i - 1) * CHUNK
        return data[c:c + CHUNK]

    def corrupt(why):
        return FsError(f"{name}: not a micro:bit filesystem, or corrupt: {why}")

    for i in range(1, n + 1):
        m = chunk(i)[0]
        if not (m in (UNUSED, FREED, FILE_START) or 1 <= m <= n):
            raise corrupt(f"chunk {i} has marker 0x{m:02X}")
    files: dict[str, bytes] = {}
    for i in range(1, n + 1):
        c = chunk(i)
        if c[0] != FILE_START:
            continue
        end_offset, name_len = c[1], c[2]
        if name_len > NAME_MAX:
            raise corrupt(f"chunk {i}: file name of {name_len} bytes")
        fname = c[3:3 + name_len]
        if end_offset != UNUSED and end_offset > DATA:
            raise corrupt(f"chunk {i}: end offset {end_offset}")
        content = bytearray()
        off = name_len + 2
        cur, seen = i, {i}
        while True:
            cc = chunk(cur)
            nxt = cc[CHUNK - 1]
            if nxt == UNUSED:
                stop = off if end_offset == UNUSED else max(off, end_offset)
                content += cc[1 + off:1 + stop]
                break
            content += cc[1 + off:1 + DATA]
            if not 1 <= nxt <= n or nxt in seen:
                raise corrupt(f"chunk {cur} links to chunk {nxt}")
            if chunk(nxt)[0] != cur:
                raise corrupt(f"chunk {nxt} does not link back to chunk {cur}")
            seen.add(nxt)
            cur, off = nxt, 0
        try:
            key = fname.decode()
        except UnicodeDecodeError:
            raise corrupt(f"chunk {i}: file name is not UTF-8") from None
        if key in files:
            raise corrupt(f"two files named {key!r}")
        files[key] = bytes(content)
    return files


def new_filesystem(lay: Layout) -> MicrobitFsImage:
    if not lay.resolved:
        raise FsError(f"board {lay.board}: the micro:bit filesystem's place depends on the firmware: give it with "
                      f"--firmware")
    return MicrobitFsImage(lay, {})


def open_image(lay: Layout, data: bytes, name: str) -> MicrobitFsImage:
    if not lay.resolved:
        lay = fit(lay, len(data), name)
    if len(data) != lay.size:
        # built for another firmware (another region start): keep the files, lay them out again
        other = fit(_unresolved(lay), len(data), name)
        img = MicrobitFsImage(lay, {})
        for fname, content in parse(other, data, name).items():
            img.write("/" + fname, content)
        return img
    if is_erased(data):
        return MicrobitFsImage(lay, {})
    return MicrobitFsImage(lay, parse(lay, data, name), raw=bytes(data))


def _unresolved(lay: Layout) -> Layout:
    from dataclasses import replace
    return replace(lay, resolved=False, extra=dict(lay.extra))
