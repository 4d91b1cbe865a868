"""A visitor's own choices after a found (or confirmed) search, and the organiser's view of them.

- "Remove me": POST /api/removals with the answer's ``removal_token`` (site/removals.py); the
  organiser lists them (GET /api/removals) and undoes, confirms or refuses them.
- "My photos": POST /api/saved with the answer's ``save_token`` keeps the search under a random
  link (site/saved_searches.py); GET /api/saved/<id> runs it again over the gallery as it is now, with
  the photos new since the last visit; DELETE forgets it.

The search's answer carries both tokens (web/search/actions.py seals them; they are opened
here). Once the retention purge ran (index/retention.py), each of these, like the search, answers 410
``search_closed``.
"""

from __future__ import annotations

import time

import numpy as np
from flask import request
from flask_openapi3 import APIBlueprint

from faceexplore.search.service import SearchInputError
from faceexplore.site import removals, saved_searches

from ..core.errors import ApiError, error_responses, not_found
from ..core.models import (
    ActionTokenRequest,
    NewSince,
    Removal,
    RemovalAccepted,
    RemovalPath,
    Removals,
    SavedDeleted,
    SavedLink,
    SavedPath,
    SavedSearchResponse,
)
from ..core.serialize import json_response
from ..core.state import state
from ..core.tokens import REMOVAL, SAVE, InvalidToken
from ..search.actions import UNREADABLE, open_action_token, require_open, unpack
from ..search.results import search_response, visible_person_id
from ..session.routes import ORGANISER_CHANGE, ORGANISER_ONLY, require_organiser, require_organiser_change

bp = APIBlueprint("visitor", __name__)

CLOSED = {410: "search_closed: the retention has passed; the search for this event has closed"}
TOKEN_ERRORS = {
    400: "invalid_token (missing, malformed or forged)",
    410: "expired_token: the search is too old or the gallery was indexed again: search again; search_closed",
    503: "not_indexed",
}
ORGANISER = {401: "login_required: for the organiser only"}
CHANGE = {**ORGANISER, 403: "csrf_failed: the X-CSRF-Token header is missing or wrong"}


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _origin() -> str:
    return f"web:{request.remote_addr or '?'}"


def _invalid() -> ApiError:
    return ApiError(400, "invalid_token", UNREADABLE)


# -- "Remove me" -------------------------------------------------------------------------------
@bp.post(
    "/api/removals",
    operation_id="removeMe",
    summary='"Remove me": the visitor of a found search is taken out of the gallery for visitors',
    description="From then on a search answers for them as for someone absent, and their photos leave every answer and "
    "download. With setting removal = review the organiser then confirms or refuses it (hidden meanwhile).",
    responses={200: RemovalAccepted, **error_responses(TOKEN_ERRORS)},
)
def remove_me(body: ActionTokenRequest):
    require_open()
    st = state()
    st.require_index()
    data = open_action_token(REMOVAL, body.token)
    try:
        samples = unpack(data.get("s"))
        matched = unpack(data["m"]) if data.get("m") is not None else np.zeros((0, samples.shape[1]), np.float32)
    except (InvalidToken, ValueError, TypeError):
        raise _invalid() from None
    review = st.settings.removal == "review"
    removal = removals.add(st.settings.data_dir, samples, matched, _origin(), review)
    message = (
        "Your photos are hidden from visitors now; the organiser will confirm the removal."
        if review
        else "You have been removed: searches no longer find you, and your photos are no longer shown."
    )
    return json_response(RemovalAccepted(status=removal.status, message=message))


def removal_model(r: removals.Removal) -> Removal:
    return Removal(id=r.id, at=_iso(r.created), changed_at=_iso(r.changed), status=r.status, description=r.description)


@bp.get(
    "/api/removals",
    operation_id="listRemovals",
    summary="Visitors' removals, newest first (organiser)",
    responses={200: Removals, **error_responses(ORGANISER)},
    security=ORGANISER_ONLY,
)
def list_removals():
    require_organiser()
    return json_response(Removals(removals=[removal_model(r) for r in removals.listing(state().settings.data_dir)]))


def _change(removal_id: int, action: str):
    require_organiser_change()
    try:
        changed = removals.change(state().settings.data_dir, removal_id, action, _origin())
    except removals.RemovalError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return json_response(removal_model(changed))


