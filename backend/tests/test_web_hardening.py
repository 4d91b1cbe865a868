"""The web app's hardening, over the synthetic gallery (tests/api_fixtures.py): names that are not
UTF-8 served by the app alone (Flask's test client, real gunicorn) and through nginx; cached
thumbnails and face crops that never outlive their photo; allowed hosts; the app's own security
headers and rate limits when it runs without nginx; private file modes; an index file replaced
under a running app. The gunicorn and nginx tests need nginx (skipped without it, failed in CI)."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from test_deployment import DIST, free_port, need_nginx, raw_request, rnc, running_nginx, wait_port

from tests.api_fixtures import LATIN1_NAME, add_latin1_photo, build_gallery, make_app
from tests.test_api_contract import assert_conforms

BACKEND = Path(__file__).resolve().parents[1]
OPEN = {"people_page": "public", "gallery_access": "public"}  # the access rules are test_api_access.py's


@pytest.fixture(scope="module")
def latin1_gallery(tmp_path_factory):
    gallery = build_gallery(tmp_path_factory.mktemp("latin1"))
    add_latin1_photo(gallery)
    return gallery


def latin1_photo(client, gallery) -> dict:
    stored = next(p for p in gallery.photo_ids if "\ufffd" in p)
    return client.get(f"/api/photos/{gallery.photo_ids[stored]}").get_json()["photo"]


# -- names that are not UTF-8 -----------------------------------------------------------------
@pytest.mark.parametrize("access", ["public", "private"])
def test_a_latin1_name_is_served_and_zipped_by_the_app(latin1_gallery, access):
    from tests.api_fixtures import log_in

    app = make_app(latin1_gallery, gallery_access=access, people_page="public")
    client = app.test_client()
    token = log_in(client, latin1_gallery.settings) if access == "private" else None
    photo = latin1_photo(client, latin1_gallery)
    # the bytes on disk, as nginx opens them (signed in a private gallery)
    assert photo["url"].split("?")[0] == "/gallery/album/caf%E9.jpg" and ("?expires=" in photo["url"]) == (access == "private")
    on_disk = Path(latin1_gallery.settings.gallery_dir, os.fsdecode(LATIN1_NAME)).read_bytes()
    r = client.get(photo["url"])
    assert r.status_code == 200 and r.get_data() == on_disk
    assert client.get("/gallery/album/caf%C3%A9.jpg").status_code in (403, 404)  # the UTF-8 name is another file
    assert client.get(photo["thumbnail_url"]).status_code == 200
    r = client.post("/api/download", json={"photo_ids": [photo["id"]]}, headers={"X-CSRF-Token": token} if token else {})
    assert r.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
    assert archive.namelist() == [photo["path"]] and archive.read(photo["path"]) == on_disk


def _start_gunicorn(base: Path, port: int, **env) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "tests.api_fixtures:served_app()"]
    environ = {**os.environ, "PYTHONPATH": str(BACKEND), "FACEEXPLORE_SYNTHETIC_BASE": str(base), **env}
    proc = subprocess.Popen(cmd, cwd=BACKEND, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, 60, proc)
    deadline = time.monotonic() + 60
    while raw_request(port, b"/api/health")[0] != 200:  # the worker has made the app (and its files)
        assert time.monotonic() < deadline and proc.poll() is None, "gunicorn's worker did not start"
        time.sleep(0.2)
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
    # the app wrote DATA/nginx-links.conf (its link secret) as it started: rendered without replacing it
    state = base / "data" / "nginx"
    state.mkdir(parents=True, exist_ok=True)
    conf = state / "nginx.conf"
    upstream = f"127.0.0.1:{app_port}"
    conf.write_text(
        rnc.render(
            gallery=base / "gallery",
            data=base / "data",
            frontend=DIST,
            host="127.0.0.1",
            port=site_port,
            upstream=upstream,
            state_dir=state,
        )
    )
    rnc.make_state_dirs(state)
    try:
        with running_nginx(conf, site_port):
            yield gallery, app_port, site_port
    finally:
        _stop(app)
    assert nginx


def test_a_latin1_name_is_served_by_gunicorn_and_nginx(served):
    """In a private gallery (the default) through its signed link, which nginx checks itself."""
    from faceexplore.web.app import secret_key
    from faceexplore.web.gallery.links import link_secret, sign

    gallery, app_port, site_port = served
    on_disk = Path(gallery.settings.gallery_dir, os.fsdecode(LATIN1_NAME)).read_bytes()
    signed = sign("/gallery/" + os.fsdecode(LATIN1_NAME), link_secret(secret_key(gallery.settings)), 3600)
    assert signed.startswith("/gallery/album/caf%E9.jpg?expires=")
    for port in (app_port, site_port):
        status, _, body = raw_request(port, signed.encode())
        assert (status, body) == (200, on_disk), port
        assert raw_request(port, b"/gallery/album/caf%E9.jpg")[0] == 403, port


# -- the app's own headers and file modes -----------------------------------------------------
def _nginx_headers() -> dict[str, str]:
    """The security headers services/nginx.conf adds, with its maps' values filled in."""
    text = (BACKEND.parent / "services" / "nginx.conf").read_text()
    maps = dict(re.findall(r'map \$host \$(\w+) \{\s*default "([^"]+)";', text))
    server = text.split("server {", 1)[1].split("if ($faceexplore_hidden)", 1)[0]  # the server-wide ones
    headers = {}
    for name, value in re.findall(r"^\s*add_header ([\w-]+) (\S+) always;", server, re.M):
        headers[name] = maps[value[1:]] if value.startswith("$") else value
    return headers


