"""Settings: defaults, overridden by a settings file, then environment variables, then CLI options.

The settings file is TOML (``FACEEXPLORE_SETTINGS`` or ``<data dir>/faceexplore.toml``), with the
same keys as the ``Settings`` fields. Environment variables are ``FACEEXPLORE_<FIELD>`` (the secret
key also ``SECRET_KEY``). ``load_settings`` reads them with pydantic-settings' sources and
validates the result: a value of the wrong type or out of its range, or an unknown key in the
file, stops start-up with a ``SettingsError`` naming the setting, where it came from (file,
environment variable, command-line option) and the rule it broke.

``Settings(...)`` itself holds only what it is given and the defaults (validated the same way);
it reads neither the file nor the environment, so code and tests can build one directly.
"""

from __future__ import annotations

import os
import re
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    NonNegativeInt,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, TomlConfigSettingsSource
from pydantic_settings.sources.types import NoDecode
from pydantic_settings.sources.utils import parse_env_vars

DEFAULT_GALLERY = "image-serve-path/gallery-image"
DEFAULT_DATA = "image-serve-path/faceexplore-data"
REPO_FRONTEND_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
ENV_PREFIX = "FACEEXPLORE_"
SETTINGS_FILE_VARIABLE = "FACEEXPLORE_SETTINGS"
SETTINGS_FILE_NAME = "faceexplore.toml"

# Settings that were split in two: the old name, and each new name with the command it is for.
RENAMED = {"workers": {"index_workers": "faceexplore index", "web_workers": "faceexplore serve"}}

_DEVICE_RE = re.compile(r"cpu|cuda(:\d+)?")
DEVICE_RULE = "cpu, cuda or cuda:N (N: the GPU's number)"
# What ray.init takes: a head's HOST:PORT (its GCS, 6379 by default), ray://HOST:PORT (Ray
# Client), or auto (the cluster this machine is part of).
_RAY_ADDRESS_RE = re.compile(r"auto|(ray://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}")
RAY_ADDRESS_RULE = "empty, auto, HOST:PORT or ray://HOST:PORT"


class SettingsError(ValueError):
    """A setting is unknown or breaks its rule; the message names it, its source and the rule."""


def _device(value: str) -> str:
    if not _DEVICE_RE.fullmatch(value):
        raise ValueError(f"should be {DEVICE_RULE}")
    return value


Device = Annotated[str, AfterValidator(_device)]


def _ray_address(value: str) -> str:
    if value and not _RAY_ADDRESS_RE.fullmatch(value):
        raise ValueError(f"should be {RAY_ADDRESS_RULE}")
    return value


RayAddress = Annotated[str, AfterValidator(_ray_address)]


