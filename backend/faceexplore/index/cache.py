"""Where thumbnails and face crops are kept, and their removal with their photos.

Layout under the data folder's ``cache/`` (nginx serves it at /cache/ straight from disk, and
asks the app only on a miss): ``<index id>/thumbnails/<size>/<photo id>.jpg`` and
``<index id>/faces/<size>/<face id>.jpg``. Within one index a photo or face id is never reused
(a changed photo is indexed under a new id), but a new index file (deleted and built again)
numbers from 1 again: so the cache is kept per index file, under the random id the index holds
(meta ``index_id``), and a URL of one index never shows another's picture. After each index run,
``sweep`` deletes what belongs to removed photos and faces, and the caches of other index files.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

NO_INDEX_ID = "0"  # an index made before index ids (it gets one on its next index run)
_GENERATION = re.compile(r"[0-9a-f]{16}|0")
_LEGACY = ("thumbnails", "faces")  # the layout before index ids


def generation(index) -> str:
    """The cache folder name of an open FaceIndex."""
    value = index.meta("index_id") or NO_INDEX_ID
    return value if _GENERATION.fullmatch(value) else NO_INDEX_ID


def thumbnail_path(cache_dir, index_id: str, size: int, photo_id: int) -> Path:
    return Path(cache_dir) / index_id / "thumbnails" / str(int(size)) / f"{int(photo_id)}.jpg"


def face_path(cache_dir, index_id: str, size: int, face_id: int) -> Path:
    return Path(cache_dir) / index_id / "faces" / str(int(size)) / f"{int(face_id)}.jpg"


def sweep(cache_dir, index) -> int:
    """Delete the cached files of photos and faces no longer in ``index``, and every other index
    file's cache. Returns the number of files and folders deleted. Never raises for a file that
    is gone or cannot be deleted (the cache is only a cache)."""
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        return 0
    current = generation(index)
    deleted = 0
    for entry in cache_dir.iterdir():
        if entry.name != current and entry.is_dir() and (entry.name in _LEGACY or _GENERATION.fullmatch(entry.name)):
            shutil.rmtree(entry, ignore_errors=True)
            deleted += 1
    kept = {"thumbnails": set(index.all_photo_paths()), "faces": index.face_ids()}
    for kind, ids in kept.items():
        for file in (cache_dir / current / kind).glob("*/*.jpg"):
            if not file.stem.isdigit() or int(file.stem) not in ids:
                try:
                    file.unlink()
                    deleted += 1
                except OSError as exc:
                    log.warning("cannot delete %s from the cache: %s", file, exc)
    return deleted
