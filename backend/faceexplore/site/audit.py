"""The audit log: what the organiser changed and when, from where. Organiser corrections, access
code rotations, removals and purges are appended to a table ``audit`` in the site store
(``<data dir>/site.sqlite3``, mode 600), one row per action: time (UTC, seconds since the
epoch), action, detail (JSON), origin (``"cli"``, ``"web:<client address>"``, ``"watcher"``).

Nothing in the app updates or deletes a row. It holds no visitor data: a visitor's search is
never logged. ``faceexplore --data D audit [--json]`` prints or exports it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from .store import BUSY_TIMEOUT_S, site_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    origin TEXT NOT NULL
);
"""


def _connect(data_dir) -> sqlite3.Connection:
    path = site_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # the site store's mode: readable by its owner only
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(SCHEMA)
    return db


def record(data_dir, action: str, detail: dict, origin: str) -> None:
    """Append one entry. ``origin``: "cli", "web:<client address>" or "watcher"."""
    text = json.dumps(detail, sort_keys=True, default=str)
    with closing(_connect(data_dir)) as db:
        db.execute("INSERT INTO audit (at, action, detail, origin) VALUES (?, ?, ?, ?)", (time.time(), action, text, origin))


def entries(data_dir) -> list[dict]:
    """Every entry, oldest first: {"id", "at" (ISO 8601, UTC), "action", "detail", "origin"}.
    An empty list when nothing was ever recorded (no file is created)."""
    if not Path(site_path(data_dir)).is_file():
        return []
    with closing(_connect(data_dir)) as db:
        rows = db.execute("SELECT id, at, action, detail, origin FROM audit ORDER BY id").fetchall()
    return [
        {
            "id": row_id,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
            "action": action,
            "detail": json.loads(detail),
            "origin": origin,
        }
        for row_id, at, action, detail, origin in rows
    ]


def web_origin(remote_addr: str | None) -> str:
    return f"web:{remote_addr or 'unknown'}"


def record_corrections(data_dir, corrections: list[dict], origin: str) -> None:
    """The organiser's corrections a PeopleEditor committed (its ``recorded``), one entry each."""
    for correction in corrections:
        record(data_dir, "correction", correction, origin)
    corrections.clear()
