"""The project's clean-room RP2040 boot ROM (firmware/rp2040/bootrom), called the way the
pico-sdk calls it, by a bare-metal program on the pico board (firmware/rp2040/tests/rom_calls.c).

The test writes job blocks (function found through the ROM's own table_lookup, input records)
into the program's RAM, lets it run them in one go, and checks the output records here:
header and tables, memory and bit routines, every SF/SD float slot against numpy / exact
Python arithmetic on thousands of inputs (random bit patterns, NaN, infinities, signed zeros,
subnormals, extreme normals, rounding ties, overflow and underflow edges), that every call
keeps r4-r11 and sp, the flash functions on the board's flash, USB boot, and the boot paths
(boot2 CRC check, watchdog scratch vector).

Float contract checked here (rom.c): IEEE-754 round-to-nearest-even for add/sub/mul/div/sqrt
and every conversion to a float format; float->integer conversions floor(x * 2^n) clamped (NaN
clamps like an infinity of its sign); sqrt and ln of a negative number give -infinity
(datasheet); cmp gives -1/0/1, 1 when unordered; transcendentals within 1 ulp (float) and
2 ulp (double) of the correctly rounded result.
"""
from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np
import pytest

from boardemu.emulator import events as ev
from boardemu.emulator.machine import Machine

from conftest import firmware

JOB_CALL, JOB_LOOKUP_FUNC, JOB_LOOKUP_DATA, JOB_WATCHDOG_BOOT, JOB_CALL_ADDR = 1, 2, 3, 4, 5
R0, R1, R2, R3, FLAGS, SAVED, CYCLES = (1 << i for i in range(7))
AREA_BYTES = 200 * 1024
JOB_WORDS = 9
WD_MAGIC = 0xB007C0D3


def code(s: str) -> int:
    return ord(s[0]) | ord(s[1]) << 8


SF, SD = code("SF"), code("SD")
FUNC_CODES = ["P3", "R3", "L3", "T3", "MS", "S4", "MC", "C4", "UB", "WV", "IF", "EX", "RE", "RP", "FC", "CX"]


class Rig:
    """A pico board running rom_calls.elf: submit job batches, get output records."""

    def __init__(self):
        self.m = m = Machine("pico", firmware("rp2040", "rom_calls"))
        self.events = []
        m.events.subscribe(None, self.events.append)
        self.mailbox, self.jobs, self.area = m.symbol("mailbox"), m.symbol("jobs"), m.symbol("area")
        m.write_memory(self.mailbox, bytes(44))
        m.run(for_s=0.5, until=lambda: self.mb(2) >= 1)
        assert self.mb(2) == 1, f"rom_calls did not boot: {m.halted} {m.fault}"

    def word(self, addr):
        return int.from_bytes(self.m.read_memory(addr, 4), "little")

    def mb(self, i):
        return self.word(self.mailbox + 4 * i)

    def submit(self, jobs, run=True):
        """jobs: (kind, table, code, inputs[N, k] uint32, out_mask) -> (outputs[N, w], fn) each."""
        m, addr, table, outs = self.m, self.area, b"", []
        for kind, tab, c, inp, mask in jobs:
            inp = np.ascontiguousarray(np.asarray(inp, dtype=np.uint64).astype(np.uint32))
            if inp.ndim == 1:
                inp = inp.reshape(-1, 1)
            n, k = inp.shape
            m.write_memory(addr, inp.tobytes())
            ia, addr = addr, addr + inp.nbytes
            w = bin(mask).count("1") if kind in (JOB_CALL, JOB_CALL_ADDR) else 1
            outs.append((addr, n, w))
            table += struct.pack(f"<{JOB_WORDS}I", kind, tab, c, n, ia, k, addr, mask, 0)
            addr += 4 * n * w
        assert addr <= self.area + AREA_BYTES, "batch too large"
        m.write_memory(self.jobs, table + bytes(4 * JOB_WORDS))
        if not run:
            return None
        done = self.mb(1)
        m.write_memory(self.mailbox, (1).to_bytes(4, "little"))
        m.run(for_s=600, until=lambda: self.mb(1) != done)
        assert self.mb(1) != done, f"jobs did not finish: {m.halted} {m.fault}"
        res = []
        for i, (oa, n, w) in enumerate(outs):
            out = np.frombuffer(m.read_memory(oa, 4 * n * w), dtype=np.uint32).reshape(n, w)
            res.append((out, self.word(self.jobs + 4 * (JOB_WORDS * i + 8))))
        return res

    def call(self, table, c, inputs, mask=R0 | SAVED):
        """Run one slot/function on every input record, in as many batches as RAM needs."""
        inputs = np.asarray(inputs, dtype=np.uint64)
        if inputs.ndim == 1:
            inputs = inputs.reshape(-1, 1)
        per = inputs.shape[1] + bin(mask).count("1")
        step = AREA_BYTES // (4 * per)
        outs = []
        for i in range(0, len(inputs), step):
            (out, fn), = self.submit([(JOB_CALL, table, c, inputs[i:i + step], mask)])
            assert fn & 1 and 0 < fn < 0x10000, f"lookup of {table:x}/{c:x} gave 0x{fn:x}"
            outs.append(out)
        out = np.concatenate(outs)
        if mask & SAVED:
            assert not out[:, -1].any(), f"function {table:x}/{c:x} did not keep r4-r11/sp"
        return out


@pytest.fixture(scope="module")
def rig():
    return Rig()


# ---- number helpers --------------------------------------------------------------------------
def f32(bits):
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def f64(bits):
    return np.asarray(bits, dtype=np.uint64).view(np.float64)


def lo_hi(bits64):
    b = np.asarray(bits64, dtype=np.uint64)
    return (b & 0xFFFFFFFF).astype(np.uint64), (b >> 32).astype(np.uint64)


def join(lo, hi):
    return lo.astype(np.uint64) | (hi.astype(np.uint64) << np.uint64(32))