DEFAULT_CONSENT = (
    "Your photo is analysed in this server's memory to find the photos you are in, and then discarded: it is "
    "never stored. If you save your search, only a description of your face (not the photo) is kept, until you "
    "delete it or it expires. Search only for yourself, not for other people. To be taken out of the search, "
    'use "Remove me" once you have found yourself, or ask the organiser.'
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_by_name=True,  # secret_key by its name as well as its environment aliases
        validate_assignment=True,
        validate_default=True,
    )

    # Each description is the setting's meaning in docs/configuration.md (Markdown; links are
    # relative to docs/), which faceexplore.settings_doc generates from these fields: the code is
    # the one source. json_schema_extra carries what the page shows beyond the field itself: the
    # command-line "flag", the "shown_default" in words where the value would read badly, and an "env_format" note.
    data_dir: Path = Field(
        Path(DEFAULT_DATA),
        description="index and caches (and the generated secret key file)",
        json_schema_extra={"flag": "`--data`"},
    )
    gallery_dir: Path = Field(
        Path(DEFAULT_GALLERY),
        description="the photos",
        json_schema_extra={"flag": "`index GALLERY`, `watch GALLERY`, `serve GALLERY`"},
    )
    model: Literal["dlib", "facenet", "onnx"] = Field(
        "dlib", description="face embedding model: `dlib`, `facenet` or `onnx`", json_schema_extra={"flag": "`index --model`"}
    )
    device: Device = Field(
        "cpu",
        description="`cpu` or `cuda` (or `cuda:N`, the GPU's number): where MTCNN and the embedding network run",
        json_schema_extra={"flag": "`index --device`"},
    )
    index_workers: NonNegativeInt = Field(
        0,
        description='indexing processes (Ray actors with `engine = "ray"`); 0 = one per CPU core (of the cluster; '
        "with `cuda`: up to 8 per GPU)",
        json_schema_extra={"flag": "`index --workers`"},
    )
    engine: Literal["local", "ray"] = Field(
        "local",
        description="where `index` analyses photos: `local` (processes on this machine) or `ray` (a Ray cluster; "
        "[docs/scaling.md](scaling.md))",
        json_schema_extra={"flag": "`index --engine`"},
    )
    ray_address: RayAddress = Field(
        "",
        description='with `engine = "ray"`: the cluster\'s head, `HOST:6379` (or `auto`, `ray://HOST:10001`); '
        "empty: `RAY_ADDRESS`, else a Ray instance started on this machine",
        json_schema_extra={"flag": "`index --ray-address`"},
    )
    web_workers: NonNegativeInt = Field(
        0,
        description="gunicorn workers; 0 = two per CPU core, at most 4 (each holds its own copy of the models)",
        json_schema_extra={"flag": "`serve --workers`"},
    )
    detect_size: PositiveInt = Field(1600, description="longest side the face detector sees, in pixels")
    min_face_size: PositiveInt = Field(20, description="smallest face found, in pixels at detection size")
    detector_runtime: Literal["openvino", "torch"] = Field(
        "openvino",
        description="what runs the face detector's networks on the CPU: `openvino` (faster) or `torch`; both find the "
        "same faces (on a GPU they run in PyTorch)",
    )
    facenet_weights: Path | None = Field(
        None,
        description="path to the facenet (VGGFace2) state dict, `20180402-114759-vggface2.pt`; empty: torch hub's cache",
    )
    offline: bool = Field(False, description="never download model weights (facenet's come from torch hub otherwise)")
    onnx_model: Path | None = Field(None, description='path to an `.onnx` face model (`model = "onnx"`)')
    onnx_input_size: PositiveInt = Field(112, description="that model's input: its side, in pixels")
    onnx_mean: float = Field(127.5, allow_inf_nan=False, description="that model's input: subtracted from pixel values")
    onnx_std: float = Field(127.5, gt=0, allow_inf_nan=False, description="that model's input: pixel values are divided by it")
    false_alarm_rate: float = Field(
        0.01,
        gt=0,
        lt=1,
        description='accepted chance that a search says "found" for a stranger',
        json_schema_extra={"flag": "`search --false-alarm-rate`"},
    )
    candidates: int = Field(
        3, ge=0, le=10, description='people offered as "Is one of these you?" when a search finds no one (0 to 10; 0 turns it off)'
    )
    # The "maybe" band: people whose score an absent visitor reaches with at most this chance, by
    # the gallery's null distribution (the accept threshold's). Chosen from the trade-off curve in
    # docs/quality.md ("Is one of these you?").
    candidate_rate: float = Field(
        0.2,
        gt=0,
        lt=1,
        description='the "maybe" band: people whose score a stranger reaches with at most this chance are offered '
        '(see [docs/quality.md, "Is one of these you?"](quality.md#is-one-of-these-you))',
    )
    candidate_token_lifetime: int = Field(
        15 * 60, ge=30, le=24 * 3600, description="seconds an offered candidate can be confirmed (30 to a day)"
    )
    # `faceexplore watch`: a photo is indexed once its size and modification time have stayed the
    # same this long (a copy in progress grows; see faceexplore/live/watcher.py for the choice),
    # and the whole gallery is walked again this often, for shares whose changes send no events.
    watch_settle_seconds: float = Field(
        1.0,
        ge=0.1,
        le=60,
        allow_inf_nan=False,
        description="`watch`: seconds a new or changed photo's size and modification time must stay the same before it is read (0.1 to 60)",
    )
    watch_rescan_seconds: float = Field(
        60.0,
        ge=5,
        le=86400,
        allow_inf_nan=False,
        description="`watch`: seconds between full walks of the gallery, for changes no folder event announced (5 to a day)",
    )
    max_upload_mb: PositiveInt = Field(30, description="largest search upload, in MB (nginx's limit is 30M as well)")
    max_sample_megapixels: float = Field(
        16,
        gt=0,
        le=200,
        allow_inf_nan=False,
        description="most pixels a search decodes for one sample photo, in megapixels. A JPEG is decoded already reduced "
        "(a 48-megapixel phone photo costs about 3; its header may claim up to 4 times the limit); PNG, WebP, HEIC and the "
        "rest are decoded whole (a 12-megapixel HEIC fits). The samples of one search may cost 4 times the limit together. "
        'Over it a sample is refused unread (422 `too_large_image`: "use a smaller copy")',
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=[],
        description='the names the site may be reached by, e.g. `["photos.example.org"]`; `.example.org` also allows '
        "its subdomains, `*` any name. Other `Host` headers get 400 `bad_host`",
        json_schema_extra={"shown_default": "localhost and the address served on", "env_format": "comma-separated"},
    )
    rate_limits: Literal["app", "off"] = Field(
        "app",
        description="`app`: the app limits each client itself (when it runs without nginx); `off`: nginx in front does "
        "it (`make run` and Docker Compose set this)",
    )
    frontend_dir: Path | None = Field(
        REPO_FRONTEND_DIST,
        description="built page that gunicorn serves when it runs without nginx; empty for none",
        json_schema_extra={"shown_default": "the repository's `frontend/dist`"},
    )
    people_page: Literal["organiser", "public"] = Field(
        "organiser",
        description="who may see the People pages and photo details: `organiser` (logged in) or `public` (hidden people "
        "are never shown to visitors)",
    )
    gallery_access: Literal["private", "public"] = Field(
        "private",
        description="`private`: photos, thumbnails and face crops open only through the signed, expiring links the "
        "site hands out; `public`: plain addresses",
    )
    # A day: a result page left open in a tab keeps working through the day, while a copied link
    # stops working by the next one. Links are renewed with every answer of the API.
    link_lifetime: int = Field(
        24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="seconds a signed link stays valid (60 to 30 days); a day keeps a result page usable for the day "
        "while a copied link stops working by the next",
    )
    proxy_hops: int = Field(
        0,
        ge=0,
        le=5,
        description="proxies in front of gunicorn whose `X-Forwarded-For`/`-Proto` are trusted (`make run` and Docker "
        "set 1 for their nginx)",
    )
    cookie_secure: bool = Field(
        False,
        description="send the organiser's cookie over https only; set it when the site is served over https by a proxy in front of nginx",
    )
    # Organiser uploads (POST /api/gallery/photos): on for the logged-in organiser, since an event's
    # photos arrive while it runs; "off" keeps the app from ever writing to the gallery (then the
    # gallery can be mounted read-only). Visitors can never upload.
    uploads: Literal["organiser", "off"] = Field(
        "organiser",
        description="`organiser`: the logged-in organiser may add photos from the page "
        '(["Adding photos during the event"](organiser.md#adding-photos-during-the-event)); `off`: the app never '
        "writes to the gallery (visitors can never upload)",
    )
    upload_folder: str = Field(
        "uploads/%Y-%m-%d",
        description="the gallery sub-folder uploads are saved in; strftime codes give the day's date. Must be relative, "
        "without `..` or hidden (dot) folders",
    )
    max_gallery_upload_mb: PositiveInt = Field(
        500,
        description="largest organiser upload (one request), in MB; nginx's limit for that route is `--max-gallery-upload` (500M)",
    )
    # The event's access code (faceexplore/site/access_code.py). Unset: decided by the data folder, so
    # that a site running before codes existed keeps working and a new one asks for the code.
    search_access: Literal["open", "code"] | None = Field(
        None,
        description="`code`: visitors enter the event's access code (or open the QR poster's link) before searching; "
        "`open`: anyone who reaches the site may search. Unset: `code` when `DATA/access-code.json` exists, which a "
        "new data folder (no index yet) gets on first start; an existing data folder without one stays `open` until "
        "`faceexplore access-code` makes one ([privacy.md](privacy.md#the-event-access-code))",
        json_schema_extra={"shown_default": "`code` for a new data folder"},
    )
    event_name: str = Field(
        "our event",
        max_length=120,
        description="the event's name, on the QR poster and the search page's access notice",
    )
    consent_text: str = Field(
        DEFAULT_CONSENT,
        max_length=4000,
        description="the notice a visitor accepts (once per browser) before their first search: what happens to the "
        "selfie, that they search only for themselves, how to be removed",
        json_schema_extra={"shown_default": "a short notice (see `settings.py`)"},
    )
    # Issue 26: a visitor's "remove me", how long the biometric data is kept, "My photos" links.
    removal: Literal["immediate", "review"] = Field(
        "immediate",
        description='a visitor\'s "Remove me from this gallery": `immediate` takes their face out at once; `review` hides it '
        "from visitors at once too, and the organiser then confirms or refuses the request (History)",
    )
    retention_days: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="days after the data folder's first index after which `faceexplore purge` (and the watcher, once a day) "
        "erases the faces' embeddings, face crops, thumbnails, people's names, removals and saved searches; the search "
        "then closes. The gallery's photos are never touched. Unset: kept until `faceexplore purge --now`",
        json_schema_extra={"shown_default": "none (kept)"},
    )
    saved_search_days: Annotated[float, Field(gt=0, le=3650)] = Field(
        30, description='days a visitor\'s saved search ("My photos" link) is kept after it was saved'
    )
    secret_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(f"{ENV_PREFIX}SECRET_KEY", "SECRET_KEY"),
        description="key that signs or encrypts what the app hands out (the cookie, links, tokens); when unset, one is "
        "generated into `DATA/hidden_settings.py` (mode 600) on first start",
        json_schema_extra={"shown_default": "generated"},
    )

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        # Only what the caller passes: load_settings() reads the file and the environment.
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _refuse_renamed(cls, values: Any) -> Any:
        if isinstance(values, dict):
            for old in RENAMED:
                if old in values:
                    raise ValueError(renamed_message(old, old, lambda new: new))
        return values

    @field_validator("facenet_weights", "onnx_model", "frontend_dir", "secret_key", "search_access", "retention_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("upload_folder")
    @classmethod
    def _relative_visible_folder(cls, value: str) -> str:
        return upload_folder_rule(value)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):  # the environment: "photos.example.org, localhost"
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("offline", "cookie_secure", mode="before")
    @classmethod
    def _empty_is_false(cls, value: Any) -> Any:
        return False if value == "" else value

    @property
    def index_path(self) -> Path:
        return Path(self.data_dir) / "index.sqlite3"

    @property
    def cache_dir(self) -> Path:
        return Path(self.data_dir) / "cache"

    def replace(self, **changes) -> Settings:
        """A copy with ``changes``, validated like the original."""
        return type(self)(**{**dict(self), **changes})

    def embedder_options(self) -> dict:
        if self.model == "facenet":
            return {"weights": str(self.facenet_weights) if self.facenet_weights else None, "device": self.device, "offline": self.offline}
        if self.model == "onnx":
            return {
                "path": str(self.onnx_model) if self.onnx_model else "",
                "input_size": self.onnx_input_size,
                "mean": self.onnx_mean,
                "std": self.onnx_std,
            }
        return {"device": self.device}


