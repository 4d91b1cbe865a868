"""Face detection (facenet-pytorch's MTCNN on the installed torch) on real photos."""

import json
import sqlite3

import helpers
import numpy as np
import pytest
from PIL import Image

from faceexplore.faces.detection import TINY_FACE_PIXELS, DetectedFace, FaceDetector, _drop_duplicates


@pytest.fixture(scope="module")
def detector(pipeline):
    return pipeline.detector


@pytest.fixture(scope="module")
def hopper():
    return np.asarray(helpers.face_image())


def test_mtcnn_finds_the_one_face_of_a_portrait(detector, hopper):
    faces = detector.detect(hopper)
    assert len(faces) == 1
    face = faces[0]
    x1, y1, x2, y2 = face.box
    assert face.probability > 0.99 and face.flags == []
    assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 600
    assert 120 < face.width < 300 and 120 < face.height < 300  # her face is about 180x220 px
    assert 200 < (x1 + x2) / 2 < 330 and 150 < (y1 + y2) / 2 < 320
    (lex, ley), (rex, rey), (nx, ny), (lmx, lmy), (rmx, rmy) = face.landmarks
    for x, y in face.landmarks:
        assert x1 <= x <= x2 and y1 <= y <= y2
    assert lex < nx < rex and lmx < rmx  # left eye, nose, right eye from left to right
    assert max(ley, rey) < ny < min(lmy, rmy)  # eyes above the nose above the mouth


def test_boxes_are_in_original_photo_coordinates_at_any_scale(detector, hopper):
    full = detector.detect(hopper)[0]
    half_pixels = np.asarray(Image.fromarray(hopper).resize((256, 300), Image.BILINEAR))
    half = detector.detect(half_pixels, scale=0.5)
    assert len(half) == 1
    assert helpers.iou(full.box, half[0].box) > 0.75, (full.box, half[0].box)
    assert np.abs(np.subtract(full.landmarks, half[0].landmarks)).max() < 15


def test_a_face_filling_the_frame_is_found_with_the_padded_retry(detector, hopper):
    crop = np.ascontiguousarray(hopper[145:315, 199:331])  # tighter than the face itself
    boxes, _, _ = detector.mtcnn.detect(crop)
    assert boxes is None, "precondition: MTCNN alone misses a face that fills the frame"
    faces = detector.detect(crop)
    assert len(faces) == 1
    x1, y1, x2, y2 = faces[0].box
    assert x1 >= 0 and y1 >= 0 and x2 <= crop.shape[1] and y2 <= crop.shape[0]
    assert faces[0].area > 0.6 * crop.shape[0] * crop.shape[1]


