"""kill -9 in the middle of `faceexplore index` and `faceexplore cluster`: the next run completes,
SQLite's integrity check passes, and a reader polling the index throughout (as the web API does)
never sees a half-written clustering: the active clustering's memberships, its clusters' sizes
and the face count it records always agree.

`index` runs the real models over a tiny generated gallery (small detect_size, one worker);
`cluster` runs over a synthetic index of random embeddings (no models), big enough that a run
lasts long enough to be killed at several points, one of them while it writes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import helpers
import numpy as np
import pytest

from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord

FAST = {"FACEEXPLORE_DETECT_SIZE": "480", "FACEEXPLORE_INDEX_WORKERS": "1", "OMP_NUM_THREADS": "1"}


class ClusteringReader(threading.Thread):
    """Polls the index like the web API: one read transaction at a time, each checking that the
    active clustering is whole. Records every inconsistency it sees."""

    def __init__(self, db_path: Path):
        super().__init__(daemon=True)
        self.db_path = db_path
        self.stop = threading.Event()
        self.reads = 0  # snapshots that held an active clustering
        self.problems: list[str] = []
        self.seen_ids: set[int] = set()

    def run(self):
        while not self.stop.is_set():
            try:
                self._check_once()
            except sqlite3.OperationalError:  # not created yet, or busy for longer than the timeout
                pass
            time.sleep(0.01)

    def _check_once(self):
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=2, isolation_level=None)
        try:
            db.execute("BEGIN")  # one snapshot for all the queries below
            row = db.execute("SELECT value FROM meta WHERE key = 'active_clustering'").fetchone()
            if row is None:
                return
            cid = int(row[0])
            clustering = db.execute("SELECT details FROM clusterings WHERE id = ?", (cid,)).fetchone()
            if clustering is None:
                self.problems.append(f"active clustering {cid} does not exist")
                return
            details = json.loads(clustering[0])
            members = db.execute("SELECT COUNT(*) FROM memberships WHERE clustering_id = ?", (cid,)).fetchone()[0]
            clusters, sized = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(face_count), 0) FROM clusters WHERE clustering_id = ?", (cid,)
            ).fetchone()
            labels = db.execute("SELECT COUNT(DISTINCT cluster_id) FROM memberships WHERE clustering_id = ?", (cid,)).fetchone()[0]
            db.execute("COMMIT")
            if not (members == sized == details["faces"]) or clusters != details["clusters"] or labels != clusters:
                self.problems.append(
                    f"clustering {cid}: {members} memberships, cluster sizes add up to {sized}, {clusters} clusters "
                    f"({labels} among the memberships); it records {details['faces']} faces in {details['clusters']} clusters"
                )
            self.reads += 1
            self.seen_ids.add(cid)
        finally:
            db.close()

    def finish(self) -> None:
        self.stop.set()
        self.join(10)


def integrity(db_path: Path) -> tuple[str, list]:
    db = sqlite3.connect(db_path)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        return db.execute("PRAGMA integrity_check").fetchone()[0], db.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        db.close()


def start(args, log: Path, **env) -> subprocess.Popen:
    with open(log, "w") as fh:
        return subprocess.Popen(
            helpers.cli_command(*args), env=helpers.cli_env(**env), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL the run and everything it started (a pool's workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)


WRITE_KILL_TRIES = 5  # runs started to kill one the moment its write reaches the WAL


def wait_until(condition, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before it could be killed:\n{log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"not there after {timeout} s:\n{log.read_text()[-2000:]}"
        time.sleep(0.005)


def committed_photos(db_path: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


# ----------------------------------------------------------------------------------------------
# index


def make_gallery(folder: Path, photos: int) -> None:
    """Small photos, each with the portrait twice (two sizes) on its own background."""
    folder.mkdir(parents=True)
    face = helpers.face_image()
    for i in range(photos):
        canvas = helpers.landscape(640, 360, seed=i)
        canvas.paste(face.resize((150, 176)), (40 + i * 7, 40))
        small = face.resize((110, 129))
        canvas.paste(small.transpose(0) if i % 2 else small, (400, 120 + i * 3))  # mirrored in every other photo
        canvas.save(folder / f"photo{i:02d}.jpg", quality=90)


def seed_clustering(db_path: Path, faces: int = 40, clusters: int = 5) -> None:
    """An active clustering (of made-up face ids) for a reader to watch while `index` writes."""
    labels = [i % clusters for i in range(faces)]
    rows = [
        {"cluster_id": c, "face_count": labels.count(c), "photo_count": labels.count(c), "cover_face_id": None} for c in range(clusters)
    ]
    with FaceIndex(db_path) as index:
        index.save_clustering(range(1, faces + 1), labels, 1.0, "test", {"faces": faces, "clusters": clusters}, rows, "")


# `faceexplore index` with commits every two photos (instead of every 32 or 2 s), so that a run
# over a tiny gallery is killed between commits however fast the machine is.
INDEX_COMMITTING_OFTEN = (
    "import sys, faceexplore.index.indexer as indexer; indexer.COMMIT_EVERY_PHOTOS = 2; "
    "from faceexplore.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.slow
def test_index_killed_mid_run(tmp_path):
    gallery, data = tmp_path / "gallery", tmp_path / "data"
    photos = 10
    make_gallery(gallery, photos)
    data.mkdir()
    db_path = data / "index.sqlite3"
    seed_clustering(db_path)

    reader = ClusteringReader(db_path)
    reader.start()
    try:
        log = tmp_path / "killed.log"
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-c", INDEX_COMMITTING_OFTEN, "--data", str(data), "index", str(gallery), "--quiet"],
                env=helpers.cli_env(**FAST),
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until(lambda: committed_photos(db_path) >= 2, proc, 180, log)
            kill9(proc)
        finally:
            if proc.poll() is None:
                kill9(proc)
        partial = committed_photos(db_path)
        assert 2 <= partial < photos, f"{partial} photos when killed: not mid-run"
        assert integrity(db_path) == ("ok", [])

        resumed = helpers.run_cli("--data", data, "index", gallery, "--quiet", cwd=tmp_path, timeout=180, **FAST)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"{photos} photos in the gallery: {photos - partial} new, 0 changed, 0 removed" in resumed.stdout, resumed.stdout
    finally:
        reader.finish()
    assert integrity(db_path) == ("ok", [])
    with FaceIndex(db_path, readonly=True) as index:
        counts = index.counts()
        assert counts["photos"] == photos and counts["faces"] >= photos, counts
        assert counts["errors"] == 0, counts
    assert reader.reads > 10 and not reader.problems, (reader.reads, reader.problems[:5])


# ----------------------------------------------------------------------------------------------
# cluster


def synthetic_index(db_path: Path, photos: int = 300, people: int = 40, seed: int = 0) -> None:
    """An index of ``photos`` photos with two faces each, embeddings scattered around ``people``
    identities (dlib-sized), written as `faceexplore index` would."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people, 128))
    items = []
    for i in range(photos):
        faces = []
        for j in range(2):
            e = centres[rng.integers(people)] + rng.normal(scale=0.35, size=128)
            box = (10 + j * 100, 10, 90 + j * 100, 100)
            faces.append(
                FaceRecord(
                    box=box, landmarks=[[0, 0]] * 5, probability=0.99, flags=[], embedding=(e / np.linalg.norm(e)).astype(np.float32)
                )
            )
        items.append((PhotoRecord(path=f"p{i:04d}.jpg", size=1, mtime_ns=1, width=400, height=200), faces))
    with FaceIndex(db_path) as index:
        index.check_model("dlib-resnet-v1", 128)
        index.add_photos(items, "dlib-resnet-v1")


