"""Face embedders: dlib (the default), facenet (weights needed) and any ONNX model."""

import helpers
import numpy as np
import pytest

from faceexplore.faces import pipeline as pipeline_module
from faceexplore.faces.embedders import ModelWeightsMissing, create_embedder
from faceexplore.faces.embedders.base import face_region
from faceexplore.faces.embedders.facenet import WEIGHTS_FILE
from faceexplore.faces.embedders.onnx_model import ARCFACE_TEMPLATE_112, OnnxEmbedder, similarity_transform


@pytest.fixture(scope="module")
def hopper_analysed(pipeline, face_photo):
    return pipeline.analyse(face_photo)


# -- dlib -------------------------------------------------------------------------------------
def test_dlib_embedding_is_a_unit_128_vector(pipeline, hopper_analysed):
    assert pipeline.model_name == "dlib-resnet-v1"
    e = hopper_analysed.embeddings
    assert e.shape == (1, 128) and e.dtype == np.float32
    assert np.linalg.norm(e[0]) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(e[0]).max() < 0.9  # a real descriptor, not a one-hot or a constant


def test_dlib_embedding_is_stable_across_resolution_and_compression(pipeline, hopper_analysed):
    ref = hopper_analysed.embeddings[0]
    img = helpers.face_image()
    for size, quality in [((384, 450), 60), ((256, 300), 85)]:
        again = pipeline.analyse(helpers.jpeg_bytes(img.resize(size), quality=quality))
        assert len(again.faces) == 1
        assert np.linalg.norm(again.embeddings[0] - ref) < 0.12, size  # dlib's same-person cut is 0.6


def test_mirror_average_is_symmetric_and_close_to_the_plain_embedding(pipeline, hopper_analysed):
    """A sample's embedding averaged with its mirror image's: the same for the photo and the
    photo flipped left to right (so the face geometry is mirrored correctly), and still the
    same person as the plain embedding."""
    from PIL import Image

    img = helpers.face_image()
    flipped = img.transpose(Image.FLIP_LEFT_RIGHT)
    a = pipeline.analyse(helpers.jpeg_bytes(img, quality=95), mirror_average=True)
    b = pipeline.analyse(helpers.jpeg_bytes(flipped, quality=95), mirror_average=True)
    assert len(a.faces) == len(b.faces) == 1
    back = b.faces[0].mirrored(b.width)
    # MTCNN itself is not mirror-exact: its boxes differ by a few percent of the face
    assert np.allclose(back.box, a.faces[0].box, atol=0.1 * a.faces[0].width)
    assert np.linalg.norm(a.embeddings[0] - b.embeddings[0]) < 0.05
    assert np.linalg.norm(a.embeddings[0]) == pytest.approx(1.0, abs=1e-5)
    assert 0.0 < np.linalg.norm(a.embeddings[0] - hopper_analysed.embeddings[0]) < 0.15
    # MTCNN's order (eyes, nose, mouth corners, each left to right in the image) holds mirrored
    m = a.faces[0].mirrored(a.width).landmarks
    assert m[0][0] < m[1][0] and m[3][0] < m[4][0]
    # mirroring twice gives the face back, landmarks in their order
    twice = a.faces[0].mirrored(a.width).mirrored(a.width)
    assert np.allclose(twice.box, a.faces[0].box) and np.allclose(twice.landmarks, a.faces[0].landmarks)


def _dlib_reference_chips(pipeline, pixels, faces):
    """dlib's own network on dlib's own chips: what the torch port must reproduce."""
    import dlib
    import face_recognition_models

    model = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
    chips = [pipeline.embedder.chip(*face_region(pixels, f, 1.0, pipeline.embedder.face_pixels)) for f in faces]
    return chips, np.array([model.compute_face_descriptor(c) for c in chips])


def test_dlib_network_in_torch_equals_dlibs_own(pipeline):
    """Three faces of different sizes in one photo, embedded in one batch, against dlib's
    compute_face_descriptor on the same aligned chips."""
    pixels = helpers.three_faces((300, 180, 120))
    faces = pipeline.detector.detect(pixels)
    assert len(faces) == 3
    chips, expected = _dlib_reference_chips(pipeline, pixels, faces)
    got = pipeline.embedder.embed_chips(chips)
    assert np.abs(got - expected).max() < 1e-4
    batch = pipeline.embedder.embed(pixels, faces)
    assert np.abs(batch - expected / np.linalg.norm(expected, axis=1, keepdims=True)).max() < 1e-4


@pytest.mark.shared_data("lfw-dev")
def test_dlib_network_in_torch_equals_dlibs_own_on_lfw(datasets, lfw_analysed, pipeline):
    from faceexplore.faces.images import load_photo

    checked = 0
    for _, path, analysed in lfw_analysed[:40]:
        if analysed.faces:
            pixels = load_photo(path).pixels
            chips, expected = _dlib_reference_chips(pipeline, pixels, analysed.faces)
            assert np.abs(pipeline.embedder.embed_chips(chips) - expected).max() < 1e-4, path
            checked += 1
    assert checked >= 35


