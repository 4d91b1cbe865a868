"""Our MTCNN cascade against facenet-pytorch's own ``MTCNN.detect`` on the same networks."""

import helpers
import numpy as np
import pytest
import torch
from PIL import Image

from faceexplore.faces.images import load_photo
from faceexplore.faces.mtcnn import MTCNN, PYRAMID_REDUCING_GAP


@pytest.fixture(scope="module")
def ours():
    return MTCNN(min_face_size=20)


@pytest.fixture(scope="module")
def ours_with_every_level_from_the_photo():
    """The pyramid as facenet-pytorch makes it: every level averaged from the photo itself."""
    return MTCNN(min_face_size=20, reducing_gap=None)


@pytest.fixture(scope="module")
def theirs():
    from facenet_pytorch import MTCNN as FacenetMTCNN

    return FacenetMTCNN(keep_all=True, min_face_size=20)


def _sorted(boxes, probs, points):
    """Detections left to right."""
    order = np.argsort(boxes[:, 0])
    return boxes[order], probs[order], points[order]


def _theirs_sorted(mtcnn, pixels):
    """facenet-pytorch's detections (object arrays) as float arrays, left to right."""
    return _sorted(*(np.array(a.tolist(), float) for a in mtcnn.detect(pixels, landmarks=True)))


def _area_resample_with_pillow(img, size):
    """facenet-pytorch's resampler swapped for the box filter ours uses, so the two cascades
    see the same pixels and only their stages can differ."""
    out = [Image.fromarray(im.permute(1, 2, 0).round().clamp(0, 255).byte().numpy()).resize(size[::-1], Image.BOX) for im in img]
    return torch.stack([torch.from_numpy(np.array(im)).permute(2, 0, 1).float() for im in out])


def test_same_stages_as_facenet_pytorch_given_the_same_resampling(ours_with_every_level_from_the_photo, theirs, monkeypatch):
    import facenet_pytorch.models.utils.detect_face as facenet_detect

    monkeypatch.setattr(facenet_detect, "imresample", _area_resample_with_pillow)
    pixels = helpers.three_faces()
    expected = _theirs_sorted(theirs, pixels)
    got = _sorted(*ours_with_every_level_from_the_photo.detect(pixels))
    assert len(got[0]) == len(expected[0]) == 3
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=1e-3)


def test_finds_the_faces_facenet_pytorch_finds(ours, theirs):
    pixels = helpers.three_faces()
    boxes, probs, points = _sorted(*ours.detect(pixels))
    expected_boxes, _, expected_points = _theirs_sorted(theirs, pixels)
    assert len(boxes) == len(expected_boxes) == 3
    widths = expected_boxes[:, 2] - expected_boxes[:, 0]
    # The two area filters differ only in how they share out pixels at a bin's edge, but
    # MTCNN's boxes move by several percent of the face with any change of pixels.
    assert min(helpers.iou(a, b) for a, b in zip(boxes, expected_boxes)) > 0.85
    assert (np.abs(points - expected_points).max((1, 2)) < 0.1 * widths).all()
    assert (probs > 0.95).all()


def test_nothing_in_a_blank_picture_or_one_too_small_for_a_face(ours):
    assert ours.detect(np.full((300, 400, 3), 128, np.uint8)) == (None, None, None)
    assert ours.detect(np.full((15, 15, 3), 128, np.uint8)) == (None, None, None)


def test_group_photos_give_the_faces_facenet_pytorch_gives(ours, theirs, bbt_dir):
    for path in sorted((bbt_dir / "group").iterdir()):
        pixels = load_photo(path, max_side=1600).pixels
        boxes, _, _ = ours.detect(pixels)
        expected, probs, _ = _theirs_sorted(theirs, pixels)
        # A face near a stage's threshold may go either way with a slightly different filter.
        # Boxes are compared inside the photo: facenet-pytorch stretches the part of a border
        # face's window that lies in the photo, ours pads it, so their boxes differ out there.
        inside = lambda box, pixels=pixels: np.clip(box, 0, [pixels.shape[1], pixels.shape[0]] * 2)  # noqa: E731
        for box in expected[probs > 0.99]:
            overlap = max(helpers.iou(inside(box), inside(b)) for b in boxes)
            assert overlap > 0.7, (path.name, box.tolist())


