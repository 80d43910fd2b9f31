"""Pure functions from a stored original to its derivatives (thumb, medium, video frame).

The original is decoded once for both sizes; JPEGs are decoded at a reduced scale by
libjpeg itself (`Image.draft`), which is where most of the speed comes from.

Memory is bounded by the size of the original, never by what it claims to hold: every
picture and every frame is checked against Pillow's pixel limit (UPLOAD_MAX_PIXELS, set
when the app starts) before it is decoded, full-size pixels are dropped as soon as the
shrunken copy exists, and an animated medium keeps at most MEDIUM_FRAME_PIXELS pixels of
frames (long animations keep every n-th frame, their durations added up).
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

import av
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageMath, ImageSequence

from chevereto.core.formats import DERIVATIVE_OUTPUT, PILLOW_FORMAT

pillow_heif.register_heif_opener()
# Pillow only warns between MAX_IMAGE_PIXELS and twice that: a warning is not a limit.
warnings.simplefilter("error", Image.DecompressionBombWarning)
# A damaged JPEG, PNG or GIF whose headers were fine (the probe accepted it) is drawn as far
# as its data goes, as browsers draw it, instead of leaving its upload without a thumb.
# Pixel limits are checked before any decoding all the same.
ImageFile.LOAD_TRUNCATED_IMAGES = True

Source = str | bytes | BinaryIO


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int
    mime: str
    extension: str


@dataclass(frozen=True)
class ImageDerivatives:
    thumb: Rendition | None
    medium: Rendition | None


class ProcessingError(Exception):
    """The source cannot be decoded (truncated, corrupt, not what it claims to be)."""


_OUTPUT = DERIVATIVE_OUTPUT
# Pixels (width x height x frames) an animated medium may hold while it is being encoded.
MEDIUM_FRAME_PIXELS = 20_000_000
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="derivatives")
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    RuntimeError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)
_PATH = re.compile(r"""['"]?(?:[A-Za-z]:)?[\\/][^\s'",;:]*['"]?""")


def _clean(exc: BaseException, source: object = None) -> str:
    """An exception's message without any server path in it (it may reach a client)."""
    text = str(exc) or type(exc).__name__
    if isinstance(source, str) and source:
        text = text.replace(source, "the file").replace(os.path.basename(source), "the file")
    return _PATH.sub("the file", text)[:200]


# What one render costs (bench/hostile.py): a base, and per pixel of the original about
# 4.3 bytes (7.4 for HEIC/AVIF); 8 keeps every format inside the budget.
RENDER_BASE_BYTES = 100 * 1024 * 1024
RENDER_BYTES_PER_PIXEL = 8


