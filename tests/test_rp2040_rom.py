"""The project's clean-room RP2040 boot ROM (firmware/rp2040/bootrom), called the way the
pico-sdk calls it: header, table lookup through the ROM's own lookup routine, memory and bit
routines, every SF/SD soft-float slot against numpy (IEEE-754 binary32/binary64,
round-to-nearest-even) on random bit patterns plus special values, flash erase/program.

ROM routines run on the pico board's core directly: PC = routine, LR = a stop address.
"""
from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from unicorn import arm_const as A

from boardemu.emulator.machine import Machine, firmware_build_dir

ROM = firmware_build_dir() / "rp2040" / "bootrom.bin"
STOP = 0x20040000                       # a `b .` the calls return to
R = [A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3]


@pytest.fixture(scope="module")
def rom():
    if not ROM.exists():
        pytest.fail(f"{ROM} is missing: run 'make firmware'")
    m = Machine("pico")
    m.write_memory(STOP, b"\xfe\xe7")
    return Rom(m)


class Rom:
    def __init__(self, m):
        self.m = m
        self.uc = m.cpu.uc
        d = m.read_memory(0, 0x20)
        self.func_table, self.data_table, self.lookup_fn = struct.unpack("<HHH", d[0x14:0x1A])
        self.sf = self.table(self.data("SF"))
        self.sd = self.table(self.data("SD"))

    def call(self, fn, *args):
        uc = self.uc
        for reg, v in zip(R, args):
            uc.reg_write(reg, v & 0xFFFFFFFF)
        uc.reg_write(A.UC_ARM_REG_SP, 0x20041000)
        uc.reg_write(A.UC_ARM_REG_LR, STOP | 1)
        uc.emu_start(fn | 1, STOP, count=5_000_000)
        return uc.reg_read(A.UC_ARM_REG_R0), uc.reg_read(A.UC_ARM_REG_R1)

    def lookup(self, table, code):
        return self.call(self.lookup_fn, table, ord(code[0]) | ord(code[1]) << 8)[0]

    def func(self, code):
        return self.lookup(self.func_table, code)

    def data(self, code):
        return self.lookup(self.data_table, code)

    def table(self, addr):
        return struct.unpack("<32I", self.m.read_memory(addr, 128))


def test_header_and_lookup(rom):
    d = rom.m.read_memory(0x10, 4)
    assert d == b"Mu\x01\x03"
    for code in ("P3", "R3", "L3", "T3", "MS", "S4", "MC", "C4", "IF", "EX", "RE", "RP", "FC", "CX", "UB", "WV"):
        a = rom.func(code)
        assert a & 1 and 0 < a < 0x10000, code
    assert rom.func("ZZ") == 0
    assert all(p & 1 and p < 0x10000 for p in rom.sf + rom.sd)


def test_bit_routines(rom):
    rng = np.random.default_rng(1)
    vals = [0, 1, 0x80000000, 0xFFFFFFFF] + [int(x) for x in rng.integers(0, 1 << 32, 300, dtype=np.uint64)]
    p3, r3, l3, t3 = (rom.func(c) for c in ("P3", "R3", "L3", "T3"))
    for v in vals:
        assert rom.call(p3, v)[0] == bin(v).count("1")
        assert rom.call(r3, v)[0] == int(f"{v:032b}"[::-1], 2)
        assert rom.call(l3, v)[0] == 32 - v.bit_length()
        assert rom.call(t3, v)[0] == (32 if v == 0 else (v & -v).bit_length() - 1)


def test_memcpy_memset(rom):
    mc, ms = rom.func("MC"), rom.func("MS")
    src, dst = 0x20010000, 0x20020000
    pattern = bytes(range(256)) * 2
    rom.m.write_memory(src, pattern)
    for so in range(4):
        for do in range(4):
            for n in (0, 1, 3, 4, 7, 16, 17, 63, 100):
                rom.m.write_memory(dst, b"\xAA" * 128)
                assert rom.call(mc, dst + do, src + so, n)[0] == dst + do
                got = rom.m.read_memory(dst, 128)
                assert got[do:do + n] == pattern[so:so + n]
                assert got[:do] == b"\xAA" * do and got[do + n:] == b"\xAA" * (128 - do - n)
    for off in range(4):
        for n in (0, 1, 5, 33):
            rom.m.write_memory(dst, b"\x00" * 64)
            rom.call(ms, dst + off, 0x1C5, n)
            got = rom.m.read_memory(dst, 64)
            assert got[off:off + n] == b"\xC5" * n and got[off + n:] == b"\x00" * (64 - off - n)