def test_small_levels_from_halvings_keep_the_large_levels_and_the_faces(ours, ours_with_every_level_from_the_photo, bbt_dir):
    """The default pyramid averages its small levels (large faces) from halvings of the photo:
    its large levels, where the smallest faces are found, are still the photo's own average,
    pixel for pixel, and every bbt group photo gives the faces of the pyramid made from the
    photo alone. Their boxes may move a little: other candidates of a large face win PNet's
    non-maximum suppression."""
    faces = 0
    for path in sorted((bbt_dir / "group").iterdir()):
        pixels = load_photo(path, max_side=1600).pixels
        image = Image.fromarray(pixels)
        levels, expected_levels = list(ours._pyramid(image)), list(ours_with_every_level_from_the_photo._pyramid(image))
        assert [scale for scale, _ in levels] == [scale for scale, _ in expected_levels]
        from_the_photo = 0
        for (_, level), (_, expected) in zip(levels, expected_levels):
            assert level.size == expected.size
            difference = np.abs(np.asarray(level, float) - np.asarray(expected, float))
            if min(image.width / level.width, image.height / level.height) < 2 * PYRAMID_REDUCING_GAP:
                assert difference.max() == 0, path.name  # no halving is small enough: the photo itself
                from_the_photo += 1
            else:
                # The halving's blocks do not line up with the level's pixels: each level pixel
                # averages a slightly different patch, up to 6.6 grey levels apart on average on
                # these photos (moving the photo by one pixel changes its large levels by 4 to 8).
                assert difference.mean() < 8, path.name
        assert from_the_photo >= 4  # the levels for faces of 20 to about 55 px
        got, expected = _sorted(*ours.detect(pixels)), _sorted(*ours_with_every_level_from_the_photo.detect(pixels))
        assert len(got[0]) == len(expected[0]), path.name
        assert all(helpers.iou(a, b) > 0.8 for a, b in zip(got[0], expected[0])), path.name
        faces += len(got[0])
    assert faces >= 20


@pytest.fixture(scope="module")
def ours_in_openvino():
    return MTCNN(min_face_size=20, runtime="openvino")


def test_openvino_runtime_finds_the_faces_pytorch_finds(ours, ours_in_openvino, bbt_dir):
    """The same networks compiled by OpenVINO: the same faces, boxes, scores and landmarks to
    float rounding, on every bbt photo (group photos and portraits)."""
    photos = sorted((bbt_dir / "group").iterdir()) + sorted(p for p in (bbt_dir / "people").rglob("*") if p.is_file())[::3]
    faces = 0
    for path in photos:
        pixels = load_photo(path, max_side=1600).pixels
        expected, got = ours.detect(pixels), ours_in_openvino.detect(pixels)
        assert (got[0] is None) == (expected[0] is None), path.name
        if expected[0] is None:
            continue
        expected, got = _sorted(*expected), _sorted(*got)
        assert len(got[0]) == len(expected[0]), path.name
        np.testing.assert_allclose(got[0], expected[0], atol=0.05, err_msg=path.name)  # box corners, pixels
        np.testing.assert_allclose(got[1], expected[1], atol=1e-4, err_msg=path.name)  # probabilities
        np.testing.assert_allclose(got[2], expected[2], atol=0.05, err_msg=path.name)  # landmarks, pixels
        faces += len(got[0])
    assert faces >= len(photos)


def test_openvino_runtime_detects_from_several_threads_at_once(ours_in_openvino):
    """The web workers' threads share one detector: each thread's detections are its own."""
    from concurrent.futures import ThreadPoolExecutor

    pictures = [helpers.three_faces(), helpers.three_faces((120, 240, 160)), np.full((300, 400, 3), 128, np.uint8)] * 2
    expected = [ours_in_openvino.detect(p)[0] for p in pictures]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda p: ours_in_openvino.detect(p)[0], pictures))
    for a, b in zip(got, expected):
        assert (a is None) == (b is None)
        if b is not None:
            np.testing.assert_allclose(_sorted(a, a[:, 0], a)[0], _sorted(b, b[:, 0], b)[0], atol=1e-3)


def test_runtime_is_checked():
    with pytest.raises(ValueError, match="unknown MTCNN runtime"):
        MTCNN(runtime="onnx")
    with pytest.raises(ValueError, match="CPU only"):
        MTCNN(device="cuda", runtime="openvino")
