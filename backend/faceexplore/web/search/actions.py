"""What a found answer offers the visitor beyond its photos: its ``removal_token`` ("Remove me")
and ``save_token`` ("My photos"), and the retention's closing of the search.

Both tokens are sealed (core/tokens.py: AES-GCM, bound to the index file, at most
ACTION_TOKEN_MAX_AGE old) and carry what the action needs and nothing a visitor can read: the
sample embeddings (float16) and, for a removal, the matched faces' embeddings (so a rebuilt
index's new face ids do not matter), for a save the answer's photo ids (the first visit's
"seen"). web/visitor opens them.
"""

from __future__ import annotations

import base64

import numpy as np

from faceexplore.index import retention
from faceexplore.search.service import SearchOutcome

from ..core.errors import ApiError
from ..core.models import MAX_SAMPLES
from ..core.state import state
from ..core.tokens import REMOVAL, SAVE, ExpiredToken, InvalidToken, open_for_app, seal_for_app

ACTION_TOKEN_MAX_AGE = 24 * 3600  # a found answer's remove/save tokens: the rest of the visitor's day
MAX_MATCHED = 16  # matched faces' embeddings a removal token carries (the most confident)
MAX_PHOTOS = 5000  # photo ids a save token carries
UNREADABLE = "This token cannot be read. Search again with your photo."


def require_open() -> None:
    """410 once the retention purge ran (index/retention.py)."""
    if retention.purged(state().settings.data_dir):
        raise ApiError(410, "search_closed", retention.CLOSED_MESSAGE)


def pack(X) -> dict:
    X = np.asarray(X, np.float32).reshape(len(X), -1)
    return {"d": int(X.shape[1]), "x": base64.b64encode(X.astype(np.float16).tobytes()).decode()}


def unpack(packed) -> np.ndarray:
    """Embeddings as ``pack`` sealed them; InvalidToken when they are not."""
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
    removal = {"s": pack(samples), "m": pack(matched) if len(matched) else None}
    save = {"s": pack(samples), "p": [p.id for p in outcome.photos][:MAX_PHOTOS]}
    return {"removal_token": seal_for_app(REMOVAL, removal), "save_token": seal_for_app(SAVE, save)}


def open_action_token(purpose: str, token: str) -> dict:
    """A removal or save token's payload; 410 expired_token, 400 invalid_token."""
    try:
        data = open_for_app(purpose, token, max_age=ACTION_TOKEN_MAX_AGE)
    except ExpiredToken:
        raise ApiError(410, "expired_token", "This search is too old. Search again with your photo.") from None
    except InvalidToken:
        raise ApiError(400, "invalid_token", UNREADABLE) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_token", UNREADABLE)
    return data
