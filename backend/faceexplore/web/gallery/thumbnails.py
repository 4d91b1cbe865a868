"""Thumbnails and face crops: made once from the gallery photo, then kept in the cache folder
(layout and removal: faceexplore.index.cache). Files are written to a temporary name and renamed, so a
reader never sees half a file, even with several workers making the same one at once.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from PIL import Image

from faceexplore.faces.images import load_photo
from faceexplore.index.cache import face_path, thumbnail_path

THUMBNAIL_SIZES = (32, 400, 1200)
FACE_SIZES = (160,)
FACE_MARGIN = 1.6  # crop side / face box side


def _quality(size: int) -> int:
    return 60 if size <= 64 else 82


def write_atomic(path: Path, image: Image.Image, quality: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, "JPEG", quality=quality, optimize=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def make_thumbnail(source: Path, size: int) -> Image.Image:
    """The photo (EXIF-oriented) with its longest side at most ``size``. Raises ImageError."""
    photo = load_photo(source, max_side=size)
    return Image.fromarray(photo.pixels)


def face_square(box, photo_size: tuple[int, int], margin: float = FACE_MARGIN) -> tuple[float, float, float]:
    """The square (left, top, side) a face's crop shows, in original-photo pixels: centred on the
    box's centre, its side the box's larger side × ``margin``; where that square would cross the
    photo's edge it is shifted (not shrunk) back inside, and shrunk only when the photo itself is
    smaller than it. So the face is whole and at the centre, or as near as the photo allows, and
    never cut at the edge."""
    x1, y1, x2, y2 = (float(v) for v in box)
    width, height = (float(v) for v in photo_size)
    side = min(max(x2 - x1, y2 - y1, 1.0) * margin, width, height)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left = min(max(cx - side / 2, 0.0), width - side)
    top = min(max(cy - side / 2, 0.0), height - side)
    return left, top, side


def make_face_crop(source: Path, box, photo_size: tuple[int, int] | None, size: int) -> Image.Image:
    """A square ``size`` crop of the face ``box`` (original-photo pixels): ``face_square``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    max_side = None
    if photo_size and all(photo_size):
        # decode only as large as the crop needs (JPEG draft mode does most of the work)
        scale = min(1.0, size / (max(x2 - x1, y2 - y1, 1.0) * FACE_MARGIN))
        max_side = max(size, math.ceil(max(photo_size) * scale))
    photo = load_photo(source, max_side=max_side)
    img = Image.fromarray(photo.pixels)
    # the square in the photo's own pixels; the decoded image's two scales may differ by a
    # rounding (JPEG draft sizes round up), so each axis is scaled by its own
    left, top, side = face_square(box, (photo.width, photo.height))
    sx, sy = img.width / photo.width, img.height / photo.height
    crop = img.crop((round(left * sx), round(top * sy), round((left + side) * sx), round((top + side) * sy)))
    return crop.resize((size, size), Image.LANCZOS)


def ensure_thumbnail(cache_dir, index_id: str, source: Path, size: int, photo_id: int) -> Path:
    path = thumbnail_path(cache_dir, index_id, size, photo_id)
    if not path.is_file():
        write_atomic(path, make_thumbnail(source, size), _quality(size))
    return path


def ensure_face_crop(cache_dir, index_id: str, source: Path, box, photo_size, size: int, face_id: int) -> Path:
    path = face_path(cache_dir, index_id, size, face_id)
    if not path.is_file():
        write_atomic(path, make_face_crop(source, box, photo_size, size), _quality(size))
    return path
