"""`faceexplore index`: incremental runs, bad files, model binding, and resuming a killed run."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import helpers
import numpy as np
import pillow_heif
import pytest

from faceexplore.cli import EXIT_BUSY
from faceexplore.index import worker
from faceexplore.index.gallery import filesystem_path, scan_gallery
from faceexplore.index.indexer import RemovalRefused, index_gallery
from faceexplore.index.locking import IndexBusy
from faceexplore.index.store import FaceIndex, ModelMismatch
from faceexplore.people.clustering import cluster_index
from faceexplore.settings import Settings


def _settings(tmp_path, gallery, **kw):
    return Settings(data_dir=tmp_path / "data", gallery_dir=gallery, index_workers=1, **kw)


def _faces_per_photo(settings):
    with FaceIndex(settings.index_path, readonly=True) as index:
        rows = index.db.execute(
            "SELECT p.path, p.status, COUNT(f.id) FROM photos p LEFT JOIN faces f ON f.photo_id = p.id GROUP BY p.id"
        ).fetchall()
        orphans = index.db.execute("SELECT COUNT(*) FROM faces WHERE photo_id NOT IN (SELECT id FROM photos)").fetchone()[0]
    assert orphans == 0
    return {path: (status, n) for path, status, n in rows}


def _summary(s):
    return {k: getattr(s, k) for k in ("scanned", "new", "changed", "removed", "unchanged", "processed", "faces")}


@pytest.fixture
def small_gallery(tmp_path):
    gallery = tmp_path / "gallery"
    (gallery / "sub").mkdir(parents=True)
    face = helpers.face_image()
    face.save(gallery / "a.jpg", quality=90)
    face.resize((256, 300)).save(gallery / "sub" / "b.png")
    helpers.landscape(640, 480).save(gallery / "c.jpg")
    return gallery


def test_incremental_runs_process_only_what_changed(small_gallery, tmp_path, reuse_pipeline):
    settings = _settings(tmp_path, small_gallery)
    first = index_gallery(settings, progress=False)
    assert _summary(first) == dict(scanned=3, new=3, changed=0, removed=0, unchanged=0, processed=3, faces=2)
    assert _faces_per_photo(settings) == {"a.jpg": ("ok", 1), "sub/b.png": ("ok", 1), "c.jpg": ("ok", 0)}

    again = index_gallery(settings, progress=False)
    assert _summary(again) == dict(scanned=3, new=0, changed=0, removed=0, unchanged=3, processed=0, faces=0)

    # touched (same bytes, new mtime): processed again, its face replaced, not duplicated
    st = os.stat(small_gallery / "a.jpg")
    os.utime(small_gallery / "a.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000_000))
    touched = index_gallery(settings, progress=False)
    assert (touched.changed, touched.processed, touched.unchanged, touched.new) == (1, 1, 2, 0)
    assert _faces_per_photo(settings)["a.jpg"] == ("ok", 1)

    # new content under the same name: the faces follow the content
    helpers.face_image().save(small_gallery / "c.jpg", quality=70)
    modified = index_gallery(settings, progress=False)
    assert (modified.changed, modified.processed, modified.faces) == (1, 1, 1)
    assert _faces_per_photo(settings)["c.jpg"] == ("ok", 1)

    # one added
    (small_gallery / "new" / "deeper").mkdir(parents=True)
    helpers.face_image().resize((300, 352)).save(small_gallery / "new" / "deeper" / "d.JPG")
    added = index_gallery(settings, progress=False)
    assert (added.new, added.changed, added.processed, added.unchanged) == (1, 0, 1, 3)
    assert _faces_per_photo(settings)["new/deeper/d.JPG"] == ("ok", 1)

    # one deleted: gone from the index with its faces
    with FaceIndex(settings.index_path, readonly=True) as index:
        faces_before = index.counts()["faces"]
    (small_gallery / "sub" / "b.png").unlink()
    removed = index_gallery(settings, progress=False)
    assert (removed.removed, removed.processed, removed.unchanged) == (1, 0, 3)
    per_photo = _faces_per_photo(settings)
    assert "sub/b.png" not in per_photo and len(per_photo) == 3
    with FaceIndex(settings.index_path, readonly=True) as index:
        assert index.counts()["faces"] == faces_before - 1
        assert len(index.embeddings()[0]) == faces_before - 1


def test_bad_files_are_recorded_and_the_run_goes_on(tmp_path, reuse_pipeline):
    gallery = tmp_path / "gallery"
    kinds = helpers.write_bad_files(gallery / "bad")
    helpers.face_image().save(gallery / "good.jpg", quality=90)
    helpers.face_image().resize((256, 300)).save(gallery / "zz-good.png")  # sorted after the bad ones
    settings = _settings(tmp_path, gallery)
    summary = index_gallery(settings, progress=False)
    assert summary.processed == len(kinds) + 2 and summary.faces == 2
    assert sorted(p for p, _ in summary.errors) == sorted(f"bad/{n}" for n in kinds)
    with FaceIndex(settings.index_path, readonly=True) as index:
        errors = {path: message for path, message in index.errors()}
        per_photo = _faces_per_photo(settings)
    for name, kind in kinds.items():
        assert per_photo[f"bad/{name}"] == ("error", 0), kind
        assert re.search(helpers.BAD_FILE_MESSAGES[name], errors[f"bad/{name}"]), (kind, errors[f"bad/{name}"])
    assert per_photo["good.jpg"] == ("ok", 1) and per_photo["zz-good.png"] == ("ok", 1)
    # a bad file is not retried until it changes
    assert index_gallery(settings, progress=False).processed == 0
    helpers.face_image().save(gallery / "bad" / "truncated.jpg", quality=90)  # the copy finished
    fixed = index_gallery(settings, progress=False)
    assert (fixed.changed, fixed.processed, fixed.faces, fixed.errors) == (1, 1, 1, [])
    assert _faces_per_photo(settings)["bad/truncated.jpg"] == ("ok", 1)


def test_an_unexpected_failure_on_one_photo_does_not_end_the_run(tmp_path, monkeypatch, pipeline):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        helpers.face_image().save(gallery / name)

    class Flaky:
        def analyse(self, path):
            if path.endswith("b.jpg"):
                raise RuntimeError("the GPU caught fire")
            return pipeline.analyse(path)

    monkeypatch.setattr(worker, "init_worker", lambda settings, threads: setattr(worker, "pipeline", Flaky()))
    settings = _settings(tmp_path, gallery)
    summary = index_gallery(settings, progress=False)
    assert summary.processed == 3 and summary.faces == 2
    assert summary.errors == [("b.jpg", "internal error: RuntimeError('the GPU caught fire')")]
    assert _faces_per_photo(settings) == {"a.jpg": ("ok", 1), "b.jpg": ("error", 0), "c.jpg": ("ok", 1)}


def test_an_index_refuses_another_model(small_gallery, tmp_path, reuse_pipeline):
    settings = _settings(tmp_path, small_gallery)
    index_gallery(settings, progress=False)
    before = _faces_per_photo(settings)
    onnx = tmp_path / "other.onnx"
    helpers.tiny_onnx_model(onnx)
    helpers.face_image().save(small_gallery / "new.jpg")
    other = _settings(tmp_path, small_gallery, model="onnx", onnx_model=str(onnx))
    with pytest.raises(ModelMismatch, match="(?i)re-index"):
        index_gallery(other, progress=False)
    assert _faces_per_photo(settings) == before  # nothing added, nothing removed
    with FaceIndex(settings.index_path, readonly=True) as index:
        assert index.meta("model") == "dlib-resnet-v1"


# -- a real run, killed and resumed --------------------------------------------------------------
def _committed_photos(db_path) -> int:
    if not db_path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0


def _reap_group(pgid, timeout=20):
    """Wait for every process of the group we started (the pool's workers) to end; kill the rest."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


@pytest.mark.shared_data("bbt")
def test_a_killed_run_resumes_to_the_same_index_as_an_uninterrupted_one(datasets, bbt_index, tmp_path):
    gallery, baseline_data, _ = bbt_index
    total = len(scan_gallery(gallery))
    assert total == 45
    data = tmp_path / "data"
    db_path = data / "index.sqlite3"
    command = helpers.cli_command("--data", data, "index", gallery, "--workers", 2, "--quiet")
    with open(tmp_path / "killed.log", "w") as log:
        proc = subprocess.Popen(command, cwd=tmp_path, env=helpers.cli_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and _committed_photos(db_path) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed:\n" + (tmp_path / "killed.log").read_text()
        assert _committed_photos(db_path) > 0, "no photo was committed within 240 s"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        workers_ended = _reap_group(proc.pid)
    assert workers_ended, "the pool's workers outlived their killed parent by 20 s"

    # what the killed run left is consistent: whole photos, each exactly as the full run has it
    baseline = helpers.index_contents(baseline_data / "index.sqlite3")
    partial = helpers.index_contents(db_path)
    assert 0 < len(partial) < total
    for path, (status, faces) in partial.items():
        assert status == baseline[path][0] and len(faces) == len(baseline[path][1]), path
    with FaceIndex(db_path) as index:
        assert index.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    resumed = helpers.run_cli("--data", data, "index", gallery, "--workers", 2, "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    done = len(partial)
    assert (
        f"{total} photos in the gallery: {total - done} new, 0 changed, 0 removed, {done} unchanged; {total - done} processed"
        in resumed.stdout
    )

    final = helpers.index_contents(db_path)
    assert set(final) == set(baseline)
    for path in sorted(baseline):
        (status, faces), (base_status, base_faces) = final[path], baseline[path]
        assert status == base_status == "ok", path
        assert len(faces) == len(base_faces), (path, len(faces), len(base_faces))
        for (box, emb), (base_box, base_emb) in zip(faces, base_faces):
            assert np.array_equal(np.round(box), np.round(base_box)) or np.abs(box - base_box).max() < 1.0, (path, box, base_box)
            assert float(emb @ base_emb) > 0.999, path


# -- names, formats, removals, retries -------------------------------------------------------------
def test_a_name_that_is_not_utf8_is_indexed_under_a_lossless_name(tmp_path, reuse_pipeline):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    helpers.face_image().save(gallery / "ok.jpg")
    latin_1 = os.path.join(os.fsencode(gallery), b"caf\xe9.jpg")  # copied from an old Latin-1 system
    with open(latin_1, "wb") as fh:
        fh.write(helpers.jpeg_bytes(helpers.face_image().resize((256, 300)), quality=90))
    settings = _settings(tmp_path, gallery)
    first = index_gallery(settings, progress=False)
    assert (first.processed, first.faces, first.errors) == (2, 2, [])
    assert _faces_per_photo(settings) == {"ok.jpg": ("ok", 1), "caf\ufffdE9.jpg": ("ok", 1)}
    with FaceIndex(settings.index_path, readonly=True) as index:
        row = next(r for r in index.photos() if r["path"] != "ok.jpg")
    assert os.fsencode(os.path.join(gallery, filesystem_path(row["path"]))) == latin_1
    assert (row["width"], row["height"]) == (256, 300)
    again = index_gallery(settings, progress=False)
    assert (again.unchanged, again.processed, again.removed) == (2, 0, 0)


def test_heic_photos_are_indexed(tmp_path, reuse_pipeline):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    pillow_heif.from_pillow(helpers.face_image()).save(gallery / "IMG_0001.HEIC", quality=90)
    settings = _settings(tmp_path, gallery)
    summary = index_gallery(settings, progress=False)
    assert (summary.processed, summary.faces, summary.errors) == (1, 1, [])
    assert _faces_per_photo(settings) == {"IMG_0001.HEIC": ("ok", 1)}


def test_an_empty_or_mostly_vanished_gallery_is_not_dropped_without_asking(small_gallery, tmp_path, reuse_pipeline):
    settings = _settings(tmp_path, small_gallery)
    index_gallery(settings, progress=False)
    before = _faces_per_photo(settings)
    away = tmp_path / "away"
    small_gallery.rename(away)
    small_gallery.mkdir()  # the mount point of a share that is not mounted: empty
    with pytest.raises(RemovalRefused, match=r"holds no photos, but the index holds 3.*--allow-removals"):
        index_gallery(settings, progress=False)
    assert _faces_per_photo(settings) == before
    # more than half gone: a mistyped or wrong folder
    small_gallery.rmdir()
    away.rename(small_gallery)
    (small_gallery / "a.jpg").unlink()
    (small_gallery / "sub" / "b.png").unlink()
    with pytest.raises(RemovalRefused, match=r"2 of the 3 indexed photos are no longer in the gallery folder"):
        index_gallery(settings, progress=False)
    assert _faces_per_photo(settings) == before
    allowed = index_gallery(settings, progress=False, allow_removals=True)
    assert (allowed.removed, allowed.unchanged) == (2, 1)
    assert _faces_per_photo(settings) == {"c.jpg": ("ok", 0)}


def test_a_removal_only_run_is_a_new_index_version(small_gallery, tmp_path, reuse_pipeline):
    settings = _settings(tmp_path, small_gallery)
    index_gallery(settings, progress=False)
    with FaceIndex(settings.index_path, readonly=True) as index:
        before = index.meta("last_indexed")
    (small_gallery / "sub" / "b.png").unlink()
    summary = index_gallery(settings, progress=False)
    assert (summary.removed, summary.processed) == (1, 0)
    with FaceIndex(settings.index_path, readonly=True) as index:
        assert index.meta("last_indexed") != before  # searchers reload on it and drop the face


def test_failed_photos_are_retried_when_they_change_or_when_asked(tmp_path, reuse_pipeline):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    good = helpers.jpeg_bytes(helpers.face_image(), quality=90)
    (gallery / "late.jpg").write_bytes(b"\0" * len(good))  # not readable yet
    (gallery / "changed.jpg").write_bytes(b"not a photo")
    settings = _settings(tmp_path, gallery)
    first = index_gallery(settings, progress=False)
    assert sorted(p for p, _ in first.errors) == ["changed.jpg", "late.jpg"]
    # fixed in place: same size, same time stamp (a restored backup, a decoder installed since)
    st = os.stat(gallery / "late.jpg")
    (gallery / "late.jpg").write_bytes(good)
    os.utime(gallery / "late.jpg", ns=(st.st_atime_ns, st.st_mtime_ns))
    (gallery / "changed.jpg").write_bytes(good)  # a new file: read again by itself
    plain = index_gallery(settings, progress=False)
    assert (plain.changed, plain.retried, plain.unchanged, plain.processed, plain.faces) == (1, 0, 1, 1, 1)
    assert _faces_per_photo(settings) == {"changed.jpg": ("ok", 1), "late.jpg": ("error", 0)}
    retried = index_gallery(settings, progress=False, retry_errors=True)
    assert (retried.retried, retried.unchanged, retried.processed, retried.faces, retried.errors) == (1, 1, 1, 1, [])
    assert _faces_per_photo(settings) == {"changed.jpg": ("ok", 1), "late.jpg": ("ok", 1)}
    assert index_gallery(settings, progress=False, retry_errors=True).processed == 0  # nothing failed any more


# -- one writer at a time --------------------------------------------------------------------------
LOCK_HOLDER = """
import sys
from faceexplore.index.locking import writer_lock
with writer_lock(sys.argv[1], "faceexplore index"):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def lock_holder(tmp_path):
    """Another process holding the writer lock of tmp_path/data's index until the test ends."""
    index_path = tmp_path / "data" / "index.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(index_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=helpers.cli_env(),
    )
    try:
        assert proc.stdout.readline() == "held\n"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_a_second_writer_is_told_who_holds_the_index(small_gallery, tmp_path, reuse_pipeline, lock_holder):
    settings = _settings(tmp_path, small_gallery)
    with pytest.raises(IndexBusy, match=rf"being written by process {lock_holder.pid} \(faceexplore index"):
        index_gallery(settings, progress=False)
    assert not settings.index_path.exists()  # refused before touching anything
    with FaceIndex(settings.index_path) as index, pytest.raises(IndexBusy, match=str(lock_holder.pid)):
        cluster_index(index)
    proc = helpers.run_cli("--data", tmp_path / "data", "index", small_gallery, "--quiet", cwd=tmp_path, timeout=120)
    assert proc.returncode == EXIT_BUSY, (proc.stdout, proc.stderr)
    assert f"process {lock_holder.pid}" in proc.stderr and "one writer at a time" in proc.stderr and "Traceback" not in proc.stderr
    lock_holder.stdin.close()
    lock_holder.wait(timeout=30)
    assert index_gallery(settings, progress=False).processed == 3  # free again once the holder ends
