"""Firmware image loaders: ELF, UF2, Intel HEX and raw BIN.

``load_image(path)`` returns an :class:`Image`: the bytes to place in memory as segments at
their load addresses, the entry point when the format carries one, and (ELF only) a
:class:`SymbolTable` for fault reports and the debugger.

Every problem with a file is an :class:`ImageError` whose text is a single line,
``"<path>: <problem>"``; the CLI prints it as is. Nothing here lets a parser exception
(pyelftools, struct, bad hex digits) escape as a traceback.

Pure Python; the only dependency is pyelftools (imported lazily, for ELF files only).
"""
from __future__ import annotations

import bisect
import io
import os
import struct
from dataclasses import dataclass

__all__ = [
    "UF2_FAMILIES",
    "Image",
    "ImageError",
    "Segment",
    "SymbolTable",
    "detect_format",
    "family_name",
    "load_image",
]

FORMATS = ("elf", "uf2", "hex", "bin")

# -- UF2 constants (https://github.com/microsoft/uf2) -------------------------------------------
UF2_MAGIC0, UF2_MAGIC1, UF2_MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
UF2_BLOCK = 512
UF2_MAX_PAYLOAD = 476
UF2_FLAG_NOT_MAIN_FLASH = 0x00000001
UF2_FLAG_FILE_CONTAINER = 0x00001000
UF2_FLAG_FAMILY = 0x00002000

#: Family ids by short name. The first name listed for an id is the one ``family_name`` gives.
#: Note: Microsoft's uf2families.json registers 0x1b57745f as "NRF52"; nRF51 boards use the
#: same id in practice, and this project's board files call it nrf51.
UF2_FAMILIES: dict[str, int] = {
    "rp2040": 0xE48BFF56,
    "rp2xxx-absolute": 0xE48BFF57,
    "rp2xxx-data": 0xE48BFF58,
    "rp2350-arm-s": 0xE48BFF59,
    "rp2350-riscv": 0xE48BFF5A,
    "rp2350-arm-ns": 0xE48BFF5B,
    "nrf51": 0x1B57745F,
    "nrf52": 0x1B57745F,
    "nrf52833": 0x621E937A,
    "nrf52840": 0xADA52840,
    "stm32f0": 0x647824B6,
    "stm32f1": 0x5EE21072,
    "stm32f2": 0x5D1A0A2E,
    "stm32f3": 0x6B846188,
    "stm32f4": 0x57755A57,
    "stm32f407": 0x6D0922FA,
    "stm32f7": 0x53B80F00,
    "stm32g0": 0x300F5633,
    "stm32g4": 0x4C71240A,
    "stm32h7": 0x6DB66082,
    "stm32l0": 0x202E3A91,
    "stm32l1": 0x1E1F432D,
    "stm32l4": 0x00FF6919,
    "stm32wb": 0x70D16653,
    "samd21": 0x68ED2B88,
    "samd51": 0x55114460,
    "saml21": 0x1851780A,
    "mimxrt10xx": 0x4FB2D5BD,
    "lpc55": 0x2ABC77EC,
    "esp32": 0x1C5F21B0,
    "esp32s2": 0xBFDD4EEE,
    "esp32s3": 0xC47E5767,
    "esp32c3": 0xD42BA06C,
}
_FAMILY_NAMES: dict[int, str] = {}
for _name, _fid in UF2_FAMILIES.items():
    _FAMILY_NAMES.setdefault(_fid, _name)
del _name, _fid


def family_name(fid: int) -> str:
    """Reverse lookup of :data:`UF2_FAMILIES`: ``0xe48bff56 -> "rp2040"``; an unknown id is
    returned as ``"0x%08x"``."""
    return _FAMILY_NAMES.get(fid, f"0x{fid:08x}")


