"""Per-worker state: the face models, the search engine and one index connection per thread.

The face models are loaded once, when the app is created (in each gunicorn worker), never per
request. Reads go through a read-only SQLite connection of the request's own thread, so the
API keeps answering while ``faceexplore index`` or ``cluster`` rewrite the database (WAL).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, g, request

from faceexplore.index import cache
from faceexplore.index.store import FaceIndex, ModelMismatch
from faceexplore.search import withheld
from faceexplore.search.service import SearchService
from faceexplore.search.withheld import Withheld
from faceexplore.settings import Settings
from faceexplore.site import audit

from .errors import ApiError

log = logging.getLogger(__name__)

WRITE_WAIT_S = 5.0  # how long a correction waits for `faceexplore index` or `cluster` to let go of the index


class WebState:
    def __init__(self, settings: Settings, pipeline=None, service: SearchService | None = None):
        self.settings = settings
        self.pipeline = pipeline
        self._service = service
        self._local = threading.local()
        # The models are not made for several threads at once, and a search is CPU-bound anyway:
        # one search at a time per worker (gunicorn runs several workers).
        self.search_lock = threading.Lock()
        self._service_lock = threading.Lock()
        self._service_identity = None  # the index file the service read (None: a service given)

    def _index_replaced(self) -> bool:
        try:
            return _file_identity(Path(self.settings.index_path)) != self._service_identity
        except OSError:
            return False  # deleted: keep answering from the old one until a new one is there

    # -- reads ------------------------------------------------------------------------------
    def index(self) -> FaceIndex | None:
        """This thread's read-only connection, or None while there is no index yet."""
        path = Path(self.settings.index_path)
        try:
            identity = _file_identity(path)
        except OSError:  # no index (yet, or deleted)
            return None
        index = getattr(self._local, "index", None)
        if index is not None and self._local.identity != identity:
            # the file was replaced (deleted and indexed again): the old connection still reads
            # the deleted file, so open the new one
            index.close()
            index = None
        if index is None:
            index = self._local.index = FaceIndex(path, readonly=True)
            self._local.identity = identity
        return index

    def cache_generation(self) -> str:
        """The index's id, which names its folder of thumbnails and face crops (faceexplore.index.cache);
        read once per request."""
        if "faceexplore_cache_generation" not in g:
            index = self.index()
            g.faceexplore_cache_generation = cache.generation(index) if index is not None else cache.NO_INDEX_ID
        return g.faceexplore_cache_generation

    def withheld(self, index: FaceIndex, organiser: bool) -> Withheld:
        """What a request must not be shown (search/withheld.py): nothing for the organiser (the
        caller says, from session.routes.is_organiser)."""
        return withheld.NOTHING if organiser else withheld.for_index(index, self.settings.false_alarm_rate)

    def require_index(self) -> FaceIndex:
        index = self.index()
        if index is None:
            raise ApiError(503, "not_indexed", "The gallery has not been indexed yet. Try again once indexing has finished.")
        return index

    # -- the organiser's corrections ---------------------------------------------------------
    @contextmanager
    def editor(self) -> Iterator:
        """A PeopleEditor over this thread's writable connection. Its errors become ApiErrors;
        a writer holding the index for longer than WRITE_WAIT_S is answered 503 busy."""
        from faceexplore.people.corrections import CorrectionError, PeopleEditor

        self.require_index()
        index = getattr(self._local, "writer", None)
        if index is None:
            index = self._local.writer = FaceIndex(self.settings.index_path)
            index.db.execute(f"PRAGMA busy_timeout = {int(WRITE_WAIT_S * 1000)}")
        try:
            editor = PeopleEditor(index, who=f"organiser (web, {request.remote_addr or 'unknown'})")
            yield editor
            audit.record_corrections(self.settings.data_dir, editor.recorded, audit.web_origin(request.remote_addr))
        except CorrectionError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise ApiError(503, "busy", "The index is being updated (indexing or clustering). Try again in a minute.") from None

    # -- search -----------------------------------------------------------------------------
    def service(self) -> SearchService:
        """The search service (models + the gallery's embeddings in memory), built on first use
        with a connection of its own; use it only while holding ``search_lock``."""
        if self._service is not None and self._service_identity is not None and self._index_replaced():
            replaced, self._service = self._service, None  # the index file was replaced: load the new one
            replaced.index.close()
        if self._service is None:
            with self._service_lock:
                if self._service is None:
                    if not Path(self.settings.index_path).is_file():
                        self.require_index()  # raises not_indexed
                    try:
                        identity = _file_identity(Path(self.settings.index_path))
                        self._service = SearchService(
                            self.settings, pipeline=self.pipeline, index=FaceIndex(self.settings.index_path, readonly=True)
                        )
                        self._service_identity = identity
                    except ModelMismatch as exc:
                        log.error("search unavailable: %s", exc)
                        raise ApiError(503, "model_mismatch", f"Search is not available: {exc}.") from None
        return self._service


def _file_identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def state() -> WebState:
    return current_app.extensions["faceexplore"]
