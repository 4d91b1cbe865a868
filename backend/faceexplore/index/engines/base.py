"""What every indexing engine is (``IndexingEngine``) and the error one raises when its optional
dependencies are missing; the engines import these from here, not from the package, so the package's
factory (``create_engine``) and the engines import each other in one direction only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..gallery import GalleryFile
    from ..store import FaceRecord, PhotoRecord


class IndexingEngine(Protocol):
    name: str

    def __enter__(self) -> IndexingEngine: ...

    def __exit__(self, *exc) -> None: ...

    def analyse(self, gallery: str, files: Iterable[GalleryFile]) -> Iterator[tuple[PhotoRecord, list[FaceRecord]]]:
        """Each file of ``files`` (under the folder ``gallery``) analysed, in any order."""
        ...


class EngineUnavailable(ValueError):
    """The chosen engine's optional dependencies are missing."""