def upload_folder_rule(pattern: str, when: float | None = None) -> str:
    """``pattern`` if the folder it names (on the day ``when``; default now) is a relative path
    inside the gallery that the gallery scan reads: no ``..``, no absolute path, no hidden
    (dot-)folder, which the scan would skip. Raises ValueError."""
    try:
        folder = time.strftime(pattern, time.localtime(when))
    except ValueError:
        raise ValueError(f"{pattern!r} is not a valid strftime pattern") from None
    parts = folder.replace("\\", "/").split("/")
    if not folder.strip() or folder.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", folder):
        raise ValueError("should be a folder relative to the gallery, e.g. uploads/%Y-%m-%d")
    if any(p in ("", ".", "..") or p.startswith(".") or re.search(r"[\x00-\x1f\x7f]", p) for p in parts):
        raise ValueError("should be a plain relative folder: no empty, '.', '..' or hidden (dot) parts")
    return pattern


def renamed_message(old: str, shown: str, new_name: Callable[[str], str]) -> str:
    uses = " or ".join(f"{new_name(new)} ({command})" for new, command in RENAMED[old].items())
    return f"{shown} is no longer read: it was split in two, use {uses}"


def env_names(name: str) -> tuple[str, ...]:
    """The environment variables a field is read from, first one first."""
    alias = Settings.model_fields[name].validation_alias
    return tuple(alias.choices) if isinstance(alias, AliasChoices) else (f"{ENV_PREFIX}{name.upper()}",)


