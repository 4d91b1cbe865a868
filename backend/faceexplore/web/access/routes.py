"""The event's access code on the web (faceexplore/site/access_code.py keeps the code).

With ``search_access = "code"``, searching, confirming a candidate and downloading need an access
grant: a cookie this module signs (the app's secret key, itsdangerous) once a visitor has sent
the right code to POST /api/access; the page does that for the QR link ``/?code=CODE``. The
cookie is HttpOnly and SameSite=Lax (a QR link opened from a phone's camera app is a top-level
navigation from elsewhere, and the page's own requests then carry it), Secure over https. It
holds the code's generation and the id of that generation: a new code ends every earlier grant.
Without one those routes answer 401 ``access_required``; the logged-in organiser needs none.

Wrong codes are counted per client address across workers (access_code.begin_guess): past the
limit, 429 with Retry-After. nginx also limits /api/access per client (services/nginx.conf).

The organiser's routes show the code and its link, rotate it, and draw the QR poster.
"""

from __future__ import annotations

import math

from flask import current_app, request
from flask_openapi3 import APIBlueprint
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, Field

from faceexplore.site import access_code, audit

from ..core.errors import ApiError, error_responses
from ..core.models import ResponseModel
from ..core.serialize import json_response
from ..core.state import state
from ..session.routes import ORGANISER_CHANGE, ORGANISER_ONLY, is_organiser, require_organiser, require_organiser_change

bp = APIBlueprint("access", __name__)

GRANT_COOKIE = "faceexplore_access"
GRANT_LIFETIME_S = 30 * 24 * 3600  # longer than any event; a new code ends it sooner
# what needs a grant: the search, a candidate's confirmation, the downloads (all under these)
GATED_PREFIXES = ("/api/search", "/api/download")
ACCESS_REQUIRED = "access_required: with search_access = code, a visitor without an access grant (POST /api/access)"
ACCESS_MESSAGE = "Enter the event's access code first: it is on the event's posters, or open the link its QR code carries."


class AccessRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="the code as printed; case, spaces and dashes do not matter")


class AccessState(ResponseModel):
    required: bool = Field(description="a visitor needs the event's access code to search")
    granted: bool = Field(description="this browser may search (a grant, no code needed, or the organiser's)")
    event_name: str
    consent_text: str = Field(description="the notice a visitor accepts before the first search (remembered by the page only)")


class AccessCodeInfo(ResponseModel):
    required: bool = Field(description="visitors are asked for the code (search_access)")
    code: str
    link: str = Field(
        description="the site's address with the code: the QR poster's link", examples=["http://localhost:8765/?code=ACDEFGHJ"]
    )
    generation: int = Field(description="1 for the first code, one more for each new one")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="faceexplore-access-grant")


def required() -> bool:
    return access_code.mode(state().settings) == "code"


def has_grant() -> bool:
    raw = request.cookies.get(GRANT_COOKIE)
    code = access_code.read(state().settings.data_dir)
    if not raw or code is None:
        return False
    try:
        grant = _serializer().loads(raw, max_age=GRANT_LIFETIME_S)
    except BadSignature:  # SignatureExpired is one
        return False
    return isinstance(grant, dict) and grant.get("g") == code.generation and grant.get("i") == code.grant_id


def may_search() -> bool:
    return not required() or is_organiser() or has_grant()


@bp.before_app_request
def _require_grant():
    if request.method == "OPTIONS" or not request.path.startswith(GATED_PREFIXES):
        return
    if not may_search():
        raise ApiError(401, "access_required", ACCESS_MESSAGE)


def document_errors(path: str, operation: dict) -> None:
    """The 401 the gate answers, in the API document of each route it guards (app.py calls this)."""
    if path.startswith(GATED_PREFIXES):
        responses = operation.setdefault("responses", {})
        known = responses.get("401")
        if known is None:
            responses["401"] = error_responses({401: ACCESS_REQUIRED})[401]
        elif "access_required" not in known["description"]:
            known["description"] += f"; {ACCESS_REQUIRED}"


def _state(granted: bool | None = None) -> AccessState:
    settings = state().settings
    return AccessState(
        required=required(),
        granted=may_search() if granted is None else granted,
        event_name=settings.event_name,
        consent_text=settings.consent_text,
    )


