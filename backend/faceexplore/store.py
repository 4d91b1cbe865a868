"""The face index: one SQLite database (WAL) holding photos, faces and the active clustering.

Every write is a transaction that leaves the index consistent, so a run killed at any instant
loses at most the photos it had not committed yet. Readers (the web API) see a clustering whole
or not at all: a new clustering is written under a new id and made active in one transaction.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 2  # 2: people, corrections and the organiser's constraints

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

# -- people and the organiser's corrections (faceexplore/people.py writes them) ----------------
# A person id is a row of ``people``: clusters.cluster_id and memberships.cluster_id are person
# ids, AUTOINCREMENT so an id is never given twice. Names and hidden flags belong to the id, and
# `cluster` keeps the ids (and so the names) of the people it finds again. The constraint tables
# are what `cluster` honours: a pinned face stays with its person, a cannot-link pair is never
# joined, a rejected face ("not a face") is left out. Each row names the correction that made it.
PEOPLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    centroid BLOB                       -- float32 mean of its faces when last seen: finds it again
);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    clustering_id INTEGER,              -- the active clustering it changed
    kind TEXT NOT NULL,                 -- rename, hide, unhide, merge, move, reject
    description TEXT NOT NULL,
    payload TEXT NOT NULL,              -- JSON: what undo needs to restore
    undone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS face_pins (
    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL,
    grp TEXT NOT NULL,                  -- faces that came in together (one cluster, one move)
    correction_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS face_cannot_links (
    face_a INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,   -- face_a < face_b
    face_b INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    correction_id INTEGER NOT NULL,
    PRIMARY KEY (face_a, face_b, correction_id)
);
CREATE INDEX IF NOT EXISTS face_cannot_links_correction ON face_cannot_links(correction_id);
CREATE TABLE IF NOT EXISTS rejected_faces (
    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    correction_id INTEGER NOT NULL
);
"""


class ModelMismatch(RuntimeError):
    """The index holds embeddings of another model."""


class PeopleChanged(RuntimeError):
    """A correction changed the people while a clustering was computed from the old state."""


def _with_person_ids(quality: dict, person) -> dict:
    """A cluster's quality record with its nearest cluster named by person id."""
    if quality.get("nearest_cluster") is None:
        return quality
    return {**quality, "nearest_cluster": person(quality["nearest_cluster"])}


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


# -- what the read methods for the web API and search return ---------------------------------
# The largest id SQLite stores: a larger one (from a URL) matches nothing instead of overflowing.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    path: str  # relative to the gallery, '/'-separated
    width: int | None
    height: int | None


@dataclass(frozen=True)
class FaceInfo:
    id: int
    photo_id: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the photo's pixels
    probability: float


@dataclass(frozen=True)
class PhotoFaceInfo:
    """A face of a photo and its person in the active clustering (None: not clustered yet)."""

    face: FaceInfo
    person_id: int | None
    person_hidden: bool = False  # a hidden person: a visitor must not be shown who it is


@dataclass(frozen=True)
class PersonInfo:
    """A cluster of the active clustering."""

    id: int
    face_count: int
    photo_count: int
    cover_face_id: int | None
    flags: list[str]
    name: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class PersonPhoto:
    """A photo a person is in, with that person's face in it."""

    photo: PhotoInfo
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster of the active clustering with its quality record (cohesion, nearest cluster,
    purity, flags), for the cluster report."""

    id: int
    face_count: int
    photo_count: int
    cover_face_id: int | None
    quality: dict
    name: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class ClusteredFace:
    """A face of the active clustering with its photo's path and size."""

    id: int
    path: str
    width: int | None
    height: int | None
    box: tuple[float, float, float, float]
    person_id: int


