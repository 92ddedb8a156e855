"""Small native (C) helpers for the hot paths, compiled on first use and loaded with ctypes.

The Python binding of unicorn calls back into Python for every hook and MMIO access (~0.3 to 2
µs each). A few things run so often that they must stay native: the instruction counter (once
per translated block) and the busiest MMIO registers (RP2040 SIO: spinlocks, divider, CPUID).
Their C sources live next to the Python code that uses them (``*.c``); ``load(path)`` compiles
one with the system C compiler (``cc``; gcc in ``make setup``) into the user cache
(``~/.cache/boardemu/native/`` or ``$BOARDEMU_CACHE/native``), keyed by a hash of the source
and flags, and returns the loaded library. Concurrent first uses (pytest -n) are safe: each
build goes to a temporary file renamed into place.

Without a C compiler, or with ``BOARDEMU_NATIVE=0`` in the environment, ``load`` returns
None and callers use their pure-Python path (same behaviour, slower); ``status()`` says why.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CFLAGS = ["-O2", "-shared", "-fPIC", "-std=gnu11", "-Wall"]
_loaded: dict[Path, ctypes.CDLL | None] = {}
_why: dict[Path, str] = {}


def cache_dir() -> Path:
    base = os.environ.get("BOARDEMU_CACHE")
    if base:
        return Path(base) / "native"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg or Path.home() / ".cache") / "boardemu" / "native"


def enabled() -> bool:
    return os.environ.get("BOARDEMU_NATIVE", "1") not in ("0", "no", "off", "false")


def compiler() -> str | None:
    cc = os.environ.get("CC")
    if cc and shutil.which(cc):
        return cc
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return name
    return None


def load(src: Path) -> ctypes.CDLL | None:
    """The compiled library for C source ``src`` (built if needed), or None."""
    src = Path(src).resolve()
    if src in _loaded:
        return _loaded[src]
    lib = None
    if not enabled():
        _why[src] = "disabled by BOARDEMU_NATIVE=0"
    else:
        try:
            lib = ctypes.CDLL(str(_build(src)))
        except (OSError, subprocess.SubprocessError, NativeBuildError) as e:
            _why[src] = str(e)
    _loaded[src] = lib
    return lib


def status(src: Path) -> str:
    src = Path(src).resolve()
    if _loaded.get(src) is not None:
        return "native"
    return _why.get(src, "not loaded")


class NativeBuildError(Exception):
    pass


def _build(src: Path) -> Path:
    text = src.read_bytes()
    cc = compiler()
    if cc is None:
        raise NativeBuildError("no C compiler (cc/gcc/clang) on PATH")
    key = hashlib.sha256(text + " ".join(CFLAGS).encode() + sys.platform.encode()).hexdigest()[:16]
    out_dir = cache_dir()
    out = out_dir / f"{src.stem}-{key}.so"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out_dir)
    os.close(fd)
    try:
        r = subprocess.run([cc, *CFLAGS, "-o", tmp, str(src)], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            first = (r.stderr.strip().splitlines() or ["?"])[0]
            raise NativeBuildError(f"{cc} failed on {src.name}: {first}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def main(argv=None) -> int:
    """``python -m boardemu.emulator.native``: build every native helper now (make setup)."""
    here = Path(__file__).resolve().parent
    roots = [here]
    try:
        import boardemu.peripherals as bp
        roots.append(Path(bp.__file__).resolve().parent)
    except ImportError:
        pass
    srcs = sorted({p.resolve() for r in roots for p in r.rglob("*.c")})
    bad = 0
    for s in srcs:
        lib = load(s)
        print(f"{s.name}: {'ok' if lib is not None else status(s)}")
        bad += lib is None
    return 1 if bad and enabled() else 0


if __name__ == "__main__":
    sys.exit(main())
