"""Hidden stays hidden (faceexplore/search/withheld.py): once the organiser hides a person, a visitor is
answered as if they were not in the gallery: their photos (group photos included, and photos of
them indexed since, before any re-clustering) are never found, offered, detailed, listed,
counted or downloaded, even with a token handed out before the hiding. On the synthetic gallery
of tests/api_fixtures.py, people pages public, gallery private (the default)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.live.assignment import assign_new_faces
from faceexplore.people.corrections import PeopleEditor
from faceexplore.search import withheld
from faceexplore.search.searcher import GallerySearcher
from tests.api_fixtures import (
    DIM,
    FACE_BOXES,
    MODEL,
    STRANGER,
    FakePipeline,
    build_gallery,
    drawn_photo,
    face_embedding,
    log_in,
    make_app,
    people_centres,
    sample_photo,
)
from tests.test_api_contract import CheckedClient, assert_error, search

HIDDEN = 3  # in album/dinner.jpg [0, 2, 3], album 2/studio.jpg [3], album 2/trip.jpg [1, 3, 4]
NEAR = 1  # shares album 2/trip.jpg with HIDDEN
NEW = "late/hidden-again.jpg"  # a photo of HIDDEN indexed after the hiding, not clustered


def csrf(api) -> dict:
    return {"headers": {"X-CSRF-Token": api.csrf}}


@pytest.fixture()
def site(tmp_path):
    gallery = build_gallery(tmp_path, people_page="public", candidate_rate=0.2)
    app = make_app(gallery)
    client = app.test_client()
    spec = client.get("/api/openapi.json").get_json()
    organiser = CheckedClient(app.test_client(), spec)
    organiser.csrf = log_in(organiser.client, gallery.settings)
    return gallery, app, organiser, CheckedClient(client, spec)


def hide(organiser, person: int) -> None:
    r = organiser.patch(f"/api/people/{person}", json={"hidden": True}, **csrf(organiser))
    assert r.status_code == 200 and r.get_json()["hidden"] is True


def person_of(organiser, who: int) -> int:
    person = search(organiser, (sample_photo([who]), "me.png")).get_json()["person_id"]
    assert person is not None
    return person


def add_photo(gallery, path: str, embedding: np.ndarray) -> tuple[int, int]:
    """`faceexplore index` of one more photo (no `cluster`): its photo id and face id."""
    file = gallery.settings.gallery_dir / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(drawn_photo([HIDDEN]))
    record = PhotoRecord(path, file.stat().st_size, file.stat().st_mtime_ns, 320, 240)
    with FaceIndex(gallery.settings.index_path) as index:
        index.add_photos([(record, [FaceRecord(FACE_BOXES[0], [(0.0, 0.0)] * 5, 0.99, [], embedding)])], MODEL)
        photo_id = {p: i for i, p in index.all_photo_paths().items()}[path]
        [face] = index.faces_of_photo(photo_id)
    gallery.photo_ids[path] = photo_id
    return photo_id, int(face["id"])


def paths(body) -> set[str]:
    return {p["path"] for p in body["photos"]}


def zip_names(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return set(zipfile.ZipFile(io.BytesIO(response.get_data())).namelist())


def test_a_hidden_persons_new_photo_indexed_before_clustering_is_withheld_everywhere(site):
    gallery, _, organiser, visitor = site
    hidden = person_of(organiser, HIDDEN)
    theirs = gallery.photos_of(HIDDEN)
    before = search(visitor, (sample_photo([HIDDEN]), "me.png")).get_json()
    assert before["found"] and paths(before) == theirs
    token = before["download_token"]
    ids = [p["id"] for p in before["photos"]]
    [link] = visitor.post("/api/download/links", json={"photo_ids": ids, "token": token}).get_json()["links"]

    hide(organiser, hidden)
    new_id, _ = add_photo(gallery, NEW, face_embedding(gallery.centres, HIDDEN, b"taken after the hiding"))

    again = search(visitor, (sample_photo([HIDDEN]), "me.png")).get_json()
    assert again["found"] is False and again["photos"] == [] and again["person_id"] is None and again["download_token"] is None
    for offered in again["candidates"]:  # whatever is offered leads to none of their photos
        answer = visitor.post("/api/search/confirm", json={"token": offered["token"]}).get_json()
        assert not paths(answer) & (theirs | {NEW})
    for who in range(STRANGER):  # nobody's search hands out a photo with them
        assert not paths(search(visitor, (sample_photo([who]), "me.png")).get_json()) & (theirs | {NEW})

    assert_error(visitor.get(f"/api/photos/{new_id}"), 404, "not_found")
    assert organiser.get(f"/api/photos/{new_id}").status_code == 200

    # the token and the link handed out before the hiding: their photos are not in the gallery any more
    assert_error(visitor.post("/api/download", json={"photo_ids": ids, "token": token}), 400, "unknown_photo")
    assert_error(visitor.post("/api/download/links", json={"photo_ids": ids, "token": token}), 400, "unknown_photo")
    assert zip_names(visitor.client.get(link["url"])) == set()
    assert zip_names(organiser.client.get(link["url"])) == theirs  # the organiser's browser: everything

    # the organiser puts the new face into someone visible: a correction releases it
    [face] = organiser.get(f"/api/photos/{new_id}").get_json()["faces"]
    visible = person_of(organiser, 0)
    assert organiser.post("/api/faces/move", json={"faces": [face["id"]], "to": visible}, **csrf(organiser)).status_code == 200
    assert visitor.get(f"/api/photos/{new_id}").status_code == 200
    assert NEW in paths(search(visitor, (sample_photo([0]), "me.png")).get_json())


def test_photo_details_of_a_hidden_person_404_for_a_visitor_and_person_pages_leave_their_photos_out(site):
    gallery, _, organiser, visitor = site
    hidden = person_of(organiser, HIDDEN)
    hide(organiser, hidden)
    for path in gallery.photos_of(HIDDEN):  # alone or with others
        assert_error(visitor.get(f"/api/photos/{gallery.photo_ids[path]}"), 404, "not_found")
        assert organiser.get(f"/api/photos/{gallery.photo_ids[path]}").get_json()["photo"]["path"] == path
    assert visitor.get(f"/api/photos/{gallery.photo_ids['album/garden.jpg']}").status_code == 200
    # a visible person's page: no photo they share with the hidden person, no crop of its faces
    near = person_of(organiser, NEAR)
    page = visitor.get(f"/api/people/{near}?per_page=100").get_json()
    assert paths(page) == gallery.photos_of(NEAR) - gallery.photos_of(HIDDEN) and page["person"]["photo_count"] == len(page["photos"])
    assert "album 2/trip.jpg" in paths(organiser.get(f"/api/people/{near}?per_page=100").get_json())
    listed = visitor.get("/api/people?per_page=100").get_json()["people"]
    assert hidden not in [p["id"] for p in listed]
    # no cover cropped from a photo with the hidden person: exactly the others keep theirs
    withheld_faces = {
        f["id"] for path in gallery.photos_of(HIDDEN) for f in organiser.get(f"/api/photos/{gallery.photo_ids[path]}").get_json()["faces"]
    }
    covers = {p["id"]: p["cover_url"] for p in organiser.get("/api/people?per_page=100").get_json()["people"]}
    for p in listed:
        in_withheld = int(covers[p["id"]].split("?")[0].rsplit("/", 1)[1].split(".")[0]) in withheld_faces
        assert p["cover_url"] == (None if in_withheld else covers[p["id"]])


def test_status_counts_for_a_visitor_what_they_are_shown(site):
    gallery, _, organiser, visitor = site
    hide(organiser, person_of(organiser, HIDDEN))
    seen, full = visitor.get("/api/status").get_json(), organiser.get("/api/status").get_json()
    listed = visitor.get("/api/people?per_page=100").get_json()["total"]
    assert seen["people"] == listed == 4 and full["people"] == 5
    assert seen["photos"] == full["photos"] - len(gallery.photos_of(HIDDEN))


def test_a_new_person_started_by_the_live_assignment_next_to_a_hidden_one_stays_withheld(site):
    """The live watcher may start a person for a new face instead of joining it to the hidden
    person; near the hidden person, it is theirs for a visitor: not listed, no page, not counted."""
    gallery, _, organiser, visitor = site
    hide(organiser, person_of(organiser, HIDDEN))
    embedding = face_embedding(gallery.centres, HIDDEN, b"new face")
    new_id, face = add_photo(gallery, NEW, embedding)
    with FaceIndex(gallery.settings.index_path) as index, index.transaction() as db:
        [started] = index.add_live_memberships(db, int(index.meta("active_clustering")), {}, [[face]], {}, [embedding])
    assert organiser.get(f"/api/people/{started}").status_code == 200
    assert_error(visitor.get(f"/api/people/{started}"), 404, "not_found")
    listed = visitor.get("/api/people?per_page=100").get_json()
    assert started not in [p["id"] for p in listed["people"]] and listed["total"] == 4
    assert visitor.get("/api/status").get_json()["people"] == 4
    assert_error(visitor.get(f"/api/photos/{new_id}"), 404, "not_found")
    assert search(visitor, (sample_photo([HIDDEN]), "me.png")).get_json()["photos"] == []
    # the live assignment itself, with one more photo of them: nothing of it reaches a visitor either
    other_id, _ = add_photo(gallery, "late/once-more.jpg", face_embedding(gallery.centres, HIDDEN, b"one more"))
    with FaceIndex(gallery.settings.index_path) as index:
        assert assign_new_faces(index).assigned == 2  # with the fixture's late photo (LATE)
    assert_error(visitor.get(f"/api/photos/{other_id}"), 404, "not_found")
    assert visitor.get("/api/people?per_page=100").get_json()["total"] == visitor.get("/api/status").get_json()["people"] == 4
    assert search(visitor, (sample_photo([HIDDEN]), "me.png")).get_json()["photos"] == []


def _turned(v: np.ndarray, towards: np.ndarray, distance: float) -> np.ndarray:
    u = towards - (towards @ v) * v
    u /= np.linalg.norm(u)
    angle = 2 * np.arcsin(distance / 2)
    return np.cos(angle) * v + np.sin(angle) * u


def test_a_candidate_whose_photos_show_a_hidden_person_is_never_offered(tmp_path):
    """A sample between NEAR's accept threshold and the candidate band is offered NEAR; NEAR shares
    a photo with HIDDEN, so once HIDDEN is hidden NEAR is never offered (confirming would hand out
    that photo) and no answer holds a photo of HIDDEN."""
    gallery = build_gallery(tmp_path, people_page="public", gallery_access="public")
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        null = GallerySearcher(index).state.null
    centres = people_centres().copy()
    centres[STRANGER] = _turned(
        centres[NEAR], np.random.default_rng(3).normal(size=DIM), (null.distance_at(0.01) + null.distance_at(0.2)) / 2
    )
    app = make_app(gallery, pipeline=FakePipeline(centres), candidate_rate=0.2)
    spec = app.test_client().get("/api/openapi.json").get_json()
    visitor = CheckedClient(app.test_client(), spec)
    organiser = CheckedClient(app.test_client(), spec)
    organiser.csrf = log_in(organiser.client, gallery.settings)

    def confirmed_paths() -> list[set[str]]:
        body = search(visitor, (sample_photo([STRANGER]), "me.png")).get_json()
        assert body["found"] is False
        return [paths(visitor.post("/api/search/confirm", json={"token": c["token"]}).get_json()) for c in body["candidates"]]

    assert gallery.photos_of(NEAR) in confirmed_paths()  # offered before: the trip photo with HIDDEN among them
    hide(organiser, person_of(organiser, HIDDEN))
    after = confirmed_paths()
    assert all(not answer & gallery.photos_of(HIDDEN) for answer in after)
    assert all(answer != gallery.photos_of(NEAR) - gallery.photos_of(HIDDEN) for answer in after)  # NEAR not offered at all


def test_a_new_version_scores_its_new_faces_and_agrees_with_a_full_computation(tmp_path):
    gallery = build_gallery(tmp_path)
    with FaceIndex(gallery.settings.index_path) as index:
        [face] = index.faces_of_photo(gallery.photo_ids["album 2/studio.jpg"])  # HIDDEN alone
        PeopleEditor(index).set_hidden(index.active_memberships()[int(face["id"])], True)
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        first = withheld.for_index(index, 0.01)
        assert first.photos == {gallery.photo_ids[p] for p in gallery.photos_of(HIDDEN)}
        _, near = add_photo(gallery, NEW, face_embedding(gallery.centres, HIDDEN, b"later"))
        _, far = add_photo(gallery, "late/someone-else.jpg", face_embedding(gallery.centres, 0, b"later"))
        upto = withheld._scored[str(index.path)].upto
        second = withheld.for_index(index, 0.01)
        assert near in second.faces and far not in second.faces and withheld._scored[str(index.path)].upto > upto
        withheld._scored.clear()
        assert withheld.compute(index, 0.01) == second
