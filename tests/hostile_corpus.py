"""A corpus of hostile and awkward media files, made in memory (nothing binary is committed).

Each case says what the upload pipeline must do with it:
- "ok": it uploads, and every derivative it promises is made and decodes;
- "refused": the upload is answered with a 4xx in Chevereto's error shape;
- "either": a damaged file whose fate depends on where the damage fell; whichever way it
  goes, the same rules hold (a 4xx, or an upload whose derivatives really exist).
`display` is the (width, height) the upload must report when it is accepted.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from tests import samples


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    expect: str  # "ok" | "refused" | "either"
    display: tuple[int, int] | None = None
    orientation: int = 1

    def data(self) -> bytes:
        """The file's bytes, made once per test run (the bombs take a second or two)."""
        if self.name not in _MADE:
            _MADE[self.name] = self.make()
        return _MADE[self.name]


_MADE: dict[str, bytes] = {}


VALID: dict[str, Callable[[], bytes]] = {
    "jpeg": lambda: samples.jpeg_bytes(300, 200),
    "png": lambda: samples.png_bytes(300, 200),
    "gif": lambda: samples.gif_bytes(300, 200, frames=3),
    "webp": lambda: samples.webp_bytes(300, 200),
    "avif": lambda: samples.avif_bytes(300, 200),
    "heic": lambda: samples.heic_bytes(300, 200),
    "mp4": lambda: samples.mp4_bytes(96, 64, seconds=2.0),
    "webm": lambda: samples.webm_bytes(96, 64, seconds=2.0),
}


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def bit_flipped(data: bytes, *, seed: int, flips: int = 24, keep: int = 32) -> bytes:
    """`flips` random bits flipped past the first `keep` bytes (the type stays sniffable)."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(flips):
        pos = rng.randrange(min(keep, len(out) - 1), len(out))
        out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


# --- Huge dimensions declared in tiny files ------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def jpeg_huge_dimensions() -> bytes:
    """A small JPEG whose frame header (SOF0) claims 65000x65000 pixels."""
    data = bytearray(samples.jpeg_bytes(16, 16))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def png_huge_dimensions() -> bytes:
    """An IHDR of 100000x100000 over a one-row IDAT."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 301))
        + _png_chunk(b"IEND", b"")
    )


def gif_huge_screen() -> bytes:
    """A 65535x65535 GIF whose only frame covers the whole screen with a few bytes."""
    palette = b"\0\0\0\xff\xff\xff\xff\0\0\0\xff\0"
    screen = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0x81, 0, 0) + palette
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\0"
    return screen + frame + b";"


def webp_huge_dimensions() -> bytes:
    """A lossless WebP whose VP8L header claims 16384x16384 (the format's largest)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (9, 9, 9)).save(out, "WEBP", lossless=True)
    data = bytearray(out.getvalue())
    pos = data.index(b"VP8L") + 8  # chunk header, then the 0x2f signature
    bits = int.from_bytes(data[pos + 1 : pos + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | (16383) | (16383 << 14)
    data[pos + 1 : pos + 5] = bits.to_bytes(4, "little")
    return bytes(data)


def _patch_ispe(data: bytes, width: int, height: int) -> bytes:
    """Every image-spatial-extent box of a HEIF/AVIF file set to width x height."""
    out = bytearray(data)
    pos = out.find(b"ispe")
    while pos != -1:
        out[pos + 8 : pos + 16] = struct.pack(">II", width, height)
        pos = out.find(b"ispe", pos + 4)
    return bytes(out)


def avif_huge_dimensions() -> bytes:
    return _patch_ispe(samples.avif_bytes(16, 16), 60000, 60000)


def heic_huge_dimensions() -> bytes:
    return _patch_ispe(samples.heic_bytes(16, 16), 60000, 60000)


# --- Decompression bombs: real compressed data that inflates past the pixel limit ----------


def gif_bomb() -> bytes:
    """A 13000x13000 GIF (169 Mpx) of one colour: a few hundred kilobytes at most."""
    out = io.BytesIO()
    Image.new("P", (13000, 13000), 0).save(out, "GIF")
    return out.getvalue()


def jpeg_bomb() -> bytes:
    """A 13000x13000 grey JPEG of one shade (169 Mpx in a few hundred kilobytes)."""
    out = io.BytesIO()
    Image.new("L", (13000, 13000), 0).save(out, "JPEG", quality=10)
    return out.getvalue()


# --- Polyglots -----------------------------------------------------------------------------

HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"


def jpeg_html_polyglot() -> bytes:
    """A JPEG with an HTML page in a comment segment and another after its end."""
    data = samples.jpeg_bytes(120, 80)
    comment = b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML
    return data[:2] + comment + data[2:] + HTML


def png_zip_polyglot() -> bytes:
    """A PNG followed by a ZIP archive (readable as either)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.html", HTML)
    return samples.png_bytes(120, 80) + archive.getvalue()


