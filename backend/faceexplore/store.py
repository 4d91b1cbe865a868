"""The face index: one SQLite database (WAL) holding photos, faces and the active clustering.

Every write is a transaction that leaves the index consistent, so a run killed at any instant
loses at most the photos it had not committed yet. Readers (the web API) see a clustering whole
or not at all: a new clustering is written under a new id and made active in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,          -- relative to the gallery, '/'-separated
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    status TEXT NOT NULL,               -- 'ok' or 'error'
    error TEXT,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    landmarks TEXT NOT NULL,            -- JSON [[x, y] * 5]
    probability REAL NOT NULL,
    flags TEXT NOT NULL DEFAULT '',     -- comma-separated: tiny, doubtful
    embedding BLOB NOT NULL,            -- float32, L2-normalised
    model TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS faces_photo ON faces(photo_id);
CREATE TABLE IF NOT EXISTS clusterings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    model TEXT NOT NULL,
    threshold REAL NOT NULL,
    method TEXT NOT NULL,
    details TEXT NOT NULL               -- JSON: the evidence behind the threshold
);
CREATE TABLE IF NOT EXISTS clusters (
    clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,
    cluster_id INTEGER NOT NULL,
    face_count INTEGER NOT NULL,
    photo_count INTEGER NOT NULL,
    cover_face_id INTEGER,
    quality TEXT NOT NULL DEFAULT '{}', -- JSON: cohesion, nearest cluster, purity, flags
    PRIMARY KEY (clustering_id, cluster_id)
);
CREATE TABLE IF NOT EXISTS memberships (
    clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,
    face_id INTEGER NOT NULL,
    cluster_id INTEGER NOT NULL,
    PRIMARY KEY (clustering_id, face_id)
);
CREATE INDEX IF NOT EXISTS memberships_cluster ON memberships(clustering_id, cluster_id);
"""


class ModelMismatch(RuntimeError):
    """The index holds embeddings of another model."""


def _drop_orphaned_wal(path: Path):
    """Remove the -wal and -shm files of an index file that was deleted (by hand, while a server
    still had it open, so they stayed behind): SQLite would apply that old write-ahead log to
    the new, empty file and fail with "disk I/O error". SQLite creates the main file before
    them and never deletes it, so without it they can only belong to a database that is gone."""
    if path.exists():
        return
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass
class PhotoRecord:
    path: str
    size: int
    mtime_ns: int
    width: int | None = None
    height: int | None = None
    status: str = "ok"
    error: str | None = None


@dataclass
class FaceRecord:
    box: tuple
    landmarks: list
    probability: float
    flags: list
    embedding: np.ndarray