def test_no_face_in_blank_or_noise(detector):
    assert detector.detect(np.full((300, 400, 3), 128, np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert detector.detect(noise) == []


def test_small_faces_are_found_and_flagged_tiny(detector):
    canvas = np.asarray(helpers.landscape(800, 800))
    canvas = canvas.copy()
    small = np.asarray(helpers.face_image().resize((100, 117)))
    canvas[300:417, 300:400] = small
    faces = detector.detect(canvas)
    assert len(faces) == 1
    assert min(faces[0].width, faces[0].height) < TINY_FACE_PIXELS
    assert "tiny" in faces[0].flags
    assert faces[0].box[0] >= 300 and faces[0].box[2] <= 400


def test_several_faces_in_one_photo(detector):
    face = helpers.face_image().resize((256, 300))
    canvas = helpers.landscape(1200, 500)
    for x in (50, 470, 890):
        canvas.paste(face, (x, 100))
    faces = detector.detect(np.asarray(canvas))
    assert len(faces) == 3
    assert [f.box[0] for f in faces] == sorted(f.box[0] for f in faces)  # left to right
    for f, x in zip(faces, (50, 470, 890)):
        assert x <= f.box[0] and f.box[2] <= x + 256


class _FakeMTCNN:
    """Stands in for MTCNN's detect to test what FaceDetector does with its raw output."""

    def __init__(self, boxes, probs):
        self.boxes, self.probs = np.array(boxes, np.float32), np.array(probs, np.float32)

    def detect(self, pixels):
        points = np.stack([np.stack([(b[:2] + b[2:]) / 2] * 5) for b in self.boxes])
        return self.boxes, self.probs, points


def test_raw_detections_are_clipped_scaled_flagged_and_deduplicated():
    det = FaceDetector.__new__(FaceDetector)
    det.mtcnn = _FakeMTCNN(
        [
            [-20, -10, 80, 110],  # runs past the top-left border
            [-5, 0, 90, 115],  # the same face again, less probable
            [300, 50, 400, 160],  # another face, doubtful
            [395, 10, 420, 40],  # 1 px wide once clipped to the 396 px wide image
        ],
        [0.999, 0.98, 0.9, 0.99],
    )
    faces = det.detect(np.zeros((200, 396, 3), np.uint8), scale=0.5)
    assert len(faces) == 2
    a, b = faces
    assert a.box == (0.0, 0.0, 160.0, 220.0)  # clipped, then scaled to the original photo
    assert a.probability == pytest.approx(0.999) and a.flags == []
    assert b.box == (600.0, 100.0, 792.0, 320.0) and b.flags == ["doubtful"]
    assert a.landmarks[0] == pytest.approx((60.0, 100.0))


def test_drop_duplicates_keeps_separate_faces():
    f = lambda box, p: DetectedFace(box, p, [(0, 0)] * 5)  # noqa: E731
    kept = _drop_duplicates([f((0, 0, 100, 100), 0.9), f((10, 10, 60, 60), 0.99), f((100, 0, 200, 100), 0.95)])
    # the small box lies inside the big one: the big, less probable one goes
    assert [k.box for k in kept] == [(10, 10, 60, 60), (100, 0, 200, 100)]
    side_by_side = [f((0, 0, 100, 100), 0.9), f((60, 0, 160, 100), 0.9)]  # 40% overlap: two people
    assert len(_drop_duplicates(side_by_side)) == 2


def test_cuda_asked_for_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        FaceDetector(device="cuda")


# -- shared data: BBT and LFW ------------------------------------------------------------------
def _bbt_face_counts(bbt_index):
    _, data, _ = bbt_index
    db = sqlite3.connect(f"file:{data / 'index.sqlite3'}?mode=ro", uri=True)
    rows = db.execute("SELECT p.path, p.status, COUNT(f.id) FROM photos p LEFT JOIN faces f ON f.photo_id = p.id GROUP BY p.id").fetchall()
    db.close()
    assert all(status == "ok" for _, status, _ in rows), rows
    return {path: n for path, _, n in rows}


@pytest.mark.shared_data("bbt")
def test_bbt_every_portrait_has_exactly_one_face(datasets, bbt_index):
    counts = _bbt_face_counts(bbt_index)
    portraits = sorted(f"people/{p.parent.name}/{p.name}" for p in (datasets / "bbt" / "people").glob("*/*.png"))
    assert len(portraits) == 40
    wrong = {p: counts.get(p) for p in portraits if counts.get(p) != 1}
    assert not wrong, f"portraits without exactly one face: {wrong}"


@pytest.mark.shared_data("bbt")
def test_bbt_group_photos_have_every_listed_face(datasets, bbt_index):
    counts = _bbt_face_counts(bbt_index)
    truth = json.loads((datasets / "bbt" / "truth.json").read_text())["group"]
    assert len(truth) == 5
    short = {path: (counts.get(path), len(names)) for path, names in truth.items() if (counts.get(path) or 0) < len(names)}
    assert not short, f"group photos with fewer faces than people listed (found, listed): {short}"
    assert sum(counts[p] for p in truth) <= sum(len(n) for n in truth.values()) + 6  # a few strangers, not noise


@pytest.mark.shared_data("lfw-dev")
def test_lfw_a_face_is_found_in_at_least_99_percent(datasets, lfw_analysed):
    assert len(lfw_analysed) >= 150
    missed = [str(path) for _, path, a in lfw_analysed if not a.faces]
    assert len(missed) <= 0.01 * len(lfw_analysed), f"no face found in {len(missed)} photos: {missed}"
    # the subject (LFW centres the face) is a face of a normal size, not a background speck
    for _, path, a in lfw_analysed:
        if a.faces:
            subject = a.faces[helpers.central_face(a)]
            assert 40 < subject.width < 200, (path, subject.box)
