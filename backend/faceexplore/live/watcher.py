"""Which photos of the gallery folder are new, changed or gone, and ready to be indexed.

Two sources, one answer: the folder's change events (watchdog: inotify on Linux) say at once
which paths were touched, and a full walk of the gallery (``scan_gallery``) every
``rescan_s`` seconds finds what no event announced (network shares, where inotify sees only the
local machine's writes; events lost when the kernel's queue overflows; a folder moved in). An
event only names a path: what happened is always read from the disk, so a lost, repeated or
out-of-order event costs nothing. Events are coalesced into a set of paths under a lock, read by
``poll``; no thread or work per event, so a burst of thousands of files is a set of thousands
of names.

A file is handed on once it has *settled*: its size and modification time unchanged for
``settle_s`` seconds. A photo being copied keeps growing and its mtime keeps moving, so a
half-copied photo is not read. The default, one second, is far longer than the gap between
two writes of any copying program on a local disk or a LAN, and short against the time a photo
takes to analyse (docs/speed.md); a copy that stalls for longer (a flaky share) can still be
read half-written, and then indexed again when it grows (its size or mtime changed), so the
cost of a too-short settle time is one wasted analysis, never a wrong index.

Deletions settle the same way (an editor that saves by deleting and writing again is not a
removal), and follow the indexer's guard: a gallery folder that is missing, or that would lose
all of its photos or more than ``indexer.MAX_REMOVED_SHARE`` of them at once, removes nothing
(an unmounted share looks empty). The watcher then says so in ``message`` and waits; when the
folder is back, the next walk finds the photos where they were.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import EVENT_TYPE_CLOSED_NO_WRITE, EVENT_TYPE_OPENED, FileSystemEventHandler
from watchdog.observers import Observer

from faceexplore.faces.images import PHOTO_EXTENSIONS
from faceexplore.index.gallery import GalleryFile, filesystem_path, scan_gallery, stored_path
from faceexplore.index.indexer import MAX_REMOVED_SHARE

log = logging.getLogger(__name__)

# Reading a file makes events too (the watcher's own reads among them): they change nothing.
_IGNORED_EVENTS = {EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE}


@dataclass
class GalleryChanges:
    ready: list[GalleryFile] = field(default_factory=list)  # new or changed photos, settled
    removed: list[str] = field(default_factory=list)  # stored paths gone from the gallery
    waiting: int = 0  # photos seen changing or going, not settled yet (or beyond the limit)
    missing: bool = False  # the gallery folder is not there (or holds no photo at all)
    message: str | None = None  # what the organiser should know (missing folder, removals refused)
    rescanned: bool = False  # this poll walked the whole gallery


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # when this size and mtime were first seen


class _Touched(FileSystemEventHandler):
    """Collects the paths the events name; runs in watchdog's thread, so it only records."""

    def __init__(self, watcher: GalleryWatcher):
        self.watcher = watcher

    def on_any_event(self, event):
        if event.event_type in _IGNORED_EVENTS:
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        self.watcher._touch([os.fsdecode(p) for p in paths if p], rescan=event.is_directory and event.event_type != "modified")


def is_photo_name(relative: str) -> bool:
    """Whether a gallery-relative path is one ``scan_gallery`` would list: a photo extension, and
    no hidden part (copying programs write to hidden temporary names and rename when done)."""
    parts = relative.split("/")
    return not any(p.startswith(".") or p in ("", "..") for p in parts) and os.path.splitext(parts[-1])[1].lower() in PHOTO_EXTENSIONS