def gif_js_polyglot() -> bytes:
    """A GIF that is also a script: its width bytes open a JS comment (`/*`, 10799 pixels),
    and a comment extension closes it and runs code."""
    head = b"GIF89a/*" + struct.pack("<HBBB", 10, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    js = b"*/=1;alert(document.domain);/*"
    comment = b"\x21\xfe" + bytes([len(js)]) + js + b"\0"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\0"
    return head + comment + frame + b";"


# --- Colour and orientation ---------------------------------------------------------------


def cmyk_jpeg() -> bytes:
    out = io.BytesIO()
    samples._picture(700, 500, (200, 40, 40)).convert("CMYK").save(out, "JPEG", quality=90)
    return out.getvalue()


def oriented_jpeg(orientation: int) -> bytes:
    return samples.jpeg_bytes(800, 600, exif_orientation=orientation)


# --- Animations ---------------------------------------------------------------------------


def apng_many_frames(frames: int) -> bytes:
    # An APNG whose acTL claims `frames` and which carries that many 1x1 frames.
    base = samples.apng_bytes(8, 8, frames=2)
    pos = base.index(b"acTL")
    actl = _png_chunk(b"acTL", struct.pack(">II", frames, 0))
    return base[: pos - 4] + actl + base[pos + 4 + 8 + 4 :]


def webp_many_frames(frames: int) -> bytes:
    images = [Image.new("RGB", (8, 8), (i % 256, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=True, append_images=images[1:], duration=20, lossless=True)
    return out.getvalue()


# --- Videos -------------------------------------------------------------------------------


def mp4_without_media_data() -> bytes:
    """An MP4's boxes without its `mdat`: a video track whose samples point nowhere."""
    data = samples.mp4_bytes(96, 64, seconds=1.0)
    out, pos = b"", 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] != b"mdat":
            out += data[pos : pos + size]
        pos += size
    return out


def webm_without_clusters() -> bytes:
    """A WebM's headers up to its first cluster: a video track and not one frame."""
    data = samples.webm_bytes(96, 64, seconds=1.0)
    return data[: data.index(b"\x1f\x43\xb6\x75")]


def mp4_absurd_duration() -> bytes:
    """An MP4 whose movie and track headers claim 2^32-1 seconds (136 years)."""
    data = bytearray(samples.mp4_bytes(96, 64, seconds=1.0))
    for box in (b"mvhd", b"mdhd"):
        pos = data.index(box)
        version = data[pos + 4]
        # version 0: creation, modification (4+4), timescale, duration
        offset = pos + 8 + (16 if version else 8)
        data[offset : offset + 4] = struct.pack(">I", 1)
        end = offset + 4
        data[end : end + (8 if version else 4)] = b"\xff" * (8 if version else 4)
    return bytes(data)


def webm_absurd_duration() -> bytes:
    """A WebM whose segment info claims a duration of 10^15 ticks."""
    data = bytearray(samples.webm_bytes(96, 64, seconds=1.0))
    pos = data.index(b"\x44\x89")
    size = data[pos + 2] & 0x7F  # 0x84 or 0x88: a 4- or 8-byte float
    value = struct.pack(">f", 1e15) if size == 4 else struct.pack(">d", 1e15)
    data[pos + 3 : pos + 3 + size] = value
    return bytes(data)


def webm_huge_dimensions() -> bytes:
    """A WebM whose track header claims 60000x60000 pixels (its frames are 320x320)."""
    data = bytearray(samples.webm_bytes(320, 320, seconds=0.5))
    for element, value in ((b"\xb0\x82", 320), (b"\xba\x82", 320)):
        pos = data.index(element + struct.pack(">H", value))
        data[pos + 2 : pos + 4] = struct.pack(">H", 60000)
    return bytes(data)


def mp4_huge_dimensions() -> bytes:
    """An MP4 whose sample description and track header claim 65535x65535."""
    data = bytearray(samples.mp4_bytes(96, 64, seconds=1.0))
    pos = data.index(b"avc1")
    # Visual sample entry: 6 reserved, 2 index, 16 predefined/reserved, then width, height.
    data[pos + 4 + 24 : pos + 4 + 28] = struct.pack(">HH", 65535, 65535)
    tkhd = data.index(b"tkhd")
    end = tkhd - 4 + int.from_bytes(data[tkhd - 4 : tkhd], "big")
    data[end - 8 : end] = struct.pack(">II", 65535 << 16, 65535 << 16)
    return bytes(data)


def one_frame_video(kind: str) -> bytes:
    maker = samples.mp4_bytes if kind == "mp4" else samples.webm_bytes
    return maker(96, 64, seconds=0.1, fps=10)


# --- The corpus ---------------------------------------------------------------------------


def _cases() -> list[Case]:
    cases: list[Case] = []
    for fmt, make in VALID.items():
        cases.append(Case(f"truncated-{fmt}", lambda make=make: truncated(make()), "either"))
        for seed in (1, 2):
            cases.append(
                Case(
                    f"bitflip{seed}-{fmt}",
                    lambda make=make, seed=seed: bit_flipped(make(), seed=seed),
                    "either",
                )
            )
    cases += [
        Case("huge-dimensions-jpeg", jpeg_huge_dimensions, "refused"),
        Case("huge-dimensions-png", png_huge_dimensions, "refused"),
        Case("huge-dimensions-gif", gif_huge_screen, "refused"),
        Case("huge-dimensions-webp", webp_huge_dimensions, "refused"),
        Case("huge-dimensions-avif", avif_huge_dimensions, "either"),
        Case("huge-dimensions-heic", heic_huge_dimensions, "either"),
        Case("huge-dimensions-mp4", mp4_huge_dimensions, "either"),
        Case("huge-dimensions-webm", webm_huge_dimensions, "either"),
        Case("bomb-png", lambda: samples.png_bomb_bytes(13000), "refused"),
        Case("bomb-gif", gif_bomb, "refused"),
        Case("bomb-gif-frame", samples.gif_frame_bomb_bytes, "refused"),
        Case("bomb-jpeg", jpeg_bomb, "refused"),
        Case("polyglot-jpeg-html", jpeg_html_polyglot, "ok", display=(120, 80)),
        Case("polyglot-png-zip", png_zip_polyglot, "ok", display=(120, 80)),
        Case("polyglot-gif-js", gif_js_polyglot, "either"),
        Case("polyglot-html-first", lambda: HTML + samples.jpeg_bytes(16, 16), "refused"),
        Case("cmyk-jpeg", cmyk_jpeg, "ok", display=(700, 500)),
        Case("png-16-bit", lambda: samples.png_16bit_bytes(600, 400), "ok", display=(600, 400)),
        Case(
            "png-palette-transparent",
            lambda: samples.png_mode_bytes(600, 400, mode="P", transparency=0),
            "ok",
            display=(600, 400),
        ),
        Case("gif-1000-frames", lambda: samples.gif_many_frames_bytes(1000), "ok", (8, 8)),
        Case("gif-5000-frames", lambda: samples.gif_many_frames_bytes(5000), "refused"),
        Case("apng-5000-frames", lambda: apng_many_frames(5000), "refused"),
        Case("webp-3000-frames", lambda: webp_many_frames(3000), "refused"),
        Case("empty-file", lambda: b"", "refused"),
        Case("mp4-without-media-data", mp4_without_media_data, "refused"),
        Case("webm-without-frames", webm_without_clusters, "refused"),
        Case("mp4-one-frame", lambda: one_frame_video("mp4"), "ok", display=(96, 64)),
        Case("webm-one-frame", lambda: one_frame_video("webm"), "ok", display=(96, 64)),
        Case("mp4-absurd-duration", mp4_absurd_duration, "ok", display=(96, 64)),
        Case("webm-absurd-duration", webm_absurd_duration, "ok", display=(96, 64)),
    ]
    for orientation in range(1, 9):
        display = (600, 800) if orientation >= 5 else (800, 600)
        cases.append(
            Case(
                f"jpeg-orientation-{orientation}",
                lambda o=orientation: oriented_jpeg(o),
                "ok",
                display=display,
                orientation=orientation,
            )
        )
    return cases


CORPUS: dict[str, Case] = {case.name: case for case in _cases()}
