"""A search's answer, shared by POST /api/search (routes) and POST /api/search/confirm
(candidates): the photos, the samples, the found person's id where this browser may open their
page, and the candidates offered, each with its token."""

from __future__ import annotations

import secrets

from faceexplore.search.service import CandidatePerson, SearchOutcome

from ..core.models import Candidate, ErrorDetail, Rule, Sample, SampleFace, SearchResponse
from ..core.state import state
from ..core.tokens import CANDIDATE, seal_for_app
from ..gallery import links
from ..gallery.urls import face_crop_url, photo_model
from ..session.routes import is_organiser
from .actions import action_tokens


def _token(search_id: str, person: CandidatePerson, near: list[int]) -> str:
    return seal_for_app(CANDIDATE, {"s": search_id, "p": person.person_id, "ph": person.photo_ids, "c": person.confidence, "n": near})


def offered(outcome: SearchOutcome) -> dict[str, list[Candidate]]:
    """The ``candidates`` and ``also_you`` of a search's answer, each with its token."""
    search_id = secrets.token_urlsafe(12)
    ids = [c.person_id for c in outcome.candidates]

    def model(person: CandidatePerson, near: list[int]) -> Candidate:
        return Candidate(token=_token(search_id, person, near), face_url=face_crop_url(person.face_id))

    return {
        # a confirmed candidate's "also you" are found among the other candidates
        "candidates": [model(c, [i for i in ids if i != c.person_id]) for c in outcome.candidates],
        "also_you": [model(c, []) for c in outcome.also_you],
    }


def visible_person_id(person_id: int | None) -> int | None:
    """The found person's id when this browser may open their page, else None."""
    st = state()
    if person_id is not None and st.settings.people_page == "organiser" and not is_organiser():
        person_id = None  # the visitor cannot open the person's page
    if person_id is not None:
        index = st.index()
        if index is None or index.person(person_id) is None:
            person_id = None  # a face indexed after the last clustering: no person page for it yet
    return person_id


def search_response(outcome: SearchOutcome, person_id: int | None, samples=None) -> SearchResponse:
    """``samples``: the sample embeddings used (for the answer's removal and save tokens)."""
    rule = outcome.rule
    return SearchResponse(
        **offered(outcome),
        found=outcome.found,
        confidence=outcome.confidence,
        rule=Rule.model_validate(rule, from_attributes=True),
        message=outcome.message,
        person_id=person_id,
        samples=[
            Sample(
                index=s.index,
                filename=s.filename,
                width=s.width,
                height=s.height,
                faces=[SampleFace(index=f.index, box=f.box, probability=f.probability) for f in s.faces],
                used_face=s.used_face,
                error=None if s.error is None else ErrorDetail(code=s.error.code, message=s.error.message),
            )
            for s in outcome.samples
        ],
        photos=[photo_model(p, confidence=p.confidence, box=p.box) for p in outcome.photos],
        download_token=links.download_token(p.id for p in outcome.photos),
        **action_tokens(outcome, samples),
    )
