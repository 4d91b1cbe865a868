"""The index's tables and their migrations, in one place: ``SCHEMA`` (photos, faces, clusterings,
memberships), ``PEOPLE_SCHEMA`` (people, corrections and the organiser's constraints), and
``migrate``, which brings an index of an older schema up to date."""

from __future__ import annotations

import time

SCHEMA_VERSION = 3  # 2: people, corrections and the organiser's constraints; 3: the review answers

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

# -- people and the organiser's corrections (people/corrections.py writes them) ----------------
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
    kind TEXT NOT NULL,                 -- rename, hide, unhide, merge, move, reject, apart
    description TEXT NOT NULL,
    payload TEXT NOT NULL,              -- JSON: what undo needs to restore
    undone INTEGER NOT NULL DEFAULT 0,
    who TEXT NOT NULL DEFAULT '',       -- "cli" or "organiser (web, <address>)"
    undone_with INTEGER                 -- the correction whose undo took this one back too
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


# -- the organiser's review queue (people/review.py; its SQL is review.py's) -------------------
# A question's id is derived from what it asks, so an answered or skipped one is not asked again
# while the faces it is about are the same.
REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_answers (
    question_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                 -- same_person, face_belongs, not_a_face
    answer TEXT NOT NULL,               -- yes, no, skip
    at REAL NOT NULL
);
"""


def migrate(index) -> None:
    """Bring an index of an older schema up to date, in one transaction each step."""
    index.db.executescript(PEOPLE_SCHEMA)  # CREATE ... IF NOT EXISTS: safe to run again
    columns = {row[1] for row in index.db.execute("PRAGMA table_info(corrections)")}
    for column, kind in (("who", "TEXT NOT NULL DEFAULT ''"), ("undone_with", "INTEGER")):
        if column not in columns:  # added for the History page (undo of any correction)
            index.db.execute(f"ALTER TABLE corrections ADD COLUMN {column} {kind}")
    index.db.executescript(REVIEW_SCHEMA)
    if int(index.meta("schema_version", 1)) < 2:
        with index.transaction() as db:
            # the people of the clustering an older version made keep their cluster ids
            db.execute("INSERT OR IGNORE INTO people(id, created_at) SELECT DISTINCT cluster_id, ? FROM clusters", (time.time(),))
            index.set_meta("schema_version", 2, db)
    if int(index.meta("schema_version", 1)) < 3:
        with index.transaction() as db:
            index.set_meta("schema_version", 3, db)
