"""Firmware image loaders on real files: an ARM ELF built here with arm-none-eabi-gcc (and its
objcopy HEX/BIN), UF2 files written by a small writer below, the packaged micro:bit HEX, and
damaged or foreign files, which must give one-line errors that start with the file's path."""
from __future__ import annotations

import os
import pickle
import platform
import random
import shutil
import struct
import subprocess
import sys
import time

import pytest

from boardemu.emulator.loaders import (
    UF2_FAMILIES,
    Image,
    ImageError,
    Segment,
    SymbolTable,
    family_name,
    load_image,
)

MICROBIT_HEX = "/usr/share/firmware-microbit-micropython/firmware.hex"
CC = shutil.which("arm-none-eabi-gcc")
OBJCOPY = shutil.which("arm-none-eabi-objcopy")
needs_gcc = pytest.mark.skipif(CC is None, reason="arm-none-eabi-gcc is not installed (apt install gcc-arm-none-eabi)")

DATA_MAGIC = 0x12345678

C_SOURCE = r"""
int counter = 0x12345678;                 /* .data: VMA in RAM, initial value at its LMA in flash */
int scratch;                              /* .bss: not in the image */
const char banner[] = "loader test";      /* .rodata object */

int add(int a, int b)
{
    return a + b + counter;
}

void reset(void)
{
    for (;;)
        counter = add(counter, scratch);
}

__attribute__((used, section(".vectors")))
void (*const vectors[2])(void) = { (void (*)(void))0x20001000, reset };
"""

LINKER_SCRIPT = """
MEMORY
{
    FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 64K
    RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 16K
}
ENTRY(reset)
SECTIONS
{
    .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
    _sidata = LOADADDR(.data);
    .data : { _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT> FLASH
    .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM
    /DISCARD/ : { *(.ARM.exidx*) *(.ARM.attributes) *(.comment) }
}
"""


# -- helpers ----------------------------------------------------------------------------------
def expect_error(path, *needles, **kw) -> str:
    """load_image(path) must raise ImageError: one line, starting with the path, naming needles."""
    with pytest.raises(ImageError) as info:
        load_image(path, **kw)
    e = info.value
    text = str(e)
    assert "\n" not in text and "\r" not in text, text
    assert text.startswith(f"{path}: "), text
    assert e.path == str(path) and text == f"{e.path}: {e.problem}"
    for n in needles:
        assert n in text, f"{n!r} not in {text!r}"
    return text


def uf2_write(chunks, family=UF2_FAMILIES["rp2040"], flags=0, payload=256, total=None):
    """A UF2 file from ``[(addr, bytes), ...]``, ``payload`` bytes per block."""
    blocks = []
    for addr, data in chunks:
        for off in range(0, len(data), payload):
            blocks.append((addr + off, data[off:off + payload]))
    total = len(blocks) if total is None else total
    out = bytearray()
    for i, (addr, piece) in enumerate(blocks):
        fl = flags | (0x2000 if family is not None else 0)
        out += struct.pack("<8I", 0x0A324655, 0x9E5D5157, fl, addr, len(piece), i, total,
                           family if family is not None else 0)
        out += piece.ljust(476, b"\0") + struct.pack("<I", 0x0AB16F30)
    return bytes(out)


def hex_record(rtype, addr, payload=b""):
    rec = bytes([len(payload), (addr >> 8) & 0xFF, addr & 0xFF, rtype]) + payload
    return ":" + (rec + bytes([(-sum(rec)) & 0xFF])).hex().upper()


@pytest.fixture(scope="module")
def arm_elf(tmp_path_factory):
    """A tiny Cortex-M3 program linked with flash at 0 and RAM at 0x20000000."""
    if CC is None:
        pytest.skip("arm-none-eabi-gcc is not installed (apt install gcc-arm-none-eabi)")
    d = tmp_path_factory.mktemp("elf")
    (d / "prog.c").write_text(C_SOURCE)
    (d / "link.ld").write_text(LINKER_SCRIPT)
    out = d / "prog.elf"
    subprocess.run([CC, "-mcpu=cortex-m3", "-mthumb", "-O1", "-nostdlib", "-nostartfiles",
                    "-ffreestanding", "-T", str(d / "link.ld"), "-o", str(out), str(d / "prog.c")],
                   check=True, capture_output=True)
    return out