def ulp_key32(bits):
    b = np.asarray(bits, dtype=np.uint32).astype(np.int64)
    return np.where(b >= 0x80000000, -(b & 0x7FFFFFFF), b)


def ulp_key64(bits):
    b = np.asarray(bits, dtype=np.uint64)
    mag = (b & np.uint64(0x7FFFFFFFFFFFFFFF)).astype(object)
    return np.where(b >> np.uint64(63) != 0, -mag, mag)


def assert_same(got, want, width, what, inputs=None):
    """Bit equality, any NaN matching any NaN."""
    got = np.asarray(got, dtype=np.uint32 if width == 32 else np.uint64)
    want = np.asarray(want)
    fv = f32 if width == 32 else f64
    gnan, wnan = np.isnan(fv(got)), np.isnan(want)
    wb = want.view(np.uint32 if width == 32 else np.uint64)
    bad = np.nonzero((gnan != wnan) | (~wnan & (got != wb)))[0]
    if len(bad):
        i = bad[0]
        raise AssertionError(f"{what}: {len(bad)} of {len(got)} differ; first: input "
                             f"{[hex(int(v)) for v in inputs[i]] if inputs is not None else i} "
                             f"got 0x{int(got[i]):x} want 0x{int(wb[i]):x} ({want[i]!r})")


def assert_close(got, want, width, ulps, what, inputs=None):
    """Within `ulps` units in the last place of the (correctly rounded) expected value."""
    want = np.asarray(want)
    fv, key = (f32, ulp_key32) if width == 32 else (f64, ulp_key64)
    gotf = fv(got)
    gnan, wnan = np.isnan(gotf), np.isnan(want)
    wb = want.view(np.uint32 if width == 32 else np.uint64)
    diff = np.abs(key(got) - key(wb))
    bad = np.nonzero((gnan != wnan) | (~wnan & (diff > ulps)))[0]
    if len(bad):
        i = bad[0]
        raise AssertionError(f"{what}: {len(bad)} of {len(got)} beyond {ulps} ulp; first: input "
                             f"{[hex(int(v)) for v in inputs[i]] if inputs is not None else i} "
                             f"got {gotf[i]!r} want {want[i]!r}")


SPECIAL32 = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
             0x7FBFFFFF, 0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x80800000,
             0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3F800001, 0x3F7FFFFF, 0x4B000000,
             0x4B000001, 0x4AFFFFFF, 0x3F000000, 0xBF000000, 0x3FC00000, 0xBFC00000, 0x40200000,
             0x33800000, 0x34000000, 0x4F000000, 0xCF000000, 0x4F800000, 0xCF800000, 0x5F000000,
             0xDF000000, 0x5F800000, 0x00400000, 0x7E800000, 0x01000000, 0x40490FDB, 0x3FC90FDB]
SPECIAL64 = [0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
             0x7FF0000000000001, 0x0000000000000001, 0x8000000000000001, 0x000FFFFFFFFFFFFF,
             0x800FFFFFFFFFFFFF, 0x0010000000000000, 0x8010000000000000, 0x7FEFFFFFFFFFFFFF,
             0xFFEFFFFFFFFFFFFF, 0x3FF0000000000000, 0xBFF0000000000000, 0x3FF0000000000001,
             0x3FEFFFFFFFFFFFFF, 0x4330000000000000, 0x4330000000000001, 0x432FFFFFFFFFFFFF,
             0x3FE0000000000000, 0xBFE0000000000000, 0x3FF8000000000000, 0xBFF8000000000000,
             0x41E0000000000000, 0xC1E0000000000000, 0x41F0000000000000, 0x43E0000000000000,
             0xC3E0000000000000, 0x43F0000000000000, 0x0008000000000000, 0x7FD0000000000000,
             0x400921FB54442D18, 0x3FF921FB54442D18, 0x4090000000000000, 0xC090000000000000]


def samples32(rng, n):
    """Random bit patterns, then mixes weighted to the interesting places, then specials."""
    k = n // 6
    u = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    sign = rng.integers(0, 2, n, dtype=np.uint32) << 31
    mant = rng.integers(0, 1 << 23, n, dtype=np.uint32)
    u[k:2 * k] = sign[k:2 * k] | rng.integers(117, 137, k, dtype=np.uint32) << 23 | mant[k:2 * k]   # ~1
    u[2 * k:3 * k] = sign[2 * k:3 * k] | mant[2 * k:3 * k]                                          # subnormal
    u[3 * k:4 * k] = sign[3 * k:4 * k] | rng.integers(1, 30, k, dtype=np.uint32) << 23 | mant[3 * k:4 * k]
    u[4 * k:5 * k] = sign[4 * k:5 * k] | rng.integers(225, 255, k, dtype=np.uint32) << 23 | mant[4 * k:5 * k]
    u[5 * k:5 * k + len(SPECIAL32)] = SPECIAL32
    return u


def samples64(rng, n):
    k = n // 6
    u = rng.integers(0, 1 << 64, n, dtype=np.uint64)
    sign = rng.integers(0, 2, n, dtype=np.uint64) << np.uint64(63)
    mant = rng.integers(0, 1 << 52, n, dtype=np.uint64)

    def ex(lo, hi):
        return rng.integers(lo, hi, k, dtype=np.uint64) << np.uint64(52)
    u[k:2 * k] = sign[k:2 * k] | ex(1013, 1033) | mant[k:2 * k]
    u[2 * k:3 * k] = sign[2 * k:3 * k] | mant[2 * k:3 * k]
    u[3 * k:4 * k] = sign[3 * k:4 * k] | ex(1, 60) | mant[3 * k:4 * k]
    u[4 * k:5 * k] = sign[4 * k:5 * k] | ex(1990, 2047) | mant[4 * k:5 * k]
    u[5 * k:5 * k + len(SPECIAL64)] = np.array(SPECIAL64, dtype=np.uint64)
    return u


