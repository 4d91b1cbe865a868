"""One visitor against the app alone (Flask's test client over the synthetic gallery,
tests/api_fixtures.py): input nested too deeply to parse, searches held in flight across worker
processes, and samples with more pixels than a search decodes. nginx's side is
test_nginx_hardening.py; gunicorn's own errors test_web_server.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

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


# -- gunicorn's own errors, before the app sees the request -----------------------------------
@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    """gunicorn with the worker and request limits faceexplore serve uses, over the synthetic gallery."""
    from faceexplore.web.server import gunicorn_options
    from tests.test_deployment import free_port, raw_request, wait_port
    from tests.test_web_hardening import BACKEND, _stop

    base = tmp_path_factory.mktemp("gunicorn")
    build_gallery(base)
    options = gunicorn_options("127.0.0.1", free_port(), 1)
    cmd = [sys.executable, "-m", "gunicorn", "--bind", options["bind"], "--workers", "1"]
    cmd += ["--worker-class", options["worker_class"], "--limit-request-line", str(options["limit_request_line"])]
    env = {**os.environ, "PYTHONPATH": str(BACKEND), "FACEEXPLORE_SYNTHETIC_BASE": str(base)}
    cmd.append("tests.api_fixtures:served_app()")
    proc = subprocess.Popen(cmd, cwd=BACKEND, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = int(options["bind"].rsplit(":", 1)[1])
    try:
        wait_port(port, 60, proc)
        deadline = time.monotonic() + 60
        while raw_request(port, b"/api/health")[0] != 200:
            assert time.monotonic() < deadline and proc.poll() is None, "gunicorn's worker did not start"
            time.sleep(0.2)
        yield port
    finally:
        _stop(proc)


def _raw(port: int, request: bytes) -> tuple[int, str, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin-1"), body


@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (b"GET /<script>alert(1)</script> HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"GET /api/" + b"a" * 9000 + b"<script> HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X-A: <script>\r\n" * 200 + b"\r\n", 431, "headers_too_large"),
    ],
    ids=["bad request line", "uri too long", "too many headers"],
)
def test_gunicorns_own_errors_are_json_with_the_security_headers(gunicorn_port, request_bytes, status, code):
    from faceexplore.web.app import SECURITY_HEADERS

    got, head, body = _raw(gunicorn_port, request_bytes)
    assert got == status, (head, body[:300])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])}
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": {"code": code, "message": json.loads(body)["error"]["message"]}}
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value, name
    assert b"script" not in body and b"extra" not in body  # nothing of the request is echoed
