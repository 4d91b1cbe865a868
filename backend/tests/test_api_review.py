"""The review queue over HTTP (faceexplore/web/people/review.py): the organiser's only, each answer
checked against the OpenAPI document, answered questions gone, the corrections made."""

from __future__ import annotations

import pytest

from faceexplore.index.store import FaceIndex
from faceexplore.people.clustering import cluster_index
from tests.api_fixtures import private_site_fixtures

gallery, app, spec, visitor, organiser = private_site_fixtures("function")


@pytest.fixture()
def split(gallery):
    """Every face a person of its own (too low a threshold): "same person?" questions to answer."""
    with FaceIndex(gallery.settings.index_path) as index:
        cluster_index(index, threshold=0.03, progress=lambda *a, **k: None)
    return gallery


def test_the_queue_is_the_organisers(visitor, split):
    assert visitor.get("/api/review").status_code == 401
    assert visitor.post("/api/review/0123456789abcdef", json={"answer": "yes"}).status_code == 401


def test_answers_merge_keep_apart_and_skip_and_each_question_goes(organiser, split):
    r = organiser.get("/api/review?limit=3")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert len(body["questions"]) == 3 and body["total"] >= 3 and body["worth_answering"] >= 1
    first, second, third = body["questions"]
    assert first["kind"] == "same_person" and f"/{first['a']['faces'][0]}.jpg?" in first["a"]["crops"][0]
    headers = {"X-CSRF-Token": organiser.csrf}
    assert organiser.post(f"/api/review/{first['id']}", json={"answer": "maybe"}, headers=headers).status_code == 400
    assert organiser.post(f"/api/review/{first['id']}", json={"answer": "yes"}).status_code == 403
    r = organiser.post(f"/api/review/{first['id']}", json={"answer": "yes"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["answer"] == "yes"
    faces = organiser.client.get(f"/api/people/{first['a']['person']}/faces").get_json()["faces"]
    faces += organiser.client.get(f"/api/people/{first['b']['person']}/faces").get_json().get("faces", [])
    assert {f["id"] for f in faces} >= {*first["a"]["faces"], *first["b"]["faces"]}  # one person now
    assert organiser.post(f"/api/review/{first['id']}", json={"answer": "yes"}, headers=headers).status_code == 404
    for question, answer in ((second, "no"), (third, "skip")):
        assert organiser.post(f"/api/review/{question['id']}", json={"answer": answer}, headers=headers).status_code == 200
    left = {q["id"] for q in organiser.get("/api/review?limit=200").get_json()["questions"]}
    assert not left & {first["id"], second["id"], third["id"]}
    kinds = [c["kind"] for c in organiser.get("/api/corrections").get_json()["corrections"]]
    assert kinds[:2] == ["apart", "merge"]  # the "no" is a correction; the skip is not
    assert organiser.get("/api/review?limit=0").status_code == 400
