"""Schema of board definition files (TOML) and their validation.

A board file describes one board: its chip (CPU, clock, interrupts), memory map, peripherals
and their IRQ lines, pin names, external parts, console and flash layout. Mistakes are
reported as ``FILE: key.path: problem`` in one line.

Schema notation: each key maps to (type, required, help). Types: int, str, bool, float, "size"
(an int or a string like "256K"/"4M"), "addr" (an int), list[...] and nested dicts.
"""
from __future__ import annotations

SIZE_UNITS = {"K": 1024, "M": 1024 * 1024, "G": 1024 ** 3}

SCHEMA = {
    "name": (str, True, "board name used with --board"),
    "description": (str, False, "one-line description"),
    "chip": ({
        "name": (str, True, "chip name, e.g. nrf51822, rp2040"),
        "family": (str, False, "peripheral family package under peripherals/"),
        "cpu": (str, True, "cortex-m0 | cortex-m0+ | cortex-m3 | cortex-m4"),
        "clock_hz": (int, True, "core clock in Hz (one instruction = one cycle)"),
        "irqs": (int, True, "number of external interrupt lines"),
        "priority_bits": (int, True, "implemented NVIC priority bits"),
        "systick_ref_hz": (int, False, "SysTick external reference clock (absent: NOREF)"),
        "vector_table": ("addr", False, "vector table address at reset (default 0)"),
        "uf2_family": ("addr", False, "UF2 family id accepted for this chip"),
        "bootrom": (str, False, "boot ROM image loaded at the vector table: a path, absolute or "
                                "relative to the project's firmware build directory"),
    }, True, "the chip"),
    "bus": ({
        "unmapped": (str, False, "fault | warn: what an access to nothing does"),
        "warn_windows": (list, False, "[[lo, hi], ...] address windows where 'warn' applies"),
    }, False, "bus policy"),
    "faults": ({
        "lockup": (str, False, "halt | reset: what a core lockup does"),
    }, False, "fault policy"),
    "memory": ([{
        "name": (str, True, "region name"),
        "base": ("addr", True, "base address (4 KiB aligned)"),
        "size": ("size", True, "size (4 KiB multiple)"),
        "kind": (str, True, "ram | rom | flash"),
        "mirrors": (list, False, "other addresses where the same memory appears"),
        "fill": (int, False, "initial byte value (flash: 0xFF)"),
        "contents": (dict, False, "{address = [words]} fixed contents (FICR-like ROM)"),
        "ignore_writes": (bool, False, "stores to this read-only region are ignored (no bus fault)"),
    }], True, "memory regions"),
    "peripherals": ({"*": ({
        "type": (str, True, "model: <family>.<module>, e.g. cmsdk.uart"),
        "base": ("addr", True, "base address"),
        "irqs": (list, False, "NVIC lines, in the model's order"),
        "config": (dict, False, "model-specific settings"),
    }, False, "")}, False, "peripheral instances by name"),
    "pins": ({"*": (str, False, "")}, False, "board pin name = chip pin id"),
    "parts": ([{
        "name": (str, True, "part name"),
        "type": (str, True, "part model, e.g. led, button"),
        "pins": (dict, False, "role = board pin name"),
        "bus": (str, False, "peripheral it hangs on (I2C parts)"),
        "address": ("addr", False, "bus address"),
        "config": (dict, False, "part-specific settings"),
    }], False, "external parts"),
    "console": ({
        "device": (str, True, "peripheral (or 'semihosting') that is the board console"),
    }, False, "the console"),
    "flash": ({
        "base": ("addr", False, "flash base address"),
        "size": ("size", False, "flash size"),
        "filesystem": ({
            "offset": ("addr", False, "filesystem offset in flash"),
            "size": ("size", False, "filesystem size"),
            "type": (str, False, "littlefs2 | microbit"),
            "block_size": ("size", False, ""),
        }, False, "filesystem region"),
    }, False, "flash layout"),
    "filesystem": ({
        "type": (str, True, "littlefs2 | microbitfs: the firmware's filesystem format in flash"),
        "offset": ("addr", True, "region offset from the flash base (microbitfs: lowest start)"),
        "size": ("size", True, "region size (microbitfs: largest region; the firmware's end moves the start)"),
        "block_size": ("size", False, "erase block (littlefs) / flash page (microbitfs)"),
        "read_size": (int, False, "littlefs read size"),
        "prog_size": (int, False, "littlefs program size"),
        "lookahead_size": (int, False, "littlefs lookahead buffer in bytes"),
        "cache_size": (int, False, "littlefs cache size"),
        "block_cycles": (int, False, "littlefs block cycles"),
        "name_max": (int, False, "longest file name in bytes"),
        "disk_version": (str, False, "littlefs on-disk version written, e.g. \"2.1\""),
        "mpy": ({
            "version": (int, True, ".mpy major version the firmware imports"),
            "sub": (int, False, ".mpy sub-version (must match for native code)"),
            "arch": (str, False, "native architecture, e.g. armv6m"),
            "small_int_bits": (int, False, "small-int bits (default 31)"),
        }, False, "the .mpy files the firmware imports (absent: none)"),
    }, False, "the firmware's filesystem in flash (boardemu fs, --fs)"),
    "firmware": ({
        "default": (str, False, "firmware path used when none is given"),
        "package": (str, False, "Debian package that provides the default firmware"),
        "bin_base": ("addr", False, "load address of raw .bin images"),
        "cache": (str, False, "glob of the official image in the firmware cache (~/.cache/boardemu/firmware)"),
        "url": (str, False, "where 'boardemu firmware get' downloads the official image"),
        "sha256": (str, False, "SHA-256 of the official image"),
    }, False, "firmware defaults"),
}


