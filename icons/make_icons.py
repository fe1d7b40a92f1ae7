#!/usr/bin/env python3
"""Draws FeeDesk's app icon (a yuan sign in a coin on a teal tile) as RGBA PNGs.

Pure standard library (zlib + struct), so it runs anywhere python3 does:
    python3 icons/make_icons.py
writes icon.png (512), 128x128@2x.png (256), 128x128.png and 32x32.png next to itself.
"""
import math
import os
import struct
import zlib

SIZE = 512
SS = 3  # supersamples per axis
TILE = (31, 95, 91)      # deep teal
TILE_EDGE = (22, 72, 69)
INK = (255, 255, 255)
COIN = (242, 183, 64)    # warm gold


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def rounded_square(px, py, half, radius):
    qx, qy = abs(px) - half + radius, abs(py) - half + radius
    return math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - radius


# yuan sign strokes in a unit frame centred on 0,0 (y grows downwards)
STROKES = [
    (-0.30, -0.42, 0.0, -0.02),
    (0.30, -0.42, 0.0, -0.02),
    (0.0, -0.02, 0.0, 0.44),
    (-0.26, 0.06, 0.26, 0.06),
    (-0.26, 0.24, 0.26, 0.24),
]


def shade(x, y):
    """Colour (r, g, b, a) of one sample; x, y in [-1, 1]."""
    if rounded_square(x, y, 0.90, 0.22) > 0:
        return (0, 0, 0, 0)
    edge = rounded_square(x, y, 0.90, 0.22) > -0.035
    colour = TILE_EDGE if edge else TILE
    r = math.hypot(x, y)
    if r < 0.62:
        colour = COIN
        if any(seg_dist(x / 0.62, y / 0.62, *s) < 0.085 for s in STROKES):
            colour = INK
    elif r < 0.68:
        colour = INK
    return colour + (255,)


def render(size):
    rows = []
    n = SS * SS
    for j in range(size):
        row = bytearray()
        for i in range(size):
            acc = [0, 0, 0, 0]
            for sj in range(SS):
                for si in range(SS):
                    x = ((i + (si + 0.5) / SS) / size) * 2 - 1
                    y = ((j + (sj + 0.5) / SS) / size) * 2 - 1
                    r, g, b, a = shade(x, y)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            a = acc[3]
            if a == 0:
                row += b"\0\0\0\0"
            else:
                row += bytes((round(acc[0] / a), round(acc[1] / a), round(acc[2] / a), round(a / n)))
        rows.append(bytes(row))
    return rows


def downscale(rows, size, factor):
    out = []
    new = size // factor
    for j in range(new):
        row = bytearray()
        for i in range(new):
            acc = [0, 0, 0, 0]
            for dj in range(factor):
                src = rows[j * factor + dj]
                for di in range(factor):
                    k = (i * factor + di) * 4
                    r, g, b, a = src[k:k + 4]
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            a = acc[3]
            if a == 0:
                row += b"\0\0\0\0"
            else:
                row += bytes((round(acc[0] / a), round(acc[1] / a), round(acc[2] / a), round(a / factor ** 2)))
        out.append(bytes(row))
    return out


def write_png(path, rows):
    size = len(rows)
    raw = b"".join(b"\0" + r for r in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    big = render(SIZE)
    write_png(os.path.join(here, "icon.png"), big)
    write_png(os.path.join(here, "128x128@2x.png"), downscale(big, SIZE, 2))
    write_png(os.path.join(here, "128x128.png"), downscale(big, SIZE, 4))
    write_png(os.path.join(here, "32x32.png"), downscale(big, SIZE, 16))


if __name__ == "__main__":
    main()