def pairs32(rng, n):
    """Operand pairs: independent samples, all special x special, near-cancellation, ties."""
    a, b = samples32(rng, n), samples32(rng, n)
    sp = np.array(SPECIAL32, dtype=np.uint32)
    ga, gb = np.meshgrid(sp, sp)
    m = n // 8
    c = samples32(rng, m) & np.uint32(0x7FFFFFFF)
    c = np.where((c >> 23) == 255, np.uint32(0x3F800000), c)
    d = c ^ np.uint32(0x80000000) ^ (rng.integers(0, 4, m, dtype=np.uint32))      # x + (-x +- few ulp)
    e = np.minimum(c >> 23, 25).astype(np.uint32)
    half = np.where(c >> 23 > 24, ((c >> 23) - 24) << 23, 0).astype(np.uint32)       # half an ulp of c
    a = np.concatenate([a, ga.ravel(), c, c, c])
    b = np.concatenate([b, gb.ravel(), d, half, half | (e & 1) << 22])
    return np.stack([a, b], axis=1)


def pairs64(rng, n):
    a, b = samples64(rng, n), samples64(rng, n)
    sp = np.array(SPECIAL64, dtype=np.uint64)
    ga, gb = np.meshgrid(sp, sp)
    m = n // 8
    c = samples64(rng, m) & np.uint64(0x7FFFFFFFFFFFFFFF)
    c = np.where((c >> np.uint64(52)) == 2047, np.uint64(0x3FF0000000000000), c)
    d = c ^ np.uint64(1 << 63) ^ rng.integers(0, 4, m, dtype=np.uint64)
    ec = c >> np.uint64(52)
    half = np.where(ec > 53, (ec - np.uint64(53)) << np.uint64(52), np.uint64(0)).astype(np.uint64)
    a = np.concatenate([a, ga.ravel(), c, c])
    b = np.concatenate([b, gb.ravel(), d, half])
    return a, b


# ---- exact references -------------------------------------------------------------------------
def round_to_format(value: Fraction, mbits: int, ebits: int) -> int:
    """Bits of the nearest-even binary float (mbits fraction bits, ebits exponent bits)."""
    sign = 1 << (mbits + ebits) if value < 0 else 0
    a = abs(value)
    if a == 0:
        return sign
    bias = (1 << (ebits - 1)) - 1
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, 1 - bias)
    q = round(a / Fraction(2) ** (e - mbits))            # Fraction round(): half to even
    if q >> (mbits + 1):
        q >>= 1
        e += 1
    if e + bias >= (1 << ebits) - 1:
        return sign | ((1 << ebits) - 1) << mbits
    if q < 1 << mbits:
        return sign | q
    return sign | (e + bias) << mbits | (q - (1 << mbits))


def ref_fix(value: float, n: int, signed: bool, width: int) -> int:
    """floor(value * 2^n) clamped; NaN as an infinity of its sign; two's complement bits."""
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    if math.isnan(value) or math.isinf(value):
        r = lo if math.copysign(1, value) < 0 else hi
    elif value == 0:
        r = 0
    else:
        num, den = value.as_integer_ratio()
        r = (num << n) // den if n >= 0 else num // (den << -n)
        r = min(max(r, lo), hi)
    return r & ((1 << width) - 1)


def nan_sign(bits, width):
    return (int(bits) >> (width - 1)) & 1


def float_of(bits, width):
    return float(f32([bits])[0]) if width == 32 else float(f64([bits])[0])


# ---- header, tables, lookup ----------------------------------------------------------------------
def test_header(rig):
    rom = rig.m.read_memory(0, 0x1C)
    assert rom[0x10:0x14] == b"Mu\x01\x03"                          # magic, version 3 (B2)
    sp, reset = struct.unpack("<II", rom[:8])
    assert sp == 0x20041F00 and reset & 1 and reset < 0x10000
    ft, dt, lookup = struct.unpack("<HHH", rom[0x14:0x1A])
    assert lookup & 1 and ft % 2 == 0 and dt % 2 == 0


def parse_table(rig, addr):
    out = {}
    while True:
        c, a = struct.unpack("<HH", rig.m.read_memory(addr, 4))
        if c == 0:
            return out
        out[c] = a
        addr += 4


def test_table_lookup_every_code(rig):
    ft, dt = struct.unpack("<HH", rig.m.read_memory(0x14, 4))
    funcs, data = parse_table(rig, ft), parse_table(rig, dt)
    assert sorted(funcs) == sorted(code(c) for c in FUNC_CODES)
    assert sorted(data) == sorted(code(c) for c in ("SF", "SD", "GR", "CR", "FZ"))
    fcodes = list(funcs) + [code("ZZ"), code("DT"), 0xFFFF, code("SF")]
    dcodes = list(data) + [code("ZZ"), code("MC")]
    (fo, _), (do, _) = rig.submit([(JOB_LOOKUP_FUNC, 0, 0, fcodes, 0), (JOB_LOOKUP_DATA, 0, 0, dcodes, 0)])
    assert list(fo[:, 0]) == [funcs[c] for c in funcs] + [0, 0, 0, 0]
    assert list(do[:, 0]) == [data[c] for c in data] + [0, 0]
    assert all(a & 1 and a < 0x10000 for a in funcs.values())
    sf, sd = data[SF], data[SD]
    assert sf % 4 == 0 and sd % 4 == 0
    assert rig.m.read_memory(sf - 2, 1) == b"\x20"                  # pico-sdk: entry count at SF-2
    assert rig.m.read_memory(data[code("FZ")], 1) == b"\x20"
    assert b"boardemu" in rig.m.read_memory(data[code("CR")], 40)
    for t in (sf, sd):
        slots = struct.unpack("<32I", rig.m.read_memory(t, 128))
        assert all(p & 1 and p < 0x10000 for p in slots)


