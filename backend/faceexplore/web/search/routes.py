"""POST /api/search: sample photos of a person in, that person's gallery photos out.

This module only reads the request (models.SearchForm) and serialises the search's typed result
(search/service.py: SearchOutcome); the search itself is ``SearchService``. The samples are read
into memory and analysed there: they are never written to disk or logged
(``app.InMemoryRequest`` keeps Werkzeug from spooling large uploads to a temporary file).
"""

from __future__ import annotations

from flask import request
from flask_openapi3 import APIBlueprint

from faceexplore.search.service import SearchInputError

from ..core.errors import UPLOAD_FIELD, ApiError, bad_request, error_responses
from ..core.models import SearchForm, SearchResponse
from ..core.serialize import json_response
from ..core.state import state
from ..gallery.upload import display_name
from .actions import require_open
from .results import search_response, visible_person_id

bp = APIBlueprint("search", __name__)

ERRORS = {
    400: "no_file, too_many_files, bad_face_choice, bad_false_alarm_rate",
    413: "too_large: the upload is over the size limit; too_many_parts: a form of over 1000 parts",
    415: "unsupported_media_type: the body is not multipart/form-data",
    429: "rate_limited: too many searches from this address (Retry-After: seconds to wait)",
    422: "not_an_image (a sample is not a readable image), too_large_image (a sample has too many pixels), no_face (no sample has a face), "
    "bad_face_choice (not one face choice per photo)",
    503: "not_indexed (the gallery has no index yet), model_mismatch (the index holds another model's faces)",
    410: "search_closed: the retention has passed and the faces were erased (faceexplore purge)",
}


def _display_name(filename: str | None, i: int) -> str:
    return display_name(filename) or f"photo {i + 1}"


def _samples(form: SearchForm) -> list[tuple[str, bytes]]:
    samples = []
    for upload in form.images:
        data = upload.read()
        if not upload.filename and not data:  # an empty file input
            continue
        samples.append((_display_name(upload.filename, len(samples)), data))
    return samples


def _false_alarm_rate(asked: float | None, server: float) -> float:
    """A visitor may make the search stricter than the server's setting, never looser: a higher
    rate than the server's is lowered to it."""
    return server if asked is None else min(asked, server)


@bp.before_request
def _multipart_only():
    request.environ[UPLOAD_FIELD] = "images"
    if request.mimetype and request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "Send the sample photos as multipart/form-data (form field 'images').")


@bp.post(
    "/api/search",
    operation_id="search",
    summary="Find a person's photos from 1 to 10 sample photos of them",
    description="The samples are analysed in memory and never stored. Several samples of one person are combined.",
    responses={200: SearchResponse, **error_responses(ERRORS)},
)
def search(form: SearchForm):
    require_open()
    samples = _samples(form)
    if not samples:
        raise bad_request("no_file", "Add at least one photo of the person (form field 'images').")
    if form.faces and len(form.faces) != len(samples):
        # well-formed, but not one per photo (which no schema of a form can say): 422
        raise ApiError(422, "bad_face_choice", f"Give one face choice per photo ({len(samples)}), or none at all; got {len(form.faces)}.")
    choices = form.faces or [None] * len(samples)
    st = state()
    try:
        with st.search_lock:
            service = st.service()
            reports, chosen = service.analyse_samples([(name, data, choice) for (name, data), choice in zip(samples, choices)])
            del samples
            outcome = service.search_analysed(reports, chosen, _false_alarm_rate(form.false_alarm_rate, st.settings.false_alarm_rate))
    except SearchInputError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return json_response(search_response(outcome, visible_person_id(outcome.person_id), samples=chosen))
