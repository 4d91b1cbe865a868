"""GET /api/people and /api/people/<id>: the people (clusters) of the active clustering."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .errors import not_found
from .serialize import box_of, page_args, paging, person_json, photo_json
from .state import state

bp = Blueprint("people", __name__)

ACTIVE = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'active_clustering')"


@bp.get("/api/people")
def people():
    page, per_page = page_args()
    index = state().index()
    if index is None:
        return jsonify({"people": [], **paging(page, per_page, 0)})
    with index.snapshot() as db:
        total = db.execute(f"SELECT COUNT(*) FROM clusters WHERE clustering_id = {ACTIVE}").fetchone()[0]
        rows = db.execute(
            f"SELECT * FROM clusters WHERE clustering_id = {ACTIVE} "
            "ORDER BY face_count DESC, photo_count DESC, cluster_id LIMIT ? OFFSET ?",
            (per_page, (page - 1) * per_page),
        ).fetchall()
    return jsonify({"people": [person_json(r) for r in rows], **paging(page, per_page, total)})


@bp.get("/api/people/<int:person_id>")
def person(person_id: int):
    page, per_page = page_args()
    index = state().index()
    if index is None:
        raise not_found(f"There is no person {person_id}.")
    with index.snapshot() as db:
        row = db.execute(f"SELECT * FROM clusters WHERE clustering_id = {ACTIVE} AND cluster_id = ?", (person_id,)).fetchone()
        if row is None:
            raise not_found(f"There is no person {person_id}; the gallery may have been clustered again since.")
        where = (
            "FROM photos p JOIN faces f ON f.photo_id = p.id "
            f"JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {ACTIVE} WHERE m.cluster_id = ?"
        )
        total = db.execute(f"SELECT COUNT(DISTINCT p.id) {where}", (person_id,)).fetchone()[0]
        photos = db.execute(
            f"SELECT p.*, f.x1, f.y1, f.x2, f.y2 {where} GROUP BY p.id ORDER BY p.path LIMIT ? OFFSET ?",
            (person_id, per_page, (page - 1) * per_page),
        ).fetchall()
    return jsonify(
        {
            "person": person_json(row),
            "photos": [photo_json(p, confidence=None, box=box_of(p)) for p in photos],
            **paging(page, per_page, total),
        }
    )
