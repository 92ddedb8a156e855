"""Firmware images through the real CLI and loader: good ones run, bad ones give one line."""
import struct
import sys

import pytest

from boardemu.emulator.loaders import UF2_FAMILIES, ImageError, load_image

from conftest import firmware, run_cli

BOARD = "mps2-an385"


def uf2_blocks(data: bytes, base: int, family: int | None = UF2_FAMILIES["rp2040"]):
    chunks = [data[i:i + 256] for i in range(0, len(data), 256)]
    out = b""
    for i, c in enumerate(chunks):
        flags = 0x2000 if family is not None else 0
        hdr = struct.pack("<8I", 0x0A324655, 0x9E5D5157, flags, base + 256 * i, len(c), i, len(chunks), family or 0)
        out += hdr + c.ljust(476, b"\0") + struct.pack("<I", 0x0AB16F30)
    return out


def elf_bytes(name="hello"):
    return firmware("mps2", name).read_bytes()


def one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.decode().strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def test_elf_segments_and_symbols():
    img = load_image(firmware("mps2", "hello"))
    assert img.format == "elf" and img.segments[0].addr == 0
    main = img.symbols.address_of("main")
    assert main is not None
    assert img.symbols.lookup(main + 2) == ("main", 2)
    assert img.symbols.format(main) == "main"


def test_hex_and_bin_and_uf2_run_the_same_program(tmp_path):
    img = load_image(firmware("mps2", "hello"))
    lo, hi = img.span()
    blob = img.read(lo, hi - lo)
    (tmp_path / "hello.bin").write_bytes(blob)
    lines = [":020000040000FA"]
    for off in range(0, len(blob), 16):
        chunk = blob[off:off + 16]
        rec = bytes([len(chunk), (off >> 8) & 0xFF, off & 0xFF, 0]) + chunk
        lines.append(":" + (rec + bytes([(-sum(rec)) & 0xFF])).hex().upper())
    lines.append(":00000001FF")
    (tmp_path / "hello.hex").write_text("\n".join(lines) + "\n")
    (tmp_path / "hello.uf2").write_bytes(uf2_blocks(blob, 0, family=None))
    for name, extra in (("hello.bin", ["--base", "0"]), ("hello.hex", []), ("hello.uf2", [])):
        r = run_cli("run", "--board", BOARD, tmp_path / name, *extra)
        assert r.returncode == 0, (name, r.stderr)
        assert b"Hello from mps2-an385" in r.stdout, name


def test_missing_file():
    one_line_error(run_cli("run", "--board", BOARD, "does-not-exist.elf"), "does-not-exist.elf", "no such file")


def test_truncated_elf(tmp_path):
    p = tmp_path / "t.elf"
    p.write_bytes(elf_bytes()[:100])
    one_line_error(run_cli("run", "--board", BOARD, p), str(p), "corrupt ELF")


def test_wrong_architecture_elf():
    one_line_error(run_cli("run", "--board", BOARD, sys.executable), "x86-64", "expected 32-bit")


def test_corrupt_uf2_and_wrong_family(tmp_path):
    blob = bytes(range(256)) * 4
    good = uf2_blocks(blob, 0x10000000)
    bad_magic = bytearray(good)
    bad_magic[512:516] = b"XXXX"
    (tmp_path / "bad.uf2").write_bytes(bytes(bad_magic))
    with pytest.raises(ImageError) as e:
        load_image(tmp_path / "bad.uf2")
    assert "bad magic in block 1" in str(e.value)
    (tmp_path / "short.uf2").write_bytes(good[:700])
    with pytest.raises(ImageError, match="truncated UF2"):
        load_image(tmp_path / "short.uf2")
    (tmp_path / "fam.uf2").write_bytes(good)
    with pytest.raises(ImageError) as e:
        load_image(tmp_path / "fam.uf2", family=UF2_FAMILIES["nrf51"])
    assert "rp2040" in str(e.value) and "nrf51" in str(e.value)


def test_bad_hex(tmp_path):
    p = tmp_path / "bad.hex"
    p.write_text(":0400000001020304F1\n:00000001FF\n")
    with pytest.raises(ImageError, match="line 1: checksum mismatch"):
        load_image(p)
    p.write_text(":0400000001020304F2\n")
    err = one_line_error(run_cli("run", "--board", BOARD, p), "no end-of-file record")
    assert err.startswith(f"boardemu: {p}")


def test_bin_needs_a_base(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\0" * 64)
    with pytest.raises(ImageError, match="load address"):
        load_image(p)


def test_image_outside_board_memory(tmp_path):
    p = tmp_path / "far.bin"
    p.write_bytes(b"\0" * 64)
    one_line_error(run_cli("run", "--board", BOARD, p, "--base", "0x90000000"), "outside the board's memory")


def test_microbit_hex_loads_fast():
    p = "/usr/share/firmware-microbit-micropython/firmware.hex"
    import os
    if not os.path.exists(p):
        pytest.skip("firmware-microbit-micropython is not installed")
    img = load_image(p)
    assert img.segments[0].addr == 0 and sum(len(s.data) for s in img.segments) > 200_000
