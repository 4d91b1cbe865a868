"""nginx in front of a stand-in backend, attacked: per-client rate limits (429 with the app's JSON
error, no way around them by spelling the path differently), security headers on every response
(the app's own copies replaced, never doubled), and sample uploads kept in memory (never written
to nginx's temporary files). Needs nginx only (skipped without it, failed in CI); no face models.

The whole site (real gunicorn, real frontend in Chromium under this policy) is test_deployment.py.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_deployment import DIST, free_port, need, need_nginx, raw_request, rnc, running_nginx, write_links_conf

SECURITY_HEADERS = {
    "content-security-policy": None,  # checked on its own below
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
TEMP_FILE_WARNING = "buffered to a temporary file"
LINK_SECRET = "test-link-secret"


class _AppLikeStub(BaseHTTPRequestHandler):
    """Answers everything 200, with weaker copies of the security headers (as an app might send):
    nginx must replace them with its own."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        if self.path.startswith("/api/crash"):  # a worker that dies mid-request: no answer at all
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        received = len(self.rfile.read(n)) if n else 0
        body = json.dumps({"method": self.command, "path": self.path, "received": received}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.send_header("Content-Security-Policy", "default-src *")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_DELETE = do_PUT = _answer

    def log_message(self, *args):
        pass


class StubSite:
    def __init__(self, port: int, state: Path, conf: Path):
        self.port, self.state, self.conf = port, state, conf

    @property
    def error_log(self) -> str:
        return (self.state / "logs" / "error.log").read_text(errors="replace")

    def body_temp_files(self) -> list[Path]:
        return [p for p in (self.state / "tmp" / "client_body").rglob("*") if p.is_file()]


def start_stub_site(tmp_path: Path, rate_limit_scale: float = 1.0, trusted_proxies=(), gallery_access: str = "public"):
    """nginx (fresh rate-limit zones) in front of _AppLikeStub; a generator for a fixture."""
    need_nginx()
    gallery, data, dist = tmp_path / "gallery", tmp_path / "data", tmp_path / "dist"
    (gallery / "group").mkdir(parents=True)
    (data / "cache").mkdir(parents=True)
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "app-abc123.js").write_text("console.log(1)")
    (gallery / "group" / "p1.jpg").write_bytes(b"\xff\xd8\xff\xe0JPEGDATA")
    (gallery / "group" / "été à Paris.jpg").write_bytes(b"\xff\xd8\xff\xe0PARIS")
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _AppLikeStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    port = free_port()
    write_links_conf(data, gallery_access, LINK_SECRET)
    state = data / "nginx"
    state.mkdir(parents=True)
    conf = state / "nginx.conf"
    conf.write_text(
        rnc.render(
            gallery=gallery,
            data=data,
            frontend=dist,
            host="127.0.0.1",
            port=port,
            upstream=f"127.0.0.1:{stub.server_address[1]}",
            state_dir=state,
            worker_processes="1",  # one worker: every request sees the same limit state at once
            rate_limit_scale=rate_limit_scale,
            trusted_proxies=trusted_proxies,
        )
    )
    rnc.make_state_dirs(state)
    try:
        with running_nginx(conf, port):
            yield StubSite(port, state, conf)
    finally:
        stub.shutdown()
        stub.server_close()


@pytest.fixture
def stub_site(tmp_path):
    yield from start_stub_site(tmp_path)


def header_values(head: str, name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"(?im)^{re.escape(name)}:(.*)$", head)]


def assert_security_headers(head: str, what) -> None:
    for name, expected in SECURITY_HEADERS.items():
        values = header_values(head, name)
        assert len(values) == 1, f"{what}: {name} sent {len(values)} times: {values}"
        if expected is not None:
            assert values[0] == expected, (what, name, values[0])
    csp = header_values(head, "content-security-policy")[0]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["frame-ancestors"] == ["'none'"], csp
    assert directives["script-src"] == ["'self'"], f"{what}: scripts may only come from the site itself: {csp}"
    assert directives["object-src"] == ["'none'"] and directives["default-src"] == ["'self'"], csp
    assert "*" not in csp, f"{what}: the app's permissive policy came through: {csp}"


def post(port: int, target: bytes, body: bytes = b"{}", content_type: bytes = b"application/json", timeout: float = 30):
    headers = b"Content-Type: " + content_type + b"\r\nContent-Length: %d\r\n" % len(body)
    return raw_request(port, target, method=b"POST", headers=headers, body=body, timeout=timeout)


