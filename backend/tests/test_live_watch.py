"""The live gallery's watcher (`faceexplore watch`): photos copied into the gallery folder become
searchable, deleted ones leave the results with their cached pictures, half-copied files wait,
a burst of a thousand files is indexed once each, and a gallery folder that goes away and comes
back loses nothing.

The service runs in a thread of the test (``LiveIndexer.run``); the real models on bbt group
photos where the search matters, the fake pipeline of api_fixtures elsewhere."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_fixtures import DIM, MODEL, FakePipeline, people_centres
from PIL import Image

from faceexplore.cli import EXIT_BUSY, main
from faceexplore.index.cache import face_path, generation, thumbnail_path
from faceexplore.index.locking import IndexBusy
from faceexplore.index.store import FaceIndex
from faceexplore.live.service import LiveIndexer
from faceexplore.live.status import read_status
from faceexplore.live.watcher import GalleryWatcher
from faceexplore.settings import Settings

WAIT_S = 45  # the longest any condition is waited for (a loaded machine); never reached when all is well


@dataclass
class NoDrift:
    should_recluster: bool = False
    reason: str = "the fake never drifts"


def no_drift(index, refit=True):
    return NoDrift()


class CountingAssign:
    """Stands in for assignment.assign_new_faces (tests/test_live_assignment.py tests it)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, index):
        self.calls += 1


