"""A visitor's "Remove me": their face taken out of the gallery for visitors.

A removal is kept as embeddings (the visitor's sample faces and the gallery faces their answer
matched or confirmed), never as face or photo ids: search/withheld.py withholds every face whose score
against them (mean distance, as against a hidden person's faces) is under the search's accept
threshold, and every face with exactly one of the matched embeddings. So a removal holds across
re-indexing (new face ids), re-clustering, and new photos of the person.

Statuses: ``active`` (withheld), ``pending_review`` (withheld while the organiser decides, with
setting ``removal = "review"``), ``refused`` and ``undone`` (lifted). The organiser undoes,
confirms or refuses from the History or with ``faceexplore removals``. Every change is audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import audit, visitor_store
from .visitor_store import connect, from_blob, to_blob

WITHHELD_STATUSES = ("active", "pending_review")
STATUSES = ("active", "pending_review", "refused", "undone")


class RemovalError(ValueError):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Removal:
    id: int
    created: float
    changed: float
    status: str
    origin: str
    faces: int  # embeddings kept (0 once purged)

    @property
    def description(self) -> str:
        return f"a visitor asked to be removed ({self.faces} face embedding{'s' if self.faces != 1 else ''})"


@dataclass(frozen=True)
class RemovedPeople:
    """The withheld removals' embeddings: ``X`` (n, dim), ``group`` the removal of each row,
    ``exact`` whether a row is a matched gallery face (withheld at distance ~0)."""

    X: np.ndarray
    group: np.ndarray
    exact: np.ndarray

    def __len__(self) -> int:
        return len(self.X)


def _row(r) -> Removal:
    return Removal(int(r[0]), float(r[1]), float(r[2]), r[3], r[4], len(r[5]) // (4 * r[6]) if r[6] else 0)


_COLUMNS = "id, created, changed, status, origin, embeddings, dim"


def add(data_dir, samples: np.ndarray, matched: np.ndarray, origin: str, review: bool) -> Removal:
    """Record a removal of the person of ``samples`` (their sample embeddings) and ``matched``
    (the embeddings of the gallery faces their answer showed)."""
    samples = np.asarray(samples, np.float32).reshape(len(samples), -1)
    matched = np.asarray(matched, np.float32).reshape(len(matched), -1) if len(matched) else np.zeros((0, samples.shape[1]), np.float32)
    dim, blob = to_blob(np.concatenate([samples, matched]))
    now = time.time()
    status = "pending_review" if review else "active"
    with connect(data_dir) as db:
        rid = db.execute(
            "INSERT INTO removals (created, changed, status, origin, dim, embeddings, exact) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now, now, status, origin, dim, blob, len(matched)),
        ).lastrowid
    removal = get(data_dir, rid)
    audit.record(data_dir, "removal", {"removal": rid, "status": status}, origin)
    return removal


def get(data_dir, removal_id: int) -> Removal | None:
    with connect(data_dir) as db:
        r = db.execute(f"SELECT {_COLUMNS} FROM removals WHERE id = ?", (int(removal_id),)).fetchone()
    return _row(r) if r else None


def listing(data_dir) -> list[Removal]:
    """Every removal, newest first (none without the site file: nothing is created)."""
    if not visitor_store.exists(data_dir):
        return []
    with connect(data_dir) as db:
        return [_row(r) for r in db.execute(f"SELECT {_COLUMNS} FROM removals ORDER BY id DESC")]


# What each organiser action may change: from -> to
_ACTIONS = {
    "undo": ({"active", "pending_review"}, "undone"),
    "confirm": ({"pending_review"}, "active"),
    "refuse": ({"pending_review"}, "refused"),
}
_DONE = {"undo": "undone", "confirm": "confirmed", "refuse": "refused"}


def change(data_dir, removal_id: int, action: str, origin: str) -> Removal:
    """The organiser undoes (a mistake), confirms or refuses (review mode) a removal."""
    allowed, to = _ACTIONS[action]
    with connect(data_dir) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            r = db.execute("SELECT status FROM removals WHERE id = ?", (int(removal_id),)).fetchone()
            if r is None:
                raise RemovalError("not_found", f"There is no removal {removal_id}.", 404)
            if r[0] not in allowed:
                state = r[0].replace("_", " ")
                raise RemovalError("bad_removal_state", f"Removal {removal_id} is {state}: it cannot be {_DONE[action]}.", 409)
            db.execute("UPDATE removals SET status = ?, changed = ? WHERE id = ?", (to, time.time(), int(removal_id)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    audit.record(data_dir, f"removal {action}", {"removal": int(removal_id), "status": to}, origin)
    return get(data_dir, removal_id)


def version(data_dir) -> str:
    """Changes whenever the withheld removals may have: part of withheld's cache key."""
    if not visitor_store.exists(data_dir):
        return "0"
    with connect(data_dir) as db:
        n, changed = db.execute("SELECT count(*), coalesce(max(changed), 0) FROM removals").fetchone()
    return f"{n}:{changed!r}"


def removed_people(data_dir, dim: int | None = None) -> RemovedPeople:
    """The embeddings of the removals that withhold (active and pending review)."""
    empty = RemovedPeople(np.zeros((0, dim or 0), np.float32), np.zeros(0, np.int64), np.zeros(0, bool))
    if not visitor_store.exists(data_dir):
        return empty
    with connect(data_dir) as db:
        rows = db.execute(
            f"SELECT id, dim, embeddings, exact FROM removals WHERE status IN {WITHHELD_STATUSES!r} AND length(embeddings) > 0 ORDER BY id"
        ).fetchall()
    parts, groups, exact = [], [], []
    for rid, rdim, blob, n_exact in rows:
        X = from_blob(rdim, blob)
        if dim is not None and rdim != dim:
            continue  # another model's embeddings: nothing to compare with
        parts.append(X)
        groups.append(np.full(len(X), rid, np.int64))
        exact.append(np.arange(len(X)) >= len(X) - n_exact)
    if not parts:
        return empty
    return RemovedPeople(np.concatenate(parts), np.concatenate(groups), np.concatenate(exact))


def erase_embeddings(db) -> int:
    """Inside the purge: every removal's embeddings dropped (the rows, with their status, stay)."""
    return db.execute("UPDATE removals SET embeddings = X'', exact = 0 WHERE length(embeddings) > 0").rowcount
