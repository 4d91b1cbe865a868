"""The site's own small database, ``<data dir>/site.sqlite3``: the organiser's sessions and the
recent login attempts, shared by every gunicorn worker (and the CLI, which ends the sessions when
the password is set).

It is kept apart from the index, which may be deleted and built again while the site runs. SQLite
in WAL mode with a busy timeout; the file is created on first use, readable by its owner only
(mode 600; SQLite gives its -wal and -shm files the same mode). Rows past their time are deleted
whenever a login or a session is written.

Sessions are stored by the SHA-256 of their random id, so the file alone opens no session.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

SITE_FILE = "site.sqlite3"
BUSY_TIMEOUT_S = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);
CREATE TABLE IF NOT EXISTS login_attempts (
    client TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_client ON login_attempts(client, at);
CREATE INDEX IF NOT EXISTS login_attempts_at ON login_attempts(at);
"""


def site_path(data_dir) -> Path:
    return Path(data_dir) / SITE_FILE


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


class SiteStore:
    """One data folder's site.sqlite3. Each call opens its own connection: the store is used
    from several threads and processes, and a call is rare next to the work around it (a login's
    scrypt, a request's answer)."""

    def __init__(self, data_dir):
        self.path = site_path(data_dir)
        self._ready = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if not self._ready or not self.path.exists():  # deleted while the site runs: made again
            with self._lock:
                if not self._ready or not self.path.exists():
                    self._create()
                    self._ready = True
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE where a check
        # and a write must not interleave with another worker's)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(SCHEMA)

    # -- sessions ---------------------------------------------------------------------------
    def add_session(self, session_id: str, lifetime_s: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)", (_id_hash(session_id), now, now + lifetime_s))
            db.execute("COMMIT")

    def session_alive(self, session_id: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with closing(self._connect()) as db:
            row = db.execute("SELECT 1 FROM sessions WHERE id_hash = ? AND expires > ?", (_id_hash(session_id), now)).fetchone()
        return row is not None

    def end_session(self, session_id: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (_id_hash(session_id),))

    # -- login attempts ---------------------------------------------------------------------
    def begin_login(self, client: str, per_client: int, overall: int, window: float, now: float | None = None) -> tuple[float, int | None]:
        """Count a login attempt from ``client`` unless it must wait: (0, the attempt's id) when
        it may go ahead, else (seconds to wait, None). Checked and counted in one transaction, so
        that workers answering at once cannot let more through than the limits.

        At most ``per_client`` attempts per client that did not log in, in ``window`` seconds.
        Once there are ``overall`` such attempts from all clients in the window (an attack from
        many addresses), a client that failed in the window gets one attempt per window; a client
        with no failure always gets its attempt, so the organiser is not locked out by others."""
        now = time.time() if now is None else now
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM login_attempts WHERE at <= ?", (now - window,))
                mine = [at for (at,) in db.execute("SELECT at FROM login_attempts WHERE client = ? ORDER BY at DESC", (client,))]
                waits = [0.0]
                if len(mine) >= per_client:
                    waits.append(mine[per_client - 1] + window - now)
                if mine and db.execute("SELECT count(*) FROM login_attempts").fetchone()[0] >= overall:
                    waits.append(mine[0] + window - now)
                wait = max(waits)
                attempt = None
                if wait <= 0:
                    attempt = db.execute("INSERT INTO login_attempts VALUES (?, ?)", (client, now)).lastrowid
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return max(wait, 0.0), attempt

    def login_succeeded(self, attempt: int) -> None:
        """A right password: the attempt is not a failure."""
        with closing(self._connect()) as db:
            db.execute("DELETE FROM login_attempts WHERE rowid = ?", (attempt,))


def end_all_sessions(data_dir) -> None:
    """Log out every browser (a new organiser password). Nothing to do without the file."""
    path = site_path(data_dir)
    if not path.is_file():
        return
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as db:
        db.execute("DELETE FROM sessions")
