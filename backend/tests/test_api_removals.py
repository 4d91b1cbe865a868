""" "Remove me" (faceexplore/site/removals.py, web/visitor/): a visitor who found themselves asks to
be taken out; from then on a search answers for them as for someone absent, their photos leave
every answer and download, across re-indexing and re-clustering and for new photos of them; the
organiser sees the removal and can undo it (or, with removal = "review", confirm or refuse it).
On the synthetic gallery of tests/api_fixtures.py (real HTTP through the Flask test client)."""

from __future__ import annotations

import numpy as np
import pytest

from faceexplore import cli
from faceexplore.index.store import FaceIndex
from faceexplore.people.clustering import cluster_index
from faceexplore.search.searcher import GallerySearcher
from faceexplore.site import audit
from tests.api_fixtures import (
    DIM,
    GALLERY,
    MODEL,
    STRANGER,
    FakePipeline,
    _records,
    build_gallery,
    face_embedding,
    log_in,
    make_app,
    people_centres,
    sample_photo,
)
from tests.test_api_candidates import NEAR, _turned
from tests.test_api_contract import CheckedClient, assert_error, search
from tests.test_api_hidden import add_photo, paths, zip_names

ME = 2  # album/dinner.jpg [0, 2, 3], album/park.png [2, 4], and LATE (late/new.jpg)


def csrf(api) -> dict:
    return {"headers": {"X-CSRF-Token": api.csrf}}


def _site(tmp_path, **settings):
    gallery = build_gallery(tmp_path, people_page="public", **settings)
    app = make_app(gallery)
    spec = app.test_client().get("/api/openapi.json").get_json()
    organiser = CheckedClient(app.test_client(), spec)
    organiser.csrf = log_in(organiser.client, gallery.settings)
    return gallery, app, organiser, CheckedClient(app.test_client(), spec)


@pytest.fixture()
def site(tmp_path):
    return _site(tmp_path)


def find(api, who: int = ME) -> dict:
    r = search(api, (sample_photo([who]), "me.png"))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def remove_me(visitor, answer) -> dict:
    r = visitor.post("/api/removals", json={"token": answer["removal_token"]})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def assert_absent(gallery, visitor, theirs: set[str]) -> None:
    again = find(visitor)
    assert again["found"] is False and again["photos"] == [] and again["download_token"] is None
    assert again["removal_token"] is None and again["save_token"] is None
    for offered in again["candidates"]:  # whatever is offered leads to none of their photos
        confirmed = visitor.post("/api/search/confirm", json={"token": offered["token"]}).get_json()
        assert not paths(confirmed) & theirs
    for who in range(STRANGER):  # nobody's search hands out a photo with them
        assert not paths(find(visitor, who)) & theirs


def test_a_found_answer_carries_tokens_and_a_not_found_one_none(site):
    _, _, _, visitor = site
    found = find(visitor)
    assert found["found"] and found["removal_token"] and found["save_token"]
    assert found["removal_token"] != found["save_token"]
    stranger = find(visitor, STRANGER)
    assert stranger["found"] is False and stranger["removal_token"] is None and stranger["save_token"] is None
    # a token of one purpose does not open as the other
    assert_error(visitor.post("/api/removals", json={"token": found["save_token"]}), 400, "invalid_token")
    assert_error(visitor.post("/api/removals", json={"token": "x" * 40}), 400, "invalid_token")


def test_a_removed_visitor_is_absent_from_every_answer_and_download_and_the_organiser_can_undo(site):
    gallery, _, organiser, visitor = site
    before = find(visitor)
    theirs = paths(before)
    assert before["found"] and theirs == gallery.photos_of(ME) | {"late/new.jpg"}
    ids = [p["id"] for p in before["photos"]]
    answer = remove_me(visitor, before)
    assert answer["status"] == "active"

    assert_absent(gallery, visitor, theirs)
    assert_error(visitor.post("/api/download", json={"photo_ids": ids, "token": before["download_token"]}), 400, "unknown_photo")
    for photo_id in ids:
        assert_error(visitor.get(f"/api/photos/{photo_id}"), 404, "not_found")
    for photo_id in ids:  # the organiser's browser still opens them
        assert organiser.get(f"/api/photos/{photo_id}").status_code == 200

    # the organiser sees it in the History, and undoes it
    assert_error(visitor.get("/api/removals"), 401, "login_required")
    [removal] = organiser.get("/api/removals").get_json()["removals"]
    assert removal["status"] == "active" and "removed" in removal["description"]
    assert_error(organiser.client.post(f"/api/removals/{removal['id']}/undo"), 403, "csrf_failed")
    assert_error(organiser.post(f"/api/removals/{removal['id']}/confirm", **csrf(organiser)), 409, "bad_removal_state")
    undone = organiser.post(f"/api/removals/{removal['id']}/undo", **csrf(organiser)).get_json()
    assert undone["status"] == "undone"
    assert paths(find(visitor)) == theirs
    assert zip_names(visitor.post("/api/download", json={"photo_ids": ids, "token": before["download_token"]})) == theirs
    assert_error(organiser.post("/api/removals/999/undo", **csrf(organiser)), 404, "not_found")


