"""Safe, fast photo decoding.

Every failure a gallery can throw at us (corrupt, truncated, empty, not an image, a
decompression bomb) becomes one ``ImageError`` with a plain message, so callers record it for
that photo and move on.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

# HEIC/HEIF (iPhone photos) through pillow-heif's Pillow plugin. It applies a photo's rotation
# itself and reports EXIF orientation 1, so exif_transpose does not turn it a second time.
pillow_heif.register_heif_opener()

PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"}

# Refuse images whose pixel count could exhaust memory. Pillow warns at MAX_IMAGE_PIXELS and
# raises at twice that; we turn the warning into an error too, at a limit well above any camera.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


# Formats whose decoder can itself decode at a half, a quarter or an eighth of the size (JPEG's
# DCT scaling, Pillow's draft): load_photo(max_side=...) never makes their full-size pixels.
# Every other format (PNG, WebP, HEIC, TIFF, BMP...) is decoded whole, whatever is wanted of it.
REDUCED_DECODE_FORMATS = {"JPEG", "MPO"}


class ImageError(ValueError):
    """A photo that cannot be used; the message says why, for a person."""


class TooLargeImage(ImageError):
    """An image with more pixels than can be decoded safely (over ``MAX_PIXELS``)."""


@dataclass
class DecodedPhoto:
    """A photo ready for detection.

    ``pixels`` is RGB uint8 at ``scale`` times the original (EXIF-rotated) size, whose width and
    height are ``width`` and ``height``; ``format`` Pillow's name for the file's format.
    """

    pixels: np.ndarray
    width: int
    height: int
    scale: float
    format: str = ""

    @property
    def shape(self):
        return self.pixels.shape

    def downscaled(self, max_side: int) -> DecodedPhoto:
        """This photo with its longest side at most ``max_side``."""
        if max(self.pixels.shape[:2]) <= max_side:
            return self
        pixels = np.asarray(_shrink(Image.fromarray(self.pixels), max_side))
        return DecodedPhoto(pixels=pixels, width=self.width, height=self.height, scale=pixels.shape[1] / self.width, format=self.format)


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """``img`` with its longest side at most ``max_side``."""
    if max(img.size) <= max_side:
        return img
    ratio = max_side / max(img.size)
    return img.resize(
        (max(1, round(img.size[0] * ratio)), max(1, round(img.size[1] * ratio))),
        Image.BILINEAR,
        reducing_gap=2.0,
    )


def _open(source) -> Image.Image:
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageError("the file is empty")
        source = io.BytesIO(source)
    elif isinstance(source, (str, Path)) and Path(source).stat().st_size == 0:
        raise ImageError("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLargeImage(f"the image is too large to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise ImageError("not an image (or an image format that is not supported)") from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        # a malformed header: Pillow raises ValueError for some (a PPM's maxval), struct.error for others
        raise ImageError(f"the image cannot be read ({exc})") from None


def image_pixels(source) -> int:
    """The pixel count an image (a path or bytes) claims in its header, read without decoding
    it. Raises ImageError for what is not an image."""
    _, width, height = image_header(source)
    return width * height


class _KeepOpen:
    """A binary file whose close() does nothing: Pillow closes the file an image was read from."""

    def __init__(self, file):
        self._file = file

    def __getattr__(self, name):
        return getattr(self._file, name)

    def close(self) -> None:
        pass


def image_header(source) -> tuple[str, int, int]:
    """Pillow's name for an image's format (JPEG, PNG, HEIF...) and the width and height its
    header claims, read without decoding it; ``source``: a path, bytes or a binary file. Raises
    ImageError for what is not an image, TooLargeImage past ``MAX_PIXELS``. A file is left open."""
    if hasattr(source, "read"):
        source = _KeepOpen(source)
    img = _open(source)
    try:
        return str(img.format), *img.size
    finally:
        img.close()


def check_decodes(source) -> None:
    """Decode the whole of ``source`` (a path, bytes or a binary file, left open), as cheaply as
    the format allows (a JPEG at an eighth of its size: its decoder still reads every block), and
    raise ImageError when it is truncated or corrupt. Its header alone (image_header) says nothing
    of the data after it."""
    if hasattr(source, "read"):
        source = _KeepOpen(source)
    load_photo(source, max_side=1, decoder_reduction_only=True)


def decoded_pixels(image_format: str, width: int, height: int, max_side: int | None = None) -> int:
    """The pixels ``load_photo(max_side=max_side)`` decodes for an image of this format and size
    (the memory and most of the time it costs): a JPEG reduced by its decoder by the largest of 8,
    4 or 2 that keeps it at least ``max_side`` (Pillow's draft), any other format whole."""
    longest = max(width, height)
    if not (max_side and image_format in REDUCED_DECODE_FORMATS and longest > max_side):
        return width * height
    ratio = max_side / longest
    scale = min(width // max(1, int(width * ratio)), height // max(1, int(height * ratio)))
    reduction = next(r for r in (8, 4, 2, 1) if scale >= r)
    return -(-width // reduction) * -(-height // reduction)


def reduced_side(image_format: str, width: int, height: int, side: int, max_pixels: int) -> int | None:
    """The longest side to ask load_photo for, at most ``side``, that decodes at most
    ``max_pixels`` (a JPEG's decoder reduces by 1, 2, 4 or 8 only); None when even the smallest
    decode is over it."""
    longest = max(width, height)
    for reduction in (1, 2, 4, 8):
        wanted = min(side, longest // reduction)
        if wanted >= 1 and decoded_pixels(image_format, width, height, wanted) <= max_pixels:
            return wanted
    return None


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    w, h = img.size
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not lose the photo
        orientation = 1
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _to_8_bit(img: Image.Image) -> Image.Image:
    """A 16-bit greyscale image (PNG, TIFF: modes I;16* and I) or a floating-point one (F)
    scaled to 8-bit L: Pillow's own conversion to RGB clips them at 255, which turns all but
    the darkest pixels of a 16-bit photo white. Other modes are returned as they are."""
    if not (img.mode.startswith("I;16") or img.mode in ("I", "F")):
        return img
    values = np.nan_to_num(np.asarray(img, np.float64))
    if img.mode.startswith("I;16"):
        full_scale = 65535.0
    else:  # 32-bit modes say nothing of their range: 0-1 (F), 0-255, else 16-bit data
        top = values.max(initial=0.0)
        full_scale = 1.0 if img.mode == "F" and top <= 1.0 else 255.0 if top <= 255.0 else 65535.0
    return Image.fromarray(np.rint(np.clip(values, 0.0, full_scale) * (255.0 / full_scale)).astype(np.uint8), "L")


def load_photo(source, max_side: int | None = None, decoder_reduction_only: bool = False) -> DecodedPhoto:
    """Decode ``source`` (a path or bytes), EXIF orientation applied, RGB.

    With ``max_side``, a JPEG is decoded at a reduced size by the decoder itself (``draft``), so
    a 24-megapixel photo is never fully decoded just to look for faces; other formats are decoded
    and then downscaled. With ``decoder_reduction_only``, that final downscale is skipped: the
    photo comes back at the size the decoder made cheaply (a JPEG between ``max_side`` and twice
    it, another format whole), for callers that want more pixels than ``max_side`` for part of
    their work (``DecodedPhoto.downscaled`` gives the ``max_side`` image from it).
    """
    img = original = _open(source)
    image_format = str(original.format)
    try:
        width, height = _oriented_size(img)
        if width * height > MAX_PIXELS:
            raise ImageError(f"the image is too large to decode safely ({width}x{height} pixels)")
        if max_side and max(width, height) > max_side and img.format in REDUCED_DECODE_FORMATS:
            ratio = max_side / max(width, height)
            img.draft("RGB", (max(1, int(img.size[0] * ratio)), max(1, int(img.size[1] * ratio))))
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
            ImageOps.exif_transpose(img, in_place=True)  # a copy otherwise, rotated or not
        if img.mode != "RGB":  # (convert copies even then)
            img = _to_8_bit(img).convert("RGB")
        if max_side and not decoder_reduction_only:
            img = _shrink(img, max_side)
        pixels = np.asarray(img)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"the image is too large to decode safely ({exc})") from None
    except MemoryError:
        raise ImageError("the image is too large to decode in the memory available") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        # Pillow reports truncated and corrupt data as OSError ("image file is truncated",
        # "broken data stream") or SyntaxError for some formats.
        raise ImageError(f"the image is corrupt or truncated ({exc})") from None
    finally:
        original.close()
    return DecodedPhoto(pixels=pixels, width=width, height=height, scale=pixels.shape[1] / width, format=image_format)
