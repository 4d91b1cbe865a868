"""One writer at a time: `index` and `cluster` hold an exclusive lock on a file beside the index
for their whole run, so two of them never interleave their transactions (an index run removing
photos while a clustering of the old faces is being saved, two index runs processing the same
new photos twice). Readers (the web API, `status`, `search`) take no lock: SQLite's WAL gives
them a consistent snapshot.

The lock is ``fcntl.flock`` on ``<index>.lock``: the kernel releases it when its holder exits,
however it exits, so a killed run never leaves a stale lock behind. The holder writes its
process id and command into the file, so the one refused can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import sys
from contextlib import contextmanager
from pathlib import Path


class IndexBusy(RuntimeError):
    """Another process is writing to the index."""


def lock_path(index_path: str | Path) -> Path:
    index_path = Path(index_path)
    return index_path.with_name(index_path.name + ".lock")


@contextmanager
def writer_lock(index_path: str | Path, what: str):
    """Hold the index's writer lock for the ``with`` block; ``what`` names the holder's work
    (``faceexplore index``). Raises ``IndexBusy`` at once, without waiting, when another
    process holds it."""
    path = lock_path(index_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # readable by its owner only (it names the command line that holds it)
    fh = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+", encoding="utf-8", errors="replace")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IndexBusy(
                f"the index {index_path} is being written by {holder}; one writer at a time: "
                f"wait for it to finish (or stop it) and run this again"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"process {os.getpid()} ({what}, started as: {' '.join(sys.argv) or sys.executable})\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        fh.close()
