"""Who sees what: the organiser's login (password, session cookie, CSRF, slowed failures), the
people pages as the organiser's or public, hidden people kept from visitors, private gallery
links (signed, expiring) and downloads limited to a visitor's search results. On the synthetic
gallery (tests/api_fixtures.py) with the defaults: people_page = "organiser", gallery_access =
"private". nginx's half of the links is in test_nginx_hardening.py."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from faceexplore.site.store import SiteStore
from faceexplore.web.gallery import links
from faceexplore.web.session import auth
from tests.api_fixtures import ORGANISER_PASSWORD, build_gallery, log_in, make_app, private_site_fixtures, sample_photo
from tests.test_api_contract import CheckedClient, assert_error, search

BACKEND = Path(__file__).resolve().parents[1]


# Read-only here: tests that correct people build their own gallery.
gallery, app, spec, visitor, organiser = private_site_fixtures("module")


def csrf(api) -> dict:
    return {"headers": {"X-CSRF-Token": api.csrf}}


def some_person(organiser) -> dict:
    return organiser.get("/api/people").get_json()["people"][0]


# -- password and session ---------------------------------------------------------------------
def test_set_password_stores_a_salted_scrypt_hash_mode_600(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(BACKEND)}
    cmd = [sys.executable, "-m", "faceexplore", "--data", str(tmp_path), "set-password"]
    r = subprocess.run(cmd, input="", capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "empty" in r.stderr and not auth.password_path(tmp_path).exists()
    r = subprocess.run(cmd, input="s3cret words\n", capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    path = auth.password_path(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "s3cret" not in text and '"algorithm": "scrypt"' in text
    stored = auth.load_password(tmp_path)
    assert auth.verify(stored, "s3cret words") and not auth.verify(stored, "s3cret word") and not auth.verify(stored, "")
    first = stored.salt
    auth.set_password(tmp_path, "s3cret words")
    assert auth.load_password(tmp_path).salt != first  # a fresh salt every time


def test_at_a_terminal_the_password_is_typed_twice_without_echo(monkeypatch):
    import getpass

    from faceexplore.cli import read_new_password

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    typed = iter(["pass phrase", "pass phrase", "pass phrase", "pass phrasE"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    assert read_new_password(Terminal()) == "pass phrase"
    with pytest.raises(ValueError, match="differ"):
        read_new_password(Terminal())


def test_without_a_password_nobody_can_log_in(tmp_path, spec):
    bare = build_gallery(tmp_path)
    api = CheckedClient(make_app(bare).test_client(), spec)
    assert api.get("/api/session").get_json() == {"organiser": False, "password_set": False, "csrf_token": None, "people_page": "organiser"}
    message = assert_error(api.post("/api/session", json={"password": "anything"}), 403, "no_password")
    assert "faceexplore --data DATA set-password" in message
    for url in ORGANISER_READS:
        assert_error(api.get(_fill(url, bare, 1)), 401, "login_required")
    for method, url, body in ORGANISER_CHANGES:
        kwargs = {"json": body} if body is not None else {}
        assert_error(getattr(api, method)(_fill(url, bare, 1), **kwargs), 401, "login_required")
    assert search(api, (sample_photo([0]), "me.png")).status_code == 200  # searching needs no one


def test_log_in_and_out(visitor, gallery):
    visitor_session = {"organiser": False, "password_set": True, "csrf_token": None, "people_page": "organiser"}
    assert visitor.get("/api/session").get_json() == visitor_session
    assert_error(visitor.post("/api/session", json={"password": "wrong"}), 401, "wrong_password")
    r = visitor.post("/api/session", json={"password": ORGANISER_PASSWORD})
    body = r.get_json()
    assert body["organiser"] is True and body["password_set"] is True and len(body["csrf_token"]) >= 32
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain http here
    assert visitor.get("/api/session").get_json() == body
    assert visitor.get("/api/people").status_code == 200
    # logging out is a change: it needs the token too
    assert_error(visitor.delete("/api/session"), 403, "csrf_failed")
    r = visitor.delete("/api/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.get_json() == visitor_session
    assert_error(visitor.get("/api/people"), 401, "login_required")


def test_the_cookie_is_secure_over_https(app):
    r = app.test_client().post("/api/session", json={"password": ORGANISER_PASSWORD}, base_url="https://localhost")
    assert "Secure" in r.headers["Set-Cookie"]


def test_a_forged_or_foreign_cookie_is_no_login(app, gallery, tmp_path):
    # a session signed with another key (another site's, or an attacker's) counts for nothing
    other = build_gallery(tmp_path)
    other_client = make_app(other).test_client()
    log_in(other_client, other.settings, ORGANISER_PASSWORD)
    cookie = other_client.get_cookie("faceexplore_session")
    client = app.test_client()
    client.set_cookie("faceexplore_session", cookie.value)
    assert client.get("/api/session").get_json()["organiser"] is False
    assert client.get("/api/people").status_code == 401


def test_logging_out_ends_the_session_on_the_server(tmp_path, spec):
    own = build_gallery(tmp_path)
    app = make_app(own)
    api = CheckedClient(app.test_client(), spec)
    token = log_in(api.client, own.settings)
    other = CheckedClient(app.test_client(), spec)
    other_token = log_in(other.client, own.settings)
    person = some_person(api)["id"]
    old_cookie = api.client.get_cookie("faceexplore_session").value
    assert api.delete("/api/session", headers={"X-CSRF-Token": token}).get_json()["organiser"] is False
    # the old cookie and its CSRF token, replayed (as a copy an attacker kept would be): no session
    api.client.set_cookie("faceexplore_session", old_cookie)
    assert api.get("/api/session").get_json()["organiser"] is False
    assert_error(api.patch(f"/api/people/{person}", json={"name": "Mallory"}, headers={"X-CSRF-Token": token}), 401, "login_required")
    assert_error(api.get("/api/people"), 401, "login_required")
    # another browser's session goes on
    r = other.patch(f"/api/people/{person}", json={"name": "Ann"}, headers={"X-CSRF-Token": other_token})
    assert r.status_code == 200 and r.get_json()["name"] == "Ann"


def _cookie_data(app, client) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(client.get_cookie("faceexplore_session").value)


def _cookie_of(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


def test_a_new_password_ends_every_session(tmp_path, spec):
    own = build_gallery(tmp_path)
    app = make_app(own)
    api = CheckedClient(app.test_client(), spec)
    log_in(api.client, own.settings)
    assert api.get("/api/people").status_code == 200
    data = _cookie_data(app, api.client)
    auth.set_password(own.settings.data_dir, "a new password")
    assert api.get("/api/session").get_json()["organiser"] is False
    assert_error(api.get("/api/people"), 401, "login_required")
    # the stored sessions are gone too: the old session id does not count even with the new password's fingerprint
    assert not SiteStore(own.settings.data_dir).session_alive(data["sid"])
    data["password"] = auth.fingerprint(auth.load_password(own.settings.data_dir))
    api.client.set_cookie("faceexplore_session", _cookie_of(app, data))
    assert_error(api.get("/api/people"), 401, "login_required")
    log_in(api.client, own.settings, "a new password")
    assert api.get("/api/people").status_code == 200


def test_the_cli_ends_every_session(tmp_path, spec):
    own = build_gallery(tmp_path)
    app = make_app(own)
    api = CheckedClient(app.test_client(), spec)
    log_in(api.client, own.settings)
    sid = _cookie_data(app, api.client)["sid"]
    env = {**os.environ, "PYTHONPATH": str(BACKEND)}
    cmd = [sys.executable, "-m", "faceexplore", "--data", str(own.settings.data_dir), "set-password"]
    r = subprocess.run(cmd, input="a new password\n", capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not SiteStore(own.settings.data_dir).session_alive(sid)
    assert_error(api.get("/api/people"), 401, "login_required")


def test_failed_logins_are_slowed_per_client_and_overall(tmp_path, spec):
    own = build_gallery(tmp_path)
    auth.set_password(own.settings.data_dir, ORGANISER_PASSWORD)
    app = make_app(own)
    guesser = CheckedClient(app.test_client(), spec)
    for _ in range(5):
        assert_error(guesser.post("/api/session", json={"password": "guess"}), 401, "wrong_password")
    r = guesser.post("/api/session", json={"password": ORGANISER_PASSWORD})  # even the right one, for now
    assert_error(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    # another address is not held up by this one's failures
    other = app.test_client()
    r = other.post("/api/session", json={"password": ORGANISER_PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 200


@pytest.fixture()
def cheap_scrypt(monkeypatch):
    """Passwords hashed with a small scrypt cost: these tests make dozens of login attempts."""
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)


def _login(app, password, address):
    return app.test_client().post("/api/session", json={"password": password}, environ_base={"REMOTE_ADDR": address})


def test_the_login_limit_is_shared_by_the_workers(tmp_path, cheap_scrypt):
    own = build_gallery(tmp_path)
    auth.set_password(own.settings.data_dir, ORGANISER_PASSWORD)
    workers = [make_app(own), make_app(own)]  # two gunicorn workers: two apps over one data folder
    for k in range(5):
        assert_error(_login(workers[k % 2], "guess", "10.0.0.1"), 401, "wrong_password")
    for app in workers:
        r = _login(app, ORGANISER_PASSWORD, "10.0.0.1")
        assert_error(r, 429, "rate_limited")
        assert 0 < int(r.headers["Retry-After"]) <= 60
    # a session made by one worker is known to the other
    client = workers[0].test_client()
    log_in(client, own.settings)
    other = workers[1].test_client()
    other.set_cookie("faceexplore_session", client.get_cookie("faceexplore_session").value)
    assert other.get("/api/people").status_code == 200


def test_a_flood_from_many_addresses_slows_them_but_not_the_organiser(tmp_path, cheap_scrypt):
    own = build_gallery(tmp_path)
    auth.set_password(own.settings.data_dir, ORGANISER_PASSWORD)
    workers = [make_app(own), make_app(own)]
    addresses = [f"127.0.0.{host}" for host in range(2, 8) for _ in range(5)] + [f"127.0.0.{host}" for host in range(8, 13)]
    for k, address in enumerate(addresses):  # 35 failures: 5 each from 6 addresses, then 1 each from 5 more
        assert_error(_login(workers[k % 2], "guess", address), 401, "wrong_password")
    # an address that has failed is held to one attempt a minute while the flood lasts (else 5)
    r = _login(workers[1], ORGANISER_PASSWORD, "127.0.0.8")
    assert_error(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    # an address with no failures gets its password checked: the organiser logs in
    assert _login(workers[0], ORGANISER_PASSWORD, "127.0.0.99").status_code == 200
    assert_error(_login(workers[1], "guess", "127.0.0.100"), 401, "wrong_password")


def test_the_attempt_counter_forgets_after_its_window(tmp_path):
    store = SiteStore(tmp_path)

    def attempt(client, now):
        wait, counted = store.begin_login(client, per_client=3, overall=5, window=60, now=now)
        return wait if counted is None else 0

    for t in range(3):
        assert attempt("a", now=100 + t) == 0
    assert attempt("a", now=103) == pytest.approx(57)
    assert attempt("b", now=103) == 0
    assert attempt("c", now=104) == 0  # five failures overall now
    assert attempt("b", now=105) == pytest.approx(58)  # b has failed: one attempt a minute
    assert attempt("d", now=106) == 0  # d has not: let through
    assert attempt("a", now=161) == 0 and attempt("b", now=164) == 0
    # a right password is no failure
    wait, counted = store.begin_login("e", per_client=1, overall=5, window=60, now=200)
    store.login_succeeded(counted)
    assert attempt("e", now=201) == 0
    assert (tmp_path / "site.sqlite3").stat().st_mode & 0o777 == 0o600
    (tmp_path / "site.sqlite3").unlink()  # deleted while the site runs: made again, empty
    assert attempt("a", now=300) == 0 and not store.session_alive("x", now=300)


# -- who sees what ----------------------------------------------------------------------------
ORGANISER_READS = ["/api/people", "/api/people/{person}", "/api/people/{person}/faces", "/api/photos/{photo}", "/api/corrections"]
ORGANISER_CHANGES = [
    ("patch", "/api/people/{person}", {"name": "Ann"}),
    ("post", "/api/people/{person}/merge", {"people": [999]}),
    ("post", "/api/faces/move", {"faces": [1], "to": None}),
    ("post", "/api/faces/reject", {"faces": [1]}),
    ("post", "/api/undo", None),
    ("post", "/api/corrections/{correction}/undo", None),
]


def _fill(url, gallery, person_id):
    return url.format(person=person_id, photo=gallery.photo_ids["album/beach.jpg"], correction=1)


def test_a_visitor_is_asked_to_log_in_for_the_people_pages_and_every_change(visitor, organiser, gallery):
    person_id = some_person(organiser)["id"]
    for url in ORGANISER_READS:
        assert_error(visitor.get(_fill(url, gallery, person_id)), 401, "login_required")
        assert organiser.get(_fill(url, gallery, person_id)).status_code == 200, url
    for method, url, body in ORGANISER_CHANGES:
        kwargs = {"json": body} if body is not None else {}
        assert_error(getattr(visitor, method)(_fill(url, gallery, person_id), **kwargs), 401, "login_required")


def _operation(spec, method, url):
    template = url.replace("{person}", "{person_id}").replace("{photo}", "{photo_id}").replace("{correction}", "{correction_id}")
    return spec["paths"][template][method]


def test_the_document_declares_the_organisers_credentials_where_they_are_needed(spec):
    schemes = spec["components"]["securitySchemes"]
    assert (schemes["organiserSession"]["in"], schemes["organiserSession"]["name"]) == ("cookie", "faceexplore_session")
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == ("header", "X-CSRF-Token")
    for method, url, _ in ORGANISER_CHANGES:
        assert _operation(spec, method, url)["security"] == [{"organiserSession": [], "csrfToken": []}], url
    for url in ORGANISER_READS:
        security = _operation(spec, "get", url)["security"]
        # the people pages are anyone's with people_page = "public": the credentials are optional there
        assert security in ([{"organiserSession": []}], [{"organiserSession": []}, {}]), url
    assert _operation(spec, "get", "/api/people/{person}/faces")["security"] == [{"organiserSession": []}]
    # what a visitor may do carries no requirement
    for method, url in (("post", "/api/search"), ("get", "/api/status"), ("post", "/api/download"), ("post", "/api/session")):
        assert "security" not in _operation(spec, method, url), url


def test_every_change_needs_the_csrf_token(organiser, gallery):
    person_id = some_person(organiser)["id"]
    for method, url, body in ORGANISER_CHANGES:
        kwargs = {"json": body} if body is not None else {}
        assert_error(getattr(organiser, method)(_fill(url, gallery, person_id), **kwargs), 403, "csrf_failed")
        wrong = {"X-CSRF-Token": organiser.csrf[:-2] + "xx"}
        assert_error(getattr(organiser, method)(_fill(url, gallery, person_id), headers=wrong, **kwargs), 403, "csrf_failed")
    # the token of another session does not do either
    other = organiser.client.application.test_client()
    other_token = log_in(other, gallery.settings)
    assert other_token != organiser.csrf
    r = organiser.patch(f"/api/people/{person_id}", json={"name": "Ann"}, headers={"X-CSRF-Token": other_token})
    assert_error(r, 403, "csrf_failed")


def test_status_shows_visitors_only_the_counts(visitor, organiser):
    seen = visitor.get("/api/status").get_json()
    full = organiser.get("/api/status").get_json()
    assert (seen["photos"], seen["faces"], seen["people"], seen["indexed"], seen["clustered"]) == (10, 15, 5, True, True)
    for detail in ("model", "threshold", "threshold_method", "last_indexed", "search_threshold", "errors"):
        assert seen[detail] is None and full[detail] is not None, detail
    assert {k: v for k, v in full.items() if seen[k] is not None} == {k: v for k, v in seen.items() if v is not None}


# -- private links ----------------------------------------------------------------------------
def _urls(body) -> list[str]:
    return [u for p in body["photos"] for u in (p["url"], p["thumbnail_url"], p["placeholder_url"])]


def test_a_search_hands_out_signed_links_that_open_and_nothing_else_does(visitor, gallery, app):
    body = search(visitor, (sample_photo([0]), "me.png")).get_json()
    assert body["photos"]
    for url in _urls(body):
        path, _, query = url.partition("?")
        assert query.startswith("expires=") and "&md5=" in query, url
        r = visitor.client.get(url)
        assert r.status_code == 200 and r.mimetype.startswith("image/"), (url, r.status_code)
        assert_error(visitor.client.get(path), 403, "link_required")  # the bare address
        assert_error(visitor.client.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")), 403, "link_required")
    # a good signature does not open another file
    first = body["photos"][0]["thumbnail_url"]
    second = first.partition("?")[0].rsplit("/", 1)[0] + f"/{gallery.photo_ids['album/garden.jpg']}.jpg"  # another photo's
    assert_error(visitor.client.get(second + "?" + first.partition("?")[2]), 403, "link_required")
    # an expired link
    secret = app.config["FACEEXPLORE_LINK_SECRET"]
    path = "/gallery/album/beach.jpg"
    old = links.sign(path, secret, gallery.settings.link_lifetime, now=time.time() - 3 * gallery.settings.link_lifetime)
    assert_error(visitor.client.get(old), 403, "link_expired")
    assert visitor.client.get(links.sign(path, secret, gallery.settings.link_lifetime)).status_code == 200


def test_links_stay_the_same_for_a_while_and_last_their_lifetime():
    lifetime = 24 * 3600
    now = 1_700_000_000
    assert links.sign("/gallery/a b.jpg", "k", lifetime, now) == links.sign("/gallery/a b.jpg", "k", lifetime, now + 60)
    expires = links.expiry(lifetime, now)
    assert now + lifetime < expires <= now + 1.25 * lifetime
    url = links.sign("/gallery/a b.jpg", "k", lifetime, now)
    assert url.startswith("/gallery/a%20b.jpg?expires=")
    md5 = url.rsplit("md5=", 1)[1]
    assert links.verify("/gallery/a b.jpg", str(expires), md5, "k", now=now) is None
    assert links.verify("/gallery/a b.jpg", str(expires), md5, "other", now=now) == "bad"
    assert links.verify("/gallery/a b.jpg", str(expires), md5, "k", now=expires + 1) == "expired"


def test_a_visitor_is_not_sent_to_a_person_page_they_cannot_open(visitor, organiser):
    assert search(visitor, (sample_photo([1]), "me.png")).get_json()["person_id"] is None
    person_id = search(organiser, (sample_photo([1]), "me.png")).get_json()["person_id"]
    assert person_id is not None and organiser.get(f"/api/people/{person_id}").status_code == 200


def test_a_visitor_downloads_only_what_their_search_found(visitor, organiser, gallery):
    body = search(visitor, (sample_photo([2]), "me.png")).get_json()
    found = [p["id"] for p in body["photos"]]
    token = body["download_token"]
    other = gallery.photo_ids["album/garden.jpg"]  # person 1 only: not in person 2's results
    assert other not in found
    r = visitor.post("/api/download", json={"photo_ids": found, "token": token})
    assert r.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(r.get_data())).namelist()) == len(found)
    r = visitor.post("/api/download", data={"photo_ids": [str(found[0])], "token": token})  # a form too
    assert r.status_code == 200
    assert_error(visitor.post("/api/download", json={"photo_ids": found + [other], "token": token}), 403, "not_in_results")
    assert_error(visitor.post("/api/download", json={"photo_ids": [other]}), 403, "not_in_results")
    assert_error(visitor.post("/api/download", json={"photo_ids": [other], "token": token[:-4] + "abcd"}), 403, "not_in_results")
    # the organiser downloads anything
    assert organiser.post("/api/download", json={"photo_ids": [other]}).status_code == 200


def _rebuild_index(gallery, tmp_path) -> None:
    """The index deleted and built again while the site runs: a new index file whose photo ids
    start at 1 again (the same ids, maybe for other photos)."""
    index_path = Path(gallery.settings.index_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path}{suffix}").unlink(missing_ok=True)
    rebuilt = build_gallery(tmp_path / "rebuilt")
    assert rebuilt.photo_ids == gallery.photo_ids  # ids reused
    os.replace(rebuilt.settings.index_path, index_path)


def test_download_tokens_and_links_die_with_their_index(tmp_path, spec):
    own = build_gallery(tmp_path)
    auth.set_password(own.settings.data_dir, ORGANISER_PASSWORD)
    api = CheckedClient(make_app(own).test_client(), spec)
    body = search(api, (sample_photo([2]), "me.png")).get_json()
    found, token = [p["id"] for p in body["photos"]], body["download_token"]
    [link] = api.post("/api/download/links", json={"photo_ids": found, "token": token}).get_json()["links"]
    assert api.post("/api/download", json={"photo_ids": found, "token": token}).status_code == 200
    assert api.get(link["url"]).status_code == 200

    _rebuild_index(own, tmp_path)
    assert api.get("/api/status").get_json()["photos"] == len(own.photo_ids)  # the new index is served
    assert_error(api.post("/api/download", json={"photo_ids": found, "token": token}), 403, "not_in_results")
    assert_error(api.post("/api/download/links", json={"photo_ids": found, "token": token}), 403, "not_in_results")
    assert_error(api.get(link["url"]), 400, "expired_link")
    # a new search hands out tokens that work
    body = search(api, (sample_photo([2]), "me.png")).get_json()
    assert api.post("/api/download", json={"photo_ids": found, "token": body["download_token"]}).status_code == 200


def _readable(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_tokens_are_opaque(visitor, gallery):
    body = search(visitor, (sample_photo([0, 2]), "us.png")).get_json()
    found = sorted(p["id"] for p in body["photos"])
    assert len(found) >= 3
    [link] = visitor.post("/api/download/links", json={"photo_ids": found, "token": body["download_token"]}).get_json()["links"]
    link_token = link["url"].split("token=", 1)[1]
    again = search(visitor, (sample_photo([0, 2]), "us.png")).get_json()["download_token"]
    assert again != body["download_token"]  # the same photos, another token: nothing to compare
    for token in (body["download_token"], link_token):
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        raw = _readable(token)
        for readable in (b'{"p', b'"ph"', b'"gaps"', json.dumps(found, separators=(",", ":"))[1:-1].encode()):
            assert readable not in raw, (readable, raw)


def test_an_open_gallery_hands_out_plain_addresses(tmp_path, spec):
    own = build_gallery(tmp_path, gallery_access="public")
    api = CheckedClient(make_app(own).test_client(), spec)
    body = search(api, (sample_photo([0]), "me.png")).get_json()
    for url in _urls(body):
        assert "?" not in url and api.client.get(url).status_code == 200
    assert api.post("/api/download", json={"photo_ids": [own.photo_ids["album/garden.jpg"]]}).status_code == 200
    assert "default 0;" in (Path(own.settings.data_dir) / links.NGINX_LINKS_CONF).read_text()


def test_the_nginx_links_file_is_private(gallery, app):
    path = Path(gallery.settings.data_dir) / links.NGINX_LINKS_CONF
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert app.config["FACEEXPLORE_LINK_SECRET"] in text and app.config["SECRET_KEY"] not in text
    assert '"1" 0;' in text  # private: only a good link ($secure_link = 1) is let through


# -- the organiser's corrections --------------------------------------------------------------
@pytest.fixture()
def own_site(tmp_path, spec):
    """A gallery of the test's own (corrections change it), people pages public."""
    own = build_gallery(tmp_path, people_page="public")
    app = make_app(own)
    organiser = CheckedClient(app.test_client(), spec)
    organiser.csrf = log_in(organiser.client, own.settings)
    return own, organiser, CheckedClient(app.test_client(), spec)


