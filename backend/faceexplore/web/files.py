"""Gallery photos (/gallery/<path>) and cached thumbnails and face crops (/cache/...).

In a deployment nginx serves both straight from disk and falls back to these routes on a miss,
so the URL layout mirrors the folders: /gallery/<path in the gallery> and
/cache/<thumbnails|faces>/<size>/<id>.jpg under the data folder's cache.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_file

from ..gallery import resolve_in
from ..images import PHOTO_EXTENSIONS, ImageError
from .errors import not_found
from .links import require_signed_link
from .state import state
from .thumbnails import FACE_SIZES, THUMBNAIL_SIZES, ensure_face_crop, ensure_thumbnail

bp = Blueprint("files", __name__)
# gallery_access = "private": only the signed links the API hands out open a file
bp.before_request(require_signed_link)

GALLERY_MAX_AGE = 24 * 3600
CACHE_MAX_AGE = 7 * 24 * 3600


def gallery_file(relative: str) -> Path | None:
    """The gallery photo at ``relative``, or None: nothing outside the gallery (``..``, links
    out of it), no hidden files or folders, only photo types."""
    parts = relative.replace("\\", "/").split("/")
    if any(p.startswith(".") for p in parts if p) or "\x00" in relative:
        return None
    if Path(relative).suffix.lower() not in PHOTO_EXTENSIONS:
        return None
    path = resolve_in(state().settings.gallery_dir, relative)
    return path if path is not None and path.is_file() else None


@bp.get("/gallery/<path:relative>")
def gallery(relative: str):
    path = gallery_file(relative)
    if path is None:
        raise not_found("There is no such photo in the gallery.")
    return send_file(path, max_age=GALLERY_MAX_AGE, conditional=True)


def _photo_source(photo_id: int):
    index = state().index()
    photo = index.photo_info(photo_id) if index is not None else None
    if photo is None:
        raise not_found(f"There is no photo {photo_id}.")
    path = gallery_file(photo.path)
    if path is None:
        raise not_found(f"Photo {photo_id} is no longer in the gallery.")
    return photo, path


@bp.get("/cache/thumbnails/<int:size>/<int:photo_id>.jpg")
def thumbnail(size: int, photo_id: int):
    if size not in THUMBNAIL_SIZES:
        raise not_found(f"Thumbnails come in sizes {', '.join(map(str, THUMBNAIL_SIZES))}.")
    _, source = _photo_source(photo_id)
    try:
        path = ensure_thumbnail(state().settings.cache_dir, source, size, photo_id)
    except ImageError:
        raise not_found(f"Photo {photo_id} cannot be read.") from None
    return send_file(path, mimetype="image/jpeg", max_age=CACHE_MAX_AGE, conditional=True)


@bp.get("/cache/faces/<int:size>/<int:face_id>.jpg")
def face_crop(size: int, face_id: int):
    if size not in FACE_SIZES:
        raise not_found(f"Face crops come in sizes {', '.join(map(str, FACE_SIZES))}.")
    index = state().index()
    face = index.face_info(face_id) if index is not None else None
    if face is None:
        raise not_found(f"There is no face {face_id}.")
    photo, source = _photo_source(face.photo_id)
    try:
        path = ensure_face_crop(state().settings.cache_dir, source, face.box, (photo.width, photo.height), size, face_id)
    except ImageError:
        raise not_found(f"The photo of face {face_id} cannot be read.") from None
    return send_file(path, mimetype="image/jpeg", max_age=CACHE_MAX_AGE, conditional=True)
