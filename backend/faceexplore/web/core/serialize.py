"""From the store's and the search's typed results to the API's response models (models.py),
and the one way a view answers with a model."""

from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel

from faceexplore.index.gallery import filesystem_path
from faceexplore.index.store.face_index import PersonInfo, PhotoInfo
from faceexplore.search.service import PhotoMatch

from ..gallery import links
from .models import Paginated, Person, Photo
from .state import state

THUMBNAIL_SIZE = 400
PLACEHOLDER_SIZE = 32
FACE_CROP_SIZE = 160


def json_response(model: BaseModel, status: int = 200):
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


def gallery_url(path: str) -> str:
    """The URL of a gallery photo's stored path: the name on disk, whose bytes the URL holds
    percent-encoded (what nginx opens, and the app's /gallery/ route reads back); signed when
    the gallery is private."""
    return links.url("/gallery/" + filesystem_path(path))


def box_list(box) -> list[float]:
    return [round(float(v), 1) for v in box]


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


def paging(page: int, per_page: int, total: int) -> dict:
    """The Paginated fields, as keyword arguments for a page model."""
    return Paginated(page=page, per_page=per_page, total=total, pages=(total + per_page - 1) // per_page).model_dump()
