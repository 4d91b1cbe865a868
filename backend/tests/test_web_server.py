"""The web app under a real gunicorn (``python -m faceexplore.web.server``) on 127.0.0.1: search,
zips, traversal, upload limit, and searches that keep working while an index run adds photos.

Needs FACEEXPLORE_TEST_DATA (../shared/datasets): skipped without it, failed if it is set but
bbt/ is missing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.web_conftest import clone_index, reusing_pipeline, shared_bbt_index, start_server, stop_server

pytestmark = [pytest.mark.shared_data("bbt"), pytest.mark.slow]

UPLOAD_LIMIT_MB = 2
SEARCH_KEYS = {"found", "confidence", "rule", "message", "person_id", "samples", "photos"}


@pytest.fixture(scope="module")
def served(tmp_path_factory, pipeline):
    """A private copy of the BBT index served by gunicorn with 2 workers (one torch thread each),
    the upload limit lowered to 2 MB through the environment."""
    settings, bbt, truth = shared_bbt_index(tmp_path_factory, pipeline)
    settings = clone_index(settings, tmp_path_factory, "bbt-served")
    log = Path(settings.data_dir).parent / "gunicorn.log"
    mp = pytest.MonkeyPatch()
    mp.setenv("FACEEXPLORE_MAX_UPLOAD_MB", str(UPLOAD_LIMIT_MB))
    try:
        proc, base = start_server(settings, workers=2, log_path=log)
    finally:
        mp.undo()
    try:
        yield settings, bbt, truth, base, log
    finally:
        code = stop_server(proc, timeout=40)
        text = log.read_text(errors="replace")
        assert code == 0, f"gunicorn exited with {code}:\n{text[-3000:]}"
        assert "Traceback" not in text, text[-5000:]


def post_search(base, *paths, timeout=180, **fields):
    files = [("images", (Path(p).name, Path(p).read_bytes(), "image/png")) for p in paths]
    return requests.post(base + "/api/search", files=files, data=fields, timeout=timeout)


def raw_get(base, target: bytes) -> tuple[int, bytes]:
    """A request sent byte for byte (no client-side normalisation of `..`)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_health_and_status(served):
    settings, *_, base, _ = served
    assert requests.get(base + "/api/health", timeout=30).json() == {"status": "ok"}
    status = requests.get(base + "/api/status", timeout=30).json()
    assert status["photos"] == 5 and status["people"] > 0 and status["model"] is None  # a visitor: counts only
    organiser = organiser_session(settings, base)
    assert organiser.get(base + "/api/status", timeout=30).json()["model"] == "dlib-resnet-v1"


def organiser_session(settings, base) -> requests.Session:
    """A browser logged in as the organiser. Its cookie and CSRF token work in every worker (one
    secret key and one password file for all): the next requests land on either worker."""
    from faceexplore.web.session import auth

    if auth.load_password(settings.data_dir) is None:
        auth.set_password(settings.data_dir, "organiser password")
    browser = requests.Session()
    r = browser.post(base + "/api/session", json={"password": "organiser password"}, timeout=30)
    assert r.status_code == 200, r.text
    browser.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    for _ in range(4):
        assert browser.get(base + "/api/session", timeout=30).json()["organiser"] is True
    return browser


def test_amy_finds_bbt4(served):
    settings, bbt, _, base, _ = served
    r = post_search(base, bbt / "people/amy/amy1.png")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["found"] is True
    assert "group/bbt4.jpg" in {p["path"] for p in body["photos"]}
    # the photo, its thumbnail and the person's page are reachable through the same server
    photo = next(p for p in body["photos"] if p["path"] == "group/bbt4.jpg")
    assert requests.get(base + photo["url"], timeout=30).content == (bbt / "group/bbt4.jpg").read_bytes()
    thumb = requests.get(base + photo["thumbnail_url"], timeout=60)
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    # the person's page is the organiser's (people_page): a visitor is not sent there
    assert body["person_id"] is None
    organiser = organiser_session(settings, base)
    found = organiser.post(
        base + "/api/search", files=[("images", ("amy1.png", (bbt / "people/amy/amy1.png").read_bytes(), "image/png"))], timeout=180
    ).json()
    assert organiser.get(f"{base}/api/people/{found['person_id']}", timeout=30).status_code == 200
    assert requests.get(f"{base}/api/people/{found['person_id']}", timeout=30).status_code == 401


def test_stuart_is_not_found(served):
    _, bbt, _, base, _ = served
    r = post_search(base, bbt / "people/stuart/stuart1.png")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["found"] is False and body["photos"] == []
    assert body["message"] == "This person is not in the gallery."


