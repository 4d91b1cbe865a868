"""A visitor's own choices after a found (or confirmed) search, and the organiser's view of them.

- "Remove me": POST /api/removals with the answer's ``removal_token`` (removals.py); the
  organiser lists them (GET /api/removals) and undoes, confirms or refuses them.
- "My photos": POST /api/saved with the answer's ``save_token`` keeps the search under a random
  link (saved_searches.py); GET /api/saved/<id> runs it again over the gallery as it is now, with
  the photos new since the last visit; DELETE forgets it.

Both tokens are sealed (tokens.py: AES-GCM, bound to the index file, at most ACTION_TOKEN_MAX_AGE
old) and carry what the action needs and nothing a visitor can read: the sample embeddings
(float16) and, for a removal, the matched faces' embeddings (so a rebuilt index's new face ids
do not matter), for a save the answer's photo ids (the first visit's "seen").

Once the retention purge ran (retention.py), each of these, like the search, answers 410
``search_closed``.
"""

from __future__ import annotations

import base64
import time

import numpy as np
from flask import request
from flask_openapi3 import APIBlueprint

from .. import removals, retention, saved_searches
from ..search_service import SearchInputError, SearchOutcome
from .errors import ApiError, error_responses, not_found
from .models import (
    MAX_SAMPLES,
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
from .serialize import json_response
from .session import ORGANISER_CHANGE, ORGANISER_ONLY, require_organiser, require_organiser_change
from .state import state
from .tokens import REMOVAL, SAVE, ExpiredToken, InvalidToken, open_for_app, seal_for_app

bp = APIBlueprint("visitor", __name__)

ACTION_TOKEN_MAX_AGE = 24 * 3600  # a found answer's remove/save tokens: the rest of the visitor's day
MAX_MATCHED = 16  # matched faces' embeddings a removal token carries (the most confident)
MAX_PHOTOS = 5000  # photo ids a save token carries

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


def require_open() -> None:
    """410 once the retention purge ran."""
    if retention.purged(state().settings.data_dir):
        raise ApiError(410, "search_closed", retention.CLOSED_MESSAGE)


# -- the tokens of a found answer ----------------------------------------------------------------
def _pack(X) -> dict:
    X = np.asarray(X, np.float32).reshape(len(X), -1)
    return {"d": int(X.shape[1]), "x": base64.b64encode(X.astype(np.float16).tobytes()).decode()}


def _unpack(packed) -> np.ndarray:
    if not isinstance(packed, dict) or not isinstance(packed.get("d"), int) or not isinstance(packed.get("x"), str):
        raise InvalidToken
    X = np.frombuffer(base64.b64decode(packed["x"]), np.float16).astype(np.float32)
    if packed["d"] <= 0 or len(X) % packed["d"]:
        raise InvalidToken
    X = X.reshape(-1, packed["d"])
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, 1e-12)  # unit length again after float16


def action_tokens(outcome: SearchOutcome, samples) -> dict:
    """``removal_token`` and ``save_token`` of an answer: null unless it found someone.
    ``samples``: the sample embeddings the search used (None for a confirmed candidate: then its
    confirmed faces stand for them)."""
    if not outcome.found or not outcome.photos:
        return {"removal_token": None, "save_token": None}
    index = state().index()
    best = sorted(outcome.photos, key=lambda p: -p.confidence)[:MAX_MATCHED]
    matched = index.face_embeddings([p.face_id for p in best]) if index is not None else np.zeros((0, 0), np.float32)
    if samples is None or not len(samples):
        samples = matched[:MAX_SAMPLES]
    if not len(samples):
        return {"removal_token": None, "save_token": None}
    samples = np.stack([np.asarray(s, np.float32) for s in samples])[:MAX_SAMPLES]
    removal = {"s": _pack(samples), "m": _pack(matched) if len(matched) else None}
    save = {"s": _pack(samples), "p": [p.id for p in outcome.photos][:MAX_PHOTOS]}
    return {"removal_token": seal_for_app(REMOVAL, removal), "save_token": seal_for_app(SAVE, save)}


def _open(purpose: str, token: str) -> dict:
    try:
        data = open_for_app(purpose, token, max_age=ACTION_TOKEN_MAX_AGE)
    except ExpiredToken:
        raise ApiError(410, "expired_token", "This search is too old. Search again with your photo.") from None
    except InvalidToken:
        raise ApiError(400, "invalid_token", "This token cannot be read. Search again with your photo.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_token", "This token cannot be read. Search again with your photo.")
    return data


def _invalid() -> ApiError:
    return ApiError(400, "invalid_token", "This token cannot be read. Search again with your photo.")


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
    data = _open(REMOVAL, body.token)
    try:
        samples = _unpack(data.get("s"))
        matched = _unpack(data["m"]) if data.get("m") is not None else np.zeros((0, samples.shape[1]), np.float32)
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
    data = _open(SAVE, body.token)
    try:
        samples = _unpack(data.get("s"))
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
    from .search import search_response, visible_person_id

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