def test_the_session_says_who_may_open_the_people_pages(own_site):
    """The page hides its People tab from visitors when they would only meet a 401."""
    _, organiser, visitor = own_site
    assert visitor.get("/api/session").get_json()["people_page"] == "public"
    assert organiser.get("/api/session").get_json()["people_page"] == "public"


def test_corrections_through_the_api(own_site):
    own, organiser, _ = own_site
    people = organiser.get("/api/people").get_json()["people"]
    first, second = people[0], people[1]
    named = organiser.patch(f"/api/people/{first['id']}", json={"name": "  Ann Smith "}, **csrf(organiser)).get_json()
    assert (named["id"], named["name"], named["hidden"]) == (first["id"], "Ann Smith", False)
    assert [p["id"] for p in organiser.get("/api/people?q=smith").get_json()["people"]] == [first["id"]]
    assert organiser.get("/api/people?q=nobody").get_json()["total"] == 0
    assert_error(organiser.patch(f"/api/people/{first['id']}", json={}, **csrf(organiser)), 400, "bad_request")
    assert_error(organiser.patch("/api/people/999999", json={"name": "X"}, **csrf(organiser)), 404, "not_found")

    faces = organiser.get(f"/api/people/{second['id']}/faces").get_json()
    assert faces["total"] == second["face_count"] and len(faces["faces"]) == second["face_count"]
    face = faces["faces"][0]
    assert set(face) == {"id", "photo_id", "crop_url", "box"} and "?expires=" in face["crop_url"]
    moved = organiser.post("/api/faces/move", json={"faces": [face["id"]], "to": None}, **csrf(organiser)).get_json()
    assert moved["id"] not in (first["id"], second["id"]) and moved["face_count"] == 1
    merged = organiser.post(f"/api/people/{first['id']}/merge", json={"people": [moved["id"]]}, **csrf(organiser)).get_json()
    assert merged["id"] == first["id"] and merged["face_count"] == first["face_count"] + 1
    assert_error(organiser.get(f"/api/people/{moved['id']}"), 404, "not_found")  # merged away
    rejected = organiser.post("/api/faces/reject", json={"faces": [face["id"]]}, **csrf(organiser)).get_json()
    assert rejected == {"rejected": 1}

    log = organiser.get("/api/corrections").get_json()["corrections"]
    assert [c["kind"] for c in log] == ["reject", "merge", "move", "rename"]
    assert all(c["undone"] is False and c["at"].endswith("Z") for c in log)
    undone = organiser.post("/api/undo", **csrf(organiser)).get_json()["undone"]
    assert (undone["id"], undone["kind"], undone["undone"]) == (log[0]["id"], "reject", True)
    for _ in range(3):
        organiser.post("/api/undo", **csrf(organiser))
    assert organiser.get(f"/api/people/{first['id']}").get_json()["person"]["name"] is None
    assert_error(organiser.post("/api/undo", **csrf(organiser)), 409, "nothing_to_undo")


