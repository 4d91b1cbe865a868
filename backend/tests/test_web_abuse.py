"""One visitor against the app alone (Flask's test client over the synthetic gallery,
tests/api_fixtures.py): input nested too deeply to parse, searches held in flight across worker
processes, and samples with more pixels than a search decodes. nginx's side is
test_nginx_hardening.py; gunicorn's own errors test_web_server.py."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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


# -- searches in flight per client, across worker processes ------------------------------------
_HOLD_SLOTS = """
import sys, time
sys.path.insert(0, sys.argv[1])
from faceexplore.web.core.ratelimit import InFlightSlots
slots = InFlightSlots(sys.argv[2])
held = [slots.take("127.0.0.1") for _ in range(2)]
print("held" if all(held) else "not held", flush=True)
time.sleep(120)
"""


def test_a_client_has_at_most_two_searches_in_flight_across_processes(gallery):
    """Another process (a second gunicorn worker) runs two searches for 127.0.0.1: a third is
    refused 429 until that process dies (killed: the kernel frees its slots)."""
    from faceexplore.web.core.ratelimit import INFLIGHT_DIR, SEARCHES_IN_FLIGHT
    from tests.api_fixtures import sample_photo
    from tests.test_web_hardening import BACKEND

    assert SEARCHES_IN_FLIGHT == 2
    client = make_app(gallery, rate_limits="app", **OPEN).test_client()
    folder = Path(gallery.settings.data_dir) / INFLIGHT_DIR

    def search(**kw):
        data = {"images": [(io.BytesIO(sample_photo([0])), "me.png")]}
        return client.post("/api/search", data=data, content_type="multipart/form-data", **kw)

    assert search().status_code == 200
    assert list(folder.iterdir()) == []  # a finished search gives its slot back
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_SLOTS, str(BACKEND), str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = search()
        error = assert_error(r, 429, "rate_limited")
        assert "still running" in error["message"] and int(r.headers["Retry-After"]) > 0
        assert search(environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 200  # another client is not held up
        assert client.get("/api/status").status_code == 200
    finally:
        holder.kill()
        holder.wait(10)
    assert search().status_code == 200  # the dead process's slots are free again
    # behind nginx (rate_limits off) nginx counts them instead
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_SLOTS, str(BACKEND), str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        unlimited = make_app(gallery, rate_limits="off", **OPEN).test_client()
        data = {"images": [(io.BytesIO(sample_photo([0])), "me.png")]}
        assert unlimited.post("/api/search", data=data, content_type="multipart/form-data").status_code == 200
    finally:
        holder.kill()
        holder.wait(10)


def test_two_threads_of_one_worker_count_as_two_searches(tmp_path):
    from faceexplore.web.core.ratelimit import InFlightSlots

    slots = InFlightSlots(tmp_path / "inflight", slots=2)
    first, second = slots.take("a"), slots.take("a")
    assert first and second and slots.take("a") is None
    assert slots.take("b") is not None
    InFlightSlots.give_back(first)
    third = slots.take("a")
    assert third is not None and slots.take("a") is None


# -- pixels decoded per search -------------------------------------------------------------------
class _SizedPipeline:
    """The fake pipeline, with the real one's detect_size (what a JPEG is decoded reduced to)."""

    def __init__(self, inner, detect_size: int = 1600):
        self.inner, self.detect_size, self.model_name = inner, detect_size, inner.model_name

    @property
    def calls(self):
        return self.inner.calls

    def analyse(self, source, **kw):
        return self.inner.analyse(source, **kw)


def _blank(size, fmt: str, **save) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(buf, fmt, **save)
    return buf.getvalue()


@pytest.fixture
def sized(gallery):
    from tests.api_fixtures import FakePipeline

    pipeline = _SizedPipeline(FakePipeline(gallery.centres))
    return make_app(gallery, pipeline=pipeline, rate_limits="off", **OPEN).test_client(), pipeline


def _search(client, *files):
    data = {"images": [(io.BytesIO(content), name) for content, name in files]}
    return client.post("/api/search", data=data, content_type="multipart/form-data")


def test_four_blank_7000_pixel_pngs_are_refused_before_any_is_decoded(sized):
    client, pipeline = sized
    blank = _blank((7000, 7000), "PNG")
    error = assert_error(_search(client, *[(blank, f"blank{i}.png") for i in range(4)]), 422, "too_large_image")
    assert "blank0.png" in error["message"] and "smaller copy" in error["message"]
    assert pipeline.calls == 0


def test_a_png_over_the_limit_is_refused_where_a_larger_jpeg_is_decoded_reduced(sized):
    from tests.test_api_contract import _claimed_png

    client, pipeline = sized
    assert_error(_search(client, (_claimed_png(4200, 4000), "screenshot.png")), 422, "too_large_image")  # 16.8 MP, decoded whole
    assert pipeline.calls == 0
    # a 48-megapixel phone JPEG: decoded at a quarter of its size (3 MP): analysed (no face in it)
    assert_error(_search(client, (_blank((8000, 6000), "JPEG", quality=50), "phone.jpg")), 422, "no_face")
    assert pipeline.calls == 1
    # but not one claiming far more than any phone
    assert_error(_search(client, (_blank((12000, 9000), "JPEG", quality=50), "huge.jpg")), 422, "too_large_image")
    assert pipeline.calls == 1


def test_a_12_megapixel_heic_is_analysed_and_the_samples_of_a_search_are_bounded_together(sized):
    from tests.test_api_contract import _claimed_png

    client, pipeline = sized
    heic = _blank((4032, 3024), "HEIF", quality=10)
    assert_error(_search(client, (heic, "IMG_0001.HEIC")), 422, "no_face")
    assert pipeline.calls == 1
    # six of 12 megapixels decoded whole: more than one search decodes (five would do)
    error = assert_error(_search(client, *[(_claimed_png(4032, 3024), f"{i}.png") for i in range(6)]), 422, "too_large_image")
    assert "together" in error["message"] and pipeline.calls == 1
    # five pass the size check (then these, a header over a few bytes, cannot be decoded)
    assert_error(_search(client, *[(_claimed_png(4032, 3024), f"{i}.png") for i in range(5)]), 422, "not_an_image")
