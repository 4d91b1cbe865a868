"""The `faceexplore` command line, run as a real subprocess."""

import json
import re

import helpers
import pytest

from faceexplore.embedders.facenet import WEIGHTS_FILE


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