def test_any_correction_is_undone_with_the_later_ones_that_depend_on_it(own_site):
    own, organiser, visitor = own_site
    first, second = organiser.get("/api/people").get_json()["people"][:2]
    organiser.patch(f"/api/people/{first['id']}", json={"name": "Ann"}, **csrf(organiser))
    face = organiser.get(f"/api/people/{second['id']}/faces").get_json()["faces"][0]
    moved = organiser.post("/api/faces/move", json={"faces": [face["id"]], "to": None}, **csrf(organiser)).get_json()
    organiser.post(f"/api/people/{first['id']}/merge", json={"people": [moved["id"]]}, **csrf(organiser))
    organiser.patch(f"/api/people/{second['id']}", json={"hidden": True}, **csrf(organiser))
    log = organiser.get("/api/corrections").get_json()["corrections"]
    hide, merge, move, rename = log
    assert [c["kind"] for c in log] == ["hide", "merge", "move", "rename"]
    assert all(c["who"] == "organiser (web, 127.0.0.1)" and c["undoable"] and c["not_undoable_because"] is None for c in log)

    plan_url, undo_url = f"/api/corrections/{rename['id']}/undo-plan", f"/api/corrections/{rename['id']}/undo"
    for response in (visitor.get(plan_url), visitor.post(undo_url)):
        assert_error(response, 401, "login_required")
    assert_error(organiser.client.post(undo_url), 403, "csrf_failed")
    plan = organiser.get(plan_url).get_json()
    assert plan["correction"]["id"] == rename["id"] and [c["id"] for c in plan["also"]] == [merge["id"]]
    undone = organiser.post(undo_url, **csrf(organiser)).get_json()
    assert undone["undone"]["id"] == rename["id"] and [c["id"] for c in undone["also"]] == [merge["id"]]
    assert organiser.get(f"/api/people/{first['id']}").get_json()["person"] == {**first, "name": None}
    assert organiser.get(f"/api/people/{moved['id']}").get_json()["person"]["face_count"] == 1  # the merge is taken back
    after = {c["id"]: c for c in organiser.get("/api/corrections").get_json()["corrections"]}
    assert [after[c["id"]]["undone"] for c in log] == [False, True, False, True]
    assert after[merge["id"]]["undone_with"] == rename["id"] and after[rename["id"]]["not_undoable_because"] == "Undone already."
    assert_error(organiser.post(undo_url, **csrf(organiser)), 409, "already_undone")
    assert_error(organiser.get("/api/corrections/999999/undo-plan"), 404, "not_found")
    assert organiser.post("/api/undo", **csrf(organiser)).get_json()["undone"]["id"] == hide["id"]  # the last one, as before


