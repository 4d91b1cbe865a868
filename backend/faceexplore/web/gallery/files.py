"""Gallery photos (/gallery/<path>) and cached thumbnails and face crops (/cache/...).

In a deployment nginx serves both straight from disk and falls back to these routes on a miss,
so the URL layout mirrors the folders: /gallery/<path in the gallery> and
/cache/<index id>/<thumbnails|faces>/<size>/<id>.jpg under the data folder's cache (faceexplore.index.cache).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, request, send_file

from faceexplore.faces.images import PHOTO_EXTENSIONS, ImageError
from faceexplore.index.gallery import filesystem_path, name_from_url_path, resolve_in, stored_path

from ..core.errors import not_found
from ..core.state import state
from .links import require_signed_link
from .thumbnails import FACE_SIZES, THUMBNAIL_SIZES, ensure_face_crop, ensure_thumbnail

bp = Blueprint("files", __name__)
# gallery_access = "private": only the signed links the API hands out open a file
bp.before_request(require_signed_link)

GALLERY_MAX_AGE = 24 * 3600
CACHE_MAX_AGE = 7 * 24 * 3600


def gallery_file(relative: str) -> Path | None:
    """The gallery photo at ``relative`` (a name on disk: ``gallery.filesystem_path`` of a stored
    one), or None: nothing outside the gallery (``..``, links
    out of it), no hidden files or folders, only photo types."""
    parts = relative.replace("\\", "/").split("/")
    if any(p.startswith(".") for p in parts if p) or "\x00" in relative:
        return None
    if Path(relative).suffix.lower() not in PHOTO_EXTENSIONS:
        return None
    path = resolve_in(state().settings.gallery_dir, relative)
    return path if path is not None and path.is_file() else None


def _name_on_disk(relative: str) -> str:
    """The gallery name the request asks for, from the raw request line (gunicorn's RAW_URI, or
    REQUEST_URI): the route's decoded ``relative`` has lost the bytes of a name that is not
    UTF-8 (``caf%E9.jpg``), which the raw path still has."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return relative
    path = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:  # an absolute-form request target
        path = urlsplit(path).path
    prefix = request.script_root + "/gallery/"
    if not path.startswith(prefix):
        return relative
    try:
        quoted = path[len(prefix) :].encode("latin-1")  # WSGI gives the request line's bytes as latin-1
    except UnicodeEncodeError:
        return relative
    return name_from_url_path(quoted)


@bp.get("/gallery/<path:relative>")
def gallery(relative: str):
    path = gallery_file(_name_on_disk(relative))
    if path is None:
        raise not_found("There is no such photo in the gallery.")
    # Werkzeug puts the name in Content-Disposition and its ETag, which must be valid Unicode:
    # the stored form of a name that is not UTF-8 (os.fsencode keeps every byte of the path)
    st = path.stat()
    etag = f"{st.st_mtime_ns}-{st.st_size}-{zlib.adler32(os.fsencode(path)) & 0xFFFFFFFF}"
    return send_file(path, download_name=stored_path(path.name), etag=etag, max_age=GALLERY_MAX_AGE, conditional=True)


def _photo_source(photo_id: int):
    index = state().index()
    photo = index.photo_info(photo_id) if index is not None else None
    if photo is None:
        raise not_found(f"There is no photo {photo_id}.")
    path = gallery_file(filesystem_path(photo.path))
    if path is None:
        raise not_found(f"Photo {photo_id} is no longer in the gallery.")
    return photo, path


def _current_index(index_id: str):
    """The index, if ``index_id`` (a cache URL's) is its id: a URL from a replaced index file
    names other photos by the same numbers."""
    index = state().index()
    if index is None or state().cache_generation() != index_id:
        raise not_found("This picture belongs to an index that has been replaced; reload the page.")
    return index


@bp.get("/cache/<index_id>/thumbnails/<int:size>/<int:photo_id>.jpg")
def thumbnail(index_id: str, size: int, photo_id: int):
    if size not in THUMBNAIL_SIZES:
        raise not_found(f"Thumbnails come in sizes {', '.join(map(str, THUMBNAIL_SIZES))}.")
    _current_index(index_id)
    _, source = _photo_source(photo_id)
    try:
        path = ensure_thumbnail(state().settings.cache_dir, index_id, source, size, photo_id)
    except ImageError:
        raise not_found(f"Photo {photo_id} cannot be read.") from None
    return send_file(path, mimetype="image/jpeg", max_age=CACHE_MAX_AGE, conditional=True)


@bp.get("/cache/<index_id>/faces/<int:size>/<int:face_id>.jpg")
def face_crop(index_id: str, size: int, face_id: int):
    if size not in FACE_SIZES:
        raise not_found(f"Face crops come in sizes {', '.join(map(str, FACE_SIZES))}.")
    face = _current_index(index_id).face_info(face_id)
    if face is None:
        raise not_found(f"There is no face {face_id}.")
    photo, source = _photo_source(face.photo_id)
    try:
        path = ensure_face_crop(state().settings.cache_dir, index_id, source, face.box, (photo.width, photo.height), size, face_id)
    except ImageError:
        raise not_found(f"The photo of face {face_id} cannot be read.") from None
    return send_file(path, mimetype="image/jpeg", max_age=CACHE_MAX_AGE, conditional=True)
