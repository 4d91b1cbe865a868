"""`faceexplore watch`: keep the index up to date with the gallery folder while the site is up.

One process owns the index while it watches: it takes the writer lock (``locking.writer_lock``)
for its whole run, so a second watcher, or a `faceexplore index`/`cluster` started beside it,
exits at once with 75 naming the watcher, instead of the two processing the same photos twice.
(The organiser's corrections take no writer lock and go on as before.) Inside:

- at start, a large backlog (a first run, photos copied while no watcher ran) is indexed the way
  `faceexplore index` does it, with its pool of worker processes; a small one is left to the loop;
- the loop, with the face models loaded once, takes the photos the ``GalleryWatcher`` says have
  settled, a few at a time (``BATCH_PHOTOS``), analyses them and stores them through
  ``FaceIndex.add_photos`` (searchers reload on ``last_indexed``), removes deleted photos with
  their cached thumbnails and face crops, then joins the new faces to people
  (``assignment.assign_new_faces``) so that a search finds them at once;
- when ``drift.drift`` says the people have drifted from a clustering of all faces (or no
  clustering exists yet), a full re-clustering runs in a child process (``cluster_index`` with
  ``lock=False``: this process holds the lock for it) while indexing goes on; its result is
  swapped in atomically (``FaceIndex.save_clustering``). While it runs, new faces are still joined
  to the clustering in use (those the new one does not hold are joined to it once it is done),
  and removals wait (a clustering of faces that went meanwhile must not be saved).

What it does is written to ``DATA/live-status.json`` (``live.status``) for the web app.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from pathlib import Path

from faceexplore.index.cache import generation
from faceexplore.index.gallery import filesystem_path, scan_gallery
from faceexplore.index.indexer import RemovalRefused, index_gallery_holding_lock
from faceexplore.index.locking import writer_lock
from faceexplore.index.store import FaceIndex, ModelMismatch
from faceexplore.index.worker import analyse_file

from ..settings import Settings
from .status import HEARTBEAT_S, LiveStatus, write_status
from .watcher import GalleryChanges, GalleryWatcher

log = logging.getLogger(__name__)

# Photos analysed before they are stored and joined to people: a few seconds of work on a CPU
# (docs/speed.md), so a burst becomes searchable in steps rather than all at the end, and the
# join's fixed cost is shared.
BATCH_PHOTOS = 8
# A start-up backlog at least this large is indexed with the indexer's worker pool (one process
# per core, each loading the models: seconds) instead of the loop's one pipeline.
POOL_BACKLOG = 64
TICK_S = 0.25  # how often photos that are settling are looked at again
GALLERY_CHECK_S = 1.0  # how often a missing gallery folder is looked for
CLUSTERING_RETRY_S = 60.0  # after a failed re-clustering, before the next may start
ERROR_PAUSE_S = 5.0  # after an unexpected error (disk full...), before trying again


def recluster(index_path: str) -> None:
    """A full clustering of the index (runs in a child process; the parent holds the lock)."""
    from faceexplore.people.clustering import cluster_index

    with FaceIndex(index_path) as index:
        active = index.active_clustering()
        # an organiser's `cluster --threshold` stays in force: the re-clustering keeps their threshold
        override = active["threshold"] if active and (active.get("details") or {}).get("override") else None
        cluster_index(index, threshold=override, progress=lambda *a, **k: None, lock=False)


def _default_assign():
    from .assignment import assign_new_faces

    return assign_new_faces


def _default_drift():
    from .drift import drift

    return drift


class LiveIndexer:
    """Watches ``settings.gallery_dir`` and indexes it into ``settings.index_path`` until
    ``stop()``. ``pipeline``, ``assign``, ``drift`` and ``recluster_target`` may be given (tests);
    by default the models from the settings and the live package's functions."""

    def __init__(
        self,
        settings: Settings,
        pipeline=None,
        assign: Callable | None = None,
        drift: Callable | None = None,
        recluster_target: Callable[[str], None] = recluster,
        allow_removals: bool = False,
        catch_up: bool | None = None,
    ):
        self.settings = settings
        self.gallery = str(Path(settings.gallery_dir))
        self.pipeline = pipeline
        self.assign = assign
        self.drift = drift
        self.recluster_target = recluster_target
        self.allow_removals = allow_removals
        self.catch_up = pipeline is None if catch_up is None else catch_up
        self.status = LiveStatus(watching=True)
        self.in_catch_up = False
        self._stop = threading.Event()
        self._watcher: GalleryWatcher | None = None
        self._clustering: mp.process.BaseProcess | None = None
        self._removals: set[str] = set()  # settled removals waiting for a clustering to end
        self._no_clustering_before = 0.0  # after a failed clustering, the next waits (CLUSTERING_RETRY_S)
        self._unassigned = False  # faces stored since the last join to people
        self._last_write = 0.0
        self._status_lock = threading.Lock()
        self._gallery_missing = False
        self.indexed_paths: list[str] = []  # every photo this run stored, in order (tests)

    # -- control -----------------------------------------------------------------------------
    def stop(self):
        """Ends ``run`` after the photo being analysed (safe from a signal handler)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher._wake.set()

    def run(self) -> None:
        """Hold the writer lock and watch until ``stop()``; raises ``IndexBusy`` at once when
        another process writes the index."""
        from ..index import retention

        retention.refuse_if_purged(self.settings)  # indexing again would store faces after the purge
        with writer_lock(self.settings.index_path, "faceexplore watch"):
            heartbeat = threading.Thread(target=self._heartbeat, name="faceexplore-watch-heartbeat", daemon=True)
            heartbeat.start()
            try:
                self._run()
            finally:
                self._stop.set()
                heartbeat.join()
                self._stop_clustering()
                if self._watcher is not None:
                    self._watcher.stop()
                self._write(watching=False, indexing=0, reclustering=False, message="the watcher has stopped")

    # -- status ------------------------------------------------------------------------------
    def _write(self, **changes) -> None:
        """Change the status; write it when it changed or a heartbeat is due."""
        with self._status_lock:
            changed = any(getattr(self.status, k) != v for k, v in changes.items())
            for k, v in changes.items():
                setattr(self.status, k, v)
            if changed or time.monotonic() - self._last_write >= HEARTBEAT_S:
                write_status(self.settings.data_dir, self.status)
                self._last_write = time.monotonic()

    def _heartbeat(self) -> None:
        """Keeps the status fresh while the loop is busy for long (a batch of large photos on a
        slow machine, the start-up backlog): a stale file reads as "the watcher stopped"."""
        while not self._stop.wait(HEARTBEAT_S / 2):
            self._write()

    # -- the loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        settings = self.settings
        self._write(message="starting")
        watcher = self._watcher = GalleryWatcher(
            self.gallery, settle_s=settings.watch_settle_seconds, rescan_s=settings.watch_rescan_seconds, allow_removals=self.allow_removals
        )
        watcher.start()  # events of photos that land during the catch-up are kept
        if self.catch_up:
            self._catch_up()
        if self.pipeline is None:
            self._write(message="loading the face models")
            from faceexplore.faces.pipeline import FacePipeline

            self.pipeline = FacePipeline.from_settings(settings)
        self.index = FaceIndex(settings.index_path)
        try:
            self._bind_model()
            known = self.index.known_photos()
            self._known = {p: (size, mtime) for p, (_, size, mtime) in known.items()}
            self._write(message=None)
            while not self._stop.is_set():
                if self._retention_passed():
                    break
                try:
                    busy = self._step()
                except Exception as exc:  # the watcher outlives a failed step: the next full walk finds what it missed
                    log.exception("live indexing failed")
                    self._write(indexing=0, message=f"indexing failed ({exc}); trying again")
                    watcher.request_rescan()
                    self._stop.wait(ERROR_PAUSE_S)
                    continue
                if not busy:
                    # a folder coming back sends no event to its old watch: look for it often
                    idle = GALLERY_CHECK_S if self._gallery_missing else HEARTBEAT_S
                    watcher.wait(TICK_S if self.status.waiting or self._clustering else idle)
        finally:
            self.index.close()

    def _retention_passed(self) -> bool:
        """Once a day (and at start): the retention's purge when it is due (retention.py); the
        watcher then stops, since nothing more may be indexed."""
        from ..index import retention

        now = time.monotonic()
        if now < getattr(self, "_next_retention_check", 0.0):
            return False
        self._next_retention_check = now + retention.DAY_S
        if retention.purge_if_due(self.settings, "watcher", lock=False) is None:
            return False
        log.info("the retention has passed: faces erased, search closed; stopping")
        self._write(message="the retention has passed: the faces were erased and the search closed; the watcher has stopped")
        return True

    def _bind_model(self):
        embedder = getattr(self.pipeline, "embedder", None)
        dim = getattr(embedder, "dim", None)
        if dim:
            self.index.check_model(self.pipeline.model_name, dim)
        elif self.index.meta("model") not in (None, self.pipeline.model_name):
            raise ModelMismatch(f"the index was built with {self.index.meta('model')!r}, not {self.pipeline.model_name!r}")

    def _catch_up(self):
        """A large backlog at start is indexed as `faceexplore index` does (worker pool)."""
        try:
            files = scan_gallery(self.gallery)
        except FileNotFoundError:
            return  # the loop reports the missing folder
        with FaceIndex(self.settings.index_path) as index:
            known = index.known_photos()
        backlog = sum(1 for f in files if (known.get(f.path) or (0, None, None))[1:] != (f.size, f.mtime_ns))
        if backlog < POOL_BACKLOG:
            return
        self._write(waiting=backlog, indexing=backlog, message=f"indexing {backlog} photos that changed while no watcher ran")
        self.in_catch_up = True
        try:
            summary = index_gallery_holding_lock(self.settings, False, self.allow_removals, False)
        except RemovalRefused as exc:
            self._write(message=str(exc))  # the loop indexes the rest and keeps the photos
            return
        finally:
            self.in_catch_up = False
        self._unassigned = True
        self._write(
            waiting=0,
            indexing=0,
            last_indexed_at=time.time(),
            recent_errors=self.status.recent_errors + len(summary.errors),
            message=None,
        )

    def _step(self) -> bool:
        """One look at the gallery and the work it asks for; True when work was done."""
        watcher = self._watcher
        self._reap_clustering()
        if watcher.rescan_due():  # the walk compares the disk with the index as it is now
            self._known = {p: (size, mtime) for p, (_, size, mtime) in self.index.known_photos().items()}
        changes: GalleryChanges = watcher.poll(self._known, limit=BATCH_PHOTOS)
        if changes.ready or changes.removed:
            self.status.last_change_at = time.time()
        self._gallery_missing = changes.missing
        self._removals.update(changes.removed)
        self._write(waiting=changes.waiting + len(changes.ready) + len(self._removals), message=changes.message)
        worked = False
        if self._removals and self._clustering is None:
            # a photo put back while its removal waited for a clustering stays
            gone = [p for p in self._removals if not (Path(self.gallery) / filesystem_path(p)).exists()]
            if gone:
                self._remove(sorted(gone))
                worked = True
            self._removals.clear()
        if changes.ready:
            self._index(changes.ready)
            worked = True
        if not self._stop.is_set():
            self._after_changes()
        if watcher.last_change_at and (self.status.last_change_at or 0) < watcher.last_change_at:
            self.status.last_change_at = watcher.last_change_at
        self._write(waiting=watcher.waiting + len(self._removals))
        return worked

    def _index(self, files):
        self._write(indexing=len(files))
        items = []
        for f in files:
            if self._stop.is_set():
                break  # the rest is found again by the next run's walk
            items.append(analyse_file(self.pipeline, self.gallery, f))
        if items:
            paths = [record.path for record, _ in items]
            replaced = self._ids_of(paths)  # a changed photo is stored under new ids
            self.index.add_photos(items, self.pipeline.model_name)
            self._forget_cached(*replaced)
            for record, faces in items:
                self._known[record.path] = (record.size, record.mtime_ns)
                self.indexed_paths.append(record.path)
                self._unassigned |= bool(faces)
            errors = sum(record.status == "error" for record, _ in items)
            self._write(indexing=0, last_indexed_at=time.time(), recent_errors=self.status.recent_errors + errors)
        self._write(indexing=0)

    def _remove(self, paths):
        photo_ids, face_ids = self._ids_of(paths)
        self.index.remove_photos(paths)
        self._forget_cached(photo_ids, face_ids)
        for path in paths:
            self._known.pop(path, None)
        self._write(last_indexed_at=time.time())

    def _ids_of(self, paths) -> tuple[list[int], list[int]]:
        """The ids of the photos at ``paths`` and of their faces (their cache files' names)."""
        return self.index.ids_of_paths(paths)

    def _forget_cached(self, photo_ids, face_ids):
        """Delete the thumbnails and face crops of photos and faces that left the index (what
        ``cache.sweep`` does after an index run, for these ids only: no walk of the cache)."""
        base = Path(self.settings.cache_dir) / generation(self.index)
        for kind, ids in (("thumbnails", photo_ids), ("faces", face_ids)):
            for size_dir in (base / kind).glob("*") if ids and (base / kind).is_dir() else ():
                for i in ids:
                    try:
                        (size_dir / f"{int(i)}.jpg").unlink(missing_ok=True)
                    except OSError as exc:
                        log.warning("cannot delete a cached picture: %s", exc)

    # -- people ------------------------------------------------------------------------------
    def _after_changes(self):
        """Join new faces to people; start a full re-clustering when the people have drifted."""
        if self.index.meta("active_clustering") is None:
            if self._clustering is None and self.index.has_faces():
                self._start_clustering("no clustering yet")
            return
        if not self._unassigned:
            return
        self._unassigned = False
        # also while a re-clustering runs: the join writes into the clustering it read, in one
        # transaction, and the faces a clustering swapped in later does not hold are joined again
        # once it is done (assignment.py)
        (self.assign or _default_assign())(self.index)
        self._write(last_indexed_at=time.time())
        if self._clustering is not None:
            return
        report = (self.drift or _default_drift())(self.index)  # cheap counts (no threshold refit)
        if report.should_recluster:
            self._start_clustering(report.reason)

    def _start_clustering(self, reason: str):
        if time.monotonic() < self._no_clustering_before:
            return
        log.info("re-clustering in the background: %s", reason)
        # spawn: a forked copy of a process running torch threads can deadlock
        process = mp.get_context("spawn").Process(
            target=self.recluster_target, args=(str(self.settings.index_path),), name="faceexplore-recluster", daemon=True
        )
        process.start()
        self._clustering = process
        self._write(reclustering=True)

    def _reap_clustering(self):
        process = self._clustering
        if process is None or process.is_alive():
            return
        process.join()
        self._clustering = None
        if process.exitcode == 0:
            self._unassigned = True  # faces stored while it ran are joined now
            self._write(reclustering=False, last_reclustered_at=time.time())
        else:
            self._no_clustering_before = time.monotonic() + CLUSTERING_RETRY_S
            self._write(reclustering=False, message=f"the re-clustering failed (exit code {process.exitcode}); it is tried again later")

    def _stop_clustering(self):
        """A clustering cut short saves nothing (its result is one transaction)."""
        process = self._clustering
        if process is not None:
            process.terminate()
            process.join(timeout=10)
            self._clustering = None