def test_a_hidden_person_is_never_shown_to_a_visitor(own_site):
    own, organiser, visitor = own_site
    body = search(visitor, (sample_photo([3]), "me.png")).get_json()
    person_id = body["person_id"]
    assert body["found"] and person_id is not None
    hidden = organiser.patch(f"/api/people/{person_id}", json={"hidden": True, "name": "Private Person"}, **csrf(organiser)).get_json()
    assert hidden["hidden"] is True
    # the organiser still sees them, marked
    assert person_id in [p["id"] for p in organiser.get("/api/people?per_page=200").get_json()["people"]]
    # a visitor: not in the list, no page, not named in a photo, not found by a search
    listed = visitor.get("/api/people?per_page=200").get_json()
    assert person_id not in [p["id"] for p in listed["people"]] and listed["total"] == 4
    assert visitor.get("/api/people?q=private").get_json()["people"] == []
    assert_error(visitor.get(f"/api/people/{person_id}"), 404, "not_found")
    # a photo of theirs, alone or with others, is not in the gallery for a visitor; the organiser sees it
    for path in ("album 2/studio.jpg", "album/dinner.jpg"):
        assert_error(visitor.get(f"/api/photos/{own.photo_ids[path]}"), 404, "not_found")
        faces = organiser.get(f"/api/photos/{own.photo_ids[path]}").get_json()["faces"]
        assert person_id in [f["person_id"] for f in faces]
    assert visitor.get(f"/api/photos/{own.photo_ids['album/garden.jpg']}").status_code == 200
    again = search(visitor, (sample_photo([3]), "me.png")).get_json()
    absent = search(visitor, (sample_photo([5]), "stranger.png")).get_json()
    assert again["person_id"] is None and again["photos"] == [] and again["found"] is absent["found"] is False
    assert "Private Person" not in str(visitor.get("/api/people?per_page=200").get_data(as_text=True))