class FaceIndex:
    """Access to one index database. Cheap to open; one per thread or process."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"no face index at {self.path}: run `faceexplore index` first")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _drop_orphaned_wal(self.path)
            self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.executescript(SCHEMA)
            self.set_meta_default("schema_version", str(SCHEMA_VERSION))

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self):
        """One atomic write: committed whole, or rolled back whole."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()

    @contextmanager
    def snapshot(self):
        """A consistent read: everything read inside sees one state of the database."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.rollback()

    # -- meta -------------------------------------------------------------------------------
    def meta(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value, db=None):
        (db or self.db).execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )
        if db is None:
            self.db.commit()

    def set_meta_default(self, key, value):
        self.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
        self.db.commit()

    # -- model ------------------------------------------------------------------------------
    def check_model(self, model: str, dim: int):
        """Bind the index to ``model``; refuse another model's embeddings."""
        current = self.meta("model")
        if current is None:
            with self.transaction() as db:
                self.set_meta("model", model, db)
                self.set_meta("embedding_dim", dim, db)
        elif current != model:
            raise ModelMismatch(
                f"this index holds faces embedded with {current!r}, not {model!r}; embeddings of "
                f"two models cannot be compared. Re-index into a new data folder (--data), or "
                f"delete {self.path} and run `faceexplore index` again with the model you want."
            )

    # -- photos -----------------------------------------------------------------------------
    def known_photos(self) -> dict[str, tuple[int, int, int]]:
        """path -> (id, size, mtime_ns) for every photo in the index."""
        return {r["path"]: (r["id"], r["size"], r["mtime_ns"]) for r in self.db.execute("SELECT id, path, size, mtime_ns FROM photos")}

    def remove_photos(self, paths) -> int:
        paths = list(paths)
        with self.transaction() as db:
            for i in range(0, len(paths), 500):
                chunk = paths[i : i + 500]
                db.execute(f"DELETE FROM photos WHERE path IN ({','.join('?' * len(chunk))})", chunk)
            # searchers reload when last_indexed changes: removed faces must leave them too
            self.set_meta("last_indexed", time.time(), db)
        return len(paths)

    def add_photos(self, items, model: str):
        """Store photos with their faces, in one transaction: ``items`` is a list of
        ``(PhotoRecord, [FaceRecord, ...])``. A photo already indexed under the same path is
        replaced (it changed on disk)."""
        now = time.time()
        with self.transaction() as db:
            for photo, faces in items:
                db.execute("DELETE FROM photos WHERE path = ?", (photo.path,))
                cur = db.execute(
                    "INSERT INTO photos(path, size, mtime_ns, width, height, status, error, indexed_at) VALUES (?,?,?,?,?,?,?,?)",
                    (photo.path, photo.size, photo.mtime_ns, photo.width, photo.height, photo.status, photo.error, now),
                )
                photo_id = cur.lastrowid
                db.executemany(
                    "INSERT INTO faces(photo_id, x1, y1, x2, y2, landmarks, "
                    "probability, flags, embedding, model) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            photo_id,
                            *(float(v) for v in f.box),
                            json.dumps([[round(x, 2), round(y, 2)] for x, y in f.landmarks]),
                            float(f.probability),
                            ",".join(f.flags),
                            np.asarray(f.embedding, np.float32).tobytes(),
                            model,
                        )
                        for f in faces
                    ],
                )
            self.set_meta("last_indexed", now, db)

    def photo(self, photo_id: int):
        return self.db.execute("SELECT * FROM photos WHERE id = ?", (photo_id,)).fetchone()

    def photos(self, ids=None):
        if ids is None:
            return self.db.execute("SELECT * FROM photos ORDER BY path").fetchall()
        ids = list(ids)
        rows = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows += self.db.execute(f"SELECT * FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        return rows

    # -- faces ------------------------------------------------------------------------------
    def faces_of_photo(self, photo_id: int):
        return self.db.execute("SELECT * FROM faces WHERE photo_id = ? ORDER BY x1", (photo_id,)).fetchall()

    def face(self, face_id: int):
        return self.db.execute("SELECT * FROM faces WHERE id = ?", (face_id,)).fetchone()

    def embeddings(self):
        """All faces as arrays: ids, photo ids, embeddings (n, dim) float32, flags."""
        rows = self.db.execute("SELECT id, photo_id, embedding, flags FROM faces ORDER BY id").fetchall()
        dim = int(self.meta("embedding_dim", 0) or 0)
        ids = np.array([r[0] for r in rows], np.int64)
        photo_ids = np.array([r[1] for r in rows], np.int64)
        if rows:
            vectors = np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(len(rows), -1)
        else:
            vectors = np.zeros((0, dim), np.float32)
        flags = [r[3] for r in rows]
        return ids, photo_ids, vectors, flags

    # -- counts -----------------------------------------------------------------------------
    def counts(self) -> dict:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        active = self.active_clustering()
        return {
            "photos": one("SELECT COUNT(*) FROM photos"),
            "photos_ok": one("SELECT COUNT(*) FROM photos WHERE status = 'ok'"),
            "errors": one("SELECT COUNT(*) FROM photos WHERE status = 'error'"),
            "faces": one("SELECT COUNT(*) FROM faces"),
            "photos_with_faces": one("SELECT COUNT(DISTINCT photo_id) FROM faces"),
            "model": self.meta("model"),
            "last_indexed": float(self.meta("last_indexed", 0) or 0) or None,
            "people": (
                self.db.execute("SELECT COUNT(*) FROM clusters WHERE clustering_id = ?", (active["id"],)).fetchone()[0] if active else None
            ),
            "threshold": active["threshold"] if active else None,
            "threshold_method": active["method"] if active else None,
        }

    def errors(self):
        return self.db.execute("SELECT path, error FROM photos WHERE status = 'error' ORDER BY path").fetchall()

    # -- clustering -------------------------------------------------------------------------
    def active_clustering(self):
        row = self.db.execute(
            "SELECT c.* FROM clusterings c JOIN meta m ON m.key = 'active_clustering' AND CAST(m.value AS INTEGER) = c.id"
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["details"] = json.loads(out["details"])
        return out

    def save_clustering(self, face_ids, labels, threshold: float, method: str, details: dict, clusters: list[dict], model: str) -> int:
        """Store a clustering and make it the active one, atomically; older ones are dropped."""
        with self.transaction() as db:
            cid = db.execute(
                "INSERT INTO clusterings(created_at, model, threshold, method, details) VALUES (?,?,?,?,?)",
                (time.time(), model, float(threshold), method, json.dumps(details)),
            ).lastrowid
            db.executemany(
                "INSERT INTO memberships(clustering_id, face_id, cluster_id) VALUES (?,?,?)",
                [(cid, int(f), int(c)) for f, c in zip(face_ids, labels)],
            )
            db.executemany(
                "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) VALUES (?,?,?,?,?,?)",
                [
                    (cid, c["cluster_id"], c["face_count"], c["photo_count"], c["cover_face_id"], json.dumps(c.get("quality", {})))
                    for c in clusters
                ],
            )
            self.set_meta("active_clustering", cid, db)
            db.execute("DELETE FROM clusterings WHERE id != ?", (cid,))
        return cid