def test_the_app_alone_sends_the_security_headers_nginx_sends(latin1_gallery):
    from faceexplore.web.app import SECURITY_HEADERS

    expected = _nginx_headers()
    assert set(expected) == set(SECURITY_HEADERS) and expected["X-Frame-Options"] == "DENY"
    client = make_app(latin1_gallery).test_client()
    for url in ("/api/status", "/api/people/999999", "/gallery/album/beach.jpg", "/", "/nothing"):
        r = client.get(url)
        for name, value in expected.items():
            assert r.headers.getlist(name) == [value], (url, name)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_index_lock_secret_and_logs_are_private(tmp_path):
    from faceexplore.index.locking import lock_path, writer_lock
    from faceexplore.index.store import FaceIndex
    from faceexplore.web.app import SECRET_FILE

    sys.path.insert(0, str(BACKEND.parent / "services"))
    import render_nginx_conf

    old_umask = os.umask(0o022)  # a usual umask: the modes must not depend on it
    try:
        gallery = build_gallery(tmp_path)
        index_path = gallery.settings.index_path
        with FaceIndex(index_path) as index:
            index.set_meta("probe", "1")
            for suffix in ("", "-wal", "-shm"):
                assert _mode(f"{index_path}{suffix}") == 0o600, suffix
        with writer_lock(index_path, "a test"):
            assert _mode(lock_path(index_path)) == 0o600
        make_app(gallery)
        assert _mode(Path(gallery.settings.data_dir) / SECRET_FILE) == 0o600
        render_nginx_conf.make_state_dirs(tmp_path / "nginx")
        assert _mode(tmp_path / "nginx" / "logs") == 0o700
    finally:
        os.umask(old_umask)


