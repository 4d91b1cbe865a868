"""Settings: defaults < settings file < environment < explicit overrides (CLI options), every value
validated, and an error names the setting, its source and the rule."""

from pathlib import Path

import helpers
import pytest
from pydantic import ValidationError

from faceexplore.settings import DEFAULT_DATA, DEFAULT_GALLERY, REPO_FRONTEND_DIST, Settings, SettingsError, load_settings


def settings_file(tmp_path, text: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "faceexplore.toml").write_text(text)
    return data


def test_defaults_without_file_or_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no image-serve-path/faceexplore-data/faceexplore.toml here
    s = load_settings(env={})
    assert s == Settings()
    assert (s.model, s.device, s.index_workers, s.web_workers) == ("dlib", "cpu", 0, 0)
    assert s.data_dir == Path(DEFAULT_DATA) and s.gallery_dir == Path(DEFAULT_GALLERY)
    assert s.index_path == Path(DEFAULT_DATA) / "index.sqlite3"
    assert s.cache_dir == Path(DEFAULT_DATA) / "cache"
    assert (s.offline, s.secret_key, s.frontend_dir) == (False, None, REPO_FRONTEND_DIST)


def test_file_in_data_dir_then_environment_then_overrides(tmp_path):
    data = settings_file(tmp_path, 'model = "facenet"\ndetect_size = 1200\nindex_workers = 3\nfalse_alarm_rate = 0.05\n')
    s = load_settings({"data_dir": str(data)}, env={})
    assert (s.model, s.detect_size, s.index_workers, s.false_alarm_rate) == ("facenet", 1200, 3, 0.05)
    assert s.data_dir == data and isinstance(s.data_dir, Path)

    env = {"FACEEXPLORE_DETECT_SIZE": "900", "FACEEXPLORE_INDEX_WORKERS": "2", "FACEEXPLORE_WEB_WORKERS": "5"}
    s = load_settings({"data_dir": str(data)}, env=env)
    assert (s.model, s.detect_size, s.index_workers, s.web_workers) == ("facenet", 900, 2, 5)
    assert isinstance(s.detect_size, int)

    s = load_settings({"data_dir": str(data), "index_workers": 1, "model": None}, env=env)
    assert s.index_workers == 1  # the option wins
    assert s.model == "facenet"  # an unset option (None) does not override


def test_environment_names_the_data_dir_and_settings_file(tmp_path):
    data = settings_file(tmp_path, "min_face_size = 33\n")
    s = load_settings(env={"FACEEXPLORE_DATA_DIR": str(data)})
    assert s.data_dir == data and s.min_face_size == 33
    other = tmp_path / "other.toml"
    other.write_text('onnx_model = "/models/arc.onnx"\nonnx_input_size = 128\nonnx_std = 128.0\n')
    s = load_settings(env={"FACEEXPLORE_DATA_DIR": str(data), "FACEEXPLORE_SETTINGS": str(other)})
    assert s.min_face_size == 20  # the data dir's file is not read when another is named
    assert (s.onnx_model, s.onnx_input_size, s.onnx_std) == (Path("/models/arc.onnx"), 128, 128.0)


def test_a_named_settings_file_that_is_missing_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match=f"{tmp_path / 'none.toml'} named by FACEEXPLORE_SETTINGS does not exist"):
        load_settings(env={"FACEEXPLORE_SETTINGS": str(tmp_path / "none.toml")})