# ---- bits and memory ----------------------------------------------------------------------------
def test_bit_functions(rig):
    rng = np.random.default_rng(10)
    v = np.concatenate([np.array([0, 1, 2, 3, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFF, 0x55555555], dtype=np.uint64),
                        np.uint64(1) << np.arange(32, dtype=np.uint64),
                        (np.uint64(1) << np.arange(32, dtype=np.uint64)) - np.uint64(1),
                        rng.integers(0, 1 << 32, 3000, dtype=np.uint64),
                        rng.integers(0, 1 << 32, 500, dtype=np.uint64) >> rng.integers(0, 32, 500, dtype=np.uint64)])
    vals = [int(x) for x in v]
    want = {
        "P3": [bin(x).count("1") for x in vals],
        "R3": [int(f"{x:032b}"[::-1], 2) for x in vals],
        "L3": [32 - x.bit_length() for x in vals],
        "T3": [32 if x == 0 else (x & -x).bit_length() - 1 for x in vals],
    }
    for c, w in want.items():
        got = rig.call(0, code(c), v)
        assert list(got[:, 0]) == w, c


def memory_cases():
    lengths = list(range(0, 40)) + [47, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 1000, 1023, 4096]
    return [(so, do, n) for so in range(4) for do in range(4) for n in lengths]


def test_memcpy(rig):
    m, rng = rig.m, np.random.default_rng(11)
    src = rig.area + AREA_BYTES - 8192                                # source pattern at the end
    pattern = rng.integers(0, 256, 8192, dtype=np.uint8).tobytes()
    m.write_memory(src, pattern)
    cases, slots, addr = memory_cases(), [], rig.area + 32 * 1024
    for so, do, n in cases:
        slots.append(addr)
        m.write_memory(addr, b"\xAA" * (n + 8))
        addr += (n + 8 + 3) & ~3
    assert addr < src
    inputs = [(slot + do, src + so, n) for slot, (so, do, n) in zip(slots, cases)]   # records go below
    got = rig.call(0, code("MC"), inputs, R0 | SAVED)
    for slot, (so, do, n), (d, _, _), r in zip(slots, cases, inputs, got[:, 0]):
        assert r == d, "memcpy returns dest"
        buf = m.read_memory(slot, n + 8)
        assert buf[do:do + n] == pattern[so:so + n], (so, do, n)
        assert buf[:do] == b"\xAA" * do and buf[do + n:] == b"\xAA" * (8 - do), (so, do, n)
    aligned = [(s, n) for s, (so, do, n) in zip(slots, cases) if so == do == 0]   # memcpy44: words
    for s, n in aligned:
        m.write_memory(s, b"\xAA" * (n + 8))
    got = rig.call(0, code("C4"), [(s, src + 4, n) for s, n in aligned], R0 | SAVED)
    for (s, n), r in zip(aligned, got[:, 0]):
        assert r == s
        buf = m.read_memory(s, n + 8)
        assert buf[:n] == pattern[4:4 + n] and buf[n:] == b"\xAA" * 8


def test_memset(rig):
    m = rig.m
    cases = [(do, n, c) for do in range(4) for n in list(range(0, 40)) + [63, 64, 65, 255, 1000, 4096]
             for c in (0x00, 0x1C5, 0xFF)]
    slots, addr = [], rig.area + 32 * 1024
    for do, n, c in cases:
        slots.append(addr)
        m.write_memory(addr, b"\x5A" * (n + 8))
        addr += (n + 8 + 3) & ~3
    got = rig.call(0, code("MS"), [(s + do, c, n) for s, (do, n, c) in zip(slots, cases)], R0 | SAVED)
    for s, (do, n, c), r in zip(slots, cases, got[:, 0]):
        assert r == s + do
        buf = m.read_memory(s, n + 8)
        assert buf == b"\x5A" * do + bytes([c & 0xFF]) * n + b"\x5A" * (8 - do), (do, n, c)
    aligned = [(s, n, c) for s, (do, n, c) in zip(slots, cases) if do == 0]
    for s, n, _ in aligned:
        m.write_memory(s, b"\x5A" * (n + 8))
    got = rig.call(0, code("S4"), [(s, c, n) for s, n, c in aligned], R0 | SAVED)
    for (s, n, c), r in zip(aligned, got[:, 0]):
        assert r == s
        assert m.read_memory(s, n + 8) == bytes([c & 0xFF]) * n + b"\x5A" * 8


def test_memcpy_memset_speed(rig):
    """Word-wise fast paths: cycles (= instructions) per call, minus the harness overhead."""
    m = rig.m
    a = rig.area + 64 * 1024
    base = rig.call(0, code("MC"), [(a, a + 8192, 0)], CYCLES)[0, 0]
    cpy = rig.call(0, code("MC"), [(a, a + 8192, 1024)], CYCLES)[0, 0] - base
    mis = rig.call(0, code("MC"), [(a + 1, a + 8194, 1024)], CYCLES)[0, 0] - base
    small = rig.call(0, code("MC"), [(a, a + 8192, 5)], CYCLES)[0, 0] - base
    st = rig.call(0, code("MS"), [(a, 0, 1024)], CYCLES)[0, 0] - base
    assert cpy < 1024 // 16 * 6 + 40, cpy            # 16 bytes per ldm/stm loop
    assert st < 1024 // 16 * 4 + 40, st
    assert mis < 1024 * 4, mis                       # different alignment: bytes, unrolled
    assert small < 45, small
    m.write_memory(a, bytes(16))


# ---- float slots ---------------------------------------------------------------------------------
def sf_call(rig, slot, inputs, mask=R0 | SAVED):
    return rig.call(SF, slot, inputs, mask)


def sd_call(rig, slot, inputs, mask=R0 | R1 | SAVED):
    return rig.call(SD, slot, inputs, mask)


@pytest.mark.parametrize("slot,op", [(0x00, np.add), (0x04, np.subtract), (0x08, np.multiply),
                                     (0x0C, np.divide)])
