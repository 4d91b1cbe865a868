"""The `faceexplore` command line, run as a real subprocess."""

import json
import os
import re

import helpers
import numpy as np
import pytest

from faceexplore.faces.embedders.facenet import WEIGHTS_FILE


@pytest.fixture
def gallery(tmp_path):
    g = tmp_path / "gallery"
    g.mkdir()
    helpers.face_image().save(g / "hopper.jpg", quality=90)
    helpers.landscape(400, 300).save(g / "empty-scene.png")
    (g / "broken.jpg").write_bytes(b"")
    return g


def test_index_then_status(gallery, tmp_path):
    data = tmp_path / "data"
    proc = helpers.run_cli("--data", data, "index", gallery, "--workers", 1, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"3 photos in the gallery: 3 new, 0 changed, 0 removed, 0 unchanged; 3 processed .* 1 faces, 1 errors", proc.stdout), (
        proc.stdout
    )
    assert "error: broken.jpg: the file is empty" in proc.stdout
    assert "model dlib" in proc.stderr

    status = helpers.run_cli("--data", data, "status", "--json", cwd=tmp_path, timeout=120)
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)
    assert (counts["photos"], counts["photos_ok"], counts["errors"], counts["faces"], counts["photos_with_faces"]) == (3, 2, 1, 1, 1)
    assert counts["model"] == "dlib-resnet-v1"

    text = helpers.run_cli("--data", data, "status", "--errors", cwd=tmp_path, timeout=120)
    assert text.returncode == 0 and "error: broken.jpg: the file is empty" in text.stdout
    assert re.search(r"faces: 1\b", text.stdout)

    # the broken file is not read again until it changes, or until asked
    again = helpers.run_cli("--data", data, "index", gallery, "--workers", 1, "--quiet", "--retry-errors", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 new, 0 changed, 0 removed, 2 unchanged, 1 failed before and retried; 1 processed" in again.stdout, again.stdout
    assert "error: broken.jpg: the file is empty" in again.stdout

    # an index of dlib faces refuses another model, whole, before touching anything
    onnx = tmp_path / "tiny.onnx"
    helpers.tiny_onnx_model(onnx)
    other = helpers.run_cli(
        "--data", data, "index", gallery, "--model", "onnx", "--quiet", cwd=tmp_path, timeout=120, FACEEXPLORE_ONNX_MODEL=onnx
    )
    assert other.returncode == 2
    assert "faceexplore: error:" in other.stderr and "dlib-resnet-v1" in other.stderr and "Re-index" in other.stderr
    assert json.loads(helpers.run_cli("--data", data, "status", "--json", cwd=tmp_path, timeout=120).stdout)["photos"] == 3


def test_facenet_without_weights_exits_2_saying_where_they_go(gallery, tmp_path):
    torch_home = tmp_path / "torch-home"
    torch_home.mkdir()
    data = tmp_path / "data"
    proc = helpers.run_cli(
        "--data", data, "index", gallery, "--model", "facenet", cwd=tmp_path, timeout=180, TORCH_HOME=torch_home, FACEEXPLORE_OFFLINE=1
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "faceexplore: error:" in proc.stderr
    assert WEIGHTS_FILE in proc.stderr and str(torch_home / "checkpoints" / WEIGHTS_FILE) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (data / "index.sqlite3").exists()  # refused before creating an index


def test_missing_gallery_exits_2(tmp_path):
    proc = helpers.run_cli("--data", tmp_path / "data", "index", tmp_path / "no-such-gallery", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_status_without_an_index_exits_2(tmp_path):
    proc = helpers.run_cli("--data", tmp_path / "empty", "status", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert "faceexplore index" in proc.stderr


def test_unknown_model_is_refused_by_the_parser(gallery, tmp_path):
    proc = helpers.run_cli("--data", tmp_path / "d", "index", gallery, "--model", "arcface", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_settings_file_in_the_data_folder_is_used(gallery, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "faceexplore.toml").write_text('model = "onnx"\nonnx_model = "/nonexistent/model.onnx"\n')
    proc = helpers.run_cli("--data", data, "index", gallery, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert "/nonexistent/model.onnx" in proc.stderr and "was not found" in proc.stderr


def test_index_keeps_a_non_utf8_name_and_asks_before_dropping_the_gallery(tmp_path):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    helpers.face_image().save(gallery / "hopper.jpg", quality=90)
    with open(os.path.join(os.fsencode(gallery), b"caf\xe9.jpg"), "wb") as fh:  # a Latin-1 name
        fh.write(helpers.jpeg_bytes(helpers.face_image().resize((256, 300))))
    data = tmp_path / "data"
    first = helpers.run_cli("--data", data, "index", gallery, "--workers", 1, "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "2 photos in the gallery: 2 new" in first.stdout and "2 faces, 0 errors" in first.stdout
    status = json.loads(helpers.run_cli("--data", data, "status", "--json", cwd=tmp_path, timeout=120).stdout)
    assert (status["photos"], status["faces"]) == (2, 2)

    moved = tmp_path / "moved"
    moved.mkdir()
    for entry in os.listdir(os.fsencode(gallery)):
        os.rename(os.path.join(os.fsencode(gallery), entry), os.path.join(os.fsencode(moved), entry))
    refused = helpers.run_cli("--data", data, "index", gallery, "--workers", 1, "--quiet", cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "holds no photos, but the index holds 2; nothing was changed" in refused.stderr and "--allow-removals" in refused.stderr
    assert json.loads(helpers.run_cli("--data", data, "status", "--json", cwd=tmp_path, timeout=120).stdout)["photos"] == 2

    allowed = helpers.run_cli("--data", data, "index", gallery, "--workers", 1, "--quiet", "--allow-removals", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert "0 photos in the gallery: 0 new, 0 changed, 2 removed" in allowed.stdout


def test_a_full_disk_is_said_plainly(tmp_path, monkeypatch, capsys):
    from faceexplore import cli
    from faceexplore.index import store

    data = tmp_path / "data"
    with store.FaceIndex(data / "index.sqlite3") as index:
        index.check_model("dlib-resnet-v1", 8)
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(400, 8)).astype(np.float32)
        face = lambda v: store.FaceRecord((0, 0, 9, 9), [(0, 0)] * 5, 0.99, [], v / np.linalg.norm(v))  # noqa: E731
        index.add_photos([(store.PhotoRecord(f"p{i}.jpg", 1, 1, 9, 9), [face(v)]) for i, v in enumerate(vectors)], "dlib-resnet-v1")
    opened = store.FaceIndex.__init__

    def no_room_to_grow(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"

    monkeypatch.setattr(store.FaceIndex, "__init__", no_room_to_grow)
    assert cli.main(["--data", str(data), "cluster"]) == 2
    err = capsys.readouterr().err
    assert "faceexplore: error: the disk is full (database or disk is full)" in err and "run the same command again" in err
    monkeypatch.undo()
    with store.FaceIndex(data / "index.sqlite3", readonly=True) as index:
        assert index.counts()["faces"] == 400 and index.active_clustering() is None  # intact, nothing half-written


def test_evaluate_removes_its_temporary_scratch_index_and_keeps_a_given_one(tmp_path):
    people = tmp_path / "people"
    (people / "grace").mkdir(parents=True)
    helpers.face_image().save(people / "grace" / "hopper.jpg", quality=90)
    temp = tmp_path / "temp"
    temp.mkdir()
    proc = helpers.run_cli("evaluate", "people", people, "--json", cwd=tmp_path, TMPDIR=temp)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["photos_with_face"] == 1
    # the scratch index holds every face's embedding: gone when the command ends
    assert [p.name for p in temp.glob("faceexplore-eval-*")] == []
    scratch = tmp_path / "scratch"
    kept = helpers.run_cli("evaluate", "people", people, "--json", "--scratch", scratch, cwd=tmp_path, TMPDIR=temp)
    assert kept.returncode == 0, kept.stderr
    assert (scratch / "index.sqlite3").is_file()


def test_evaluate_a_limited_subset_of_people_scores_their_photos(tmp_path):
    # the subset of --limit lives in the scratch folder; it was made of symbolic links to the
    # people's folders, which the gallery walk skips (they leave the gallery): 0 photos scored
    people = tmp_path / "people"
    for name in ("ada", "grace", "linus"):
        (people / name).mkdir(parents=True)
        helpers.face_image().save(people / name / f"{name}.jpg", quality=90)
    proc = helpers.run_cli("evaluate", "people", people, "--limit", "2", "--json", "--scratch", tmp_path / "s", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["photos"], result["photos_with_face"]) == (2, 2)
    assert sorted(p.name for p in (tmp_path / "s" / "people").iterdir()) == ["ada", "grace"]


@pytest.mark.parametrize(("failure", "exit_code"), [(KeyboardInterrupt, 130), (ValueError, 2)])
def test_evaluate_interrupted_or_failing_removes_its_temporary_scratch_index(tmp_path, monkeypatch, failure, exit_code):
    import tempfile

    from faceexplore import cli, evaluation

    def index_then_fail(settings):
        (settings.data_dir / "index.sqlite3").write_bytes(b"every face's embedding")
        raise failure("stopped")

    monkeypatch.setattr(evaluation, "_index_and_cluster", index_then_fail)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    people = tmp_path / "people"
    (people / "grace").mkdir(parents=True)
    for scratch in ([], ["--scratch", str(tmp_path / "scratch")]):
        assert cli.main(["evaluate", "people", str(people), "--limit", "1", *scratch]) == exit_code
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people", "scratch"]  # only the one asked for is kept
    assert (tmp_path / "scratch" / "index.sqlite3").is_file()