def _rebuild_index(gallery) -> None:
    """`faceexplore index` into a new index file (a new index id; the photos in reverse order, so
    that every face and photo id names another one than before), then `cluster`."""
    index_path = gallery.settings.index_path
    for suffix in ("", "-wal", "-shm"):
        index_path.with_name(index_path.name + suffix).unlink(missing_ok=True)
    with FaceIndex(index_path) as index:
        index.check_model(MODEL, 128)
        photos = [("late/new.jpg", [ME]), *reversed(GALLERY.items())]
        index.add_photos(_records(gallery.settings.gallery_dir, photos, gallery.centres), MODEL)
        cluster_index(index, progress=lambda *a, **k: None)


def test_a_removal_survives_reindexing_and_reclustering(site):
    gallery, _, organiser, visitor = site
    before = find(visitor)
    theirs = paths(before)
    remove_me(visitor, before)
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        old_id = index.meta("index_id")
    _rebuild_index(gallery)
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        assert index.meta("index_id") != old_id and index.active_clustering() is not None
    assert_absent(gallery, visitor, theirs)
    assert paths(find(visitor, 0))  # the others are still found


def test_a_new_photo_of_a_removed_person_is_not_found(site):
    gallery, _, organiser, visitor = site
    remove_me(visitor, find(visitor))
    new_id, _ = add_photo(gallery, "late/after-the-removal.jpg", face_embedding(gallery.centres, ME, b"taken after the removal"))
    assert organiser.get(f"/api/photos/{new_id}").status_code == 200
    assert_error(visitor.get(f"/api/photos/{new_id}"), 404, "not_found")
    assert_absent(gallery, visitor, gallery.photos_of(ME) | {"late/new.jpg", "late/after-the-removal.jpg"})


def test_review_mode_hides_at_once_and_the_organiser_confirms_or_refuses(tmp_path):
    gallery, _, organiser, visitor = _site(tmp_path, removal="review")
    before = find(visitor)
    theirs = paths(before)
    assert remove_me(visitor, before)["status"] == "pending_review"
    assert_absent(gallery, visitor, theirs)
    [removal] = organiser.get("/api/removals").get_json()["removals"]
    assert removal["status"] == "pending_review"
    refused = organiser.post(f"/api/removals/{removal['id']}/refuse", **csrf(organiser)).get_json()
    assert refused["status"] == "refused"
    assert paths(find(visitor)) == theirs

    remove_me(visitor, find(visitor))
    newest = organiser.get("/api/removals").get_json()["removals"][0]
    assert organiser.post(f"/api/removals/{newest['id']}/confirm", **csrf(organiser)).get_json()["status"] == "active"
    assert_absent(gallery, visitor, theirs)


def test_a_confirmed_candidate_can_remove_themselves(tmp_path):
    """A confirmed answer (no samples) carries tokens too: its confirmed faces stand for the
    samples. The stranger's sample lies in NEAR's "maybe" band (as in test_api_candidates.py)."""
    gallery = build_gallery(tmp_path, people_page="public")
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        null = GallerySearcher(index).state.null
    centres = people_centres().copy()
    between = (null.distance_at(0.01) + null.distance_at(0.2)) / 2
    centres[STRANGER] = _turned(centres[NEAR], np.random.default_rng(3).normal(size=DIM), between)
    app = make_app(gallery, pipeline=FakePipeline(centres), candidate_rate=0.2)
    visitor = CheckedClient(app.test_client(), app.test_client().get("/api/openapi.json").get_json())
    offered = find(visitor, STRANGER)
    assert offered["found"] is False and offered["candidates"] and offered["removal_token"] is None
    confirmed = visitor.post("/api/search/confirm", json={"token": offered["candidates"][0]["token"]}).get_json()
    assert confirmed["found"] and confirmed["removal_token"] and confirmed["save_token"]
    theirs = paths(confirmed)
    remove_me(visitor, confirmed)
    again = find(visitor, NEAR)
    assert again["found"] is False and not paths(again) & theirs


def test_removals_are_in_people_log_and_undone_from_the_cli(site, capsys):
    gallery, _, _, visitor = site
    theirs = paths(find(visitor))
    remove_me(visitor, find(visitor))
    data = ["--data", str(gallery.settings.data_dir)]
    capsys.readouterr()
    assert cli.main([*data, "people", "log"]) == 0
    out = capsys.readouterr().out
    assert "removal" in out and "faceexplore removals undo 1" in out and "(active" in out
    assert cli.main([*data, "removals", "list"]) == 0
    assert "active" in capsys.readouterr().out
    assert cli.main([*data, "removals", "refuse", "1"]) == 2  # not waiting for review
    assert "cannot be refused" in capsys.readouterr().err
    assert cli.main([*data, "removals", "undo", "1"]) == 0
    assert "undone" in capsys.readouterr().out
    assert paths(find(visitor)) == theirs


def test_every_removal_change_is_audited_with_its_origin(site):
    gallery, _, organiser, visitor = site
    data_dir = gallery.settings.data_dir
    remove_me(visitor, find(visitor))
    [removal] = organiser.get("/api/removals").get_json()["removals"]
    organiser.post(f"/api/removals/{removal['id']}/undo", **csrf(organiser))
    assert cli.main(["--data", str(data_dir), "purge", "--now"]) == 0
    recorded = [e for e in audit.entries(data_dir) if e["action"].startswith(("removal", "purge"))]
    assert [(e["action"], e["origin"]) for e in recorded] == [
        ("removal", "web:127.0.0.1"),
        ("removal undo", "web:127.0.0.1"),
        ("purge", "cli"),
    ]
    assert recorded[0]["detail"] == {"removal": removal["id"], "status": "active"}  # no embedding, photo or address
    assert recorded[2]["detail"]["faces"] > 0