def test_the_zip_holds_exactly_the_photos_asked_for(served):
    settings, *_, base, _ = served
    organiser = organiser_session(settings, base)  # the organiser downloads any photos
    people = organiser.get(base + "/api/people", timeout=30).json()["people"]
    person = organiser.get(f"{base}/api/people/{people[0]['id']}", timeout=30).json()
    asked = [p for p in person["photos"]][:3]
    assert len(asked) >= 2
    # a visitor only those a search of theirs found (with its download_token)
    refused = requests.post(base + "/api/download", json={"photo_ids": [p["id"] for p in asked]}, timeout=30)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_in_results"
    r = organiser.post(base + "/api/download", json={"photo_ids": [p["id"] for p in asked]}, timeout=120)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"] == "attachment; filename=faceexplore-photos.zip"
    assert r.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in r.headers  # streamed
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.namelist() == [p["path"] for p in asked]
    for p in asked:
        assert archive.read(p["path"]) == (Path(settings.gallery_dir) / p["path"]).read_bytes()
    bad = organiser.post(base + "/api/download", json={"photo_ids": [999999]}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_photo"


@pytest.mark.parametrize(
    "target",
    [
        b"/gallery/../secret.jpg",
        b"/gallery/%2e%2e/secret.jpg",
        b"/gallery/..%2fsecret.jpg",
        b"/gallery/group/../../secret.jpg",
        b"/gallery/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        b"/cache/../index.sqlite3",
        b"/gallery/../data/index.sqlite3",
    ],
)
def test_nothing_outside_the_gallery_is_served(served, target):
    settings, *_, base, _ = served
    secret = Path(settings.gallery_dir).parent / "secret.jpg"
    secret.write_bytes(b"TOP-SECRET-FILE")
    try:
        bare_status, bare_body = raw_get(base, target)
        # signed as a link for that very address: what is refused is the path, not the link
        status, body = raw_get(base, signed(settings, target))
    finally:
        secret.unlink()
    assert bare_status in (400, 403, 404) and status in (400, 404), (target, bare_status, status)
    for answer in (body, bare_body):
        assert b"TOP-SECRET-FILE" not in answer and b"SQLite format" not in answer and b"root:" not in answer


def signed(settings, target: bytes) -> bytes:
    """``target`` with a good private-gallery link token for the path the app will see."""
    from urllib.parse import unquote

    from faceexplore.web.app import secret_key
    from faceexplore.web.gallery.links import expiry, link_secret, link_token

    expires = expiry(3600)
    token = link_token(unquote(target.decode()), expires, link_secret(secret_key(settings)))
    return target + f"?expires={expires}&md5={token}".encode()


def test_an_upload_over_the_limit_is_413_json(served):
    *_, base, _ = served
    payload = b"\xff\xd8" + bytes(UPLOAD_LIMIT_MB * 1024 * 1024 + 1000)
    try:
        r = requests.post(base + "/api/search", files=[("images", ("big.jpg", payload, "image/jpeg"))], timeout=60)
    except requests.ConnectionError as exc:  # a server may answer and close before reading it all
        pytest.fail(f"the server dropped the connection instead of answering 413: {exc}")
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large" and f"{UPLOAD_LIMIT_MB} MB" in r.json()["error"]["message"]


def test_searches_keep_working_while_an_index_run_adds_photos(served, pipeline):
    """20 searches from 4 client threads while `index_gallery` adds 2 photos to the same index
    (and replaces a changed one, so ids the searcher holds vanish mid-way): every answer is a
    well-formed 200, and afterwards the new photos are searchable."""
    from faceexplore.index.indexer import index_gallery

    settings, bbt, _, base, _ = served
    new = Path(settings.gallery_dir) / "new"
    new.mkdir()
    for name in ("penny1.png", "raj1.png"):
        shutil.copyfile(bbt / "people" / Path(name).stem.rstrip("0123456789") / name, new / name)
    changed = Path(settings.gallery_dir) / "group/bbt2.jpg"
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    organiser = organiser_session(settings, base)  # last_indexed is the organiser's to see
    before = organiser.get(base + "/api/status", timeout=30).json()
    searching = threading.Event()

    run: dict = {}

    def index_run():
        searching.wait(120)  # start while searches are in flight
        run["start"] = time.monotonic()
        try:
            with reusing_pipeline(pipeline):
                run["summary"] = index_gallery(settings, progress=False)
        except BaseException as exc:  # reported below
            run["error"] = exc
        run["end"] = time.monotonic()

    queries = ["amy/amy1.png", "stuart/stuart1.png", "leonard/leonard2.png", "sheldon/sheldon1.png", "howard/howard1.png"]

    def one_search(i):
        query = bbt / "people" / queries[i % len(queries)]
        start = time.monotonic()
        r = post_search(base, query)
        end = time.monotonic()
        if i >= 2:
            searching.set()
        assert r.status_code == 200, (query.name, r.status_code, r.text[:500])
        body = json.loads(r.text)
        assert set(body) >= SEARCH_KEYS and isinstance(body["found"], bool) and isinstance(body["photos"], list)
        for p in body["photos"]:
            assert {"id", "path", "url", "thumbnail_url", "confidence", "box"} <= set(p)
        if query.name == "amy1.png":
            assert body["found"] and "group/bbt4.jpg" in {p["path"] for p in body["photos"]}
        if query.name == "stuart1.png":
            assert not body["found"]
        return start, end

    indexer = threading.Thread(target=index_run, daemon=True)
    indexer.start()
    with ThreadPoolExecutor(4) as pool:
        spans = list(pool.map(one_search, range(20)))
    indexer.join(timeout=300)
    assert not indexer.is_alive(), "the index run did not finish in 300 s"
    assert "error" not in run, run.get("error")
    summary = run["summary"]
    assert (summary.new, summary.changed, summary.processed, summary.errors) == (2, 1, 3, [])
    overlapping = [s for s in spans if s[0] < run["end"] and s[1] > run["start"]]
    print(
        f"index run {run['end'] - run['start']:.1f} s; {len(overlapping)} of 20 searches overlapped it; "
        f"searches took {min(e - s for s, e in spans):.1f}..{max(e - s for s, e in spans):.1f} s"
    )
    assert overlapping, "no search ran during the index run: the test proved nothing"

    after = organiser.get(base + "/api/status", timeout=30).json()
    assert (before["photos"], after["photos"]) == (5, 7)
    assert after["last_indexed"] >= before["last_indexed"]
    # the searcher reloaded: a sample identical to a new photo finds that photo
    r = post_search(base, new / "penny1.png")
    assert r.status_code == 200 and "new/penny1.png" in {p["path"] for p in r.json()["photos"]}, r.text[:1000]
