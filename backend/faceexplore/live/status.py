"""What the watcher is doing, shared with the web workers through one small JSON file.

The watcher (one process) rewrites ``DATA/live-status.json`` atomically (a temporary file, then
``os.replace``) whenever its state changes and at least every ``HEARTBEAT_S`` seconds; the web
workers (other processes, possibly other containers sharing the data volume) only read it. A file
older than ``STALE_AFTER_S`` means the watcher has stopped: ``read_status`` then answers
``watching=False`` and keeps the last counts for the organiser to see.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

STATUS_FILE_NAME = "live-status.json"
HEARTBEAT_S = 5.0
STALE_AFTER_S = 30.0


@dataclass
class LiveStatus:
    watching: bool = False  # a watcher is running (and wrote within STALE_AFTER_S)
    updated_at: float | None = None  # epoch seconds of the watcher's last write
    waiting: int = 0  # photos seen but not indexed yet (still being copied, or queued)
    indexing: int = 0  # photos being analysed right now
    last_change_at: float | None = None  # the last time a photo appeared, changed or went
    last_indexed_at: float | None = None  # the last time photos became searchable
    reclustering: bool = False  # a full re-clustering runs in the background
    last_reclustered_at: float | None = None
    recent_errors: int = 0  # photos that could not be read since the watcher started
    message: str | None = None  # a problem the organiser should know of (gallery folder missing...)


def status_path(data_dir) -> Path:
    return Path(data_dir) / STATUS_FILE_NAME


def write_status(data_dir, status: LiveStatus) -> None:
    """Replace the status file atomically (readers never see half a file); mode 600 like the index."""
    status.updated_at = time.time()
    path = status_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".live-status-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(status), f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_status(data_dir, now: float | None = None) -> LiveStatus | None:
    """The watcher's last status, ``watching`` False once it is stale; None when no watcher ever ran."""
    try:
        raw = json.loads(status_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    known = {f.name for f in fields(LiveStatus)}
    status = LiveStatus(**{k: v for k, v in raw.items() if k in known})
    now = time.time() if now is None else now
    if status.updated_at is None or now - status.updated_at > STALE_AFTER_S:
        status.watching = False
    return status
