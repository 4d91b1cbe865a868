"""Retention: past setting ``retention_days``, the biometric data goes and the search closes.

The clock starts at the data folder's first index: the earliest ``indexed_at`` of the index's
photos, recorded (key ``started`` of the ``retention`` table in site.sqlite3, visitor_store.py) the
first time the clock is read, so deleting and rebuilding the index does not restart it.

``purge`` erases every face's embedding (the faces' rows, then VACUUM: the bytes leave the
index file), the face crop and thumbnail caches, people's names (and the corrections, which name
them), visitors' saved searches and the removals' embeddings; the gallery's photos are never
touched. It records a ``purged`` marker: from then on ``/api/status`` says ``search_closed``,
``/api/search`` answers 410 ``search_closed``, and ``faceexplore index`` / ``watch`` index nothing
more. ``faceexplore purge`` runs it once past the retention (``--now``: at once); the live watcher
checks once a day.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..site import audit, removals, visitor_store
from .locking import writer_lock
from .store import FaceIndex

DAY_S = 24 * 3600
CLOSED_MESSAGE = "The search for this event has closed."


@dataclass(frozen=True)
class PurgeReport:
    faces: int  # face embeddings erased
    names: int  # people whose name was erased (every centroid goes too)
    saved_searches: int
    removals: int  # removals whose embeddings were erased
    cache_files: int  # face crops and thumbnails deleted
    at: float

    def lines(self) -> list[str]:
        return [
            f"{self.faces} face embeddings erased (the index file was compacted: VACUUM)",
            f"{self.names} people's names erased",
            f"{self.saved_searches} saved searches erased",
            f"{self.removals} removals' embeddings erased",
            f"{self.cache_files} face crops and thumbnails deleted",
            "the gallery's photos were not touched; the search is closed",
        ]


def _get(data_dir, key: str) -> str | None:
    if not visitor_store.exists(data_dir):
        return None
    with visitor_store.connect(data_dir) as db:
        row = db.execute("SELECT value FROM retention WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def purged(data_dir) -> dict | None:
    """The purge's record, once the data folder was purged (the search is closed)."""
    value = _get(data_dir, "purged")
    return json.loads(value) if value else None


def started(settings) -> float | None:
    """When the retention clock started (the first index), recording it on first read; None
    while nothing was ever indexed."""
    value = _get(settings.data_dir, "started")
    if value is not None:
        return float(value)
    if not Path(settings.index_path).is_file():
        return None
    with FaceIndex(settings.index_path, readonly=True) as index:
        first = index.first_indexed_at()
    if first is None:
        return None
    with visitor_store.connect(settings.data_dir) as db:
        db.execute("INSERT OR IGNORE INTO retention (key, value) VALUES ('started', ?)", (repr(float(first)),))
        return float(db.execute("SELECT value FROM retention WHERE key = 'started'").fetchone()[0])


def due_at(settings) -> float | None:
    """When the retention ends; None without a retention or before the first index."""
    start = started(settings)
    if settings.retention_days is None or start is None:
        return None
    return start + settings.retention_days * DAY_S


def purge(settings, origin: str, lock: bool = True) -> PurgeReport:
    """Erase everything biometric now (see the module). ``lock``: take the index's writer lock
    (the watcher holds it already)."""
    data_dir = settings.data_dir
    erased = {"faces": 0, "names": 0}
    if Path(settings.index_path).is_file():
        started(settings)  # keep the clock's start: the index may be rebuilt after
        if lock:
            with writer_lock(settings.index_path, "purge"), FaceIndex(settings.index_path) as index:
                erased = index.erase_biometrics()
        else:
            with FaceIndex(settings.index_path) as index:
                erased = index.erase_biometrics()
    cache_files = 0
    cache_dir = Path(settings.cache_dir)
    if cache_dir.is_dir():
        for generation in cache_dir.iterdir():
            for kind in ("faces", "thumbnails"):
                folder = generation / kind if generation.is_dir() else None
                if folder is not None and folder.is_dir():
                    cache_files += sum(1 for f in folder.rglob("*") if f.is_file())
                    shutil.rmtree(folder, ignore_errors=True)
    now = time.time()
    with visitor_store.connect(data_dir) as db:
        db.execute("BEGIN IMMEDIATE")
        saved = db.execute("DELETE FROM saved_searches").rowcount
        erased_removals = removals.erase_embeddings(db)
        report = PurgeReport(erased["faces"], erased["names"], saved, erased_removals, cache_files, now)
        db.execute("INSERT OR REPLACE INTO retention (key, value) VALUES ('purged', ?)", (json.dumps(asdict(report)),))
        db.execute("COMMIT")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    audit.record(data_dir, "purge", asdict(report), origin)
    return report


def purge_if_due(settings, origin: str, lock: bool = True, now: float | None = None) -> PurgeReport | None:
    """The purge, when the retention has passed and it has not run yet."""
    due = due_at(settings)
    now = time.time() if now is None else now
    if due is None or now < due or purged(settings.data_dir):
        return None
    return purge(settings, origin, lock=lock)


def refuse_if_purged(settings) -> None:
    """Indexing after a purge would store embeddings again: refused."""
    if purged(settings.data_dir):
        raise ValueError(
            f"this data folder was purged (retention): {CLOSED_MESSAGE} Nothing more is indexed; use a new data folder for a new event"
        )
