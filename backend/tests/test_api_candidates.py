""" "Is one of these you?" (POST /api/search candidates and also_you, POST /api/search/confirm) on
the synthetic gallery of tests/api_fixtures.py, with samples placed between the accept threshold
and the candidate band by a fake pipeline."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import numpy as np
import pytest

from faceexplore.index import cache
from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.people.corrections import PeopleEditor
from faceexplore.search.searcher import GallerySearcher
from faceexplore.web.core import tokens
from tests.api_fixtures import DIM, STRANGER, FakePipeline, build_gallery, drawn_photo, make_app, people_centres, sample_photo
from tests.test_api_contract import CheckedClient, assert_error, search

OPEN = {"people_page": "public", "gallery_access": "public"}
NEAR = 1  # the person the in-between samples come close to
SPLIT = 3  # the person given a split-off face for "also you"


def _turned(v: np.ndarray, towards: np.ndarray, distance: float) -> np.ndarray:
    """``v`` turned on the unit sphere towards ``towards`` until it is ``distance`` away."""
    u = towards - (towards @ v) * v
    u /= np.linalg.norm(u)
    angle = 2 * np.arcsin(distance / 2)
    return np.cos(angle) * v + np.sin(angle) * u


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return build_gallery(tmp_path_factory.mktemp("candidates"), **OPEN)


@pytest.fixture(scope="module")
def bands(gallery):
    """The accept threshold at 1 % and the band's edge at 20 %, from the gallery's null."""
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        null = GallerySearcher(index).state.null
    return null.distance_at(0.01), null.distance_at(0.2)


@pytest.fixture(scope="module")
def pipeline(gallery, bands):
    """The stranger's sample sits between NEAR's accept threshold and the band's edge."""
    threshold, band = bands
    centres = people_centres().copy()
    rng = np.random.default_rng(3)
    centres[STRANGER] = _turned(centres[NEAR], rng.normal(size=DIM), (threshold + band) / 2)
    return FakePipeline(centres)


def _client(gallery, pipeline, spec=None, **settings):
    app = make_app(gallery, pipeline=pipeline, candidate_rate=0.2, **settings)
    client = app.test_client()
    return CheckedClient(client, spec or client.get("/api/openapi.json").get_json()), app


@pytest.fixture()
def api(gallery, pipeline):
    return _client(gallery, pipeline)[0]


def test_candidates_are_offered_when_no_one_is_found_and_confirming_answers_as_a_found_search(api, gallery):
    body = search(api, (sample_photo([STRANGER]), "me.png")).get_json()
    assert body["found"] is False and body["photos"] == [] and body["also_you"] == []
    assert 1 <= len(body["candidates"]) <= 3
    first = body["candidates"][0]
    assert set(first) == {"token", "face_url"} and "/faces/160/" in first["face_url"] and first["face_url"].startswith("/cache/")
    assert api.client.get(first["face_url"]).status_code == 200
    confirmed = api.post("/api/search/confirm", json={"token": first["token"]})
    assert confirmed.status_code == 200
    answer = confirmed.get_json()
    found = search(api, (sample_photo([NEAR]), "near.png")).get_json()
    assert answer["found"] is True and answer["candidates"] == []
    assert {p["path"] for p in answer["photos"]} == gallery.photos_of(NEAR)
    assert {p["path"] for p in answer["photos"]} <= {p["path"] for p in found["photos"]}
    assert answer["person_id"] == found["person_id"] is not None
    assert answer["download_token"] and 0 < answer["confidence"] < 1
    for p in answer["photos"]:
        assert p["box"] is not None and 0 <= p["confidence"] < 1


def test_a_found_search_offers_no_candidates_and_confidence_stays_below_certainty(api):
    body = search(api, (sample_photo([0]), "me.png")).get_json()
    assert body["found"] is True and body["candidates"] == [] and 0.9 < body["confidence"] < 1


def test_forged_malformed_and_expired_tokens_are_refused(gallery, pipeline):
    api, app = _client(gallery, pipeline, candidate_token_lifetime=30)
    token = search(api, (sample_photo([STRANGER]), "me.png")).get_json()["candidates"][0]["token"]
    assert_error(api.post("/api/search/confirm", json={"token": token[:-2] + "xx"}), 400, "invalid_token")
    assert_error(api.post("/api/search/confirm", json={"token": "not a token"}), 400, "invalid_token")
    assert_error(api.post("/api/search/confirm", json={}), 400, "invalid_token")
    # sealed with another key, as a download token, for another index file, or too long ago: refused too
    key = app.config["SECRET_KEY"]
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        index_id = cache.generation(index)
    data = {"s": "x", "p": NEAR, "ph": [1], "c": 0.5, "n": []}
    other = tokens.seal(tokens.CANDIDATE, data, "another key", index_id)
    assert_error(api.post("/api/search/confirm", json={"token": other}), 400, "invalid_token")
    download = tokens.seal(tokens.DOWNLOAD, data, key, index_id)
    assert_error(api.post("/api/search/confirm", json={"token": download}), 400, "invalid_token")
    assert api.post("/api/search/confirm", json={"token": tokens.seal(tokens.CANDIDATE, data, key, index_id)}).status_code == 200
    elsewhere = tokens.seal(tokens.CANDIDATE, data, key, "0123456789abcdef")
    assert_error(api.post("/api/search/confirm", json={"token": elsewhere}), 410, "expired_token")
    expired = tokens.seal(tokens.CANDIDATE, data, key, index_id, now=time.time() - 60)
    assert_error(api.post("/api/search/confirm", json={"token": expired}), 410, "expired_token")


