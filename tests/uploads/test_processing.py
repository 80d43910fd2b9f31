from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from tests import samples
from uploads.probe import probe_file
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


def test_a_truncated_jpeg_is_drawn_as_far_as_its_data_goes(tmp_path: Path) -> None:
    # As browsers draw it: the upload gets a thumb rather than none.
    broken = samples.jpeg_bytes(400, 300)
    sos = broken.index(b"\xff\xda")
    result = render_image_derivatives(broken[: sos + 30], source_format="jpeg")
    assert result.thumb is not None and opened(result.thumb.data).size == (320, 320)


def test_an_undecodable_source_raises_processing_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError):
        render_image_derivatives(samples.undecodable_webp_bytes(), source_format="webp")
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"\0\0\0\x20ftypisom" + b"\x13" * 500)
    with pytest.raises(ProcessingError):
        render_video_frame(str(garbage))


def test_resize_to_width_keeps_the_aspect_ratio_and_format() -> None:
    rendition = resize_to_width(samples.png_bytes(800, 600), source_format="png", width=200)
    assert (rendition.width, rendition.height, rendition.mime) == (200, 150, "image/png")
    assert opened(rendition.data).size == (200, 150)


def _exif_jpeg(orientation: int) -> bytes:
    return samples.jpeg_bytes(900, 600, exif_orientation=orientation)


EVERY_KIND_OF_PICTURE = {
    "palette PNG with tRNS": (lambda: samples.png_mode_bytes(mode="P", transparency=0), "png"),
    "grey PNG with tRNS": (lambda: samples.png_mode_bytes(mode="L", transparency=0), "png"),
    "1-bit PNG": (lambda: samples.png_mode_bytes(mode="1"), "png"),
    "1-bit PNG with tRNS": (lambda: samples.png_mode_bytes(mode="1", transparency=0), "png"),
    "16-bit grey PNG": (lambda: samples.png_mode_bytes(mode="I;16"), "png"),
    "16-bit grey PNG with tRNS": (
        lambda: samples.png_mode_bytes(mode="I;16", transparency=0),
        "png",
    ),
    "16-bit RGB PNG": (lambda: samples.png_16bit_bytes(), "png"),
    "16-bit RGBA PNG": (lambda: samples.png_16bit_bytes(alpha=True), "png"),
    "RGB PNG with tRNS": (
        lambda: samples.png_mode_bytes(mode="RGB", transparency=(255, 255, 255)),
        "png",
    ),
    "LA PNG": (lambda: samples.png_mode_bytes(mode="LA"), "png"),
    "CMYK JPEG": (lambda: samples.jpeg_bytes(700, 500, mode="CMYK"), "jpeg"),
    "grey JPEG": (lambda: samples.jpeg_bytes(700, 500, mode="L"), "jpeg"),
    "progressive JPEG": (samples.progressive_jpeg_bytes, "jpeg"),
    "JPEG with an appended MPF gain map": (samples.ultra_hdr_jpeg_bytes, "jpeg"),
    **{f"JPEG with EXIF orientation {n}": (lambda n=n: _exif_jpeg(n), "jpeg") for n in range(1, 9)},
    "animated GIF": (lambda: samples.gif_bytes(600, 400, frames=3), "gif"),
    "animated WebP": (lambda: samples.webp_bytes(600, 400, frames=3), "webp"),
    "animated PNG": (lambda: samples.apng_bytes(600, 400, frames=3), "png"),
    "BMP": (lambda: samples.bmp_bytes(600, 400), "bmp"),
    "HEIC": (lambda: samples.heic_bytes(600, 400), "heic"),
    "AVIF": (lambda: samples.avif_bytes(600, 400), "avif"),
}


@pytest.mark.parametrize("kind", sorted(EVERY_KIND_OF_PICTURE))
def test_every_kind_of_accepted_picture_gets_a_thumb_and_a_medium(
    tmp_path: Path, kind: str
) -> None:
    factory, fmt = EVERY_KIND_OF_PICTURE[kind]
    path = tmp_path / "original"
    path.write_bytes(factory())
    info = probe_file(str(path))
    assert info.format == fmt
    result = render_image_derivatives(str(path), source_format=fmt)
    assert result.thumb is not None and result.medium is not None
    assert opened(result.thumb.data).size == (320, 320)
    medium = opened(result.medium.data)
    assert medium.width == min(500, info.width)
    assert medium.height == max(1, round(info.height * medium.width / info.width))


def test_16_bit_grey_is_scaled_to_8_bits_not_clipped_to_white() -> None:
    result = render_image_derivatives(samples.png_mode_bytes(mode="I;16"), source_format="png")
    assert result.medium is not None
    low, high = opened(result.medium.data).convert("L").getextrema()
    assert low < 20 and high > 230


@pytest.mark.parametrize("mode", ["L", "1", "I;16"])
def test_a_grey_tRNS_colour_key_becomes_real_transparency(mode: str) -> None:
    data = samples.png_mode_bytes(mode=mode, transparency=0)
    result = render_image_derivatives(data, source_format="png")
    assert result.medium is not None
    medium = opened(result.medium.data)
    assert medium.mode in {"LA", "RGBA"}
    assert medium.getchannel("A").getextrema() == (0, 255)


def test_the_ultra_hdr_primary_picture_is_used_and_the_gain_map_ignored() -> None:
    result = render_image_derivatives(samples.ultra_hdr_jpeg_bytes(900, 600), source_format="jpeg")
    assert result.medium is not None
    medium = opened(result.medium.data)
    assert getattr(medium, "n_frames", 1) == 1 and medium.size == (500, 333)
    red, _, blue = medium.getpixel((10, 10))
    assert red > 150 and blue < 80  # the primary's coloured block, not the grey gain map


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_an_upright_medium(orientation: int) -> None:
    result = render_image_derivatives(_exif_jpeg(orientation), source_format="jpeg")
    assert result.medium is not None
    medium = opened(result.medium.data)
    swapped = orientation in {5, 6, 7, 8}
    assert medium.size == ((500, 750) if swapped else (500, 333))


def test_resize_to_width_shrinks_a_turned_photo_to_the_asked_upright_width() -> None:
    data = samples.jpeg_bytes(1200, 600, exif_orientation=6)
    rendition = resize_to_width(data, source_format="jpeg", width=250)
    assert (rendition.width, rendition.height) == (250, 500)
    assert opened(rendition.data).size == (250, 500)
