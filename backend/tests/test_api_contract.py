"""The web API's contract, fast: every route and every error status over a synthetic gallery
(tests/api_fixtures.py) with a fake face pipeline. No model weights, no shared data.

Every JSON answer checked here is also validated against the schema /api/openapi.json gives for
its route and status, so the document and the answers cannot drift apart."""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from PIL import Image

from tests.api_fixtures import (
    FACE_BOXES,
    LATE,
    MODEL,
    STRANGER,
    UNREADABLE,
    FakePipeline,
    build_gallery,
    log_in,
    make_app,
    sample_photo,
)

BACKEND = Path(__file__).resolve().parents[1]
FRONTEND_DOCUMENT = BACKEND.parent / "frontend" / "openapi.json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


# -- fixtures ---------------------------------------------------------------------------------
# The open site (people pages and gallery for anyone): the API's shapes and rules. Who may see
# what (the defaults: the organiser's people pages, a private gallery) is test_api_access.py.
OPEN = {"people_page": "public", "gallery_access": "public"}


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return build_gallery(tmp_path_factory.mktemp("synthetic"), **OPEN)


@pytest.fixture(scope="module")
def app(gallery):
    return make_app(gallery)


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def api(client, spec):
    """The client, checking every /api/ answer against the document."""
    return CheckedClient(client, spec)


class CheckedClient:
    def __init__(self, client, spec):
        self.client, self.spec = client, spec

    def get(self, url, **kwargs):
        return self._checked("get", url, kwargs)

    def post(self, url, **kwargs):
        return self._checked("post", url, kwargs)

    def patch(self, url, **kwargs):
        return self._checked("patch", url, kwargs)

    def delete(self, url, **kwargs):
        return self._checked("delete", url, kwargs)

    def _checked(self, method, url, kwargs):
        response = getattr(self.client, method)(url, **kwargs)
        assert_conforms(self.spec, method, url, response)
        return response


def _template(spec, url: str) -> str:
    path = url.split("?", 1)[0]
    for template in spec["paths"]:
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)), path):
            return template
    raise AssertionError(f"{path} is not in the document")


