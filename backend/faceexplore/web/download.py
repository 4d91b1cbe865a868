"""POST /api/download: the chosen photos as one zip, streamed as it is built (no file on disk).

Photos are stored uncompressed (JPEGs do not compress further), read in chunks and sent as soon
as each chunk is in the archive, so memory stays small whatever the number of photos.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile

from flask import Blueprint, Response, request

from .errors import bad_request
from .files import gallery_file
from .state import state

bp = Blueprint("download", __name__)
log = logging.getLogger(__name__)

MAX_PHOTOS = 1000
CHUNK = 256 * 1024
ZIP_NAME = "faceexplore-photos.zip"


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream that collects what zipfile writes until drained."""

    def __init__(self):
        super().__init__()
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self._chunks.append(data)
        self._position += len(data)
        return len(data)

    def tell(self):
        return self._position

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def stream_zip(entries):
    """Yield the bytes of a zip holding ``entries`` ((archive name, file path), ...)."""
    return (chunk for chunk in _zip_chunks(entries) if chunk)


def _zip_chunks(entries):
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, path in entries:
            try:
                src = open(path, "rb")
            except OSError:  # removed since the request was checked
                log.warning("download: %s vanished; left out of the zip", name)
                continue
            with src:
                info = zipfile.ZipInfo.from_file(path, name)
                info.compress_type = zipfile.ZIP_STORED
                with archive.open(info, "w", force_zip64=os.fstat(src.fileno()).st_size >= 2**31 - 2**20) as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()


def _ids_from_request() -> list:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("photo_ids"), list):
            raise bad_request("bad_photo_ids", 'Send {"photo_ids": [1, 2, ...]}, the ids of the photos to download.')
        return body["photo_ids"]
    return request.form.getlist("photo_ids")


def _parse_ids(raw: list) -> list[int]:
    ids, seen = [], set()
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise bad_request("bad_photo_ids", "Photo ids must be whole numbers.")
        if isinstance(value, str):
            if not value.strip().isdigit():
                raise bad_request("bad_photo_ids", f"Photo ids must be whole numbers, not {value[:40]!r}.")
            value = int(value.strip())
        if value not in seen:
            seen.add(value)
            ids.append(value)
    return ids


@bp.post("/api/download")
def download():
    raw = _ids_from_request()
    if len(raw) > MAX_PHOTOS:
        raise bad_request("too_many_photos", f"Download at most {MAX_PHOTOS} photos at once; {len(raw)} were asked for.")
    ids = _parse_ids(raw)
    if not ids:
        raise bad_request("no_photos", "Choose at least one photo to download.")
    index = state().index()
    rows = {int(r["id"]): r for r in index.photos(ids)} if index is not None else {}
    entries, missing = [], []
    for pid in ids:
        row = rows.get(pid)
        path = gallery_file(row["path"]) if row is not None else None
        if path is None:
            missing.append(pid)
        else:
            entries.append((row["path"], path))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise bad_request("unknown_photo", f"{'These photos are' if len(missing) > 1 else 'This photo is'} not in the gallery: {shown}.")
    response = Response(stream_zip(entries), mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = f"attachment; filename={ZIP_NAME}"
    response.headers["Cache-Control"] = "no-store"
    return response