def test_sf_arithmetic_is_ieee(rig, slot, op):
    ab = pairs32(np.random.default_rng(20 + slot), 5000)
    got = sf_call(rig, slot, ab)
    with np.errstate(all="ignore"):
        want = op(f32(ab[:, 0]), f32(ab[:, 1]))
    assert_same(got[:, 0], want, 32, f"SF slot 0x{slot:02x}", ab)


@pytest.mark.parametrize("slot,op", [(0x00, np.add), (0x04, np.subtract), (0x08, np.multiply),
                                     (0x0C, np.divide)])
def test_sd_arithmetic_is_ieee(rig, slot, op):
    a, b = pairs64(np.random.default_rng(30 + slot), 4000)
    (al, ah), (bl, bh) = lo_hi(a), lo_hi(b)
    inputs = np.stack([al, ah, bl, bh], axis=1)
    got = sd_call(rig, slot, inputs)
    with np.errstate(all="ignore"):
        want = op(f64(a), f64(b))
    assert_same(join(got[:, 0], got[:, 1]), want, 64, f"SD slot 0x{slot:02x}", inputs)


def expected_cmp(x, y):
    with np.errstate(all="ignore"):
        return np.where(np.isnan(x) | np.isnan(y), 1, np.where(x < y, -1, np.where(x == y, 0, 1)))


def test_sf_compare(rig):
    ab = pairs32(np.random.default_rng(40), 3000)
    ab = np.concatenate([ab, np.stack([ab[:, 0], ab[:, 0]], axis=1)])             # equal pairs
    want = expected_cmp(f32(ab[:, 0]), f32(ab[:, 1])).astype(np.int32).view(np.uint32)
    for slot in (0x10, 0x54):
        got = sf_call(rig, slot, ab)
        assert (got[:, 0] == want).all(), f"SF fcmp slot 0x{slot:x}"
    inputs = np.concatenate([ab, np.full((len(ab), 2), 0x12345678, dtype=np.uint32)], axis=1)
    got = sf_call(rig, 0x14, inputs, R0 | R1 | R2 | R3 | FLAGS | SAVED)
    assert (got[:, 0] == want).all()
    assert (got[:, 1] == ab[:, 1]).all() and (got[:, 2] == 0x12345678).all()      # r1-r3 kept
    flags = got[:, 4] >> 28                              # N Z C V after `cmp r0, #0`
    wflags = np.select([want == 0xFFFFFFFF, want == 0], [0b1010, 0b0110], 0b0010)
    assert (flags == wflags).all()


def test_sd_compare(rig):
    a, b = pairs64(np.random.default_rng(41), 3000)
    a, b = np.concatenate([a, a]), np.concatenate([b, a])
    (al, ah), (bl, bh) = lo_hi(a), lo_hi(b)
    inputs = np.stack([al, ah, bl, bh], axis=1)
    want = expected_cmp(f64(a), f64(b)).astype(np.int32).view(np.uint32)
    for slot in (0x10, 0x54):
        got = sd_call(rig, slot, inputs, R0 | SAVED)
        assert (got[:, 0] == want).all(), f"SD dcmp slot 0x{slot:x}"
    got = sd_call(rig, 0x14, inputs, R0 | R1 | R2 | R3 | FLAGS | SAVED)
    assert (got[:, 0] == want).all()
    assert (got[:, 1] == inputs[:, 1]).all() and (got[:, 3] == inputs[:, 3]).all()
    wflags = np.select([want == 0xFFFFFFFF, want == 0], [0b1010, 0b0110], 0b0010)
    assert ((got[:, 4] >> 28) == wflags).all()


def test_sf_sqrt(rig):
    x = samples32(np.random.default_rng(50), 6000)
    got = sf_call(rig, 0x18, x)
    xf = f32(x)
    with np.errstate(all="ignore"):
        want = np.where((xf < 0) & ~np.isnan(xf), np.float32(-np.inf), np.sqrt(xf)).astype(np.float32)
    assert_same(got[:, 0], want, 32, "fsqrt", x.reshape(-1, 1))
    assert int(sf_call(rig, 0x18, [0x80000000])[0, 0]) == 0x80000000              # sqrt(-0) = -0


def test_sd_sqrt(rig):
    x = samples64(np.random.default_rng(51), 5000)
    lo, hi = lo_hi(x)
    got = sd_call(rig, 0x18, np.stack([lo, hi], axis=1))
    xf = f64(x)
    with np.errstate(all="ignore"):
        want = np.where((xf < 0) & ~np.isnan(xf), -np.inf, np.sqrt(xf))
    assert_same(join(got[:, 0], got[:, 1]), want, 64, "dsqrt")


def shifts(rng, n):
    s = rng.integers(-40, 41, n)
    s[: 12] = [0, 1, -1, 31, 32, 33, -31, -32, 63, 64, -64, 100]
    s[12: 18] = [-150, 150, -1100, 1100, 5000, -5000]
    return s


TO_FIXED = [  # slot, n argument?, signed, width
    (0x1C, False, True, 32), (0x20, True, True, 32), (0x24, False, False, 32), (0x28, True, False, 32),
    (0x6C, False, True, 64), (0x70, True, True, 64), (0x74, False, False, 64), (0x78, True, False, 64)]


@pytest.mark.parametrize("slot,has_n,signed,width", TO_FIXED)
def test_sf_to_integer(rig, slot, has_n, signed, width):
    rng = np.random.default_rng(60 + slot)
    x = samples32(rng, 3000)
    x[-600:] = f32(rng.normal(0, 1e6, 600).astype(np.float32)).view(np.uint32)
    ns = shifts(rng, len(x)) if has_n else np.zeros(len(x), dtype=np.int64)
    inputs = np.stack([x, ns.astype(np.int64) & 0xFFFFFFFF], axis=1) if has_n else x.reshape(-1, 1)
    got = sf_call(rig, slot, inputs, (R0 | R1 if width == 64 else R0) | SAVED)
    for i, (b, n) in enumerate(zip(x, ns)):
        want = ref_fix(float_of(b, 32), int(n), signed, width)
        g = int(got[i, 0]) | (int(got[i, 1]) << 32 if width == 64 else 0)
        assert g == want, f"SF 0x{slot:x}(0x{int(b):08x}, {int(n)}): got 0x{g:x} want 0x{want:x}"


