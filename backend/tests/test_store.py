"""The SQLite face index: atomic writes, replacement and removal, model binding, counts."""

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import helpers
import numpy as np
import pytest

from faceexplore.index.store import FaceIndex, FaceRecord, ModelMismatch, PhotoRecord


def _face(x, seed=0, dim=8):
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return FaceRecord((x, 10.0, x + 50.0, 70.0), [(x + 10.0, 20.0)] * 5, 0.99, ["tiny"] if x > 100 else [], v / np.linalg.norm(v))


@pytest.fixture
def index(tmp_path):
    with FaceIndex(tmp_path / "data" / "index.sqlite3") as idx:
        idx.check_model("test-model", 8)
        yield idx


def _count(index, table):
    return index.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_photos_and_faces_round_trip(index):
    faces = [_face(0, 1), _face(200, 2)]
    index.add_photos([(PhotoRecord("a/b.jpg", 123, 456, 640, 480), faces), (PhotoRecord("c.jpg", 1, 2, 10, 10), [])], "test-model")
    known = index.known_photos()
    assert set(known) == {"a/b.jpg", "c.jpg"} and known["a/b.jpg"][1:] == (123, 456)
    pid = known["a/b.jpg"][0]
    rows = index.faces_of_photo(pid)
    assert [r["x1"] for r in rows] == [0.0, 200.0]
    assert rows[1]["flags"] == "tiny" and rows[0]["flags"] == ""
    assert json.loads(rows[0]["landmarks"]) == [[10.0, 20.0]] * 5
    ids, photo_ids, vectors, flags = index.embeddings()
    assert vectors.shape == (2, 8) and vectors.dtype == np.float32
    assert np.allclose(vectors[0], faces[0].embedding) and np.allclose(vectors[1], faces[1].embedding)
    assert list(photo_ids) == [pid, pid]


def test_a_failing_transaction_writes_nothing(index):
    index.add_photos([(PhotoRecord("keep.jpg", 1, 1), [_face(0)])], "test-model")
    with pytest.raises(RuntimeError, match="boom"), index.transaction() as db:
        db.execute("INSERT INTO photos(path, size, mtime_ns, status, indexed_at) VALUES ('x.jpg', 1, 1, 'ok', 0)")
        db.execute("DELETE FROM photos WHERE path = 'keep.jpg'")
        raise RuntimeError("boom")
    assert set(index.known_photos()) == {"keep.jpg"}
    assert _count(index, "faces") == 1


def test_add_photos_is_all_or_nothing(index):
    bad = FaceRecord((1.0, 2.0, 3.0), [(0, 0)] * 5, 0.9, [], np.zeros(8, np.float32))  # a box of 3 values
    with pytest.raises(sqlite3.Error):
        index.add_photos([(PhotoRecord("good.jpg", 1, 1), [_face(0)]), (PhotoRecord("bad.jpg", 1, 1), [bad])], "test-model")
    assert index.known_photos() == {}
    assert _count(index, "faces") == 0
    # the connection is usable afterwards
    index.add_photos([(PhotoRecord("good.jpg", 1, 1), [_face(0)])], "test-model")
    assert set(index.known_photos()) == {"good.jpg"}


def test_a_changed_photo_replaces_its_faces(index):
    index.add_photos([(PhotoRecord("p.jpg", 1, 1), [_face(0), _face(100), _face(200)])], "test-model")
    index.add_photos([(PhotoRecord("p.jpg", 2, 2), [_face(50, 9)])], "test-model")
    assert index.known_photos()["p.jpg"][1:] == (2, 2)
    assert _count(index, "photos") == 1
    assert [r["x1"] for r in index.db.execute("SELECT x1 FROM faces")] == [50.0]


def test_removing_photos_removes_their_faces(index):
    index.add_photos([(PhotoRecord(f"p{i}.jpg", 1, 1), [_face(i), _face(i + 100)]) for i in range(1200)], "test-model")
    assert _count(index, "faces") == 2400
    gone = [f"p{i}.jpg" for i in range(0, 1200, 2)]  # more than one 500-path chunk
    assert index.remove_photos(gone) == 600
    assert len(index.known_photos()) == 600 and "p0.jpg" not in index.known_photos()
    assert _count(index, "faces") == 1200
    orphans = index.db.execute("SELECT COUNT(*) FROM faces WHERE photo_id NOT IN (SELECT id FROM photos)").fetchone()[0]
    assert orphans == 0


def test_model_mismatch_is_refused(tmp_path):
    path = tmp_path / "index.sqlite3"
    with FaceIndex(path) as idx:
        idx.check_model("dlib-resnet-v1", 128)
        idx.check_model("dlib-resnet-v1", 128)  # the same model again is fine
    with FaceIndex(path) as idx:
        with pytest.raises(ModelMismatch, match="(?i)re-index") as err:
            idx.check_model("facenet-vggface2", 512)
        assert "dlib-resnet-v1" in str(err.value) and "facenet-vggface2" in str(err.value)
        assert idx.meta("model") == "dlib-resnet-v1" and idx.meta("embedding_dim") == "128"


