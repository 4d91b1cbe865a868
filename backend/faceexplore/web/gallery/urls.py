"""From the store's and the search's typed results to the API's Photo and Person models, with
the URLs of gallery photos, thumbnails and face crops: signed (links.py) when the gallery is
private."""

from __future__ import annotations

from faceexplore.index.gallery import filesystem_path
from faceexplore.index.store import PersonInfo, PhotoInfo
from faceexplore.search.service import PhotoMatch

from ..core.models import Person, Photo
from ..core.serialize import box_list
from ..core.state import state
from . import links

THUMBNAIL_SIZE = 400
PLACEHOLDER_SIZE = 32
FACE_CROP_SIZE = 160


def gallery_url(path: str) -> str:
    """The URL of a gallery photo's stored path: the name on disk, whose bytes the URL holds
    percent-encoded (what nginx opens, and the app's /gallery/ route reads back); signed when
    the gallery is private."""
    return links.url("/gallery/" + filesystem_path(path))


def photo_model(photo: PhotoInfo | PhotoMatch, confidence: float | None = None, box=None) -> Photo:
    return Photo(
        id=photo.id,
        path=photo.path,
        url=gallery_url(photo.path),
        thumbnail_url=thumbnail_url(photo.id, THUMBNAIL_SIZE),
        placeholder_url=thumbnail_url(photo.id, PLACEHOLDER_SIZE),
        width=photo.width,
        height=photo.height,
        confidence=confidence,
        box=None if box is None else box_list(box),
    )


def thumbnail_url(photo_id: int, size: int) -> str:
    return links.url(f"/cache/{state().cache_generation()}/thumbnails/{size}/{int(photo_id)}.jpg")


def face_crop_url(face_id: int) -> str:
    return links.url(f"/cache/{state().cache_generation()}/faces/{FACE_CROP_SIZE}/{int(face_id)}.jpg")


def person_model(person: PersonInfo) -> Person:
    """From the store's PersonInfo or people.PersonSummary (which add a name and the hidden flag)."""
    return Person(
        id=person.id,
        name=getattr(person, "name", None),
        hidden=bool(getattr(person, "hidden", False)),
        face_count=person.face_count,
        photo_count=person.photo_count,
        cover_url=face_crop_url(person.cover_face_id) if person.cover_face_id is not None else None,
        flags=person.flags,
    )
