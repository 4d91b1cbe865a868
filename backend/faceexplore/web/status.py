"""GET /api/status (what the index holds) and GET /api/health (the worker is up)."""

from __future__ import annotations

import time

from flask_openapi3 import APIBlueprint

from ..search import NullModel
from .models import Health, Status
from .serialize import json_response
from .session import is_organiser
from .state import state

bp = APIBlueprint("status", __name__)


def _iso(timestamp) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)) if timestamp else None


@bp.get("/api/health", operation_id="health", summary="The worker is up", responses={200: Health})
def health():
    return json_response(Health(status="ok"))


@bp.get("/api/status", operation_id="status", summary="What the index holds", responses={200: Status})
def status():
    answer = _status()
    if not is_organiser():  # the counts the search page shows; nothing about the models or the gallery's files
        answer = answer.model_copy(
            update={
                "model": None,
                "threshold": None,
                "threshold_method": None,
                "last_indexed": None,
                "search_threshold": None,
                "errors": None,
            }
        )
    return json_response(answer)


def _status() -> Status:
    st = state()
    rate = st.settings.false_alarm_rate
    index = st.index()
    if index is None:
        return Status(
            photos=0,
            faces=0,
            people=0,
            model=None,
            threshold=None,
            threshold_method=None,
            last_indexed=None,
            search_threshold=None,
            false_alarm_rate=rate,
            indexed=False,
            errors=0,
            clustered=False,
        )
    with index.snapshot():
        counts = index.counts()
        clustering = index.active_clustering()
    null = ((clustering or {}).get("details") or {}).get("search_null")
    search_threshold = NullModel.from_dict(null).distance_at(rate) if null else None
    return Status(
        photos=counts["photos"],
        faces=counts["faces"],
        people=counts["people"] or 0,
        model=counts["model"],
        threshold=counts["threshold"],
        threshold_method=counts["threshold_method"],
        last_indexed=_iso(counts["last_indexed"]),
        search_threshold=search_threshold,
        false_alarm_rate=rate,
        indexed=True,
        errors=counts["errors"],
        clustered=clustering is not None,
    )
