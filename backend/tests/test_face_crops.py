"""Face crops and covers show the person's own face: each crop is the square of face_square
(thumbnails.py) on a real BBT group photo, centred on its face's box, inside the photo, shifted
not shrunk at the edges; a person's cover is their most central, sharpest face (index/covers.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from faceexplore.index.covers import choose_cover, sharpness
from faceexplore.web.gallery.thumbnails import FACE_MARGIN, face_square, make_face_crop
from tests.web_conftest import shared_bbt_index

pytestmark = pytest.mark.shared_data("bbt")


@pytest.fixture(scope="module")
def bbt(tmp_path_factory, pipeline):
    return shared_bbt_index(tmp_path_factory, pipeline)


def _faces(settings):
    from faceexplore.index.store import FaceIndex

    with FaceIndex(settings.index_path, readonly=True) as index:
        rows = index.db.execute(
            "SELECT f.id, f.x1, f.y1, f.x2, f.y2, p.path, p.width, p.height FROM faces f JOIN photos p ON p.id = f.photo_id ORDER BY f.id"
        ).fetchall()
        return index.meta("index_id"), [dict(r) for r in rows]


def _reference(photo: Image.Image, square, size=160) -> np.ndarray:
    """The square cut straight from the full photo: what the crop must show."""
    left, top, side = square
    square = photo.crop((round(left), round(top), round(left + side), round(top + side)))
    return np.asarray(square.resize((size, size), Image.LANCZOS), np.float64)


def _offset(crop: np.ndarray, reference: np.ndarray, reach: int = 8) -> tuple[int, int]:
    """How far (x, y, in crop pixels) the crop's content sits from the reference's: the shift
    that matches them best. Position, not resampling or JPEG noise, is what the tests ask about."""
    best = None
    n = crop.shape[0]
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            a = crop[max(dy, 0) : n + min(dy, 0), max(dx, 0) : n + min(dx, 0)]
            b = reference[max(-dy, 0) : n + min(-dy, 0), max(-dx, 0) : n + min(-dx, 0)]
            err = np.abs(a - b).mean()
            if best is None or err < best[0]:
                best = (err, dx, dy)
    return best[1], best[2]


def _assert_centred_inside(square, box, width, height):
    left, top, side = square
    x1, y1, x2, y2 = box
    assert 0 <= left and left + side <= width + 1e-6 and 0 <= top and top + side <= height + 1e-6
    assert side == pytest.approx(min(max(x2 - x1, y2 - y1) * FACE_MARGIN, width, height))
    # centred on the face, or shifted just enough to stay inside: then it touches that edge
    for lo, hi, limit, centre in ((left, left + side, width, (x1 + x2) / 2), (top, top + side, height, (y1 + y2) / 2)):
        if (lo + hi) / 2 != pytest.approx(centre):
            assert lo == pytest.approx(0) or hi == pytest.approx(limit)
            assert abs((lo + hi) / 2 - centre) <= side / 2  # the face's centre is still in the crop


def test_every_crop_is_centred_on_its_face_and_inside_the_photo(bbt, pipeline):
    from faceexplore.web import create_app

    settings = bbt[0]
    app = create_app(settings.replace(frontend_dir="", people_page="public", gallery_access="public"), pipeline=pipeline)
    client = app.test_client()
    index_id, faces = _faces(settings)
    shifted = 0
    for face in faces:
        box = (face["x1"], face["y1"], face["x2"], face["y2"])
        square = face_square(box, (face["width"], face["height"]))
        _assert_centred_inside(square, box, face["width"], face["height"])
        shifted += square[0] == 0 or square[1] == 0 or square[0] + square[2] >= face["width"] - 1e-6
        r = client.get(f"/cache/{index_id}/faces/160/{face['id']}.jpg")
        assert r.status_code == 200
        crop = np.asarray(Image.open(io.BytesIO(r.get_data())).convert("RGB"), np.float64)
        with Image.open(settings.gallery_dir / face["path"]) as photo:
            reference = _reference(photo.convert("RGB"), square)
        assert crop.shape == reference.shape == (160, 160, 3)
        dx, dy = _offset(crop, reference)
        assert abs(dx) <= 1 and abs(dy) <= 1, f"face {face['id']} of {face['path']}: the crop is off its square by {dx}, {dy} px"
    assert shifted, "no face near a photo's edge: the shift is untested"


def test_a_large_photo_decoded_reduced_is_cropped_at_the_same_square(bbt, tmp_path):
    """A photo several times the crop's need is decoded reduced (JPEG draft, whose two scales
    differ by the rounding): the crop is still the face's square."""
    settings = bbt[0]
    _, faces = _faces(settings)
    face = max(faces, key=lambda f: f["width"])
    k = 5
    with Image.open(settings.gallery_dir / face["path"]) as photo:
        big = photo.convert("RGB").resize((face["width"] * k + 3, face["height"] * k + 5), Image.LANCZOS)
    source = tmp_path / "big.jpg"
    big.save(source, quality=92)
    sx, sy = big.width / face["width"], big.height / face["height"]
    for face in [f for f in faces if f["path"] == face["path"]]:
        box = (face["x1"] * sx, face["y1"] * sy, face["x2"] * sx, face["y2"] * sy)
        crop = np.asarray(make_face_crop(source, box, big.size, 160), np.float64)
        reference = _reference(big, face_square(box, big.size))
        dx, dy = _offset(crop, reference)
        assert abs(dx) <= 1 and abs(dy) <= 1, f"face {face['id']}: the crop is off its square by {dx}, {dy} px"


