"""Settings: defaults < settings file < environment < explicit overrides (CLI flags)."""

from pathlib import Path

import pytest

from faceexplore.settings import DEFAULT_DATA, DEFAULT_GALLERY, Settings, load_settings


def test_defaults_without_file_or_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no image-serve-path/faceexplore-data/faceexplore.toml here
    s = load_settings(env={})
    assert s == Settings()
    assert s.model == "dlib" and s.device == "cpu" and s.workers == 0
    assert s.data_dir == Path(DEFAULT_DATA) and s.gallery_dir == Path(DEFAULT_GALLERY)
    assert s.index_path == Path(DEFAULT_DATA) / "index.sqlite3"
    assert s.cache_dir == Path(DEFAULT_DATA) / "cache"


def test_file_in_data_dir_then_environment_then_overrides(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "faceexplore.toml").write_text('model = "facenet"\ndetect_size = 1200\nworkers = 3\nfalse_alarm_rate = 0.05\n')
    s = load_settings({"data_dir": str(data)}, env={})
    assert (s.model, s.detect_size, s.workers, s.false_alarm_rate) == ("facenet", 1200, 3, 0.05)
    assert s.data_dir == data and isinstance(s.data_dir, Path)

    env = {"FACEEXPLORE_DETECT_SIZE": "900", "FACEEXPLORE_WORKERS": "2"}
    s = load_settings({"data_dir": str(data)}, env=env)
    assert (s.model, s.detect_size, s.workers) == ("facenet", 900, 2)
    assert isinstance(s.detect_size, int)

    s = load_settings({"data_dir": str(data), "workers": 1, "model": None}, env=env)
    assert s.workers == 1  # the flag wins
    assert s.model == "facenet"  # an unset flag (None) does not override


def test_environment_names_the_data_dir_and_settings_file(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "faceexplore.toml").write_text("min_face_size = 33\n")
    s = load_settings(env={"FACEEXPLORE_DATA_DIR": str(data)})
    assert s.data_dir == data and s.min_face_size == 33
    other = tmp_path / "other.toml"
    other.write_text('onnx_model = "/models/arc.onnx"\nonnx_input_size = 128\nonnx_std = 128.0\n')
    s = load_settings(env={"FACEEXPLORE_DATA_DIR": str(data), "FACEEXPLORE_SETTINGS": str(other)})
    assert s.min_face_size == 20  # the data dir's file is not read when another is named
    assert (s.onnx_model, s.onnx_input_size, s.onnx_std) == ("/models/arc.onnx", 128, 128.0)


def test_unknown_setting_in_file_is_refused(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('modle = "dlib"\n')
    with pytest.raises(ValueError, match="unknown settings.*modle"):
        load_settings(env={"FACEEXPLORE_SETTINGS": str(f)})


def test_bad_value_in_environment_is_an_error():
    with pytest.raises(ValueError):
        load_settings(env={"FACEEXPLORE_WORKERS": "many"})


def test_embedder_options_follow_the_model():
    assert Settings(model="dlib", device="cuda").embedder_options() == {"device": "cuda"}
    assert Settings(model="facenet", facenet_weights="/w.pt", device="cuda").embedder_options() == {"weights": "/w.pt", "device": "cuda"}
    assert Settings(model="facenet").embedder_options()["weights"] is None
    opts = Settings(model="onnx", onnx_model="/m.onnx", onnx_input_size=128, onnx_mean=0.0, onnx_std=1.0).embedder_options()
    assert opts == {"path": "/m.onnx", "input_size": 128, "mean": 0.0, "std": 1.0}
