"""The web API through Flask's test client, over an index of the BBT group photos.

Needs FACEEXPLORE_TEST_DATA (../shared/datasets): skipped without it, failed if it is set but
bbt/ is missing.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.api_fixtures import log_in
from tests.web_conftest import (
    decompression_bomb_png,
    drawn_png,
    index_counts,
    jpeg_bytes,
    shared_bbt_index,
    tree,
)

pytestmark = pytest.mark.shared_data("bbt")

PHOTO_KEYS = {"id", "path", "url", "thumbnail_url", "placeholder_url", "width", "height", "confidence", "box"}
PERSON_KEYS = {"id", "name", "hidden", "face_count", "photo_count", "cover_url", "flags"}
PAGING_KEYS = {"page", "per_page", "total", "pages"}


# -- fixtures ---------------------------------------------------------------------------------
# The open site (people pages and photos for anyone); who may see what is test_api_access.py.
OPEN = {"people_page": "public", "gallery_access": "public"}


# ``pipeline`` is conftest.py's session-wide FacePipeline (models loaded once, one torch thread).
@pytest.fixture(scope="module")
def bbt(tmp_path_factory, pipeline):
    return shared_bbt_index(tmp_path_factory, pipeline)


@pytest.fixture(scope="module")
def app(bbt, pipeline):
    from faceexplore.web import create_app

    settings = bbt[0].replace(frontend_dir="", **OPEN)
    app = create_app(settings, pipeline=pipeline)
    app.testing = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


def other_app(settings, pipeline, **changes):
    """Another app over other settings, sharing the loaded face models."""
    from faceexplore.web import create_app

    app = create_app(settings.replace(**{**OPEN, **changes}), pipeline=pipeline)
    app.testing = True
    return app


def upload(*files, **fields):
    """Multipart form data: ``files`` are (bytes, filename) sent as the repeated field images."""
    data = {"images": [(io.BytesIO(content), name) for content, name in files]}
    data.update(fields)
    return data


def portrait(bbt_root, name):
    path = bbt_root / "people" / name.rstrip("0123456789") / f"{name}.png"
    return path.read_bytes(), path.name


def assert_error(response, status, code):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and len(message) > 10 and message.rstrip().endswith("."), message
    return message


def assert_photo(photo, with_confidence):
    assert set(photo) == PHOTO_KEYS, photo
    pid = photo["id"]
    assert photo["url"] == "/gallery/" + photo["path"]
    assert re.fullmatch(rf"/cache/[0-9a-f]{{16}}/thumbnails/400/{pid}\.jpg", photo["thumbnail_url"])
    assert photo["placeholder_url"] == photo["thumbnail_url"].replace("/400/", "/32/")
    assert photo["width"] > 0 and photo["height"] > 0
    x1, y1, x2, y2 = photo["box"]
    assert 0 <= x1 < x2 <= photo["width"] + 1 and 0 <= y1 < y2 <= photo["height"] + 1
    if with_confidence:
        assert 0 <= photo["confidence"] <= 1
    else:
        assert photo["confidence"] is None


def search(client, *files, **fields):
    return client.post("/api/search", data=upload(*files, **fields), content_type="multipart/form-data")


# -- search -----------------------------------------------------------------------------------
def test_search_amy_finds_bbt4_with_the_contract_shape(client, bbt):
    _, root, _ = bbt
    r = search(client, portrait(root, "amy1"))
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert set(body) >= {"found", "confidence", "rule", "message", "person_id", "samples", "photos"}
    assert body["found"] is True
    assert 0 <= body["confidence"] <= 1
    paths = [p["path"] for p in body["photos"]]
    assert "group/bbt4.jpg" in paths
    for p in body["photos"]:
        assert_photo(p, with_confidence=True)
    assert body["message"] == f"Found {len(paths)} photo{'s' if len(paths) != 1 else ''} of this person."
    rule = body["rule"]
    assert rule["name"] == "open-set" and rule["false_alarm_rate"] == 0.01
    assert isinstance(rule["threshold"], float) and isinstance(rule["text"], str) and rule["text"]
    [sample] = body["samples"]
    assert sample["index"] == 0 and sample["filename"] == "amy1.png" and sample["error"] is None
    assert (sample["width"], sample["height"]) == Image.open(root / "people/amy/amy1.png").size
    assert sample["used_face"] == 0 and len(sample["faces"]) >= 1
    assert set(sample["faces"][0]) == {"index", "box", "probability"}
    # the person found has a page, and bbt4.jpg is on it
    assert isinstance(body["person_id"], int)
    person = client.get(f"/api/people/{body['person_id']}").get_json()
    assert "group/bbt4.jpg" in {p["path"] for p in person["photos"]}


def test_search_all_five_leonard_portraits_finds_his_group_photos(client, bbt):
    _, root, truth = bbt
    wanted = {path for path, names in truth.items() if "leonard" in names}
    r = search(client, *(portrait(root, f"leonard{i}") for i in range(1, 6)))
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    got = {p["path"] for p in body["photos"]}
    print(f"leonard: wanted {sorted(wanted)}, got {sorted(got)}, confidence {body['confidence']}")
    assert body["found"] is True
    assert len(body["samples"]) == 5 and all(s["used_face"] is not None for s in body["samples"])
    assert len(got & wanted) >= len(wanted) - 1, (sorted(got), sorted(wanted))
    assert got <= wanted, f"photos without leonard: {sorted(got - wanted)}"


def test_search_stuart_is_not_in_the_gallery(client, bbt):
    _, root, _ = bbt
    r = search(client, portrait(root, "stuart1"))
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["found"] is False
    assert body["photos"] == [] and body["person_id"] is None
    assert body["message"] == "This person is not in the gallery."
    assert 0 <= body["confidence"] <= 1


def test_search_a_jpeg_sample_with_an_explicit_face_choice(client, bbt):
    _, root, _ = bbt
    r = search(client, (jpeg_bytes(root / "people/amy/amy2.png"), "amy2.jpg"), faces="0")
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["samples"][0]["used_face"] == 0
    assert "group/bbt4.jpg" in {p["path"] for p in body["photos"]}


def test_a_sample_without_a_face_is_reported_and_the_others_are_used(client, bbt):
    _, root, _ = bbt
    r = search(client, portrait(root, "amy1"), (drawn_png(), "drawing.png"), faces=["", ""])
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    first, second = body["samples"]
    assert first["used_face"] == 0 and first["error"] is None
    assert second["used_face"] is None and second["faces"] == []
    assert second["error"] == {"code": "no_face", "message": "No face was found in drawing.png."}
    assert body["found"] and "group/bbt4.jpg" in {p["path"] for p in body["photos"]}


def test_the_false_alarm_rate_field_is_used(client, bbt):
    _, root, _ = bbt
    strict = search(client, portrait(root, "amy1"), false_alarm_rate="0.001").get_json()
    server = search(client, portrait(root, "amy1")).get_json()
    assert strict["rule"]["false_alarm_rate"] == 0.001 and server["rule"]["false_alarm_rate"] == 0.01
    assert strict["rule"]["threshold"] < server["rule"]["threshold"]
    # never looser than the server's setting
    loose = search(client, portrait(root, "amy1"), false_alarm_rate="0.2").get_json()
    assert loose["rule"]["false_alarm_rate"] == 0.01


# -- bad input --------------------------------------------------------------------------------
def _truncated_jpeg(root):
    data = (root / "group/bbt1.jpg").read_bytes()
    return data[: len(data) // 2]


BAD_SEARCHES = {
    # name: (build the form data from the BBT root, status, code, text the message must hold)
    "no_file": (lambda root: {}, 400, "no_file", None),
    "empty_file_input": (lambda root: upload((b"", "")), 400, "no_file", None),
    "wrong_field": (lambda root: {"image": (io.BytesIO(portrait(root, "amy1")[0]), "amy1.png")}, 400, "no_file", None),
    "too_many_files": (lambda root: upload(*[(drawn_png(), f"d{i}.png") for i in range(11)]), 400, "too_many_files", None),
    "text_file": (lambda root: upload((b"just some notes, not a photo\n" * 20, "notes.txt")), 422, "not_an_image", "notes.txt"),
    "empty_file": (lambda root: upload((b"", "empty.jpg")), 422, "not_an_image", "empty.jpg"),
    "corrupt_jpeg": (
        lambda root: upload((b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, "corrupt.jpg")),
        422,
        "not_an_image",
        "corrupt.jpg",
    ),
    "truncated_jpeg": (lambda root: upload((_truncated_jpeg(root), "cut.jpg")), 422, "not_an_image", "cut.jpg"),
    "decompression_bomb": (lambda root: upload((decompression_bomb_png(), "bomb.png")), 422, "not_an_image", "bomb.png"),
    "bad_sample_among_good": (lambda root: upload(portrait(root, "amy1"), (b"%PDF-1.4", "doc.pdf")), 422, "not_an_image", "doc.pdf"),
    "no_face": (lambda root: upload((drawn_png(), "drawing.png")), 422, "no_face", "drawing.png"),
    "face_choice_not_a_number": (lambda root: upload(portrait(root, "amy1"), faces="first"), 400, "bad_face_choice", None),
    "face_choice_out_of_range": (lambda root: upload(portrait(root, "amy1"), faces="7"), 400, "bad_face_choice", "amy1.png"),
    "face_choice_negative": (lambda root: upload(portrait(root, "amy1"), faces="-1"), 400, "bad_face_choice", None),
    "face_choices_count": (lambda root: upload(portrait(root, "amy1"), faces=["0", "0"]), 422, "bad_face_choice", None),
    "false_alarm_rate": (lambda root: upload(portrait(root, "amy1"), false_alarm_rate="2"), 400, "bad_false_alarm_rate", None),
}


@pytest.mark.parametrize("case", sorted(BAD_SEARCHES))
def test_bad_search_input_is_a_json_error_and_changes_nothing(client, bbt, case):
    settings, root, _ = bbt
    build, status, code, named = BAD_SEARCHES[case]
    before = (index_counts(settings), tree(settings.gallery_dir), tree(settings.data_dir))
    r = client.post("/api/search", data=build(root), content_type="multipart/form-data")
    message = assert_error(r, status, code)
    if named:
        assert named in message
    assert (index_counts(settings), tree(settings.gallery_dir), tree(settings.data_dir)) == before


def test_an_upload_over_the_size_limit_is_413_json(bbt, pipeline):
    settings, root, _ = bbt
    small = other_app(settings, pipeline, max_upload_mb=1, frontend_dir="")
    assert small.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    big = os.urandom(1536 * 1024)
    before = (index_counts(settings), tree(settings.gallery_dir))
    r = small.test_client().post("/api/search", data=upload((big, "big.jpg")), content_type="multipart/form-data")
    assert "1 MB" in assert_error(r, 413, "too_large")
    assert (index_counts(settings), tree(settings.gallery_dir)) == before


def test_the_default_upload_limit_comes_from_the_settings(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 30 * 1024 * 1024


def test_samples_stay_in_memory_never_on_disk_or_in_the_log(client, bbt, monkeypatch, caplog):
    """Werkzeug spools uploads to temporary files unless told otherwise: any temporary file
    made during a search fails it here."""
    import werkzeug.formparser

    _, root, _ = bbt
    made = []

    def refuse(*args, **kwargs):
        made.append(args)
        raise AssertionError("a temporary file was made for an upload")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", refuse)
    # a sample well over Werkzeug's 500 KB in-memory limit
    img = np.asarray(Image.open(root / "people/amy/amy1.png").convert("RGB").resize((900, 900)))
    noisy = Image.fromarray(img ^ np.random.default_rng(0).integers(0, 8, img.shape, dtype=np.uint8))
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    assert buf.tell() > 600 * 1024
    caplog.set_level("DEBUG")
    r = search(client, (buf.getvalue(), "private-sample-amy.png"))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert made == []
    assert "private-sample-amy" not in caplog.text


# -- people -----------------------------------------------------------------------------------
def _index_rows(settings, sql, *args):
    from faceexplore.index.store import FaceIndex

    with FaceIndex(settings.index_path, readonly=True) as index:
        return [dict(r) for r in index.db.execute(sql, args).fetchall()]


def test_people_are_the_active_clusters_largest_first(client, bbt):
    settings, _, _ = bbt
    clusters = _index_rows(
        settings, "SELECT * FROM clusters WHERE clustering_id = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'active_clustering')"
    )
    r = client.get("/api/people?page=1&per_page=48")
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"people"} | PAGING_KEYS
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 48, len(clusters), 1)
    people = body["people"]
    assert {p["id"] for p in people} == {c["cluster_id"] for c in clusters}
    assert [p["face_count"] for p in people] == sorted((p["face_count"] for p in people), reverse=True)
    for p in people:
        assert set(p) == PERSON_KEYS
        assert re.fullmatch(r"/cache/[0-9a-f]{16}/faces/160/\d+\.jpg", p["cover_url"])
        assert isinstance(p["flags"], list)
    # pages: 2 per page
    total = len(clusters)
    seen = []
    for page in range(1, (total + 1) // 2 + 1):
        part = client.get(f"/api/people?page={page}&per_page=2").get_json()
        assert part["pages"] == (total + 1) // 2 and len(part["people"]) == min(2, total - 2 * (page - 1))
        seen += [p["id"] for p in part["people"]]
    assert seen == [p["id"] for p in people]
    beyond = client.get(f"/api/people?page={total + 5}&per_page=2").get_json()
    assert beyond["people"] == []


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=-1", "page=1.5", "per_page=0", "per_page=100000", "per_page=x"])
@pytest.mark.parametrize("url", ["/api/people", "/api/people/{person}"])
def test_a_bad_page_is_400(client, bbt, query, url):
    person = client.get("/api/people").get_json()["people"][0]["id"]
    assert_error(client.get(url.format(person=person) + "?" + query), 400, "bad_page")


def test_a_person_page_lists_their_photos_with_their_face(client, bbt):
    settings, _, _ = bbt
    people = client.get("/api/people").get_json()["people"]
    for person in people:
        r = client.get(f"/api/people/{person['id']}")
        assert r.status_code == 200
        body = r.get_json()
        assert set(body) == {"person", "photos"} | PAGING_KEYS
        assert body["person"] == person
        assert body["total"] == person["photo_count"] == len(body["photos"])
        for photo in body["photos"]:
            assert_photo(photo, with_confidence=False)
            # the box is this person's face in that photo
            faces = client.get(f"/api/photos/{photo['id']}").get_json()["faces"]
            theirs = [f["box"] for f in faces if f["person_id"] == person["id"]]
            assert photo["box"] in theirs


@pytest.mark.parametrize(
    "url", ["/api/people/999999", "/api/photos/999999", "/api/people/abc", "/api/photos/abc", "/api/people/-1", "/api/nothing"]
)
def test_unknown_ids_are_404_json(client, url):
    assert_error(client.get(url), 404, "not_found")


def test_a_wrong_method_is_405_json(client):
    assert_error(client.post("/api/status"), 405, "method_not_allowed")
    assert_error(client.delete("/api/photos/1"), 405, "method_not_allowed")


# -- photos -----------------------------------------------------------------------------------
def test_a_photo_and_its_faces(client, bbt):
    settings, _, _ = bbt
    person_ids = {p["id"] for p in client.get("/api/people").get_json()["people"]}
    for row in _index_rows(settings, "SELECT * FROM photos"):
        r = client.get(f"/api/photos/{row['id']}")
        assert r.status_code == 200
        body = r.get_json()
        photo = body["photo"]
        assert set(photo) == PHOTO_KEYS and photo["confidence"] is None and photo["box"] is None
        assert (photo["path"], photo["width"], photo["height"]) == (row["path"], row["width"], row["height"])
        faces = _index_rows(settings, "SELECT id FROM faces WHERE photo_id = ?", row["id"])
        assert sorted(f["id"] for f in body["faces"]) == sorted(f["id"] for f in faces)
        for f in body["faces"]:
            assert set(f) == {"id", "box", "probability", "person_id", "crop_url"}
            assert f["person_id"] in person_ids
            assert f["crop_url"] == f"/cache/{_cache_id(settings)}/faces/160/{f['id']}.jpg"


# -- status -----------------------------------------------------------------------------------
def test_status_and_health(client, bbt):
    settings, _, _ = bbt
    counts = index_counts(settings)
    log_in(client, settings)  # the details are the organiser's; visitors get the counts (test_api_access.py)
    body = client.get("/api/status").get_json()
    assert body["photos"] == counts["photos"] == 5
    assert body["faces"] == counts["faces"] > 5
    assert body["people"] == counts["people"] == client.get("/api/people").get_json()["total"]
    assert body["model"] == "dlib-resnet-v1"
    assert isinstance(body["threshold"], float) and body["threshold_method"]
    assert body["last_indexed"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(counts["last_indexed"]))
    assert isinstance(body["search_threshold"], float) and body["false_alarm_rate"] == 0.01
    assert client.get("/api/health").get_json() == {"status": "ok"}


def test_without_an_index_the_api_says_so(tmp_path, pipeline):
    from faceexplore.settings import Settings

    # open: a new data folder would otherwise ask for its access code first (test_access_code.py)
    settings = Settings(data_dir=tmp_path / "data", gallery_dir=tmp_path / "gallery", search_access="open")
    empty = other_app(settings, pipeline, frontend_dir="")
    c = empty.test_client()
    assert c.get("/api/health").status_code == 200
    status = c.get("/api/status").get_json()
    assert status["photos"] == 0 and status["last_indexed"] is None
    assert c.get("/api/people").get_json()["people"] == []
    assert_error(c.post("/api/search", data=upload((drawn_png(), "a.png")), content_type="multipart/form-data"), 503, "not_indexed")
    assert not (tmp_path / "data" / "index.sqlite3").exists()


# -- download ---------------------------------------------------------------------------------
def _cache_id(settings) -> str:
    return _index_rows(settings, "SELECT value FROM meta WHERE key = 'index_id'")[0]["value"]


def _photo_ids(settings):
    return {r["path"]: r["id"] for r in _index_rows(settings, "SELECT id, path FROM photos")}


def test_download_zips_exactly_the_photos_asked_for(client, bbt, monkeypatch):
    settings, _, _ = bbt
    ids = _photo_ids(settings)
    chosen = ["group/bbt4.jpg", "group/bbt1.jpg", "group/bbt2.jpg"]

    def refuse(*a, **k):
        raise AssertionError("the zip must be streamed, not written to a temporary file")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    for request in (
        {"json": {"photo_ids": [ids[p] for p in chosen] + [ids[chosen[0]]]}},  # a repeated id once
        {"data": {"photo_ids": [str(ids[p]) for p in chosen]}},
    ):
        r = client.post("/api/download", **request)
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.mimetype == "application/zip"
        assert r.headers["Content-Disposition"] == "attachment; filename=faceexplore-photos.zip"
        archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
        assert archive.testzip() is None
        assert archive.namelist() == chosen
        for name in chosen:
            assert archive.read(name) == (Path(settings.gallery_dir) / name).read_bytes()


BAD_DOWNLOADS = {
    "empty_list": ({"json": {"photo_ids": []}}, "no_photos"),
    "no_ids_at_all": ({"data": {}}, "no_photos"),
    "unknown_id": ({"json": {"photo_ids": [1, 999999]}}, "unknown_photo"),
    "not_a_list": ({"json": {"photo_ids": "1,2"}}, "bad_photo_ids"),
    "not_an_object": ({"json": [1, 2]}, "bad_photo_ids"),
    "text_id": ({"json": {"photo_ids": ["one"]}}, "bad_photo_ids"),
    "bool_id": ({"json": {"photo_ids": [True]}}, "bad_photo_ids"),
    "float_id": ({"json": {"photo_ids": [1.5]}}, "bad_photo_ids"),
    "form_text_id": ({"data": {"photo_ids": ["x"]}}, "bad_photo_ids"),
    "too_many": ({"json": {"photo_ids": list(range(1, 1002))}}, "too_many_photos"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOWNLOADS))
def test_bad_downloads_are_400(client, case):
    request, code = BAD_DOWNLOADS[case]
    assert_error(client.post("/api/download", **request), 400, code)


# -- files ------------------------------------------------------------------------------------
def test_gallery_files_are_served(client, bbt):
    settings, _, _ = bbt
    r = client.get("/gallery/group/bbt3.jpg")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.get_data() == (Path(settings.gallery_dir) / "group/bbt3.jpg").read_bytes()


TRAVERSALS = [
    "/gallery/../secret.jpg",
    "/gallery/%2e%2e/secret.jpg",
    "/gallery/%2E%2E/secret.jpg",
    "/gallery/group/../../secret.jpg",
    "/gallery/group/%2e%2e/%2e%2e/secret.jpg",
    "/gallery/..%2fsecret.jpg",
    "/gallery/%2e%2e%2fsecret.jpg",
    "/gallery/..%5csecret.jpg",
    "/gallery//secret.jpg",
    "/gallery/.hidden.jpg",
    "/gallery/group/bbt1.txt",
    "/gallery/group",
    "/gallery/missing.jpg",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_nothing_outside_the_gallery_is_served(client, bbt, url):
    settings, _, _ = bbt
    gallery = Path(settings.gallery_dir)
    secret = b"TOP-SECRET-" + os.urandom(8).hex().encode()
    (gallery.parent / "secret.jpg").write_bytes(secret)
    (gallery / ".hidden.jpg").write_bytes(secret)
    (gallery / "group" / "bbt1.txt").write_bytes(secret)
    try:
        r = client.get(url)
        assert r.status_code in (400, 404), r.status_code
        assert secret not in r.get_data()
    finally:
        for p in (gallery.parent / "secret.jpg", gallery / ".hidden.jpg", gallery / "group" / "bbt1.txt"):
            p.unlink()


def test_a_link_out_of_the_gallery_is_not_followed(tmp_path, pipeline):
    from faceexplore.settings import Settings

    gallery = tmp_path / "gallery"
    gallery.mkdir()
    outside = tmp_path / "private.jpg"
    outside.write_bytes(b"PRIVATE")
    (gallery / "link.jpg").symlink_to(outside)
    (gallery / "dir").symlink_to(tmp_path)
    c = other_app(Settings(data_dir=tmp_path / "data", gallery_dir=gallery), pipeline, frontend_dir="").test_client()
    for url in ("/gallery/link.jpg", "/gallery/dir/private.jpg"):
        r = c.get(url)
        assert r.status_code == 404 and b"PRIVATE" not in r.get_data()


def _jpeg(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "image/jpeg"
    img = Image.open(io.BytesIO(response.get_data()))
    assert img.format == "JPEG"
    return img


def test_thumbnails_are_made_once_and_cached(client, bbt):
    settings, _, _ = bbt
    ids = _photo_ids(settings)
    pid = ids["group/bbt1.jpg"]  # 1366 x 768
    for size in (32, 400, 1200):
        cached = Path(settings.cache_dir) / _cache_id(settings) / "thumbnails" / str(size) / f"{pid}.jpg"
        r = client.get(f"/cache/{_cache_id(settings)}/thumbnails/{size}/{pid}.jpg")
        img = _jpeg(r)
        assert max(img.size) == size and abs(img.size[0] / img.size[1] - 1366 / 768) < 0.05
        assert cached.is_file() and cached.read_bytes() == r.get_data()
        stamp = cached.stat().st_mtime_ns
        again = client.get(f"/cache/{_cache_id(settings)}/thumbnails/{size}/{pid}.jpg")
        assert again.get_data() == r.get_data() and cached.stat().st_mtime_ns == stamp
    leftovers = [p for p in Path(settings.cache_dir).rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_small_photo_is_never_enlarged(client, bbt):
    settings, _, _ = bbt
    pid = _photo_ids(settings)["group/bbt3.jpg"]  # 594 x 383
    assert _jpeg(client.get(f"/cache/{_cache_id(settings)}/thumbnails/1200/{pid}.jpg")).size == (594, 383)


def test_face_crops_are_square_and_cached(client, bbt):
    settings, _, _ = bbt
    face_id = _index_rows(settings, "SELECT id FROM faces ORDER BY id LIMIT 1")[0]["id"]
    r = client.get(f"/cache/{_cache_id(settings)}/faces/160/{face_id}.jpg")
    assert _jpeg(r).size == (160, 160)
    assert (Path(settings.cache_dir) / _cache_id(settings) / "faces" / "160" / f"{face_id}.jpg").read_bytes() == r.get_data()
    # the covers the people page links to all exist
    for person in client.get("/api/people").get_json()["people"]:
        assert _jpeg(client.get(person["cover_url"])).size == (160, 160)


@pytest.mark.parametrize(
    "url",
    [
        "/cache/thumbnails/33/1.jpg",
        "/cache/thumbnails/400/999999.jpg",
        "/cache/faces/100/1.jpg",
        "/cache/faces/160/999999.jpg",
        "/cache/thumbnails/400/abc.jpg",
        "/cache/other/400/1.jpg",
    ],
)
def test_unknown_cache_files_are_404(client, bbt, url):
    settings, _, _ = bbt
    assert_error(client.get(url), 404, "not_found")
    assert not (Path(settings.cache_dir) / url.removeprefix("/cache/")).exists()


# -- the frontend, the API description, the secret key ----------------------------------------
def test_the_built_frontend_is_served_with_client_side_routes(tmp_path, bbt, pipeline):
    settings, _, _ = bbt
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>FaceExplore</title>")
    (dist / "assets" / "app-1234.js").write_text("console.log('app')")
    c = other_app(settings, pipeline, frontend_dir=dist).test_client()
    for url in ("/", "/people", "/people/3", "/search"):
        r = c.get(url)
        assert r.status_code == 200 and r.mimetype == "text/html" and b"FaceExplore" in r.get_data(), url
    r = c.get("/assets/app-1234.js")
    assert r.status_code == 200 and r.get_data() == b"console.log('app')"
    for url in ("/assets/missing.js", "/api/nothing", "/cache/x", "/gallery/none.jpg", "/../secret"):
        assert_error(c.get(url), 404, "not_found")


def test_without_a_built_frontend_the_root_is_a_note(client):
    r = client.get("/")
    assert r.status_code == 200 and r.get_json()["api"] == "/api/openapi.json"
    assert_error(client.get("/people/3"), 404, "not_found")


def test_every_api_route_is_described_in_openapi(app, client):
    """The document (generated from the routes' models) describes every /api/ route and method;
    the file routes (/gallery, /cache, the frontend) are plain routes outside it."""
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    described = {path: {m.upper() for m in ops} for path, ops in spec["paths"].items()}
    routes = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if path.startswith("/api/"):
            routes.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    assert described == routes
    # every $ref points at a schema that exists
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])


def test_the_secret_key_comes_from_the_environment_or_a_generated_file(tmp_path, app):
    from faceexplore.settings import Settings, load_settings
    from faceexplore.web.app import secret_key

    assert secret_key(load_settings({"data_dir": tmp_path / "a"}, env={"FACEEXPLORE_SECRET_KEY": "from-env"})) == "from-env"
    assert secret_key(load_settings({"data_dir": tmp_path / "a"}, env={"SECRET_KEY": "plain"})) == "plain"
    assert not (tmp_path / "a").exists()
    first = secret_key(Settings(data_dir=tmp_path / "a"))
    hidden = tmp_path / "a" / "hidden_settings.py"
    assert hidden.is_file() and (hidden.stat().st_mode & 0o077) == 0
    assert first in hidden.read_text() and len(first) >= 32
    assert secret_key(Settings(data_dir=tmp_path / "a")) == first  # kept
    assert secret_key(Settings(data_dir=tmp_path / "b")) != first  # never a constant
    assert app.secret_key and len(app.secret_key) >= 32
