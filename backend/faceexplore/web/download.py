"""POST /api/download: the chosen photos as one zip, streamed as it is built (no file on disk).

Photos are stored uncompressed (JPEGs do not compress further), read in chunks and sent as soon
as each chunk is in the archive, so memory stays small whatever the number of photos.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile

from flask import Response, request
from flask_openapi3 import APIBlueprint
from pydantic import ValidationError

from .errors import ApiError, bad_request, error_responses, request_error
from .files import gallery_file
from .links import require_downloadable
from .models import MAX_DOWNLOAD, DownloadRequest
from .state import state

bp = APIBlueprint("download", __name__)
log = logging.getLogger(__name__)

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


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY = {"schema": {"$ref": "#/components/schemas/DownloadRequest"}}
REQUEST_BODY = {"required": True, "content": {"application/json": _BODY, **{kind: _BODY for kind in FORM_TYPES}}}
ZIP_RESPONSE = {
    "description": f"{ZIP_NAME}, entries named by their path in the gallery",
    "headers": {"Content-Disposition": {"schema": {"type": "string"}, "example": f"attachment; filename={ZIP_NAME}"}},
    "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
}


def parse_download_request() -> DownloadRequest:
    """The photo ids from a JSON body or a form (the field repeated); 415 for another body."""
    if request.is_json:
        raw = request.get_json(silent=True)
    elif request.mimetype in FORM_TYPES or not request.mimetype:
        raw = {"photo_ids": request.form.getlist("photo_ids"), "token": request.form.get("token") or None}
    else:
        raise ApiError(415, "unsupported_media_type", "Send the photo ids as JSON or as a form.")
    try:
        return DownloadRequest.model_validate(raw)
    except ValidationError as exc:
        raise request_error(exc) from None


@bp.post(
    "/api/download",
    operation_id="downloadPhotos",
    summary=f"The chosen photos as one zip (at most {MAX_DOWNLOAD})",
    responses={
        200: ZIP_RESPONSE,
        **error_responses(
            {
                400: "no_photos, bad_photo_ids, unknown_photo, too_many_photos",
                403: "not_in_results: a visitor of a private gallery sent a photo their search did not return (or no token)",
                413: "too_large: the request is over the size limit",
                415: "unsupported_media_type: the body is neither JSON nor a form",
            }
        ),
    },
    openapi_extensions={"requestBody": REQUEST_BODY},
)
def download():
    wanted = parse_download_request()
    ids = list(dict.fromkeys(wanted.photo_ids))  # a repeated id once, in order
    require_downloadable(ids, wanted.token)
    index = state().index()
    photos = index.photo_infos(ids) if index is not None else {}
    entries, missing = [], []
    for pid in ids:
        photo = photos.get(pid)
        path = gallery_file(photo.path) if photo is not None else None
        if path is None:
            missing.append(pid)
        else:
            entries.append((photo.path, path))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise bad_request("unknown_photo", f"{'These photos are' if len(missing) > 1 else 'This photo is'} not in the gallery: {shown}.")
    response = Response(stream_zip(entries), mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = f"attachment; filename={ZIP_NAME}"
    response.headers["Cache-Control"] = "no-store"
    return response
