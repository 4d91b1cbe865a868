""" "My photos" (faceexplore/site/saved_searches.py, web/visitor/): a found search saved under a random
link runs again over the gallery as it is now, says which photos are new since the last visit,
and is gone once the visitor deletes it. On the synthetic gallery (real HTTP, Flask test client)."""

from __future__ import annotations

import sqlite3

import pytest

from faceexplore.site.store import site_path
from tests.api_fixtures import STRANGER, face_embedding
from tests.test_api_contract import assert_error
from tests.test_api_hidden import add_photo, paths
from tests.test_api_removals import ME, _site, find, remove_me


@pytest.fixture()
def site(tmp_path):
    return _site(tmp_path)


def save(visitor, answer) -> dict:
    r = visitor.post("/api/saved", json={"token": answer["save_token"]})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def test_a_saved_search_finds_a_photo_added_after_it_was_saved(site):
    gallery, _, _, visitor = site
    answer = find(visitor)
    link = save(visitor, answer)
    assert link["url"] == f"/me/{link['id']}" and len(link["id"]) >= 20

    first = visitor.get(f"/api/saved/{link['id']}").get_json()
    assert first["found"] and paths(first) == paths(answer) and first["new_since"] == {"count": 0, "photo_ids": []}
    assert first["removal_token"] and first["save_token"]

    new_id, _ = add_photo(gallery, "late/added-during-the-event.jpg", face_embedding(gallery.centres, ME, b"a new photo"))
    again = visitor.get(f"/api/saved/{link['id']}").get_json()
    assert paths(again) == paths(answer) | {"late/added-during-the-event.jpg"}
    assert again["new_since"] == {"count": 1, "photo_ids": [new_id]}
    assert visitor.get(f"/api/saved/{link['id']}").get_json()["new_since"]["count"] == 0  # seen now


def test_a_deleted_saved_search_is_gone_and_only_embeddings_are_kept(site):
    gallery, _, _, visitor = site
    link = save(visitor, find(visitor))
    with sqlite3.connect(site_path(gallery.settings.data_dir)) as db:
        [(stored_id, blob, seen)] = db.execute("SELECT id_hash, embeddings, seen FROM saved_searches").fetchall()
    assert link["id"] not in stored_id and len(blob) % 4 == 0 and "album/" in seen  # the link's hash, embeddings, paths
    r = visitor.delete(f"/api/saved/{link['id']}")
    assert r.status_code == 200 and r.get_json() == {"deleted": True}
    assert_error(visitor.get(f"/api/saved/{link['id']}"), 404, "not_found")
    assert_error(visitor.delete(f"/api/saved/{link['id']}"), 404, "not_found")
    with sqlite3.connect(site_path(gallery.settings.data_dir)) as db:
        assert db.execute("SELECT count(*) FROM saved_searches").fetchone()[0] == 0


def test_unknown_links_and_tokens_are_refused(site):
    _, _, _, visitor = site
    assert_error(visitor.get("/api/saved/" + "A" * 22), 404, "not_found")
    assert_error(visitor.get("/api/saved/short"), 404, "not_found")
    found = find(visitor)
    assert_error(visitor.post("/api/saved", json={"token": found["removal_token"]}), 400, "invalid_token")
    assert find(visitor, STRANGER)["save_token"] is None


def test_a_saved_search_of_a_visitor_who_removed_themselves_finds_nothing(site):
    _, _, _, visitor = site
    answer = find(visitor)
    link = save(visitor, answer)
    remove_me(visitor, answer)
    again = visitor.get(f"/api/saved/{link['id']}").get_json()
    assert again["found"] is False and again["photos"] == []


def test_a_saved_search_expires_after_saved_search_days(tmp_path):
    import time

    import numpy as np

    from faceexplore.site import saved_searches

    data = tmp_path / "data"
    sid = saved_searches.save(data, np.ones((1, 4), np.float32) / 2, ["a.jpg"], days=30)
    now = time.time()
    assert saved_searches.load(data, sid, now=now + 29 * 86400).seen == ["a.jpg"]
    assert saved_searches.load(data, sid, now=now + 31 * 86400) is None
    saved_searches.save(data, np.ones((1, 4), np.float32), [], days=1, now=now + 31 * 86400)  # a save sweeps the expired
    assert saved_searches.load(data, sid, now=now) is None
