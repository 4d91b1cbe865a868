"""The one way a view answers with a model (models.py), and the API's small shared shapes.
The URLs of photos, thumbnails and face crops, and the Photo and Person models built from them,
are the gallery's (gallery/urls.py)."""

from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel

from .models import Paginated


def json_response(model: BaseModel, status: int = 200):
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


def box_list(box) -> list[float]:
    return [round(float(v), 1) for v in box]


def paging(page: int, per_page: int, total: int) -> dict:
    """The Paginated fields, as keyword arguments for a page model."""
    return Paginated(page=page, per_page=per_page, total=total, pages=(total + per_page - 1) // per_page).model_dump()