@pytest.mark.parametrize("slot,has_n,signed,width", TO_FIXED)
def test_sd_to_integer(rig, slot, has_n, signed, width):
    rng = np.random.default_rng(70 + slot)
    x = samples64(rng, 3000)
    x[-600:] = rng.normal(0, 1e12, 600).view(np.uint64)
    ns = shifts(rng, len(x)) if has_n else np.zeros(len(x), dtype=np.int64)
    lo, hi = lo_hi(x)
    cols = [lo, hi] + ([ns.astype(np.int64) & 0xFFFFFFFF] if has_n else [])
    got = sd_call(rig, slot, np.stack(cols, axis=1), (R0 | R1 if width == 64 else R0) | SAVED)
    for i, (b, n) in enumerate(zip(x, ns)):
        want = ref_fix(float_of(b, 64), int(n), signed, width)
        g = int(got[i, 0]) | (int(got[i, 1]) << 32 if width == 64 else 0)
        assert g == want, f"SD 0x{slot:x}(0x{int(b):016x}, {int(n)}): got 0x{g:x} want 0x{want:x}"


FROM_INT = [  # slot, n argument?, signed, width
    (0x2C, False, True, 32), (0x30, True, True, 32), (0x34, False, False, 32), (0x38, True, False, 32),
    (0x5C, False, True, 64), (0x60, True, True, 64), (0x64, False, False, 64), (0x68, True, False, 64)]


def int_samples(rng, n, width):
    v = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
    v >>= rng.integers(0, 64, n, dtype=np.uint64)                   # every magnitude
    v[:8] = [0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 1 << 31, (1 << 31) - 1, (1 << 32) - 1]
    v[8:12] = [(1 << 24) + 1, (1 << 25) + 2, (1 << 25) + 6, (1 << 53) + 1]   # ties for both formats
    v[12:14] = [(1 << 54) + 2, (1 << 54) + 6]
    if width == 32:
        v &= np.uint64(0xFFFFFFFF)
    return v


@pytest.mark.parametrize("slot,has_n,signed,width", FROM_INT)
@pytest.mark.parametrize("fmt", [32, 64])
def test_integer_to_float(rig, slot, has_n, signed, width, fmt):
    rng = np.random.default_rng(80 + slot + fmt)
    v = int_samples(rng, 3000, width)
    ns = shifts(rng, len(v)) if has_n else np.zeros(len(v), dtype=np.int64)
    cols = [v & np.uint64(0xFFFFFFFF)] + ([v >> np.uint64(32)] if width == 64 else [])
    cols += [ns.astype(np.int64) & 0xFFFFFFFF] if has_n else []
    inputs = np.stack(cols, axis=1)
    got = rig.call(SF if fmt == 32 else SD, slot, inputs, (R0 if fmt == 32 else R0 | R1) | SAVED)
    mbits, ebits = (23, 8) if fmt == 32 else (52, 11)
    for i, (x, n) in enumerate(zip(v, ns)):
        x = int(x)
        if signed and x >> (width - 1):
            x -= 1 << width
        want = round_to_format(Fraction(x) / Fraction(2) ** int(n), mbits, ebits)
        g = int(got[i, 0]) | (int(got[i, 1]) << 32 if fmt == 64 else 0)
        assert g == want, f"{'SF' if fmt == 32 else 'SD'} 0x{slot:x}({x}, {int(n)}): got 0x{g:x} want 0x{want:x}"


def test_float_double_conversions(rig):
    x = samples32(np.random.default_rng(90), 6000)
    got = sf_call(rig, 0x7C, x, R0 | R1 | SAVED)
    with np.errstate(all="ignore"):
        want = f32(x).astype(np.float64)
    assert_same(join(got[:, 0], got[:, 1]), want, 64, "float2double")
    d = samples64(np.random.default_rng(91), 6000)
    # doubles around the float range edges: overflow, subnormal floats, underflow to zero
    rng = np.random.default_rng(92)
    edge = (rng.integers(0, 2, 1500, dtype=np.uint64) << np.uint64(63)) | \
        rng.integers(1023 - 152, 1023 + 130, 1500, dtype=np.uint64) << np.uint64(52) | \
        rng.integers(0, 1 << 52, 1500, dtype=np.uint64)
    edge[:4] = [0x36A0000000000000, 0x36A0000000000001, 0x47EFFFFFF0000000, 0x47EFFFFFEFFFFFFF]
    d = np.concatenate([d, edge])
    lo, hi = lo_hi(d)
    got = sd_call(rig, 0x7C, np.stack([lo, hi], axis=1), R0 | SAVED)
    with np.errstate(all="ignore"):
        want = f64(d).astype(np.float32)
    assert_same(got[:, 0], want, 32, "double2float")