def test_a_photo_smaller_than_the_square_is_shown_whole_across():
    # a 100×60 photo, a 50 px face: the 80 px square is shrunk to the photo's height, centred in x
    assert face_square((25, 5, 75, 55), (100, 60)) == (20.0, 0.0, 60.0)
    # near the left edge: shifted right, not shrunk
    assert face_square((0, 100, 40, 140), (500, 500)) == (0.0, 88.0, 64.0)


def test_the_cover_is_the_sharpest_of_the_central_half_clean_first():
    X = np.array([[1, 0], [0.95, 0.05], [0.9, 0.1], [0.3, 0.7], [1, 0.02]])
    sharp = [10, 50, 30, 500, 5]  # face 3 is the sharpest, but far from the person's mean
    flags = ["", "", "", "", ""]
    assert choose_cover(X, flags, sharp) == 1
    assert choose_cover(X, ["", "doubtful", "", "", ""], sharp) == 2  # a clean one before a doubtful one
    assert choose_cover(X, ["tiny"] * 5, sharp) == 1  # none clean: all of them
    assert choose_cover(X[:1], [""], [0]) == 0
    assert sharpness(0.9, 10, 10, 110, 60) == pytest.approx(45.0)  # probability × shorter side


def test_every_cover_of_the_bbt_gallery_is_its_persons_most_central_sharpest_face(bbt):
    from faceexplore.index.store import FaceIndex

    settings = bbt[0]
    with FaceIndex(settings.index_path, readonly=True) as index:
        clustering = index.active_clustering()["id"]
        covers = dict(index.db.execute("SELECT cluster_id, cover_face_id FROM clusters WHERE clustering_id = ?", (clustering,)).fetchall())
        ids, _, X, flags = index.embeddings()
        sharp = index.face_sharpness()
        members = index.active_memberships()
    assert covers
    for person, cover in covers.items():
        mine = [i for i, f in enumerate(ids) if members.get(int(f)) == person]
        assert cover == int(ids[mine[choose_cover(X[mine], [flags[i] for i in mine], sharp[mine])]])
        # the cover is no less sharp than any face as near the mean as it
        d = np.linalg.norm(X[mine] - X[mine].mean(0), axis=1)
        at = mine.index(int(np.flatnonzero(ids == cover)[0]))
        assert all(sharp[mine[j]] <= sharp[mine[at]] for j in range(len(mine)) if d[j] <= d[at] and not flags[mine[j]])