def wait_until(condition, what: str, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting ({timeout:g} s) for {what}")


def tiny_jpeg(seed: int) -> bytes:
    img = Image.new("RGB", (32, 24), (seed % 256, (seed // 256) % 256, 90))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


def fake_settings(tmp_path: Path, **changes) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", gallery_dir=tmp_path / "gallery", frontend_dir="", **changes)
    Path(settings.gallery_dir).mkdir(parents=True, exist_ok=True)
    with FaceIndex(settings.index_path) as index:
        index.check_model(MODEL, DIM)
    return settings


@contextmanager
def running(service: LiveIndexer):
    """The service's loop in a thread; stopped (and checked to have ended cleanly) on leaving."""
    failure = []

    def target():
        try:
            service.run()
        except BaseException as exc:  # the test reports it
            failure.append(exc)

    thread = threading.Thread(target=target, name="live-indexer", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        service.stop()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the watcher did not stop"
    assert not failure, f"the watcher failed: {failure[0]!r}"


class ThreadFamily:
    """Every thread started (through ``threading.Thread.start``) while it is installed, with the
    thread that started it, so that a bound can count one thread's descendants only, not the
    threads other parts of the process start meanwhile (pools of numeric libraries, other
    tests' servers)."""

    def __init__(self, monkeypatch):
        self.parents: dict[threading.Thread, threading.Thread] = {}
        real_start = threading.Thread.start

        def start(thread, *args, **kwargs):
            self.parents[thread] = threading.current_thread()
            return real_start(thread, *args, **kwargs)

        monkeypatch.setattr(threading.Thread, "start", start)

    def descendants(self, root: threading.Thread) -> list[threading.Thread]:
        """The threads ``root`` started, and those they started, alive or not."""
        found = []
        for thread in list(self.parents):
            parent = self.parents.get(thread)
            while parent is not None and parent is not root:
                parent = self.parents.get(parent)
            if parent is root:
                found.append(thread)
        return found


def indexed(settings) -> dict[str, tuple[int, int, int]]:
    if not settings.index_path.exists():
        return {}
    try:
        with FaceIndex(settings.index_path, readonly=True) as index:
            return index.known_photos()
    except sqlite3.OperationalError:  # the watcher has created the file but not its tables yet
        return {}


# -- real models: copy in, search, delete -----------------------------------------------------
@pytest.mark.shared_data("bbt")
def test_photos_copied_in_are_found_and_a_deleted_one_leaves_results_and_cache(tmp_path, bbt_dir, pipeline):
    from faceexplore.search.service import SearchService

    settings = Settings(data_dir=tmp_path / "data", gallery_dir=tmp_path / "gallery", frontend_dir="", watch_settle_seconds=0.5)
    gallery = Path(settings.gallery_dir)
    gallery.mkdir()
    service = LiveIndexer(settings, pipeline=pipeline)  # the real join to people and drift check
    # leonard is in all five group photos (truth.json)
    copied = ["bbt1.jpg", "bbt2.jpg", "bbt3.jpg"]
    with running(service):
        for name in copied:
            shutil.copyfile(bbt_dir / "group" / name, gallery / name)
        wait_until(lambda: set(indexed(settings)) == set(copied), "the copied photos to be indexed")
        # the first clustering (none existed) runs in the background, then the faces are joined
        wait_until(lambda: read_status(settings.data_dir).last_reclustered_at is not None, "the first clustering")
        wait_until(lambda: service.status.waiting == 0 and not service._unassigned, "the faces to join people")

        sample = [("leonard1.png", (bbt_dir / "people/leonard/leonard1.png").read_bytes(), None)]

        def found_paths():
            outcome = SearchService(settings, pipeline=pipeline).search(sample)
            return {p.path for p in outcome.photos} if outcome.found else set()

        assert found_paths() == set(copied)

        with FaceIndex(settings.index_path, readonly=True) as index:
            ids = {path: pid for pid, path in index.all_photo_paths().items()}
            gone_faces = [f.face.id for f in index.faces_with_people(ids["bbt2.jpg"])]
            kept_faces = [f.face.id for f in index.faces_with_people(ids["bbt1.jpg"])]
            current = generation(index)
        assert gone_faces and kept_faces
        # the web app's cached pictures of two photos (what it writes on a miss)
        cached = {
            "gone": [thumbnail_path(settings.cache_dir, current, 240, ids["bbt2.jpg"])]
            + [face_path(settings.cache_dir, current, 160, f) for f in gone_faces],
            "kept": [thumbnail_path(settings.cache_dir, current, 240, ids["bbt1.jpg"])]
            + [face_path(settings.cache_dir, current, 160, f) for f in kept_faces],
        }
        for file in cached["gone"] + cached["kept"]:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(b"jpeg")

        (gallery / "bbt2.jpg").unlink()
        wait_until(lambda: set(indexed(settings)) == {"bbt1.jpg", "bbt3.jpg"}, "the deleted photo to leave the index")
        assert found_paths() == {"bbt1.jpg", "bbt3.jpg"}
        assert not any(f.exists() for f in cached["gone"])
        assert all(f.exists() for f in cached["kept"])
    assert read_status(settings.data_dir).watching is False  # it said it stopped


# -- settling ---------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_half_written_photo_is_handed_on_only_once_it_stopped_growing(tmp_path):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    clock = FakeClock()
    watcher = GalleryWatcher(gallery, settle_s=1.0, rescan_s=3600, clock=clock)  # events off: only polls
    photo = tiny_jpeg(1) * 50  # a JPEG followed by bytes: any content, what counts is its growth
    half = len(photo) // 2
    target = gallery / "arriving.jpg"
    with open(target, "wb") as fh:
        fh.write(photo[:half])
        fh.flush()
        assert watcher.poll({}).ready == []  # seen (by the first walk), not settled
        clock.now += 0.6
        assert watcher.poll({}).ready == []
        fh.write(photo[half:])  # the rest, 0.6 s later: the settle time starts again
        fh.flush()
        os.utime(target, ns=(time.time_ns(), time.time_ns() + 10_000_000))  # a coarse clock might not move mtime
        watcher._touch([str(target)])
        clock.now += 0.6  # 1.2 s since the first write, 0.6 s since the last
        changes = watcher.poll({})
        assert changes.ready == [] and changes.waiting == 1
    clock.now += 1.0
    changes = watcher.poll({})
    assert [(f.path, f.size) for f in changes.ready] == [("arriving.jpg", len(photo))]
    # handed on once: as indexed now, it is not handed again
    known = {"arriving.jpg": (changes.ready[0].size, changes.ready[0].mtime_ns)}
    watcher.request_rescan()
    clock.now += 5
    assert watcher.poll(known).ready == []


def test_hidden_and_temporary_names_are_ignored_like_the_scan_does(tmp_path):
    gallery = tmp_path / "gallery"
    (gallery / ".thumbs").mkdir(parents=True)
    clock = FakeClock()
    watcher = GalleryWatcher(gallery, settle_s=0.5, rescan_s=3600, clock=clock)
    for name in (".part.jpg", ".thumbs/a.jpg", "notes.txt", "photo.jpg.crdownload", "ok.JPG"):
        (gallery / name).write_bytes(tiny_jpeg(2))
        watcher._touch([str(gallery / name)])
    watcher.poll({})
    clock.now += 1
    assert [f.path for f in watcher.poll({}).ready] == ["ok.JPG"]


def test_the_service_never_reads_a_photo_that_is_still_being_written(tmp_path):
    settings = fake_settings(tmp_path, watch_settle_seconds=1.0)
    gallery = Path(settings.gallery_dir)
    fake = FakePipeline(people_centres())
    service = LiveIndexer(settings, pipeline=fake, assign=CountingAssign(), drift=no_drift)
    photo = tiny_jpeg(3)
    with running(service):
        with open(gallery / "slow.jpg", "wb") as fh:
            for k in range(4):  # a quarter every 0.3 s: never still for the settle second
                fh.write(photo[k * len(photo) // 4 : (k + 1) * len(photo) // 4])
                fh.flush()
                time.sleep(0.3)
                assert "slow.jpg" not in indexed(settings)
        wait_until(lambda: "slow.jpg" in indexed(settings), "the complete photo to be indexed")
    with FaceIndex(settings.index_path, readonly=True) as index:
        row = index.photo(index.known_photos()["slow.jpg"][0])
    assert (row["size"], row["status"]) == (len(photo), "ok")
    assert service.indexed_paths == ["slow.jpg"]


# -- bursts -----------------------------------------------------------------------------------
def test_a_burst_of_a_thousand_photos_is_indexed_once_each_without_a_thread_per_file(tmp_path, monkeypatch):
    settings = fake_settings(tmp_path, watch_settle_seconds=0.5)
    gallery = Path(settings.gallery_dir)
    fake = FakePipeline(people_centres())
    assign = CountingAssign()
    service = LiveIndexer(settings, pipeline=fake, assign=assign, drift=no_drift)
    names = [f"burst/{k // 100:02d}/{k:04d}.jpg" for k in range(1000)]
    family = ThreadFamily(monkeypatch)
    most_alive = 0
    with running(service) as loop:

        def count_alive():
            nonlocal most_alive
            most_alive = max(most_alive, sum(t.is_alive() for t in family.descendants(loop)))

        wait_until(lambda: service.status.message is None and service._watcher is not None, "the watcher to start")
        for k, name in enumerate(names):
            file = gallery / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(tiny_jpeg(k))
            count_alive()

        def all_in():
            count_alive()
            return len(indexed(settings)) == len(names)

        wait_until(all_in, "the burst to be indexed", timeout=90)
        started = family.descendants(loop)
    assert set(indexed(settings)) == set(names)
    assert sorted(service.indexed_paths) == sorted(names)  # none twice
    assert fake.calls == len(names)
    # the loop's heartbeat and watchdog's few (observer, emitter, dispatcher), however many files
    # arrive: counted among the threads the loop's thread started, directly or not, ever and at once
    assert len(started) <= 5, [t.name for t in started]
    assert most_alive <= 5
    assert assign.calls == 0  # no clustering exists (fake faces are none): nothing to join to


# -- the gallery folder going away ------------------------------------------------------------
def test_a_gallery_folder_renamed_away_and_back_drops_no_photo(tmp_path):
    settings = fake_settings(tmp_path, watch_settle_seconds=0.3, watch_rescan_seconds=5)
    gallery = Path(settings.gallery_dir)
    for k in range(3):
        (gallery / f"p{k}.jpg").write_bytes(tiny_jpeg(k))
    service = LiveIndexer(settings, pipeline=FakePipeline(people_centres()), assign=CountingAssign(), drift=no_drift)
    with running(service) as thread:
        wait_until(lambda: len(indexed(settings)) == 3, "the first photos")
        away = tmp_path / "gallery.away"
        gallery.rename(away)
        wait_until(lambda: "missing" in (read_status(settings.data_dir).message or ""), "the missing folder to be reported")
        (away / "p3.jpg").write_bytes(tiny_jpeg(3))  # a photo added meanwhile
        time.sleep(1.0)  # several polls and settle times with the folder away
        assert len(indexed(settings)) == 3
        away.rename(gallery)
        wait_until(lambda: len(indexed(settings)) == 4, "the photo added while the folder was away")
        wait_until(lambda: read_status(settings.data_dir).message is None, "the message to clear")
        assert thread.is_alive()
        # deleted and made again (a new folder): watched again
        shutil.rmtree(gallery)
        wait_until(lambda: "missing" in (service.status.message or "") or "no photos" in (service.status.message or ""), "gone")
        assert len(indexed(settings)) == 4
        gallery.mkdir()
        for k in range(5):
            (gallery / f"p{k}.jpg").write_bytes(tiny_jpeg(k + 10))  # changed contents

        def as_on_disk():
            return {p: (s, m) for p, (_, s, m) in indexed(settings).items()} == {
                f.name: (f.stat().st_size, f.stat().st_mtime_ns) for f in gallery.iterdir()
            }

        wait_until(as_on_disk, "the new folder's photos")
    assert set(indexed(settings)) == {f"p{k}.jpg" for k in range(5)}


def test_a_second_watcher_or_an_index_run_beside_one_is_refused(tmp_path):
    settings = fake_settings(tmp_path)
    service = LiveIndexer(settings, pipeline=FakePipeline(people_centres()), assign=CountingAssign(), drift=no_drift)
    with running(service):
        wait_until(lambda: read_status(settings.data_dir) is not None, "the first status")
        second = LiveIndexer(settings, pipeline=FakePipeline(people_centres()), assign=CountingAssign(), drift=no_drift)
        with pytest.raises(IndexBusy, match="faceexplore watch"):
            second.run()
        assert main(["--data", str(settings.data_dir), "index", str(settings.gallery_dir), "--quiet"]) == EXIT_BUSY
        assert main(["--data", str(settings.data_dir), "watch", str(settings.gallery_dir)]) == EXIT_BUSY


def test_the_status_file_says_what_the_watcher_does(tmp_path):
    settings = fake_settings(tmp_path, watch_settle_seconds=0.3)
    service = LiveIndexer(settings, pipeline=FakePipeline(people_centres()), assign=CountingAssign(), drift=no_drift)
    with running(service):
        wait_until(lambda: read_status(settings.data_dir) is not None, "the first status")
        status = read_status(settings.data_dir)
        assert status.watching and status.last_indexed_at is None
        (Path(settings.gallery_dir) / "broken.jpg").write_bytes(b"\xff\xd8 not a JPEG")
        wait_until(lambda: read_status(settings.data_dir).recent_errors == 1, "the unreadable photo to be counted")
        status = read_status(settings.data_dir)
        assert status.last_indexed_at is not None and status.last_change_at is not None
        assert status.indexing == 0 and not status.reclustering
        wait_until(lambda: read_status(settings.data_dir).waiting == 0, "nothing left waiting")


# -- the command line -------------------------------------------------------------------------
def test_serve_watch_runs_the_watcher_beside_the_server_and_stops_it_with_it(tmp_path, monkeypatch):
    """`serve --watch`: `faceexplore watch` starts as a child process (the real command, real
    models) and is stopped (SIGTERM, graceful: it says so in its status) when the server ends."""
    import faceexplore.web.server as server

    data, gallery = tmp_path / "data", tmp_path / "gallery"
    gallery.mkdir()
    seen = {}

    def fake_server(settings, host, port):  # stands in for gunicorn: runs until the watcher is up
        wait_until(lambda: getattr(read_status(data), "watching", False), "the watcher's first status", timeout=120)
        seen["status"] = read_status(data)

    monkeypatch.setattr(server, "run_server", fake_server)
    assert main(["--data", str(data), "serve", str(gallery), "--watch"]) == 0
    assert seen["status"].watching
    stopped = read_status(data)
    assert stopped.watching is False and stopped.message == "the watcher has stopped"


def test_a_link_to_a_photo_outside_the_gallery_is_ignored_like_the_scan_does(tmp_path):
    gallery, outside = tmp_path / "gallery", tmp_path / "outside.jpg"
    gallery.mkdir()
    outside.write_bytes(tiny_jpeg(4))
    (gallery / "inside.jpg").write_bytes(tiny_jpeg(5))
    (gallery / "outside.jpg").symlink_to(outside)
    (gallery / "again.jpg").symlink_to(gallery / "inside.jpg")
    clock = FakeClock()
    watcher = GalleryWatcher(gallery, settle_s=0.5, rescan_s=3600, clock=clock)
    watcher._touch([str(gallery / name) for name in ("outside.jpg", "again.jpg", "inside.jpg")])
    watcher.poll({})
    clock.now += 1
    assert sorted(f.path for f in watcher.poll({}).ready) == ["again.jpg", "inside.jpg"]


@pytest.mark.shared_data("bbt")
def test_a_backlog_at_start_is_indexed_like_index_does_then_watched(tmp_path, bbt_dir, monkeypatch):
    """The start-up backlog (photos that came while no watcher ran) goes through the indexer's
    own run; then the watcher loads its models and goes on. Everything default: no fakes."""
    import faceexplore.live.service as service_module

    monkeypatch.setattr(service_module, "POOL_BACKLOG", 1)
    settings = Settings(data_dir=tmp_path / "data", gallery_dir=tmp_path / "gallery", frontend_dir="", index_workers=1)
    gallery = Path(settings.gallery_dir)
    gallery.mkdir()
    shutil.copyfile(bbt_dir / "group" / "bbt2.jpg", gallery / "bbt2.jpg")
    service = LiveIndexer(settings)
    with running(service):
        wait_until(lambda: set(indexed(settings)) == {"bbt2.jpg"}, "the backlog", timeout=120)
        wait_until(lambda: read_status(settings.data_dir).last_reclustered_at is not None, "the first clustering", timeout=120)
        shutil.copyfile(bbt_dir / "group" / "bbt5.jpg", gallery / "bbt5.jpg")
        wait_until(lambda: "bbt5.jpg" in indexed(settings), "a photo after the backlog", timeout=120)
    assert service.indexed_paths == ["bbt5.jpg"]  # the backlog went through the indexer's run
    with FaceIndex(settings.index_path, readonly=True) as index:
        counts = index.counts()
    assert counts["model"].startswith("dlib") and counts["photos_with_faces"] == 2 and counts["people"]