def _family_id(path, family) -> int | None:
    """The ``family`` argument as an int: an int, a name from UF2_FAMILIES, or a number string."""
    if family is None or isinstance(family, int):
        return family
    s = str(family).strip()
    if s.lower() in UF2_FAMILIES:
        return UF2_FAMILIES[s.lower()]
    try:
        return int(s, 0)
    except ValueError:
        raise ImageError(path, f"unknown UF2 family {s!r}") from None


def _describe_family(fid: int) -> str:
    """``0xe48bff56 (rp2040)``, or just the hex for an unknown id."""
    name = _FAMILY_NAMES.get(fid)
    return f"0x{fid:08x} ({name})" if name else f"0x{fid:08x}"


def _describe_board_family(fid: int) -> str:
    """``nrf51 (0x1b57745f)``, or ``family 0x12345678`` for an unknown id."""
    name = _FAMILY_NAMES.get(fid)
    return f"{name} (0x{fid:08x})" if name else f"family 0x{fid:08x}"


# -- ELF constants --------------------------------------------------------------------------------
EM_ARM = 40
EM_NAMES = {
    0: "no machine (EM_NONE)", 2: "SPARC (EM_SPARC)", 3: "x86 (EM_386)", 8: "MIPS (EM_MIPS)",
    20: "PowerPC (EM_PPC)", 21: "PowerPC64 (EM_PPC64)", 22: "S/390 (EM_S390)", 40: "ARM (EM_ARM)",
    42: "SuperH (EM_SH)", 50: "IA-64 (EM_IA_64)", 62: "x86-64 (EM_X86_64)", 83: "AVR (EM_AVR)",
    94: "Xtensa (EM_XTENSA)", 105: "MSP430 (EM_MSP430)", 183: "AArch64 (EM_AARCH64)",
    243: "RISC-V (EM_RISCV)", 258: "LoongArch (EM_LOONGARCH)",
}
ET_NAMES = {0: "ET_NONE", 1: "ET_REL", 2: "ET_EXEC", 3: "ET_DYN", 4: "ET_CORE"}


class ImageError(Exception):
    """A user-facing problem with a firmware file: ``str(e) == f"{path}: {problem}"``, one line."""

    def __init__(self, path, problem):
        self.path = str(path)
        # whatever the cause text looks like, the message stays on one line
        self.problem = " ".join(str(problem).split())
        super().__init__(self.path, self.problem)       # args kept so the error pickles

    def __str__(self):
        return f"{self.path}: {self.problem}"


@dataclass
class Segment:
    """Bytes to place at ``addr`` (the load address: an ELF segment's p_paddr)."""
    addr: int
    data: bytes

    @property
    def end(self) -> int:
        return self.addr + len(self.data)


class SymbolTable:
    """Address -> symbol lookups (bisect over a sorted table) and name -> address.

    ``symbols`` is a list of ``(addr, size, name)`` with the Thumb bit already cleared for
    functions. When several symbols share an address and size, the one listed first wins
    (the ELF loader lists global functions/objects before weak aliases, locals and labels);
    at a shared address a sized symbol that covers the address wins over a label.
    """

    _UNSIZED_REACH = 0x10000

    def __init__(self, symbols, *, names_only=()):
        seen = set()
        rows = []
        self._by_name: dict[str, int] = {}
        for i, (addr, size, name) in enumerate(symbols):
            if not name or (addr, size, name) in seen:
                continue
            seen.add((addr, size, name))
            rows.append((int(addr), int(size), -i, name))
            self._by_name.setdefault(name, int(addr))
        # names that address_of knows but lookup never answers with (linker constants)
        for addr, _size, name in names_only:
            if name:
                self._by_name.setdefault(name, int(addr))
        rows.sort()                       # by address, then size; earlier input sorts last
        self._addrs = [r[0] for r in rows]
        self._syms = [(r[0], r[1], r[3]) for r in rows]

    def __len__(self):
        return len(self._syms)

    def __iter__(self):
        """``(addr, size, name)`` in address order."""
        return iter(self._syms)

    def lookup(self, addr: int) -> tuple[str, int] | None:
        """``(name, offset)`` of the nearest symbol at or below ``addr`` that covers it: within
        its size when it has one, else within 64 KiB. None when nothing covers ``addr``."""
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        base = self._addrs[i]
        # among the symbols at that address (largest size first, then input order), the first
        # one that covers addr
        while i >= 0 and self._addrs[i] == base:
            _a, size, name = self._syms[i]
            off = addr - base
            if (off < size) if size > 0 else (off < self._UNSIZED_REACH):
                return name, off
            i -= 1
        return None

    def address_of(self, name: str) -> int | None:
        return self._by_name.get(name)

    def format(self, addr: int) -> str:
        """``"name+0x12"`` (``"name"`` at offset 0), or ``"0x0000abcd"`` when no symbol covers it."""
        hit = self.lookup(addr)
        if hit is None:
            return f"0x{addr:08x}"
        name, off = hit
        return f"{name}+0x{off:x}" if off else name