# -- ELF --------------------------------------------------------------------------------------
@needs_gcc
def test_elf_segments_at_load_addresses(arm_elf):
    img = load_image(arm_elf)
    assert img.format == "elf" and img.path == str(arm_elf)
    # everything lands in flash: .text/.rodata and, right after, .data's initial values at its LMA
    assert len(img.segments) == 1
    lo, hi = img.span()
    assert lo == 0 and hi <= 0x10000
    sidata = img.symbols.address_of("_sidata")        # an absolute linker symbol: address_of only
    assert sidata is not None and lo < sidata < hi
    assert img.read(sidata, 4) == struct.pack("<I", DATA_MAGIC)
    assert img.read(hi - 4, 4) == struct.pack("<I", DATA_MAGIC)
    # nothing at the RAM address (VMA) of .data, and .bss is not in the image
    assert all(not (s.addr <= 0x20000000 < s.end) for s in img.segments)
    assert img.symbols.address_of("counter") == 0x20000000
    # vector table: initial SP, then reset with the Thumb bit
    reset = img.symbols.address_of("reset")
    assert img.read(0, 8) == struct.pack("<II", 0x20001000, reset | 1)
    assert img.entry == reset | 1                      # e_entry as stored
    assert img.uf2_family is None


@needs_gcc
def test_elf_symbols(arm_elf):
    syms = load_image(arm_elf).symbols
    assert isinstance(syms, SymbolTable) and len(syms) >= 4
    add = syms.address_of("add")
    assert add is not None and add % 2 == 0            # Thumb bit cleared
    assert syms.lookup(add) == ("add", 0)
    assert syms.lookup(add + 2) == ("add", 2)
    assert syms.format(add) == "add"
    assert syms.format(add + 2) == "add+0x2"
    assert syms.lookup(0x20000000) == ("counter", 0)
    assert syms.lookup(syms.address_of("banner") + 3) == ("banner", 3)
    assert syms.address_of("no_such_symbol") is None
    assert syms.lookup(0xF0000000) is None
    assert syms.format(0xF0000000) == "0xf0000000"
    names = {name for _a, _s, name in syms}
    assert not any(n.startswith("$") for n in names)   # no ARM mapping symbols
    assert "_sidata" not in names                      # linker constants never name code


@needs_gcc
def test_elf_objcopy_hex_and_bin_hold_the_same_bytes(arm_elf, tmp_path):
    if OBJCOPY is None:
        pytest.skip("arm-none-eabi-objcopy is not installed")
    elf = load_image(arm_elf)
    lo, hi = elf.span()
    hexfile, binfile = tmp_path / "prog.hex", tmp_path / "prog.bin"
    subprocess.run([OBJCOPY, "-O", "ihex", str(arm_elf), str(hexfile)], check=True)
    subprocess.run([OBJCOPY, "-O", "binary", str(arm_elf), str(binfile)], check=True)
    h = load_image(hexfile)
    assert h.format == "hex" and h.symbols is None
    assert h.span() == (lo, hi) and h.read(lo, hi - lo) == elf.read(lo, hi - lo)
    assert h.entry == elf.entry       # objcopy writes a low entry as a start segment record (03)
    b = load_image(binfile, base=0)
    assert b.format == "bin" and b.entry is None
    assert b.read(lo, hi - lo) == elf.read(lo, hi - lo)


def test_foreign_elf_names_the_architecture():
    exe = os.path.realpath(sys.executable)
    if platform.machine() in ("x86_64", "AMD64"):
        expect_error(exe, "ELF for x86-64 (EM_X86_64)", "expected 32-bit")
    else:
        expect_error(exe, "expected 32-bit little-endian ARM")


@needs_gcc
def test_patched_elf_headers(arm_elf, tmp_path):
    raw = bytearray(arm_elf.read_bytes())
    other = bytearray(raw)
    other[18:20] = struct.pack("<H", 62)
    (tmp_path / "x86.elf").write_bytes(other)
    expect_error(tmp_path / "x86.elf", "x86-64", "expected 32-bit")
    big = bytearray(raw)
    big[5] = 2
    big[18:20] = struct.pack(">H", 40)
    (tmp_path / "be.elf").write_bytes(big)
    expect_error(tmp_path / "be.elf", "big-endian ARM")
    wide = bytearray(raw)
    wide[4] = 2
    (tmp_path / "64.elf").write_bytes(wide)
    expect_error(tmp_path / "64.elf", "64-bit ARM")


@needs_gcc
def test_truncated_elf(arm_elf, tmp_path):
    p = tmp_path / "trunc.elf"
    p.write_bytes(arm_elf.read_bytes()[:100])
    expect_error(p, "corrupt ELF")