def _field_name(key: str) -> str:
    for name in Settings.model_fields:
        if key.lower() in {name, *(n.lower() for n in env_names(name))}:
            return name
    return key


def rule(name: str) -> str:
    """The rule a field's values follow, in words (for error messages and documentation)."""
    field = Settings.model_fields[name]
    if name == "device":
        return DEVICE_RULE
    if name == "ray_address":
        return RAY_ADDRESS_RULE
    if getattr(field.annotation, "__origin__", None) is Literal:
        return "one of " + ", ".join(field.annotation.__args__)
    kinds = {int: "a whole number", float: "a number", bool: "true or false", Path: "a path", Path | None: "a path, or '' for none"}
    signs = {
        annotated_types.Gt: ("gt", ">"),
        annotated_types.Ge: ("ge", ">="),
        annotated_types.Lt: ("lt", "<"),
        annotated_types.Le: ("le", "<="),
    }
    bounds = [f"{signs[type(m)][1]} {getattr(m, signs[type(m)][0])}" for m in field.metadata if type(m) in signs]
    return " and ".join([" ".join([kinds.get(field.annotation, ""), *bounds[:1]]).strip(), *bounds[1:]])


class _EnvironmentSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (``os.environ`` or a test's)."""

    def __init__(self, settings_cls, environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self):
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _env_origin(env: Mapping[str, str], name: str) -> str:
    wanted = [n.lower() for n in env_names(name)]
    present = sorted((wanted.index(k.lower()), k) for k in env if k.lower() in wanted)
    return f"environment variable {present[0][1] if present else env_names(name)[0]}"


def _read_file(path: Path) -> dict:
    try:
        values = TomlConfigSettingsSource(Settings, toml_file=path).toml_data
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"the settings file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"the settings file {path} cannot be read: {exc.strerror}") from None
    for old in RENAMED:
        if old in values:
            raise SettingsError(renamed_message(old, f"the setting {old} in the settings file {path}", lambda new: new))
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(
            f"unknown settings in the settings file {path}: {', '.join(unknown)} (known: {', '.join(Settings.model_fields)})"
        )
    return values


def _describe(exc: ValidationError, origins: Mapping[str, str]) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        name = _field_name(str(error["loc"][0])) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown setting {name} from {origins.get(name, 'the settings')} (known: {', '.join(Settings.model_fields)})")
            continue
        if name not in Settings.model_fields:
            lines.append(f"{name or 'settings'} from {origins.get(name, 'the settings')}: {message}")
            continue
        shown = "'***'" if name == "secret_key" else repr(error["input"])
        words = rule(name)
        if words and words not in message:
            message += f" ({name} must be {words})"
        lines.append(f"{name} = {shown} from {origins.get(name, 'its default')}: {message}")
    return "\n".join(lines)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    override_origins: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from the defaults, the settings file, the environment and explicit overrides
    (highest wins; a None override is no override). ``override_origins`` names where each
    override came from (e.g. ``{"device": "command-line option --device"}``) for error messages.
    Raises ``SettingsError``."""
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    override_origins = override_origins or {}
    for old in RENAMED:
        variable = f"{ENV_PREFIX}{old.upper()}"
        if variable in env:
            raise SettingsError(renamed_message(old, f"the environment variable {variable}", lambda new: f"{ENV_PREFIX}{new.upper()}"))
        if old in overrides:
            raise SettingsError(renamed_message(old, override_origins.get(old, f"the override {old}"), lambda new: new))
    env_values = {_field_name(k): v for k, v in _EnvironmentSource(Settings, env)().items()}

    values, origins = {}, {}
    data_dir = Path(overrides.get("data_dir") or env_values.get("data_dir") or DEFAULT_DATA)
    settings_file = env.get(SETTINGS_FILE_VARIABLE)
    if settings_file and not Path(settings_file).is_file():
        raise SettingsError(f"the settings file {settings_file} named by {SETTINGS_FILE_VARIABLE} does not exist")
    path = Path(settings_file or data_dir / SETTINGS_FILE_NAME)
    if path.is_file():
        for name, value in _read_file(path).items():
            values[name], origins[name] = value, f"the settings file {path}"
    for name, value in env_values.items():
        values[name], origins[name] = value, _env_origin(env, name)
    for name, value in overrides.items():
        values[name], origins[name] = value, override_origins.get(name, f"the override {name}")
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, origins)) from None
