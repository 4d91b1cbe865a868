"""One visitor against the app alone (Flask's test client over the synthetic gallery,
tests/api_fixtures.py): input nested too deeply to parse, searches held in flight across worker
processes, and samples with more pixels than a search decodes. nginx's side is
test_nginx_hardening.py; gunicorn's own errors test_web_server.py."""

from __future__ import annotations

import pytest

from tests.api_fixtures import build_gallery, make_app

OPEN = {"people_page": "public", "gallery_access": "public"}
NESTED = "[" * 50_000  # Python's JSON parser recurses once per level: RecursionError


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return build_gallery(tmp_path_factory.mktemp("abuse"))


@pytest.fixture
def client(gallery):
    return make_app(gallery, rate_limits="off", **OPEN).test_client()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


@pytest.mark.parametrize(
    "path", ["/api/search/confirm", "/api/session", "/api/download", "/api/download/links", "/api/faces/reject", "/api/faces/move"]
)
def test_json_nested_too_deeply_is_a_bad_request(client, path):
    r = client.post(path, data=NESTED, content_type="application/json")
    error = assert_error(r, 400, "bad_request")
    assert "nested" in error["message"]


def test_a_form_field_nested_too_deeply_is_a_bad_request(client):
    # flask-openapi3 reads each form field as JSON when it can
    r = client.post("/api/search", data={"faces": NESTED}, content_type="multipart/form-data")
    assert_error(r, 400, "bad_request")
