"""GET /api/status (what the index holds, and what the live-gallery watcher is doing) and GET
/api/health (the worker is up)."""

from __future__ import annotations

import logging
import time

from flask_openapi3 import APIBlueprint

from ..index import retention
from ..live.status import read_status, status_path
from ..people.null_model import NullModel
from .core.models import Health, LiveState, Status
from .core.serialize import json_response
from .core.state import state
from .session.routes import is_organiser

bp = APIBlueprint("status", __name__)
log = logging.getLogger(__name__)


def _iso(timestamp) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)) if timestamp else None


@bp.get("/api/health", operation_id="health", summary="The worker is up", responses={200: Health})
def health():
    return json_response(Health(status="ok"))


@bp.get("/api/status", operation_id="status", summary="What the index holds", responses={200: Status})
def status():
    organiser = is_organiser()
    closed = retention.purged(state().settings.data_dir) is not None
    answer = _status().model_copy(
        update={"live": live_state(organiser), "uploads": state().settings.uploads != "off", "search_closed": closed}
    )
    if not organiser:  # the counts the search page shows; nothing about the models or the gallery's files
        answer = answer.model_copy(
            update={
                "model": None,
                "threshold": None,
                "threshold_method": None,
                "last_indexed": None,
                "search_threshold": None,
                "errors": None,
                "uploads": None,
            }
        )
    return json_response(answer)


def live_state(organiser: bool) -> LiveState | None:
    """The watcher's status file as the API shows it: all of it to the organiser; to a visitor
    only whether photos are being added and when photos last became searchable, and nothing
    while no watcher runs (its messages and error counts may speak of the gallery's files)."""
    data_dir = state().settings.data_dir
    try:
        live = read_status(data_dir)
        if live is None or (not organiser and not live.watching):
            return None
        full = _live_model(live)
    except (TypeError, ValueError, OverflowError):  # a damaged file: as if there were none
        log.warning("ignoring a damaged %s", status_path(data_dir))
        return None
    if organiser:
        return full
    hidden = set(LiveState.model_fields) - {"watching", "adding", "last_indexed_at"}
    return full.model_copy(update=dict.fromkeys(hidden))


def _live_model(live) -> LiveState:
    return LiveState(
        watching=live.watching,
        adding=max(0, int(live.waiting)) + max(0, int(live.indexing)),
        last_indexed_at=_iso(live.last_indexed_at),
        waiting=live.waiting,
        indexing=live.indexing,
        last_change_at=_iso(live.last_change_at),
        reclustering=live.reclustering,
        last_reclustered_at=_iso(live.last_reclustered_at),
        updated_at=_iso(live.updated_at),
        recent_errors=live.recent_errors,
        message=live.message,
    )


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
            live=None,
            uploads=None,
            search_closed=False,
        )
    with index.snapshot():
        counts = index.counts()
        clustering = index.active_clustering()
        if not is_organiser() and counts["people"] is not None:
            # a visitor counts what they could be shown: hidden people and what is withheld
            # because of them (withheld.py) are not in the gallery for them
            withheld = st.withheld(index, is_organiser())
            counts["people"] = index.people_page(1, 0, exclude=withheld.people).total
            counts["photos"] -= len(withheld.photos)
            counts["faces"] -= len(withheld.faces)
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
        live=None,
        uploads=None,
        search_closed=False,
    )
