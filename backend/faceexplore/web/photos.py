"""GET /api/photos/<id>: one photo and its faces, each with its person."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .errors import not_found
from .people import ACTIVE
from .serialize import box_of, face_crop_url, photo_json
from .state import state

bp = Blueprint("photos", __name__)


@bp.get("/api/photos/<int:photo_id>")
def photo(photo_id: int):
    index = state().index()
    if index is None:
        raise not_found(f"There is no photo {photo_id}.")
    with index.snapshot() as db:
        row = db.execute("SELECT * FROM photos WHERE id = ?", (photo_id,)).fetchone()
        if row is None:
            raise not_found(f"There is no photo {photo_id}; it may have been removed from the gallery.")
        faces = db.execute(
            "SELECT f.id, f.x1, f.y1, f.x2, f.y2, f.probability, m.cluster_id FROM faces f "
            f"LEFT JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {ACTIVE} "
            "WHERE f.photo_id = ? ORDER BY f.x1, f.id",
            (photo_id,),
        ).fetchall()
    return jsonify(
        {
            "photo": photo_json(row),
            "faces": [
                {
                    "id": int(f["id"]),
                    "box": box_of(f),
                    "probability": round(float(f["probability"]), 4),
                    "person_id": None if f["cluster_id"] is None else int(f["cluster_id"]),
                    "crop_url": face_crop_url(f["id"]),
                }
                for f in faces
            ],
        }
    )
