"""The event's access code (search_access = "code"): searches, confirmations and downloads need
a grant (POST /api/access, a signed cookie); wrong codes are limited across workers; a new code
ends old grants; the organiser passes; the CLI shows and rotates the code; the audit log records
corrections and rotations with their origin; the QR poster carries the link. On the synthetic
gallery (tests/api_fixtures.py)."""

from __future__ import annotations

import io
import json
import stat

import pytest
from PIL import Image

from faceexplore import cli
from faceexplore.site import access_code, audit
from faceexplore.web.access.routes import GRANT_COOKIE
from tests.api_fixtures import build_gallery, log_in, make_app, sample_photo
from tests.test_api_contract import CheckedClient, assert_error, search


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return build_gallery(tmp_path_factory.mktemp("coded"), search_access="code")


@pytest.fixture(scope="module")
def app(gallery):
    return make_app(gallery)


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


@pytest.fixture()
def visitor(app, spec):
    return CheckedClient(app.test_client(), spec)


def the_code(gallery) -> str:
    return access_code.ensure(gallery.settings.data_dir).code


def grant_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(GRANT_COOKIE + "="))


def test_without_a_grant_search_confirm_and_downloads_are_refused(visitor, gallery):
    message = assert_error(search(visitor, (sample_photo([1]), "me.png")), 401, "access_required")
    assert "access code" in message
    assert_error(visitor.post("/api/search/confirm", json={"token": "x" * 40}), 401, "access_required")
    photo = gallery.photo_ids["album/beach.jpg"]
    assert_error(visitor.post("/api/download", json={"photo_ids": [photo], "token": "x"}), 401, "access_required")
    assert_error(visitor.post("/api/download/links", json={"photo_ids": [photo], "token": "x"}), 401, "access_required")
    assert_error(visitor.get("/api/download?token=abc"), 401, "access_required")
    state = visitor.get("/api/access").get_json()
    assert state["required"] is True and state["granted"] is False and state["consent_text"]


