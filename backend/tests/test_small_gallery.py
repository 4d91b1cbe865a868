"""Small galleries: the model prior, copies of one photo counted once, and the search floor
(faceexplore/faces/priors.py); large galleries keep their own thresholds."""

import numpy as np
import pytest
from PIL import Image

from faceexplore.evaluation import pairwise_scores
from faceexplore.faces.priors import PRIOR_FACES, ModelPrior, prior_for
from faceexplore.faces.synthetic import synthetic_people, synthetic_photos
from faceexplore.index.indexer import index_gallery
from faceexplore.index.store import FaceIndex
from faceexplore.people.clustering import FaceClusterer, cluster_index
from faceexplore.people.impostors import distinct_faces
from faceexplore.people.null_model import NullModel, cluster_scores, fit_null
from faceexplore.people.report import explain_threshold
from faceexplore.settings import Settings

# The synthetic people's different-people distances, as a prior (synthetic.py's defaults are
# shaped like the dlib model's); copies sit a hair apart, far below any two faces of one person.
SYNTHETIC_PRIOR = ModelPrior("synthetic", mean=0.60, std=0.05, duplicate_distance=0.05)


def _audit_gallery(seed):
    """The audit's case, synthetic: 6 people, a dozen photos, one of them saved three more times
    (its faces again, a hair apart, in new photos)."""
    X, truth = synthetic_people(n_people=6, per_person=(1, 4), seed=seed)
    photos = synthetic_photos(truth, max_faces=3, seed=seed)
    members = np.flatnonzero(photos == photos[0])
    rng = np.random.default_rng(seed)
    Xs, truths, groups = [X], [truth], [photos]
    for copy in range(3):
        v = X[members] + rng.normal(scale=0.01 / np.sqrt(X.shape[1]), size=(len(members), X.shape[1]))
        Xs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        truths.append(truth[members])
        groups.append(np.full(len(members), photos.max() + 1 + copy))
    return np.vstack(Xs), np.concatenate(truths), np.concatenate(groups), len(members)


def test_the_dlib_prior_is_shipped_and_other_models_have_none():
    prior = prior_for("dlib-resnet-v1")
    assert prior is not None and prior.model == "dlib-resnet-v1"
    assert 0 < prior.duplicate_distance < prior.mean - 3 * prior.std  # copies far below different people
    assert prior_for("synthetic") is None and prior_for(None) is None


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_the_audit_case_clusters_and_finds_a_photo_of_the_gallery(seed):
    X, truth, photos, copied_faces = _audit_gallery(seed)
    alone = FaceClusterer().fit(X, photos)
    # the gallery-only rule, as the audit found it: the copies' spike is the only excess left
    assert alone.threshold_ < 0.05 and len(np.unique(alone.labels_)) > 6

    clusterer = FaceClusterer(prior=SYNTHETIC_PRIOR).fit(X, photos)
    model = clusterer.choice_.model
    assert model.duplicates_collapsed == 3 * copied_faces
    assert 0 < model.gallery_weight < 0.25
    assert clusterer.threshold_ > 0.25
    assert pairwise_scores(clusterer.labels_, truth)["f"] > 0.95

    null = fit_null(X, clusterer.labels_, prior=SYNTHETIC_PRIOR, queries=np.flatnonzero(clusterer.distinct_))
    threshold = null.distance_at(0.01)
    assert threshold > 0.25
    # a photo of the gallery, searched: its person's cluster scores under the threshold
    uniq, inverse = np.unique(clusterer.labels_, return_inverse=True)
    D = np.linalg.norm(X[:1, None] - X[None], axis=2)
    scores = cluster_scores(D, inverse, np.bincount(inverse).astype(float))[0]
    assert scores.min() < threshold and inverse[0] == np.argmin(scores)


def test_a_small_null_never_goes_below_the_prior_floor():
    null = NullModel(loc=0.1, scale=0.3, samples=17, tail=[], prior_mean=0.6, prior_std=0.05, clusters=6)
    floor = SYNTHETIC_PRIOR.search_floor(0.01, 6)
    assert 0.4 < floor < 0.6
    assert null.distance_at(0.01) == pytest.approx(floor)
    # the gallery's law where it is the stricter one does not move it; the cdf agrees with it
    assert null.cdf(floor) == pytest.approx(0.01, rel=1e-3)
    # round trip through the stored clustering details
    assert NullModel.from_dict(null.as_dict()).distance_at(0.01) == pytest.approx(floor)
    # without a prior, as before: the Gumbel's point, below zero here
    assert NullModel(loc=0.1, scale=0.3, samples=17).distance_at(0.01) < 0


