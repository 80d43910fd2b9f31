from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms

from tests import samples
from uploads.metadata import MetadataError, strip_metadata

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_everything() -> bytes:
    source = Image.open(
        io.BytesIO(samples.jpeg_bytes(120, 80, exif_orientation=6, exif_description="home"))
    )
    exif = source.getexif()
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 0.0)  # GPS latitude
    out = io.BytesIO()
    source.save(
        out,
        "JPEG",
        exif=exif.tobytes(),
        icc_profile=SRGB,
        xmp=samples.XMP_360,
        comment=b"secret note",
        quality=90,
    )
    return out.getvalue()


def strip(tmp_path: Path, data: bytes, fmt: str, orientation: int = 1) -> bytes:
    src = tmp_path / "src"
    src.write_bytes(data)
    out = io.BytesIO()
    assert strip_metadata(str(src), out, fmt=fmt, orientation=orientation) is True
    return out.getvalue()


def test_a_jpeg_loses_its_metadata_but_not_one_byte_of_image_data(tmp_path: Path) -> None:
    original = jpeg_with_everything()
    stripped = strip(tmp_path, original, "jpeg", orientation=6)
    im = Image.open(io.BytesIO(stripped))
    assert dict(im.getexif()) == {0x0112: 6}
    assert "xmp" not in im.info and "comment" not in im.info
    assert im.info.get("icc_profile") == SRGB
    assert b"secret note" not in stripped and b"home" not in stripped and b"TestCam" not in stripped
    sos = original.index(b"\xff\xda")
    assert stripped.endswith(original[sos:])
    assert (
        ImageChops.difference(
            im.convert("RGB"), Image.open(io.BytesIO(original)).convert("RGB")
        ).getbbox()
        is None
    )


def test_an_upright_jpeg_gets_no_exif_at_all(tmp_path: Path) -> None:
    stripped = strip(tmp_path, jpeg_with_everything(), "jpeg", orientation=1)
    assert b"Exif\0\0" not in stripped
    assert dict(Image.open(io.BytesIO(stripped)).getexif()) == {}


def test_a_png_loses_its_text_and_exif_and_keeps_pixels_and_profile(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    im = Image.open(io.BytesIO(samples.png_bytes(40, 30)))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret")
    info.add_itxt("Author", "someone")
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    out = io.BytesIO()
    im.save(out, "PNG", pnginfo=info, exif=exif.tobytes(), icc_profile=SRGB)
    stripped = strip(tmp_path, out.getvalue(), "png")
    again = Image.open(io.BytesIO(stripped))
    assert again.text == {} and dict(again.getexif()) == {}
    assert again.info.get("icc_profile") == SRGB
    assert ImageChops.difference(again, im).getbbox() is None


def test_an_animated_png_stays_animated(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    stripped = strip(tmp_path, out.getvalue(), "png")
    assert Image.open(io.BytesIO(stripped)).n_frames == 2


def test_a_webp_loses_exif_and_xmp_and_still_decodes(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(
        out, "WEBP", exif=exif.tobytes(), xmp=samples.XMP_360
    )
    stripped = strip(tmp_path, out.getvalue(), "webp")
    assert b"TestCam" not in stripped and b"GPano" not in stripped
    assert stripped[12:16] == b"VP8X" and stripped[20] & 0x0C == 0  # flags: no EXIF, no XMP
    assert Image.open(io.BytesIO(stripped)).size == (30, 20)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"garbage", "jpeg"),
        (samples.truncated_jpeg_bytes()[:300], "jpeg"),
        (b"\x89PNG\r\n\x1a\n\0\0", "png"),
    ],
)
def test_malformed_input_raises(tmp_path: Path, data: bytes, fmt: str) -> None:
    src = tmp_path / "x"
    src.write_bytes(data)
    with pytest.raises(MetadataError):
        strip_metadata(str(src), io.BytesIO(), fmt=fmt)


def test_formats_it_does_not_handle_are_left_alone(tmp_path: Path) -> None:
    src = tmp_path / "x"
    src.write_bytes(samples.gif_bytes())
    out = io.BytesIO()
    assert strip_metadata(str(src), out, fmt="gif") is False and out.getvalue() == b""