def multipart(field: str, filename: str, payload: bytes, boundary: bytes = b"faceexploreboundary") -> tuple[bytes, bytes]:
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="' + field.encode() + b'"; filename="' + filename.encode() + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + payload + b"\r\n--" + boundary + b"--\r\n"
    )
    return body, b"multipart/form-data; boundary=" + boundary


# ----------------------------------------------------------------------------------------------
# The template


def _render(tmp_path, **kw):
    for d in ("gallery", "data", "dist"):
        (tmp_path / d).mkdir(exist_ok=True)
    return rnc.render(gallery=tmp_path / "gallery", data=tmp_path / "data", frontend=tmp_path / "dist", **kw)


def test_rate_limits_render_as_documented(tmp_path):
    text = _render(tmp_path)
    # the numbers the template's comment states
    assert "zone=faceexplore_search:10m rate=30r/m;" in text and "zone=faceexplore_search burst=20 nodelay;" in text
    assert "zone=faceexplore_download:10m rate=12r/m;" in text and "zone=faceexplore_download burst=10 nodelay;" in text
    assert "zone=faceexplore_session:10m rate=10r/m;" in text and "zone=faceexplore_session burst=5 nodelay;" in text
    assert "zone=faceexplore_access:10m rate=10r/m;" in text and "zone=faceexplore_access burst=5 nodelay;" in text
    assert "zone=faceexplore_files:10m rate=1200r/m;" in text and "zone=faceexplore_files burst=400 nodelay;" in text
    assert "limit_conn faceexplore_uploads 2;" in text
    documented = ("searches   30/minute, burst 20", "downloads  12/minute, burst 10", "logins     10/minute, burst 5")
    documented += ("access codes 10/minute, burst 5",)
    documented += ("20/second, burst 400",)
    for line in documented:
        assert line in text, f"the template's comment no longer states {line!r}"
    scaled = _render(tmp_path, rate_limit_scale=100)
    assert "rate=3000r/m;" in scaled and "zone=faceexplore_search burst=2000 nodelay;" in scaled and "faceexplore_uploads 200;" in scaled
    with pytest.raises(rnc.RenderError):
        _render(tmp_path, rate_limit_scale=0)


def test_search_body_buffer_is_the_upload_limit(tmp_path):
    text = _render(tmp_path, max_body="12M")
    search = re.search(r"location \^~ /api/search \{(.*?)\n        \}", text, re.S).group(1)
    assert "client_body_buffer_size 12M;" in search


def test_gallery_uploads_have_their_own_larger_limit(tmp_path):
    text = _render(tmp_path, max_body="12M", max_gallery_upload_body="300M")
    route = re.search(r"location = /api/gallery/photos \{(.*?)\n        \}", text, re.S).group(1)
    assert "client_max_body_size 300M;" in route and "limit_conn faceexplore_gallery_uploads 2;" in route
    assert "client_max_body_size 12M;" in text.split("server {")[0]  # everything else keeps the search limit
    assert "client_max_body_size 500M;" in _render(tmp_path)


def test_a_gallery_upload_over_the_search_limit_reaches_the_app(stub_site):
    """40 MB of photos (over the 30M search limit) go through to the app on the upload route, and
    nowhere else; over the gallery upload limit nginx answers 413 itself."""
    body, content_type = multipart("photos", "big.jpg", b"\xff" * (40 * 1024 * 1024))
    status, _, answer = post(stub_site.port, b"/api/gallery/photos", body, content_type, timeout=60)
    assert status == 200 and json.loads(answer)["received"] == len(body)
    status, _, answer = post(stub_site.port, b"/api/search", body, content_type, timeout=60)
    assert status == 413 and json.loads(answer)["error"]["code"] == "too_large"
    status, _, answer = raw_request(
        stub_site.port,
        b"/api/gallery/photos",
        method=b"POST",
        headers=b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n" % (501 * 1024 * 1024),
        body=b"x" * 65536,
    )
    assert status == 413 and "500M limit" in json.loads(answer)["error"]["message"]


# ----------------------------------------------------------------------------------------------
# Uploads stay in memory


def test_search_upload_never_touches_disk(stub_site):
    """A sample photo bigger than nginx's default buffers reaches the app whole, and nginx writes
    no temporary file for it. The control (a download request's body, buffered at 1 MB) shows
    the check would see one."""
    payload = bytes(range(256)) * (5 * 4096)  # 5 MiB
    body, content_type = multipart("images", "big.jpg", payload)
    status, _, answer = post(stub_site.port, b"/api/search", body, content_type, timeout=60)
    assert status == 200 and json.loads(answer)["received"] == len(body)
    assert TEMP_FILE_WARNING not in stub_site.error_log, stub_site.error_log[-2000:]
    assert stub_site.body_temp_files() == []

    status, _, answer = post(stub_site.port, b"/api/download", b'{"photo_ids": [' + b"1," * 1_000_000 + b"1]}")
    assert status == 200
    assert TEMP_FILE_WARNING in stub_site.error_log, "the control upload was not buffered to disk: the check above proves nothing"