def test_unknown_setting_in_file_is_refused(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('modle = "dlib"\n')
    with pytest.raises(SettingsError, match=f"unknown settings in the settings file {f}: modle"):
        load_settings(env={"FACEEXPLORE_SETTINGS": str(f)})


def test_a_file_that_is_not_toml_is_named(tmp_path):
    data = settings_file(tmp_path, "model = dlib\n")
    with pytest.raises(SettingsError, match=f"the settings file {data / 'faceexplore.toml'} is not valid TOML"):
        load_settings({"data_dir": data}, env={})


# -- each validation error names the setting, its source and the rule ---------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "false_alarm_rate = 5",
            "false_alarm_rate = 5 from the settings file {file}: "
            "Input should be less than 1 (false_alarm_rate must be a number > 0 and < 1)",
        ),
        ("false_alarm_rate = 0", "false_alarm_rate = 0 from the settings file {file}: Input should be greater than 0"),
        ('detect_size = "big"', "detect_size = 'big' from the settings file {file}: Input should be a valid integer"),
        (
            "min_face_size = 0",
            "min_face_size = 0 from the settings file {file}: Input should be greater than 0 (min_face_size must be a whole number > 0)",
        ),
        ("index_workers = -1", "index_workers = -1 from the settings file {file}: Input should be greater than or equal to 0"),
        ('model = "vgg"', "model = 'vgg' from the settings file {file}: Input should be 'dlib', 'facenet' or 'onnx'"),
        ('device = "gpu"', "device = 'gpu' from the settings file {file}: should be cpu, cuda or cuda:N"),
        (
            'detector_runtime = "onnx"',
            "detector_runtime = 'onnx' from the settings file {file}: Input should be 'openvino' or 'torch'",
        ),
        ("max_upload_mb = 0", "max_upload_mb = 0 from the settings file {file}: Input should be greater than 0"),
        ("onnx_std = 0.0", "onnx_std = 0.0 from the settings file {file}: Input should be greater than 0"),
        ("offline = 3", "offline = 3 from the settings file {file}: Input should be a valid boolean"),
    ],
)
def test_a_bad_value_in_the_file_names_the_setting_the_file_and_the_rule(tmp_path, text, expected):
    data = settings_file(tmp_path, text + "\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({"data_dir": data}, env={})
    message = str(caught.value)
    assert message.startswith(expected.format(file=data / "faceexplore.toml")), message
    assert "\n" not in message  # one line


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        (
            "FACEEXPLORE_DETECT_SIZE",
            "abc",
            "detect_size = 'abc' from environment variable FACEEXPLORE_DETECT_SIZE: Input should be a valid integer",
        ),
        (
            "FACEEXPLORE_FALSE_ALARM_RATE",
            "1.5",
            "false_alarm_rate = '1.5' from environment variable FACEEXPLORE_FALSE_ALARM_RATE: Input should be less than 1",
        ),
        ("FACEEXPLORE_DEVICE", "cuda:x", "device = 'cuda:x' from environment variable FACEEXPLORE_DEVICE: should be cpu, cuda or cuda:N"),
        (
            "FACEEXPLORE_WEB_WORKERS",
            "-2",
            "web_workers = '-2' from environment variable FACEEXPLORE_WEB_WORKERS: Input should be greater than or equal to 0",
        ),
        (
            "FACEEXPLORE_ONNX_MEAN",
            "nan",
            "onnx_mean = 'nan' from environment variable FACEEXPLORE_ONNX_MEAN: Input should be a finite number",
        ),
        (
            "FACEEXPLORE_OFFLINE",
            "sometimes",
            "offline = 'sometimes' from environment variable FACEEXPLORE_OFFLINE: Input should be a valid boolean",
        ),
    ],
)
def test_a_bad_value_in_the_environment_names_the_variable(tmp_path, variable, value, expected):
    with pytest.raises(SettingsError) as caught:
        load_settings({"data_dir": tmp_path}, env={variable: value})
    assert str(caught.value).startswith(expected), str(caught.value)


def test_an_override_is_named_by_its_origin_and_a_later_source_decides(tmp_path):
    origins = {"false_alarm_rate": "command-line option --false-alarm-rate"}
    with pytest.raises(
        SettingsError, match=r"^false_alarm_rate = 2 from command-line option --false-alarm-rate: Input should be less than 1"
    ):
        load_settings({"data_dir": tmp_path, "false_alarm_rate": 2}, env={}, override_origins=origins)
    # the value that counts is checked, and blamed on the source it came from
    data = settings_file(tmp_path, "false_alarm_rate = 0.02\n")
    with pytest.raises(SettingsError, match="from environment variable FACEEXPLORE_FALSE_ALARM_RATE"):
        load_settings({"data_dir": data}, env={"FACEEXPLORE_FALSE_ALARM_RATE": "7"})
    assert load_settings({"data_dir": data, "false_alarm_rate": 0.2}, env={"FACEEXPLORE_FALSE_ALARM_RATE": "7"}).false_alarm_rate == 0.2