def pixels_within(memory_kib: int) -> int:
    """The largest picture (in pixels) whose render fits in `memory_kib` KiB."""
    return max(1, (memory_kib * 1024 - RENDER_BASE_BYTES) // RENDER_BYTES_PER_PIXEL)


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse a picture (or a frame) over Pillow's limit before anything decodes it."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and size[0] * size[1] > limit:
        raise Image.DecompressionBombError(
            f"{size[0]}x{size[1]} pixels exceeds the {limit} pixel limit"
        )


def output_format(source_format: str) -> tuple[str, str, str]:
    """(Pillow format, MIME type, extension) of derivatives of a `source_format` original."""
    return _OUTPUT.get(source_format, _OUTPUT["jpeg"])


def _open(source: Source, source_format: str | None = None) -> Image.Image:
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    im = Image.open(
        source, formats=[PILLOW_FORMAT[source_format]] if source_format in PILLOW_FORMAT else None
    )
    try:
        _check_pixels(im.size)
    except BaseException:
        im.close()
        raise
    return im


def _is_jpeg(im: Image.Image) -> bool:
    # An MPO is a JPEG with more pictures appended (a stereo pair, an Ultra HDR gain map):
    # the first picture is the photo, the others are not frames of an animation.
    return im.format in {"JPEG", "MPO"}


def _frame_count(im: Image.Image) -> int:
    return 1 if _is_jpeg(im) else getattr(im, "n_frames", 1)


def _normalise(im: Image.Image, fmt: str) -> Image.Image:
    """Pixels in a mode the output format can store, transparency kept where it can be."""
    has_alpha = im.mode in {"RGBA", "LA", "PA"} or (im.mode == "P" and "transparency" in im.info)
    if fmt == "JPEG":
        if has_alpha:
            rgba = im.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return im.convert("RGB") if im.mode != "RGB" else im
    if fmt == "GIF":
        return im
    if has_alpha:
        return im.convert("RGBA") if im.mode != "RGBA" else im
    if im.mode not in {"RGB", "L"}:
        return im.convert("RGB")
    return im


def _encode(im: Image.Image, fmt: str, *, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=quality, optimize=False)
    elif fmt == "PNG":
        im.save(out, "PNG", compress_level=3)
    elif fmt == "WEBP":
        im.save(out, "WEBP", quality=quality, method=3)
    elif fmt == "AVIF":
        im.save(out, "AVIF", quality=quality - 20, speed=8)
    else:
        im.save(out, fmt)
    return out.getvalue()


def _fit(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Centre crop to the target aspect ratio, then scale: exactly `size`."""
    width, height = im.size
    target = size[0] / size[1]
    if width / height > target:
        crop_w, crop_h = height * target, float(height)
    else:
        crop_w, crop_h = float(width), width / target
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    box = (left, top, left + crop_w, top + crop_h)
    return im.resize(size, Image.Resampling.LANCZOS, box=box)


def _scale_to_width(im: Image.Image, width: int) -> Image.Image:
    height = max(1, round(im.height * width / im.width))
    return im.resize((width, height), Image.Resampling.LANCZOS)


_BAND_ROWS = 512
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
Convert = Callable[[Image.Image], Image.Image]


def _srgb_transform(im: Image.Image) -> Convert | None:
    """Embedded colour profiles (and CMYK) to sRGB, the web's colour space.

    Browsers show untagged pixels as sRGB, so derivatives carry sRGB pixels and no profile.
    """
    icc = im.info.get("icc_profile")
    if icc and im.mode in {"RGB", "RGBA", "CMYK", "L"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = "RGBA" if im.mode == "RGBA" else "RGB"
            transform = ImageCms.buildTransform(source, _SRGB, im.mode, target)
        except (ImageCms.PyCMSError, OSError, ValueError):
            transform = None  # a broken profile: fall back to the plain conversion below
        if transform is not None:
            return lambda band: ImageCms.applyTransform(band, transform) or band
    if im.mode == "CMYK":
        return lambda band: band.convert("RGB")
    return None


def _deep_to_8bit(band: Image.Image) -> Image.Image:
    """16- and 32-bit grey to 8 bits by scaling (Pillow's own conversion clips at 255)."""
    key = band.info.get("transparency")
    wide = band if band.mode in {"I", "F"} else band.convert("I")
    scale = 1 / 256 if band.mode.startswith("I") else 1.0
    grey = wide.point(lambda value: value * scale).convert("L")
    if isinstance(key, int):
        alpha = ImageMath.lambda_eval(lambda env: (env["i"] != key) * 255, i=wide)
        grey = Image.merge("LA", (grey, alpha.convert("L")))
    return grey


def _to_resizable(band: Image.Image, pil_format: str) -> Image.Image:
    """Pixels in a mode that resizes well: 8-bit L, LA, RGB or RGBA (P kept for GIFs)."""
    mode = band.mode
    keyed = "transparency" in band.info
    if mode == "P":
        if pil_format == "GIF":
            return band
        band = band.convert("RGBA" if keyed else "RGB")
    elif mode.startswith("I") or mode == "F":
        band = _deep_to_8bit(band)
    elif mode == "1":
        band = band.convert("L")
        if keyed:
            band = band.convert("LA")  # Pillow maps the 1-bit key onto the grey one
    elif keyed and mode in {"L", "RGB"}:
        # A tRNS colour key (one grey level or RGB value is transparent): a real alpha
        # channel, which every encoder understands and resizing blends correctly.
        band = band.convert("LA" if mode == "L" else "RGBA")
    elif mode not in {"L", "LA", "RGB", "RGBA"}:
        band = band.convert("RGBA" if "A" in mode else "RGB")
    band.info.pop("transparency", None)
    band.info.pop("icc_profile", None)
    return band


def _reduce(band: Image.Image, factor: int) -> Image.Image:
    if factor < 2 or band.mode == "P":
        return band
    if band.mode == "RGBA":
        # Premultiplied, so transparent pixels do not bleed their colour into edges.
        return band.convert("RGBa").reduce(factor).convert("RGBA")
    return band.reduce(factor)


def _prepare(im: Image.Image, pil_format: str, factor: int) -> Image.Image:
    """The decoded picture in sRGB, in a resizable mode, box-shrunk by `factor`.

    Done band by band: a full-size picture is never converted (or premultiplied) as a
    whole, so besides the decoded pixels only the shrunken copy is held in memory.
    Both derivatives then resample (Lanczos) from it: the expensive filter runs on a
    fraction of the pixels, as libvips' shrink-then-reduce.
    """
    if im.mode == "P" and pil_format == "GIF":
        return im  # palette pictures are resized as they are (nearest)
    im.load()
    steps = [step for step in (_srgb_transform(im),) if step is not None]
    plain = im.mode in {"L", "LA", "RGB", "RGBA"} and "transparency" not in im.info
    if factor < 2 and plain and not steps:
        return im
    width, height = im.size
    rows = factor * max(1, _BAND_ROWS // factor)
    out: Image.Image | None = None
    for top in range(0, height, rows):
        band = im.crop((0, top, width, min(height, top + rows)))
        for step in steps:
            band = step(band)
        band = _reduce(_to_resizable(band, pil_format), factor)
        if out is None:
            out = Image.new(band.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        out.paste(band, (0, top // factor))
    assert out is not None
    return out


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # unreadable EXIF: shown as stored
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def _still(im: Image.Image, pil_format: str, *, factor: int = 1) -> Image.Image:
    """The decoded first frame, upright, in sRGB, in a resizable mode, shrunk by `factor`."""
    orientation = _orientation(im)
    still = _prepare(im, pil_format, factor)
    if orientation != 1:
        still = still.transpose(_TRANSPOSE[orientation])
    return still


def _shrink_factor(size: tuple[int, int], scale: float) -> int:
    """The largest whole box-shrink factor that keeps `scale` of `size` reachable."""
    factor = int(1 / scale) if scale > 0 else 1
    return max(1, min(factor, size[0], size[1]))


def _animated_medium(im: Image.Image, width: int, pil_format: str) -> tuple[bytes, int, int]:
    """The animation at `width`, frame by frame: only resized frames are kept, and at most
    MEDIUM_FRAME_PIXELS of them (a longer animation keeps every n-th frame)."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    size = im.size
    height = max(1, round(im.height * width / im.width))
    count = getattr(im, "n_frames", 1)
    step = max(1, math.ceil(count * width * height / MEDIUM_FRAME_PIXELS))
    for index, frame in enumerate(ImageSequence.Iterator(im)):
        _check_pixels(frame.size)  # a GIF frame may grow the canvas past the limit
        if frame.size != size:
            # A later GIF frame grew Pillow's canvas: clipped to the picture's size, as the
            # probe reported it and browsers show it.
            frame = frame.crop((0, 0, *size))
        duration = int(frame.info.get("duration", 100) or 0)
        if index % step:
            durations[-1] += duration  # the dropped frame's time goes to the one shown
            continue
        durations.append(duration)
        frames.append(frame.convert("RGBA").resize((width, height), Image.Resampling.LANCZOS))
    out = io.BytesIO()
    extra: dict[str, object] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": durations,
    }
    extra["loop"] = im.info.get("loop", 0)
    if pil_format == "GIF":
        extra["disposal"] = 2
    frames[0].save(out, pil_format, **extra)
    return out.getvalue(), width, height


def render_image_derivatives(
    source: Source,
    *,
    source_format: str,
    thumb_size: tuple[int, int] = (320, 320),
    medium_width: int = 500,
    want_thumb: bool = True,
    want_medium: bool = True,
) -> ImageDerivatives:
    pil_format, mime, extension = output_format(source_format)
    try:
        with _open(source, source_format) as im:
            animated = _frame_count(im) > 1
            swapped = im.getexif().get(0x0112, 1) in {5, 6, 7, 8}
            upright_w, upright_h = (im.height, im.width) if swapped else im.size
            do_medium = want_medium and (upright_w > medium_width or animated)
            if _is_jpeg(im):
                # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: ask for the smallest
                # size that still covers every derivative, it picks the scale.
                scale = 0.0
                if want_thumb:
                    scale = max(scale, thumb_size[0] / upright_w, thumb_size[1] / upright_h)
                if do_medium:
                    scale = max(scale, medium_width / upright_w)
                scale = min(1.0, scale)
                im.draft(
                    "RGB",
                    (max(1, math.ceil(im.width * scale)), max(1, math.ceil(im.height * scale))),
                )
            # Decoded size (after draft), turned upright.
            upright_w, upright_h = (im.height, im.width) if swapped else im.size
            needed = 0.0
            if want_thumb:
                needed = max(needed, thumb_size[0] / upright_w, thumb_size[1] / upright_h)
            if do_medium:
                needed = max(needed, min(medium_width, upright_w) / upright_w)
            base = _still(im, pil_format, factor=_shrink_factor(im.size, needed))
            if animated and base is im:
                # The animated medium walks the frames of `im` while the thumb is being
                # made from the first one: the thumb needs a copy of its own.
                base = im.copy()
            elif not animated and base is not im:
                im.close()  # the full-size pixels: only the shrunken copy is needed now

            def make_thumb() -> Rendition:
                small = _normalise(_fit(base, thumb_size), pil_format)
                data = _encode(small, pil_format, quality=88)
                return Rendition(data, small.width, small.height, mime, extension)

            def make_medium() -> Rendition:
                if animated and pil_format in {"GIF", "WEBP"}:
                    data, w, h = _animated_medium(im, min(medium_width, im.width), pil_format)
                    return Rendition(data, w, h, mime, extension)
                scaled = _normalise(
                    _scale_to_width(base, min(medium_width, base.width)), pil_format
                )
                data = _encode(scaled, pil_format, quality=90)
                return Rendition(data, scaled.width, scaled.height, mime, extension)

            # Pillow releases the GIL while it resizes and encodes: the thumb is made on
            # another core while this thread makes the medium.
            pending = _POOL.submit(make_thumb) if want_thumb else None
            medium = make_medium() if do_medium else None
            thumb = pending.result() if pending is not None else None
    except _DECODE_ERRORS as exc:
        raise ProcessingError(f"cannot decode image: {_clean(exc, source)}") from None
    return ImageDerivatives(thumb=thumb, medium=medium)


# Formats whose damage past the headers neither the probe sees nor the renderer survives
# (their decoders give all or nothing), and the largest picture decoded in the request to
# find out: a few tens of milliseconds. Larger ones are left to the worker.
VERIFIED_FORMATS = frozenset({"webp", "avif", "heic"})
VERIFY_MAX_PIXELS = 16_000_000


def verify_decodable(path: str, *, source_format: str, pixels: int) -> None:
    """Decode a small WebP, AVIF or HEIC once; raises ProcessingError if it cannot be."""
    if source_format not in VERIFIED_FORMATS or pixels > VERIFY_MAX_PIXELS:
        return
    try:
        with _open(path, source_format) as im:
            im.load()
    except _DECODE_ERRORS as exc:
        raise ProcessingError(f"cannot decode image: {_clean(exc, path)}") from None


def resize_to_width(source: Source, *, source_format: str, width: int) -> Rendition:
    """The original at `width` (aspect kept, orientation applied), in its own format."""
    pil_format, mime, extension = output_format(source_format)
    if source_format == "heic":
        pil_format, mime, extension = "JPEG", "image/jpeg", "jpg"
    try:
        with _open(source, source_format) as im:
            upright_w = im.height if _orientation(im) in {5, 6, 7, 8} else im.width
            # Box-shrink first (band by band) when the target is at most half the width.
            factor = _shrink_factor(im.size, width / upright_w) if width < upright_w else 1
            still = _still(im, pil_format, factor=factor)
            if width < still.width:
                still = _scale_to_width(still, width)
            still = _normalise(still, pil_format)
            data = _encode(still, pil_format, quality=92)
    except _DECODE_ERRORS as exc:
        raise ProcessingError(f"cannot decode image: {_clean(exc, source)}") from None
    return Rendition(data, still.width, still.height, mime, extension)


# Frames decoded looking for the poster: enough for several seconds of any real video,
# and a bound on the work a file whose timestamps never reach the target can cause.
_MAX_POSTER_FRAMES = 2000


def _frame_at(container: Any, stream: Any, wanted: float) -> Any:
    """The first frame at or after `wanted` seconds (from where the container stands), or
    the last one decoded when the stream ends (or the bound is reached) before it."""
    if wanted and stream.time_base is not None:
        target = int(wanted / stream.time_base)
        try:
            container.seek(target, stream=stream, backward=True, any_frame=False)
        except (av.FFmpegError, OverflowError):
            return None
    picture = None
    try:
        for count, frame in enumerate(container.decode(stream)):
            picture = frame
            if frame.time is None or frame.time >= wanted or count >= _MAX_POSTER_FRAMES:
                break
    except av.FFmpegError:
        if picture is None:
            raise
    return picture


def render_video_frame(path: str, *, at_fraction: float = 0.25) -> Rendition:
    """A JPEG of the video's frame at `at_fraction` of its duration (Chevereto's .fr.jpeg)."""
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            context = stream.codec_context
            if context is None:
                raise ProcessingError("the video's codec is unknown")
            _check_pixels((context.width, context.height))
            wanted = duration * at_fraction if duration and math.isfinite(duration) else 0
            picture = _frame_at(container, stream, wanted)
            if picture is None and wanted:
                # The header's duration was a lie (nothing at that time): the first frame.
                container.seek(0, stream=stream, backward=True, any_frame=False)
                picture = _frame_at(container, stream, 0)
            if picture is None:
                raise ProcessingError("the video has no decodable frame")
            _check_pixels((picture.width, picture.height))
            image = picture.to_image().convert("RGB")
    except (av.FFmpegError, Image.DecompressionBombError) as exc:
        raise ProcessingError(f"cannot decode video: {_clean(exc, path)}") from None
    except IndexError as exc:
        raise ProcessingError("the video has no video stream") from exc
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return Rendition(out.getvalue(), image.width, image.height, "image/jpeg", "jpeg")