def _people_state(organiser) -> tuple:
    """Everything a correction could change, as the organiser sees it."""
    people = organiser.get("/api/people?per_page=200").get_json()["people"]
    faces = {p["id"]: [f["id"] for f in organiser.get(f"/api/people/{p['id']}/faces?per_page=200").get_json()["faces"]] for p in people}
    return people, faces, organiser.get("/api/corrections").get_json()["corrections"]


def test_bad_corrections_answer_a_clear_4xx_and_change_nothing(own_site):
    own, organiser, _ = own_site
    people = organiser.get("/api/people?per_page=200").get_json()["people"]
    faces = {p["id"]: organiser.get(f"/api/people/{p['id']}/faces?per_page=200").get_json()["faces"] for p in people}
    photos = {pid: {f["photo_id"] for f in fs} for pid, fs in faces.items()}
    a, b = next((x, y) for x in photos for y in photos if x < y and photos[x] & photos[y])  # in one photo together
    shared = min(photos[a] & photos[b])
    face_a = next(f["id"] for f in faces[a] if f["photo_id"] == shared)
    face_b = next(f["id"] for f in faces[b] if f["photo_id"] == shared)
    # one correction first, so that "nothing changed" includes the log and what undo would undo
    organiser.patch(f"/api/people/{a}", json={"name": "Ann"}, **csrf(organiser))
    before = _people_state(organiser)
    cases = [
        ("patch", "/api/people/999999", {"name": "X"}, 404, "not_found"),
        ("patch", f"/api/people/{a}", {"name": "x" * 101}, 400, None),
        ("patch", f"/api/people/{a}", {"name": "two\nlines"}, 422, "bad_name"),
        ("patch", f"/api/people/{a}", {"hidden": "maybe"}, 400, None),
        ("patch", f"/api/people/{a}", {"hidden": None}, 400, None),  # the document: a boolean, not null
        ("patch", f"/api/people/{a}", {}, 400, None),  # the document: minProperties 1
        ("patch", f"/api/people/{a}", {"nick": "Ann"}, 400, None),  # the document: additionalProperties false
        ("post", f"/api/people/{a}/merge", {"people": [a]}, 422, "merge_into_itself"),
        ("post", f"/api/people/{a}/merge", {"people": []}, 400, None),
        ("post", f"/api/people/{a}/merge", {"people": [999999]}, 404, "not_found"),
        ("post", "/api/people/999999/merge", {"people": [a]}, 404, "not_found"),
        ("post", f"/api/people/{a}/merge", {"people": [b]}, 409, "same_photo"),  # two faces of one photo
        ("post", "/api/faces/move", {"faces": [], "to": None}, 400, None),
        ("post", "/api/faces/move", {"faces": [999999], "to": None}, 404, "not_found"),
        ("post", "/api/faces/move", {"faces": [face_a], "to": 999999}, 404, "not_found"),
        ("post", "/api/faces/move", {"faces": [face_a, face_b], "to": None}, 409, "same_photo"),
        ("post", "/api/faces/move", {"faces": [face_b], "to": a}, 409, "same_photo"),
        ("post", "/api/faces/move", {"faces": "1", "to": None}, 400, None),
        ("post", "/api/faces/reject", {"faces": []}, 400, None),
        ("post", "/api/faces/reject", {"faces": [face_a, 999999]}, 404, "not_found"),
        ("post", "/api/faces/reject", {"faces": ["1"]}, 400, None),  # text is not an integer
        ("post", "/api/faces/reject", {"faces": [999999.0]}, 404, "not_found"),  # but 999999.0 is one
    ]
    for method, url, body, status, code in cases:
        r = getattr(organiser, method)(url, json=body, **csrf(organiser))
        assert r.status_code == status, (url, body, r.status_code, r.get_data(as_text=True))
        error = r.get_json()["error"]
        assert error["message"] and (code is None or error["code"] == code), (url, body, error)
        assert _people_state(organiser) == before, (url, body)
    # and undo still undoes the rename, the one correction that went through
    assert organiser.post("/api/undo", **csrf(organiser)).get_json()["undone"]["kind"] == "rename"
    assert_error(organiser.post("/api/undo", **csrf(organiser)), 409, "nothing_to_undo")
