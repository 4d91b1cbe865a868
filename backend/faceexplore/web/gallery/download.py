"""POST /api/download: the chosen photos as one zip, streamed as it is built (no file on disk).

Photos are stored uncompressed (JPEGs do not compress further), read in chunks and sent as soon
as each chunk is in the archive, so memory stays small whatever the number of photos.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import zipfile

from flask import Response, request
from flask_openapi3 import APIBlueprint
from pydantic import ValidationError

from faceexplore.index.gallery import filesystem_path

from ..core.errors import ApiError, bad_request, error_responses, request_error
from ..core.models import (
    LINK_MAX_AGE_S,
    LINK_PART,
    MAX_DOWNLOAD,
    DownloadLink,
    DownloadLinkQuery,
    DownloadLinks,
    DownloadLinksRequest,
    DownloadRequest,
)
from ..core.serialize import json_response
from ..core.state import state
from ..core.tokens import DOWNLOAD_LINK, ExpiredToken, InvalidToken, open_for_app, seal_for_app
from ..session.routes import is_organiser
from .files import gallery_file
from .links import require_downloadable

bp = APIBlueprint("download", __name__)
log = logging.getLogger(__name__)

CHUNK = 256 * 1024
RATE_LIMITED = "rate_limited: too many downloads from this address (Retry-After: seconds to wait)"
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
        # the ids the schema allows, and the token, each a part: more is refused by the model (400)
        request.max_form_parts = MAX_DOWNLOAD + 2
        # a form's fields are text: digits are the whole numbers the schema's JSON form holds
        ids = [int(v) if (v := raw_id.strip()).isascii() and v.isdigit() else raw_id for raw_id in request.form.getlist("photo_ids")]
        raw = {"photo_ids": ids, "token": request.form.get("token") or None}
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
                413: f"too_large: the request is over the size limit; too_many_parts: a form of over {MAX_DOWNLOAD + 2} parts",
                415: "unsupported_media_type: the body is neither JSON nor a form",
                429: RATE_LIMITED,
            }
        ),
    },
    openapi_extensions={"requestBody": REQUEST_BODY},
)
def download():
    wanted = parse_download_request()
    ids = list(dict.fromkeys(wanted.photo_ids))  # a repeated id once, in order
    require_downloadable(ids, wanted.token)
    entries, missing = _gallery_entries(ids)
    if missing:
        raise _unknown_photos(missing)
    return _zip_response(entries, ZIP_NAME)


def _gallery_entries(ids):
    """(archive name, file) for each id in the gallery, and the ids that are not. To a visitor, a
    photo withheld because of a hidden person (faceexplore/search/withheld.py) is not in the gallery:
    POST /api/download and /api/download/links refuse it as an unknown photo, and a link (or a
    search's download token) handed out before the person was hidden leaves it out."""
    index = state().index()
    photos, withheld = {}, frozenset()
    if index is not None:
        with index.snapshot():
            photos = index.photo_infos(ids)
            withheld = state().withheld(index, is_organiser()).photos
    entries, missing = [], []
    for pid in ids:
        photo = photos.get(pid) if pid not in withheld else None
        path = gallery_file(filesystem_path(photo.path)) if photo is not None else None
        if path is None:
            missing.append(pid)
        else:
            entries.append((photo.path, path))
    return entries, missing


def _unknown_photos(missing) -> ApiError:
    shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
    return bad_request("unknown_photo", f"{'These photos are' if len(missing) > 1 else 'This photo is'} not in the gallery: {shown}.")


def _zip_response(entries, name: str):
    response = Response(stream_zip(entries), mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    response.headers["Cache-Control"] = "no-store"
    return response


# -- links: a download the browser saves to disk itself, with its own progress -------------------
def part_name(part: int, parts: int) -> str:
    return ZIP_NAME if parts == 1 else ZIP_NAME.replace(".zip", f"-part-{part}-of-{parts}.zip")


@bp.post(
    "/api/download/links",
    operation_id="downloadLinks",
    summary=f"Links that download the chosen photos as zips of at most {LINK_PART} photos each",
    description=(
        f"Each link is a GET the browser saves to disk itself (with its own progress), valid for {LINK_MAX_AGE_S // 60} "
        "minutes, and only while the gallery's index is the one it was made from. The photo ids are encrypted into the "
        "link; nothing is kept on the server."
    ),
    responses={
        200: DownloadLinks,
        **error_responses(
            {
                400: "no_photos, bad_photo_ids, unknown_photo, too_many_photos",
                403: "not_in_results: a visitor of a private gallery asked for a photo their search did not return (or no token)",
                413: "too_large",
                429: RATE_LIMITED,
            }
        ),
    },
)
def download_links(body: DownloadLinksRequest):
    ids = sorted(set(body.photo_ids))  # ascending: the link holds small gaps between ids
    require_downloadable(ids, body.token)
    _, missing = _gallery_entries(ids)
    if missing:
        raise _unknown_photos(missing)
    chunks = [ids[i : i + LINK_PART] for i in range(0, len(ids), LINK_PART)]
    links = []
    for k, chunk in enumerate(chunks, 1):
        gaps = [chunk[0]] + [b - a for a, b in zip(chunk, chunk[1:])]
        token = seal_for_app(DOWNLOAD_LINK, {"part": k, "parts": len(chunks), "gaps": gaps})
        links.append(DownloadLink(url=f"/api/download?token={token}", filename=part_name(k, len(chunks)), photos=len(chunk)))
    return json_response(DownloadLinks(links=links, expires_in=LINK_MAX_AGE_S))


@bp.get(
    "/api/download",
    operation_id="downloadByLink",
    summary="The zip a link from /api/download/links names",
    responses={200: ZIP_RESPONSE, **error_responses({400: "bad_link, expired_link", 429: RATE_LIMITED})},
)
def download_by_link(query: DownloadLinkQuery):
    try:
        payload = open_for_app(DOWNLOAD_LINK, query.token, max_age=LINK_MAX_AGE_S)
        part, parts, gaps = int(payload["part"]), int(payload["parts"]), [int(g) for g in payload["gaps"]]
    except ExpiredToken:  # over an hour old, or made for an index file since replaced (its ids name other photos)
        raise bad_request("expired_link", "This download link has expired. Start the download again from the page.") from None
    except (InvalidToken, KeyError, TypeError, ValueError):
        raise bad_request("bad_link", "This download link is not valid. Start the download again from the page.") from None
    entries, missing = _gallery_entries(list(itertools.accumulate(gaps)))
    if missing:  # removed from the gallery since the link was made
        log.info("download link: %d photo(s) no longer in the gallery, left out", len(missing))
    return _zip_response(entries, part_name(part, parts))