def test_several_bad_values_are_all_named(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings({"data_dir": tmp_path}, env={"FACEEXPLORE_DETECT_SIZE": "0", "FACEEXPLORE_MODEL": "x"})
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert any(line.startswith("model = 'x' from environment variable FACEEXPLORE_MODEL") for line in lines)
    assert any(line.startswith("detect_size = '0' from environment variable FACEEXPLORE_DETECT_SIZE") for line in lines)


def test_settings_built_in_code_are_validated_too():
    with pytest.raises(ValidationError, match="false_alarm_rate"):
        Settings(false_alarm_rate=1.0)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Settings(detect_sise=800)
    s = Settings()
    with pytest.raises(ValidationError):
        s.max_upload_mb = -1  # assignment is checked
    assert s.replace(detect_size="800").detect_size == 800 and s.detect_size == 1600
    with pytest.raises(ValidationError):
        s.replace(device="tpu")


def test_settings_built_in_code_do_not_read_the_environment(monkeypatch):
    monkeypatch.setenv("FACEEXPLORE_MODEL", "facenet")
    assert Settings().model == "dlib"
    assert load_settings(env=None).model == "facenet"  # load_settings reads os.environ


# -- workers: one setting per command --------------------------------------------------------
def test_the_old_workers_setting_names_the_new_ones(tmp_path):
    with pytest.raises(SettingsError, match="FACEEXPLORE_WORKERS is no longer read.*FACEEXPLORE_INDEX_WORKERS.*FACEEXPLORE_WEB_WORKERS"):
        load_settings({"data_dir": tmp_path}, env={"FACEEXPLORE_WORKERS": "2"})
    data = settings_file(tmp_path, "workers = 2\n")
    with pytest.raises(
        SettingsError, match=f"workers in the settings file {data / 'faceexplore.toml'} is no longer read.*index_workers.*web_workers"
    ):
        load_settings({"data_dir": data}, env={})
    with pytest.raises(ValidationError, match="workers is no longer read"):
        Settings(workers=1)


# -- the settings that replaced environment reads elsewhere ---------------------------------
def test_secret_key_from_either_variable_and_never_shown(tmp_path):
    assert load_settings({"data_dir": tmp_path}, env={"SECRET_KEY": "plain"}).secret_key.get_secret_value() == "plain"
    # a secret no other setting's text contains (the default consent notice says "yourself")
    both = {"FACEEXPLORE_SECRET_KEY": "ours-7f3Kq9", "SECRET_KEY": "plain"}
    s = load_settings({"data_dir": tmp_path}, env=both)
    assert s.secret_key.get_secret_value() == "ours-7f3Kq9"  # the FACEEXPLORE_ name first
    assert "ours-7f3Kq9" not in repr(s) and "ours-7f3Kq9" not in str(s)
    assert Settings(secret_key="k").secret_key.get_secret_value() == "k"
    assert load_settings({"data_dir": tmp_path}, env={"SECRET_KEY": ""}).secret_key is None


def test_offline_and_frontend_dir_from_the_environment(tmp_path):
    s = load_settings({"data_dir": tmp_path}, env={"FACEEXPLORE_OFFLINE": "1", "FACEEXPLORE_FRONTEND_DIR": str(tmp_path / "dist")})
    assert s.offline is True and s.frontend_dir == tmp_path / "dist"
    s = load_settings({"data_dir": tmp_path}, env={"FACEEXPLORE_OFFLINE": "false", "FACEEXPLORE_FRONTEND_DIR": ""})
    assert s.offline is False and s.frontend_dir is None  # empty: no frontend


def test_embedder_options_follow_the_model():
    assert Settings(model="dlib", device="cuda").embedder_options() == {"device": "cuda"}
    assert Settings(model="facenet", facenet_weights="/w.pt", device="cuda:1", offline=True).embedder_options() == {
        "weights": "/w.pt",
        "device": "cuda:1",
        "offline": True,
    }
    assert Settings(model="facenet").embedder_options()["weights"] is None
    opts = Settings(model="onnx", onnx_model="/m.onnx", onnx_input_size=128, onnx_mean=0.0, onnx_std=1.0).embedder_options()
    assert opts == {"path": "/m.onnx", "input_size": 128, "mean": 0.0, "std": 1.0}


# -- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, env, expected",
    [
        (["search", "x.jpg", "--false-alarm-rate", "2"], {}, "false_alarm_rate = 2.0 from command-line option --false-alarm-rate"),
        (["index", "--device", "gpu"], {}, "device = 'gpu' from command-line option --device: should be cpu, cuda or cuda:N"),
        (["status"], {"FACEEXPLORE_DETECT_SIZE": "abc"}, "detect_size = 'abc' from environment variable FACEEXPLORE_DETECT_SIZE"),
        (["status"], {"FACEEXPLORE_WORKERS": "4"}, "the environment variable FACEEXPLORE_WORKERS is no longer read"),
    ],
)
def test_the_cli_prints_a_bad_setting_in_one_line_and_exits_2(tmp_path, argv, env, expected):
    proc = helpers.run_cli("--data", tmp_path, *argv, cwd=tmp_path, timeout=60, **env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"faceexplore: error: {expected}"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_cli_rejects_a_bad_settings_file(tmp_path):
    data = settings_file(tmp_path, "false_alarm_rate = 5\n")
    proc = helpers.run_cli("--data", data, "status", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"faceexplore: error: false_alarm_rate = 5 from the settings file {data / 'faceexplore.toml'}: "
        "Input should be less than 1 (false_alarm_rate must be a number > 0 and < 1)"
    )


def test_workers_options_set_the_setting_of_their_command():
    from faceexplore.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["index", "--workers", "3"]).index_workers == 3
    assert parser.parse_args(["evaluate", "people", "f", "--workers", "2"]).index_workers == 2
    assert parser.parse_args(["serve", "--workers", "4"]).web_workers == 4


def test_the_app_factory_fails_with_the_same_message(tmp_path, monkeypatch):
    from faceexplore.web.app import create_app

    settings_file(tmp_path, "")
    monkeypatch.setenv("FACEEXPLORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FACEEXPLORE_MAX_UPLOAD_MB", "0")
    with pytest.raises(
        SettingsError, match="^max_upload_mb = '0' from environment variable FACEEXPLORE_MAX_UPLOAD_MB: Input should be greater than 0"
    ):
        create_app()