def test_a_candidate_token_dies_with_its_index_and_reads_as_nothing(tmp_path, pipeline):
    own = build_gallery(tmp_path, **OPEN)
    api, _ = _client(own, pipeline)
    token = search(api, (sample_photo([STRANGER]), "me.png")).get_json()["candidates"][0]["token"]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert "." not in token and b'"ph"' not in raw and b'"c"' not in raw  # no ids or confidences to read
    assert api.post("/api/search/confirm", json={"token": token}).status_code == 200
    # the index deleted and built again while the site runs: its person and photo ids start at 1 again
    index_path = Path(own.settings.index_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path}{suffix}").unlink(missing_ok=True)
    os.replace(build_gallery(tmp_path / "rebuilt", **OPEN).settings.index_path, index_path)
    assert_error(api.post("/api/search/confirm", json={"token": token}), 410, "expired_token")
    fresh = search(api, (sample_photo([STRANGER]), "me.png")).get_json()["candidates"][0]["token"]
    assert api.post("/api/search/confirm", json={"token": fresh}).status_code == 200


def test_candidates_off_offers_none(gallery, pipeline):
    api, _ = _client(gallery, pipeline, candidates=0)
    body = search(api, (sample_photo([STRANGER]), "me.png")).get_json()
    assert body["found"] is False and body["candidates"] == [] and body["also_you"] == []


def test_a_far_stranger_is_offered_no_one(gallery):
    api, _ = _client(gallery, FakePipeline(gallery.centres))
    body = search(api, (sample_photo([STRANGER]), "me.png")).get_json()
    assert body["found"] is False and body["candidates"] == []


def test_hidden_people_are_never_offered_and_a_person_hidden_since_is_not_found(tmp_path, pipeline):
    gallery = build_gallery(tmp_path, **OPEN)
    api, _ = _client(gallery, pipeline)
    token = search(api, (sample_photo([STRANGER]), "me.png")).get_json()["candidates"][0]["token"]
    person = search(api, (sample_photo([NEAR]), "near.png")).get_json()["person_id"]
    with FaceIndex(gallery.settings.index_path) as index:
        PeopleEditor(index).set_hidden(person, True)
    body = search(api, (sample_photo([STRANGER]), "me.png")).get_json()
    assert body["found"] is False and body["candidates"] == []
    answer = api.post("/api/search/confirm", json={"token": token}).get_json()
    assert answer["found"] is False and answer["photos"] == [] and answer["person_id"] is None and answer["download_token"] is None


def test_also_you_offers_a_split_off_part_of_the_found_person(tmp_path, bands):
    """SPLIT's sample finds SPLIT; a face of SPLIT indexed apart (its own cluster), inside the band
    for the sample and nearer SPLIT than the accept threshold, is offered as "also you"."""
    threshold, band = bands
    gallery = build_gallery(tmp_path, **OPEN)
    centres = people_centres().copy()
    away = np.random.default_rng(5).normal(size=DIM)
    own = centres[SPLIT]
    apart = 2 * np.arcsin((threshold + band) / 4)  # the angle between the sample and the split-off face
    chord = lambda angle: 2 * np.sin(angle / 2)  # noqa: E731
    split_off = _turned(own, away, chord(0.75 * apart))
    centres[STRANGER] = _turned(own, -away, chord(0.25 * apart))  # the sample, on the far side of SPLIT
    assert threshold < np.linalg.norm(split_off - centres[STRANGER]) < band and np.linalg.norm(split_off - own) < threshold
    path = "late/split.jpg"
    file = gallery.settings.gallery_dir / path
    file.write_bytes(drawn_photo([SPLIT]))
    record = PhotoRecord(path, file.stat().st_size, file.stat().st_mtime_ns, 320, 240)
    with FaceIndex(gallery.settings.index_path) as index:
        face = FaceRecord((20.0, 60.0, 90.0, 150.0), [(0.0, 0.0)] * 5, 0.99, [], split_off.astype(np.float32))
        index.add_photos([(record, [face])], "fake-embedder")
    api, _ = _client(gallery, FakePipeline(centres))
    body = search(api, (sample_photo([STRANGER]), "me.png")).get_json()
    assert body["found"] is True and body["candidates"] == []
    assert path not in {p["path"] for p in body["photos"]}
    [also] = body["also_you"]
    answer = api.post("/api/search/confirm", json={"token": also["token"]}).get_json()
    assert answer["found"] is True and [p["path"] for p in answer["photos"]] == [path]
    # far from every other person: a plain search of them offers no "also you"
    assert search(api, (sample_photo([0]), "zero.png")).get_json()["also_you"] == []
