"""Firmware image loaders: ELF, UF2, Intel HEX and raw BIN.

``load_image(path)`` returns an :class:`Image` (segments at load addresses, entry, symbols).
Every problem with a file is an :class:`ImageError` whose text is one line:
``"<path>: <problem>"`` — the CLI prints it as is.
"""
from __future__ import annotations

import bisect
import os
import struct
from dataclasses import dataclass, field

UF2_MAGIC0, UF2_MAGIC1, UF2_MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
UF2_FLAG_NOT_MAIN_FLASH = 0x00000001
UF2_FLAG_FAMILY = 0x00002000

UF2_FAMILIES = {
    "rp2040": 0xE48BFF56,
    "nrf51": 0x1B57745F,
    "nrf52840": 0xADA52840,
    "stm32f4": 0x57755A57,
    "stm32f1": 0x5EE21072,
    "samd21": 0x68ED2B88,
    "samd51": 0x55114460,
    "esp32": 0x1C5F21B0,
    "esp32s2": 0xBFDD4EEE,
}
_FAMILY_NAMES = {}
for _n, _v in UF2_FAMILIES.items():
    _FAMILY_NAMES.setdefault(_v, _n)

EM_NAMES = {3: "x86 (EM_386)", 62: "x86-64 (EM_X86_64)", 183: "AArch64 (EM_AARCH64)", 243: "RISC-V (EM_RISCV)",
            8: "MIPS (EM_MIPS)", 94: "Xtensa (EM_XTENSA)", 20: "PowerPC (EM_PPC)"}


def family_name(fid: int | None) -> str:
    if fid is None:
        return "none"
    name = _FAMILY_NAMES.get(fid)
    return f"0x{fid:08x} ({name})" if name else f"0x{fid:08x}"


