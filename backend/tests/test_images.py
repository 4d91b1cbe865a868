"""Photo decoding: EXIF orientation, draft decoding of large JPEGs, and every bad-file kind."""

import io

import helpers
import numpy as np
import pillow_heif
import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from faceexplore.faces import images
from faceexplore.faces.images import ImageError, load_photo


def _two_colour_jpeg(orientation=None) -> bytes:
    """300 wide, 200 high: left half red, right half blue; optionally an EXIF Orientation tag."""
    img = Image.new("RGB", (300, 200), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 150, 200))
    args = {"quality": 95}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        args["exif"] = exif.tobytes()
    return helpers.jpeg_bytes(img, **args)


def _colour(px):
    r, g, b = (int(v) for v in px)
    return "red" if r > 200 and b < 60 else "blue" if b > 200 and r < 60 else f"({r},{g},{b})"


def test_plain_jpeg_is_decoded_as_is():
    photo = load_photo(_two_colour_jpeg())
    assert (photo.width, photo.height, photo.scale) == (300, 200, 1.0)
    assert photo.shape == (200, 300, 3) and photo.pixels.dtype == np.uint8
    assert _colour(photo.pixels[100, 20]) == "red" and _colour(photo.pixels[100, 280]) == "blue"


def test_exif_orientation_6_is_applied():
    # Orientation 6: the camera was turned; the picture must be rotated 90 degrees clockwise
    # to be shown upright, so the left (red) half ends up on top.
    photo = load_photo(_two_colour_jpeg(orientation=6))
    assert (photo.width, photo.height) == (200, 300)
    assert photo.shape == (300, 200, 3)
    assert _colour(photo.pixels[20, 100]) == "red"
    assert _colour(photo.pixels[280, 100]) == "blue"


