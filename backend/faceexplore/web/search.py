"""POST /api/search: sample photos of a person in, that person's gallery photos out.

The samples are read into memory and analysed there: they are never written to disk or logged
(``app.InMemoryRequest`` keeps Werkzeug from spooling large uploads to a temporary file).
"""

from __future__ import annotations

import math
import os

from flask import Blueprint, jsonify, request

from ..search_service import SearchInputError
from .errors import ApiError, bad_request
from .serialize import photo_json
from .state import state

bp = Blueprint("search", __name__)

MAX_SAMPLES = 10


def _display_name(filename: str | None, i: int) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    return name[:200] or f"photo {i + 1}"


def _face_choices(n: int) -> list[int | None]:
    raw = request.form.getlist("faces")
    if not raw:
        return [None] * n
    if len(raw) != n:
        raise bad_request("bad_face_choice", f"Give one face choice per photo ({n}), or none at all; got {len(raw)}.")
    choices = []
    for value in raw:
        value = value.strip()
        if value == "":
            choices.append(None)
            continue
        try:
            choice = int(value)
        except ValueError:
            raise bad_request("bad_face_choice", f"A face choice must be the number of a face, not {value[:40]!r}.") from None
        if choice < 0:
            raise bad_request("bad_face_choice", f"A face choice must be 0 or more, not {choice}.")
        choices.append(choice)
    return choices


def _false_alarm_rate() -> float | None:
    raw = request.form.get("false_alarm_rate", "").strip()
    if not raw:
        return None
    try:
        rate = float(raw)
    except ValueError:
        rate = math.nan
    if not (0 < rate < 1):
        raise bad_request("bad_false_alarm_rate", "false_alarm_rate must be a number between 0 and 1, such as 0.01.")
    return rate


def _samples() -> list[tuple[str, bytes]]:
    samples = []
    for upload in request.files.getlist("images"):
        data = upload.read()
        if not upload.filename and not data:  # an empty file input
            continue
        samples.append((_display_name(upload.filename, len(samples)), data))
    return samples


@bp.post("/api/search")
def search():
    samples = _samples()
    if not samples:
        raise bad_request("no_file", "Add at least one photo of the person (form field 'images').")
    if len(samples) > MAX_SAMPLES:
        raise bad_request("too_many_files", f"Use at most {MAX_SAMPLES} sample photos in one search; {len(samples)} were sent.")
    choices = _face_choices(len(samples))
    rate = _false_alarm_rate()
    st = state()
    try:
        with st.search_lock:
            service = st.service()
            reports, chosen = service.analyse_samples([(name, data, choice) for (name, data), choice in zip(samples, choices)])
            del samples
            result = service.search_analysed(reports, chosen, rate)
    except SearchInputError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    person_id = result["person_id"]
    if person_id is not None and not _is_person(st, person_id):
        person_id = None  # a face indexed after the last clustering: no person page for it yet
    rule = result["rule"]
    return jsonify(
        {
            "found": result["found"],
            "confidence": result["confidence"],
            "rule": {
                "name": rule["name"],
                "threshold": rule["threshold"],
                "false_alarm_rate": rule["false_alarm_rate"],
                "best_score": rule.get("best_score"),
                "text": rule["text"],
            },
            "message": result["message"],
            "person_id": person_id,
            "samples": result["samples"],
            "photos": [photo_json(p, confidence=p["confidence"], box=p["box"]) for p in result["photos"]],
        }
    )


def _is_person(st, person_id: int) -> bool:
    index = st.index()
    if index is None:
        return False
    row = index.db.execute(
        "SELECT 1 FROM clusters c JOIN meta m ON m.key = 'active_clustering' "
        "AND CAST(m.value AS INTEGER) = c.clustering_id WHERE c.cluster_id = ?",
        (int(person_id),),
    ).fetchone()
    return row is not None
