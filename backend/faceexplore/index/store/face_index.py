"""The face index: one SQLite database (WAL) holding photos, faces and the active clustering.

FaceIndex opens the connection and holds the meta table; its methods over each group of tables
come from one module each (photos, clusterings, people, pages), its tables and migrations from
schema.py.

Every write is a transaction that leaves the index consistent, so a run killed at any instant
loses at most the photos it had not committed yet. Readers (the web API) see a clustering whole
or not at all: a new clustering is written under a new id and made active in one transaction.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from .clusterings import ClusteringsAndMemberships
from .pages import PageQueries
from .people import PeopleAndCorrections
from .photos import PhotosAndFaces
from .schema import SCHEMA, migrate


def _drop_orphaned_wal(path: Path):
    """Remove the -wal and -shm files of an index file that was deleted (by hand, while a server
    still had it open, so they stayed behind): SQLite would apply that old write-ahead log to
    the new, empty file and fail with "disk I/O error". SQLite creates the main file before
    them and never deletes it, so without it they can only belong to a database that is gone."""
    if path.exists():
        return
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _create_private(path: Path) -> None:
    """Create a new index file readable by its owner only (the faces of everyone in the
    gallery); SQLite gives its -wal and -shm files the database file's mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _casefold(value):
    return value.casefold() if isinstance(value, str) else value


class FaceIndex(PhotosAndFaces, ClusteringsAndMemberships, PeopleAndCorrections, PageQueries):
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
        migrate(self)
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

    # -- retention (index/retention.py) -----------------------------------------------------
    def erase_biometrics(self) -> dict:
        """Retention's purge: every face (and so every embedding), the clusterings, the people's
        names and centroids, and the corrections (their descriptions name people) are deleted;
        the photos' rows stay (the gallery is the organiser's). Then VACUUM and a truncating
        checkpoint, so the bytes leave the file and its WAL. Returns what was erased."""
        erased = {"faces": self.db.execute("SELECT COUNT(*) FROM faces").fetchone()[0]}
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