@dataclass(frozen=True)
class FaceVectors:
    """Faces as arrays, for the live assignment (faceexplore/live/assignment.py): ids, photo
    ids, person ids (-1: none) and embeddings (n, dim) float32, in face id order."""

    ids: np.ndarray
    photo_ids: np.ndarray
    person_ids: np.ndarray
    X: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class LiveAssignmentCounts:
    """What the live assignment added to one clustering since `cluster` made it: faces joined
    to people, and people it started (each with one face at first)."""

    clustering_id: int | None = None
    joined: int = 0  # faces joined to people the clustering had
    new_people: int = 0  # people started
    new_people_faces: int = 0  # faces of the people started (a new person's later faces too)

    @property
    def assigned(self) -> int:
        return self.joined + self.new_people_faces


@dataclass(frozen=True)
class Page:
    total: int
    items: list


def _valid_id(value) -> bool:
    return 0 <= int(value) <= MAX_ID


_ACTIVE = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'active_clustering')"


def _photo_info(row) -> PhotoInfo:
    return PhotoInfo(int(row["id"]), row["path"], row["width"], row["height"])


def _box(row) -> tuple[float, float, float, float]:
    return (float(row["x1"]), float(row["y1"]), float(row["x2"]), float(row["y2"]))


def _person_info(row) -> PersonInfo:
    quality = json.loads(row["quality"] or "{}")
    cover = row["cover_face_id"]
    return PersonInfo(
        int(row["cluster_id"]),
        int(row["face_count"]),
        int(row["photo_count"]),
        None if cover is None else int(cover),
        list(quality.get("flags", [])),
        row["name"],
        bool(row["hidden"]),
    )


