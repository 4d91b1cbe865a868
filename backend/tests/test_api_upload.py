"""The live gallery's web side: the organiser's upload of photos into the gallery (POST
/api/gallery/photos) and the watcher's state in GET /api/status. On the synthetic gallery
(tests/api_fixtures.py); photos are made here with Pillow."""

from __future__ import annotations

import io
import os
import tempfile
import time
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from faceexplore.index import gallery as gallery_module
from faceexplore.live.status import STALE_AFTER_S, LiveStatus, status_path, write_status
from faceexplore.settings import Settings, SettingsError, load_settings
from faceexplore.web.gallery import upload as upload_module
from tests.api_fixtures import log_in, make_app, private_site_fixtures
from tests.test_api_contract import CheckedClient, assert_error

URL = "/api/gallery/photos"


# each test may add photos: a gallery of its own
gallery, app, spec, visitor, organiser = private_site_fixtures("function")


def photo(colour=(200, 80, 40), fmt="JPEG", size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def send(api, *files, csrf=True, **kwargs):
    headers = kwargs.pop("headers", {"X-CSRF-Token": api.csrf} if csrf else {})
    data = {"photos": [(io.BytesIO(content), name) for content, name in files]}
    return api.post(URL, data=data, content_type="multipart/form-data", headers=headers, **kwargs)


def today_folder(gallery) -> Path:
    return Path(gallery.settings.gallery_dir) / time.strftime("uploads/%Y-%m-%d")


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# -- upload ------------------------------------------------------------------------------------
def test_the_organiser_uploads_two_photos_into_the_days_folder(organiser, gallery):
    red, blue = photo((200, 0, 0)), photo((0, 0, 200), fmt="PNG")
    r = send(organiser, (red, "IMG_0001.JPG"), (blue, "beach day.png"))
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    day = time.strftime("uploads/%Y-%m-%d")
    assert body["folder"] == day and body["saved"] == 2 and body["refused"] == 0
    assert [(p["filename"], p["path"], p["error"]) for p in body["photos"]] == [
        ("IMG_0001.JPG", f"{day}/IMG_0001.jpg", None),
        ("beach day.png", f"{day}/beach day.png", None),
    ]
    folder = today_folder(gallery)
    assert files_in(folder) == ["IMG_0001.jpg", "beach day.png"]  # no temporary file left behind
    assert (folder / "IMG_0001.jpg").read_bytes() == red and (folder / "beach day.png").read_bytes() == blue
    assert (folder / "IMG_0001.jpg").stat().st_mode & 0o644 == 0o644
    # the gallery scan (what the watcher and `faceexplore index` read) finds them
    scanned = {f.path for f in gallery_module.scan_gallery(gallery.settings.gallery_dir)}
    assert {f"{day}/IMG_0001.jpg", f"{day}/beach day.png"} <= scanned


def test_a_visitor_is_refused_before_the_body_is_read(visitor, organiser, gallery, monkeypatch):
    """Nothing of a visitor's upload touches the disk (the organiser's is spooled to a file)."""
    files = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: files.append(a) or real(*a, **k))
    assert_error(send(visitor, (photo(), "me.jpg"), csrf=False), 401, "login_required")
    assert not today_folder(gallery).exists() and files == []
    assert send(organiser, (photo(), "me.jpg")).status_code == 200 and len(files) == 1


def test_without_the_csrf_token_nothing_is_saved(organiser, gallery):
    assert_error(send(organiser, (photo(), "a.jpg"), csrf=False), 403, "csrf_failed")
    r = send(organiser, (photo(), "a.jpg"), csrf=False, headers={"X-CSRF-Token": organiser.csrf[:-2] + "xx"})
    assert_error(r, 403, "csrf_failed")
    assert files_in(today_folder(gallery)) == []


