""" "Is one of these you?": the people a search came close to, and POST /api/search/confirm.

When a search finds no one, the people whose score lies inside the calibrated "maybe" band
(setting ``candidate_rate``) are offered by their clearest face; when it finds someone, the
people of the band who are likely the same person split off are offered as "also you". Each
offer carries an opaque token (tokens.py: encrypted with a key from the app's secret key, bound to
the index file), short-lived (``candidate_token_lifetime``) and bound to its search: a random
search id, the person and the photos confirming may return. A visitor sees no names, counts or
ids, and can confirm only what a search of theirs offered, against the index it was offered from.
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint

from faceexplore.search.service import SearchInputError

from ..core.errors import ApiError, error_responses
from ..core.models import ConfirmRequest, SearchResponse
from ..core.serialize import json_response
from ..core.state import state
from ..core.tokens import CANDIDATE, ExpiredToken, InvalidToken, open_for_app
from .actions import require_open
from .results import search_response, visible_person_id

bp = APIBlueprint("candidates", __name__)


def _read(token: str) -> dict:
    lifetime = state().settings.candidate_token_lifetime
    try:
        data = open_for_app(CANDIDATE, token, max_age=lifetime)
    except ExpiredToken:  # too old, or offered from an index file since replaced
        raise ApiError(410, "expired_token", "This choice has expired. Search again with your photo.") from None
    except InvalidToken:
        raise ApiError(400, "invalid_token", "This choice cannot be read. Search again with your photo.") from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or not isinstance(data.get("ph"), list):
        raise ApiError(400, "invalid_token", "This choice cannot be read. Search again with your photo.")
    return data


@bp.post(
    "/api/search/confirm",
    operation_id="confirmCandidate",
    summary="The visitor recognised themselves among a search's candidates: that person's photos",
    description="Answers what a search that found the person answers. A person hidden since is answered as not found.",
    responses={
        200: SearchResponse,
        **error_responses(
            {
                400: "invalid_token (missing, malformed or forged)",
                410: "expired_token: the search is too old; search again; search_closed: the retention has passed",
                503: "not_indexed, model_mismatch",
            }
        ),
    },
)
def confirm(body: ConfirmRequest):
    require_open()
    data = _read(body.token)
    confidence = data.get("c") if isinstance(data.get("c"), (int, float)) else 0.0
    near = [int(i) for i in data.get("n") or [] if isinstance(i, int)]
    st = state()
    try:
        with st.search_lock:
            outcome = st.service().confirmed(data["p"], [i for i in data["ph"] if isinstance(i, int)], float(confidence), near)
    except SearchInputError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return json_response(search_response(outcome, visible_person_id(outcome.person_id)))