def test_dlib_weights_that_are_not_the_network_are_refused(tmp_path):
    import face_recognition_models

    from faceexplore.faces.embedders.dlib_resnet_torch import load_dlib_resnet

    real = open(face_recognition_models.face_recognition_model_location(), "rb").read()
    for name, data in (
        ("truncated.dat", real[: len(real) // 2]),
        ("noise.dat", bytes(range(256)) * 64),
        ("predictor.dat", open(face_recognition_models.pose_predictor_five_point_model_location(), "rb").read()),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match="not dlib's face recognition ResNet"):
            load_dlib_resnet(tmp_path / name)


def test_no_faces_gives_an_empty_matrix(pipeline):
    empty = pipeline.embedder.embed(np.zeros((50, 50, 3), np.uint8), [])
    assert empty.shape == (0, 128)


def test_small_face_in_a_large_photo_is_embedded_from_the_full_resolution(pipeline, hopper_analysed, monkeypatch):
    """A 4000x3000 photo is detected at 1600 px, where this face is ~27 px wide: the pipeline
    decodes it again at the resolution the embedder needs, and the embedding matches the portrait's."""
    calls = []
    real_load = pipeline_module.load_photo

    def spy(source, max_side=None, **options):
        calls.append(max_side)
        return real_load(source, max_side=max_side, **options)

    monkeypatch.setattr(pipeline_module, "load_photo", spy)
    big = helpers.landscape(4000, 3000)
    big.paste(helpers.face_image().resize((200, 234)), (1700, 1200))
    result = pipeline.analyse(helpers.jpeg_bytes(big, quality=92))
    assert (result.width, result.height) == (4000, 3000)
    assert len(result.faces) == 1
    x1, y1, x2, y2 = result.faces[0].box
    assert 1700 <= x1 < x2 <= 1900 and 1200 <= y1 < y2 <= 1434
    assert len(calls) == 2 and calls[0] == pipeline.detect_size and calls[1] > calls[0]
    # embedded from the detection image alone, the distance would be about 0.23
    assert np.linalg.norm(result.embeddings[0] - hopper_analysed.embeddings[0]) < 0.12


@pytest.mark.shared_data("lfw-dev")
def test_lfw_same_person_pairs_are_closer_than_different_person_pairs(datasets, lfw_analysed):
    people, vectors = [], []
    for person, _, analysed in lfw_analysed:
        i = helpers.central_face(analysed)
        if i is not None:
            people.append(person)
            vectors.append(analysed.embeddings[i])
    people, X = np.array(people), np.stack(vectors)
    d = np.linalg.norm(X[:, None] - X[None], axis=2)
    iu = np.triu_indices(len(X), 1)
    same = (people[:, None] == people[None])[iu]
    dist = d[iu]
    assert same.sum() >= 100 and (~same).sum() >= 5000
    # ROC AUC = P(a same-person pair is closer than a different-person pair) (Mann-Whitney)
    from scipy.stats import rankdata

    ranks = rankdata(-dist)  # closer = higher score
    n_pos, n_neg = same.sum(), (~same).sum()
    auc = (ranks[same].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    assert auc >= 0.95, f"ROC AUC {auc:.4f}"
    # the typical same-person pair is far closer than the typical different-person pair
    assert np.median(dist[same]) < 0.75 * np.median(dist[~same])


# -- facenet ----------------------------------------------------------------------------------
def test_facenet_without_weights_offline_says_which_file_and_where(tmp_path, monkeypatch):
    torch_home = tmp_path / "torch-home"
    torch_home.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    with pytest.raises(ModelWeightsMissing) as err:
        create_embedder("facenet", offline=True)  # settings.offline: never try to download in a test
    message = str(err.value)
    assert WEIGHTS_FILE == "20180402-114759-vggface2.pt"
    assert WEIGHTS_FILE in message
    assert str(torch_home / "checkpoints" / WEIGHTS_FILE) in message  # where to put it
    assert "FACEEXPLORE_FACENET_WEIGHTS" in message and "--model dlib" in message
    assert list(torch_home.iterdir()) == []  # nothing was downloaded or created


def test_facenet_with_a_missing_weights_file_named(tmp_path):
    missing = tmp_path / "nowhere" / "weights.pt"
    with pytest.raises(ModelWeightsMissing, match=str(missing)):
        create_embedder("facenet", weights=str(missing))


def test_inception_resnet_runs_on_the_installed_torch():
    import torch
    from facenet_pytorch import InceptionResnetV1

    torch.manual_seed(0)
    model = InceptionResnetV1(classify=False).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 160, 160))
    assert out.shape == (1, 512)
    assert torch.isfinite(out).all()
    assert torch.linalg.norm(out) == pytest.approx(1.0, abs=1e-4)  # the model L2-normalises


def test_facenet_embedder_loads_a_checkpoint_and_embeds_a_face(tmp_path, pipeline, face_photo):
    """With a checkpoint of the real layout (random values: the real one needs a download) the
    embedder loads it and turns a detected face into a unit 512-d vector."""
    import torch
    from facenet_pytorch import InceptionResnetV1

    from faceexplore.faces.embedders.facenet import VGGFACE2_CLASSES
    from faceexplore.faces.images import load_photo

    torch.manual_seed(1)
    weights = tmp_path / WEIGHTS_FILE
    torch.save(InceptionResnetV1(classify=False, num_classes=VGGFACE2_CLASSES).state_dict(), weights)
    embedder = create_embedder("facenet", weights=str(weights))
    assert (embedder.name, embedder.dim) == ("facenet-vggface2", 512)
    photo = load_photo(face_photo)
    faces = pipeline.detector.detect(photo.pixels)
    e = embedder.embed(photo.pixels, faces)
    assert e.shape == (1, 512) and np.linalg.norm(e[0]) == pytest.approx(1.0, abs=1e-5)
    again = embedder.embed(photo.pixels, faces)
    assert np.allclose(e, again, atol=1e-5)
    assert embedder.embed(photo.pixels, []).shape == (0, 512)


# -- ONNX -------------------------------------------------------------------------------------
def _expected_onnx_output(embedder, weights, pixels, face):
    region, _, landmarks = face_region(pixels, face, 1.0, embedder.face_pixels)
    chip = embedder.aligned(region, landmarks)
    x = ((chip - 127.5) / 127.5).transpose(2, 0, 1).reshape(1, -1)
    y = x @ weights
    return y / np.linalg.norm(y)


def test_onnx_embedder_runs_a_model_on_a_real_face(tmp_path, pipeline, face_photo):
    from faceexplore.faces.images import load_photo

    path = tmp_path / "tiny.onnx"
    weights = helpers.tiny_onnx_model(path, input_size=112, dim=16)
    embedder = create_embedder("onnx", path=str(path))
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.dim == 16 and embedder.name == "onnx-tiny-16"
    photo = load_photo(face_photo)
    faces = pipeline.detector.detect(photo.pixels)
    e = embedder.embed(photo.pixels, faces)
    assert e.shape == (1, 16) and e.dtype == np.float32
    assert np.linalg.norm(e[0]) == pytest.approx(1.0, abs=1e-5)
    # the model saw the aligned face, standardised, channels first
    assert np.allclose(e[0], _expected_onnx_output(embedder, weights, photo.pixels, faces[0])[0], atol=1e-4)


def test_onnx_alignment_puts_the_eyes_where_the_template_has_them(pipeline, face_photo):
    from faceexplore.faces.images import load_photo

    photo = load_photo(face_photo)
    face = pipeline.detector.detect(photo.pixels)[0]
    region, _, landmarks = face_region(photo.pixels, face, 1.0, 128)
    matrix = similarity_transform(ARCFACE_TEMPLATE_112, np.asarray(landmarks))
    mapped = np.c_[ARCFACE_TEMPLATE_112, np.ones(5)] @ matrix.T  # template -> the photo's landmarks
    eye_distance = np.linalg.norm(np.subtract(landmarks[1], landmarks[0]))
    assert np.abs(mapped - np.asarray(landmarks)).max() < 0.15 * eye_distance


def test_similarity_transform_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + shift
    m = similarity_transform(src, dst)
    assert np.allclose(m[:, :2], scale * rot, atol=1e-9) and np.allclose(m[:, 2], shift, atol=1e-9)


def test_onnx_model_exported_by_torch(tmp_path, pipeline, face_photo):
    import torch

    from faceexplore.faces.images import load_photo

    try:
        import onnx  # noqa: F401
    except ImportError:
        pytest.skip(
            "torch.onnx.export needs the `onnx` package, which is not installed (not a dependency); "
            "test_onnx_embedder_runs_a_model_on_a_real_face covers OnnxEmbedder with a hand-written model"
        )
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 4, stride=4), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32, 24)
    ).eval()
    path = tmp_path / "exported.onnx"
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, 112, 112),),
        str(path),
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
    )
    embedder = OnnxEmbedder(str(path))
    assert embedder.dim == 24
    photo = load_photo(face_photo)
    faces = pipeline.detector.detect(photo.pixels)
    e = embedder.embed(photo.pixels, faces)
    region, _, landmarks = face_region(photo.pixels, faces[0], 1.0, embedder.face_pixels)
    chip = (embedder.aligned(region, landmarks) - 127.5) / 127.5
    with torch.no_grad():
        expected = model(torch.from_numpy(chip.transpose(2, 0, 1)[None].astype(np.float32))).numpy()
    assert np.allclose(e, expected / np.linalg.norm(expected), atol=1e-4)


def test_onnx_without_a_model_file(tmp_path):
    with pytest.raises(ModelWeightsMissing, match="FACEEXPLORE_ONNX_MODEL"):
        create_embedder("onnx", path=str(tmp_path / "missing.onnx"))
    with pytest.raises(ModelWeightsMissing, match="none given"):
        create_embedder("onnx", path="")


def test_unknown_model_name():
    with pytest.raises(ValueError, match="dlib, facenet, onnx"):
        create_embedder("arcface")