@pytest.mark.slow
def test_cluster_killed_mid_run(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db_path = data / "index.sqlite3"
    wal = Path(f"{db_path}-wal")
    synthetic_index(db_path)
    env = {"OMP_NUM_THREADS": "1"}

    t0 = time.monotonic()
    first = helpers.run_cli("--data", data, "cluster", cwd=tmp_path, timeout=120, **env)
    full_run = time.monotonic() - t0
    assert first.returncode == 0, first.stdout + first.stderr

    reader = ClusteringReader(db_path)
    reader.start()
    kills = 0
    try:
        # killed while it computes, at two points of a run as long as the first ...
        for fraction in (0.5, 0.9):
            log = tmp_path / f"killed-{fraction}.log"
            proc = start(("--data", data, "cluster"), log, **env)
            time.sleep(full_run * fraction)
            if proc.poll() is None:
                kill9(proc)
                kills += 1
            assert integrity(db_path) == ("ok", [])
        # ... and while it writes: the moment its transaction reaches the write-ahead log
        log = tmp_path / "killed-writing.log"

        def wal_state():
            try:
                stat = wal.stat()
            except FileNotFoundError:
                return None
            return stat.st_size, stat.st_mtime_ns

        # The write and the exit after it can both fall between two polls: a run that ended
        # cleanly before the kill is checked like the others and the kill tried again.
        for attempt in range(WRITE_KILL_TRIES):
            before = wal_state()
            proc = start(("--data", data, "cluster"), log, **env)
            started = time.monotonic()
            try:
                wait_until(lambda before=before: wal_state() not in (before, None, (0, None)) and wal_state()[0] > 0, proc, 120, log)
                kill9(proc)
            except AssertionError:
                if proc.returncode != 0 or attempt == WRITE_KILL_TRIES - 1:
                    raise
                assert integrity(db_path) == ("ok", [])
                continue
            finally:
                if proc.poll() is None:
                    kill9(proc)
            kills += 1
            print(f"killed while writing {time.monotonic() - started:.2f} s into a run (a full one took {full_run:.2f} s)")
            break
        assert integrity(db_path) == ("ok", [])

        final = helpers.run_cli("--data", data, "cluster", cwd=tmp_path, timeout=120, **env)
        assert final.returncode == 0, final.stdout + final.stderr
        time.sleep(0.2)  # the reader sees the final clustering too
    finally:
        reader.finish()
    assert kills >= 2, f"only {kills} of the runs were still going when killed (a full run took {full_run:.1f} s)"
    assert integrity(db_path) == ("ok", [])
    assert reader.reads > 20 and not reader.problems, (reader.reads, reader.problems[:5])
    with FaceIndex(db_path, readonly=True) as index:
        active = index.active_clustering()
        assert active["details"]["faces"] == 600
        # older clusterings (the first run's, any a killed run got to commit) were dropped with their rows
        assert index.db.execute("SELECT COUNT(*) FROM clusterings").fetchone()[0] == 1
        assert index.db.execute("SELECT COUNT(DISTINCT clustering_id) FROM memberships").fetchone()[0] == 1
    assert active["id"] in reader.seen_ids
