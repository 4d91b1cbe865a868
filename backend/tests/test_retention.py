"""Retention (faceexplore/index/retention.py): `faceexplore purge` erases exactly what it says (every
face's embedding, with the bytes gone from the index file, face crops and thumbnails, people's
names, saved searches, removals' embeddings), never the gallery's photos, and the search closes.
On the synthetic gallery, through the CLI and the Flask test client."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from faceexplore import cli
from faceexplore.index.store import FaceIndex
from faceexplore.site.store import site_path
from tests.api_fixtures import sample_photo
from tests.test_api_contract import assert_error, search
from tests.test_api_removals import _site, csrf, find, remove_me
from tests.test_api_saved import save


def _file_bytes(path: Path) -> bytes:
    """The database file with its WAL: whatever SQLite has written anywhere."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def purge(gallery, capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["--data", str(gallery.settings.data_dir), "purge", *args])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture()
def site(tmp_path):
    return _site(tmp_path)


def test_purge_now_erases_exactly_what_it_says_and_closes_the_search(site, capsys):
    gallery, _, organiser, visitor = site
    settings = gallery.settings
    answer = find(visitor)
    # what there is to erase: a name, face crops and thumbnails, a saved search, a removal
    person = answer["person_id"]
    assert organiser.patch(f"/api/people/{person}", json={"name": "Ada Lovelace"}, **csrf(organiser)).status_code == 200
    assert visitor.client.get(answer["photos"][0]["thumbnail_url"]).status_code == 200
    offered = find(visitor, 4)
    with FaceIndex(settings.index_path, readonly=True) as index:
        _, _, X, _ = index.embeddings()
    for person_shown in organiser.get("/api/people").get_json()["people"]:
        assert organiser.client.get(person_shown["cover_url"]).status_code == 200
    link = save(visitor, answer)
    remove_me(visitor, offered)
    with sqlite3.connect(site_path(settings.data_dir)) as db:
        [(removal_blob,)] = db.execute("SELECT embeddings FROM removals").fetchall()
    cached = [f for f in Path(settings.cache_dir).rglob("*.jpg")]
    assert cached and len(X) > 10
    index_bytes = _file_bytes(settings.index_path)
    assert all(x.tobytes() in index_bytes for x in X)  # the test's probe finds them before
    assert b"Ada Lovelace" in index_bytes and removal_blob[:64] in _file_bytes(site_path(settings.data_dir))
    photos_before = sorted(p.relative_to(settings.gallery_dir) for p in Path(settings.gallery_dir).rglob("*") if p.is_file())

    code, out = purge(gallery, capsys, "--now")
    assert code == 0, out
    assert f"{len(X)} face embeddings erased" in out and "1 people's names erased" in out
    assert "1 saved searches erased" in out and "1 removals' embeddings erased" in out
    assert f"{len(cached)} face crops and thumbnails deleted" in out

    index_bytes = _file_bytes(settings.index_path)
    assert not any(x.tobytes() in index_bytes for x in X)  # no embedding left in the file
    assert not any(x[:16].tobytes() in index_bytes for x in X)
    assert b"Ada Lovelace" not in index_bytes
    assert removal_blob[:64] not in _file_bytes(site_path(settings.data_dir))
    assert not list(Path(settings.cache_dir).rglob("*.jpg"))
    with sqlite3.connect(site_path(settings.data_dir)) as db:
        assert db.execute("SELECT count(*) FROM saved_searches").fetchone()[0] == 0
    photos_after = sorted(p.relative_to(settings.gallery_dir) for p in Path(settings.gallery_dir).rglob("*") if p.is_file())
    assert photos_after == photos_before  # the gallery is the organiser's

    # the search is closed, plainly
    assert visitor.get("/api/status").get_json()["search_closed"] is True
    message = assert_error(search(visitor, (sample_photo([2]), "me.png")), 410, "search_closed")
    assert "closed" in message
    assert_error(visitor.get(f"/api/saved/{link['id']}"), 410, "search_closed")
    assert_error(visitor.post("/api/search/confirm", json={"token": "x" * 30}), 410, "search_closed")
    # nothing more is indexed into the purged data folder
    assert cli.main(["--data", str(settings.data_dir), "index", str(settings.gallery_dir)]) == 2
    assert "purged" in capsys.readouterr().err
    code, out = purge(gallery, capsys)
    assert code == 0 and "already purged" in out


def test_purge_waits_for_the_retention_then_erases(site, capsys):
    gallery, _, _, visitor = site
    settings = gallery.settings
    code, out = purge(gallery, capsys)
    assert code == 0 and "no retention is set" in out
    (Path(settings.data_dir) / "faceexplore.toml").write_text("retention_days = 2\n")
    code, out = purge(gallery, capsys)
    assert code == 0 and "nothing to purge yet" in out
    assert visitor.get("/api/status").get_json()["search_closed"] is False
    with FaceIndex(settings.index_path, readonly=True) as index:
        assert index.counts()["faces"] > 0
    # three days later
    with sqlite3.connect(site_path(settings.data_dir)) as db:
        db.execute("UPDATE retention SET value = ? WHERE key = 'started'", (repr(time.time() - 3 * 86400),))
    code, out = purge(gallery, capsys)
    assert code == 0 and "purged:" in out and "face embeddings erased" in out
    with FaceIndex(settings.index_path, readonly=True) as index:
        assert index.counts()["faces"] == 0
    assert visitor.get("/api/status").get_json()["search_closed"] is True


def test_the_watcher_purges_once_the_retention_has_passed_and_checks_once_a_day(site):
    from faceexplore.live.service import LiveIndexer

    gallery, _, _, visitor = site
    settings = gallery.settings.replace(retention_days=1)
    watcher = LiveIndexer.__new__(LiveIndexer)  # only its retention check: no models, no folder watch
    watcher.settings, messages = settings, []
    watcher._write = lambda **changes: messages.append(changes)
    assert watcher._retention_passed() is False  # day one: the clock starts now
    with sqlite3.connect(site_path(settings.data_dir)) as db:
        db.execute("UPDATE retention SET value = ? WHERE key = 'started'", (repr(time.time() - 2 * 86400),))
    assert watcher._retention_passed() is False  # checked less than a day ago
    watcher._next_retention_check = 0.0  # a day later
    assert watcher._retention_passed() is True
    assert "closed" in messages[-1]["message"]
    with FaceIndex(settings.index_path, readonly=True) as index:
        assert index.counts()["faces"] == 0
    assert visitor.get("/api/status").get_json()["search_closed"] is True
    with pytest.raises(ValueError, match="purged"):
        LiveIndexer.run(watcher)  # a purged data folder is never watched (indexed) again