# -- allowed hosts ----------------------------------------------------------------------------
def test_a_forged_host_is_refused(latin1_gallery):
    client = make_app(latin1_gallery).test_client()
    for host in ("localhost", "localhost:8765", "127.0.0.1:8000", "[::1]:8765", "LOCALHOST."):
        assert client.get("/api/status", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8765", "localhost.evil.example", "127.0.0.2"):
        for url in ("/api/status", "/gallery/album/beach.jpg", "/"):
            r = client.get(url, headers={"Host": host})
            assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_host", (host, url)
    named = make_app(latin1_gallery, allowed_hosts=["photos.example.org", ".family.example"]).test_client()
    for host, status in (("photos.example.org", 200), ("a.family.example:443", 200), ("localhost", 400), ("example.org", 400)):
        assert named.get("/api/status", headers={"Host": host}).status_code == status, host
    anyone = make_app(latin1_gallery, allowed_hosts=["*"]).test_client()
    assert anyone.get("/api/status", headers={"Host": "whatever.example"}).status_code == 200


def test_default_allowed_hosts_follow_the_bind_address():
    from faceexplore.web.core.hosts import default_allowed_hosts, host_allowed

    assert host_allowed("photos.lan:8000", default_allowed_hosts("photos.lan"))
    assert not host_allowed("photos.lan", default_allowed_hosts("127.0.0.1"))
    everywhere = default_allowed_hosts("0.0.0.0")
    assert host_allowed("localhost", everywhere) and host_allowed(socket.gethostname(), everywhere)


# -- cached thumbnails and face crops never outlive their photo -------------------------------
def _fetch_cached(client, photo_id: int) -> tuple[str, str, bytes]:
    """The photo's thumbnail and first face crop URLs, fetched (and so cached); and the thumbnail."""
    body = client.get(f"/api/photos/{photo_id}").get_json()
    thumbnail, crop = body["photo"]["thumbnail_url"], body["faces"][0]["crop_url"]
    data = client.get(thumbnail).get_data()
    assert client.get(crop).status_code == 200
    return thumbnail, crop, data


def test_a_removed_photos_cached_pictures_are_deleted_by_the_next_index_run(tmp_path, monkeypatch):
    from faceexplore.index import indexer
    from tests.api_fixtures import DIM, MODEL

    gallery = build_gallery(tmp_path, **OPEN)
    client = make_app(gallery).test_client()
    kept_thumbnail, kept_crop, _ = _fetch_cached(client, gallery.photo_ids["album/beach.jpg"])
    gone_thumbnail, gone_crop, _ = _fetch_cached(client, gallery.photo_ids["album/dinner.jpg"])
    data = Path(gallery.settings.data_dir)
    for url in (kept_thumbnail, kept_crop, gone_thumbnail, gone_crop):
        assert (data / url.lstrip("/")).is_file(), url  # where nginx serves them from
    (Path(gallery.settings.gallery_dir) / "album/dinner.jpg").unlink()
    monkeypatch.setattr(indexer, "_model_of", lambda settings: (MODEL, DIM))  # nothing to embed: only a removal
    summary = indexer.index_gallery(gallery.settings, progress=False, allow_removals=True)
    assert summary.removed == 1
    assert not (data / gone_thumbnail.lstrip("/")).exists() and not (data / gone_crop.lstrip("/")).exists()
    assert (data / kept_thumbnail.lstrip("/")).is_file() and (data / kept_crop.lstrip("/")).is_file()
    for url in (gone_thumbnail, gone_crop):
        assert client.get(url).status_code == 404, url


def test_a_rebuilt_index_never_shows_the_old_ones_pictures(tmp_path):
    """A new index file numbers photos from 1 again: its pictures live under its own id, so the
    old URLs are refused (by the app, and gone from disk after the sweep) and the running app
    reads the new file."""
    from faceexplore.index import cache
    from faceexplore.index.store import FaceIndex

    gallery = build_gallery(tmp_path, **OPEN)
    app = make_app(gallery)
    client = app.test_client()
    old_id = gallery.photo_ids["album/beach.jpg"]
    old_thumbnail, old_crop, old_data = _fetch_cached(client, old_id)
    assert client.get("/api/status").get_json()["photos"] == 10

    index_path = Path(gallery.settings.index_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path}{suffix}").unlink(missing_ok=True)
    rebuilt = build_gallery(tmp_path / "other", **OPEN)  # numbered from 1 again
    os.replace(rebuilt.settings.index_path, index_path)  # a new file (new inode) where the old one was

    assert client.get(old_thumbnail).status_code == 404 and client.get(old_crop).status_code == 404
    assert client.get("/api/status").get_json()["photos"] == 10  # the new file is read
    new_thumbnail = client.get(f"/api/photos/{old_id}").get_json()["photo"]["thumbnail_url"]
    assert new_thumbnail != old_thumbnail and client.get(new_thumbnail).get_data() == old_data
    legacy = Path(gallery.settings.cache_dir) / "thumbnails" / "400" / "1.jpg"  # the layout before index ids
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(old_data)
    with FaceIndex(index_path) as index:
        cache.sweep(gallery.settings.cache_dir, index)
    data = Path(gallery.settings.data_dir)
    assert not (data / old_thumbnail.lstrip("/")).exists() and (data / new_thumbnail.lstrip("/")).is_file()
    assert not legacy.exists()


def test_the_app_reads_an_index_file_deleted_and_made_again(tmp_path):
    gallery = build_gallery(tmp_path, **OPEN)
    client = make_app(gallery).test_client()
    assert client.get("/api/status").get_json()["photos"] == 10
    index_path = Path(gallery.settings.index_path)
    smaller = build_gallery(tmp_path / "smaller", clustered=False)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path}{suffix}").unlink(missing_ok=True)
    assert client.get("/api/status").get_json()["indexed"] is False
    os.replace(smaller.settings.index_path, index_path)
    body = client.get("/api/status").get_json()
    assert body["indexed"] is True and body["clustered"] is False


# -- rate limits when the app runs alone ------------------------------------------------------
def test_the_app_alone_limits_each_client_like_nginx(latin1_gallery):
    from faceexplore.web.core.ratelimit import LIMITS

    client = make_app(latin1_gallery, rate_limits="app", **OPEN).test_client()
    body = {"photo_ids": [latin1_gallery.photo_ids["album/beach.jpg"]]}
    allowed = LIMITS["download"].burst + 1  # what nginx lets through at once
    for _ in range(allowed):
        assert client.post("/api/download", json=body).status_code == 200
    r = client.post("/api/download/links", json=body)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60 / LIMITS["download"].per_minute
    assert_conforms(client.get("/api/openapi.json").get_json(), "post", "/api/download/links", r)
    # another client has its own bucket; browsing is not limited
    other = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.post("/api/download", json=body, environ_base=other).status_code == 200
    assert client.get("/api/status").status_code == 200
    # searches have a bucket of their own
    assert client.post("/api/search", data={}, content_type="multipart/form-data").status_code == 400
    # behind nginx the app does not limit
    unlimited = make_app(latin1_gallery, rate_limits="off", **OPEN).test_client()
    assert all(unlimited.post("/api/download", json=body).status_code == 200 for _ in range(allowed + 5))


def test_a_bucket_refills_at_the_rate():
    from faceexplore.web.core.ratelimit import Limit, RateLimiter

    now = [0.0]
    limiter = RateLimiter({"search": Limit(per_minute=30, burst=2)}, clock=lambda: now[0])
    assert [limiter.wait("search", "a") for _ in range(3)] == [0, 0, 0]
    assert limiter.wait("search", "a") == pytest.approx(2.0)
    now[0] += 2.0
    assert limiter.wait("search", "a") == 0 and limiter.wait("search", "a") > 0
    assert limiter.wait("search", "b") == 0