def _create_private(path: Path) -> None:
    """Create a new index file readable by its owner only (the faces of everyone in the
    gallery); SQLite gives its -wal and -shm files the database file's mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _casefold(value):
    return value.casefold() if isinstance(value, str) else value


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
            _create_private(self.path)
            self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA foreign_keys = ON")
        # name search ignores case beyond ASCII (SQLite's lower() stops there)
        self.db.create_function("casefold", 1, _casefold, deterministic=True)
        self._people_tables = False
        if not readonly:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.executescript(SCHEMA)
            self.set_meta_default("schema_version", "1")
            # this index file's identity: the thumbnail cache is kept per index (ids restart at 1 in a new one)
            self.set_meta_default("index_id", secrets.token_hex(8))
            self._migrate()

    def _migrate(self):
        """Bring an index of an older schema up to date, in one transaction each step."""
        self.db.executescript(PEOPLE_SCHEMA)  # CREATE ... IF NOT EXISTS: safe to run again
        if int(self.meta("schema_version", 1)) < 2:
            with self.transaction() as db:
                # the people of the clustering an older version made keep their cluster ids
                db.execute("INSERT OR IGNORE INTO people(id, created_at) SELECT DISTINCT cluster_id, ? FROM clusters", (time.time(),))
                self.set_meta("schema_version", 2, db)
        self._people_tables = True

    def has_people_tables(self) -> bool:
        """Whether the index has the people tables (a read-only index of an older version that
        no writer has opened since has not)."""
        if not self._people_tables:
            found = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'people'").fetchone()
            self._people_tables = found is not None
        return self._people_tables

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

    def face_ids(self) -> set[int]:
        return {int(r[0]) for r in self.db.execute("SELECT id FROM faces")}

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

    def errors(self) -> list[tuple[str, str]]:
        """(path, message) of every photo that could not be read, by path."""
        return [(r[0], r[1]) for r in self.db.execute("SELECT path, error FROM photos WHERE status = 'error' ORDER BY path")]

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

    def save_clustering(
        self,
        face_ids,
        labels,
        threshold: float,
        method: str,
        details: dict,
        clusters: list[dict],
        model: str,
        expected_people_version: str | None = None,
    ) -> int:
        """Store a clustering and make it the active one, atomically; older ones are dropped.

        ``labels`` (and each cluster's ``cluster_id``) are person ids; a negative label is a new
        person, given a fresh id from ``people`` here. ``expected_people_version``: the
        ``people_version`` the clustering was computed at; when a correction came in since,
        nothing is saved and ``PeopleChanged`` is raised (compute again)."""
        with self.transaction() as db:
            if expected_people_version is not None and self.meta("people_version", "0") != expected_people_version:
                raise PeopleChanged("the organiser corrected the people while they were being clustered")
            now = time.time()
            fresh = {}
            for label in dict.fromkeys(int(c) for c in labels):
                if label < 0:
                    fresh[label] = db.execute("INSERT INTO people(created_at) VALUES (?)", (now,)).lastrowid
            person = lambda label: fresh.get(int(label), int(label))  # noqa: E731
            db.executemany("INSERT OR IGNORE INTO people(id, created_at) VALUES (?, ?)", [(person(c["cluster_id"]), now) for c in clusters])
            db.executemany(
                "UPDATE people SET centroid = ? WHERE id = ?",
                [
                    (np.asarray(c["centroid"], np.float32).tobytes(), person(c["cluster_id"]))
                    for c in clusters
                    if c.get("centroid") is not None
                ],
            )
            cid = db.execute(
                "INSERT INTO clusterings(created_at, model, threshold, method, details) VALUES (?,?,?,?,?)",
                (now, model, float(threshold), method, json.dumps(details)),
            ).lastrowid
            db.executemany(
                "INSERT INTO memberships(clustering_id, face_id, cluster_id) VALUES (?,?,?)",
                [(cid, int(f), person(c)) for f, c in zip(face_ids, labels)],
            )
            db.executemany(
                "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) VALUES (?,?,?,?,?,?)",
                [
                    (
                        cid,
                        person(c["cluster_id"]),
                        c["face_count"],
                        c["photo_count"],
                        c["cover_face_id"],
                        json.dumps(_with_person_ids(c.get("quality", {}), person)),
                    )
                    for c in clusters
                ],
            )
            self.set_meta("active_clustering", cid, db)
            self.bump_people_version(db)
            db.execute("DELETE FROM clusterings WHERE id != ?", (cid,))
        return cid

    # -- live assignment (faceexplore/live/assignment.py) ------------------------------------
    def _face_vectors(self, sql: str, args=()) -> FaceVectors:
        rows = self.db.execute(sql, args).fetchall()
        dim = int(self.meta("embedding_dim", 0) or 0)
        X = np.frombuffer(b"".join(r[3] for r in rows), np.float32).reshape(len(rows), -1) if rows else np.zeros((0, dim), np.float32)
        return FaceVectors(
            np.array([r[0] for r in rows], np.int64),
            np.array([r[1] for r in rows], np.int64),
            np.array([-1 if r[2] is None else r[2] for r in rows], np.int64),
            X,
        )

    def clustered_vectors(self, clustering_id: int) -> FaceVectors:
        """The faces of a clustering with their person ids (memberships of faces gone with
        their photo are left out)."""
        return self._face_vectors(
            "SELECT f.id, f.photo_id, m.cluster_id, f.embedding FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = ? ORDER BY f.id",
            (int(clustering_id),),
        )

    def unclustered_vectors(self, clustering_id: int | None) -> FaceVectors:
        """The faces a clustering does not hold (indexed after it was made), rejected faces
        left out; person ids all -1."""
        rejected = "AND f.id NOT IN (SELECT face_id FROM rejected_faces)" if self.has_people_tables() else ""
        return self._face_vectors(
            "SELECT f.id, f.photo_id, NULL, f.embedding FROM faces f "
            f"WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.clustering_id = ? AND m.face_id = f.id) {rejected} ORDER BY f.id",
            (-1 if clustering_id is None else int(clustering_id),),
        )

    def refresh_cluster_counts(self, db, clustering_id: int, people) -> None:
        """Inside the caller's transaction: the face and photo counts of these people's clusters
        rows, counted again from their memberships (undo restores rows as they were before a
        correction, while the live assignment may have added faces since)."""
        db.executemany(
            "UPDATE clusters SET face_count = (SELECT COUNT(*) FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = clusters.clustering_id AND m.cluster_id = clusters.cluster_id), "
            "photo_count = (SELECT COUNT(DISTINCT f.photo_id) FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = clusters.clustering_id AND m.cluster_id = clusters.cluster_id) "
            "WHERE clustering_id = ? AND cluster_id = ?",
            [(int(clustering_id), int(p)) for p in people],
        )

    def live_assignment_counts(self) -> LiveAssignmentCounts:
        """What the live assignment added to the active clustering (zeros for one it never
        touched: a new clustering starts the count again)."""
        raw = json.loads(self.meta("live_assignment", "{}"))
        active = self.meta("active_clustering")
        if active is None or raw.get("clustering_id") != int(active):
            return LiveAssignmentCounts(None if active is None else int(active))
        return LiveAssignmentCounts(
            int(active), int(raw.get("joined", 0)), int(raw.get("new_people", 0)), int(raw.get("new_people_faces", 0))
        )

    def memberships_version(self) -> str:
        """Bumped by every live assignment: searchers reload when it changes. (Not
        ``people_version``: a background `cluster` started before would then refuse to save.)"""
        return self.meta("memberships_version", "0")

    def add_live_memberships(
        self,
        db,
        clustering_id: int,
        joined: dict[int, int],
        new_people: list[list[int]],
        centroids: dict[int, np.ndarray],
        new_centroids: list,
    ) -> list[int]:
        """Inside the caller's transaction ``db``: put faces into the clustering
        ``clustering_id``: ``joined`` (face id -> existing person id), and each list of face
        ids in ``new_people`` as a new person (a fresh id from ``people``; its clusters row has
        its first face as cover). Touched people's clusters rows get their counts again and
        their ``people.centroid`` the mean given (``centroids``; ``new_centroids`` for the new
        people, in order). Returns the new people's ids."""
        now = time.time()
        fresh = []
        for faces, centroid in zip(new_people, new_centroids):
            person = db.execute(
                "INSERT INTO people(created_at, centroid) VALUES (?, ?)", (now, np.asarray(centroid, np.float32).tobytes())
            ).lastrowid
            fresh.append(int(person))
            db.execute(
                "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) "
                "VALUES (?, ?, 0, 0, ?, ?)",
                (int(clustering_id), person, int(faces[0]), json.dumps({"flags": [], "live": True, "live_added": len(faces)})),
            )
        rows = [(int(clustering_id), int(f), int(p)) for f, p in joined.items()]
        rows += [(int(clustering_id), int(f), p) for faces, p in zip(new_people, fresh) for f in faces]
        db.executemany("INSERT INTO memberships(clustering_id, face_id, cluster_id) VALUES (?, ?, ?)", rows)
        added: dict[int, int] = {}
        for person in joined.values():
            added[int(person)] = added.get(int(person), 0) + 1
        for person, count in added.items():
            row = db.execute(
                "SELECT quality FROM clusters WHERE clustering_id = ? AND cluster_id = ?", (int(clustering_id), person)
            ).fetchone()
            quality = json.loads(row[0] or "{}") if row else {}
            quality["live_added"] = int(quality.get("live_added", 0)) + count
            db.execute(
                "UPDATE clusters SET quality = ? WHERE clustering_id = ? AND cluster_id = ?",
                (json.dumps(quality), int(clustering_id), person),
            )
        self.refresh_cluster_counts(db, clustering_id, [*added, *fresh])
        db.executemany(
            "UPDATE people SET centroid = ? WHERE id = ?", [(np.asarray(c, np.float32).tobytes(), int(p)) for p, c in centroids.items()]
        )
        counts = self.live_assignment_counts()
        self.set_meta(
            "live_assignment",
            json.dumps(
                {
                    "clustering_id": int(clustering_id),
                    "joined": counts.joined + len(joined),
                    "new_people": counts.new_people + len(fresh),
                    "new_people_faces": counts.new_people_faces + sum(len(faces) for faces in new_people),
                }
            ),
            db,
        )
        self.set_meta("memberships_version", int(self.memberships_version()) + 1, db)
        return fresh

    # -- people (the organiser's corrections write them: faceexplore/people.py) --------------
    def bump_people_version(self, db):
        """Searchers reload when this changes: a hidden person or a rejected face leaves search."""
        self.set_meta("people_version", int(self.meta("people_version", "0")) + 1, db)

    def people_version(self) -> str:
        return self.meta("people_version", "0")

    def constraints(self) -> tuple[dict[int, tuple[int, str]], list[tuple[int, int]], set[int]]:
        """What `cluster` honours: face id -> (person id it is pinned to, the group of faces it
        came into the person with), the cannot-link pairs of face ids, the rejected face ids."""
        if not self.has_people_tables():
            return {}, [], set()
        with self._consistent():
            pins = {int(f): (int(p), g) for f, p, g in self.db.execute("SELECT face_id, person_id, grp FROM face_pins")}
            pairs = [(int(a), int(b)) for a, b in self.db.execute("SELECT DISTINCT face_a, face_b FROM face_cannot_links")]
            rejected = {int(f) for (f,) in self.db.execute("SELECT face_id FROM rejected_faces")}
        return pins, pairs, rejected

    def kept_people(self) -> dict[int, np.ndarray]:
        """person id -> centroid of the people the organiser named or hid: `cluster` gives
        their ids back to the clusters that match them, even after their photos were gone."""
        if not self.has_people_tables():
            return {}
        rows = self.db.execute("SELECT id, centroid FROM people WHERE (name IS NOT NULL OR hidden) AND centroid IS NOT NULL")
        return {int(i): np.frombuffer(c, np.float32) for i, c in rows}

    def search_excluded_faces(self) -> set[int]:
        """Rejected faces and those of hidden people (the search leaves out more: withheld.py)."""
        if not self.has_people_tables():
            return set()
        rows = self.db.execute(
            "SELECT face_id FROM rejected_faces UNION SELECT m.face_id FROM memberships m "
            f"JOIN people p ON p.id = m.cluster_id AND p.hidden WHERE m.clustering_id = {_ACTIVE}"
        )
        return {int(f) for (f,) in rows}

    # -- what withheld.py reads: hidden people, their faces, the organiser's placements --------
    def hidden_face_vectors(self) -> FaceVectors:
        """The faces of hidden people in the active clustering (rejected ones left out), with
        their person ids."""
        if not self.has_people_tables():
            return self._face_vectors("SELECT id, photo_id, NULL, embedding FROM faces WHERE 0")
        return self._face_vectors(
            "SELECT f.id, f.photo_id, m.cluster_id, f.embedding FROM memberships m JOIN faces f ON f.id = m.face_id "
            f"JOIN people p ON p.id = m.cluster_id AND p.hidden WHERE m.clustering_id = {_ACTIVE} "
            "AND f.id NOT IN (SELECT face_id FROM rejected_faces) ORDER BY f.id"
        )

    def face_blocks(self, size: int, after: int = -1):
        """The faces of id over ``after`` as (ids, photo ids, embeddings float32), ``size`` faces
        at a time, in face id order: the whole index without holding it all in memory."""
        cursor = self.db.execute("SELECT id, photo_id, embedding FROM faces WHERE id > ? ORDER BY id", (int(after),))
        while rows := cursor.fetchmany(size):
            X = np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(len(rows), -1)
            yield np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64), X

    def placed_faces(self) -> set[int]:
        """Faces the organiser explicitly placed in a person who is not hidden (a move or merge
        pinned them there, and they are there in the active clustering)."""
        if not self.has_people_tables():
            return set()
        rows = self.db.execute(
            "SELECT pin.face_id FROM face_pins pin JOIN memberships m ON m.face_id = pin.face_id "
            f"AND m.clustering_id = {_ACTIVE} AND m.cluster_id = pin.person_id "
            "JOIN people p ON p.id = pin.person_id AND NOT p.hidden"
        )
        return {int(f) for (f,) in rows}

    def rejected_faces(self) -> set[int]:
        if not self.has_people_tables():
            return set()
        return {int(f) for (f,) in self.db.execute("SELECT face_id FROM rejected_faces")}

    def hidden_people(self) -> set[int]:
        if not self.has_people_tables():
            return set()
        return {int(p) for (p,) in self.db.execute("SELECT id FROM people WHERE hidden")}

    def people_all_of_whose_faces_are_among(self, face_ids) -> set[int]:
        """The people of the active clustering every face of whom is in ``face_ids``."""
        ids = json.dumps(sorted(int(f) for f in face_ids))
        rows = self.db.execute(
            "SELECT m.cluster_id FROM memberships m "
            f"WHERE m.clustering_id = {_ACTIVE} AND m.cluster_id IN (SELECT m2.cluster_id FROM memberships m2 "
            f"WHERE m2.clustering_id = {_ACTIVE} AND m2.face_id IN (SELECT value FROM json_each(?))) "
            "GROUP BY m.cluster_id HAVING SUM(m.face_id NOT IN (SELECT value FROM json_each(?))) = 0",
            (ids, ids),
        )
        return {int(p) for (p,) in rows}

    def active_people_count(self) -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM clusters WHERE clustering_id = {_ACTIVE}").fetchone()[0])

    def _person_columns(self) -> tuple[str, str]:
        """The name and hidden columns of a clusters row ``c`` and the join that gives them."""
        if self.has_people_tables():
            return "p.name AS name, p.hidden AS hidden", "LEFT JOIN people p ON p.id = c.cluster_id"
        return "NULL AS name, 0 AS hidden", ""

    # -- reads for the web API and search (typed results; no sqlite3.Row leaves the store) ---
    @contextmanager
    def _consistent(self):
        """One snapshot for several queries, unless the caller already holds one."""
        if self.db.in_transaction:
            yield
        else:
            with self.snapshot():
                yield

    def photo_info(self, photo_id: int) -> PhotoInfo | None:
        if not _valid_id(photo_id):
            return None
        row = self.db.execute("SELECT id, path, width, height FROM photos WHERE id = ?", (int(photo_id),)).fetchone()
        return _photo_info(row) if row is not None else None

    def photo_infos(self, ids) -> dict[int, PhotoInfo]:
        """id -> PhotoInfo for those of ``ids`` in the index."""
        ids = [int(i) for i in ids if _valid_id(i)]
        found = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.db.execute(f"SELECT id, path, width, height FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update((int(r["id"]), _photo_info(r)) for r in rows)
        return found

    def all_photo_paths(self) -> dict[int, str]:
        return {int(r[0]): r[1] for r in self.db.execute("SELECT id, path FROM photos ORDER BY path")}

    def face_info(self, face_id: int) -> FaceInfo | None:
        if not _valid_id(face_id):
            return None
        row = self.db.execute("SELECT id, photo_id, x1, y1, x2, y2, probability FROM faces WHERE id = ?", (int(face_id),)).fetchone()
        return None if row is None else FaceInfo(int(row["id"]), int(row["photo_id"]), _box(row), float(row["probability"]))

    def face_infos(self, face_ids) -> list[FaceInfo]:
        ids = [int(f) for f in face_ids if _valid_id(f)]
        out = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT id, photo_id, x1, y1, x2, y2, probability FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            out += [FaceInfo(int(r["id"]), int(r["photo_id"]), _box(r), float(r["probability"])) for r in rows]
        return out

    def faces_with_people(self, photo_id: int) -> list[PhotoFaceInfo]:
        """The faces of a photo, left to right, each with its person in the active clustering."""
        if not _valid_id(photo_id):
            return []
        hidden, join = ("p.hidden", "LEFT JOIN people p ON p.id = m.cluster_id") if self.has_people_tables() else ("0", "")
        rows = self.db.execute(
            f"SELECT f.id, f.photo_id, f.x1, f.y1, f.x2, f.y2, f.probability, m.cluster_id, {hidden} AS hidden FROM faces f "
            f"LEFT JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {_ACTIVE} {join} "
            "WHERE f.photo_id = ? ORDER BY f.x1, f.id",
            (int(photo_id),),
        ).fetchall()
        return [
            PhotoFaceInfo(
                FaceInfo(int(r["id"]), int(r["photo_id"]), _box(r), float(r["probability"])),
                None if r["cluster_id"] is None else int(r["cluster_id"]),
                bool(r["hidden"]),
            )
            for r in rows
        ]

    def active_memberships(self) -> dict[int, int]:
        """face id -> person (cluster) id in the active clustering."""
        rows = self.db.execute(f"SELECT face_id, cluster_id FROM memberships WHERE clustering_id = {_ACTIVE}")
        return {int(f): int(c) for f, c in rows}

    def people_page(self, limit: int, offset: int, include_hidden: bool = False, query: str | None = None, exclude=()) -> Page:
        """The people of the active clustering, most faces first: ``items`` are PersonInfo (with
        name and hidden flag). Hidden people only with ``include_hidden`` (the organiser's
        view); ``query``: only people whose name holds it, whatever the case; ``exclude``:
        person ids left out."""
        columns, join = self._person_columns()
        where = f"WHERE c.clustering_id = {_ACTIVE}"
        args: list = []
        if exclude:
            where += " AND c.cluster_id NOT IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(int(p) for p in exclude)))
        if not include_hidden and join:
            where += " AND NOT COALESCE(p.hidden, 0)"
        if query is not None and query.strip():
            if not join:  # no names yet: no one matches
                return Page(0, [])
            where += " AND instr(casefold(p.name), casefold(?)) > 0"
            args.append(query.strip())
        with self._consistent():
            total = self.db.execute(f"SELECT COUNT(*) FROM clusters c {join} {where}", args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT c.*, {columns} FROM clusters c {join} {where} "
                "ORDER BY c.face_count DESC, c.photo_count DESC, c.cluster_id LIMIT ? OFFSET ?",
                (*args, int(limit), int(offset)),
            ).fetchall()
        return Page(int(total), [_person_info(r) for r in rows])

    def person(self, person_id: int, include_hidden: bool = False) -> PersonInfo | None:
        """A person (cluster) of the active clustering, or None (also for a hidden person unless
        ``include_hidden``)."""
        if not _valid_id(person_id):
            return None
        columns, join = self._person_columns()
        row = self.db.execute(
            f"SELECT c.*, {columns} FROM clusters c {join} WHERE c.clustering_id = {_ACTIVE} AND c.cluster_id = ?", (int(person_id),)
        ).fetchone()
        if row is None or (row["hidden"] and not include_hidden):
            return None
        return _person_info(row)

    def person_photos(self, person_id: int, limit: int, offset: int, exclude=()) -> Page:
        """The photos a person is in, by path: ``items`` are PersonPhoto (box: their face);
        ``exclude``: photo ids left out."""
        if not _valid_id(person_id):
            return Page(0, [])
        where = (
            "FROM photos p JOIN faces f ON f.photo_id = p.id "
            f"JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {_ACTIVE} WHERE m.cluster_id = ?"
        )
        args: tuple = (int(person_id),)
        if exclude:
            where += " AND p.id NOT IN (SELECT value FROM json_each(?))"
            args += (json.dumps(sorted(int(p) for p in exclude)),)
        with self._consistent():
            total = self.db.execute(f"SELECT COUNT(DISTINCT p.id) {where}", args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT p.id, p.path, p.width, p.height, f.x1, f.y1, f.x2, f.y2 {where} GROUP BY p.id ORDER BY p.path LIMIT ? OFFSET ?",
                (*args, int(limit), int(offset)),
            ).fetchall()
        return Page(int(total), [PersonPhoto(_photo_info(r), _box(r)) for r in rows])

    def person_faces(self, person_id: int, limit: int, offset: int) -> Page:
        """A person's faces, by photo path then left to right: ``items`` are FaceInfo (for the
        organiser, who moves or rejects faces by id)."""
        if not _valid_id(person_id):
            return Page(0, [])
        where = (
            "FROM faces f JOIN photos p ON p.id = f.photo_id "
            f"JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {_ACTIVE} WHERE m.cluster_id = ?"
        )
        with self._consistent():
            total = self.db.execute(f"SELECT COUNT(*) {where}", (int(person_id),)).fetchone()[0]
            rows = self.db.execute(
                f"SELECT f.id, f.photo_id, f.x1, f.y1, f.x2, f.y2, f.probability {where} ORDER BY p.path, f.x1, f.id LIMIT ? OFFSET ?",
                (int(person_id), int(limit), int(offset)),
            ).fetchall()
        return Page(int(total), [FaceInfo(int(r["id"]), int(r["photo_id"]), _box(r), float(r["probability"])) for r in rows])

    def active_clusters(self) -> list[ClusterInfo]:
        """Every cluster of the active clustering, most faces first."""
        columns, join = self._person_columns()
        rows = self.db.execute(
            f"SELECT c.cluster_id, c.face_count, c.photo_count, c.cover_face_id, c.quality, {columns} FROM clusters c {join} "
            f"WHERE c.clustering_id = {_ACTIVE} ORDER BY c.face_count DESC, c.cluster_id"
        ).fetchall()
        return [
            ClusterInfo(
                int(r["cluster_id"]),
                int(r["face_count"]),
                int(r["photo_count"]),
                None if r["cover_face_id"] is None else int(r["cover_face_id"]),
                json.loads(r["quality"] or "{}"),
                r["name"],
                bool(r["hidden"]),
            )
            for r in rows
        ]

    def clustered_faces(self) -> list[ClusteredFace]:
        """Every face of the active clustering, with its photo's path and size."""
        rows = self.db.execute(
            "SELECT f.id, p.path, p.width, p.height, f.x1, f.y1, f.x2, f.y2, m.cluster_id FROM faces f "
            f"JOIN photos p ON p.id = f.photo_id JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {_ACTIVE}"
        ).fetchall()
        return [ClusteredFace(int(r["id"]), r["path"], r["width"], r["height"], _box(r), int(r["cluster_id"])) for r in rows]

    # -- issue 26: removals, saved searches and retention (removals.py, retention.py) ---------
    def face_embeddings(self, face_ids) -> np.ndarray:
        """The embeddings of these faces, in the order given (faces gone are left out)."""
        wanted = [int(f) for f in face_ids]
        if not wanted:
            return np.zeros((0, int(self.meta("embedding_dim", 0) or 0)), np.float32)
        rows = dict(self.db.execute(f"SELECT id, embedding FROM faces WHERE id IN ({','.join('?' * len(wanted))})", wanted).fetchall())
        return np.array([np.frombuffer(rows[f], np.float32) for f in wanted if f in rows], np.float32).reshape(
            -1, int(self.meta("embedding_dim", 0) or 0)
        )

    def erase_biometrics(self) -> dict:
        """Retention's purge: every face (and so every embedding), the clusterings, the people's
        names and centroids, and the corrections (their descriptions name people) are deleted;
        the photos' rows stay (the gallery is the organiser's). Then VACUUM and a truncating
        checkpoint, so the bytes leave the file and its WAL. Returns what was erased."""
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        erased = {"faces": one("SELECT COUNT(*) FROM faces")}
        with self.transaction() as db:
            erased["names"] = db.execute("UPDATE people SET name = NULL WHERE name IS NOT NULL").rowcount
            db.execute("UPDATE people SET centroid = NULL")  # a person's mean face is biometric too
            db.execute("DELETE FROM corrections")
            db.execute("DELETE FROM memberships")
            db.execute("DELETE FROM clusters")
            db.execute("DELETE FROM clusterings")
            db.execute("DELETE FROM meta WHERE key = 'active_clustering'")
            db.execute("DELETE FROM faces")  # cascades: pins, cannot-links, rejected faces
            self.bump_people_version(db)
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return erased
