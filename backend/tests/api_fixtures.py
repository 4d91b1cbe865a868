"""A synthetic gallery for the fast web API tests: photos drawn with PIL, faces with synthetic
embeddings written through FaceIndex.add_photos and clustered, and a fake face pipeline that
reads a drawn sample photo's marks instead of running face models. No model weights, no shared
data: an app over it starts and answers in milliseconds."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

MODEL = "fake-embedder"
DIM = 128
GALLERY_PEOPLE = 5  # persons 0..4 are in the gallery
STRANGER = 5  # never in the gallery
FACE_BOXES = [(20.0 + 100 * k, 60.0, 90.0 + 100 * k, 150.0) for k in range(3)]

# path -> the people in it, left to right (a face each, in FACE_BOXES order)
GALLERY = {
    "album/beach.jpg": [0, 1],
    "album/dinner.jpg": [0, 2, 3],
    "album/garden.jpg": [1],
    "album/park.png": [2, 4],
    "album 2/été à Paris.jpg": [0, 4],
    "album 2/studio.jpg": [3],
    "album 2/trip.jpg": [1, 3, 4],
    "empty/landscape.jpg": [],
}
UNREADABLE = "empty/broken.jpg"  # indexed as an error: no size, no faces
LATE = "late/new.jpg"  # indexed after the clustering: its face has no person yet
LATE_PEOPLE = [2]


def people_centres(seed: int = 7) -> np.ndarray:
    """One unit vector per person: the gallery's people in one cone (as real faces are, so the
    search's null model has a spread to learn), the stranger on the far side of it."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=DIM)
    base /= np.linalg.norm(base)
    centres = base + rng.normal(scale=0.8 / np.sqrt(DIM), size=(STRANGER + 1, DIM))
    centres[STRANGER] = -centres[STRANGER]
    return centres / np.linalg.norm(centres, axis=1, keepdims=True)


