"""GET /api/people and /api/people/<id>: the people (clusters) of the active clustering."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint

from .errors import error_responses, not_found
from .models import PageQuery, PeoplePage, PersonPage, PersonPath
from .serialize import json_response, paging, person_model, photo_model
from .session import require_people_access
from .state import state

bp = APIBlueprint("people", __name__)


@bp.get(
    "/api/people",
    operation_id="listPeople",
    summary="The people of the gallery (clusters of faces), most faces first",
    responses={
        200: PeoplePage,
        **error_responses({401: "login_required: the people pages are the organiser's (setting people_page)", 400: "bad_page"}),
    },
)
def people(query: PageQuery):
    require_people_access()
    index = state().index()
    offset = (query.page - 1) * query.per_page
    found = index.people_page(query.per_page, offset) if index is not None else None
    total, people = (found.total, found.items) if found is not None else (0, [])
    return json_response(PeoplePage(people=[person_model(p) for p in people], **paging(query.page, query.per_page, total)))


@bp.get(
    "/api/people/<int:person_id>",
    operation_id="getPerson",
    summary="One person and the photos they are in (box: their face)",
    responses={
        200: PersonPage,
        **error_responses(
            {
                401: "login_required: the people pages are the organiser's (setting people_page)",
                400: "bad_page",
                404: "not_found: no such person (or not any more)",
            }
        ),
    },
)
def person(path: PersonPath, query: PageQuery):
    require_people_access()
    person_id = path.person_id
    index = state().index()
    if index is None:
        raise not_found(f"There is no person {person_id}.")
    with index.snapshot():
        found = index.person(person_id)
        if found is None:
            raise not_found(f"There is no person {person_id}; the gallery may have been clustered again since.")
        photos = index.person_photos(person_id, query.per_page, (query.page - 1) * query.per_page)
    return json_response(
        PersonPage(
            person=person_model(found),
            photos=[photo_model(p.photo, box=p.box) for p in photos.items],
            **paging(query.page, query.per_page, photos.total),
        )
    )