class GalleryWatcher:
    """``start()``, then ``poll(known)`` again and again (``wait`` between): each answers which
    photos are settled and differ from ``known`` (stored path -> (size, mtime_ns): what the index
    holds), and which of ``known`` are gone. ``stop()`` ends the event thread."""

    def __init__(self, root, settle_s: float = 1.0, rescan_s: float = 60.0, allow_removals: bool = False, clock=time.monotonic):
        self.root = Path(root)
        self.settle_s, self.rescan_s, self.allow_removals, self.clock = settle_s, rescan_s, allow_removals, clock
        self._lock = threading.Lock()
        self._touched: set[str] = set()
        self._rescan_requested = True
        self._wake = threading.Event()
        self._observer = None
        self._watched_id = None  # (st_dev, st_ino) of the folder the observer watches
        self._next_rescan = 0.0
        self._candidates: dict[str, _Seen] = {}  # changing photos: path -> last size and mtime seen
        self._vanished: dict[str, float] = {}  # known photos not on disk: path -> since when
        self._was_missing = False
        self.last_change_at: float | None = None  # wall-clock time a photo last appeared, changed or went
        self.events_message: str | None = None  # why folder events are not used, if they are not

    # -- events ------------------------------------------------------------------------------
    def _touch(self, paths, rescan: bool = False):
        with self._lock:
            self._touched.update(paths)
            self._rescan_requested |= rescan
        self._wake.set()

    def request_rescan(self):
        self._touch([], rescan=True)

    def wait(self, timeout: float) -> bool:
        """Until an event arrives or ``timeout`` seconds pass; True for an event."""
        woke = self._wake.wait(timeout)
        self._wake.clear()
        return woke

    def start(self):
        self._watch()

    def stop(self):
        self._unwatch()

    def _watch(self):
        """(Re)start the event thread on the gallery folder as it is now."""
        self._unwatch()
        try:
            st = os.stat(self.root)
            observer = Observer()
            observer.schedule(_Touched(self), str(self.root), recursive=True)
            observer.start()
        except OSError as exc:  # no folder, or the kernel's limit of watches reached
            self.events_message = f"folder events unavailable ({exc}); new photos are found by a walk every {self.rescan_s:g} s"
            log.warning("%s", self.events_message)
            return
        self._observer, self._watched_id, self.events_message = observer, (st.st_dev, st.st_ino), None

    def _unwatch(self):
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer, self._watched_id = None, None

    # -- polling -----------------------------------------------------------------------------
    def rescan_due(self) -> bool:
        return self._rescan_requested or self.clock() >= self._next_rescan

    def poll(self, known: dict[str, tuple[int, int]], limit: int | None = None) -> GalleryChanges:
        now = self.clock()
        try:
            st = os.stat(self.root)
            present = Path(self.root).is_dir()
        except OSError:
            present = False
        if not present:
            return self._missing(f"the gallery folder {self.root} is missing; nothing is removed from the index until it is back")
        alive = self._observer is not None and self._observer.is_alive()
        if self._was_missing or (alive and self._watched_id != (st.st_dev, st.st_ino)) or (not alive and self.rescan_due()):
            # the folder came back or was replaced (watch the one there now), or watching failed before
            self._watch()
            self._was_missing, self._rescan_requested = False, True
        with self._lock:
            touched, self._touched = self._touched, set()
            rescan = self._rescan_requested or now >= self._next_rescan
            self._rescan_requested = False
        changes = GalleryChanges()
        if rescan:
            try:
                on_disk = scan_gallery(self.root)
            except (FileNotFoundError, NotADirectoryError):
                return self._missing(f"the gallery folder {self.root} is missing; nothing is removed from the index until it is back")
            self._next_rescan = now + self.rescan_s
            changes.rescanned = True
            if not on_disk and known:
                return self._missing(
                    f"the gallery folder {self.root} holds no photos, but the index holds {len(known)}; nothing is removed "
                    f"(is the share mounted?)"
                )
            disk = {f.path: f for f in on_disk}
            for f in on_disk:
                if known.get(f.path) != (f.size, f.mtime_ns):
                    self._observe(f.path, f.size, f.mtime_ns, now)
            for path in known:
                if path not in disk:
                    self._gone(path, now)
            for path in [p for p in self._candidates if p not in disk]:
                del self._candidates[path]
        for full in touched:
            relative = os.path.relpath(full, self.root).replace(os.sep, "/")
            if not is_photo_name(relative):
                continue
            path = stored_path(relative)
            if path in known or path in self._candidates:
                self._recheck(path, known, now)
            else:
                seen = self._stat(path)
                if seen is not None:
                    self._observe(path, seen[0], seen[1], now)
        for path in list(self._candidates):
            self._recheck(path, known, now)
        ready = sorted((p for p, s in self._candidates.items() if now - s.since >= self.settle_s), key=lambda p: self._candidates[p].since)
        if limit is not None:
            ready = ready[:limit]
        for path in ready:
            s = self._candidates.pop(path)
            if known.get(path) != (s.size, s.mtime_ns):  # not back to what is indexed
                changes.ready.append(GalleryFile(path, s.size, s.mtime_ns))
        changes.removed, changes.message = self._settled_removals(known, now)
        changes.waiting = self.waiting
        if changes.message is None:
            changes.message = self.events_message
        return changes

    def _missing(self, message: str) -> GalleryChanges:
        self._vanished.clear()  # nothing goes while the folder is away; the walk after its return starts afresh
        self._rescan_requested = self._was_missing = True
        return GalleryChanges(waiting=len(self._candidates), missing=True, message=message)

    def _stat(self, path: str) -> tuple[int, int] | None:
        """Size and mtime of a photo as ``scan_gallery`` would list it, else None (gone, not a
        file, or a link to a file outside the gallery)."""
        full = self.root / filesystem_path(path)
        try:
            st = os.stat(full)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        if os.path.islink(full) and not os.path.realpath(full).startswith(os.path.realpath(self.root) + os.sep):
            return None
        return st.st_size, st.st_mtime_ns

    def _observe(self, path: str, size: int, mtime_ns: int, now: float):
        seen = self._candidates.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (size, mtime_ns):
            self._candidates[path] = _Seen(size, mtime_ns, now)
            self.last_change_at = time.time()

    def _gone(self, path: str, now: float):
        if path not in self._vanished:
            self._vanished[path] = now
            self.last_change_at = time.time()

    @property
    def waiting(self) -> int:
        """Photos seen changing or going that are not settled yet."""
        return len(self._candidates) + len(self._vanished)

    def _recheck(self, path: str, known, now: float):
        """Read again what the disk says of ``path``: changing, settled, back, or gone."""
        seen = self._stat(path)
        if seen is None:
            self._candidates.pop(path, None)
            if path in known:
                self._gone(path, now)
            return
        self._vanished.pop(path, None)
        if known.get(path) == seen and path not in self._candidates:
            return  # as indexed
        self._observe(path, seen[0], seen[1], now)

    def _settled_removals(self, known, now: float) -> tuple[list[str], str | None]:
        for path in [p for p in self._vanished if p not in known]:
            del self._vanished[path]  # removed from the index meanwhile
        settled = [p for p, since in self._vanished.items() if now - since >= self.settle_s]
        if not settled:
            return [], None
        if not self.allow_removals and (len(settled) >= len(known) or len(settled) > MAX_REMOVED_SHARE * len(known)):
            return [], (
                f"{len(settled)} of the {len(known)} indexed photos are no longer in the gallery folder {self.root}; "
                f"nothing was removed. Is the folder mounted, and is it the right one? If they were removed on purpose, "
                f"restart the watcher with --allow-removals."
            )
        for path in settled:
            del self._vanished[path]
        return settled, None
