"""Pure functions from a stored original to its derivatives (thumb, medium, video frame).

The original is decoded once for both sizes; JPEGs are decoded at a reduced scale by
libjpeg itself (`Image.draft`), which is where most of the speed comes from.
"""

from __future__ import annotations

import io
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import av
import pillow_heif
from PIL import Image, ImageCms, ImageOps, ImageSequence

pillow_heif.register_heif_opener()

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


_OUTPUT = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "gif": ("GIF", "image/gif", "gif"),
    "webp": ("WEBP", "image/webp", "webp"),
    "avif": ("AVIF", "image/avif", "avif"),
    "bmp": ("PNG", "image/png", "png"),
    "heic": ("JPEG", "image/jpeg", "jpg"),
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="derivatives")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def output_format(source_format: str) -> tuple[str, str, str]:
    """(Pillow format, MIME type, extension) of derivatives of a `source_format` original."""
    return _OUTPUT.get(source_format, _OUTPUT["jpeg"])


def _open(source: Source) -> Image.Image:
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    return Image.open(source)


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert embedded colour profiles (and CMYK) to sRGB, the web's colour space.

    Browsers show untagged pixels as sRGB, so derivatives carry sRGB pixels and no profile.
    """
    icc = im.info.get("icc_profile")
    if icc and im.mode in {"RGB", "RGBA", "CMYK", "L"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target_mode = "RGBA" if im.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode=target_mode)
            if converted is not None:
                im = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion below
    if im.mode == "CMYK":
        im = im.convert("RGB")
    im.info.pop("icc_profile", None)
    return im


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


def _shrink_for(im: Image.Image, scale: float) -> Image.Image:
    """Box-shrink by the largest whole factor that keeps `scale` reachable.

    Both derivatives then resample (Lanczos) from this smaller copy: the expensive filter
    runs on a fraction of the pixels, once per derivative, as libvips' shrink-then-reduce.
    """
    factor = int(1 / scale) if scale > 0 else 1
    if factor < 2:
        return im
    if im.mode == "RGBA":
        # Premultiplied, so transparent pixels do not bleed their colour into edges.
        return im.convert("RGBa").reduce(factor).convert("RGBA")
    if im.mode not in {"RGB", "L", "LA", "RGBa"}:
        return im
    return im.reduce(factor)


def _still(im: Image.Image, fmt: str, pil_format: str) -> Image.Image:
    """The decoded first frame, upright and in sRGB, ready for resizing."""
    if im.getexif().get(0x0112, 1) != 1:
        im = ImageOps.exif_transpose(im) or im
    im = _to_srgb(im)
    if im.mode == "P" and pil_format != "GIF":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in {"I;16", "I", "F"}:
        im = im.convert("RGB")
    return im


def _animated_medium(im: Image.Image, width: int, pil_format: str) -> tuple[bytes, int, int]:
    frames: list[Image.Image] = []
    durations: list[int] = []
    height = max(1, round(im.height * width / im.width))
    for frame in ImageSequence.Iterator(im):
        durations.append(frame.info.get("duration", 100))
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
        with _open(source) as im:
            animated = getattr(im, "n_frames", 1) > 1
            swapped = im.getexif().get(0x0112, 1) in {5, 6, 7, 8}
            upright_w, upright_h = (im.height, im.width) if swapped else im.size
            do_medium = want_medium and (upright_w > medium_width or animated)
            if im.format == "JPEG":
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
            still = _still(im, source_format, pil_format)
            if animated and still is im:
                # The animated medium walks the frames of `im` while the thumb is being
                # made from the first one: the thumb needs a copy of its own.
                still = im.copy()
            still.load()
            needed = 0.0
            if want_thumb:
                needed = max(needed, thumb_size[0] / still.width, thumb_size[1] / still.height)
            if do_medium:
                needed = max(needed, min(medium_width, still.width) / still.width)
            base = _shrink_for(still, needed)

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
        raise ProcessingError(f"cannot decode image: {exc}") from exc
    return ImageDerivatives(thumb=thumb, medium=medium)


def resize_to_width(source: Source, *, source_format: str, width: int) -> Rendition:
    """The original at `width` (aspect kept, orientation applied), in its own format."""
    pil_format, mime, extension = output_format(source_format)
    if source_format == "heic":
        pil_format, mime, extension = "JPEG", "image/jpeg", "jpg"
    try:
        with _open(source) as im:
            still = _still(im, source_format, pil_format)
            if width < still.width:
                still = _scale_to_width(still, width)
            still = _normalise(still, pil_format)
            data = _encode(still, pil_format, quality=92)
    except _DECODE_ERRORS as exc:
        raise ProcessingError(f"cannot decode image: {exc}") from exc
    return Rendition(data, still.width, still.height, mime, extension)


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
            if duration and stream.time_base is not None:
                target = int(duration * at_fraction / stream.time_base)
                container.seek(target, stream=stream, backward=True, any_frame=False)
            picture = None
            wanted = duration * at_fraction if duration else 0
            for frame in container.decode(stream):
                picture = frame
                if frame.time is None or frame.time >= wanted:
                    break
            if picture is None:
                raise ProcessingError("the video has no decodable frame")
            image = picture.to_image().convert("RGB")
    except av.FFmpegError as exc:
        raise ProcessingError(f"cannot decode video: {exc}") from exc
    except IndexError as exc:
        raise ProcessingError("the video has no video stream") from exc
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return Rendition(out.getvalue(), image.width, image.height, "image/jpeg", "jpeg")
