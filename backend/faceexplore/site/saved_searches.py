"""A visitor's saved search ("My photos"): reopened by its random link, it searches the gallery as
it is now and says which photos are new since the last visit.

Kept: the sample embeddings (or, for a confirmed answer, the confirmed faces' embeddings), when
it was made and expires (setting ``saved_search_days``), and the gallery paths of the photos
found at the last visit (paths, not ids: they stay the same across index rebuilds). Never the
photos, the selfie, a name or an address. The id is ``secrets.token_urlsafe(16)`` and is stored
only as its SHA-256, so the file alone opens no link. Deleted by the visitor, once expired (on the
next save), or by the retention purge.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

import numpy as np

from . import visitor_store
from .visitor_store import connect, from_blob, id_hash, to_blob

DAY_S = 24 * 3600


@dataclass(frozen=True)
class SavedSearch:
    embeddings: np.ndarray
    created: float
    expires: float
    last_visit: float
    seen: list[str]


def save(data_dir, embeddings: np.ndarray, seen_paths, days: float, now: float | None = None) -> str:
    """A new saved search; its id (the link's secret)."""
    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(16)
    dim, blob = to_blob(embeddings)
    with connect(data_dir) as db:
        db.execute("DELETE FROM saved_searches WHERE expires <= ?", (now,))
        db.execute(
            "INSERT INTO saved_searches (id_hash, created, expires, last_visit, dim, embeddings, seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (id_hash(sid), now, now + days * DAY_S, now, dim, blob, json.dumps(sorted(set(seen_paths)))),
        )
    return sid


def load(data_dir, sid: str, now: float | None = None) -> SavedSearch | None:
    """The saved search of this id; None when unknown, expired or deleted."""
    if not visitor_store.exists(data_dir) or not sid:
        return None
    now = time.time() if now is None else now
    with connect(data_dir) as db:
        row = db.execute(
            "SELECT dim, embeddings, created, expires, last_visit, seen FROM saved_searches WHERE id_hash = ? AND expires > ?",
            (id_hash(sid), now),
        ).fetchone()
    if row is None:
        return None
    return SavedSearch(from_blob(row[0], row[1]), row[2], row[3], row[4], json.loads(row[5]))


def visited(data_dir, sid: str, seen_paths, now: float | None = None) -> None:
    """The photos the visitor was just shown, for the next visit's "new since"."""
    now = time.time() if now is None else now
    with connect(data_dir) as db:
        db.execute(
            "UPDATE saved_searches SET last_visit = ?, seen = ? WHERE id_hash = ?", (now, json.dumps(sorted(set(seen_paths))), id_hash(sid))
        )


def delete(data_dir, sid: str) -> bool:
    if not visitor_store.exists(data_dir) or not sid:
        return False
    with connect(data_dir) as db:
        return db.execute("DELETE FROM saved_searches WHERE id_hash = ?", (id_hash(sid),)).rowcount > 0
