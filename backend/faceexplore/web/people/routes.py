"""The people of the active clustering, and the organiser's corrections of them.

Reads: GET /api/people (``q``: name filter), /api/people/<id>, /api/people/<id>/faces. With
``people_page = "organiser"`` (the default) only the logged-in organiser reads them; with
``"public"`` anyone does, but hidden people are never shown to a visitor (404, as for no one),
nor any photo or face withheld because of them (faceexplore/search/withheld.py).

Corrections (organiser, with the X-CSRF-Token header): PATCH /api/people/<id> (name, hidden),
POST /api/people/<id>/merge, /api/faces/move, /api/faces/reject, /api/undo (the last one),
/api/corrections/<id>/undo (any one, with the later ones that depend on it; GET
/api/corrections/<id>/undo-plan says which first); GET /api/corrections (the History page).
They are made by people.PeopleEditor, one transaction each.
"""

from __future__ import annotations

import time

from flask_openapi3 import APIBlueprint

from ..core.errors import bad_request, error_responses, not_found
from ..core.models import (
    Correction,
    CorrectionPath,
    Corrections,
    Face,
    MergeRequest,
    MoveRequest,
    PageQuery,
    PeoplePage,
    PeopleQuery,
    Person,
    PersonChange,
    PersonFaces,
    PersonPage,
    PersonPath,
    Rejected,
    RejectRequest,
    Undone,
    UndoPlan,
)
from ..core.serialize import box_list, json_response, paging
from ..core.state import state
from ..gallery.urls import face_crop_url, person_model, photo_model
from ..session.routes import (
    ORGANISER_CHANGE,
    ORGANISER_ONLY,
    PEOPLE_PAGES,
    is_organiser,
    require_organiser,
    require_organiser_change,
    require_people_access,
)

bp = APIBlueprint("people", __name__)
# The person routes take <person_id>, not <int:person_id>: a path that is not an id is then a 404
# from PersonPath for every method (with the int converter, PATCH /api/people/abc would find only
# frontend.py's GET-only catch-all and answer 405).

LOGIN = {401: "login_required: the people pages are the organiser's (setting people_page)"}
ORGANISER = {401: "login_required: for the organiser only"}
CHANGE = {
    **ORGANISER,
    403: "csrf_failed: the X-CSRF-Token header is missing or wrong",
    503: "not_indexed, busy: the index is being written by `faceexplore index` or `cluster`",
}


@bp.get(
    "/api/people",
    operation_id="listPeople",
    summary="The people of the gallery (clusters of faces), most faces first",
    responses={200: PeoplePage, **error_responses({**LOGIN, 400: "bad_page"})},
    security=PEOPLE_PAGES,
)
def people(query: PeopleQuery):
    require_people_access()
    index = state().index()
    offset = (query.page - 1) * query.per_page
    total, people = 0, []
    if index is not None:
        with index.snapshot():
            withheld = state().withheld(index, is_organiser())
            found = index.people_page(query.per_page, offset, include_hidden=is_organiser(), query=query.q, exclude=withheld.people)
            total, people = found.total, [_shown(p, withheld, index) for p in found.items]
    return json_response(PeoplePage(people=people, **paging(query.page, query.per_page, total)))


def _shown(person, withheld, index) -> Person:
    """A person as this request may see them: no cover cropped from a withheld photo (withheld.py)."""
    model = person_model(person)
    if withheld and person.cover_face_id is not None:
        cover = index.face_info(person.cover_face_id)
        if cover is None or cover.photo_id in withheld.photos:
            model = model.model_copy(update={"cover_url": None})
    return model


@bp.get(
    "/api/people/<person_id>",
    operation_id="getPerson",
    summary="One person and the photos they are in (box: their face)",
    responses={200: PersonPage, **error_responses({**LOGIN, 400: "bad_page", 404: "not_found: no such person (or not any more)"})},
    security=PEOPLE_PAGES,
)
def person(path: PersonPath, query: PageQuery):
    require_people_access()
    person_id = path.person_id
    index = state().index()
    if index is None:
        raise not_found(f"There is no Person {person_id}.")
    with index.snapshot():
        withheld = state().withheld(index, is_organiser())
        found = index.person(person_id, include_hidden=is_organiser())
        if found is None or found.id in withheld.people:
            raise not_found(f"There is no Person {person_id}; the gallery may have been clustered again since.")
        photos = index.person_photos(person_id, query.per_page, (query.page - 1) * query.per_page, exclude=withheld.photos)
        shown = _shown(found, withheld, index)
    if withheld:  # the photos a visitor is shown: their count too
        shown = shown.model_copy(update={"photo_count": photos.total})
    return json_response(
        PersonPage(
            person=shown,
            photos=[photo_model(p.photo, box=p.box) for p in photos.items],
            **paging(query.page, query.per_page, photos.total),
        )
    )


@bp.get(
    "/api/people/<person_id>/faces",
    operation_id="getPersonFaces",
    summary="A person's faces, to move or reject (organiser)",
    responses={200: PersonFaces, **error_responses({**ORGANISER, 400: "bad_page", 404: "not_found: no such person"})},
    security=ORGANISER_ONLY,
)
def person_faces(path: PersonPath, query: PageQuery):
    require_organiser()
    index = state().index()
    person_id = path.person_id
    if index is None:
        raise not_found(f"There is no Person {person_id}.")
    with index.snapshot():
        if index.person(person_id, include_hidden=True) is None:
            raise not_found(f"There is no Person {person_id}; the gallery may have been clustered again since.")
        faces = index.person_faces(person_id, query.per_page, (query.page - 1) * query.per_page)
    return json_response(
        PersonFaces(
            faces=[Face(id=f.id, photo_id=f.photo_id, crop_url=face_crop_url(f.id), box=box_list(f.box)) for f in faces.items],
            **paging(query.page, query.per_page, faces.total),
        )
    )