def test_exif_orientation_is_applied_with_draft_decoding_too():
    big = Image.new("RGB", (3000, 2000), (0, 0, 255))
    big.paste((255, 0, 0), (0, 0, 1500, 2000))
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise: red (left) goes to the bottom
    photo = load_photo(helpers.jpeg_bytes(big, exif=exif.tobytes()), max_side=500)
    assert (photo.width, photo.height) == (2000, 3000)
    assert max(photo.shape[:2]) <= 500 and photo.shape[0] > photo.shape[1]
    assert photo.scale == pytest.approx(photo.shape[1] / 2000)
    assert _colour(photo.pixels[-10, photo.shape[1] // 2]) == "red"
    assert _colour(photo.pixels[10, photo.shape[1] // 2]) == "blue"


def test_a_broken_exif_block_does_not_lose_the_photo():
    data = bytearray(_two_colour_jpeg(orientation=6))
    start = data.find(b"Exif\x00\x00")
    assert start > 0
    data[start + 6 : start + 14] = b"\xff" * 8  # scramble the TIFF header inside the EXIF block
    photo = load_photo(bytes(data))
    assert {photo.width, photo.height} == {300, 200}
    assert photo.pixels.size > 0


def test_large_jpeg_is_draft_decoded(monkeypatch):
    """A 4000x3000 JPEG asked for at 1000 px is reduced by the JPEG decoder itself (DCT
    scaling), never decoded at 12 megapixels."""
    drafted = []
    original_draft = JpegImageFile.draft

    def spy(self, mode, size):
        result = original_draft(self, mode, size)
        drafted.append(self.size)  # the size the decoder will now produce
        return result

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    data = helpers.jpeg_bytes(helpers.landscape(4000, 3000), quality=85)
    photo = load_photo(data, max_side=1000)
    assert drafted, "load_photo did not ask the JPEG decoder for a reduced size"
    assert max(drafted[-1]) <= 2000, f"the decoder still produced {drafted[-1]}"
    assert (photo.width, photo.height) == (4000, 3000)  # the original's size is reported
    assert max(photo.shape[:2]) <= 1000
    assert photo.scale == pytest.approx(photo.shape[1] / 4000) and photo.scale <= 0.25 + 1e-9
    # same picture as a full decode, scaled
    full = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize(photo.shape[1::-1], Image.BILINEAR), np.float32)
    assert np.abs(full - photo.pixels).mean() < 4


def test_non_jpeg_is_downscaled_after_decoding(tmp_path):
    path = tmp_path / "wide.png"
    helpers.landscape(1200, 600).save(path)
    photo = load_photo(path, max_side=400)
    assert (photo.width, photo.height) == (1200, 600)
    assert photo.shape == (200, 400, 3)
    assert photo.scale == pytest.approx(1 / 3)
    # no max_side: full size
    assert load_photo(path).shape == (600, 1200, 3)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "CMYK"])
def test_any_mode_becomes_rgb(mode, tmp_path):
    img = helpers.landscape(64, 48).convert("RGBA" if mode == "RGBA" else "RGB")
    img = img.convert(mode) if mode not in ("I;16",) else img.convert("L").convert("I;16")
    path = tmp_path / ("x.tif" if mode in ("CMYK", "I;16") else "x.png")
    img.save(path)
    photo = load_photo(path)
    assert photo.shape == (48, 64, 3) and photo.pixels.dtype == np.uint8


def test_path_and_bytes_decode_the_same(face_photo):
    a = load_photo(face_photo)
    b = load_photo(face_photo.read_bytes())
    assert np.array_equal(a.pixels, b.pixels) and (a.width, a.height) == (b.width, b.height) == (512, 600)


# -- bad files ---------------------------------------------------------------------------------
EXPECTED_MESSAGES = helpers.BAD_FILE_MESSAGES


@pytest.mark.parametrize("name", sorted(EXPECTED_MESSAGES))
def test_bad_file_raises_image_error_with_a_message(name, tmp_path):
    helpers.write_bad_files(tmp_path)
    for source in (tmp_path / name, (tmp_path / name).read_bytes()):
        with pytest.raises(ImageError, match=EXPECTED_MESSAGES[name]):
            load_photo(source, max_side=1600)


def test_bomb_just_over_the_limit_is_refused_too():
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; the warning must become an error
    side = int((images.MAX_PIXELS * 1.2) ** 0.5)
    with pytest.raises(ImageError, match="too large"):
        load_photo(helpers.png_claiming_size(side, side))


def test_max_pixels_is_enforced_by_load_photo(monkeypatch, face_photo):
    monkeypatch.setattr(images, "MAX_PIXELS", 100_000)  # below the 512x600 photo
    with pytest.raises(ImageError, match=r"too large to decode safely \(512x600 pixels\)"):
        load_photo(face_photo)
    monkeypatch.setattr(images, "MAX_PIXELS", 512 * 600)
    assert load_photo(face_photo).width == 512


def test_empty_bytes_and_missing_file():
    with pytest.raises(ImageError, match="empty"):
        load_photo(b"")
    with pytest.raises(FileNotFoundError):
        load_photo("/nonexistent/photo.jpg")


# -- 16-bit greyscale and HEIF ---------------------------------------------------------------------
def _grey_ramp_16_bit() -> np.ndarray:
    """64 x 256, each column one 16-bit level from black to white."""
    return np.tile(np.linspace(0, 65535, 256).round().astype(np.uint16), (64, 1))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_greyscale_keeps_its_tones(suffix, tmp_path):
    ramp = _grey_ramp_16_bit()
    path = tmp_path / f"ramp{suffix}"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as img:
        assert img.mode.startswith("I")  # stored as 16-bit, as a scanner or a raw converter writes it
    photo = load_photo(path)
    assert photo.shape == (64, 256, 3)
    expected = np.rint(ramp[0] / 257.0)
    for channel in range(3):
        assert np.abs(photo.pixels[10, :, channel].astype(int) - expected).max() <= 1
    assert photo.pixels[:, 0].max() == 0 and photo.pixels[:, -1].min() == 255
    assert abs(int(photo.pixels[10, 128, 0]) - 128) <= 1  # mid-grey stays mid-grey


def test_16_bit_greyscale_is_downscaled_with_its_tones(tmp_path):
    path = tmp_path / "dark.png"
    Image.fromarray(np.full((300, 400), 16384, np.uint16)).save(path)  # a quarter of full scale
    photo = load_photo(path, max_side=100)
    assert photo.shape == (75, 100, 3) and np.all(np.abs(photo.pixels.astype(int) - 64) <= 1)


def test_heif_photos_are_read(tmp_path):
    assert {".heic", ".heif"} <= images.PHOTO_EXTENSIONS
    img = Image.new("RGB", (320, 240), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 160, 240))
    path = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(img).save(path, quality=95)
    assert pillow_heif.is_supported(path)
    for source in (path, path.read_bytes()):
        photo = load_photo(source)
        assert (photo.width, photo.height) == (320, 240) and photo.shape == (240, 320, 3)
        assert _colour(photo.pixels[120, 20]) == "red" and _colour(photo.pixels[120, 300]) == "blue"
    assert load_photo(path, max_side=160).shape == (120, 160, 3)


def test_a_turned_heif_photo_is_turned_once(tmp_path):
    img = Image.new("RGB", (300, 200), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # as with test_exif_orientation_6_is_applied: 90 degrees clockwise
    path = tmp_path / "turned.heic"
    img.save(path, "HEIF", exif=exif.tobytes(), quality=95)
    photo = load_photo(path)
    assert (photo.width, photo.height) == (200, 300)
    assert _colour(photo.pixels[20, 100]) == "red" and _colour(photo.pixels[280, 100]) == "blue"


@pytest.mark.parametrize(
    "data",
    [b"P6\n9999 9999\n255\n\0\0\0", b"P6\n1 1\n65536\n\0\0\0\0\0\0\0", b"P5\n3 3\n0\n" + b"\0" * 11],
    ids=["ppm-truncated", "ppm-maxval-too-big", "pgm-maxval-zero"],
)
def test_a_malformed_ppm_is_an_image_error(data):
    with pytest.raises(ImageError):
        load_photo(data, max_side=1600)


def test_image_pixels_reads_the_header_only():
    assert images.image_pixels(b"P6\n9999 9999\n255\n\0\0\0") == 9999 * 9999  # not decoded: it would fail
    with pytest.raises(ImageError):
        images.image_pixels(b"P6\n1 1\n65536\n\0\0\0")
    with pytest.raises(ImageError):
        images.image_pixels(b"not an image at all")