def test_truncated_elf_header(tmp_path):
    p = tmp_path / "stub.elf"
    p.write_bytes(b"\x7fELF\x01\x01\x01")
    expect_error(p, "corrupt ELF", "truncated header")


@needs_gcc
def test_damaged_elves_never_raise_anything_but_image_error(arm_elf, tmp_path):
    raw = arm_elf.read_bytes()
    rng = random.Random(1234)
    p = tmp_path / "damaged.elf"
    cases = [raw[:n] for n in range(4, len(raw), max(1, len(raw) // 97))]
    for _ in range(150):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(4, len(b))] = rng.randrange(256)
        cases.append(bytes(b))
    for case in cases:
        p.write_bytes(case)
        try:
            load_image(p)
        except ImageError as e:
            assert "\n" not in str(e) and str(e).startswith(f"{p}: ")


@needs_gcc
def test_relocatable_object_is_refused(tmp_path):
    (tmp_path / "m.c").write_text("int f(int x) { return x + 1; }\n")
    obj = tmp_path / "m.o"
    subprocess.run([CC, "-mcpu=cortex-m0", "-mthumb", "-c", "-o", str(obj), str(tmp_path / "m.c")],
                   check=True, capture_output=True)
    expect_error(obj, "relocatable")


# -- UF2 --------------------------------------------------------------------------------------
def test_uf2_round_trip(tmp_path):
    blob = bytes(random.Random(7).randrange(256) for _ in range(3000))
    p = tmp_path / "fw.uf2"
    p.write_bytes(uf2_write([(0x10000000, blob), (0x10100000, b"tail")]))
    img = load_image(p)
    assert img.format == "uf2" and img.uf2_family == UF2_FAMILIES["rp2040"]
    assert [(s.addr, s.data) for s in img.segments] == [(0x10000000, blob), (0x10100000, b"tail")]
    assert img.entry is None and img.symbols is None
    # the right family, as an id or a name, is accepted
    assert load_image(p, family=0xE48BFF56).segments == img.segments
    assert load_image(p, family="rp2040").uf2_family == 0xE48BFF56
    # 476-byte payloads, no family id, detected by content whatever the name
    q = tmp_path / "fw.data"
    q.write_bytes(uf2_write([(0x2000, blob)], family=None, payload=476))
    img = load_image(q, family=UF2_FAMILIES["nrf51"])      # no family in the file: no check
    assert img.uf2_family is None and img.segments == [Segment(0x2000, blob)]


def test_uf2_wrong_family(tmp_path):
    p = tmp_path / "fw.uf2"
    p.write_bytes(uf2_write([(0x10000000, bytes(1024))]))
    text = expect_error(p, family=UF2_FAMILIES["nrf51"])
    assert text == (f"{p}: UF2 family 0xe48bff56 (rp2040) does not match board chip "
                    "nrf51 (0x1b57745f)")
    expect_error(p, "0xe48bff56 (rp2040)", "0x12345678", family=0x12345678)


def test_uf2_several_families(tmp_path):
    p = tmp_path / "multi.uf2"
    p.write_bytes(uf2_write([(0x10000000, b"A" * 512)], family=UF2_FAMILIES["rp2040"])
                  + uf2_write([(0x1000, b"B" * 512)], family=UF2_FAMILIES["samd21"]))
    assert load_image(p).segments == [Segment(0x10000000, b"A" * 512)]
    img = load_image(p, family=UF2_FAMILIES["samd21"])
    assert img.uf2_family == UF2_FAMILIES["samd21"] and img.segments == [Segment(0x1000, b"B" * 512)]
    expect_error(p, "rp2040", "samd21", "stm32f4", family=UF2_FAMILIES["stm32f4"])


def test_uf2_skips_blocks_not_for_main_flash(tmp_path):
    p = tmp_path / "fw.uf2"
    main = uf2_write([(0x0, b"M" * 256)], total=2)
    extra = bytearray(uf2_write([(0x40000000, b"X" * 256)], flags=0x1, total=2))
    extra[20:24] = struct.pack("<I", 1)                   # block number 1 of 2
    p.write_bytes(main + bytes(extra))
    assert load_image(p).segments == [Segment(0, b"M" * 256)]


def test_uf2_damage(tmp_path):
    good = uf2_write([(0x10000000, bytes(range(256)) * 4)])
    p = tmp_path / "bad.uf2"
    bad = bytearray(good)
    bad[512:516] = b"XXXX"
    p.write_bytes(bad)
    expect_error(p, "bad magic in block 1")
    bad = bytearray(good)
    bad[3 * 512 + 508:3 * 512 + 512] = b"\0\0\0\0"
    p.write_bytes(bad)
    expect_error(p, "bad end magic in block 3")
    bad = bytearray(good)
    bad[512 + 16:512 + 20] = struct.pack("<I", 477)
    p.write_bytes(bad)
    expect_error(p, "block 1", "payload size 477")
    p.write_bytes(good[:700])
    expect_error(p, "truncated UF2")
    p.write_bytes(good[:1024])                            # whole blocks, but 2 of 4
    expect_error(p, "truncated UF2", "2 of 4 blocks")
    p.write_bytes(good + good[:512])                      # block 0 twice: overlapping data
    expect_error(p, "overlapping")


# -- Intel HEX --------------------------------------------------------------------------------
def test_microbit_hex():
    if not os.path.exists(MICROBIT_HEX):
        pytest.skip(f"{MICROBIT_HEX} is missing (apt install firmware-microbit-micropython)")
    load_image(MICROBIT_HEX)                              # warm the page cache and imports
    t0 = time.perf_counter()
    img = load_image(MICROBIT_HEX)
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5, f"{elapsed:.3f} s"
    assert img.format == "hex"
    assert img.segments[0].addr == 0
    assert sum(len(s.data) for s in img.segments) > 200_000
    assert any(s.addr >= 0x10001000 for s in img.segments)   # UICR data is kept
    starts = [s.addr for s in img.segments]
    assert starts == sorted(starts)
    assert all(a.end < b.addr for a, b in zip(img.segments, img.segments[1:]))
    sp, reset = struct.unpack("<II", img.read(0, 8))
    assert 0x20000000 <= sp <= 0x20008000 and reset & 1


def test_hex_addressing_and_entry(tmp_path):
    lines = [
        hex_record(0x04, 0, b"\x08\x00"),                 # upper 16 bits: 0x0800xxxx
        hex_record(0x00, 0x0000, b"\x01\x02\x03\x04"),
        hex_record(0x00, 0x0004, b"\x05\x06"),            # contiguous: merged
        hex_record(0x02, 0, b"\x10\x00"),                 # segment 0x1000 -> base 0x10000
        hex_record(0x00, 0x0010, b"\xaa"),
        hex_record(0x03, 0, b"\x00\x10\x00\x09"),         # start segment 0x0010:0x0009 ...
        hex_record(0x05, 0, b"\x08\x00\x01\x23"),         # ... but a start linear address wins
        hex_record(0x01, 0),
        "garbage after the end-of-file record is not read",
    ]
    p = tmp_path / "a.hex"
    p.write_text("\r\n".join(lines))
    img = load_image(p)
    assert [(s.addr, s.data) for s in img.segments] == [(0x10010, b"\xaa"), (0x08000000, bytes([1, 2, 3, 4, 5, 6]))]
    assert img.entry == 0x08000123
    assert img.span() == (0x10010, 0x08000006)
    assert img.read(0x0800_0004, 4) == b"\x05\x06\xff\xff"
    p.write_text("\n".join(line for line in lines if not line.startswith(":04000005")))
    assert load_image(p).entry == 0x109                      # 0x10 * 16 + 9 from CS:IP


def test_hex_errors(tmp_path):
    p = tmp_path / "bad.hex"
    good = hex_record(0x00, 0, b"\x01\x02\x03\x04")
    bad = good[:-2] + "%02X" % ((int(good[-2:], 16) + 1) & 0xFF)
    p.write_text(f"{good}\n{bad}\n:00000001FF\n")
    expect_error(p, "line 2: checksum mismatch")
    p.write_text(f"{good}\n")
    expect_error(p, "truncated Intel HEX: no end-of-file record")
    p.write_text(f"{good}\n\n{good[:5]}ZZ{good[7:]}\n:00000001FF\n")
    expect_error(p, "line 3", "invalid characters")
    p.write_text(f"{good}\n{good[:-4]}\n:00000001FF\n")
    expect_error(p, "line 2", "length")
    p.write_text(f"{good}\nfoo\n")
    expect_error(p, "line 2", "does not start with ':'")
    short_ela = hex_record(0x04, 0, b"\x00")
    p.write_text(f"{good}\n{short_ela}\n:00000001FF\n")
    expect_error(p, "line 2", "record type 04")
    p.write_text(f"{good}\n{good}\n:00000001FF\n")
    expect_error(p, "overlapping data at 0x00000000")
    p.write_bytes(good.encode() + b"\n\xff\xfe\n")
    expect_error(p, "line 2", "non-ASCII")
    p.write_text(":00000001FF\n")
    expect_error(p, "no data records")


# -- BIN and generic --------------------------------------------------------------------------
def test_bin_with_and_without_base(tmp_path):
    p = tmp_path / "fw.bin"
    p.write_bytes(b"\x00\x10\x00\x20" + bytes(60))
    expect_error(p, "raw .bin needs a load address (--base ADDR)")
    img = load_image(p, base=0x08000000)
    assert img.format == "bin" and img.segments == [Segment(0x08000000, p.read_bytes())]
    assert img.entry is None and img.symbols is None
    assert load_image(p, base="0x08000000").segments == img.segments
    expect_error(p, "32-bit address space", base=0xFFFFFFF0)
    q = tmp_path / "fw.img"
    q.write_bytes(b"\x01")
    assert load_image(q, base=4).span() == (4, 5)


def test_forced_format(tmp_path):
    p = tmp_path / "looks.hex"
    p.write_text(":00000001FF\n")                          # content says HEX; forced as bin
    img = load_image(p, fmt="bin", base=0x100)
    assert img.segments == [Segment(0x100, b":00000001FF\n")]
    expect_error(p, "unknown image format 'srec'", fmt="srec")


def test_file_problems(tmp_path):
    expect_error(tmp_path / "missing.elf", "no such file")
    expect_error(tmp_path, "is a directory")
    (tmp_path / "empty.hex").write_bytes(b"")
    expect_error(tmp_path / "empty.hex", "empty file")
    (tmp_path / "noise.dat").write_bytes(bytes(range(7, 200)))
    expect_error(tmp_path / "noise.dat", "unknown image format")


# -- the data types ---------------------------------------------------------------------------
def test_symbol_table_rules():
    t = SymbolTable([
        (0x100, 0x20, "Default_Handler"),     # listed first: preferred over its aliases
        (0x100, 0x20, "NMI_Handler"),
        (0x100, 0, "label_at_handler"),
        (0x200, 0x10, "small"),
        (0x400, 0, "_etext"),
        (0x400, 0, "_etext"),                 # duplicates are dropped
    ])
    assert len(t) == 5
    assert t.lookup(0xFF) is None
    assert t.lookup(0x104) == ("Default_Handler", 4)
    assert t.lookup(0x130) == ("label_at_handler", 0x30)    # past the sized ones: the label
    assert t.lookup(0x20F) == ("small", 0xF)
    assert t.lookup(0x210) is None                           # past 'small', nothing unsized there
    assert t.lookup(0x400 + 0xFFFF) == ("_etext", 0xFFFF)
    assert t.lookup(0x400 + 0x10000) is None
    assert t.address_of("NMI_Handler") == 0x100
    assert t.format(0x108) == "Default_Handler+0x8"
    assert len(SymbolTable([])) == 0 and SymbolTable([]).lookup(0) is None


def test_symbol_lookup_is_fast():
    n = 50_000
    t = SymbolTable([(0x1000 + 16 * i, 12, f"f{i}") for i in range(n)])
    addrs = [0x1000 + 16 * i + 6 for i in range(n)]
    t0 = time.perf_counter()
    hits = [t.lookup(a) for a in addrs]
    assert time.perf_counter() - t0 < 1.0
    assert hits[123] == ("f123", 6) and t.lookup(0x1000 + 16 * 5 + 13) is None


def test_image_read_fills_gaps_and_error_pickles():
    img = Image("x", "bin", [Segment(0x10, b"ab"), Segment(0x14, b"cd")], None, None)
    assert img.span() == (0x10, 0x16)
    assert img.read(0x0E, 8) == b"\xff\xffab\xff\xffcd"
    assert family_name(0xE48BFF56) == "rp2040" and family_name(0x1B57745F) == "nrf51"
    assert family_name(0x12345678) == "0x12345678"
    for name, fid in {"rp2040": 0xE48BFF56, "nrf51": 0x1B57745F, "nrf52840": 0xADA52840,
                      "stm32f4": 0x57755A57, "samd21": 0x68ED2B88, "esp32": 0x1C5F21B0}.items():
        assert UF2_FAMILIES[name] == fid
    e = pickle.loads(pickle.dumps(ImageError("fw.bin", "bad\nthing")))
    assert str(e) == "fw.bin: bad thing" and e.path == "fw.bin" and e.problem == "bad thing"