@dataclass
class Image:
    path: str
    format: str                        # "elf" | "uf2" | "hex" | "bin"
    segments: list[Segment]            # sorted, contiguous pieces merged, no overlaps
    entry: int | None = None           # ELF e_entry (as stored, Thumb bit included); HEX 05 (or 03)
    symbols: SymbolTable | None = None  # ELF only
    uf2_family: int | None = None

    def span(self) -> tuple[int, int]:
        """(lowest address, highest end) over all segments."""
        return self.segments[0].addr, self.segments[-1].end

    def size(self) -> int:
        """Total bytes in all segments."""
        return sum(len(s.data) for s in self.segments)

    def read(self, addr: int, size: int) -> bytes:
        """``size`` bytes at ``addr`` from the segments; gaps read as 0xFF (erased flash)."""
        out = bytearray(b"\xff" * size)
        end = addr + size
        for s in self.segments:
            if s.addr >= end:
                break
            lo, hi = max(addr, s.addr), min(end, s.end)
            if lo < hi:
                out[lo - addr:hi - addr] = s.data[lo - s.addr:hi - s.addr]
        return bytes(out)


def _merge(path, pieces) -> list[Segment]:
    """Sort ``(addr, bytes)`` pieces, reject overlaps, merge contiguous ones."""
    pieces = sorted(((a, d) for a, d in pieces if d), key=lambda p: p[0])
    out: list[list] = []
    for addr, data in pieces:
        if out:
            last_addr, last = out[-1]
            end = last_addr + len(last)
            if addr < end:
                raise ImageError(path, f"overlapping data at 0x{addr:08x} (already filled from "
                                       f"0x{last_addr:08x} to 0x{end:08x})")
            if addr == end:
                last += data
                continue
        out.append([addr, bytearray(data)])
    return [Segment(a, bytes(d)) for a, d in out]


# -- detection ----------------------------------------------------------------------------------
_HEX_CHARS = frozenset(b":0123456789ABCDEFabcdef\r\n \t")
_EXTENSIONS = {".bin": "bin", ".img": "bin", ".hex": "hex", ".ihex": "hex", ".ihx": "hex",
               ".uf2": "uf2", ".elf": "elf", ".axf": "elf", ".out": "elf"}


def detect_format(path, head: bytes) -> str | None:
    """The format of a file from its first bytes (content first), then its extension."""
    if head[:4] == b"\x7fELF":
        return "elf"
    if len(head) >= 8 and struct.unpack_from("<II", head) == (UF2_MAGIC0, UF2_MAGIC1):
        return "uf2"
    text = head[:64].lstrip()
    if text[:1] == b":" and all(c in _HEX_CHARS for c in text):
        return "hex"
    return _EXTENSIONS.get(os.path.splitext(str(path))[1].lower())