def face_embedding(centres: np.ndarray, person: int, salt: bytes) -> np.ndarray:
    """The person's direction plus a little noise, fixed by ``salt``."""
    seed = int.from_bytes(hashlib.sha256(salt).digest()[:8], "little")
    v = centres[person] + np.random.default_rng(seed).normal(scale=0.05 / np.sqrt(DIM), size=DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


def drawn_photo(people: list[int], fmt: str = "JPEG", size=(320, 240)) -> bytes:
    """A photo with an ellipse where each face is (gallery photos)."""
    img = Image.new("RGB", size, (90, 140, 200))
    draw = ImageDraw.Draw(img)
    for k, person in enumerate(people):
        draw.ellipse(FACE_BOXES[k], fill=(230, 190 - 20 * person, 160))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


# A sample photo for the fake pipeline: its top-left cells say who is in it. Cell k (8x8 px at
# x = 8k) coloured (person * 20 + 20, 255, 0) is a face of that person at FACE_BOXES[k].
def sample_photo(people: list[int], size=(320, 240), fmt: str = "PNG") -> bytes:
    img = Image.new("RGB", size, (40, 40, 40))
    draw = ImageDraw.Draw(img)
    for k, person in enumerate(people):
        draw.rectangle((8 * k, 0, 8 * k + 7, 7), fill=(person * 20 + 20, 255, 0))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@dataclass
class FakeFace:
    box: tuple[float, float, float, float]
    probability: float = 0.99
    landmarks: list = field(default_factory=list)
    flags: list = field(default_factory=list)

    @property
    def area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


@dataclass
class FakeAnalysis:
    width: int
    height: int
    faces: list[FakeFace]
    embeddings: np.ndarray


class FakePipeline:
    """Stands in for FacePipeline: the same answer for the same bytes, no models."""

    def __init__(self, centres: np.ndarray, model_name: str = MODEL):
        self.centres = centres
        self.model_name = model_name
        self.calls = 0

    def analyse(self, source, timings=None, mirror_average: bool = False, max_decode_pixels=None) -> FakeAnalysis:
        from faceexplore.faces.images import load_photo

        self.calls += 1
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        rgb = Image.fromarray(load_photo(data).pixels)  # refuses what the real pipeline refuses
        faces, embeddings = [], []
        for k in range(len(FACE_BOXES)):
            if rgb.width < 8 * k + 8 or rgb.height < 8:
                break
            r, g, b = rgb.getpixel((8 * k + 3, 3))
            person = (r - 20) // 20
            if g != 255 or b != 0 or (r - 20) % 20 or not 0 <= person <= STRANGER:
                break
            faces.append(FakeFace(FACE_BOXES[k]))
            embeddings.append(face_embedding(self.centres, person, data + bytes([k])))
        return FakeAnalysis(rgb.width, rgb.height, faces, np.array(embeddings, np.float32).reshape(len(faces), DIM))


@dataclass
class SyntheticGallery:
    settings: object
    centres: np.ndarray
    photo_ids: dict[str, int]  # path -> id
    people_of: dict[str, list[int]]  # path -> the synthetic people in it

    def photos_of(self, person: int) -> set[str]:
        return {path for path, people in self.people_of.items() if person in people and path != LATE}


def _records(gallery: Path, paths_people, centres):
    from faceexplore.index.store import FaceRecord, PhotoRecord

    items = []
    for path, people in paths_people:
        data = drawn_photo(people, fmt="PNG" if path.endswith(".png") else "JPEG")
        file = gallery / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        st = file.stat()
        faces = [
            FaceRecord(FACE_BOXES[k], [(0.0, 0.0)] * 5, 0.99, [], face_embedding(centres, person, path.encode() + bytes([k])))
            for k, person in enumerate(people)
        ]
        items.append((PhotoRecord(path, st.st_size, st.st_mtime_ns, 320, 240), faces))
    return items


def build_gallery(base: Path, clustered: bool = True, **settings_changes) -> SyntheticGallery:
    """The gallery under ``base``: indexed, clustered (unless ``clustered`` is False), then one
    more photo indexed after the clustering."""
    from faceexplore.index.store import FaceIndex, PhotoRecord
    from faceexplore.people.clustering import cluster_index
    from faceexplore.settings import Settings

    # no rate limits unless a test asks: the tests send many requests from one address; no access
    # code unless a test asks (test_access_code.py): these tests are about what comes after it
    defaults = {"rate_limits": "off", "search_access": "open"}
    settings = Settings(data_dir=base / "data", gallery_dir=base / "gallery", frontend_dir="", **{**defaults, **settings_changes})
    centres = people_centres()
    gallery = Path(settings.gallery_dir)
    with FaceIndex(settings.index_path) as index:
        index.check_model(MODEL, DIM)
        index.add_photos(_records(gallery, GALLERY.items(), centres), MODEL)
        broken = gallery / UNREADABLE
        broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
        st = broken.stat()
        index.add_photos([(PhotoRecord(UNREADABLE, st.st_size, st.st_mtime_ns, status="error", error="cannot be decoded"), [])], MODEL)
        if clustered:
            cluster_index(index, progress=lambda *a, **k: None)
        index.add_photos(_records(gallery, [(LATE, LATE_PEOPLE)], centres), MODEL)
        photo_ids = {path: pid for pid, path in index.all_photo_paths().items()}
    people_of = {**GALLERY, UNREADABLE: [], LATE: LATE_PEOPLE}
    return SyntheticGallery(settings, centres, photo_ids, people_of)


def make_app(gallery: SyntheticGallery, pipeline=None, **settings_changes):
    from faceexplore.web import create_app

    settings = gallery.settings.replace(**settings_changes) if settings_changes else gallery.settings
    app = create_app(settings, pipeline=pipeline or FakePipeline(gallery.centres))
    app.testing = True
    return app


ORGANISER_PASSWORD = "correct horse battery staple"


def log_in(client, settings, password: str = ORGANISER_PASSWORD) -> str:
    """Log ``client`` in as the organiser (setting the password first if none is set); the CSRF
    token for its changes."""
    from faceexplore.web.session import auth

    if auth.load_password(settings.data_dir) is None:
        auth.set_password(settings.data_dir, password)
    r = client.post("/api/session", json={"password": password})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["csrf_token"]


LATIN1_NAME = b"album/caf\xe9.jpg"  # a file name that is not UTF-8 (copied from an old Latin-1 system)
LATIN1_PEOPLE = [1]


def add_latin1_photo(gallery: SyntheticGallery) -> int:
    """Adds the photo named LATIN1_NAME on disk to the gallery and its index; returns its id."""
    import os

    from faceexplore.index.gallery import stored_path
    from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord

    name = os.fsdecode(LATIN1_NAME)
    file = Path(gallery.settings.gallery_dir) / name
    file.write_bytes(drawn_photo(LATIN1_PEOPLE))
    st = file.stat()
    stored = stored_path(name)
    faces = [FaceRecord(FACE_BOXES[0], [(0.0, 0.0)] * 5, 0.99, [], face_embedding(gallery.centres, LATIN1_PEOPLE[0], LATIN1_NAME))]
    with FaceIndex(gallery.settings.index_path) as index:
        index.add_photos([(PhotoRecord(stored, st.st_size, st.st_mtime_ns, 320, 240), faces)], MODEL)
        pid = {path: pid for pid, path in index.all_photo_paths().items()}[stored]
    gallery.photo_ids[stored] = pid
    gallery.people_of[stored] = LATIN1_PEOPLE
    return pid


def served_app():
    """The app over the synthetic gallery built under $FACEEXPLORE_SYNTHETIC_BASE, with the fake
    pipeline, for gunicorn: ``gunicorn 'tests.api_fixtures:served_app()'``. Settings beyond the
    folders come from FACEEXPLORE_* variables."""
    import os

    from faceexplore.settings import load_settings
    from faceexplore.web import create_app

    base = Path(os.environ["FACEEXPLORE_SYNTHETIC_BASE"])
    access = os.environ.get("FACEEXPLORE_SEARCH_ACCESS") or "open"  # as build_gallery: no code unless asked
    settings = load_settings({"data_dir": base / "data", "gallery_dir": base / "gallery", "frontend_dir": "", "search_access": access})
    return create_app(settings, pipeline=FakePipeline(people_centres()))


def private_site_fixtures(scope: str):
    """The fixtures of a test module on a private site (the defaults, an organiser password set):
    ``gallery``, ``app``, ``spec`` at ``scope``, and fresh ``visitor`` and ``organiser`` clients
    (the organiser logged in, ``.csrf`` holding the token). Module scope for tests that only read;
    function scope for tests that change the gallery. Use:
    ``gallery, app, spec, visitor, organiser = private_site_fixtures("module")``."""
    import pytest

    from faceexplore.web.session import auth
    from tests.test_api_contract import CheckedClient

    @pytest.fixture(scope=scope)
    def gallery(tmp_path_factory):
        built = build_gallery(tmp_path_factory.mktemp("private"))
        auth.set_password(built.settings.data_dir, ORGANISER_PASSWORD)
        return built

    @pytest.fixture(scope=scope)
    def app(gallery):
        return make_app(gallery)

    @pytest.fixture(scope=scope)
    def spec(app):
        return app.test_client().get("/api/openapi.json").get_json()

    @pytest.fixture()
    def visitor(app, spec):
        return CheckedClient(app.test_client(), spec)

    @pytest.fixture()
    def organiser(app, spec, gallery):
        api = CheckedClient(app.test_client(), spec)
        api.csrf = log_in(api.client, gallery.settings)
        return api

    return gallery, app, spec, visitor, organiser