@bp.get(
    "/api/access",
    operation_id="getAccess",
    summary="Whether this browser may search, and the notice to accept first",
    responses={200: AccessState},
)
def get_access():
    return json_response(_state())


@bp.post(
    "/api/access",
    operation_id="enterAccessCode",
    summary="Enter the event's access code: sets the access grant cookie",
    responses={
        200: AccessState,
        **error_responses(
            {
                400: "bad_request: no code in the body",
                403: "wrong_code: not the event's code",
                429: f"rate_limited: {access_code.GUESSES_PER_CLIENT} wrong codes from this address; Retry-After: seconds to wait",
            }
        ),
    },
)
def enter_code(body: AccessRequest):
    data_dir = state().settings.data_dir
    code = access_code.read(data_dir) if required() else None
    if code is None:  # no code asked for: nothing to check, nothing to count
        return json_response(_state())
    wait, guess = access_code.begin_guess(data_dir, request.remote_addr or "unknown")
    if guess is None:
        seconds = max(1, math.ceil(wait))
        minutes = math.ceil(seconds / 60)
        raise ApiError(429, "rate_limited", f"Too many wrong codes. Wait {minutes} minutes and try again.", {"Retry-After": str(seconds)})
    if not access_code.matches(code, body.code):
        raise ApiError(403, "wrong_code", "That is not the event's access code. Check it on the poster and try again.")
    access_code.guess_right(data_dir, guess)
    response = json_response(_state(granted=True))
    response.set_cookie(
        GRANT_COOKIE,
        _serializer().dumps({"g": code.generation, "i": code.grant_id}),
        max_age=GRANT_LIFETIME_S,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
        path="/",
    )
    return response


# -- the organiser's ------------------------------------------------------------------------
ORGANISER_ERRORS = {401: "login_required"}


def _info(code: access_code.AccessCode) -> AccessCodeInfo:
    link = access_code.site_link(request.host_url, code)
    return AccessCodeInfo(required=required(), code=code.code, link=link, generation=code.generation)


@bp.get(
    "/api/access-code",
    operation_id="getAccessCode",
    summary="The event's access code and its link (made now if there is none)",
    responses={200: AccessCodeInfo, **error_responses(ORGANISER_ERRORS)},
    security=ORGANISER_ONLY,
)
def get_access_code():
    require_organiser()
    return json_response(_info(access_code.ensure(state().settings.data_dir)))


@bp.post(
    "/api/access-code/rotate",
    operation_id="rotateAccessCode",
    summary="A new access code: every browser let in with the old one must enter the new one",
    responses={200: AccessCodeInfo, **error_responses({**ORGANISER_ERRORS, 403: "csrf_failed"})},
    security=ORGANISER_CHANGE,
)
def rotate_access_code():
    require_organiser_change()
    return json_response(_info(access_code.rotate(state().settings.data_dir, audit.web_origin(request.remote_addr))))


def _poster(kind: str):
    from . import poster

    require_organiser()
    settings = state().settings
    link = access_code.site_link(request.host_url, access_code.ensure(settings.data_dir))
    data = poster.pdf(settings.event_name, link) if kind == "pdf" else poster.png(settings.event_name, link)
    response = current_app.response_class(data, mimetype="application/pdf" if kind == "pdf" else "image/png")
    response.headers["Content-Disposition"] = f"inline; filename=faceexplore-poster.{kind}"
    return response


def _poster_response(mimetype: str) -> dict:
    return {
        "description": "the poster: the event's name, the QR code of the link, the code",
        "content": {mimetype: {"schema": {"type": "string", "format": "binary"}}},
    }


@bp.get(
    "/api/access-code/poster.png",
    operation_id="accessPosterPng",
    summary="The QR poster as a PNG",
    responses={200: _poster_response("image/png"), **error_responses(ORGANISER_ERRORS)},
    security=ORGANISER_ONLY,
)
def poster_png():
    return _poster("png")


@bp.get(
    "/api/access-code/poster.pdf",
    operation_id="accessPosterPdf",
    summary="The QR poster as a PDF (A4)",
    responses={200: _poster_response("application/pdf"), **error_responses(ORGANISER_ERRORS)},
    security=ORGANISER_ONLY,
)
def poster_pdf():
    return _poster("pdf")