# ----------------------------------------------------------------------------------------------
# Rate limits


def post_from(port: int, target: bytes, forwarded_for: bytes):
    headers = b"Content-Type: application/json\r\nContent-Length: 2\r\nX-Forwarded-For: " + forwarded_for + b"\r\n"
    return raw_request(port, target, method=b"POST", headers=headers, body=b"{}")


def _burst(port: int, target: bytes, n: int, *, body: bytes = b"{}"):
    """n requests one after another as fast as possible; returns [(status, head, body)], seconds."""
    t0 = time.monotonic()
    answers = [post(port, target, body) if body is not None else raw_request(port, target) for _ in range(n)]
    return answers, time.monotonic() - t0


@pytest.mark.parametrize(
    "target,per_minute,burst",
    [(b"/api/search", 30, 20), (b"/api/download", 12, 10), (b"/api/session", 10, 5), (b"/api/access", 10, 5)],
)
def test_rate_limit_answers_429_json(stub_site, target, per_minute, burst):
    answers, seconds = _burst(stub_site.port, target, burst + 15)
    statuses = [s for s, _, _ in answers]
    allowed = statuses.count(200)
    # a visitor gets the whole burst at once; beyond it only what the rate refilled meanwhile
    assert allowed >= burst + 1, statuses
    assert allowed <= burst + 1 + int(seconds * per_minute / 60) + 1, (statuses, seconds)
    assert set(statuses) == {200, 429} and statuses.index(429) == allowed, f"a 429 before the limit: {statuses}"
    status, head, body = answers[-1]
    assert header_values(head, "content-type") == ["application/json"], head
    error = json.loads(body)["error"]
    assert error["code"] == "rate_limited" and error["message"], error  # the frontend's code (api-client.ts)
    assert header_values(head, "retry-after") and header_values(head, "cache-control") == ["no-store"], head
    assert_security_headers(head, f"429 from {target!r}")
    # other addresses on the site are not limited by this one
    status, _, body = raw_request(stub_site.port, b"/api/health")
    assert status == 200 and json.loads(body)["path"] == "/api/health"


def test_only_logins_count_against_the_login_limit(stub_site):
    """The page reads GET /api/session on every load and logs out with DELETE: neither guesses a
    password, so neither is limited, nor uses up the logins."""
    for method in (b"GET", b"DELETE"):
        statuses = [raw_request(stub_site.port, b"/api/session", method=method)[0] for _ in range(12)]
        assert set(statuses) == {200}, (method, statuses)
    statuses = [post(stub_site.port, b"/api/session")[0] for _ in range(12)]
    assert statuses[:6] == [200] * 6 and statuses[-1] == 429, statuses


def test_only_code_entries_count_against_the_access_code_limit(stub_site):
    """The page reads GET /api/access on every load; only POSTs enter a code."""
    statuses = [raw_request(stub_site.port, b"/api/access")[0] for _ in range(12)]
    assert set(statuses) == {200}, statuses
    statuses = [post(stub_site.port, b"/api/access")[0] for _ in range(12)]
    assert statuses[:6] == [200] * 6 and statuses[-1] == 429, statuses


def test_rate_limit_cannot_be_dodged_by_spelling(stub_site):
    """Once the searches are used up, no other spelling of /api/search reaches the app."""
    answers, _ = _burst(stub_site.port, b"/api/search", 30)
    assert answers[-1][0] == 429
    for target in (
        b"/api/search?x=1",
        b"/api//search",
        b"//api/search",
        b"/api/./search",
        b"/api/x/../search",
        b"/api/%73earch",
        b"/api/search/",
        b"/api/search%3Fx",
    ):
        status, _, body = post(stub_site.port, target)
        assert status == 429, f"{target!r} got past the search limit ({status}: {body[:100]!r})"
    # other limits are their own: downloads still go through
    status, _, _ = post(stub_site.port, b"/api/download")
    assert status == 200


def test_rate_limit_cannot_be_dodged_by_a_forged_address(stub_site):
    """Without a trusted proxy, X-Forwarded-For is the visitor's own claim: ignored."""
    statuses = [post_from(stub_site.port, b"/api/session", b"10.0.0.%d" % i)[0] for i in range(20)]
    assert statuses.count(200) <= 5 + 2 and statuses[-1] == 429, statuses


