"""Indexing engines: where `faceexplore index` analyses photos (decode, detect, embed).

Each engine turns gallery files into ``(PhotoRecord, [FaceRecord])`` pairs, in any order, one
pair per file (a photo that cannot be read is an error record, never an exception: both engines
call ``worker.analyse_job``). The indexer's one SQLite writer consumes them, so progress,
the small commits and resuming a killed run are the same whatever the engine.

- ``local`` (the default): a pool of processes on this machine (``engines/local.py``).
- ``ray``: an actor pool on a Ray cluster, fed by Ray Data (``engines/ray.py``); needs the
  optional ``requirements-ray.txt``. Ray is imported only when this engine is chosen.

An engine is a context manager (its workers live between enter and exit)::

    with create_engine(settings) as engine:
        for record, faces in engine.analyse(gallery, files): ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import EngineUnavailable, IndexingEngine

if TYPE_CHECKING:
    from faceexplore.settings import Settings

ENGINES = ("local", "ray")
__all__ = ["ENGINES", "EngineUnavailable", "IndexingEngine", "create_engine"]


def create_engine(settings: Settings) -> IndexingEngine:
    """The engine ``settings.engine`` names, not yet started. Raises ``EngineUnavailable`` (a
    ``ValueError``, one line) when what it needs is not installed."""
    if settings.engine == "ray":
        from .ray import RayEngine

        return RayEngine(settings)
    from .local import LocalEngine

    return LocalEngine(settings)