def test_the_right_code_grants_access_by_an_httponly_lax_cookie(visitor, gallery):
    typed = " " + the_code(gallery).lower()[:4] + "-" + the_code(gallery)[4:]  # as a visitor may type it
    r = visitor.post("/api/access", json={"code": typed})
    assert r.status_code == 200 and r.get_json()["granted"] is True
    cookie = grant_cookie(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert visitor.get("/api/access").get_json()["granted"] is True
    body = search(visitor, (sample_photo([2]), "me.png")).get_json()
    assert body["found"] is True
    r = visitor.post("/api/download", json={"photo_ids": [p["id"] for p in body["photos"]], "token": body["download_token"]})
    assert r.status_code == 200 and r.mimetype == "application/zip"


def test_a_wrong_code_is_refused_and_guessing_is_limited_across_app_instances(gallery, tmp_path):
    own = build_gallery(tmp_path, search_access="code")
    first, second = make_app(own).test_client(), make_app(own).test_client()  # two workers, one data folder
    for i in range(access_code.GUESSES_PER_CLIENT):
        assert_error((first if i % 2 else second).post("/api/access", json={"code": "WRONGONE"}), 403, "wrong_code")
    for client in (first, second):
        r = client.post("/api/access", json={"code": the_code(own)})  # even the right code waits now
        assert_error(r, 429, "rate_limited")
        assert 0 < int(r.headers["Retry-After"]) <= access_code.GUESS_WINDOW_S
    other = make_app(own).test_client()
    r = other.post("/api/access", json={"code": the_code(own)}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 200  # another address is not held up


def test_a_new_code_ends_old_grants(gallery, tmp_path):
    own = build_gallery(tmp_path, search_access="code")
    app = make_app(own)
    visitor = app.test_client()
    assert visitor.post("/api/access", json={"code": the_code(own)}).status_code == 200
    assert search(visitor, (sample_photo([1]), "me.png")).status_code == 200
    access_code.rotate(own.settings.data_dir, "cli")
    assert_error(search(visitor, (sample_photo([1]), "me.png")), 401, "access_required")
    assert visitor.post("/api/access", json={"code": the_code(own)}).status_code == 200
    assert search(visitor, (sample_photo([1]), "me.png")).status_code == 200


def test_a_forged_grant_is_no_grant(app, gallery):
    client = app.test_client()
    code = access_code.read(gallery.settings.data_dir)
    client.set_cookie(GRANT_COOKIE, json.dumps({"g": code.generation, "i": code.grant_id}))
    assert_error(search(client, (sample_photo([1]), "me.png")), 401, "access_required")


def test_open_mode_needs_nothing(tmp_path):
    own = build_gallery(tmp_path)  # the fixtures' search_access = "open"
    client = make_app(own).test_client()
    assert client.get("/api/access").get_json() | {"consent_text": ""} == {
        "required": False,
        "granted": True,
        "event_name": "our event",
        "consent_text": "",
    }
    assert search(client, (sample_photo([1]), "me.png")).status_code == 200


def test_the_organiser_searches_without_a_code_and_rotates_it(app, gallery, tmp_path):
    own = build_gallery(tmp_path, search_access="code")
    organiser = make_app(own).test_client()
    csrf = log_in(organiser, own.settings)
    assert search(organiser, (sample_photo([1]), "me.png")).status_code == 200
    info = organiser.get("/api/access-code").get_json()
    assert info["code"] == the_code(own) and info["link"].endswith(f"/?code={info['code']}") and info["required"] is True
    assert_error(organiser.post("/api/access-code/rotate"), 403, "csrf_failed")
    rotated = organiser.post("/api/access-code/rotate", headers={"X-CSRF-Token": csrf}).get_json()
    assert rotated["code"] != info["code"] and rotated["generation"] == info["generation"] + 1
    [entry] = [e for e in audit.entries(own.settings.data_dir) if e["action"] == "access_code_rotated"]
    assert entry["origin"] == "web:127.0.0.1" and entry["detail"] == {"generation": rotated["generation"]}
    visitor = make_app(own).test_client()
    assert_error(visitor.get("/api/access-code"), 401, "login_required")
    assert_error(visitor.get("/api/access-code/poster.png"), 401, "login_required")


def test_the_qr_poster_carries_the_link(tmp_path):
    own = build_gallery(tmp_path, search_access="code", event_name="Summer party")
    organiser = make_app(own).test_client()
    log_in(organiser, own.settings)
    png = organiser.get("/api/access-code/poster.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.get_data()))
    assert image.format == "PNG" and image.size == (1240, 1754)
    pdf = organiser.get("/api/access-code/poster.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    zxingcpp = pytest.importorskip("zxingcpp")  # requirements.txt: a QR decoder, to read the poster back
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [f"http://localhost/?code={the_code(own)}"]


def test_a_new_data_folder_asks_for_a_code_and_an_old_one_stays_open(tmp_path):
    from faceexplore.settings import Settings

    new = Settings(data_dir=tmp_path / "new")
    assert access_code.mode(new) == "code" and access_code.code_path(new.data_dir).is_file()
    old = Settings(data_dir=tmp_path / "old")
    old.index_path.parent.mkdir(parents=True)
    old.index_path.write_bytes(b"")  # an index made before access codes
    assert access_code.mode(old) == "open" and not access_code.code_path(old.data_dir).exists()
    assert access_code.mode(old.replace(search_access="code")) == "code"


def test_the_cli_shows_and_rotates_the_code_in_a_mode_600_file(tmp_path, capsys):
    data = tmp_path / "data"
    assert cli.main(["--data", str(data), "access-code"]) == 0
    shown = capsys.readouterr().out
    code = access_code.read(data).code
    assert f"access code: {code}" in shown and f"http://localhost:8765/?code={code}" in shown
    assert stat.S_IMODE(access_code.code_path(data).stat().st_mode) == 0o600
    assert cli.main(["--data", str(data), "access-code", "--new", "--url", "https://photos.example.org/"]) == 0
    new = access_code.read(data)
    assert new.code != code and new.generation == 2
    assert f"https://photos.example.org/?code={new.code}" in capsys.readouterr().out
    assert stat.S_IMODE(access_code.code_path(data).stat().st_mode) == 0o600
    assert cli.main(["--data", str(data), "access-code", "--link", "--url", "http://h:1/"]) == 0
    assert capsys.readouterr().out.strip() == f"http://h:1/?code={new.code}"


def test_the_audit_log_records_corrections_with_their_origin_and_exports_json(tmp_path, capsys):
    own = build_gallery(tmp_path)
    organiser = make_app(own).test_client()
    csrf = log_in(organiser, own.settings)
    person = organiser.get("/api/people").get_json()["people"][0]["id"]
    r = organiser.patch(f"/api/people/{person}", json={"name": "Ada"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.get_data(as_text=True)
    data = str(own.settings.data_dir)
    assert cli.main(["--data", data, "people", "hide", str(person)]) == 0
    assert cli.main(["--data", data, "access-code", "--new"]) == 0
    capsys.readouterr()
    assert cli.main(["--data", data, "audit", "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [(e["action"], e["origin"]) for e in exported] == [
        ("correction", "web:127.0.0.1"),
        ("correction", "cli"),
        ("access_code_rotated", "cli"),
    ]
    assert exported[0]["detail"]["kind"] == "rename" and "Ada" in exported[0]["detail"]["description"]
    assert exported[1]["detail"]["kind"] == "hide"
    assert all(e["at"].endswith("Z") for e in exported)
