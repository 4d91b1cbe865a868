"""The organiser's review queue (faceexplore/people/review.py) on synthetic embeddings whose truth
is known: a clustering with too low a threshold splits people, and the queue must ask first
about the pieces that are one person; answers are corrections that survive `cluster`."""

from __future__ import annotations

import numpy as np
import pytest

from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.people.clustering import cluster_index
from faceexplore.people.corrections import CorrectionError, PeopleEditor
from faceexplore.people.review import answer_question, question_id, review_queue, worth_answering
from tests.test_people_recluster import DIM, add_faces, centres

SPLIT_THRESHOLD = 0.26  # under the typical distance between two faces of one person (about 0.3)
quiet = {"progress": lambda *a, **k: None}


@pytest.fixture()
def gallery(tmp_path):
    """An index of 20 people with 6 faces each, clustered too finely; truth: face id -> person."""
    with FaceIndex(tmp_path / "index.sqlite3") as index:
        index.check_model("synthetic", DIM)
        people = centres()
        faces = add_faces(index, people, [(f"bg{k}", 6) for k in range(20)], np.random.default_rng(5), "old")
        cluster_index(index, threshold=SPLIT_THRESHOLD, **quiet)
        truth = {f: name for name, ids in faces.items() for f in ids}
        yield index, truth


def same_truth(truth, faces) -> bool:
    return len({truth[f] for f in faces}) == 1


def test_the_queue_asks_first_about_pieces_of_one_person_and_yes_merges_them_for_good(gallery):
    index, truth = gallery
    queue = review_queue(index)
    same = [q for q in queue if q.kind == "same_person"]
    assert len(same) >= 10 and worth_answering(queue) > 0
    assert [q.score for q in queue] == sorted((q.score for q in queue), reverse=True)
    # the best ten are right far more often than a random pair of people (1 in 20 here)
    right = sum(same_truth(truth, q.faces + q.other_faces) for q in same[:10])
    assert right >= 8
    people_before = index.active_people_count()
    editor = PeopleEditor(index)
    top = next(q for q in same if same_truth(truth, q.faces + q.other_faces))
    answer_question(editor, top.id, "yes")
    members = index.active_memberships()
    assert members[top.faces[0]] == members[top.other_faces[0]]
    assert index.active_people_count() == people_before - 1
    assert top.id not in {q.id for q in review_queue(index)}  # answered: gone
    cluster_index(index, threshold=SPLIT_THRESHOLD, **quiet)  # the merge is pinned: it survives
    members = index.active_memberships()
    assert members[top.faces[0]] == members[top.other_faces[0]]


def test_no_keeps_two_people_apart_through_a_new_clustering_and_undo_lifts_it(gallery):
    index, truth = gallery
    editor = PeopleEditor(index)
    top = next(q for q in review_queue(index) if q.kind == "same_person")
    answer_question(editor, top.id, "no")
    assert editor.log()[0].kind == "apart"
    assert top.id not in {q.id for q in review_queue(index)}
    # a threshold that joins everyone joins them too, but for the cannot-links
    cluster_index(index, threshold=5.0, **quiet)
    members = index.active_memberships()
    assert members[top.faces[0]] != members[top.other_faces[0]]
    assert len({members[f] for f in truth}) == 2  # everyone else joined one side or the other
    # undone before a new clustering: the cannot-links go
    cluster_index(index, threshold=SPLIT_THRESHOLD, **quiet)
    top = next(q for q in review_queue(index) if q.kind == "same_person")
    links = index.db.execute("SELECT COUNT(*) FROM face_cannot_links").fetchone()[0]
    answer_question(editor, top.id, "no")
    assert index.db.execute("SELECT COUNT(*) FROM face_cannot_links").fetchone()[0] > links
    editor.undo()
    assert index.db.execute("SELECT COUNT(*) FROM face_cannot_links").fetchone()[0] == links


def test_ids_are_stable_and_a_skip_is_remembered(gallery):
    index, _ = gallery
    first, again = review_queue(index), review_queue(index)
    assert [q.id for q in first] == [q.id for q in again] and len({q.id for q in first}) == len(first)
    top = first[0]
    assert top.id == question_id(top.kind, top.all_faces) or top.kind != "same_person"
    memberships = index.active_memberships()
    answer_question(PeopleEditor(index), top.id, "skip")
    assert index.active_memberships() == memberships  # a skip changes nothing
    assert top.id not in {q.id for q in review_queue(index)}
    assert top.id in {q.id for q in review_queue(index, include_answered=True)}


def test_bad_answers_and_unknown_questions_change_nothing(gallery):
    index, _ = gallery
    editor = PeopleEditor(index)
    top = review_queue(index)[0]
    with pytest.raises(CorrectionError) as err:
        answer_question(editor, top.id, "maybe")
    assert (err.value.status, err.value.code) == (400, "bad_answer")
    with pytest.raises(CorrectionError) as err:
        answer_question(editor, "0" * 16, "yes")
    assert err.value.status == 404
    assert review_queue(index)[0].id == top.id


def test_a_doubtful_detection_is_asked_about_and_yes_rejects_it(gallery):
    index, _ = gallery
    rng = np.random.default_rng(9)
    v = rng.normal(size=DIM)
    poster = FaceRecord((10, 10, 90, 20), [(0, 0)] * 5, 0.85, [], (v / np.linalg.norm(v)).astype(np.float32))
    index.add_photos([(PhotoRecord("poster.jpg", 1, 1, 100, 100), [poster])], "synthetic")
    cluster_index(index, threshold=SPLIT_THRESHOLD, **quiet)
    face = int(index.embeddings()[0].max())
    [asked] = [q for q in review_queue(index) if q.kind == "not_a_face" and q.faces == (face,)]
    assert asked.probability > 0.5
    answer_question(PeopleEditor(index), asked.id, "yes")
    assert face in index.rejected_faces() and face not in index.active_memberships()


def test_no_to_a_face_that_does_not_belong_moves_it_out(gallery):
    index, truth = gallery
    # an intruder: another person's face pinned into a person by a move, then the pin dropped
    editor = PeopleEditor(index)
    members = index.active_memberships()
    person = max(set(members.values()), key=lambda p: sum(v == p for v in members.values()))
    stranger = next(f for f, p in members.items() if truth[f] != truth[next(g for g, q in members.items() if q == person)])
    editor.move_faces([stranger], person)
    index.db.execute("DELETE FROM face_pins")
    index.db.commit()
    [asked] = [q for q in review_queue(index) if q.kind == "face_belongs" and q.faces == (stranger,)]
    assert asked.person == person and stranger not in asked.other_faces
    answer_question(editor, asked.id, "no")
    assert index.active_memberships()[stranger] != person


def test_the_queue_follows_corrections_made_elsewhere(gallery):
    """The queue is kept between requests, but not past a change of the people."""
    index, _ = gallery
    top = next(q for q in review_queue(index) if q.kind == "same_person")
    PeopleEditor(index).merge(top.person, [top.other_person])  # on the People page, not the queue
    assert top.id not in {q.id for q in review_queue(index, include_answered=True)}
