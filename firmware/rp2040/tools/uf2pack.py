#!/usr/bin/env python3
"""Pack a raw flash image into UF2 (the format of the RP2040's USB bootloader and of
`boardemu run --board pico FILE.uf2`): 512-byte blocks of 256 payload bytes each, with the
RP2040 family ID. Written from the UF2 specification (github.com/microsoft/uf2, README).

    uf2pack.py IMAGE.bin OUT.uf2 [--base 0x10000000] [--family 0xe48bff56]
"""
from __future__ import annotations

import argparse
import struct
import sys

MAGIC_START0, MAGIC_START1, MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
PAYLOAD = 256


def pack(image: bytes, base: int, family: int) -> bytes:
    chunks = [image[i:i + PAYLOAD] for i in range(0, len(image), PAYLOAD)] or [b""]
    out = bytearray()
    for n, chunk in enumerate(chunks):
        data = chunk.ljust(476, b"\0")
        out += struct.pack("<8I", MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, base + n * PAYLOAD,
                           PAYLOAD, n, len(chunks), family)
        out += data + struct.pack("<I", MAGIC_END)
    return bytes(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("out")
    ap.add_argument("--base", type=lambda s: int(s, 0), default=0x10000000)
    ap.add_argument("--family", type=lambda s: int(s, 0), default=0xE48BFF56)
    a = ap.parse_args(argv[1:])
    with open(a.image, "rb") as f:
        image = f.read()
    with open(a.out, "wb") as f:
        f.write(pack(image, a.base, a.family))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
