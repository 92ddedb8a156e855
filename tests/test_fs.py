"""Board filesystems: LittleFS and micro:bit images built, listed, extracted and checked on the
host (everywhere); round trips host -> image -> board -> host on the micro:bit (Debian's
MicroPython) and on the Pico (official v1.22.2 image, when it is cached and the board boots).
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
from pathlib import Path

import pytest

from boardemu.emulator import fsimage
from boardemu.emulator.fsimage import FsError, mpy
from boardemu.emulator.fsimage.littlefs import superblock
from boardemu.emulator.loaders import Image, Segment, load_image
from boardemu.emulator.machine import Machine

from conftest import ROOT, raw_exec, raw_repl_enter, run_cli

HEX = Path("/usr/share/firmware-microbit-micropython/firmware.hex")
needs_hex = pytest.mark.skipif(
    not HEX.exists(), reason=f"{HEX} missing (apt-get install firmware-microbit-micropython)")
PICO_UF2 = Path.home() / ".cache" / "boardemu" / "firmware" / "RPI_PICO-20240222-v1.22.2.uf2"
MTIME = 1_700_000_000_123_456_789          # ns; kept exactly by LittleFS


def make_tree(root: Path) -> dict[str, bytes]:
    """A source tree: text, binary, nested directories, an empty file, fixed mtimes."""
    files = {
        "main.py": b"print('main')\n",
        "boot.py": b"# boot\n",
        "data.txt": b"hello from the host\n",
        "lib/mod.py": b"def f():\n    return 6 * 7\n",
        "lib/deep/blob.bin": bytes(range(256)) * 40 + b"\x00\xff" * 7,
        "lib/deep/empty": b"",
        "lib/main.py": b"X = 1\n",                 # not at the root: compiled by --mpy
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, ns=(MTIME, MTIME))
    (root / "emptydir").mkdir()
    return files


def cli_err(r, pattern: str):
    """A CLI failure the issue asks for: exit 2, one 'boardemu: ...' line, no traceback."""
    err = r.stderr.decode()
    assert r.returncode == 2, (r.returncode, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("boardemu: "), err
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    return src, make_tree(src)


@pytest.fixture
def pico_image(tree, tmp_path):
    src, files = tree
    img = tmp_path / "fs.img"
    r = run_cli("fs", "build", src, "-o", img, "--board", "pico")
    assert r.returncode == 0, r.stderr.decode()
    return img, files


# -- LittleFS (Pico geometry), host only ------------------------------------------------------------
def test_layout_of_the_pico_matches_micropython():
    lay = fsimage.layout("pico")
    assert (lay.type, lay.flash_base, lay.offset, lay.size) == ("littlefs2", 0x10000000, 0xA0000, 0x160000)
    assert lay.addr == 0x100A0000 and lay.block_count == 352
    assert (lay.block_size, lay.read_size, lay.prog_size, lay.lookahead_size, lay.cache_size) == \
        (4096, 32, 256, 32, 1024)
    assert (lay.block_cycles, lay.name_max, lay.disk_version) == (100, 255, 0x00020001)
    assert (lay.mpy.version, lay.mpy.sub, lay.mpy.arch) == (6, 2, "armv6m")


def test_build_ls_cat_extract_round_trip(pico_image, tmp_path):
    img, files = pico_image
    data = img.read_bytes()
    assert len(data) == 1408 * 1024
    sb = superblock(data)
    assert (sb.version, sb.block_size, sb.block_count, sb.name_max) == (0x00020001, 4096, 352, 255)

    r = run_cli("fs", "ls", img, "--board", "pico")
    assert r.returncode == 0, r.stderr.decode()
    listing = r.stdout.decode()
    for rel, content in files.items():
        assert re.search(rf"^\s+{len(content)}\s.*\s/{re.escape(rel)}$", listing, re.M), (rel, listing)
    assert re.search(r"^\s+-\s+/emptydir/$", listing, re.M)
    assert re.search(r"^\s+-\s+/lib/deep/$", listing, re.M)

    r = run_cli("fs", "ls", img, "/lib/deep", "--board", "pico")
    assert r.returncode == 0 and "/lib/deep/blob.bin" in r.stdout.decode() and "/main.py" not in r.stdout.decode()

    r = run_cli("fs", "cat", img, "/lib/deep/blob.bin", "--board", "pico")
    assert r.returncode == 0 and r.stdout == files["lib/deep/blob.bin"]

    out = tmp_path / "out"
    r = run_cli("fs", "extract", img, "-o", out, "--board", "pico")
    assert r.returncode == 0, r.stderr.decode()
    for rel, content in files.items():
        assert (out / rel).read_bytes() == content
        assert (out / rel).stat().st_mtime_ns == MTIME          # mtimes kept both ways
    assert (out / "emptydir").is_dir()

    one = tmp_path / "one"
    r = run_cli("fs", "extract", img, "lib/deep", "-o", one, "--board", "pico")
    assert r.returncode == 0 and sorted(p.name for p in (one / "deep").iterdir()) == ["blob.bin", "empty"]


def test_mtime_attribute_is_micropythons(pico_image):
    img, _ = pico_image
    fs = fsimage.open_image(fsimage.layout("pico"), img.read_bytes())
    assert fs.stat("/data.txt").mtime_ns == MTIME
    from littlefs import lfs
    raw = lfs.getattr(fs.fs, "/data.txt", 1)              # type 1: 8 bytes LE, ns since 1970
    assert raw == struct.pack("<Q", MTIME)


def test_ls_without_board_uses_the_superblock(pico_image):
    img, files = pico_image
    r = run_cli("fs", "ls", img)
    assert r.returncode == 0, r.stderr.decode()
    assert "/lib/deep/blob.bin" in r.stdout.decode()


def test_api_write_reopen_and_remove():
    lay = fsimage.layout("pico")
    fs = fsimage.new_filesystem(lay)
    fs.write("/a/b/c.bin", b"\x00\x01" * 3000, mtime_ns=5)
    fs.write("x.txt", b"x")
    again = fsimage.open_image(lay, fs.to_bytes())
    assert again.read("/a/b/c.bin") == b"\x00\x01" * 3000 and again.stat("/a/b/c.bin").mtime_ns == 5
    assert again.listdir("/") == ["a", "x.txt"]
    again.remove("/a")
    assert [e.path for e in again.entries()] == ["/x.txt"]
    with pytest.raises(FileNotFoundError):
        again.read("/a/b/c.bin")


def test_mpy_build_compiles_all_but_root_boot_and_main(tree, tmp_path):
    src, files = tree
    img = tmp_path / "fs.img"
    r = run_cli("fs", "build", src, "-o", img, "--board", "pico", "--mpy")
    assert r.returncode == 0, r.stderr.decode()
    fs = fsimage.open_image(fsimage.layout("pico"), img.read_bytes())
    names = {e.path for e in fs.entries() if not e.is_dir}
    assert {"/main.py", "/boot.py", "/lib/mod.mpy", "/lib/main.mpy", "/data.txt"} <= names
    assert "/lib/mod.py" not in names
    assert fs.read("/main.py") == files["main.py"]
    head = fs.read("/lib/mod.mpy")[:4]
    assert head == bytes([0x4D, 6, 0, 31])                # 'M', v6, bytecode, 31-bit small ints
    assert fsimage.check_mpy(fs) == []


# -- bad inputs: one clear error each (exit 2) --------------------------------------------------------
def test_bad_inputs_give_one_line_errors(pico_image, tmp_path):
    img, _ = pico_image
    good = img.read_bytes()
    lay = fsimage.layout("pico")

    cli_err(run_cli("fs", "ls", tmp_path / "nope.img", "--board", "pico"), r"nope\.img: no such filesystem image")
    cli_err(run_cli("fs", "build", tmp_path / "nosrc", "-o", tmp_path / "x.img", "--board", "pico"),
            r"nosrc: no such directory")
    cli_err(run_cli("fs", "build", tmp_path, "-o", tmp_path / "x.img", "--board", "nosuchboard"),
            r"unknown board")
    cli_err(run_cli("fs", "build", tmp_path, "-o", tmp_path / "x.img", "--board", "mps2-an385"),
            r"board mps2-an385 has no filesystem")

    foreign = tmp_path / "random.img"
    foreign.write_bytes(hashlib.shake_256(b"x").digest(len(good)))
    cli_err(run_cli("fs", "ls", foreign, "--board", "pico"), r"random\.img: not a LittleFS image")
    cli_err(run_cli("fs", "ls", foreign), r"not a LittleFS image.*--board")

    erased = tmp_path / "erased.img"
    erased.write_bytes(b"\xff" * len(good))
    cli_err(run_cli("fs", "ls", erased, "--board", "pico"), r"erased \(all 0xFF\)")

    short = tmp_path / "short.img"
    short.write_bytes(good[:-4096])
    cli_err(run_cli("fs", "ls", short, "--board", "pico"), r"short\.img: 1437696 bytes, but the LittleFS .* is 1441792")

    big = tmp_path / "big.img"
    big.write_bytes(good + b"\xff" * 4096)
    cli_err(run_cli("fs", "ls", big, "--board", "pico"), r"big\.img: 1445888 bytes, too big for the LittleFS")

    # same size, other geometry: a LittleFS of 1 KiB blocks
    other = tmp_path / "other.toml"
    other.write_text((ROOT / "boards" / "pico.toml").read_text().replace("block_size = 4096", "block_size = 1024")
                     .replace("cache_size = 1024", "cache_size = 512"))
    olay = fsimage.layout(str(other))
    fs = fsimage.new_filesystem(olay)
    fs.write("/x", b"x")
    geo = tmp_path / "geo.img"
    geo.write_bytes(fs.to_bytes())
    cli_err(run_cli("fs", "ls", geo, "--board", "pico"),
            r"LittleFS of 1408 blocks of 1024 bytes, but board pico uses 352 blocks of 4096 bytes")

    cli_err(run_cli("fs", "cat", img, "/nothing", "--board", "pico"), r"/nothing: no such file in the image")
    cli_err(run_cli("fs", "cat", img, "/lib", "--board", "pico"), r"/lib: is a directory")
    cli_err(run_cli("fs", "cat", img, "--board", "pico"), r"give the PATH")
    cli_err(run_cli("fs", "ls", img, "/nothing", "--board", "pico"), r"/nothing: no such file or directory")
    cli_err(run_cli("fs", "ls", "--flash", img), r"--flash: give the board with --board")
    cli_err(run_cli("fs", "ls", "--flash", img, "--board", "pico"), r"whole-flash image is exactly the flash")
    cli_err(run_cli("fs", "extract", img, "../x", "--board", "pico"), r"'\.\.' is not allowed")

    # corrupt: the superblock's magic is there, but both copies of the root metadata are damaged
    bad = bytearray(good)
    for blk in (0, 1):
        bad[blk * 4096 + 40:blk * 4096 + 200] = b"\x5a" * 160
    corrupt = tmp_path / "corrupt.img"
    corrupt.write_bytes(bytes(bad))
    cli_err(run_cli("fs", "ls", corrupt, "--board", "pico"),
            r"corrupt\.img: corrupt LittleFS image \(mount failed: LFS_ERR_CORRUPT\)")
    with pytest.raises(FsError, match="not a LittleFS image"):
        zeroed = bytearray(good)
        zeroed[0:8192] = b"\x00" * 8192
        fsimage.open_image(lay, bytes(zeroed), "zeroed")


def test_build_errors_too_big_and_name_too_long(tmp_path):
    src = tmp_path / "big"
    src.mkdir()
    (src / "huge.bin").write_bytes(os.urandom(1500 * 1024))
    cli_err(run_cli("fs", "build", src, "-o", tmp_path / "x.img", "--board", "pico"),
            r"/huge\.bin: no space left: the files do not fit the 1408 KiB filesystem of board pico")
    assert not (tmp_path / "x.img").exists()                  # nothing half-written

    # a board whose firmware allows 32-byte names (host directories cannot hold > 255-byte names)
    short = tmp_path / "short.toml"
    short.write_text((ROOT / "boards" / "pico.toml").read_text().replace("name_max = 255", "name_max = 32"))
    src2 = tmp_path / "names"
    (src2 / "d").mkdir(parents=True)
    (src2 / "d" / ("n" * 33)).write_text("x")
    cli_err(run_cli("fs", "build", src2, "-o", tmp_path / "y.img", "--board", short),
            r"/d/n+: name 'n+'… is 33 bytes; board pico's filesystem allows 32")
    with pytest.raises(FsError, match="name longer than 255"):
        fsimage.new_filesystem(fsimage.layout("pico")).write("/" + "z" * 256, b"")


def test_run_options_errors(tmp_path, tree):
    src, _ = tree
    cli_err(run_cli("run", "--board", "microbit", "--mpy", "--timeout", "1ms"), r"--mpy needs --fs")
    fw = ROOT / "firmware" / "build" / "mps2" / "hello.elf"
    if fw.exists():
        cli_err(run_cli("run", "--board", "mps2-an385", fw, "--fs", src, "--timeout", "1ms"),
                r"--fs: board mps2-an385 has no filesystem")
    r = run_cli("run", "--fs", src, "--fs-image", "x", "--timeout", "1ms")
    assert r.returncode == 2 and b"not allowed with argument" in r.stderr
    for cmd in ("run", "serve"):
        r = run_cli(cmd, "--help")
        assert r.returncode == 0
        for opt in (b"--fs SRC_DIR", b"--fs-image IMAGE", b"--flash FILE", b"--dump-fs DIR", b"--mpy"):
            assert opt in r.stdout, (cmd, opt)
    for sub in ("build", "ls", "cat", "extract"):
        r = run_cli("fs", sub, "--help")
        assert r.returncode == 0 and b"usage: boardemu fs " + sub.encode() in r.stdout


# -- .mpy headers and compatibility ----------------------------------------------------------------------
def test_mpy_headers_and_compatibility():
    t = mpy.MpyTarget(6, 2, "armv6m")
    hdr = mpy.read_header
    assert mpy.compatibility_problem(hdr(b"M\x06\x00\x1f"), t) is None             # bytecode, any 6.x
    assert mpy.compatibility_problem(hdr(b"M\x06\x12\x1f"), t) is None             # native armv6m 6.2
    assert "sub-version" in mpy.compatibility_problem(hdr(b"M\x06\x13\x1f"), t)    # native armv6m 6.3
    p = mpy.compatibility_problem(hdr(b"M\x06\x16\x1f"), t)                        # native armv7m 6.2
    assert p == "mpy v6.2 native armv7m, but the firmware imports mpy v6.2 (armv6m) (architecture differs)"
    assert "version differs" in mpy.compatibility_problem(hdr(b"M\x05\x00\x1f"), t)
    assert "not an .mpy" in mpy.compatibility_problem(hdr(b"\x7fELF"), t)
    assert mpy.compatibility_problem(hdr(b"M\x06\x16\x1f"), mpy.MpyTarget(6, 2, "armv7emsp")) is None
    assert "cannot import" in mpy.compatibility_problem(hdr(b"M\x06\x00\x1f"), None, "microbit")

    assert mpy.mpy_of_release("v1.22.2") == (6, 2)
    assert mpy.mpy_of_release("v1.23.0") == (6, 3)
    assert mpy.mpy_of_release("v1.19.1") == (6, 0)
    assert mpy.mpy_of_release("v1.9.2") == (2, 0)
    fake = Image("fw", "bin", [Segment(0x10000000, b"\x00MicroPython v1.21.0 on 2023-10-05\x00")])
    assert mpy.firmware_release(fake) == "v1.21.0"
    from boardemu.emulator.board import load_board
    tgt = mpy.target_from_board(load_board("pico"), fake)
    assert (tgt.version, tgt.sub, tgt.arch, tgt.firmware) == (6, 1, "armv6m", "MicroPython v1.21.0")


def test_mpy_check_names_file_and_both_versions():
    lay = fsimage.layout("pico")
    fs = fsimage.new_filesystem(lay)
    fs.write("/ok.mpy", b"M\x06\x00\x1f" + b"\x00" * 8)
    fs.write("/lib/new.mpy", b"M\x06\x13\x1f" + b"\x00" * 8)
    fs.write("/lib/old.mpy", b"M\x05\x00\x1f" + b"\x00" * 8)
    warns = fsimage.check_mpy(fs)
    assert len(warns) == 2
    assert warns[0].startswith("/lib/new.mpy: mpy v6.3 native armv6m, but the firmware imports mpy v6.2 (armv6m)")
    assert warns[1].startswith("/lib/old.mpy: mpy v5, but the firmware imports mpy v6.2")


def test_mpy_cross_compiles_for_the_target(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("@micropython.native\ndef f(x):\n    return x + 1\n")
    c = mpy.Compiler(mpy.MpyTarget(6, 2, "armv6m"), "pico")
    if c.version != (6, 2):
        pytest.skip(f"no mpy-cross emitting mpy v6.2 here (found v{c.version[0]}.{c.version[1]})")
    data = c.compile(src, "/m.py")
    assert data[:4] == bytes([0x4D, 6, (4 << 2) | 2, 31])     # native armv6m, sub-version 2
    with pytest.raises(FsError, match="cannot import .mpy"):
        mpy.Compiler(None, "microbit")
    (tmp_path / "bad.py").write_text("def (:\n")
    with pytest.raises(FsError, match=r"bad\.py: mpy-cross: .*SyntaxError"):
        c.compile(tmp_path / "bad.py", "/bad.py")


# -- micro:bit filesystem, host only ------------------------------------------------------------------
@needs_hex
def test_microbit_region_follows_the_firmware_end():
    img = load_image(str(HEX))
    lay = fsimage.layout("microbit", img)
    assert (lay.offset, lay.size, lay.resolved) == (0x3BC00, 0x4000, True)      # 120 chunks + spare page
    # an appended script at 0x3E000 moves the region down 8 KiB (compass page at 0x3DC00)
    script = Image(img.path, img.format, [*img.segments, Segment(0x3E000, b"MP\x05\x00pass\n")])
    lay2 = fsimage.layout("microbit", script)
    assert lay2.offset + lay2.size == 0x3DC00 and lay2.offset == 0x3BC00
    # a smaller firmware leaves the full 240 chunks
    small = Image("small", "bin", [Segment(0, b"\x00" * 0x20000)])
    lay3 = fsimage.layout("microbit", small)
    assert (lay3.offset, lay3.size) == (0x38000, 0x7C00)


@needs_hex
def test_microbit_build_parse_and_errors(tmp_path):
    img = load_image(str(HEX))
    lay = fsimage.layout("microbit", img)
    fs = fsimage.new_filesystem(lay)
    sizes = {"a": 123, "b": 0, "c": 124, "dd": 500, "e": 1}        # "a": its chunk exactly full
    for n, size in sizes.items():
        fs.write("/" + n, bytes((i * 7 + len(n)) & 0xFF for i in range(size)))
    raw = fs.to_bytes()
    assert len(raw) == lay.size and raw[lay.size - 1024] == 0xFD            # persistent page last
    assert raw[0] == 0xFE and raw[1] == 0 and raw[2] == 1 and raw[3:4] == b"a"   # end_offset 0 in chunk 2
    assert raw[127] == 2 and raw[128] == 1                                       # chunk 1 -> chunk 2 -> back
    again = fsimage.open_image(lay, raw)
    for n, size in sizes.items():
        assert again.read("/" + n) == bytes((i * 7 + len(n)) & 0xFF for i in range(size))

    src = tmp_path / "src"
    src.mkdir()
    (src / ("n" * 121)).write_text("x")
    cli_err(run_cli("fs", "build", src, "-o", tmp_path / "x.img", "--board", "microbit"),
            r"is 121 bytes; board microbit's filesystem allows 120")
    (src / ("n" * 121)).unlink()
    (src / "sub").mkdir()
    (src / "sub" / "x.py").write_text("x")
    cli_err(run_cli("fs", "build", src, "-o", tmp_path / "x.img", "--board", "microbit"),
            r"micro:bit filesystem has no directories")
    (src / "sub" / "x.py").unlink()
    (src / "sub").rmdir()
    (src / "big.bin").write_bytes(b"x" * 16000)
    cli_err(run_cli("fs", "build", src, "-o", tmp_path / "x.img", "--board", "microbit"),
            r"no space left: the files need 128 chunks of 128 bytes, the micro:bit filesystem of this "
            r"firmware has 120")
    (src / "big.bin").write_bytes(b"x" * 100)
    cli_err(run_cli("fs", "build", src, "-o", tmp_path / "x.img", "--board", "microbit", "--mpy"),
            r"--mpy: the firmware of board microbit cannot import \.mpy files")

    foreign = tmp_path / "foreign.img"
    foreign.write_bytes(bytes(range(256)) * 64)
    cli_err(run_cli("fs", "ls", foreign, "--board", "microbit"), r"foreign\.img: not a micro:bit filesystem")
    corrupt = bytearray(raw)
    corrupt[128] = 9                                   # chunk 2 no longer links back to chunk 1
    (tmp_path / "corrupt.img").write_bytes(bytes(corrupt))
    cli_err(run_cli("fs", "ls", tmp_path / "corrupt.img", "--board", "microbit"),
            r"corrupt\.img: not a micro:bit filesystem, or corrupt: chunk 2 does not link back to chunk 1")
    (tmp_path / "huge.img").write_bytes(b"\xff" * 40 * 1024)
    cli_err(run_cli("fs", "ls", tmp_path / "huge.img", "--board", "microbit"), r"too big for the micro:bit")


# -- micro:bit on the board ------------------------------------------------------------------------------
class Repl:
    """A booted board in the raw REPL (same protocol as tests/test_microbit.py)."""

    def __init__(self, m: Machine, boot_timeout: float = 5):
        self.m = m
        if "usbctrl" in m.peripherals:          # Pico: REPL on USB CDC, prompt once the host opens it
            host = m.peripheral("usbctrl").host
            m.run(for_s=boot_timeout, until=lambda: host.configured)
            assert host.configured, "USB host did not configure the CDC device"
            m.console.send(b"\r\n")
        m.run_until_output(b">>> ", boot_timeout)
        raw_repl_enter(m)

    def exec(self, code: str, timeout: float = 30.0) -> str:
        return raw_exec(self.m, code, timeout)


@needs_hex
def test_microbit_files_put_in_are_readable_from_the_repl(tmp_path):
    m = Machine("microbit", HEX)
    lay = fsimage.layout("microbit", m.image)
    fs = fsimage.new_filesystem(lay)
    fs.write("/x", b"hello from the host")
    fs.write("/full", bytes(33 + i % 90 for i in range(120)))    # 2 + name 4 + 120: first chunk exactly full
    fs.write("/long.txt", b"0123456789" * 100)
    m.write_filesystem(fs.to_bytes())
    r = Repl(m)
    assert r.exec("print(open('x').read())") == "hello from the host\n"
    assert r.exec("import os\nprint(sorted(os.listdir()), os.size('full'), os.size('long.txt'))") == \
        "['full', 'long.txt', 'x'] 120 1000\n"
    assert r.exec("print(open('long.txt').read() == '0123456789' * 100, open('full').read() == "
                  "''.join(chr(33 + i % 90) for i in range(120)))") == "True True\n"


@needs_hex
def test_microbit_board_written_file_is_extracted_identical():
    m = Machine("microbit", HEX)
    r = Repl(m)
    r.exec("with open('out.bin', 'wb') as f:\n    f.write(bytes(range(256)) * 3)\n"
           "with open('exact', 'w') as f:\n    f.write('e' * 119)\n")
    fs = fsimage.open_image(fsimage.layout("microbit", m.image), m.read_filesystem())
    assert fs.read("/out.bin") == bytes(range(256)) * 3
    assert fs.read("/exact") == b"e" * 119                # chunk exactly full: the board links an empty one
    assert m.filesystem.read("out.bin") == bytes(range(256)) * 3
    with pytest.raises(FileNotFoundError):
        m.filesystem.read("nothing")


@needs_hex
def test_microbit_cli_fs_flash_and_dump_round_trip(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.txt").write_text("hello from the host\n")
    (src / "main.py").write_text("print(open('data.txt').read())\n"
                                 "with open('out.txt', 'w') as f:\n    f.write('written by the board ' * 9)\n"
                                 "print('DONE')\n")
    flash, dump = tmp_path / "mb.flash", tmp_path / "dump"
    r = run_cli("run", "--board", "microbit", "--fs", src, "--flash", flash, "--dump-fs", dump,
                "--expect", "DONE", "--timeout", "10s")
    assert r.returncode == 0, r.stderr.decode()
    assert b"hello from the host" in r.stdout
    expected = b"written by the board " * 9
    assert (dump / "out.txt").read_bytes() == expected
    assert (dump / "main.py").read_bytes() == (src / "main.py").read_bytes()
    assert flash.stat().st_size == 256 * 1024

    # the flash file keeps firmware and files: inspect it, then boot from it alone
    r = run_cli("fs", "cat", "--flash", flash, "--board", "microbit", "out.txt")
    assert r.returncode == 0 and r.stdout == expected
    r = run_cli("fs", "ls", flash, "--board", "microbit")           # a whole flash given as IMAGE
    assert r.returncode == 0 and "/out.txt" in r.stdout.decode()
    out = tmp_path / "x"
    r = run_cli("fs", "extract", "--flash", flash, "--board", "microbit", "-o", out)
    assert r.returncode == 0 and (out / "out.txt").read_bytes() == expected
    (src / "main.py").unlink()
    r = run_cli("run", "--board", "microbit", "--flash", flash, "--expect", "DONE", "--timeout", "10s")
    assert r.returncode == 0 and b"hello from the host" in r.stdout      # main.py from the flash file
    before = flash.read_bytes()

    # a bad image never reaches the flash file
    bad = tmp_path / "bad.img"
    bad.write_bytes(bytes(range(256)) * 64)
    cli_err(run_cli("run", "--board", "microbit", "--flash", flash, "--fs-image", bad, "--timeout", "1s"),
            r"bad\.img: not a micro:bit filesystem")
    assert flash.read_bytes() == before
    wrong = tmp_path / "wrong.flash"
    wrong.write_bytes(b"\xff" * 1000)
    cli_err(run_cli("run", "--board", "microbit", "--flash", wrong, "--timeout", "1s"),
            r"wrong\.flash: 1000 bytes, but board microbit's flash is 262144 bytes")


@needs_hex
def test_microbit_fs_image_and_mpy_warning(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("print(open('greeting').read())\n")
    (src / "greeting").write_text("hi there")
    (src / "mod.mpy").write_bytes(b"M\x06\x00\x1f\x00")
    img = tmp_path / "mb.img"
    r = run_cli("fs", "build", src, "-o", img, "--board", "microbit")
    assert r.returncode == 0, r.stderr.decode()
    assert img.stat().st_size == 16 * 1024
    r = run_cli("run", "--board", "microbit", "--fs-image", img, "--expect", "hi there", "--timeout", "10s")
    assert r.returncode == 0, r.stderr.decode()
    assert "warning: /mod.mpy: mpy v6 bytecode, but the firmware of board microbit cannot import .mpy files" \
        in r.stderr.decode()


@needs_hex
def test_serve_fs_and_dump_on_sigterm(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("with open('boot.log', 'w') as f:\n    f.write('served')\n")
    dump = tmp_path / "dump"
    p = subprocess.Popen([sys.executable, "-m", "boardemu.cli", "serve", "--board", "microbit", "--socket", "0",
                          "--fs", src, "--dump-fs", dump], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline().startswith(b"mpremote connect socket://")
        time.sleep(1.5)                          # MicroPython boots and runs main.py meanwhile
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 0, err.decode()
    assert (dump / "boot.log").read_text() == "served"


@needs_hex
def test_scenario_fs_and_expect_file_on_the_microbit(tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text("board: microbit\nfs:\n  main.py: |\n    with open('log.txt', 'w') as f:\n"
                  "        f.write(open('in.txt').read().upper())\n    print('OK!')\n"
                  "  in.txt: 'some input'\nsteps:\n  - wait-serial: {text: 'OK!', timeout: 5s}\n"
                  "  - expect-file: {path: log.txt, content: SOME INPUT}\n")
    r = run_cli("scenario", "run", sc)
    assert r.returncode == 0, (r.stdout.decode(), r.stderr.decode())


# -- Pico (official MicroPython v1.22.2 image; skipped until it is cached and the board boots) ---------
@pytest.fixture(scope="module")
def pico_boots():
    if not (ROOT / "boards" / "pico.toml").exists():
        pytest.skip("boards/pico.toml missing")
    if not PICO_UF2.exists():
        pytest.skip(f"{PICO_UF2} not cached")
    try:
        Repl(Machine("pico", PICO_UF2), boot_timeout=5)
    except Exception as e:        # noqa: BLE001 -- any failure to boot means: not ready yet
        pytest.skip(f"the pico board does not boot MicroPython yet: {type(e).__name__}: {e}"[:300])
    return True


def pico_with_fs(tmp_path, mpy_build=False, flash=None):
    src = tmp_path / "src"
    files = make_tree(src) if not src.exists() else None
    lay = fsimage.layout("pico")
    m = Machine("pico", PICO_UF2, flash=str(flash) if flash else None)
    m.write_filesystem(fsimage.build(lay, src, mpy=mpy_build))
    return m, files


def test_pico_files_built_in_are_readable(pico_boots, tmp_path):
    m, files = pico_with_fs(tmp_path)
    r = Repl(m)
    assert r.exec("print(open('/data.txt').read(), end='')") == files["data.txt"].decode()
    assert r.exec("import os\nprint(sorted(os.listdir('/lib/deep')), os.stat('/lib/deep/blob.bin')[6])") == \
        f"['blob.bin', 'empty'] {len(files['lib/deep/blob.bin'])}\n"
    assert r.exec("print(open('/lib/deep/blob.bin', 'rb').read() == bytes(range(256)) * 40 + b'\\x00\\xff' * 7)") \
        == "True\n"
    assert r.exec("print(os.stat('/data.txt')[8])").strip() in (str(MTIME // 10**9), str(MTIME // 10**9 - 946684800))


def test_pico_mpy_module_imports_and_runs(pico_boots, tmp_path):
    m, _ = pico_with_fs(tmp_path, mpy_build=True)
    fs = fsimage.open_image(fsimage.layout("pico"), m.read_filesystem())
    assert fs.exists("/lib/mod.mpy") and fsimage.check_mpy(fs, fsimage.layout("pico", m.image).mpy) == []
    r = Repl(m)
    assert r.exec("import sys\nsys.path.append('/lib')\nimport mod\nprint(mod.f(), mod.__file__)") == \
        "42 /lib/mod.mpy\n"


def test_pico_board_written_file_extracted_identical(pico_boots, tmp_path):
    flash = tmp_path / "pico.flash"
    m, _ = pico_with_fs(tmp_path, flash=flash)
    r = Repl(m)
    r.exec("with open('/out.bin', 'wb') as f:\n    f.write(bytes(range(256)) * 20)\n"
           "import os\nos.mkdir('/logs')\nwith open('/logs/run.txt', 'w') as f:\n    f.write('line\\n' * 50)\n")
    m.close()
    fs = fsimage.open_image(fsimage.layout("pico"), m.read_filesystem())
    assert fs.read("/out.bin") == bytes(range(256)) * 20
    assert fs.read("/logs/run.txt") == b"line\n" * 50
    assert fs.stat("/out.bin").mtime_ns is not None
    out = tmp_path / "out"
    rc = run_cli("fs", "extract", "--flash", flash, "--board", "pico", "-o", out)
    assert rc.returncode == 0, rc.stderr.decode()
    assert (out / "out.bin").read_bytes() == bytes(range(256)) * 20
    assert (out / "logs" / "run.txt").read_bytes() == b"line\n" * 50


def test_pico_cli_fs_mpy_and_dump(pico_boots, tmp_path):
    src = tmp_path / "src"
    make_tree(src)
    (src / "main.py").write_text("import sys\nsys.path.append('/lib')\nimport mod\n"
                                 "with open('/result.txt', 'w') as f:\n    f.write(str(mod.f()))\n"
                                 "print('RESULT', mod.f())\n")
    dump = tmp_path / "dump"
    r = run_cli("run", "--board", "pico", PICO_UF2, "--fs", src, "--mpy", "--dump-fs", dump,
                "--expect", "RESULT 42", "--timeout", "20s", timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert (dump / "result.txt").read_text() == "42"
    assert (dump / "lib" / "mod.mpy").read_bytes()[:2] == b"M\x06"