@pytest.fixture
def stub_site_behind_proxy(tmp_path):
    yield from start_stub_site(tmp_path, trusted_proxies=["127.0.0.1"])


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(stub_site_behind_proxy):
    port = stub_site_behind_proxy.port
    statuses = [post_from(port, b"/api/session", b"203.0.113.7")[0] for _ in range(12)]
    assert statuses[-1] == 429, statuses
    # another client behind the same proxy is not limited by the first ...
    assert post_from(port, b"/api/session", b"203.0.113.8")[0] == 200
    # ... and the proxy's own address (what nginx would use without the option) is not either
    assert post(port, b"/api/session")[0] == 200


def test_trusted_proxies_render(tmp_path):
    text = _render(tmp_path, trusted_proxies=["10.0.0.0/8", "::1"])
    assert "set_real_ip_from 10.0.0.0/8;" in text and "set_real_ip_from ::1/128;" in text
    assert "real_ip_header X-Forwarded-For;" in text and "real_ip_recursive on;" in text
    assert "set_real_ip_from" not in _render(tmp_path), "no proxy is trusted by default"
    for bad in ("10.0.0.1; evil", "example.com", "10.0.0.0/33"):
        with pytest.raises(rnc.RenderError):
            _render(tmp_path, trusted_proxies=[bad])


def test_uploads_in_flight_are_limited(stub_site):
    """Two searches uploading at once from one client: a third is refused, 429; once they are
    done, searches go through again."""
    import socket

    socks = []
    try:
        for _ in range(2):  # each announces a large body, sends a little of it and stalls
            s = socket.create_connection(("127.0.0.1", stub_site.port), timeout=10)
            s.sendall(
                b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Length: 1000000\r\n\r\n" + b"x" * 1000
            )
            socks.append(s)
        time.sleep(0.5)
        status, head, body = post(stub_site.port, b"/api/search", b"x")
        assert status == 429 and json.loads(body)["error"]["code"] == "rate_limited", (status, body[:200])
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    assert post(stub_site.port, b"/api/search", b"x")[0] == 200


# ----------------------------------------------------------------------------------------------
# Security headers


def test_security_headers_on_every_response(stub_site):
    port = stub_site.port
    checks = [
        (b"/", 200),
        (b"/people/3", 200),  # client-side route: index.html
        (b"/assets/app-abc123.js", 200),
        (b"/assets/missing.js", 404),
        (b"/gallery/group/p1.jpg", 200),
        (b"/gallery/page.html", 404),
        (b"/gallery/.git/config", 404),
        (b"/gallery/../../etc/passwd", 400),
        (b"/cache/faces/160/7.jpg", 200),  # a cache miss: proxied to the app
        (b"/api/health", 200),  # the app's weaker copies are replaced
    ]
    for target, expected in checks:
        status, head, _ = raw_request(port, target)
        assert status == expected, (target, status)
        assert_security_headers(head, target)
    status, head, body = raw_request(
        port,
        b"/api/search",
        method=b"POST",
        headers=b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n" % (31 * 1024 * 1024),
        body=b"x" * 65536,
    )
    assert status == 413
    assert_security_headers(head, "413")
    assert header_values(head, "content-type") == ["application/json"]
    assert json.loads(body)["error"]["code"] == "too_large"  # the app's code for it (errors.py)


def test_built_frontend_needs_nothing_the_policy_refuses(tmp_path):
    """frontend/dist loads scripts and style sheets from the site only, and has no inline script
    (the policy would block it; test_deployment.py's browser test shows the page working)."""
    need((DIST / "index.html").is_file(), f"the frontend is not built ({DIST}); `make test` builds it first")
    html = (DIST / "index.html").read_text()
    for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        assert 'src="/' in m.group(1) and not m.group(2).strip(), f"an inline or foreign script: {m.group(0)[:200]}"
    for m in re.finditer(r"<link\b[^>]*\bhref=\"([^\"]+)\"", html):
        assert m.group(1).startswith("/"), f"a resource from another site: {m.group(1)}"
    for css in DIST.glob("assets/*.css"):
        for url in re.findall(r"url\(([^)]*)\)", css.read_text()):
            url = url.strip("'\"")
            assert url.startswith(("/", "data:", "#")), f"{css.name} loads {url[:80]}"


# -- private gallery links: nginx's secure_link checks exactly what the app signs ---------------
@pytest.fixture
def private_stub_site(tmp_path):
    yield from start_stub_site(tmp_path, gallery_access="private")