class BoardError(Exception):
    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def parse_size(v):
    if isinstance(v, bool):
        raise ValueError("expected a size")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        s = v.strip().upper().removesuffix("B").removesuffix("I")
        mult = 1
        if s and s[-1] in SIZE_UNITS:
            mult = SIZE_UNITS[s[-1]]
            s = s[:-1]
        try:
            return int(s, 0) * mult
        except ValueError:
            pass
    raise ValueError(f"expected a size like 4096, \"256K\" or \"4M\", got {v!r}")


def validate(data, path: str):
    """Check ``data`` against SCHEMA; returns a normalised copy (sizes as ints)."""
    return _check(data, SCHEMA, path, "")


def _join(prefix, key):
    return f"{prefix}.{key}" if prefix else str(key)


def _check(value, schema, path, where):
    if not isinstance(value, dict):
        raise BoardError(path, f"{where or 'top level'}: expected a table, got {type(value).__name__}")
    out = {}
    wildcard = schema.get("*")
    for key, val in value.items():
        spec = schema.get(key, wildcard)
        if spec is None:
            known = ", ".join(k for k in schema if k != "*")
            raise BoardError(path, f"{_join(where, key)}: unknown key (known keys: {known})")
        out[key] = _check_value(val, spec[0], path, _join(where, key))
    for key, (typ, required, _help) in schema.items():
        if key != "*" and required and key not in value:
            raise BoardError(path, f"{_join(where, key)}: missing (required)")
    return out


def _check_value(val, typ, path, where):
    if isinstance(typ, dict):
        return _check(val, typ, path, where)
    if isinstance(typ, list):
        if not isinstance(val, list):
            raise BoardError(path, f"{where}: expected an array of tables")
        return [_check(item, typ[0], path, f"{where}[{i}]") for i, item in enumerate(val)]
    if typ == "size":
        try:
            return parse_size(val)
        except ValueError as e:
            raise BoardError(path, f"{where}: {e}") from None
    if typ == "addr":
        if isinstance(val, int) and not isinstance(val, bool) and 0 <= val <= 0xFFFFFFFF:
            return val
        raise BoardError(path, f"{where}: expected a 32-bit address (e.g. 0x40004000), got {val!r}")
    if typ is int and (not isinstance(val, int) or isinstance(val, bool)):
        raise BoardError(path, f"{where}: expected an integer, got {val!r}")
    if typ is str and not isinstance(val, str):
        raise BoardError(path, f"{where}: expected a string, got {val!r}")
    if typ is list and not isinstance(val, list):
        raise BoardError(path, f"{where}: expected an array, got {val!r}")
    if typ is dict and not isinstance(val, dict):
        raise BoardError(path, f"{where}: expected a table, got {val!r}")
    if typ is bool and not isinstance(val, bool):
        raise BoardError(path, f"{where}: expected true or false, got {val!r}")
    return val
