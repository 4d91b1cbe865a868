"""The JSON shapes shared by several endpoints: photo objects, boxes, pagination."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import request

from .errors import bad_request

THUMBNAIL_SIZE = 400
PLACEHOLDER_SIZE = 32
FACE_CROP_SIZE = 160
MAX_PER_PAGE = 200


def gallery_url(path: str) -> str:
    return "/gallery/" + quote(path, safe="/")


def box_of(face) -> list[float]:
    return [round(float(face[k]), 1) for k in ("x1", "y1", "x2", "y2")]


def photo_json(row, confidence=None, box=None) -> dict:
    pid = int(row["id"])
    return {
        "id": pid,
        "path": row["path"],
        "url": gallery_url(row["path"]),
        "thumbnail_url": f"/cache/thumbnails/{THUMBNAIL_SIZE}/{pid}.jpg",
        "placeholder_url": f"/cache/thumbnails/{PLACEHOLDER_SIZE}/{pid}.jpg",
        "width": row["width"],
        "height": row["height"],
        "confidence": confidence,
        "box": box,
    }


def face_crop_url(face_id: int) -> str:
    return f"/cache/faces/{FACE_CROP_SIZE}/{int(face_id)}.jpg"


def person_json(row) -> dict:
    quality = json.loads(row["quality"] or "{}")
    return {
        "id": int(row["cluster_id"]),
        "face_count": int(row["face_count"]),
        "photo_count": int(row["photo_count"]),
        "cover_url": face_crop_url(row["cover_face_id"]) if row["cover_face_id"] is not None else None,
        "flags": list(quality.get("flags", [])),
    }


def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("bad_page", f"{name} must be a whole number, not {raw[:40]!r}.") from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" between 1 and {maximum}" if maximum else " of 1 or more"
        raise bad_request("bad_page", f"{name} must be a whole number{limit}.")
    return value


def page_args(default_per_page: int = 48) -> tuple[int, int]:
    """``page`` and ``per_page`` from the query string; 400 bad_page when they are not usable."""
    page = _positive_int("page", 1, 1_000_000)
    per_page = _positive_int("per_page", default_per_page, MAX_PER_PAGE)
    return page, per_page


def paging(page: int, per_page: int, total: int) -> dict:
    return {"page": page, "per_page": per_page, "total": total, "pages": (total + per_page - 1) // per_page}
