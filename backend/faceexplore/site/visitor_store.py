"""The tables of issue 26 part 2 in the site's own database (``<data dir>/site.sqlite3``, mode
600, as site/store.py keeps it): visitors' removals, saved searches, and the retention clock.

They live outside the index on purpose: a removal must survive the index being deleted and built
again, and the retention clock starts at the data folder's first index, not the current file's.
Embeddings are stored as float32 bytes (``dim`` per row), never with a photo or a name.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from .store import BUSY_TIMEOUT_S, site_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS removals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    changed REAL NOT NULL,
    status TEXT NOT NULL,               -- active, pending_review, refused, undone
    origin TEXT NOT NULL,               -- "web:<client address>", "cli"
    dim INTEGER NOT NULL,
    embeddings BLOB NOT NULL,           -- float32: the visitor's samples, then their matched faces
    exact INTEGER NOT NULL DEFAULT 0    -- how many of them (the last ones) are matched gallery faces
);
CREATE TABLE IF NOT EXISTS saved_searches (
    id_hash TEXT PRIMARY KEY,           -- SHA-256 of the link's id: the file alone opens no link
    created REAL NOT NULL,
    expires REAL NOT NULL,
    last_visit REAL NOT NULL,
    dim INTEGER NOT NULL,
    embeddings BLOB NOT NULL,           -- float32: the samples (or the confirmed faces)
    seen TEXT NOT NULL                  -- JSON: the gallery paths of the photos found at the last visit
);
CREATE TABLE IF NOT EXISTS retention (
    key TEXT PRIMARY KEY,               -- started: first index time; purged: JSON of the purge
    value TEXT NOT NULL
);
"""


def exists(data_dir) -> bool:
    return site_path(data_dir).is_file()


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))


@contextmanager
def connect(data_dir):
    """A connection with the tables made (file made mode 600 on first use)."""
    path = site_path(data_dir)
    _create(path)
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(SCHEMA)
        yield db


def to_blob(X: np.ndarray) -> tuple[int, bytes]:
    X = np.asarray(X, np.float32).reshape(len(X), -1)
    return X.shape[1], X.tobytes()


def from_blob(dim: int, blob: bytes) -> np.ndarray:
    if not dim or not blob:
        return np.zeros((0, dim or 0), np.float32)
    return np.frombuffer(blob, np.float32).reshape(-1, dim)


def id_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