def load_image(path, *, fmt=None, base=None, family=None) -> Image:
    """Load a firmware file.

    ``fmt`` forces the format ("elf", "uf2", "hex", "bin"); ``base`` is the load address of a
    raw binary; ``family`` (an int id, or a name from UF2_FAMILIES) is the board's UF2 family:
    a UF2 file for another family is refused.
    """
    path = str(path)
    if os.path.isdir(path):
        raise ImageError(path, "is a directory")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ImageError(path, "no such file") from None
    except OSError as e:
        raise ImageError(path, f"cannot read: {e.strerror or e}") from None
    if not data:
        raise ImageError(path, "empty file")
    if fmt is not None:
        kind = str(fmt).lower()
        if kind not in FORMATS:
            raise ImageError(path, f"unknown image format {fmt!r} (expected one of {', '.join(FORMATS)})")
    else:
        kind = detect_format(path, data[:64])
        if kind is None:
            raise ImageError(path, "unknown image format (expected ELF, UF2, Intel HEX, "
                                   "or a .bin with a load address)")
    if kind == "elf":
        return _load_elf(path, data)
    if kind == "uf2":
        return _load_uf2(path, data, _family_id(path, family))
    if kind == "hex":
        return _load_hex(path, data)
    return _load_bin(path, data, base)


# -- BIN ----------------------------------------------------------------------------------------
def _load_bin(path, data: bytes, base) -> Image:
    if base is None:
        raise ImageError(path, "raw .bin needs a load address (--base ADDR)")
    if not isinstance(base, int):
        try:
            base = int(str(base), 0)
        except ValueError:
            raise ImageError(path, f"bad load address {base!r}") from None
    if base < 0 or base + len(data) > 1 << 32:
        raise ImageError(path, f"{len(data)} bytes at 0x{base:x} do not fit the 32-bit address space")
    return Image(path, "bin", [Segment(base, data)])


# -- ELF ----------------------------------------------------------------------------------------
def _load_elf(path, data: bytes) -> Image:
    if len(data) < 52:
        raise ImageError(path, f"corrupt ELF: truncated header ({len(data)} bytes)")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise ImageError(path, f"corrupt ELF: bad identification (class {ei_class}, data {ei_data})")
    e_type, machine = struct.unpack_from("<HH" if ei_data == 1 else ">HH", data, 16)
    if (ei_class, ei_data, machine) != (1, 1, EM_ARM):
        what = EM_NAMES.get(machine, f"machine {machine}")
        quirks = []
        if ei_class != 1:
            quirks.append("64-bit")
        if ei_data != 1:
            quirks.append("big-endian")
        if machine == EM_ARM or machine == 0:
            what = f"{' '.join(quirks)} {what}".strip()
        raise ImageError(path, f"ELF for {what}, expected 32-bit little-endian ARM")
    if e_type != 2:     # ET_EXEC
        kind = ET_NAMES.get(e_type, f"type {e_type}")
        if e_type == 1:
            raise ImageError(path, "ELF is a relocatable object file (ET_REL), not a linked program")
        if e_type != 3:                # ET_DYN may still carry PT_LOAD segments: let it through
            raise ImageError(path, f"ELF of type {kind}, expected an executable (ET_EXEC)")

    from elftools.elf.elffile import ELFFile  # lazy: only ELF files need pyelftools

    try:
        elf = ELFFile(io.BytesIO(data))
        pieces = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                continue
            off, n, paddr = seg["p_offset"], seg["p_filesz"], seg["p_paddr"]
            if off + n > len(data):
                raise ImageError(path, f"corrupt ELF: segment at 0x{paddr:08x} runs past the end of the file")
            pieces.append((paddr, data[off:off + n]))
        symbols = _elf_symbols(elf)
        entry = elf.header["e_entry"]
    except ImageError:
        raise
    except Exception as e:  # noqa: BLE001 -- pyelftools raises assorted errors on damaged files
        detail = str(e) or type(e).__name__
        raise ImageError(path, f"corrupt ELF: {detail}") from None
    if not pieces:
        raise ImageError(path, "ELF has no loadable segments (no PT_LOAD with file contents)")
    return Image(path, "elf", _merge(path, pieces), entry=entry, symbols=symbols)


