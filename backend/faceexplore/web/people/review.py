"""The organiser's review queue (people/review.py): GET /api/review, the questions best first;
POST /api/review/<id> with {"answer": "yes" | "no" | "skip"} (X-CSRF-Token header)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint

from faceexplore.people.review import answer_question, review_queue, worth_answering

from ..core.errors import error_responses
from ..core.models import (
    FaceBelongsQuestion,
    NotAFaceQuestion,
    ReviewAnswer,
    ReviewAnswered,
    ReviewPath,
    ReviewQuery,
    ReviewQueue,
    ReviewSide,
    SamePersonQuestion,
)
from ..core.serialize import box_list, json_response
from ..core.state import state
from ..gallery.urls import face_crop_url
from ..session.routes import ORGANISER_CHANGE, ORGANISER_ONLY, require_organiser, require_organiser_change

bp = APIBlueprint("review", __name__)

ORGANISER = {401: "login_required: for the organiser only"}
CHANGE = {
    **ORGANISER,
    403: "csrf_failed: the X-CSRF-Token header is missing or wrong",
    503: "not_indexed, busy: the index is being written by `faceexplore index` or `cluster`",
}


def question_model(q, index):
    crops = lambda faces: [face_crop_url(f) for f in faces]  # noqa: E731
    if q.kind == "same_person":
        return SamePersonQuestion(
            id=q.id,
            kind=q.kind,
            a=ReviewSide(person=q.person, faces=list(q.faces), crops=crops(q.faces)),
            b=ReviewSide(person=q.other_person, faces=list(q.other_faces), crops=crops(q.other_faces)),
            score=round(q.score, 4),
        )
    face = q.faces[0]
    if q.kind == "face_belongs":
        return FaceBelongsQuestion(
            id=q.id,
            kind=q.kind,
            face=face,
            crop=face_crop_url(face),
            person=q.person,
            person_faces=list(q.other_faces),
            person_crops=crops(q.other_faces),
            score=round(q.score, 4),
        )
    info = index.face_info(face)
    return NotAFaceQuestion(
        id=q.id, kind=q.kind, face=face, crop=face_crop_url(face), photo_id=info.photo_id, box=box_list(info.box), score=round(q.score, 4)
    )


@bp.get(
    "/api/review",
    operation_id="listReviewQuestions",
    summary="The review queue: questions whose answers change the people most, best first (organiser)",
    responses={200: ReviewQueue, **error_responses({**ORGANISER, 400: "bad_request"})},
    security=ORGANISER_ONLY,
)
def questions(query: ReviewQuery):
    require_organiser()
    index = state().index()
    if index is None:
        return json_response(ReviewQueue(questions=[], total=0, worth_answering=0))
    queue = review_queue(index)
    shown = [question_model(q, index) for q in queue[: query.limit]]
    return json_response(ReviewQueue(questions=shown, total=len(queue), worth_answering=worth_answering(queue)))


@bp.post(
    "/api/review/<question_id>",
    operation_id="answerReviewQuestion",
    summary="Answer a question of the review queue: yes, no or skip (organiser)",
    responses={
        200: ReviewAnswered,
        **error_responses(
            {
                **CHANGE,
                400: "bad_request",
                404: "not_found: no such question (answered already, or the people changed since)",
                409: "same_photo, face_rejected, not_clustered",
            }
        ),
    },
    security=ORGANISER_CHANGE,
)
def answer(path: ReviewPath, body: ReviewAnswer):
    require_organiser_change()
    with state().editor() as editor:
        answer_question(editor, path.question_id, body.answer)
        left = worth_answering(review_queue(editor.index))
    return json_response(ReviewAnswered(answered=path.question_id, answer=body.answer, worth_answering=left))