def assert_conforms(spec, method: str, url: str, response) -> None:
    """The answer has a status the document lists for the route, that status's content type,
    and (JSON) a body valid against its schema."""
    operation = spec["paths"][_template(spec, url)][method]
    status = str(response.status_code)
    assert status in operation["responses"], (method, url, status, response.get_data(as_text=True)[:300])
    content = operation["responses"][status]["content"]
    assert response.mimetype in content, (url, status, response.mimetype)
    if response.mimetype == "application/json":
        schema = {**content["application/json"]["schema"], "components": spec["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, (url, status, [e.message for e in errors[:5]])


def cache_id(gallery) -> str:
    """The index's id, which names its cache folder (faceexplore.index.cache)."""
    from faceexplore.index.store import FaceIndex

    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        return index.meta("index_id")


def upload(*files, **fields):
    """Multipart form data: ``files`` are (bytes, filename), sent as the repeated field images."""
    return {"images": [(io.BytesIO(content), name) for content, name in files], **fields}


def search(api, *files, **fields):
    return api.post("/api/search", data=upload(*files, **fields), content_type="multipart/form-data")


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert len(message) > 10 and message.endswith("."), message
    assert "Traceback" not in message and "/tmp" not in message and "site-packages" not in message, message
    return message


# -- the document -----------------------------------------------------------------------------
def test_the_document_is_valid_openapi_with_the_shared_schema_names(spec):
    validate_openapi(spec)
    assert spec["openapi"].startswith("3.1")
    schemas = set(spec["components"]["schemas"])
    expected = {"Photo", "Person", "Status", "SearchResponse", "Error", "ErrorDetail", "Sample", "SampleFace", "Rule"}
    assert expected | {"PhotoFace", "PhotoDetail", "PeoplePage", "PersonPage", "Health", "DownloadRequest", "SearchForm"} <= schemas
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= schemas
    # pydantic's constraints came through as JSON Schema keywords, not as its own names
    assert not re.search(r'"(ge|le|gt|lt)":', json.dumps(spec))
    page = spec["paths"]["/api/people"]["get"]["parameters"][0]["schema"]
    assert (page["minimum"], page["maximum"]) == (1, 1_000_000)
    photo_id = spec["components"]["schemas"]["DownloadRequest"]["properties"]["photo_ids"]["items"]
    assert photo_id == {"type": "integer", "minimum": 0}
    # nullable fields are really nullable, and always sent
    photo = spec["components"]["schemas"]["Photo"]
    assert set(photo["required"]) == set(photo["properties"])
    for name in ("width", "height", "confidence", "box"):
        assert {"type": "null"} in photo["properties"][name]["anyOf"], name
    status = spec["components"]["schemas"]["Status"]
    assert {"indexed", "errors", "clustered"} <= set(status["required"])


def test_every_api_route_is_described_and_nothing_else(app, spec):
    routed = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routed.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    api_routes = {path: methods for path, methods in routed.items() if path.startswith("/api/")}
    described = {path: set(ops) for path, ops in spec["paths"].items()}
    assert described == api_routes
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status != "200":  # every error answer is an Error
                    assert answer["content"] == {"application/json": {"schema": ERROR_REF}}, (path, method, status)


def test_the_served_document_is_the_generated_one_and_the_frontend_copy_is_current(spec):
    from faceexplore.web.openapi_document import openapi_document

    assert spec == openapi_document()
    assert FRONTEND_DOCUMENT.read_text() == json.dumps(spec, indent=2, ensure_ascii=False) + "\n", (
        "frontend/openapi.json is stale: cd backend && python -m faceexplore.web.openapi_document > ../frontend/openapi.json"
    )


def test_no_swagger_ui_is_served(client):
    for url in ("/openapi", "/openapi/", "/openapi/swagger", "/api/docs"):
        assert client.get(url).status_code == 404, url


# -- status and health ------------------------------------------------------------------------
def test_status_and_health(api, gallery):
    log_in(api.client, gallery.settings)  # visitors get the counts only (test_api_access.py)
    body = api.get("/api/status").get_json()
    assert (body["photos"], body["faces"], body["people"], body["errors"]) == (10, 15, 5, 1)
    assert body["model"] == MODEL and body["indexed"] is True and body["clustered"] is True
    assert isinstance(body["threshold"], float) and isinstance(body["search_threshold"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["last_indexed"])
    assert body["false_alarm_rate"] == 0.01
    assert api.get("/api/health").get_json() == {"status": "ok"}


def test_an_index_not_clustered_yet(tmp_path, spec):
    unclustered = build_gallery(tmp_path, clustered=False, **OPEN)
    api = CheckedClient(make_app(unclustered).test_client(), spec)
    log_in(api.client, unclustered.settings)
    body = api.get("/api/status").get_json()
    assert body["indexed"] is True and body["clustered"] is False and body["people"] == 0
    assert body["threshold"] is None and body["search_threshold"] is None
    assert api.get("/api/people").get_json()["people"] == []
    faces = api.get(f"/api/photos/{unclustered.photo_ids['album/beach.jpg']}").get_json()["faces"]
    assert [f["person_id"] for f in faces] == [None, None]
    # a search still answers (every face its own cluster), with no person page to link to
    r = search(api, (sample_photo([1]), "one.png"))
    assert r.status_code == 200 and r.get_json()["person_id"] is None


def test_without_an_index_the_api_says_so(tmp_path, gallery, spec):
    from faceexplore.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", gallery_dir=tmp_path / "gallery", frontend_dir="", **OPEN)
    from faceexplore.web import create_app

    api = CheckedClient(create_app(settings, pipeline=FakePipeline(gallery.centres)).test_client(), spec)
    log_in(api.client, settings)
    body = api.get("/api/status").get_json()
    assert body == {
        "photos": 0,
        "faces": 0,
        "people": 0,
        "model": None,
        "threshold": None,
        "threshold_method": None,
        "last_indexed": None,
        "search_threshold": None,
        "false_alarm_rate": 0.01,
        "indexed": False,
        "errors": 0,
        "clustered": False,
        "live": None,
        "uploads": True,
        "search_closed": False,
    }
    assert api.get("/api/people").get_json()["people"] == []
    assert_error(api.get("/api/people/1"), 404, "not_found")
    assert_error(api.get("/api/photos/1"), 404, "not_found")
    assert_error(search(api, (sample_photo([0]), "a.png")), 503, "not_indexed")
    assert_error(api.post("/api/download", json={"photo_ids": [1]}), 400, "unknown_photo")
    assert not (tmp_path / "data" / "index.sqlite3").exists()
    assert api.get("/api/corrections").status_code == 503  # nothing to correct yet


# -- people -----------------------------------------------------------------------------------
def test_people_are_the_clusters_most_faces_first_with_pages(api, gallery):
    body = api.get("/api/people").get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 48, 5, 1)
    counts = [p["face_count"] for p in body["people"]]
    assert counts == sorted(counts, reverse=True) and sum(counts) == 14  # the late face is in no cluster
    for p in body["people"]:
        assert re.fullmatch(r"/cache/[0-9a-f]{16}/faces/160/\d+\.jpg", p["cover_url"]) and p["flags"] == []
    seen = []
    for page in (1, 2, 3):
        part = api.get(f"/api/people?page={page}&per_page=2").get_json()
        assert part["pages"] == 3 and part["total"] == 5
        seen += [p["id"] for p in part["people"]]
    assert seen == [p["id"] for p in body["people"]]
    assert api.get("/api/people?page=9&per_page=2").get_json()["people"] == []
    assert api.get("/api/people?page=&per_page=").get_json()["per_page"] == 48  # blank: the default


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=-1", "page=1.5", "page=1000001", "per_page=0", "per_page=201", "per_page=x"])
@pytest.mark.parametrize("url", ["/api/people", "/api/people/{person}"])
def test_a_bad_page_is_400(api, query, url):
    person = api.get("/api/people").get_json()["people"][0]["id"]
    assert_error(api.get(url.format(person=person) + "?" + query), 400, "bad_page")


def test_a_person_page_lists_the_photos_they_are_in_with_their_face(api, gallery):
    for person in api.get("/api/people").get_json()["people"]:
        body = api.get(f"/api/people/{person['id']}?per_page=200").get_json()
        assert body["person"] == person and body["total"] == person["photo_count"] == len(body["photos"])
        paths = [p["path"] for p in body["photos"]]
        assert paths == sorted(paths)
        # one synthetic person's photos (the late photo is not clustered yet)
        matches = [k for k in range(STRANGER) if gallery.photos_of(k) == set(paths)]
        assert len(matches) == 1, paths
        for photo in body["photos"]:
            assert photo["confidence"] is None
            assert photo["box"] == list(FACE_BOXES[gallery.people_of[photo["path"]].index(matches[0])])
    first = api.get("/api/people").get_json()["people"][0]
    part = api.get(f"/api/people/{first['id']}?page=2&per_page=2").get_json()
    assert (part["page"], part["pages"], len(part["photos"])) == (2, 2, 1)


@pytest.mark.parametrize(
    "url",
    [
        "/api/people/999999",
        "/api/people/-1",
        "/api/people/abc",
        f"/api/people/{2**63}",
        f"/api/people/{2**70}",
        "/api/photos/999999",
        f"/api/photos/{2**63}",
        f"/api/photos/{2**64}",
    ],
)
def test_unknown_ids_are_404(client, spec, url):
    response = client.get(url)
    assert_error(response, 404, "not_found")
    if re.fullmatch(r"/api/\w+/\d+", url):
        assert_conforms(spec, "get", url, response)


# -- photos -----------------------------------------------------------------------------------
def test_a_photo_with_its_faces_left_to_right(api, gallery):
    person_ids = {p["id"] for p in api.get("/api/people").get_json()["people"]}
    for path, pid in gallery.photo_ids.items():
        body = api.get(f"/api/photos/{pid}").get_json()
        photo = body["photo"]
        assert (photo["id"], photo["path"], photo["confidence"], photo["box"]) == (pid, path, None, None)
        assert photo["thumbnail_url"] == f"/cache/{cache_id(gallery)}/thumbnails/400/{pid}.jpg"
        assert [f["box"] for f in body["faces"]] == [list(b) for b in FACE_BOXES[: len(gallery.people_of[path])]]
        for face in body["faces"]:
            assert face["crop_url"] == f"/cache/{cache_id(gallery)}/faces/160/{face['id']}.jpg"
            assert (face["person_id"] is None) == (path == LATE)
            assert face["person_id"] is None or face["person_id"] in person_ids
        if path == UNREADABLE:
            assert (photo["width"], photo["height"], body["faces"]) == (None, None, [])
        else:
            assert (photo["width"], photo["height"]) == (320, 240)


def test_a_path_is_quoted_in_its_url(api, gallery):
    pid = gallery.photo_ids["album 2/été à Paris.jpg"]
    photo = api.get(f"/api/photos/{pid}").get_json()["photo"]
    assert photo["url"] == "/gallery/album%202/%C3%A9t%C3%A9%20%C3%A0%20Paris.jpg"
    assert api.client.get(photo["url"]).status_code == 200


# -- search -----------------------------------------------------------------------------------
def test_a_search_finds_the_persons_photos_and_page(api, gallery):
    for person in range(5):
        body = search(api, (sample_photo([person]), f"sample{person}.png")).get_json()
        assert body["found"] is True and body["confidence"] > 0.9
        photos = {p["path"] for p in body["photos"]}
        # their clustered photos, and the late photo when it is theirs (its face is its own cluster)
        late = {LATE} if person in gallery.people_of[LATE] else set()
        assert photos - late == gallery.photos_of(person), person
        n = len(body["photos"])
        assert body["message"] == f"Found {n} photo{'s' if n != 1 else ''} of this person."
        for p in body["photos"]:
            assert 0 <= p["confidence"] <= 1
            assert p["box"] == list(FACE_BOXES[gallery.people_of[p["path"]].index(person)])
        page = api.get(f"/api/people/{body['person_id']}").get_json()
        assert {p["path"] for p in page["photos"]} == gallery.photos_of(person)
        assert body["rule"]["name"] == "open-set" and body["rule"]["false_alarm_rate"] == 0.01
        [sample] = body["samples"]
        assert sample == {
            "index": 0,
            "filename": f"sample{person}.png",
            "width": 320,
            "height": 240,
            "faces": [{"index": 0, "box": list(FACE_BOXES[0]), "probability": 0.99}],
            "used_face": 0,
            "error": None,
        }


def test_a_stranger_is_not_found(api):
    body = search(api, (sample_photo([STRANGER]), "stranger.png")).get_json()
    assert (body["found"], body["photos"], body["person_id"]) == (False, [], None)
    assert body["message"] == "This person is not in the gallery."


def test_face_choices_and_a_sample_without_a_face(api, gallery):
    group = sample_photo([STRANGER, 3])
    body = search(api, (group, "group.png"), (sample_photo([]), "nobody.png"), faces=["1", ""]).get_json()
    first, second = body["samples"]
    assert first["used_face"] == 1 and len(first["faces"]) == 2
    assert second["used_face"] is None and second["faces"] == []
    assert second["error"] == {"code": "no_face", "message": "No face was found in nobody.png."}
    assert {p["path"] for p in body["photos"]} == gallery.photos_of(3)
    # by default the largest face (here: the first of two equal ones)
    assert search(api, (group, "group.png")).get_json()["found"] is False


def test_several_samples_and_the_false_alarm_rate_field(api):
    body = search(api, (sample_photo([4]), "a.png"), (sample_photo([4], size=(300, 200)), "b.png"), false_alarm_rate="0.005").get_json()
    assert body["found"] is True and len(body["samples"]) == 2
    assert body["rule"]["false_alarm_rate"] == 0.005 and "each of 2 samples" in body["rule"]["text"]
    strict = search(api, (sample_photo([4]), "a.png"), false_alarm_rate="0.001").get_json()["rule"]
    server = search(api, (sample_photo([4]), "a.png")).get_json()["rule"]
    assert strict["threshold"] < server["threshold"]
    # a visitor can make the search stricter, never looser than the server's setting (0.01)
    loose = search(api, (sample_photo([4]), "a.png"), false_alarm_rate="0.999").get_json()["rule"]
    assert loose["false_alarm_rate"] == server["false_alarm_rate"] == 0.01
    assert loose["threshold"] == server["threshold"]


def _bomb() -> bytes:
    from tests.web_conftest import decompression_bomb_png

    return decompression_bomb_png()


def _claimed_png(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (its data is a few bytes)."""
    from tests.test_decode_fuzz import _png_chunks

    return _png_chunks(width, height, 8, 2, zlib.compress(b"\0" * 1000))


BAD_SEARCHES = {
    # name: (form data, status, code, text the message must hold)
    "no_file": (lambda: {}, 400, "no_file", None),
    "empty_file_input": (lambda: upload((b"", "")), 400, "no_file", None),
    "wrong_field": (lambda: {"image": (io.BytesIO(sample_photo([0])), "a.png")}, 400, "no_file", None),
    "images_as_text": (lambda: {"images": "not a file"}, 400, "no_file", None),
    "too_many_files": (lambda: upload(*[(sample_photo([0]), f"{i}.png") for i in range(11)]), 400, "too_many_files", None),
    "text_file": (lambda: upload((b"just some notes\n" * 20, "notes.txt")), 422, "not_an_image", "notes.txt"),
    "empty_file": (lambda: upload((b"", "empty.jpg")), 422, "not_an_image", "empty.jpg"),
    "decompression_bomb": (lambda: upload((_bomb(), "bomb.png")), 422, "not_an_image", "bomb.png"),
    "bad_among_good": (lambda: upload((sample_photo([0]), "a.png"), (b"%PDF-1.4", "doc.pdf")), 422, "not_an_image", "doc.pdf"),
    "no_face": (lambda: upload((sample_photo([]), "nobody.png")), 422, "no_face", "nobody.png"),
    "malformed_ppm": (lambda: upload((b"P6\n1 1\n65536\n\0\0\0\0\0\0\0", "odd.ppm")), 422, "not_an_image", "odd.ppm"),
    "truncated_ppm": (lambda: upload((b"P6\n8 8\n255\n\0\0\0\0\0\0\0\0", "cut.ppm")), 422, "not_an_image", "cut.ppm"),
    "pixel_bomb": (lambda: upload((_claimed_png(14000, 14000), "huge.png")), 422, "too_large_image", "huge.png"),
    "pixels_together": (
        lambda: upload(*[(_claimed_png(4000, 3500), f"{i}.png") for i in range(5)]),  # 14 MP each, 70 together
        422,
        "too_large_image",
        "together",
    ),
    "face_not_a_number": (lambda: upload((sample_photo([0]), "a.png"), faces="first"), 400, "bad_face_choice", None),
    "face_a_fraction": (lambda: upload((sample_photo([0]), "a.png"), faces="0.5"), 400, "bad_face_choice", None),
    "face_out_of_range": (lambda: upload((sample_photo([0]), "a.png"), faces="7"), 400, "bad_face_choice", "a.png"),
    "face_negative": (lambda: upload((sample_photo([0]), "a.png"), faces="-1"), 400, "bad_face_choice", None),
    "face_count": (lambda: upload((sample_photo([0]), "a.png"), faces=["0", "0"]), 422, "bad_face_choice", None),
    "rate_too_high": (lambda: upload((sample_photo([0]), "a.png"), false_alarm_rate="2"), 400, "bad_false_alarm_rate", None),
    "rate_zero": (lambda: upload((sample_photo([0]), "a.png"), false_alarm_rate="0"), 400, "bad_false_alarm_rate", None),
    "rate_text": (lambda: upload((sample_photo([0]), "a.png"), false_alarm_rate="often"), 400, "bad_false_alarm_rate", None),
}


@pytest.mark.parametrize("case", sorted(BAD_SEARCHES))
def test_bad_search_input_is_a_json_error(api, case):
    build, status, code, named = BAD_SEARCHES[case]
    message = assert_error(api.post("/api/search", data=build(), content_type="multipart/form-data"), status, code)
    if named:
        assert named in message


def test_a_search_body_that_is_not_multipart_is_415(api):
    assert_error(api.post("/api/search", json={"images": []}), 415, "unsupported_media_type")
    assert_error(api.post("/api/search", data="x", content_type="text/plain"), 415, "unsupported_media_type")


def test_an_upload_over_the_size_limit_is_413(gallery, spec):
    api = CheckedClient(make_app(gallery, max_upload_mb=1).test_client(), spec)
    big = sample_photo([0]) + bytes(1536 * 1024)
    assert "1 MB" in assert_error(search(api, (big, "big.png")), 413, "too_large")


def test_a_form_of_too_many_parts_is_413_too_many_parts(api):
    fields = {f"extra{i}": "x" for i in range(1100)}
    message = assert_error(search(api, (sample_photo([0]), "a.png"), **fields), 413, "too_many_parts")
    assert "too many parts" in message and "MB" not in message and "'images'" in message
    form = {"photo_ids": [str(i) for i in range(1, 1100)]}
    assert_error(api.post("/api/download", data=form, content_type="multipart/form-data"), 413, "too_many_parts")


def test_an_index_of_another_model_is_503_model_mismatch(gallery, spec):
    other = FakePipeline(gallery.centres, model_name="another-model")
    api = CheckedClient(make_app(gallery, pipeline=other).test_client(), spec)
    message = assert_error(search(api, (sample_photo([0]), "a.png")), 503, "model_mismatch")
    assert "another-model" in message and MODEL in message
    assert other.calls == 0
    assert api.get("/api/status").status_code == 200  # browsing still works


# -- download ---------------------------------------------------------------------------------
def test_download_zips_exactly_the_photos_asked_for(api, gallery):
    chosen = ["album 2/été à Paris.jpg", "album/beach.jpg", "album/park.png"]
    ids = [gallery.photo_ids[p] for p in chosen]
    for request in (
        {"json": {"photo_ids": ids + [ids[0]]}},  # a repeated id once
        {"json": {"photo_ids": [float(i) for i in ids]}},  # 17.0 is the integer 17 in JSON (Schema)
        {"data": {"photo_ids": [str(i) for i in ids]}},  # a form
        {"data": {"photo_ids": [str(i) for i in ids]}, "content_type": "multipart/form-data"},
    ):
        r = api.post("/api/download", **request)
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.headers["Content-Disposition"] == "attachment; filename=faceexplore-photos.zip"
        archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
        assert archive.namelist() == chosen
        for name in chosen:
            assert archive.read(name) == (Path(gallery.settings.gallery_dir) / name).read_bytes()


BAD_DOWNLOADS = {
    "empty_list": ({"json": {"photo_ids": []}}, "no_photos"),
    "no_ids_at_all": ({"data": {}}, "no_photos"),
    "unknown_id": ({"json": {"photo_ids": [1, 999999]}}, "unknown_photo"),
    "huge_id": ({"json": {"photo_ids": [2**70]}}, "unknown_photo"),
    "id_2_to_63": ({"json": {"photo_ids": [2**63, 1]}}, "unknown_photo"),
    "id_2_to_63_as_text": ({"data": {"photo_ids": [str(2**63)]}}, "unknown_photo"),
    "superscript_digit": ({"json": {"photo_ids": ["\u00b2"]}}, "bad_photo_ids"),
    "token_over_its_max_length": ({"json": {"photo_ids": [1], "token": "t" * 100_001}}, "bad_request"),
    "digits_as_text_in_json": ({"json": {"photo_ids": ["1"]}}, "bad_photo_ids"),  # the schema says integer
    "not_whole": ({"json": {"photo_ids": [1.5]}}, "bad_photo_ids"),
    "form_superscript_digit": ({"data": {"photo_ids": ["\u00b2"]}}, "bad_photo_ids"),
    "missing_key": ({"json": {}}, "bad_photo_ids"),
    "not_a_list": ({"json": {"photo_ids": "1,2"}}, "bad_photo_ids"),
    "not_an_object": ({"json": [1, 2]}, "bad_photo_ids"),
    "not_json": ({"data": "{photo_ids", "content_type": "application/json"}, "bad_photo_ids"),
    "text_id": ({"json": {"photo_ids": ["one"]}}, "bad_photo_ids"),
    "negative_id": ({"json": {"photo_ids": [-3]}}, "bad_photo_ids"),
    "bool_id": ({"json": {"photo_ids": [True]}}, "bad_photo_ids"),
    "float_id": ({"json": {"photo_ids": [1.5]}}, "bad_photo_ids"),
    "null_id": ({"json": {"photo_ids": [None]}}, "bad_photo_ids"),
    "form_text_id": ({"data": {"photo_ids": ["x"]}}, "bad_photo_ids"),
    "too_many": ({"json": {"photo_ids": list(range(1, 1002))}}, "too_many_photos"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOWNLOADS))
def test_bad_downloads_are_400(api, case):
    request, code = BAD_DOWNLOADS[case]
    assert_error(api.post("/api/download", **request), 400, code)


def test_a_download_body_of_another_type_is_415(api):
    assert_error(api.post("/api/download", data="1,2", content_type="text/plain"), 415, "unsupported_media_type")


def test_download_links_are_plain_gets_of_zips_in_parts(api, gallery, monkeypatch):
    from faceexplore.web.gallery import download

    readable = [pid for path, pid in gallery.photo_ids.items() if path != UNREADABLE]
    body = api.post("/api/download/links", json={"photo_ids": readable + readable[:2]}).get_json()
    assert body["expires_in"] == 3600 and len(body["links"]) == 1
    link = body["links"][0]
    assert (link["filename"], link["photos"]) == ("faceexplore-photos.zip", len(readable))
    r = api.get(link["url"])
    assert r.status_code == 200 and r.headers["Content-Disposition"] == "attachment; filename=faceexplore-photos.zip"
    assert sorted(zipfile.ZipFile(io.BytesIO(r.get_data())).namelist()) == sorted(p for p in gallery.photo_ids if p != UNREADABLE)
    # a large choice: several zips, named part k of n, together every photo once
    monkeypatch.setattr(download, "LINK_PART", 4)
    links = api.post("/api/download/links", json={"photo_ids": readable}).get_json()["links"]
    assert [link["filename"] for link in links] == [f"faceexplore-photos-part-{k}-of-3.zip" for k in (1, 2, 3)]
    names = []
    for link in links:
        r = api.get(link["url"])
        assert r.headers["Content-Disposition"] == f"attachment; filename={link['filename']}"
        names += zipfile.ZipFile(io.BytesIO(r.get_data())).namelist()
    assert sorted(names) == sorted(p for p in gallery.photo_ids if p != UNREADABLE) and [link["photos"] for link in links] == [4, 4, 1]


def test_bad_download_links(api, gallery, monkeypatch):
    from faceexplore.web.gallery import download

    assert_error(api.post("/api/download/links", json={"photo_ids": [1, 999999]}), 400, "unknown_photo")
    assert_error(api.post("/api/download/links", json={"photo_ids": []}), 400, "no_photos")
    assert_error(api.post("/api/download/links", json={"photo_ids": ["\u00b2"]}), 400, "bad_photo_ids")
    url = api.post("/api/download/links", json={"photo_ids": [gallery.photo_ids["album/beach.jpg"]]}).get_json()["links"][0]["url"]
    token = url.split("token=", 1)[1]
    forged = url.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert_error(api.get(forged), 400, "bad_link")
    assert_error(api.get("/api/download?token="), 400, "bad_link")
    assert_error(api.get("/api/download"), 400, "bad_link")
    monkeypatch.setattr(download, "LINK_MAX_AGE_S", -1)
    assert_error(api.get(url), 400, "expired_link")


def test_the_download_request_model_parses_ids():
    from pydantic import ValidationError

    from faceexplore.web.core.models import DownloadRequest

    # JSON Schema's integers: 4.0 is 4; text is not a number (a form's digits are made numbers
    # by download.parse_download_request, test_download_zips_exactly_the_photos_asked_for)
    assert DownloadRequest.model_validate({"photo_ids": [3, 4.0, 17387.0]}).photo_ids == [3, 4, 17387]
    for bad in ([True], [1.5], ["1e3"], ["4"], [" 5 "], [None], [[1]], "12", [-1.0]):
        with pytest.raises(ValidationError):
            DownloadRequest.model_validate({"photo_ids": bad})


# -- errors of any route ----------------------------------------------------------------------
def test_a_wrong_method_is_405_with_allow(client):
    for method, url, allowed in (
        ("post", "/api/status", "GET"),
        ("delete", "/api/photos/1", "GET"),
        ("get", "/api/search", "POST"),
        ("put", "/api/download", "POST"),
    ):
        r = getattr(client, method)(url)
        assert_error(r, 405, "method_not_allowed")
        assert allowed in r.headers["Allow"]
    # OPTIONS (and a 405's Allow) name only the methods the document lists for the address: the
    # frontend's GET catch-all does not match /api/ addresses
    for url in ("/api/search", "/api/search/confirm", "/api/download/links", "/api/faces/move", "/api/undo"):
        for r in (client.options(url), client.get(url)):
            assert set(r.headers["Allow"].split(", ")) - {"OPTIONS"} == {"POST"}, (url, r.headers["Allow"])


def test_the_document_lists_the_errors_the_apps_own_hooks_answer(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "bad_host" in responses["400"]["description"], (method, path)  # hosts.py, any route
            if "requestBody" in operation:
                assert "413" in responses, (method, path)  # the body size limit
            if path.startswith(("/api/search", "/api/download", "/api/session")):
                assert "rate_limited" in responses["429"]["description"], (method, path)  # ratelimit.py


def test_an_unknown_address_is_404(client):
    for url in ("/api/nothing", "/api/people/1/extra", "/gallery/none.jpg", "/cache/x", "/people/3"):
        assert_error(client.get(url), 404, "not_found")


def test_an_unexpected_error_is_500_without_details(client, monkeypatch, caplog):
    from faceexplore.index.store import FaceIndex

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk trouble in /srv/private/index.sqlite3")

    monkeypatch.setattr(FaceIndex, "people_page", broken)
    r = client.get("/api/people")
    assert_error(r, 500, "server_error")
    assert b"private" not in r.get_data() and b"RuntimeError" not in r.get_data()
    assert "disk trouble" in caplog.text  # the log keeps it for the operator


# -- files outside /api -----------------------------------------------------------------------
def test_gallery_files_thumbnails_and_face_crops(client, gallery):
    pid = gallery.photo_ids["album/dinner.jpg"]
    r = client.get("/gallery/album/dinner.jpg")
    assert r.status_code == 200 and r.get_data() == (Path(gallery.settings.gallery_dir) / "album/dinner.jpg").read_bytes()
    for size in (32, 400):
        img = Image.open(io.BytesIO(client.get(f"/cache/{cache_id(gallery)}/thumbnails/{size}/{pid}.jpg").get_data()))
        assert img.format == "JPEG" and max(img.size) == min(size, 320)
    face = client.get(f"/api/photos/{pid}").get_json()["faces"][0]
    crop = Image.open(io.BytesIO(client.get(face["crop_url"]).get_data()))
    assert crop.size == (160, 160)
    unreadable = gallery.photo_ids[UNREADABLE]
    for url in (
        "/gallery/../secret.jpg",
        "/gallery/%2e%2e/secret.jpg",
        f"/cache/{cache_id(gallery)}/thumbnails/33/1.jpg",
        f"/cache/{cache_id(gallery)}/thumbnails/400/{2**63}.jpg",
        f"/cache/{cache_id(gallery)}/thumbnails/400/{2**70}.jpg",
        f"/cache/{cache_id(gallery)}/faces/160/{2**63}.jpg",
        f"/cache/{cache_id(gallery)}/thumbnails/400/{unreadable}.jpg",
        f"/cache/{cache_id(gallery)}/faces/160/999999.jpg",
        f"/cache/0123456789abcdef/thumbnails/400/{pid}.jpg",  # another index's
        f"/cache/thumbnails/400/{pid}.jpg",  # the layout before index ids
    ):
        assert_error(client.get(url), 404, "not_found")


def test_a_full_disk_while_caching_is_503_disk_full(tmp_path, monkeypatch):
    import errno

    from faceexplore.web.gallery import thumbnails

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    gallery = build_gallery(tmp_path, **OPEN)  # nothing cached yet
    monkeypatch.setattr(thumbnails.tempfile, "mkstemp", no_space)
    client = make_app(gallery).test_client()
    url = f"/cache/{cache_id(gallery)}/thumbnails/400/{gallery.photo_ids['album/beach.jpg']}.jpg"
    message = assert_error(client.get(url), 503, "disk_full")
    assert "disk is full" in message and "No space" not in message


def test_without_a_built_frontend_the_root_is_a_note(client):
    r = client.get("/")
    assert r.status_code == 200 and r.get_json()["api"] == "/api/openapi.json"


# -- the core: typed search results, one model-mismatch error ---------------------------------
def test_the_search_service_returns_a_typed_outcome(gallery):
    from faceexplore.index.store import ModelMismatch
    from faceexplore.search.service import SearchInputError, SearchOutcome, SearchService

    service = SearchService(gallery.settings, pipeline=FakePipeline(gallery.centres))
    outcome = service.search([("a.png", sample_photo([1]), None)])
    assert isinstance(outcome, SearchOutcome) and outcome.found
    assert {p.path for p in outcome.photos} == gallery.photos_of(1)
    as_dict = outcome.to_dict()
    assert list(as_dict) == ["found", "confidence", "message", "person_id", "rule", "samples", "photos", "candidates", "also_you"]
    assert as_dict["samples"][0]["faces"][0]["box"] == list(FACE_BOXES[0])
    with pytest.raises(SearchInputError) as exc:
        service.search([("nobody.png", sample_photo([]), None)])
    assert (exc.value.code, exc.value.status) == ("no_face", 422)
    with pytest.raises(ModelMismatch):
        SearchService(gallery.settings, pipeline=FakePipeline(gallery.centres, model_name="another-model"))


def _two_face_gallery(tmp_path, spec) -> CheckedClient:
    """A client of an open site whose gallery is one photo of people 0 and 1, clustered."""
    from faceexplore.index.store import FaceIndex
    from faceexplore.people.clustering import cluster_index
    from faceexplore.settings import Settings
    from tests.api_fixtures import _records, people_centres

    settings = Settings(data_dir=tmp_path / "data", gallery_dir=tmp_path / "gallery", frontend_dir="", rate_limits="off", **OPEN)
    centres = people_centres()
    with FaceIndex(settings.index_path) as index:
        index.check_model(MODEL, 128)
        index.add_photos(_records(Path(settings.gallery_dir), [("two.jpg", [0, 1])], centres), MODEL)
        cluster_index(index, progress=lambda *a, **k: None)
    api = CheckedClient(make_app(SimpleNamespace(settings=settings, centres=centres)).test_client(), spec)
    return api


def test_a_gallery_of_two_faces_says_it_cannot_be_searched_yet(tmp_path, spec):
    api = _two_face_gallery(tmp_path, spec)
    for person in (0, STRANGER):
        body = search(api, (sample_photo([person]), "a.png")).get_json()
        assert body["found"] is False and body["photos"] == [] and body["rule"]["threshold"] is None
        assert "too few faces to search yet" in body["message"] and "not in the gallery" not in body["message"]


def test_a_gallery_of_two_faces_is_searched_with_the_models_prior(tmp_path, spec, monkeypatch):
    """Where the embedding model has a measured prior (priors.py), a tiny gallery is searched
    against it: its people are found, a stranger is not."""
    from faceexplore.faces.priors import ModelPrior
    from faceexplore.search import searcher as search_module

    # the fake embedder's strangers: people far apart (its people are in one cone, the stranger opposite)
    monkeypatch.setattr(search_module, "prior_for", lambda model: ModelPrior(model, 0.9, 0.1, 0.01))
    api = _two_face_gallery(tmp_path, spec)
    found = search(api, (sample_photo([0]), "a.png")).get_json()
    assert found["found"] is True and [p["path"] for p in found["photos"]] == ["two.jpg"] and found["rule"]["threshold"] > 0
    stranger = search(api, (sample_photo([STRANGER]), "s.png")).get_json()
    assert stranger["found"] is False and stranger["message"] == "This person is not in the gallery."
