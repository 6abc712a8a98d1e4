"""What a screenshot shows, read without an imaging library: a PNG decoded to its pixels (the
8-bit RGB and RGBA PNGs headless Chromium writes), and the area each colour covers, so that a
test can check that the parts of a page it expects are really painted, in their colours."""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from dataclasses import dataclass

_CHANNELS = {2: 3, 6: 4}  # colour type: RGB, RGBA


@dataclass(frozen=True)
class Screen:
    """A decoded screenshot: its size and how many pixels each ``#rrggbb`` colour covers."""

    width: int
    height: int
    colours: Counter[str]

    def area(self, colour: str) -> int:
        """Pixels painted exactly ``colour`` (``#rrggbb``, any case)."""
        return self.colours[colour.lower()]


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> None:
    """Undo one scanline's PNG filter in place (RFC 2083, 6.2–6.6)."""
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prior[i]
        corner = prior[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + pred) & 0xFF


def read_png(data: bytes) -> Screen:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    assert depth == 8 and colour_type in _CHANNELS and not interlace, (depth, colour_type)
    bpp = _CHANNELS[colour_type]
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    prior, colours = bytes(stride), Counter[str]()
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1:start + 1 + stride])
        if raw[start]:
            _unfilter(raw[start], line, prior, bpp)
        colours.update(line[x:x + 3].hex() for x in range(0, stride, bpp))
        prior = bytes(line)
    return Screen(width, height, Counter({f"#{k}": v for k, v in colours.items()}))


def css_colours(css: str) -> dict[str, str]:
    """The ``--name: #rrggbb`` custom properties of a style sheet (names without ``--``)."""
    return {m[1]: m[2].lower() for m in re.finditer(r"--([\w-]+)\s*:\s*(#[0-9a-fA-F]{6})", css)}
