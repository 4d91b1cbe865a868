"""The web app's hardening, over the synthetic gallery (tests/api_fixtures.py): names that are not
UTF-8 served by the app alone (Flask's test client, real gunicorn) and through nginx; cached
thumbnails and face crops that never outlive their photo; allowed hosts; the app's own security
headers and rate limits when it runs without nginx; private file modes; an index file replaced
under a running app. The gunicorn and nginx tests need nginx (skipped without it, failed in CI)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_deployment import free_port, need_nginx, nginx_cmd, raw_request, render_into, wait_port

from tests.api_fixtures import LATIN1_NAME, add_latin1_photo, build_gallery, make_app

BACKEND = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def latin1_gallery(tmp_path_factory):
    gallery = build_gallery(tmp_path_factory.mktemp("latin1"))
    add_latin1_photo(gallery)
    return gallery


def latin1_photo(client, gallery) -> dict:
    stored = next(p for p in gallery.photo_ids if "\ufffd" in p)
    return client.get(f"/api/photos/{gallery.photo_ids[stored]}").get_json()["photo"]


# -- names that are not UTF-8 -----------------------------------------------------------------
def test_a_latin1_name_is_served_and_zipped_by_the_app(latin1_gallery):
    client = make_app(latin1_gallery).test_client()
    photo = latin1_photo(client, latin1_gallery)
    assert photo["url"] == "/gallery/album/caf%E9.jpg"  # the bytes on disk, as nginx opens them
    on_disk = Path(latin1_gallery.settings.gallery_dir, os.fsdecode(LATIN1_NAME)).read_bytes()
    r = client.get(photo["url"])
    assert r.status_code == 200 and r.get_data() == on_disk
    assert client.get("/gallery/album/caf%C3%A9.jpg").status_code == 404  # the UTF-8 name is another file
    assert client.get(photo["thumbnail_url"]).status_code == 200
    r = client.post("/api/download", json={"photo_ids": [photo["id"]]})
    assert r.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
    assert archive.namelist() == [photo["path"]] and archive.read(photo["path"]) == on_disk


def _start_gunicorn(base: Path, port: int, **env) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "tests.api_fixtures:served_app()"]
    environ = {**os.environ, "PYTHONPATH": str(BACKEND), "FACEEXPLORE_SYNTHETIC_BASE": str(base), **env}
    proc = subprocess.Popen(cmd, cwd=BACKEND, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, 60, proc)
    return proc


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn over a synthetic gallery with a Latin-1 name, and nginx in front of it."""
    nginx = need_nginx()
    base = tmp_path_factory.mktemp("served")
    gallery = build_gallery(base)
    add_latin1_photo(gallery)
    app_port, site_port = free_port(), free_port()
    app = _start_gunicorn(base, app_port, FACEEXPLORE_RATE_LIMITS="off")
    conf = render_into(base, port=site_port, upstream=f"127.0.0.1:{app_port}", gallery=base / "gallery", data=base / "data")
    site = subprocess.Popen(nginx_cmd(conf) + ["-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_port(site_port, 30, site)
        yield gallery, app_port, site_port
    finally:
        _stop(site, signal.SIGQUIT)
        _stop(app)
    assert nginx


def test_a_latin1_name_is_served_by_gunicorn_and_nginx(served):
    gallery, app_port, site_port = served
    on_disk = Path(gallery.settings.gallery_dir, os.fsdecode(LATIN1_NAME)).read_bytes()
    for port in (app_port, site_port):
        status, _, body = raw_request(port, b"/gallery/album/caf%E9.jpg")
        assert (status, body) == (200, on_disk), port