_SYM_TYPES = ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE")
_BIND_RANK = {"STB_GLOBAL": 0, "STB_WEAK": 1, "STB_LOCAL": 2}


def _elf_symbols(elf) -> SymbolTable:
    """Named functions, objects and labels from .symtab, best names first: for one address,
    global before weak (aliases such as IRQ handlers bound to Default_Handler) before local,
    functions/objects before untyped labels."""
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None or not hasattr(symtab, "iter_symbols"):
        return SymbolTable([])
    ranked = []
    constants = []
    for sym in symtab.iter_symbols():
        info = sym["st_info"]
        typ = info["type"]
        if typ not in _SYM_TYPES:
            continue
        name = sym.name
        shndx = sym["st_shndx"]
        if not name or shndx == "SHN_UNDEF":
            continue
        addr = sym["st_value"]
        if typ == "STT_NOTYPE":
            if name.startswith("$"):        # ARM mapping symbols ($a, $t, $d): not names
                continue
            if shndx == "SHN_ABS":
                # linker constants (_Min_Stack_Size = 0x400, _estack): values, not places;
                # address_of knows them, lookup must not name code after them
                constants.append((addr, 0, name))
                continue
        if typ == "STT_FUNC":
            addr &= ~1
        rank = (_BIND_RANK.get(info["bind"], 3), typ == "STT_NOTYPE")
        ranked.append((rank, addr, sym["st_size"], name))
    ranked.sort(key=lambda r: r[0])
    return SymbolTable([(a, s, n) for _r, a, s, n in ranked], names_only=constants)