class ImageError(Exception):
    """A user-facing problem with a firmware file: ``str(e) == "<path>: <problem>"``."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


@dataclass
class Segment:
    addr: int
    data: bytes

    @property
    def end(self):
        return self.addr + len(self.data)


class SymbolTable:
    """Address -> symbol lookups for fault reports and the debugger."""

    def __init__(self, symbols):
        syms = sorted((a, s, n) for a, s, n in symbols if n)
        self._addrs = [a for a, _, _ in syms]
        self._syms = syms
        self._by_name = {}
        for a, _s, n in syms:
            self._by_name.setdefault(n, a)

    def __len__(self):
        return len(self._syms)

    def lookup(self, addr: int):
        i = bisect.bisect_right(self._addrs, addr) - 1
        while i >= 0:
            a, size, name = self._syms[i]
            if size > 0:
                if addr < a + size:
                    return name, addr - a
            elif addr - a < 0x10000:
                return name, addr - a
            # a zero-size or smaller symbol at the same address: try the previous one
            if i > 0 and self._addrs[i - 1] == a:
                i -= 1
                continue
            return None
        return None

    def address_of(self, name: str):
        return self._by_name.get(name)

    def format(self, addr: int) -> str:
        hit = self.lookup(addr)
        if hit is None:
            return f"0x{addr:08x}"
        name, off = hit
        return f"{name}+0x{off:x}" if off else name


@dataclass
class Image:
    path: str
    format: str
    segments: list
    entry: int | None = None
    symbols: SymbolTable | None = None
    uf2_family: int | None = None
    extra: dict = field(default_factory=dict)

    def span(self):
        return self.segments[0].addr, self.segments[-1].end

    def read(self, addr: int, size: int) -> bytes:
        out = bytearray(b"\xff" * size)
        for s in self.segments:
            lo, hi = max(addr, s.addr), min(addr + size, s.end)
            if lo < hi:
                out[lo - addr:hi - addr] = s.data[lo - s.addr:hi - s.addr]
        return bytes(out)


def _merge(path, pieces) -> list:
    """Sort (addr, bytes) pieces, reject overlaps, merge contiguous ones."""
    pieces = sorted((a, d) for a, d in pieces if d)
    out: list[list] = []
    for addr, data in pieces:
        if out:
            last_addr, last = out[-1]
            end = last_addr + len(last)
            if addr < end:
                raise ImageError(path, f"overlapping data at 0x{addr:08x}")
            if addr == end:
                last += data
                continue
        out.append([addr, bytearray(data)])
    return [Segment(a, bytes(d)) for a, d in out]


def detect_format(path, head: bytes) -> str | None:
    if head[:4] == b"\x7fELF":
        return "elf"
    if len(head) >= 8 and struct.unpack_from("<II", head) == (UF2_MAGIC0, UF2_MAGIC1):
        return "uf2"
    if head[:1] == b":":
        return "hex"
    ext = os.path.splitext(str(path))[1].lower()
    return {".bin": "bin", ".img": "bin", ".hex": "hex", ".uf2": "uf2", ".elf": "elf"}.get(ext)


def load_image(path, *, fmt=None, base=None, family=None) -> Image:
    path = str(path)
    if not os.path.exists(path):
        raise ImageError(path, "no such file")
    if os.path.isdir(path):
        raise ImageError(path, "is a directory")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ImageError(path, f"cannot read: {e.strerror}") from None
    if not data:
        raise ImageError(path, "empty file")
    kind = fmt or detect_format(path, data[:16])
    if kind is None:
        raise ImageError(path, "unknown image format (expected ELF, UF2, Intel HEX, or .bin with a load address)")
    if kind == "elf":
        return _load_elf(path, data)
    if kind == "uf2":
        return _load_uf2(path, data, family)
    if kind == "hex":
        return _load_hex(path, data)
    if kind == "bin":
        if base is None:
            raise ImageError(path, "raw .bin needs a load address (--base ADDR)")
        return Image(path, "bin", [Segment(int(base), data)])
    raise ImageError(path, f"unknown format {kind!r}")


# -- ELF -------------------------------------------------------------------------------------
def _load_elf(path, data: bytes) -> Image:
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    if len(data) < 52:
        raise ImageError(path, "corrupt ELF: truncated header")
    ei_class, ei_data = data[4], data[5]
    machine = struct.unpack_from("<H" if ei_data == 1 else ">H", data, 18)[0]
    if ei_class != 1 or ei_data != 1 or machine != 40:
        what = EM_NAMES.get(machine, f"machine {machine}")
        bits = {1: "32-bit", 2: "64-bit"}.get(ei_class, "unknown class")
        raise ImageError(path, f"ELF for {what}, {bits}; expected 32-bit little-endian ARM")
    try:
        elf = ELFFile(io.BytesIO(data))
        pieces = []
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0:
                off, n = seg["p_offset"], seg["p_filesz"]
                if off + n > len(data):
                    raise ImageError(path, f"corrupt ELF: segment at 0x{seg['p_paddr']:08x} runs past the end of the file")
                pieces.append((seg["p_paddr"], data[off:off + n]))
        symbols = []
        symtab = elf.get_section_by_name(".symtab")
        if symtab is not None:
            for sym in symtab.iter_symbols():
                typ = sym["st_info"]["type"]
                name = sym.name
                if not name or name.startswith("$") or sym["st_shndx"] == "SHN_UNDEF":
                    continue
                if typ in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                    addr = sym["st_value"]
                    if typ == "STT_FUNC":
                        addr &= ~1
                    symbols.append((addr, sym["st_size"], name))
        entry = elf.header["e_entry"]
    except ImageError:
        raise
    except (ELFError, struct.error, ValueError, KeyError, IndexError, OSError) as e:
        raise ImageError(path, f"corrupt ELF: {e}") from None
    except Exception as e:          # pyelftools raises assorted errors on damaged files
        raise ImageError(path, f"corrupt ELF: {type(e).__name__}: {e}") from None
    if not pieces:
        raise ImageError(path, "ELF has no loadable segments")
    return Image(path, "elf", _merge(path, pieces), entry=entry, symbols=SymbolTable(symbols))


# -- UF2 -------------------------------------------------------------------------------------
def _load_uf2(path, data: bytes, family) -> Image:
    if len(data) % 512:
        raise ImageError(path, f"truncated UF2: {len(data)} bytes is not a whole number of 512-byte blocks")
    pieces = []
    fam = None
    nblocks = len(data) // 512
    declared = None
    for i in range(nblocks):
        blk = data[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, blockno, total, fid = struct.unpack_from("<8I", blk)
        (mend,) = struct.unpack_from("<I", blk, 508)
        if m0 != UF2_MAGIC0 or m1 != UF2_MAGIC1 or mend != UF2_MAGIC_END:
            raise ImageError(path, f"corrupt UF2: bad magic in block {i}")
        if size > 476:
            raise ImageError(path, f"corrupt UF2: block {i} payload size {size} > 476")
        if declared is None:
            declared = total
        if flags & UF2_FLAG_NOT_MAIN_FLASH:
            continue
        if flags & UF2_FLAG_FAMILY:
            if fam is None:
                fam = fid
            elif fid != fam:
                continue            # multi-family file: keep the first family's blocks
        pieces.append((addr, blk[32:32 + size]))
    if declared is not None and declared > nblocks:
        raise ImageError(path, f"truncated UF2: {nblocks} of {declared} blocks present")
    if family is not None and fam is not None and fam != family:
        raise ImageError(path, f"UF2 family {family_name(fam)} does not match the board's chip family {family_name(family)}")
    if not pieces:
        raise ImageError(path, "UF2 has no blocks for main flash")
    return Image(path, "uf2", _merge(path, pieces), uf2_family=fam)


# -- Intel HEX ---------------------------------------------------------------------------------
def _load_hex(path, data: bytes) -> Image:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ImageError(path, "not an Intel HEX file (non-ASCII bytes)") from None
    upper = 0
    entry = None
    pieces = []
    cur_addr = None
    cur = bytearray()
    seen_eof = False
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line[0] != ":":
            raise ImageError(path, f"line {lineno}: Intel HEX record does not start with ':'")
        try:
            rec = bytes.fromhex(line[1:])
        except ValueError:
            raise ImageError(path, f"line {lineno}: invalid hex digits") from None
        if len(rec) < 5 or len(rec) != rec[0] + 5:
            raise ImageError(path, f"line {lineno}: record length does not match its byte count")
        if sum(rec) & 0xFF:
            raise ImageError(path, f"line {lineno}: checksum mismatch")
        n, off, rtype = rec[0], rec[1] << 8 | rec[2], rec[3]
        payload = rec[4:4 + n]
        if rtype == 0x00:
            addr = upper + off
            if cur_addr is not None and addr == cur_addr + len(cur):
                cur += payload
            else:
                if cur:
                    pieces.append((cur_addr, bytes(cur)))
                cur_addr, cur = addr, bytearray(payload)
        elif rtype == 0x01:
            seen_eof = True
            break
        elif rtype == 0x02:
            upper = (payload[0] << 8 | payload[1]) << 4
        elif rtype == 0x04:
            upper = (payload[0] << 8 | payload[1]) << 16
        elif rtype == 0x05:
            entry = int.from_bytes(payload, "big")
        elif rtype == 0x03:
            pass
        else:
            # unknown record types (e.g. 0x0A block markers in universal hex) are skipped
            continue
    if cur:
        pieces.append((cur_addr, bytes(cur)))
    if not seen_eof:
        raise ImageError(path, "truncated Intel HEX: no end-of-file record")
    if not pieces:
        raise ImageError(path, "Intel HEX has no data records")
    return Image(path, "hex", _merge(path, pieces), entry=entry)