@bp.patch(
    "/api/people/<person_id>",
    operation_id="updatePerson",
    summary="Name or hide a person (organiser)",
    responses={
        200: Person,
        **error_responses({**CHANGE, 400: "bad_request", 404: "not_found", 422: "bad_name: control characters or line breaks in the name"}),
    },
    security=ORGANISER_CHANGE,
)
def update_person(path: PersonPath, body: PersonChange):
    require_organiser_change()
    if not body.model_fields_set:
        raise bad_request("bad_request", 'Send {"name": "...", "hidden": true|false}, either or both.')
    with state().editor() as editor:
        found = editor.get(path.person_id)
        if "name" in body.model_fields_set:
            found = editor.rename(path.person_id, body.name)
        if body.hidden is not None:
            found = editor.set_hidden(path.person_id, body.hidden)
    return json_response(person_model(found))


@bp.post(
    "/api/people/<person_id>/merge",
    operation_id="mergePeople",
    summary="Merge other people into this one (organiser)",
    responses={
        200: Person,
        **error_responses(
            {
                **CHANGE,
                400: "bad_request",
                404: "not_found",
                422: "merge_into_itself: the people include this one",
                409: "same_photo (two faces of one photo would become one person), not_clustered",
            }
        ),
    },
    security=ORGANISER_CHANGE,
)
def merge(path: PersonPath, body: MergeRequest):
    require_organiser_change()
    with state().editor() as editor:
        return json_response(person_model(editor.merge(path.person_id, body.people)))


@bp.post(
    "/api/faces/move",
    operation_id="moveFaces",
    summary="Move faces to a person, or to a new person (to: null) (organiser)",
    responses={
        200: Person,
        **error_responses(
            {
                **CHANGE,
                400: "bad_request",
                404: "not_found",
                409: "face_rejected, same_photo (two faces of one photo would become one person), not_clustered",
            }
        ),
    },
    security=ORGANISER_CHANGE,
)
def move_faces(body: MoveRequest):
    require_organiser_change()
    with state().editor() as editor:
        return json_response(person_model(editor.move_faces(body.faces, body.to)))


@bp.post(
    "/api/faces/reject",
    operation_id="rejectFaces",
    summary="Mark faces as not a face: out of every person and of search (organiser)",
    responses={200: Rejected, **error_responses({**CHANGE, 400: "bad_request", 404: "not_found", 409: "not_clustered"})},
    security=ORGANISER_CHANGE,
)
def reject_faces(body: RejectRequest):
    require_organiser_change()
    with state().editor() as editor:
        return json_response(Rejected(rejected=editor.reject_faces(body.faces)))


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def correction_model(c, why_not: str | None = None, listed: bool = False) -> Correction:
    """``listed``: in the list of corrections, which says whether each can be undone now."""
    extra = {"undoable": why_not is None, "not_undoable_because": why_not} if listed else {}
    return Correction(
        id=c.id, at=_iso(c.at), kind=c.kind, description=c.description, undone=c.undone, who=c.who, undone_with=c.undone_with, **extra
    )


def _undone(result) -> Undone:
    return Undone(undone=correction_model(result.correction), also=[correction_model(c) for c in result.also])


@bp.post(
    "/api/undo",
    operation_id="undo",
    summary="Undo the latest correction not undone yet (organiser)",
    responses={200: Undone, **error_responses({**CHANGE, 409: "nothing_to_undo"})},
    security=ORGANISER_CHANGE,
)
def undo():
    require_organiser_change()
    with state().editor() as editor:
        return json_response(_undone(editor.undo()))


UNDO_ERRORS = {404: "not_found: no such correction", 409: "already_undone, not_undoable: made before the faces were clustered again"}


@bp.get(
    "/api/corrections/<correction_id>/undo-plan",
    operation_id="undoPlan",
    summary="What undoing a correction would take back: it and the later corrections that depend on it (organiser)",
    responses={200: UndoPlan, **error_responses({**ORGANISER, **UNDO_ERRORS, 503: "not_indexed, busy"})},
    security=ORGANISER_ONLY,
)
def undo_plan(path: CorrectionPath):
    require_organiser()
    with state().editor() as editor:
        plan = editor.undo_plan(path.correction_id)
    return json_response(UndoPlan(correction=correction_model(plan.correction), also=[correction_model(c) for c in plan.also]))


@bp.post(
    "/api/corrections/<correction_id>/undo",
    operation_id="undoCorrection",
    summary="Undo a correction and every later one that depends on it (same people or faces), newest first (organiser)",
    responses={200: Undone, **error_responses({**CHANGE, **UNDO_ERRORS})},
    security=ORGANISER_CHANGE,
)
def undo_correction(path: CorrectionPath):
    require_organiser_change()
    with state().editor() as editor:
        return json_response(_undone(editor.undo(path.correction_id)))


@bp.get(
    "/api/corrections",
    operation_id="listCorrections",
    summary="The organiser's corrections, newest first: who, when, what, whether each can be undone (organiser)",
    responses={200: Corrections, **error_responses({**ORGANISER, 503: "not_indexed"})},
    security=ORGANISER_ONLY,
)
def corrections():
    require_organiser()
    with state().editor() as editor:
        log = editor.log()
        why_not = editor.undoable(log)
        return json_response(Corrections(corrections=[correction_model(c, why_not[c.id], listed=True) for c in log]))
