"""POST /api/gallery/photos: the organiser adds photos to the gallery from the page (issue #12,
the live gallery: the watcher indexes them as they land).

- Organiser only, with the X-CSRF-Token header, checked before the body is read: a visitor's
  upload is refused unread (401). Setting ``uploads = "off"`` refuses every upload (403).
- The photos go to ``gallery/<upload_folder>`` (default ``uploads/%Y-%m-%d``: the day's date), a
  folder that must stay inside the gallery once links are resolved. A gallery the app cannot
  write to (mounted read-only) is answered 503 ``gallery_read_only``.
- Each file is checked on its own and the answer lists every one: saved (its path) or refused
  (why). Only what the indexer reads is kept: the header must open with Pillow as one of the
  photo formats of ``images.PHOTO_EXTENSIONS``, within ``images.MAX_PIXELS`` (the indexer's own
  limit for gallery photos), and the whole photo must decode: a truncated or corrupt file is
  refused and nothing of it kept. Nothing is lost silently, and one bad file does not refuse the rest.
- File names are cleaned (folder parts, control, invisible and text-direction characters such
  as U+202E, shell-special characters and leading dots go; a missing or wrong suffix gets the
  format's) and never overwrite a photo: a taken name gets ``-2``, ``-3``... Each file is
  written under a hidden temporary name in the same folder (the gallery scan skips dot-files),
  flushed to disk, then linked to its name in one step, so the watcher never sees half a photo.
- Size: one request up to ``max_gallery_upload_mb`` (nginx's limit on this route matches the
  default). Only this route spools its files to a temporary file while the form is read
  (app.InMemoryRequest); every other upload stays in memory.
- No request-rate limit: only the organiser gets past the first check, and the page sends one
  photo per request (hundreds in a row). nginx allows two such uploads at once per client.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

from flask import request
from flask_openapi3 import APIBlueprint
from werkzeug.datastructures import FileStorage

from faceexplore.faces.images import PHOTO_EXTENSIONS, ImageError, TooLargeImage, check_decodes, image_header
from faceexplore.index.gallery import resolve_in

from ..core.errors import UPLOAD_FIELD, ApiError, error_responses
from ..core.models import ErrorDetail, UploadedPhoto, UploadForm, UploadResult
from ..core.serialize import json_response
from ..core.state import state
from ..session.routes import ORGANISER_CHANGE, require_organiser_change

bp = APIBlueprint("upload", __name__)
log = logging.getLogger(__name__)

SPOOL_UPLOADS = "faceexplore.spool_uploads"  # request.environ flag read by app.InMemoryRequest
TEMP_PREFIX = ".upload-"  # hidden: gallery.scan_gallery and nginx skip dot-files
MAX_NAME_CHARS = 120  # of the stem; ext4 allows 255 bytes per name
MAX_SAME_NAME = 10_000  # name, name-2, ... name-10000
# Pillow's format name -> the suffix a file of it gets when its own is missing or not a photo's
FORMAT_SUFFIXES = {
    "JPEG": (".jpg", ".jpeg"),
    "MPO": (".jpg", ".jpeg"),  # a JPEG with a second picture (some cameras, 3D phones)
    "PNG": (".png",),
    "WEBP": (".webp",),
    "BMP": (".bmp",),
    "TIFF": (".tif", ".tiff"),
    "HEIF": (".heic", ".heif"),
}
assert {s for suffixes in FORMAT_SUFFIXES.values() for s in suffixes} == PHOTO_EXTENSIONS
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
# Unicode categories never kept in a name: controls (Cc), invisible formatting such as the
# text-direction overrides U+202A-U+202E and U+2066-U+2069 or the marks U+200E/F (Cf, which make
# "photo\u202egpj.exe" read as "photoexe.jpg"), line and paragraph separators, surrogates.
# Controls (Cc) become "_" like the shell-special characters; the others go.
_INVISIBLE = {"Cf", "Zl", "Zp", "Cs"}

ERRORS = {
    400: "no_file, too_many_files",
    401: "login_required: for the organiser only",
    403: "csrf_failed (the X-CSRF-Token header is missing or wrong), uploads_off (setting uploads)",
    413: "too_large: over max_gallery_upload_mb; too_many_parts",
    415: "unsupported_media_type: the body is not multipart/form-data",
    503: "gallery_read_only: the gallery folder cannot be written to (mounted read-only?)",
}


def upload_folder(settings, when: float | None = None) -> str:
    """The gallery sub-folder uploads go to now ('/'-separated)."""
    return time.strftime(settings.upload_folder, time.localtime(when)).replace("\\", "/")


def _read_only(folder: str) -> ApiError:
    return ApiError(
        503,
        "gallery_read_only",
        f"Photos cannot be added: the server cannot write to the gallery folder {folder}. Uploads need a writable gallery "
        "(in Docker, the backend's gallery mount without :ro), or add the photos to the gallery folder directly.",
    )


def _target_folder(settings) -> tuple[Path, str]:
    """The upload folder (created), and its path relative to the gallery; ApiError when it cannot
    be written to or would lie outside the gallery."""
    root = Path(settings.gallery_dir)
    relative = upload_folder(settings)
    if not root.is_dir():
        raise ApiError(503, "gallery_read_only", "Photos cannot be added: the gallery folder does not exist on the server.")
    # resolved before anything is created: a link on the way must not lead the mkdir out of the gallery
    folder = resolve_in(root, relative)
    if folder is None:
        raise ApiError(503, "gallery_read_only", f"Photos cannot be added: {relative} does not lead to a folder inside the gallery.")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK):  # a read-only mount, or a folder this user may not write
        raise _read_only(relative)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise _read_only(relative) from None
        raise
    return folder, relative


@bp.before_request
def _organiser_only_and_writable():
    """Before the body is read: who sends it, whether uploads are on and the gallery writable.
    Then this request may be large and spooled to disk (its photos go to the gallery anyway)."""
    require_organiser_change()
    settings = state().settings
    if settings.uploads == "off":
        raise ApiError(403, "uploads_off", "Adding photos from the page is turned off on this server (setting uploads).")
    request.environ[UPLOAD_FIELD] = "photos"
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "Send the photos as multipart/form-data (form field 'photos').")
    _target_folder(settings)
    request.max_content_length = settings.max_gallery_upload_mb * 1024 * 1024
    request.environ[SPOOL_UPLOADS] = True


@bp.post(
    "/api/gallery/photos",
    operation_id="uploadPhotos",
    summary="Add photos to the gallery (organiser)",
    description="Each file is checked and saved on its own; the answer lists every one, saved or refused. "
    "A running watcher (`faceexplore watch`) indexes them within seconds.",
    responses={200: UploadResult, **error_responses(ERRORS)},
    security=ORGANISER_CHANGE,
)
def upload_photos(form: UploadForm):
    folder, relative = _target_folder(state().settings)
    results = [save_photo(upload, folder, relative) for upload in form.photos]
    saved = sum(r.path is not None for r in results)
    return json_response(UploadResult(saved=saved, refused=len(results) - saved, folder=relative, photos=results))


def display_name(filename: str | None) -> str:
    """The name the file was sent with, without folders and invisible characters, for the answer."""
    categories = ((c, unicodedata.category(c)) for c in filename or "")
    name = "".join("_" if category == "Cc" else c for c, category in categories if category not in _INVISIBLE)
    return os.path.basename(name.replace("\\", "/")).strip()[:200]


def safe_stem_and_suffix(filename: str | None) -> tuple[str, str]:
    """A file name's stem cleaned for the gallery (no folder parts, no control or shell-special
    characters, no leading dot, at most MAX_NAME_CHARS) and its suffix, lower-cased. Letters of
    any script are kept. An empty stem becomes "photo"."""
    name = unicodedata.normalize("NFC", display_name(filename))
    stem, suffix = os.path.splitext(name)
    if not stem and suffix:  # ".jpg" alone: a hidden name, not a suffix
        stem, suffix = suffix, ""
    stem = _UNSAFE_CHARS.sub("_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" ._-")[:MAX_NAME_CHARS].strip(" ._-")
    suffix = suffix.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", suffix) else ""
    return stem or "photo", suffix


def save_photo(upload: FileStorage, folder: Path, relative: str) -> UploadedPhoto:
    sent = display_name(upload.filename) or "(no name)"
    stream = upload.stream
    try:
        stream.seek(0)
        kind, _, _ = image_header(stream)
    except TooLargeImage:
        return _refused(sent, "too_large_image", f"{sent} has too many pixels to be indexed safely; add a smaller copy of it.")
    except ImageError as exc:
        return _refused(sent, "not_an_image", f"{sent} is not a photo the gallery can use: {exc}.")
    if kind not in FORMAT_SUFFIXES:
        return _refused(sent, "not_an_image", f"{sent} is a {kind} image; the gallery takes JPEG, PNG, WebP, BMP, TIFF and HEIC photos.")
    try:
        stream.seek(0)
        check_decodes(stream)
    except ImageError as exc:
        return _refused(sent, "not_an_image", f"{sent} is damaged or cut short, so it was not saved ({exc}). Send the whole file again.")
    stem, suffix = safe_stem_and_suffix(upload.filename)
    if suffix not in FORMAT_SUFFIXES[kind]:
        suffix = FORMAT_SUFFIXES[kind][0]
    stream.seek(0)
    try:
        name = write_new_file(folder, stem, suffix, stream)
    except OSError as exc:  # the disk filled up, or the folder became read-only: this file and likely the rest
        log.error("cannot save an uploaded photo in %s: %s", folder, exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return _refused(sent, "disk_full", f"{sent} was not saved: the server's disk is full.")
        return _refused(sent, "gallery_read_only", f"{sent} was not saved: the server cannot write to the gallery folder.")
    if name is None:
        return _refused(sent, "bad_file_name", f"{sent} was not saved: too many photos in {relative} have that name already.")
    return UploadedPhoto(filename=sent, path=f"{relative}/{name}", error=None)


def _refused(filename: str, code: str, message: str) -> UploadedPhoto:
    return UploadedPhoto(filename=filename, path=None, error=ErrorDetail(code=code, message=message))


def write_new_file(folder: Path, stem: str, suffix: str, source) -> str | None:
    """Copy ``source`` into ``folder`` as ``stem + suffix``, or ``stem-2 + suffix``... when that
    name is taken: written under a hidden temporary name, flushed to disk, then linked to the
    free name (a link never replaces an existing file, so two uploads at once cannot overwrite
    each other either). Returns the name used; None when every name tried is taken."""
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # readable like the gallery's other photos (nginx serves them)
        for n in range(1, MAX_SAME_NAME + 1):
            name = f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}"
            if _link_new(tmp, folder / name):
                return name
        return None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _link_new(tmp: str, target: Path) -> bool:
    """Give the file ``tmp`` the name ``target`` unless that is taken (False then)."""
    try:
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:  # a file system without hard links (FAT, some network shares)
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
    if os.path.lexists(target):
        return False
    os.replace(tmp, target)  # may race with another upload of the same name: rare, and the last one wins
    return True