_CHANGE_ERRORS = error_responses({**CHANGE, 404: "not_found", 409: "bad_removal_state: not in a state this action changes"})


@bp.post(
    "/api/removals/<removal_id>/undo",
    operation_id="undoRemoval",
    summary="Undo a removal made by mistake: the visitor is shown again (organiser)",
    responses={200: Removal, **_CHANGE_ERRORS},
    security=ORGANISER_CHANGE,
)
def undo_removal(path: RemovalPath):
    return _change(path.removal_id, "undo")


@bp.post(
    "/api/removals/<removal_id>/confirm",
    operation_id="confirmRemoval",
    summary="Confirm a removal waiting for review (setting removal = review; organiser)",
    responses={200: Removal, **_CHANGE_ERRORS},
    security=ORGANISER_CHANGE,
)
def confirm_removal(path: RemovalPath):
    return _change(path.removal_id, "confirm")


@bp.post(
    "/api/removals/<removal_id>/refuse",
    operation_id="refuseRemoval",
    summary="Refuse a removal waiting for review: the person is shown again (organiser)",
    responses={200: Removal, **_CHANGE_ERRORS},
    security=ORGANISER_CHANGE,
)
def refuse_removal(path: RemovalPath):
    return _change(path.removal_id, "refuse")


# -- "My photos" -------------------------------------------------------------------------------
@bp.post(
    "/api/saved",
    operation_id="saveSearch",
    summary='Keep a found search under a random link ("My photos")',
    description="Only the sample embeddings (or the confirmed faces') are kept, for saved_search_days; never the photos.",
    responses={200: SavedLink, **error_responses(TOKEN_ERRORS)},
)
def save_search(body: ActionTokenRequest):
    require_open()
    st = state()
    index = st.require_index()
    data = open_action_token(SAVE, body.token)
    try:
        samples = unpack(data.get("s"))
    except (InvalidToken, ValueError, TypeError):
        raise _invalid() from None
    ids = [i for i in data.get("p") or [] if isinstance(i, int)]
    seen = [p.path for p in index.photo_infos(ids).values()]
    days = st.settings.saved_search_days
    sid = saved_searches.save(st.settings.data_dir, samples, seen, days)
    return json_response(SavedLink(id=sid, url=f"/me/{sid}", expires_at=_iso(time.time() + days * 86400)))


_SAVED_ERRORS = {404: "not_found: no such saved search (unknown, expired or deleted)"}


@bp.get(
    "/api/saved/<saved_id>",
    operation_id="openSavedSearch",
    summary="A saved search run again over the gallery as it is now, with the photos new since the last visit",
    description="Whoever holds the link opens it. Each visit becomes the next one's last visit.",
    responses={200: SavedSearchResponse, **error_responses({**_SAVED_ERRORS, **CLOSED, 503: "not_indexed, model_mismatch"})},
)
def open_saved(path: SavedPath):
    require_open()
    st = state()
    saved = saved_searches.load(st.settings.data_dir, path.saved_id)
    if saved is None:
        raise not_found("This link is unknown, has expired or was deleted.")
    try:
        with st.search_lock:
            outcome = st.service().search_analysed([], list(saved.embeddings), st.settings.false_alarm_rate)
    except SearchInputError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    answer = search_response(outcome, visible_person_id(outcome.person_id), samples=saved.embeddings)
    seen = set(saved.seen)
    new = [p.id for p in answer.photos if p.path not in seen]
    saved_searches.visited(st.settings.data_dir, path.saved_id, [p.path for p in answer.photos])
    return json_response(
        SavedSearchResponse(
            **answer.model_dump(),
            new_since=NewSince(count=len(new), photo_ids=new),
            last_visit_at=_iso(saved.last_visit),
            expires_at=_iso(saved.expires),
        )
    )


@bp.delete(
    "/api/saved/<saved_id>",
    operation_id="deleteSavedSearch",
    summary="Forget a saved search",
    responses={200: SavedDeleted, **error_responses(_SAVED_ERRORS)},
)
def delete_saved(path: SavedPath):
    if not saved_searches.delete(state().settings.data_dir, path.saved_id):
        raise not_found("This link is unknown, has expired or was deleted.")
    return json_response(SavedDeleted(deleted=True))
