"""FacePipeline with models handed to it: a fake detector and a fake embedder (no weights) on a
drawn photo show what analyse() does with them: which image each model sees, at which scale, and
what comes back."""

from __future__ import annotations

import helpers
import numpy as np
import pytest
from PIL import Image, ImageDraw

from faceexplore.faces.detection import DetectedFace
from faceexplore.faces.embedders.base import FaceEmbedder
from faceexplore.faces.pipeline import FacePipeline

WIDTH, HEIGHT = 2000, 1000
RED_SQUARE = (1200, 300, 1400, 500)  # the "face", in the photo's pixels


def drawn_photo(with_face: bool = True) -> bytes:
    img = Image.new("RGB", (WIDTH, HEIGHT), (128, 128, 128))
    draw = ImageDraw.Draw(img)
    draw.ellipse((100, 100, 700, 900), fill=(30, 60, 200))  # not a face: blue
    if with_face:
        draw.rectangle(RED_SQUARE, fill=(230, 20, 20))
    return helpers.jpeg_bytes(img, quality=95)


class RedSquareDetector:
    """Finds the red pixels of the image it is given; reports them in the photo's coordinates."""

    def __init__(self):
        self.seen = []  # (image shape, scale) per call

    def detect(self, pixels: np.ndarray, scale: float = 1.0) -> list[DetectedFace]:
        self.seen.append((pixels.shape, scale))
        r, g, b = (pixels[..., c].astype(int) for c in range(3))
        ys, xs = np.nonzero((r > 180) & (g < 80) & (b < 80))
        if not len(xs):
            return []
        x1, y1, x2, y2 = xs.min() / scale, ys.min() / scale, (xs.max() + 1) / scale, (ys.max() + 1) / scale
        w, h = x2 - x1, y2 - y1
        landmarks = [(x1 + 0.3 * w, y1 + 0.4 * h), (x1 + 0.7 * w, y1 + 0.4 * h), (x1 + 0.5 * w, y1 + 0.6 * h)]
        landmarks += [(x1 + 0.35 * w, y1 + 0.8 * h), (x1 + 0.65 * w, y1 + 0.8 * h)]
        return [DetectedFace((x1, y1, x2, y2), 0.99, landmarks)]


class MeanColourEmbedder(FaceEmbedder):
    """The mean colour inside the face's box of the crop the base class makes."""

    name = "mean-colour"
    dim = 3

    def __init__(self, face_pixels: int):
        self.face_pixels = face_pixels
        self.calls = []  # (image width, [face boxes], scale) per embed() call

    def embed(self, pixels, faces, scale=1.0):
        self.calls.append((pixels.shape[1], [f.box for f in faces], scale))
        return super().embed(pixels, faces, scale)

    def embed_region(self, region, box, landmarks):
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        return region[y1:y2, x1:x2].reshape(-1, 3).mean(0)


def pipeline_with(face_pixels: int, detect_size: int = 400):
    detector, embedder = RedSquareDetector(), MeanColourEmbedder(face_pixels)
    return FacePipeline(detector, embedder, detect_size=detect_size), detector, embedder


def test_the_detector_sees_the_photo_at_detect_size_and_faces_come_back_in_photo_pixels():
    pipeline, detector, embedder = pipeline_with(face_pixels=40)
    result = pipeline.analyse(drawn_photo())
    assert (result.width, result.height) == (WIDTH, HEIGHT)
    ((shape, scale),) = detector.seen
    assert shape == (200, 400, 3) and scale == pytest.approx(0.2)
    (face,) = result.faces
    assert face.box == pytest.approx(RED_SQUARE, abs=2 / scale)  # within two detection pixels
    assert pipeline.model_name == "mean-colour"
    # the embedding is the red square's colour, L2-normalised
    (vector,) = result.embeddings
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert vector == pytest.approx(np.array([230, 20, 20]) / np.linalg.norm([230, 20, 20]), abs=0.03)


def test_the_embedder_crops_from_the_decoder_s_larger_image_when_it_has_pixels_enough():
    # the JPEG decoder reduces 2000 px to 500 (between detect_size and twice it): the 200-px
    # face is 50 px there, enough for an embedder that wants 40
    pipeline, _, embedder = pipeline_with(face_pixels=40)
    pipeline.analyse(drawn_photo())
    ((width, boxes, scale),) = embedder.calls
    assert width == 500 and scale == pytest.approx(0.25)
    assert boxes[0] == pytest.approx(RED_SQUARE, abs=10)


def test_a_face_too_small_for_the_embedder_is_decoded_again_larger():
    # an embedder that wants 112 px: the photo is decoded again at 112/200 of its size
    pipeline, _, embedder = pipeline_with(face_pixels=112)
    result = pipeline.analyse(drawn_photo())
    ((width, _, scale),) = embedder.calls
    assert width == 1120 and scale == pytest.approx(0.56)
    assert result.embeddings[0][0] > 0.99  # still the red square


def test_the_second_decode_stays_within_max_decode_pixels():
    # the photo is 2 megapixels: decoding it at 1120 px means decoding it whole (JPEG reduces by
    # 2, 4 or 8 only). Allowed 1 megapixel, it is decoded at half size instead (0.5 megapixel);
    # allowed less than the first decode gave, it is not decoded again
    for allowed, expected_width in ((1_000_000, 1000), (100_000, 500), (None, 1120)):
        pipeline, _, embedder = pipeline_with(face_pixels=112)
        result = pipeline.analyse(drawn_photo(), max_decode_pixels=allowed)
        ((width, _, _),) = embedder.calls
        assert width == expected_width, allowed
        assert result.embeddings[0][0] > 0.99


def test_mirror_average_embeds_the_mirrored_face_too():
    pipeline, _, embedder = pipeline_with(face_pixels=40)
    result = pipeline.analyse(drawn_photo(), mirror_average=True)
    (width, (box,), _), (mirror_width, (mirrored,), _) = embedder.calls
    assert mirror_width == width
    assert mirrored == pytest.approx((WIDTH - box[2], box[1], WIDTH - box[0], box[3]))
    assert np.linalg.norm(result.embeddings[0]) == pytest.approx(1.0, abs=1e-5)
    assert result.embeddings[0][0] > 0.99


def test_a_photo_without_faces_has_no_embeddings():
    pipeline, detector, embedder = pipeline_with(face_pixels=40)
    result = pipeline.analyse(drawn_photo(with_face=False))
    assert result.faces == [] and result.embeddings.shape == (0, 3)
    assert len(detector.seen) == 1


def test_detect_size_is_the_pipeline_s_own():
    pipeline, detector, _ = pipeline_with(face_pixels=40, detect_size=1000)
    result = pipeline.analyse(drawn_photo())
    ((shape, scale),) = detector.seen
    assert shape == (500, 1000, 3) and scale == pytest.approx(0.5)
    assert result.faces[0].box == pytest.approx(RED_SQUARE, abs=4)
