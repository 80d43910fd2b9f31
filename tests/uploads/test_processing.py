from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from tests import samples
from uploads.processing import (
    ProcessingError,
    output_format,
    render_image_derivatives,
    render_video_frame,
    resize_to_width,
)


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_big_jpeg_gets_an_exact_thumb_and_a_500_wide_medium() -> None:
    result = render_image_derivatives(samples.jpeg_bytes(4000, 3000), source_format="jpeg")
    assert result.thumb is not None and result.medium is not None
    assert opened(result.thumb.data).size == (320, 320) and result.thumb.mime == "image/jpeg"
    assert opened(result.medium.data).size == (500, 375)
    assert (result.medium.width, result.medium.height, result.medium.extension) == (500, 375, "jpg")


def test_a_narrow_image_gets_no_medium() -> None:
    result = render_image_derivatives(samples.png_bytes(300, 200), source_format="png")
    assert result.medium is None and result.thumb is not None


def test_an_animated_gif_keeps_its_animation_in_the_medium_and_not_in_the_thumb() -> None:
    result = render_image_derivatives(samples.gif_bytes(200, 100, frames=4), source_format="gif")
    assert result.medium is not None and result.thumb is not None
    medium = opened(result.medium.data)
    assert medium.format == "GIF" and medium.n_frames == 4 and medium.width == 200
    assert getattr(opened(result.thumb.data), "n_frames", 1) == 1


@pytest.mark.parametrize(
    ("data", "source_format", "expected"),
    [
        (samples.bmp_bytes(600, 400), "bmp", "PNG"),
        (samples.heic_bytes(600, 400), "heic", "JPEG"),
        (samples.webp_bytes(600, 400), "webp", "WEBP"),
        (samples.avif_bytes(600, 400), "avif", "AVIF"),
    ],
)
def test_derivatives_keep_the_format_except_where_browsers_cannot_show_it(
    data: bytes, source_format: str, expected: str
) -> None:
    result = render_image_derivatives(data, source_format=source_format)
    assert result.thumb is not None and result.medium is not None
    assert opened(result.thumb.data).format == expected
    assert opened(result.medium.data).format == expected
    assert output_format(source_format)[0] == expected


def test_png_transparency_is_kept() -> None:
    result = render_image_derivatives(samples.png_bytes(800, 600, mode="RGBA"), source_format="png")
    assert result.medium is not None
    medium = opened(result.medium.data)
    assert medium.mode == "RGBA" and medium.getchannel("A").getextrema()[0] < 255


def test_a_cmyk_jpeg_gives_rgb_derivatives() -> None:
    data = samples.jpeg_bytes(700, 500, mode="CMYK")
    assert opened(data).mode == "CMYK"
    result = render_image_derivatives(data, source_format="jpeg")
    assert result.medium is not None and opened(result.medium.data).mode == "RGB"


def test_an_embedded_colour_profile_is_applied_and_the_derivative_is_plain_srgb() -> None:
    im = Image.new("RGB", (700, 500), (200, 40, 40))
    out = io.BytesIO()
    im.save(
        out, "JPEG", icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    )
    result = render_image_derivatives(out.getvalue(), source_format="jpeg")
    assert result.medium is not None
    medium = opened(result.medium.data)
    assert medium.info.get("icc_profile") is None and medium.mode == "RGB"
    red, green, blue = medium.getpixel((250, 180))
    assert abs(red - 200) < 8 and abs(green - 40) < 8 and abs(blue - 40) < 8


def test_exif_orientation_is_applied_to_derivatives() -> None:
    data = samples.jpeg_bytes(1200, 600, exif_orientation=6)
    result = render_image_derivatives(data, source_format="jpeg")
    assert result.medium is not None
    assert opened(result.medium.data).size == (500, 1000)


def test_a_video_frame_is_a_jpeg_of_the_video_size(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(samples.mp4_bytes(96, 64, seconds=2.0))
    frame = render_video_frame(str(path))
    assert (frame.extension, frame.mime) == ("jpeg", "image/jpeg")
    assert opened(frame.data).size == (96, 64)


def test_a_truncated_or_garbage_source_raises_processing_error(tmp_path: Path) -> None:
    broken = samples.jpeg_bytes(400, 300)
    sos = broken.index(b"\xff\xda")
    with pytest.raises(ProcessingError):
        render_image_derivatives(broken[: sos + 30], source_format="jpeg")
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"\0\0\0\x20ftypisom" + b"\x13" * 500)
    with pytest.raises(ProcessingError):
        render_video_frame(str(garbage))


def test_resize_to_width_keeps_the_aspect_ratio_and_format() -> None:
    rendition = resize_to_width(samples.png_bytes(800, 600), source_format="png", width=200)
    assert (rendition.width, rendition.height, rendition.mime) == (200, 150, "image/png")
    assert opened(rendition.data).size == (200, 150)