def test_copies_in_other_photos_count_once_but_faces_of_one_photo_never_do():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 16))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    near = X[0] + 0.001
    X = np.vstack([X, near / np.linalg.norm(near), near / np.linalg.norm(near)])
    groups = np.array([0, 1, 2, 3, 4, 5, 6])
    assert distinct_faces(X, groups, 0.05).tolist() == [True] * 5 + [False, False]
    groups[5] = 0  # the same photo as face 0: two different people, however close
    keep = distinct_faces(X, groups, 0.05)
    assert keep[:5].all() and keep[5:].sum() == 0  # face 6 is a copy of both and joins them
    assert distinct_faces(X, np.arange(7), 0.0).all()


def test_the_prior_weight_vanishes_as_the_gallery_grows():
    weights = [SYNTHETIC_PRIOR.gallery_weight(n) for n in (10, 100, 1000, 10_000)]
    assert weights == sorted(weights) and weights[1] == pytest.approx(0.5) and weights[-1] > 0.99
    assert SYNTHETIC_PRIOR.prior_faces == PRIOR_FACES
    # a prior that disagrees with the gallery: a gallery of thousands of faces barely moves
    off = ModelPrior("off", mean=0.70, std=0.08, duplicate_distance=0.05)
    X, truth = synthetic_people(n_people=800, seed=3)
    photos = synthetic_photos(truth, seed=3)
    alone = FaceClusterer().fit(X, photos)
    with_prior = FaceClusterer(prior=off).fit(X, photos)
    assert with_prior.choice_.model.gallery_weight > 0.97
    assert with_prior.threshold_ == pytest.approx(alone.threshold_, abs=0.01)
    assert pairwise_scores(with_prior.labels_, alone.labels_)["f"] > 0.99
    null_alone = fit_null(X, alone.labels_)
    null_prior = fit_null(X, alone.labels_, prior=off)
    assert null_prior.distance_at(0.01) == pytest.approx(null_alone.distance_at(0.01))
    # ... while a small one leans on it
    small = FaceClusterer(prior=off).fit(X[:30], photos[:30])
    assert small.choice_.model.gallery_weight < 0.3


# -- the audit's case with real photos --------------------------------------------------------
PORTRAITS = ("leonard", "sheldon", "penny", "raj", "howard")
SCALES = (1.0, 0.8, 0.65, 0.5)


@pytest.fixture
def audit_gallery(bbt_dir, tmp_path):
    """Two portraits each of five BBT characters and one group photo (Leonard and Sheldon) at
    four resolutions: 14 photos, 5 people."""
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for name in PORTRAITS:
        for k in (1, 2):
            Image.open(bbt_dir / "people" / name / f"{name}{k}.png").save(gallery / f"{name}{k}.png")
    group = Image.open(bbt_dir / "group" / "bbt2.jpg").convert("RGB")
    for scale in SCALES:
        size = (round(group.width * scale), round(group.height * scale))
        group.resize(size, Image.LANCZOS).save(gallery / f"bbt2_{size[0]}.jpg", quality=90)
    return gallery


@pytest.mark.shared_data("bbt")
def test_the_audit_case_with_real_photos(audit_gallery, bbt_dir, tmp_path, reuse_pipeline):
    from faceexplore.search.service import SearchService

    settings = Settings(data_dir=tmp_path / "data", gallery_dir=audit_gallery, index_workers=1)
    index_gallery(settings, progress=False)
    with FaceIndex(settings.index_path) as index:
        alone = cluster_index(index, use_prior=False)
        details = cluster_index(index)
    text = explain_threshold(details)
    model = details["threshold_choice"]["model"]
    # Leonard's and Sheldon's faces in bbt2 are small (40-110 px wide): a copy at a lower resolution
    # lies 0.06-0.17 from its original, most of them further than the duplicate distance (a copy
    # that far apart is, to the model, another photo of the person: a same-person pair)
    assert model["duplicates_collapsed"] >= 1
    assert details["threshold"] > 0.2 and details["threshold"] > alone["threshold"], (alone["threshold"], details["threshold"])
    # the gallery alone gave search a threshold far below one person's distances (0.11 when
    # written): a second photo of someone in the gallery was "not in the gallery"
    assert details["search_null"]["distance"] > 0.2 and details["search_null"]["distance"] > alone["search_null"]["distance"]
    assert "prior" in text and "copies of another photo's face" in text
    service = SearchService(settings)
    for query in (audit_gallery / "sheldon1.png", bbt_dir / "people" / "sheldon" / "sheldon3.png"):
        reports, chosen = service.analyse_samples([(str(query), query.read_bytes(), None)])
        result = service.search_analysed(reports, chosen, settings.false_alarm_rate)
        returned = {p.path for p in result.photos}
        assert result.found, (query, result)
        assert {"sheldon1.png", "sheldon2.png"} <= returned
