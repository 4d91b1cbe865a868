"""`faceexplore index`: bring the face index up to date with a gallery folder.

Only new or changed photos are processed and deleted ones are removed. Photos are analysed by an
engine (``engines/``): a pool of worker processes on this machine (each with its own detector and
embedder, one thread each, so every core is busy), or actors on a Ray cluster. This process
commits their results in small transactions, so a run killed at any instant resumes where it
stopped with nothing lost or duplicated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from faceexplore.settings import Settings

from .cache import sweep as sweep_cache
from .engines import create_engine
from .gallery import scan_gallery
from .locking import writer_lock
from .store import FaceIndex

COMMIT_EVERY_PHOTOS = 32
COMMIT_EVERY_SECONDS = 2.0
# A run that would drop more than this share of the indexed photos stops and asks first
# (--allow-removals): a gallery on an unmounted share or a mistyped path looks empty, and
# re-indexing a whole gallery costs hours.
MAX_REMOVED_SHARE = 0.5


class RemovalRefused(ValueError):
    """The run would drop so much of the index that the gallery folder is probably wrong."""


@dataclass
class IndexSummary:
    scanned: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    retried: int = 0  # photos that had failed, read again though unchanged (--retry-errors)
    processed: int = 0
    faces: int = 0
    errors: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def photos_per_second(self) -> float:
        return self.processed / self.seconds if self.seconds else 0.0


def _model_of(settings: Settings):
    """The embedder's name and dimension, without keeping a model in the parent process."""
    from faceexplore.faces.embedders import create_embedder

    embedder = create_embedder(settings.model, **settings.embedder_options())
    return embedder.name, embedder.dim


def index_gallery(settings: Settings, progress: bool = True, allow_removals: bool = False, retry_errors: bool = False) -> IndexSummary:
    """Bring the index up to date with the gallery, holding the index's writer lock. Refuses
    (``RemovalRefused``, nothing changed) to drop more than ``MAX_REMOVED_SHARE`` of the
    indexed photos unless ``allow_removals``; with ``retry_errors``, photos that failed are
    read again even if their file did not change (a decoder installed since, permissions fixed)."""
    with writer_lock(settings.index_path, "faceexplore index"):
        return index_gallery_holding_lock(settings, progress, allow_removals, retry_errors)


def index_gallery_holding_lock(settings: Settings, progress: bool, allow_removals: bool, retry_errors: bool) -> IndexSummary:
    """``index_gallery`` for a caller that already holds the index's writer lock (the live
    watcher)."""
    started = time.monotonic()
    gallery = str(Path(settings.gallery_dir))
    summary = IndexSummary()
    engine = create_engine(settings)  # before any work: says now when the engine is not installed
    files = scan_gallery(gallery)
    summary.scanned = len(files)
    model, dim = _model_of(settings)
    with FaceIndex(settings.index_path) as index:
        index.check_model(model, dim)
        known = index.known_photos()
        on_disk = {f.path for f in files}
        gone = [p for p in known if p not in on_disk]
        if gone and not allow_removals and (not files or len(gone) > MAX_REMOVED_SHARE * len(known)):
            raise RemovalRefused(_removal_message(gallery, files, gone, known))
        summary.removed = index.remove_photos(gone) if gone else 0
        failed = {path for path, _ in index.errors()} if retry_errors else set()
        todo = []
        for f in files:
            old = known.get(f.path)
            if old is None:
                summary.new += 1
                todo.append(f)
            elif (old[1], old[2]) != (f.size, f.mtime_ns):
                summary.changed += 1
                todo.append(f)
            elif f.path in failed:
                summary.retried += 1
                todo.append(f)
            else:
                summary.unchanged += 1
        if todo:
            _process(engine, gallery, todo, index, model, summary, progress)
        # removed photos' thumbnails and face crops go with them, and so does the cache of an
        # index file this one replaced (a cheap walk of the cache, as the scan was of the gallery)
        sweep_cache(settings.cache_dir, index)
    summary.seconds = time.monotonic() - started
    return summary


def _removal_message(gallery, files, gone, known) -> str:
    if not files:
        what = f"the gallery folder {gallery} holds no photos, but the index holds {len(known)}"
    else:
        what = f"{len(gone)} of the {len(known)} indexed photos are no longer in the gallery folder {gallery}"
    return (
        f"{what}; nothing was changed. Is the folder mounted, and is it the right one? If the "
        f"photos were removed on purpose, run `faceexplore index --allow-removals` to drop them from the index."
    )


def _process(engine, gallery, todo, index, model, summary, progress):
    bar = tqdm(total=len(todo), unit="photo", disable=not progress, desc="indexing", dynamic_ncols=True)
    pending, last_commit = [], time.monotonic()

    def commit():
        nonlocal pending, last_commit
        if pending:
            index.add_photos(pending, model)
            pending, last_commit = [], time.monotonic()

    try:
        with engine:
            for record, faces in engine.analyse(gallery, todo):
                pending.append((record, faces))
                summary.processed += 1
                summary.faces += len(faces)
                if record.status == "error":
                    summary.errors.append((record.path, record.error))
                bar.update(1)
                bar.set_postfix(faces=summary.faces, errors=len(summary.errors), refresh=False)
                if len(pending) >= COMMIT_EVERY_PHOTOS or time.monotonic() - last_commit > COMMIT_EVERY_SECONDS:
                    commit()
        commit()
    finally:
        bar.close()
