"""Settings: defaults, overridden by a settings file, then environment variables, then CLI flags.

The settings file is TOML (``FACEEXPLORE_SETTINGS`` or ``<data dir>/faceexplore.toml``), with the
same keys as the ``Settings`` fields. Environment variables are ``FACEEXPLORE_<FIELD>``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

DEFAULT_GALLERY = "image-serve-path/gallery-image"
DEFAULT_DATA = "image-serve-path/faceexplore-data"


@dataclass
class Settings:
    data_dir: Path = Path(DEFAULT_DATA)
    gallery_dir: Path = Path(DEFAULT_GALLERY)
    model: str = "dlib"  # dlib | facenet | onnx
    device: str = "cpu"  # cpu | cuda
    workers: int = 0  # 0: one per CPU core
    detect_size: int = 1600  # longest side the detector sees
    min_face_size: int = 20  # pixels, at detection size
    facenet_weights: str = ""  # path to a 20180402-114759-vggface2.pt state dict
    onnx_model: str = ""  # path to an .onnx face model
    onnx_input_size: int = 112
    onnx_mean: float = 127.5
    onnx_std: float = 127.5
    false_alarm_rate: float = 0.01  # search: accepted chance of saying "found" for a stranger
    max_upload_mb: int = 30
    extra: dict = field(default_factory=dict)

    @property
    def index_path(self) -> Path:
        return Path(self.data_dir) / "index.sqlite3"

    @property
    def cache_dir(self) -> Path:
        return Path(self.data_dir) / "cache"

    def embedder_options(self) -> dict:
        if self.model == "facenet":
            return {"weights": self.facenet_weights or None, "device": self.device}
        if self.model == "onnx":
            return {
                "path": self.onnx_model,
                "input_size": self.onnx_input_size,
                "mean": self.onnx_mean,
                "std": self.onnx_std,
            }
        return {"device": self.device}


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}


_CASTS = {"Path": Path, "int": int, "float": float, "str": str}


def _coerce(name: str, value):
    # annotations are strings here (from __future__ import annotations)
    return _CASTS[_FIELDS[name].type](value)


def load_settings(overrides: dict | None = None, env: dict | None = None) -> Settings:
    """Build settings from the file, the environment and explicit overrides (highest wins)."""
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    values: dict = {}
    env_values = {name: env[f"FACEEXPLORE_{name.upper()}"] for name in _FIELDS if f"FACEEXPLORE_{name.upper()}" in env}
    data_dir = Path(overrides.get("data_dir") or env_values.get("data_dir") or DEFAULT_DATA)
    settings_file = env.get("FACEEXPLORE_SETTINGS") or str(data_dir / "faceexplore.toml")
    if Path(settings_file).is_file():
        with open(settings_file, "rb") as fh:
            file_values = tomllib.load(fh)
        unknown = set(file_values) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown settings in {settings_file}: {', '.join(sorted(unknown))}")
        values.update(file_values)
    values.update(env_values)
    values.update(overrides)
    return Settings(**{k: _coerce(k, v) for k, v in values.items()})