def angles32(rng, n):
    x = samples32(rng, n)
    x[: n // 2] = f32(rng.uniform(-130, 130, n // 2).astype(np.float32)).view(np.uint32)
    return x


def f32_of_double(fn, x):
    out = []
    for v in f32(x).astype(np.float64):
        try:
            out.append(fn(float(v)))
        except (ValueError, OverflowError):
            out.append(math.nan)
    with np.errstate(all="ignore"):
        return np.array(out, dtype=np.float64)


def py_exp(v):
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def py_ln(v):
    if math.isnan(v):
        return v
    if v < 0 or v == -math.inf:
        return -math.inf
    if v == 0:
        return -math.inf
    return math.log(v)


def py_trig(fn):
    def f(v):
        return math.nan if math.isinf(v) or math.isnan(v) else fn(v)
    return f


def test_sf_transcendentals(rig):
    rng = np.random.default_rng(100)
    x = angles32(rng, 3000)
    with np.errstate(all="ignore"):
        sin_w = f32_of_double(py_trig(math.sin), x).astype(np.float32)
        cos_w = f32_of_double(py_trig(math.cos), x).astype(np.float32)
        tan_w = f32_of_double(py_trig(math.tan), x).astype(np.float32)
    for slot in (0x40, 0x48):                        # fsin and fsincos: sin in r0, cos in r1
        got = sf_call(rig, slot, x, R0 | R1 | SAVED)
        assert_close(got[:, 0], sin_w, 32, 1, f"SF 0x{slot:x} sin", x.reshape(-1, 1))
        assert_close(got[:, 1], cos_w, 32, 1, f"SF 0x{slot:x} cos", x.reshape(-1, 1))
    assert_close(sf_call(rig, 0x3C, x)[:, 0], cos_w, 32, 1, "fcos", x.reshape(-1, 1))
    assert_close(sf_call(rig, 0x44, x)[:, 0], tan_w, 32, 1, "ftan", x.reshape(-1, 1))
    e = samples32(rng, 3000)
    e[:1500] = f32(rng.uniform(-110, 95, 1500).astype(np.float32)).view(np.uint32)
    with np.errstate(all="ignore"):
        exp_w = f32_of_double(py_exp, e).astype(np.float32)
        ln_w = f32_of_double(py_ln, e).astype(np.float32)
    assert_close(sf_call(rig, 0x4C, e)[:, 0], exp_w, 32, 1, "fexp", e.reshape(-1, 1))
    assert_close(sf_call(rig, 0x50, e)[:, 0], ln_w, 32, 1, "fln", e.reshape(-1, 1))
    yx = pairs32(rng, 3000)
    with np.errstate(all="ignore"):
        at_w = np.arctan2(f32(yx[:, 0]).astype(np.float64), f32(yx[:, 1]).astype(np.float64)).astype(np.float32)
    assert_close(sf_call(rig, 0x58, yx)[:, 0], at_w, 32, 1, "fatan2", yx)


def test_sd_transcendentals(rig):
    rng = np.random.default_rng(110)
    x = samples64(rng, 3000)
    x[:1500] = rng.uniform(-1100, 1100, 1500).view(np.uint64)
    lo, hi = lo_hi(x)
    inputs = np.stack([lo, hi], axis=1)
    xs = [float(v) for v in f64(x)]
    sin_w = np.array([py_trig(math.sin)(v) for v in xs])
    cos_w = np.array([py_trig(math.cos)(v) for v in xs])
    tan_w = np.array([py_trig(math.tan)(v) for v in xs])
    for slot, want, name in ((0x40, sin_w, "dsin"), (0x3C, cos_w, "dcos"), (0x44, tan_w, "dtan")):
        got = sd_call(rig, slot, inputs)
        assert_close(join(got[:, 0], got[:, 1]), want, 64, 2, name, inputs)
    got = sd_call(rig, 0x48, inputs, R0 | R1 | R2 | R3 | SAVED)     # dsincos: sin r0:r1, cos r2:r3
    assert_close(join(got[:, 0], got[:, 1]), sin_w, 64, 2, "dsincos sin", inputs)
    assert_close(join(got[:, 2], got[:, 3]), cos_w, 64, 2, "dsincos cos", inputs)
    e = samples64(rng, 3000)
    e[:1500] = rng.uniform(-750, 720, 1500).view(np.uint64)
    lo, hi = lo_hi(e)
    inputs = np.stack([lo, hi], axis=1)
    es = [float(v) for v in f64(e)]
    got = sd_call(rig, 0x4C, inputs)
    assert_close(join(got[:, 0], got[:, 1]), np.array([py_exp(v) for v in es]), 64, 2, "dexp", inputs)
    got = sd_call(rig, 0x50, inputs)
    assert_close(join(got[:, 0], got[:, 1]), np.array([py_ln(v) for v in es]), 64, 2, "dln", inputs)
    a, b = pairs64(rng, 3000)
    (al, ah), (bl, bh) = lo_hi(a), lo_hi(b)
    inputs = np.stack([al, ah, bl, bh], axis=1)
    got = sd_call(rig, 0x58, inputs)
    with np.errstate(all="ignore"):
        want = np.arctan2(f64(a), f64(b))
    assert_close(join(got[:, 0], got[:, 1]), want, 64, 2, "datan2", inputs)


def test_every_slot_is_covered():
    """The tests above exercise all 32 slots of both tables."""
    covered = {0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x3C, 0x40, 0x44, 0x48, 0x4C, 0x50, 0x54, 0x58, 0x7C}
    covered |= {s for s, *_ in TO_FIXED} | {s for s, *_ in FROM_INT}
    assert covered == set(range(0, 0x80, 4))


# ---- flash, USB boot -------------------------------------------------------------------------------
FLASH = 0x10000000


def test_flash_erase_and_program(rig):
    m = rig.m
    warnings = []
    unsub = m.events.subscribe(ev.WARNING, warnings.append)
    try:
        src = rig.area + 100 * 1024
        data = bytes([0x0F, 0xF0, 0x55, 0xAA]) * 256 + bytes(range(256)) * 4
        m.write_memory(src, data)
        off = 0x1F0000
        rig.call(0, code("RE"), [(off, 8192, 1 << 16, 0xD8)], SAVED)
        assert m.read_memory(FLASH + off, 8192) == b"\xFF" * 8192
        rig.call(0, code("RP"), [(off, src, 2048)], SAVED)
        assert m.read_memory(FLASH + off, 2048) == data
        m.write_memory(src, b"\xF0" * 4)
        rig.call(0, code("RP"), [(off, src, 4)], SAVED)                    # NOR: only clears bits
        assert m.read_memory(FLASH + off, 4) == bytes([0x00, 0xF0, 0x50, 0xA0])
        assert m.read_memory(0x11000000 + off, 4) == bytes([0x00, 0xF0, 0x50, 0xA0])   # XIP alias
        rig.call(0, code("RE"), [(off + 4096, 4096, 4096, 0x20)], SAVED)   # one sector only
        assert m.read_memory(FLASH + off, 4) == bytes([0x00, 0xF0, 0x50, 0xA0])
        assert m.read_memory(FLASH + off + 4096, 4096) == b"\xFF" * 4096
        assert not warnings
        before = m.read_memory(FLASH + 0x1FF000, 4096)
        rig.call(0, code("RE"), [(0x1FF000, 8192, 4096, 0x20)], SAVED)     # runs past the end
        rig.call(0, code("RP"), [(0x1FFF00, src, 512)], SAVED)
        rig.call(0, code("RP"), [(0xFFFFFF00, src, 256)], SAVED)
        assert m.read_memory(FLASH + 0x1FF000, 4096) == before
        assert len(warnings) == 3 and all("ignored" in w.data["message"] for w in warnings)
    finally:
        unsub()


def test_flash_program_drops_translated_code(rig):
    """Code run from flash, then erased and reprogrammed, runs as the new code."""
    m, off = rig.m, 0x1E0000
    src = rig.area + 100 * 1024
    for value in (42, 7, 99):
        m.write_memory(src, bytes([value, 0x20, 0x70, 0x47]))              # movs r0, #value; bx lr
        rig.call(0, code("RE"), [(off, 4096, 4096, 0x20)], SAVED)
        rig.call(0, code("RP"), [(off, src, 4)], SAVED)
        (out, _), = rig.submit([(JOB_CALL_ADDR, 0, FLASH + off + 1, [[0]], R0)])
        assert out[0, 0] == value


def test_flash_setup_functions_return(rig):
    for c in ("IF", "EX", "FC", "CX"):
        rig.call(0, code(c), [(0, 0, 0, 0)], SAVED)


def test_reset_usb_boot_halts():
    r = Rig()
    r.submit([(JOB_CALL, 0, code("UB"), [[1 << 25, 0]], R0)], run=False)
    r.m.write_memory(r.mailbox, (1).to_bytes(4, "little"))
    r.m.run(for_s=1)
    assert r.m.halted == "bootloader"
    assert any(e.kind == ev.WARNING and "USB" in e.data["message"] for e in r.events)


# ---- boot paths ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["elf", "uf2"])
def test_kit_hello_boots(fmt):
    """The test kit's path: ROM -> boot2 (CRC) -> boot2 -> Reset_Handler -> main -> semihosting;
    also as the UF2 file tools/uf2pack.py makes."""
    image = firmware("rp2040", "hello").with_suffix("." + fmt)
    m = Machine("pico", image)
    m.run(for_s=1)
    out = m.semihost.read().decode()
    assert m.halted == "exit" and m.exit_status == 0, out
    assert "Hello from rp2040" in out and "DONE 5 passed, 0 failed" in out


def boot2_crc(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def test_boot2_copied_and_checked(rig):
    flash = rig.m.read_memory(FLASH, 256)
    assert rig.m.read_memory(0x20041F00, 256) == flash                 # the ROM's copy
    assert boot2_crc(flash[:252]) == struct.unpack("<I", flash[252:])[0]


def test_bad_boot2_crc_halts():
    m = Machine("pico", firmware("rp2040", "rom_calls"))
    warnings = []
    m.events.subscribe(ev.WARNING, warnings.append)
    b = m.read_memory(FLASH + 8, 1)[0]
    m.write_memory(FLASH + 8, bytes([b ^ 1]))
    m.run(for_s=0.1)
    assert m.halted == "no-boot2"
    assert any("boot2" in w.data["message"] for w in warnings)


def test_blank_flash_halts():
    m = Machine("pico")
    m.run(for_s=0.1)
    assert m.halted == "no-boot2"


def test_watchdog_scratch_vector():
    """SCRATCH4 = magic, SCRATCH5 = entry ^ -magic: the ROM calls SCRATCH7 with sp = SCRATCH6."""
    r = Rig()
    entry = r.mb(9)                                                   # wd_vector_exit
    sp = 0x20038000
    r.submit([(JOB_WATCHDOG_BOOT, 0, 0, [[WD_MAGIC, entry ^ (-WD_MAGIC & 0xFFFFFFFF), sp, entry]], 0)],
             run=False)
    r.m.write_memory(r.mailbox, (1).to_bytes(4, "little"))
    r.m.run(for_s=1)
    assert r.m.halted == "exit" and r.m.exit_status == 0x42
    assert r.mb(7) == 1 and r.mb(8) == sp                             # entered once, on that stack
    assert r.mb(2) == 1                                               # main did not run again


def test_watchdog_vector_returning_boots_flash():
    r = Rig()
    entry = r.mb(10)                                                  # wd_vector_return
    r.submit([(JOB_WATCHDOG_BOOT, 0, 0, [[WD_MAGIC, entry ^ (-WD_MAGIC & 0xFFFFFFFF), 0x20038000, entry]], 0)],
             run=False)
    r.m.write_memory(r.mailbox, (1).to_bytes(4, "little"))
    r.m.run(for_s=1, until=lambda: r.mb(2) >= 2)
    assert r.mb(7) == 1 and r.mb(8) == 0x20038000
    assert r.mb(2) == 2                                               # normal boot afterwards
    assert r.mb(3) == 0 and r.mb(6) == entry                          # SCRATCH4 consumed, 7 kept


def test_watchdog_vector_needs_the_check_word():
    r = Rig()
    entry = r.mb(9)                                                   # wd_vector_exit
    r.submit([(JOB_WATCHDOG_BOOT, 0, 0, [[WD_MAGIC, entry ^ WD_MAGIC, 0x20038000, entry]], 0)], run=False)
    r.m.write_memory(r.mailbox, (1).to_bytes(4, "little"))
    r.m.run(for_s=1, until=lambda: r.mb(2) >= 2)
    assert r.mb(2) == 2 and r.mb(7) == 0                              # booted flash instead
    assert r.mb(3) == WD_MAGIC                                        # not consumed