# -- UF2 ----------------------------------------------------------------------------------------
def _load_uf2(path, data: bytes, family: int | None) -> Image:
    if len(data) % UF2_BLOCK:
        raise ImageError(path, f"truncated UF2: {len(data)} bytes is not a whole number of "
                               f"{UF2_BLOCK}-byte blocks")
    # blocks grouped by family (None: blocks without a family id); a file may hold several
    groups: dict[int | None, dict] = {}
    for i in range(len(data) // UF2_BLOCK):
        at = i * UF2_BLOCK
        m0, m1, flags, addr, size, blockno, total, fid = struct.unpack_from("<8I", data, at)
        (mend,) = struct.unpack_from("<I", data, at + UF2_BLOCK - 4)
        if m0 != UF2_MAGIC0 or m1 != UF2_MAGIC1:
            raise ImageError(path, f"corrupt UF2: bad magic in block {i} (offset 0x{at:x})")
        if mend != UF2_MAGIC_END:
            raise ImageError(path, f"corrupt UF2: bad end magic in block {i} (offset 0x{at:x})")
        if size > UF2_MAX_PAYLOAD:
            raise ImageError(path, f"corrupt UF2: block {i} payload size {size} > {UF2_MAX_PAYLOAD}")
        key = fid if flags & UF2_FLAG_FAMILY else None
        g = groups.setdefault(key, {"total": total, "first": i, "numbers": set(), "pieces": []})
        if total != g["total"]:
            raise ImageError(path, f"corrupt UF2: block {i} says {total} blocks, block "
                                   f"{g['first']} says {g['total']}")
        if blockno >= total:
            raise ImageError(path, f"corrupt UF2: block {i} is number {blockno} of {total}")
        g["numbers"].add(blockno)
        if flags & (UF2_FLAG_NOT_MAIN_FLASH | UF2_FLAG_FILE_CONTAINER):
            continue
        if addr + size > 1 << 32:
            raise ImageError(path, f"corrupt UF2: block {i} at 0x{addr:08x} runs past 4 GiB")
        g["pieces"].append((addr, data[at + 32:at + 32 + size]))

    families = [k for k in groups if k is not None]
    if family is not None and families and family not in groups:
        if len(families) == 1:
            problem = (f"UF2 family {_describe_family(families[0])} does not match board chip "
                       f"{_describe_board_family(family)}")
        else:
            problem = (f"UF2 families {', '.join(map(_describe_family, families))} do not include "
                       f"board chip {_describe_board_family(family)}")
        raise ImageError(path, problem)
    if family is not None and family in groups:
        key = family
    else:
        # no board family to choose by: the first family that holds flash contents (a plain
        # id-less file has the single key None)
        key = next((k for k in groups if groups[k]["pieces"]), next(iter(groups)))
    g = groups[key]
    if len(g["numbers"]) != g["total"]:
        which = f" for family {_describe_family(key)}" if key is not None and len(groups) > 1 else ""
        raise ImageError(path, f"truncated UF2: {len(g['numbers'])} of {g['total']} blocks present{which}")
    if not g["pieces"]:
        raise ImageError(path, "UF2 has no blocks for main flash")
    return Image(path, "uf2", _merge(path, g["pieces"]), uf2_family=key)


# -- Intel HEX ----------------------------------------------------------------------------------
_HEX_ADDR_LEN = {0x01: 0, 0x02: 2, 0x03: 4, 0x04: 2, 0x05: 4}


def _load_hex(path, data: bytes) -> Image:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ImageError(path, f"line {line}: not an Intel HEX file (non-ASCII byte 0x{data[e.start]:02x})") from None
    upper = 0
    entry = seg_entry = None
    pieces = []
    cur_addr = 0
    cur = bytearray()
    seen_eof = False
    fromhex = bytes.fromhex
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line[0] != ":":
            raise ImageError(path, f"line {lineno}: Intel HEX record does not start with ':'")
        try:
            rec = fromhex(line[1:])
        except ValueError:
            raise ImageError(path, f"line {lineno}: invalid characters in Intel HEX record "
                                   "(expected pairs of hex digits)") from None
        n = len(rec)
        if n < 5 or n != rec[0] + 5:
            raise ImageError(path, f"line {lineno}: record length does not match its byte count")
        if sum(rec) & 0xFF:
            raise ImageError(path, f"line {lineno}: checksum mismatch (record has 0x{rec[-1]:02x}, "
                                   f"expected 0x{(rec[-1] - sum(rec)) & 0xFF:02x})")
        rtype = rec[3]
        if rtype == 0x00:
            addr = upper + (rec[1] << 8 | rec[2])
            if addr == cur_addr + len(cur):
                cur += rec[4:-1]
            else:
                if cur:
                    pieces.append((cur_addr, bytes(cur)))
                cur_addr, cur = addr, bytearray(rec[4:-1])
            continue
        want = _HEX_ADDR_LEN.get(rtype)
        if want is None:
            # e.g. the 0x0A..0x0E records of a micro:bit Universal Hex: not for a plain loader
            continue
        if rec[0] != want:
            raise ImageError(path, f"line {lineno}: record type {rtype:02X} must carry {want} "
                                   f"bytes, has {rec[0]}")
        if rtype == 0x01:
            seen_eof = True
            break
        if rtype == 0x02:
            upper = (rec[4] << 8 | rec[5]) << 4
        elif rtype == 0x04:
            upper = (rec[4] << 8 | rec[5]) << 16
        elif rtype == 0x05:
            entry = int.from_bytes(rec[4:8], "big")
        elif rtype == 0x03:
            # start segment address CS:IP: GNU objcopy writes this instead of type 05 when the
            # entry fits in 20 bits (flash at 0), so it is the entry unless a type 05 says otherwise
            seg_entry = ((rec[4] << 8 | rec[5]) << 4) + (rec[6] << 8 | rec[7])
    if cur:
        pieces.append((cur_addr, bytes(cur)))
    if not seen_eof:
        raise ImageError(path, "truncated Intel HEX: no end-of-file record")
    if not pieces:
        raise ImageError(path, "Intel HEX has no data records")
    return Image(path, "hex", _merge(path, pieces), entry=entry if entry is not None else seg_entry)
