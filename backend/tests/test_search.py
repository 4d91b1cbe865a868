"""Open-set search: synthetic galleries with known structure, and the real BBT gallery."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from faceexplore.faces.synthetic import synthetic_people
from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.people.null_model import fit_null
from faceexplore.search.searcher import GallerySearcher


def build_index(path, X, groups):
    index = FaceIndex(path)
    index.check_model("synthetic", X.shape[1])
    items = []
    for g in np.unique(groups):
        faces = [FaceRecord((0, 0, 10, 10), [(0, 0)] * 5, 0.99, [], X[i].astype(np.float32)) for i in np.flatnonzero(groups == g)]
        items.append((PhotoRecord(f"p{g}.jpg", 1, 1, 100, 100), faces))
    index.add_photos(items, "synthetic")
    return index


@pytest.fixture()
def synthetic_gallery(tmp_path):
    from faceexplore.people.clustering import cluster_index

    X, truth = synthetic_people(n_people=120, per_person=(2, 6), seed=7)
    index = build_index(tmp_path / "index.sqlite3", X, np.arange(len(X)))
    cluster_index(index)
    return index, X, truth


def test_a_query_far_from_everything_is_not_found(synthetic_gallery):
    index, X, _ = synthetic_gallery
    rng = np.random.default_rng(1)
    stranger = rng.normal(size=X.shape[1])  # a direction outside the people's cone
    result = GallerySearcher(index).search(stranger / np.linalg.norm(stranger))
    assert not result.found and result.matches == []


def test_a_present_person_is_found_with_all_their_photos(synthetic_gallery):
    index, X, truth = synthetic_gallery
    person = truth[0]
    members = np.flatnonzero(truth == person)
    query = X[members[0]] + np.random.default_rng(2).normal(scale=0.2 / np.sqrt(X.shape[1]), size=X.shape[1])
    result = GallerySearcher(index).search(query / np.linalg.norm(query))
    assert result.found
    # photos are ids 1..n in insertion order: face i is in photo i + 1
    theirs = {int(i) + 1 for i in members}
    ranked = [m.photo_id for m in result.matches]
    # every photo of theirs, ranked first; at a 1% false-alarm rate a look-alike's cluster may
    # follow (this person is one of the gallery's "hubs": 3 other people score below the threshold)
    assert set(ranked[: len(theirs)]) == theirs
    assert len(ranked) <= len(theirs) + 3 * 6


def test_the_accept_threshold_tightens_as_the_gallery_grows():
    thresholds = []
    for n_people in (30, 300):
        X, truth = synthetic_people(n_people=n_people, per_person=(2, 4), seed=8)
        null = fit_null(X, truth)
        thresholds.append(null.distance_at(0.01))
    assert thresholds[1] < thresholds[0]


def test_several_samples_find_more_and_keep_the_false_alarm_rate(synthetic_gallery):
    index, X, truth = synthetic_gallery
    searcher = GallerySearcher(index)
    rng = np.random.default_rng(5)

    def samples(centre, k, spread=0.45):
        v = centre + rng.normal(scale=spread / np.sqrt(X.shape[1]), size=(k, X.shape[1]))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    people = np.unique(truth)[:60]
    centres = np.array([X[truth == p].mean(0) for p in people])
    one = np.mean([searcher.search(samples(c, 1), 0.01).found for c in centres])
    three = np.mean([searcher.search(samples(c, 3), 0.01).found for c in centres])
    assert three > one
    # strangers with three samples each: the union of three searches at a third of the rate
    strangers, _ = synthetic_people(n_people=200, per_person=(1, 1), seed=98)
    alarms = np.mean([searcher.search(samples(c, 3, spread=0.3), 0.05).found for c in strangers])
    assert alarms <= 0.10


def test_null_reads_the_data_and_extrapolates_beyond_it():
    X, truth = synthetic_people(n_people=400, per_person=(2, 5), seed=11)
    null = fit_null(X, truth)
    assert null.samples == len(X) and len(null.tail) == int(np.ceil(0.25 * len(X)))
    rates = np.geomspace(1e-4, 0.2, 60)
    thresholds = np.array([null.distance_at(r) for r in rates])
    # one law from the rarest rate to the common ones: no step back where data meet model
    assert np.all(np.diff(thresholds) >= -1e-9)
    # where the data speak, the threshold lets through at most that share of pseudo-queries
    for r in (0.01, 0.05, 0.1):
        t = null.distance_at(r)
        assert np.mean(np.asarray(null.tail) < t) * len(null.tail) / null.samples <= r
        assert null.cdf(t) == pytest.approx(r, abs=1.5 / null.samples + 1e-9)
    # below the data, the Gumbel takes over, matched to the data where they meet
    edge = null.data_rate
    assert null.distance_at(edge / 10) < null.tail[0] + 1e-9
    assert stats_gumbel_cdf(null, null.distance_at(edge)) == pytest.approx(edge, rel=0.35)


def stats_gumbel_cdf(null, score):
    from scipy import stats

    return stats.gumbel_l.cdf(score, loc=null.loc, scale=null.scale)


def test_false_alarm_rate_holds_on_strangers(synthetic_gallery):
    index, X, _ = synthetic_gallery
    searcher = GallerySearcher(index)
    # strangers drawn like the gallery's people (same cone, same spread), but new people
    Q, _ = synthetic_people(n_people=300, per_person=(1, 1), seed=99)
    alarms = np.mean([searcher.search(q, false_alarm_rate=0.05).found for q in Q])
    assert alarms <= 0.10


# -- real images ---------------------------------------------------------------------------
def _bbt():
    root = os.environ.get("FACEEXPLORE_TEST_DATA")
    if not root:
        pytest.skip("FACEEXPLORE_TEST_DATA not set: the BBT search tests need ../shared/datasets")
    bbt = Path(root) / "bbt"
    if not (bbt / "truth.json").is_file():
        pytest.fail(f"FACEEXPLORE_TEST_DATA is set but {bbt} has no truth.json")
    return bbt


@pytest.fixture(scope="module")
def bbt_service(tmp_path_factory):
    from faceexplore.index.indexer import index_gallery
    from faceexplore.people.clustering import cluster_index
    from faceexplore.search.service import SearchService
    from faceexplore.settings import Settings

    bbt = _bbt()
    gallery = tmp_path_factory.mktemp("gallery")
    shutil.copytree(bbt / "group", gallery / "group")
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), gallery_dir=gallery, index_workers=1)
    index_gallery(settings, progress=False)
    with FaceIndex(settings.index_path) as index:
        cluster_index(index)
    return SearchService(settings), bbt, json.loads((bbt / "truth.json").read_text())["group"]


def _search(service, files):
    return service.search([(f.name, f.read_bytes(), None) for f in files])


def test_bbt_every_character_in_several_photos_is_found(bbt_service):
    service, bbt, truth = bbt_service
    people = {p for names in truth.values() for p in names}
    for person in sorted(people):
        wanted = {k for k, names in truth.items() if person in names}
        if len(wanted) < 2:
            continue
        result = _search(service, sorted((bbt / "people" / person).glob("*.png")))
        got = {p.path for p in result.photos}
        assert len(got & wanted) >= min(4, len(wanted)), (person, got, wanted)
        assert got <= wanted, f"{person}: returned photos without them: {got - wanted}"


def test_bbt_amy_finds_bbt4(bbt_service):
    service, bbt, _ = bbt_service
    result = _search(service, [bbt / "people/amy/amy1.png"])
    assert result.found and "group/bbt4.jpg" in {p.path for p in result.photos}


def test_bbt_stuart_is_not_in_the_gallery(bbt_service):
    service, bbt, _ = bbt_service
    for f in sorted((bbt / "people/stuart").glob("*.png")):
        result = _search(service, [f])
        assert not result.found and result.photos == [], f.name