def _signed(path: str, **kw) -> bytes:
    from faceexplore.web.gallery.links import sign

    return sign(path, LINK_SECRET, 24 * 3600, **kw).encode()


def test_private_links_through_nginx(private_stub_site):
    port = private_stub_site.port
    # from disk: a signed link opens the photo; the bare address, a changed token, another path's
    # token and an expired link do not
    status, _, body = raw_request(port, _signed("/gallery/group/p1.jpg"))
    assert (status, body) == (200, b"\xff\xd8\xff\xe0JPEGDATA")
    status, _, body = raw_request(port, _signed("/gallery/group/été à Paris.jpg"))  # signed decoded, sent quoted
    assert (status, body) == (200, b"\xff\xd8\xff\xe0PARIS")
    good = _signed("/gallery/group/p1.jpg")
    for refused in (
        b"/gallery/group/p1.jpg",
        good[:-3] + (b"AAA" if not good.endswith(b"AAA") else b"BBB"),
        b"/gallery/group/p1.jpg?" + _signed("/gallery/group/other.jpg").partition(b"?")[2],
        b"/gallery/group/p1.jpg?md5=" + good.rpartition(b"md5=")[2],  # no expiry: not a never-expiring link
        _signed("/gallery/group/p1.jpg", now=time.time() - 3 * 24 * 3600),
    ):
        status, _, body = raw_request(port, refused)
        assert status == 403, refused
        assert json.loads(body)["error"]["code"] == "link_refused", body  # the API's error shape, not nginx's page
    # a cache miss goes to the app only with a good link (the app checks it again)
    status, _, body = raw_request(port, _signed("/cache/thumbnails/400/1.jpg"))
    assert status == 200 and json.loads(body)["path"].startswith("/cache/thumbnails/400/1.jpg?expires=")
    for refused in (b"/cache/thumbnails/400/1.jpg", b"/cache/faces/160/2.jpg?" + _signed("/cache/faces/160/3.jpg").partition(b"?")[2]):
        status, _, _ = raw_request(port, refused)
        assert status == 403, refused
    # the API itself is not behind links
    assert raw_request(port, b"/api/health")[0] == 200


def test_an_open_gallery_needs_no_links(stub_site):
    assert raw_request(stub_site.port, b"/gallery/group/p1.jpg")[0] == 200


def assert_json_error(status: int, head: str, body: bytes, expected_status: int, code: str, what) -> None:
    assert status == expected_status, (what, status, body[:200])
    assert header_values(head, "content-type") == ["application/json"], (what, head)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"], (what, body)
    assert_security_headers(head, what)


def test_refused_links_are_json_whatever_the_path_ends_with(private_stub_site):
    port = private_stub_site.port
    for method, target in (
        (b"GET", b"/gallery/group/p1.jpg"),
        (b"GET", b"/cache/thumbnails/400/1.jpg"),
        (b"GET", b"/gallery/group/p1.png"),
        (b"PUT", b"/gallery/x.jpg"),  # any method but GET: refused the same way
    ):
        status, head, body = raw_request(port, target, method=method, headers=b"Content-Length: 0\r\n")
        assert_json_error(status, head, body, 403, "link_refused", (method, target))


def test_a_backend_that_cannot_answer_gives_json(stub_site):
    # the worker handling the request dies: nginx's own 502, in the API's shape
    status, head, body = raw_request(stub_site.port, b"/api/crash")
    assert_json_error(status, head, body, 502, "unavailable", "/api/crash")


def test_a_backend_that_is_down_gives_json(tmp_path):
    site = start_stub_site(tmp_path)
    stub = next(site)
    try:
        # the stub stops answering: connection refused
        conf = stub.conf.read_text()
        upstream = re.search(r"server (127\.0\.0\.1:\d+);", conf).group(1)
        conf = conf.replace(f"server {upstream};", f"server 127.0.0.1:{free_port()};")
        stub.conf.write_text(conf)
        # nginx re-reads the configuration (SIGHUP) and waits for it
        pid = int((stub.state / "nginx.pid").read_text())
        import os
        import signal

        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            status, head, body = raw_request(stub.port, b"/api/status")
            if status == 502 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert_json_error(status, head, body, 502, "unavailable", "/api/status")
        for method, target in ((b"POST", b"/api/gallery/photos"), (b"POST", b"/api/search"), (b"GET", b"/cache/faces/160/9.jpg")):
            status, head, body = raw_request(stub.port, target, method=method, headers=b"Content-Length: 0\r\n")
            assert_json_error(status, head, body, 502, "unavailable", target)
    finally:
        site.close()