def _f32(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def _samples32(n=1500):
    rng = np.random.default_rng(2)
    special = [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x00000001, 0x807FFFFF, 0x00800000,
               0x7F7FFFFF, 0x3F800000, 0xBF800000, 0x4B000001, 0x3F000000, 0x33800000]
    return np.concatenate([np.array(special, dtype=np.uint32), rng.integers(0, 1 << 32, n, dtype=np.uint64)
                           .astype(np.uint32)])


def _same32(got_bits, want):
    want_bits = int(np.float32(want).view(np.uint32))
    if math.isnan(np.float32(want)):
        return math.isnan(np.uint32(got_bits).view(np.float32))
    return got_bits == want_bits


@pytest.mark.parametrize("slot,op", [(0x00, np.add), (0x04, np.subtract), (0x08, np.multiply), (0x0C, np.divide)])
def test_sf_arithmetic_is_ieee(rom, slot, op):
    a, b = _samples32(), np.roll(_samples32(), 7)
    fn = rom.sf[slot // 4]
    with np.errstate(all="ignore"):
        for x, y in zip(a.tolist(), b.tolist()):
            got = rom.call(fn, x, y)[0]
            want = op(_f32([x])[0], _f32([y])[0])
            assert _same32(got, want), (hex(x), hex(y), hex(got), want)


def test_sf_sqrt_and_conversions(rom):
    sqrt_, f2i, i2f, f2d = rom.sf[0x18 // 4], rom.sf[0x1C // 4], rom.sf[0x2C // 4], rom.sf[0x7C // 4]
    with np.errstate(all="ignore"):
        for x in _samples32(800).tolist():
            f = _f32([x])[0]
            assert _same32(rom.call(sqrt_, x)[0], np.sqrt(f))
            lo, hi = rom.call(f2d, x)
            d = struct.unpack("<d", struct.pack("<II", lo, hi))[0]
            assert (math.isnan(d) and math.isnan(f)) or d == float(f)
            if not math.isnan(f):
                if math.isfinite(f):
                    want = max(-2**31, min(2**31 - 1, math.floor(f)))
                else:
                    want = 2**31 - 1 if f > 0 else -2**31
                assert rom.call(f2i, x)[0] == want & 0xFFFFFFFF            # towards -infinity, clamped
        for v in [0, 1, -1, 2**31 - 1, -2**31, 16777217, -16777217, 123456789]:
            assert _same32(rom.call(i2f, v)[0], np.float32(v))


def _samples64(n=800):
    rng = np.random.default_rng(3)
    special = [0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 1,
               0x000FFFFFFFFFFFFF, 0x3FF0000000000000, 0x7FEFFFFFFFFFFFFF, 0x3FF0000000000001]
    return [*special, *[int(v) for v in rng.integers(0, 1 << 64, n, dtype=np.uint64)]]


def _d(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


@pytest.mark.parametrize("slot,op", [(0x00, np.add), (0x04, np.subtract), (0x08, np.multiply), (0x0C, np.divide)])
def test_sd_arithmetic_is_ieee(rom, slot, op):
    fn = rom.sd[slot // 4]
    xs = _samples64()
    ys = xs[5:] + xs[:5]
    with np.errstate(all="ignore"):
        for x, y in zip(xs, ys):
            lo, hi = rom.call(fn, x & 0xFFFFFFFF, x >> 32, y & 0xFFFFFFFF, y >> 32)
            got = lo | hi << 32
            want = op(np.float64(_d(x)), np.float64(_d(y)))
            if math.isnan(want):
                assert math.isnan(_d(got))
            else:
                assert got == int(np.float64(want).view(np.uint64)), (hex(x), hex(y), hex(got))


def test_transcendentals_close(rom):
    fsin, fexp, dsin, dln = rom.sf[0x40 // 4], rom.sf[0x4C // 4], rom.sd[0x40 // 4], rom.sd[0x50 // 4]
    for v in (0.5, 1.0, 2.0, -3.0, 10.0):
        got = np.uint32(rom.call(fsin, int(np.float32(v).view(np.uint32)))[0]).view(np.float32)
        assert abs(float(got) - math.sin(v)) <= 2 * abs(np.spacing(np.float32(math.sin(v))))
        got = np.uint32(rom.call(fexp, int(np.float32(v).view(np.uint32)))[0]).view(np.float32)
        assert abs(float(got) - math.exp(np.float32(v))) <= 2 * abs(np.spacing(np.float32(math.exp(v))))
        b = struct.unpack("<II", struct.pack("<d", v))
        lo, hi = rom.call(dsin, *b)
        assert abs(struct.unpack("<d", struct.pack("<II", lo, hi))[0] - math.sin(v)) <= 2 * math.ulp(math.sin(v))
        if v > 0:
            lo, hi = rom.call(dln, *b)
            assert abs(struct.unpack("<d", struct.pack("<II", lo, hi))[0] - math.log(v)) <= 2 * math.ulp(math.log(v))


def test_flash_erase_and_program(rom):
    m = rom.m
    re_, rp = rom.func("RE"), rom.func("RP")
    m.write_memory(0x20030000, bytes([0x0F, 0xF0, 0x55, 0xAA]) * 64)
    rom.call(re_, 0x1F0000, 4096, 4096, 0x20)
    assert m.read_memory(0x101F0000, 4096) == b"\xFF" * 4096
    rom.call(rp, 0x1F0000, 0x20030000, 256)
    assert m.read_memory(0x101F0000, 4) == bytes([0x0F, 0xF0, 0x55, 0xAA])
    m.write_memory(0x20030000, b"\xF0" * 4)
    rom.call(rp, 0x1F0000, 0x20030000, 4)                     # NOR: program can only clear bits
    assert m.read_memory(0x101F0000, 4) == bytes([0x00, 0xF0, 0x50, 0xA0])