def test_a_file_that_is_not_a_photo_is_refused_and_the_others_kept(organiser, gallery):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    r = send(
        organiser,
        (b"%PDF-1.4 not a photo", "notes.jpg"),
        (photo(), "good.jpg"),
        (gif.getvalue(), "anim.gif"),
        (photo()[:40], "cut.jpg"),  # only the start of a JPEG header
    )
    assert r.status_code == 200
    body = r.get_json()
    assert (body["saved"], body["refused"]) == (1, 3)
    codes = [(p["filename"], p["path"] is None, p["error"] and p["error"]["code"]) for p in body["photos"]]
    assert codes == [
        ("notes.jpg", True, "not_an_image"),
        ("good.jpg", False, None),
        ("anim.gif", True, "not_an_image"),
        ("cut.jpg", True, "not_an_image"),
    ]
    assert "notes.jpg" in body["photos"][0]["error"]["message"]
    assert files_in(today_folder(gallery)) == ["good.jpg"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photo_cut_short_is_refused_and_nothing_kept(organiser, gallery, fmt):
    import numpy as np

    noise = np.random.default_rng(1).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, fmt)
    whole = buf.getvalue()
    body = send(organiser, (whole[: len(whole) // 3], "cut.jpg"), (whole, "whole.jpg")).get_json()
    cut, kept = body["photos"]
    assert cut["path"] is None and cut["error"]["code"] == "not_an_image"
    assert "cut.jpg" in cut["error"]["message"]
    if fmt != "WEBP":  # (a WebP cut short has no readable header: refused as not a photo)
        assert "cut short" in cut["error"]["message"]
    assert kept["error"] is None and (body["saved"], body["refused"]) == (1, 1)
    folder = today_folder(gallery)
    assert [name for name in files_in(folder) if not name.startswith("whole")] == []  # no part file left either


def test_a_form_of_too_many_parts_names_the_photos_field(organiser):
    data = {"photos": [(io.BytesIO(photo()), "a.jpg")], **{f"extra{i}": "x" for i in range(1100)}}
    r = organiser.post(URL, data=data, content_type="multipart/form-data", headers={"X-CSRF-Token": organiser.csrf})
    message = assert_error(r, 413, "too_many_parts")
    assert "'photos'" in message and "'images'" not in message


def test_a_photo_with_too_many_pixels_is_refused_unread(organiser, gallery):
    from tests.web_conftest import decompression_bomb_png

    body = send(organiser, (decompression_bomb_png(), "huge.png"), (photo(), "fine.jpg")).get_json()
    assert [p["error"] and p["error"]["code"] for p in body["photos"]] == ["too_large_image", None]
    assert files_in(today_folder(gallery)) == ["fine.jpg"]


def test_a_taken_name_gets_a_suffix_and_nothing_is_overwritten(organiser, gallery):
    first, second, third = photo((10, 10, 10)), photo((20, 20, 20)), photo((30, 30, 30))
    send(organiser, (first, "party.jpg"))
    body = send(organiser, (second, "party.jpg"), (third, "PARTY.JPEG")).get_json()
    names = [p["path"].rsplit("/", 1)[1] for p in body["photos"]]
    assert names == ["party-2.jpg", "PARTY.jpeg"]
    folder = today_folder(gallery)
    assert (folder / "party.jpg").read_bytes() == first and (folder / "party-2.jpg").read_bytes() == second
    assert send(organiser, (third, "party.jpg")).get_json()["photos"][0]["path"].endswith("/party-3.jpg")


@pytest.mark.parametrize(
    "sent,saved",
    [
        ("../../escape.jpg", "escape.jpg"),
        ("..\\..\\windows.jpg", "windows.jpg"),
        ("/etc/passwd.jpg", "passwd.jpg"),
        (".hidden.jpg", "hidden.jpg"),  # a dot-file would be skipped by the gallery scan
        ("..", "photo.jpg"),
        ("", "photo.jpg"),
        ("a\x00b\x07c?.jpg", "a_b_c.jpg"),
        ("a\x85b\x9bc.jpg", "a_b_c.jpg"),  # C1 controls
        ("  spaced   out  .JPG", "spaced out.jpg"),
        ("été à Paris.jpeg", "été à Paris.jpeg"),
        ("no suffix", "no suffix.jpg"),
        ("wrong.png", "wrong.jpg"),  # a JPEG named .png gets its format's suffix
        ("script.html", "script.jpg"),
        ("photo\u202egpj.exe", "photogpj.jpg"),  # a right-to-left override: would read "photoexe.jpg"
        ("\u2066a\u2069\u200eb\u200f\u202ac\u202c\u2028d\u00ad.jpg", "abcd.jpg"),  # isolates, marks, embeddings, separators
    ],
)
def test_file_names_are_made_safe(organiser, gallery, sent, saved):
    body = send(organiser, (photo(), sent)).get_json()
    assert body["saved"] == 1, body
    assert body["photos"][0]["path"] == f"{body['folder']}/{saved}"
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl") for c in body["photos"][0]["filename"])  # nor in the answer
    folder = today_folder(gallery)
    assert files_in(folder) == [saved]
    assert not (Path(gallery.settings.gallery_dir).parent / "escape.jpg").exists()


def test_a_read_only_gallery_is_a_clear_json_error(organiser, gallery, monkeypatch):
    root = Path(gallery.settings.gallery_dir)
    root.chmod(0o555)
    if os.geteuid() == 0:  # root writes anyway: make os.access answer as for a read-only mount
        real_access = os.access
        monkeypatch.setattr(upload_module.os, "access", lambda p, mode, **k: False if mode & os.W_OK else real_access(p, mode, **k))
    try:
        message = assert_error(send(organiser, (photo(), "a.jpg")), 503, "gallery_read_only")
        assert "writable gallery" in message and str(root) not in message
        assert not today_folder(gallery).exists()
    finally:
        root.chmod(0o755)


def test_uploads_off_and_a_body_that_is_not_multipart(gallery, spec):
    api = CheckedClient(make_app(gallery, uploads="off").test_client(), spec)
    api.csrf = log_in(api.client, gallery.settings)
    assert_error(send(api, (photo(), "a.jpg")), 403, "uploads_off")
    assert api.get("/api/status").get_json()["uploads"] is False
    on = CheckedClient(make_app(gallery).test_client(), spec)
    on.csrf = log_in(on.client, gallery.settings)
    assert on.get("/api/status").get_json()["uploads"] is True
    assert_error(on.post(URL, json={"photos": []}, headers={"X-CSRF-Token": on.csrf}), 415, "unsupported_media_type")
    assert_error(on.post(URL, data={}, content_type="multipart/form-data", headers={"X-CSRF-Token": on.csrf}), 400, "no_file")


def test_the_upload_limit_is_its_own_not_the_search_upload_limit(gallery, spec):
    """max_upload_mb (searches, kept in memory) does not bound the organiser's upload;
    max_gallery_upload_mb does."""
    big = photo(size=(1200, 900)) + b"\0" * (2 * 1024 * 1024)  # a JPEG with 2 MB of trailing bytes
    api = CheckedClient(make_app(gallery, max_upload_mb=1, max_gallery_upload_mb=5).test_client(), spec)
    api.csrf = log_in(api.client, gallery.settings)
    assert send(api, (big, "big.jpg")).get_json()["saved"] == 1
    message = assert_error(send(api, (big, "a.jpg"), (big, "b.jpg"), (big, "c.jpg")), 413, "too_large")
    assert "5 MB" in message
    assert files_in(today_folder(gallery)) == ["big.jpg"]


def test_the_upload_folder_setting_names_a_folder_inside_the_gallery(gallery, spec, tmp_path):
    api = CheckedClient(make_app(gallery, upload_folder="event/%Y").test_client(), spec)
    api.csrf = log_in(api.client, gallery.settings)
    body = send(api, (photo(), "x.jpg")).get_json()
    assert body["photos"][0]["path"] == time.strftime("event/%Y") + "/x.jpg"
    for bad in ("../outside", "/srv/photos", ".hidden/%Y", "a/../../b", "", "up%nloads"):
        with pytest.raises(SettingsError, match="upload_folder"):
            load_settings({"upload_folder": bad}, env={})
    assert Settings().upload_folder == "uploads/%Y-%m-%d"


def test_an_upload_folder_that_is_a_link_out_of_the_gallery_is_refused(organiser, gallery, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (Path(gallery.settings.gallery_dir) / "uploads").symlink_to(outside)
    assert_error(send(organiser, (photo(), "a.jpg")), 503, "gallery_read_only")
    assert list(outside.iterdir()) == []


def test_the_file_is_written_under_a_hidden_name_then_linked(organiser, gallery, monkeypatch):
    """While a photo is written, only a dot-file (skipped by the gallery scan) exists; its name
    appears in one step, whole."""
    seen = []
    real_link = os.link

    def watching_link(src, dst, *a, **k):
        seen.append((Path(src).name, files_in(Path(dst).parent), gallery_module.scan_gallery(gallery.settings.gallery_dir)))
        return real_link(src, dst, *a, **k)

    monkeypatch.setattr(upload_module.os, "link", watching_link)
    data = photo()
    send(organiser, (data, "a.jpg"))
    (tmp_name, present, scanned) = seen[0]
    assert tmp_name.startswith(".") and present == [tmp_name]
    assert not any(f.path.endswith(tmp_name) for f in scanned)
    assert files_in(today_folder(gallery)) == ["a.jpg"] and (today_folder(gallery) / "a.jpg").read_bytes() == data


# -- status ------------------------------------------------------------------------------------
LIVE_FIELDS = {
    "watching",
    "adding",
    "last_indexed_at",
    "waiting",
    "indexing",
    "last_change_at",
    "reclustering",
    "last_reclustered_at",
    "updated_at",
    "recent_errors",
    "message",
}


def write_live(gallery, **fields):
    write_status(gallery.settings.data_dir, LiveStatus(watching=True, **fields))


def test_status_without_a_watcher_has_no_live_object(visitor, organiser):
    assert visitor.get("/api/status").get_json()["live"] is None
    assert organiser.get("/api/status").get_json()["live"] is None


def test_status_of_a_running_watcher_for_visitors_and_the_organiser(visitor, organiser, gallery):
    now = time.time()
    write_live(
        gallery,
        waiting=9,
        indexing=3,
        last_change_at=now - 5,
        last_indexed_at=1_780_000_000,
        reclustering=True,
        last_reclustered_at=now - 600,
        recent_errors=2,
        message="cannot read uploads/secret-name.jpg",
    )
    seen = visitor.get("/api/status").get_json()["live"]
    full = organiser.get("/api/status").get_json()["live"]
    assert set(seen) == set(full) == LIVE_FIELDS
    assert seen == {
        **dict.fromkeys(LIVE_FIELDS),
        "watching": True,
        "adding": 12,
        "last_indexed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_780_000_000)),
    }
    assert "secret-name" not in visitor.get("/api/status").get_data(as_text=True)
    assert full["waiting"] == 9 and full["indexing"] == 3 and full["adding"] == 12 and full["reclustering"] is True
    assert full["recent_errors"] == 2 and full["message"] == "cannot read uploads/secret-name.jpg"
    assert full["last_indexed_at"] == seen["last_indexed_at"] and full["last_change_at"].endswith("Z")


def test_status_of_a_stopped_watcher(visitor, organiser, gallery):
    data_dir = gallery.settings.data_dir
    write_live(gallery, waiting=4, last_indexed_at=1_780_000_000)
    path = status_path(data_dir)
    old = time.time() - STALE_AFTER_S - 60
    path.write_text(path.read_text().replace('"updated_at": ', f'"updated_at": {old}, "_was": '))
    assert visitor.get("/api/status").get_json()["live"] is None  # nothing to show a visitor
    full = organiser.get("/api/status").get_json()["live"]
    assert full["watching"] is False and full["waiting"] == 4 and full["updated_at"] is not None


def test_a_damaged_status_file_is_as_none(visitor, organiser, gallery):
    status_path(gallery.settings.data_dir).write_text('{"watching": true, "updated_at": "soon", "waiting": "many"}')
    assert organiser.get("/api/status").get_json()["live"] is None
    status_path(gallery.settings.data_dir).write_text("{not json")
    assert visitor.get("/api/status").get_json()["live"] is None


def test_status_counts_stay_visitor_safe_with_a_watcher(visitor, organiser, gallery):
    write_live(gallery, waiting=1)
    seen = visitor.get("/api/status").get_json()
    assert seen["uploads"] is None and seen["errors"] is None and seen["model"] is None
    assert organiser.get("/api/status").get_json()["uploads"] is True