def test_clustering_is_replaced_whole(index):
    index.add_photos([(PhotoRecord("p.jpg", 1, 1), [_face(0), _face(100)])], "test-model")
    ids = index.embeddings()[0]
    clusters = [{"cluster_id": 0, "face_count": 2, "photo_count": 1, "cover_face_id": int(ids[0])}]
    first = index.save_clustering(ids, [0, 0], 0.5, "test", {"a": 1}, clusters, "test-model")
    second = index.save_clustering(ids, [0, 0], 0.4, "test", {"a": 2}, clusters, "test-model")
    active = index.active_clustering()
    assert active["id"] == second != first and active["details"] == {"a": 2}
    assert _count(index, "clusterings") == 1
    assert index.db.execute("SELECT COUNT(*) FROM memberships WHERE clustering_id = ?", (first,)).fetchone()[0] == 0
    assert index.counts()["people"] == 1 and index.counts()["threshold"] == 0.4


def test_counts(index):
    index.add_photos(
        [
            (PhotoRecord("a.jpg", 1, 1, 10, 10), [_face(0), _face(100)]),
            (PhotoRecord("b.jpg", 1, 1, 10, 10), []),
            (PhotoRecord("c.jpg", 1, 1, status="error", error="the file is empty"), []),
        ],
        "test-model",
    )
    counts = index.counts()
    assert {k: counts[k] for k in ("photos", "photos_ok", "errors", "faces", "photos_with_faces", "model")} == {
        "photos": 3,
        "photos_ok": 2,
        "errors": 1,
        "faces": 2,
        "photos_with_faces": 1,
        "model": "test-model",
    }
    assert counts["last_indexed"] > 0 and counts["people"] is None
    assert [tuple(r) for r in index.errors()] == [("c.jpg", "the file is empty")]


def test_readonly_index_that_does_not_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="faceexplore index"):
        FaceIndex(tmp_path / "none.sqlite3", readonly=True)
    assert not (tmp_path / "none.sqlite3").exists()


def test_a_reader_sees_committed_writes_only(index):
    reader = FaceIndex(index.path, readonly=True)
    try:
        with index.transaction() as db:
            db.execute("INSERT INTO photos(path, size, mtime_ns, status, indexed_at) VALUES ('x.jpg', 1, 1, 'ok', 0)")
            assert reader.known_photos() == {}  # not committed yet
        assert set(reader.known_photos()) == {"x.jpg"}
    finally:
        reader.close()


def test_status_json_prints_the_counts(index, tmp_path):
    index.add_photos(
        [(PhotoRecord("a.jpg", 1, 1, 10, 10), [_face(0)]), (PhotoRecord("bad.jpg", 1, 1, status="error", error="not an image"), [])],
        "test-model",
    )
    data = index.path.parent
    proc = helpers.run_cli("--data", data, "status", "--json", "--errors", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["photos"], out["photos_ok"], out["errors"], out["faces"], out["model"]) == (2, 1, 1, 1, "test-model")
    assert out["error_list"] == [{"path": "bad.jpg", "error": "not an image"}]
    assert out["last_indexed"].endswith("Z")


def test_removing_photos_is_a_new_index_version(index):
    index.add_photos([(PhotoRecord("a.jpg", 1, 1), [_face(0)]), (PhotoRecord("b.jpg", 1, 1), [_face(100)])], "test-model")
    before = index.meta("last_indexed")
    time.sleep(0.01)
    index.remove_photos(["b.jpg"])
    assert index.meta("last_indexed") != before  # what searchers watch to reload their faces
    assert float(index.meta("last_indexed")) > float(before)


SERVER = """
import sys
from faceexplore.index.store import FaceIndex
index = FaceIndex(sys.argv[1], readonly=True)
for line in sys.stdin:  # one consistent read per line, like a web worker's requests
    with index.snapshot():
        print(len(index.known_photos()), flush=True)
"""


def test_an_index_deleted_while_a_server_reads_it_starts_afresh(tmp_path):
    path = tmp_path / "data" / "index.sqlite3"

    def commit(prefix):
        with FaceIndex(path) as writer:
            writer.check_model("test-model", 8)
            writer.add_photos([(PhotoRecord(f"{prefix}{i}.jpg", 1, 1), [_face(i)]) for i in range(300)], "test-model")

    commit("p")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=helpers.cli_env()
    )

    def server_count():
        server.stdin.write("\n")
        server.stdin.flush()
        return int(server.stdout.readline())

    try:
        assert server_count() == 300
        commit("q")  # into the write-ahead log, which the open server keeps from being folded in
        assert server_count() == 600
        path.unlink()  # deleted by hand to start over, the server still running
        assert Path(f"{path}-wal").exists()
        with FaceIndex(path) as fresh:
            fresh.check_model("test-model", 8)
            assert fresh.known_photos() == {}
            fresh.add_photos([(PhotoRecord("new.jpg", 1, 1), [_face(0)])], "test-model")
            assert fresh.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with FaceIndex(path, readonly=True) as reader:
            assert set(reader.known_photos()) == {"new.jpg"}
    finally:
        server.stdin.close()
        server.wait(timeout=30)
