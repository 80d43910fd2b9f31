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


XMP_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.0N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def private_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    gps = exif.get_ifd(0x8825)
    gps[2] = (52.0, 31.0, 0.0)  # latitude
    gps[0x12] = "WGS-84"  # map datum: a GPS value findable in the bytes
    return exif.tobytes()


def _gif_with_comment_and_xmp() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("P", (40, 30), i) for i in range(2)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 250, 10, 10] * 128)
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0, comment=b"GPS home")
    data = out.getvalue()
    # An XMP application extension ("XMP DataXMP"), as Photoshop writes it.
    magic = bytes([1, *range(255, -1, -1)])
    xmp = b"\x21\xff\x0bXMP DataXMP" + XMP_GPS + magic + b"\0"
    at = data.index(b"\x21\xf9")
    return data[:at] + xmp + data[at:]


def picture_with_everything(fmt: str) -> bytes:
    """A picture of `fmt` carrying EXIF (with GPS), XMP (with GPS) and a comment if it can."""
    if fmt == "gif":
        return _gif_with_comment_and_xmp()
    im = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    im.paste((200, 30, 30), (0, 0, 20, 20))
    out = io.BytesIO()
    extra: dict[str, object] = {"exif": private_exif(), "xmp": XMP_GPS}
    if fmt == "jpeg":
        extra.update(quality=90, comment=b"GPS home")
    elif fmt == "png":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "GPS home")
        info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode())
        extra = {"exif": private_exif(), "pnginfo": info}
    elif fmt == "webp":
        extra["lossless"] = True
    elif fmt == "heic":
        extra["quality"] = 80
    im.save(out, {"heic": "HEIF"}.get(fmt, fmt.upper()), **extra)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif", "avif", "heic"])
def test_every_stored_image_format_loses_its_exif_xmp_and_gps_and_keeps_its_pixels(
    tmp_path: Path, fmt: str
) -> None:
    original = picture_with_everything(fmt)
    for marker in (b"GPS", b"xmpmeta"):
        assert marker in original  # the sample does carry what must go
    stripped = strip(tmp_path, original, fmt)
    for marker in (b"Exif", b"GPS", b"xmpmeta", b"WGS-84", b"TestCam", b"home"):
        assert marker not in stripped, marker
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(stripped))
    assert dict(after.getexif()) == {}
    assert not any(after.info.get(key) for key in ("xmp", "XML:com.adobe.xmp", "comment", "exif"))
    assert after.size == before.size
    assert getattr(after, "n_frames", 1) == getattr(before, "n_frames", 1)
    _, high = zip(
        *ImageChops.difference(after.convert("RGB"), before.convert("RGB")).getextrema(),
        strict=True,
    )
    # AVIF is re-encoded at the highest quality (full-resolution colour): within a level.
    assert max(high) <= (2 if fmt == "avif" else 0)


def test_a_heic_keeps_its_colour_profile(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 10)).save(
        out, "HEIF", quality=90, icc_profile=SRGB, exif=private_exif()
    )
    stripped = strip(tmp_path, out.getvalue(), "heic")
    assert Image.open(io.BytesIO(stripped)).info.get("icc_profile") == SRGB


def test_an_avif_comes_out_upright_with_no_orientation_left(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 10, 200)).save(out, "AVIF", exif=exif.tobytes())
    stripped = Image.open(io.BytesIO(strip(tmp_path, out.getvalue(), "avif")))
    assert stripped.size == (20, 40) and stripped.getexif().get(0x0112, 1) == 1


def test_a_gif_keeps_its_loop_count_and_frame_timing(tmp_path: Path) -> None:
    stripped = Image.open(io.BytesIO(strip(tmp_path, _gif_with_comment_and_xmp(), "gif")))
    assert stripped.info["loop"] == 0 and stripped.n_frames == 2


def test_a_jpeg_loses_whatever_follows_its_end_of_image(tmp_path: Path) -> None:
    stripped = strip(tmp_path, samples.jpeg_bytes() + b"GPS appended secret", "jpeg")
    assert b"secret" not in stripped and stripped.endswith(b"\xff\xd9")


def test_a_progressive_jpeg_loses_metadata_hidden_between_its_scans(tmp_path: Path) -> None:
    data = samples.progressive_jpeg_bytes(120, 80)
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    comment = b"\xff\xfe\x00\x0aGPS home"
    data = data[:second_scan] + comment + data[second_scan:]
    stripped = strip(tmp_path, data, "jpeg")
    assert b"GPS home" not in stripped
    assert (
        ImageChops.difference(
            Image.open(io.BytesIO(stripped)).convert("RGB"),
            Image.open(io.BytesIO(data)).convert("RGB"),
        ).getbbox()
        is None
    )


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (samples.bmp_bytes(), "bmp"),
        (samples.mp4_bytes(), "mp4"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\x07" * 100, "heic"),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + b"\x07" * 100, "avif"),
        (b"GIF89a\x01\0\x01\0\0\0\0\x2c", "gif"),
    ],
)
def test_what_cannot_be_stripped_raises_instead_of_passing_the_original_on(
    tmp_path: Path, data: bytes, fmt: str
) -> None:
    src = tmp_path / "x"
    src.write_bytes(data)
    out = io.BytesIO()
    with pytest.raises(MetadataError):
        strip_metadata(str(src), out, fmt=fmt)
    assert out.getvalue() == b""
