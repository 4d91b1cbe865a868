"""Clustering and the label-free threshold, on synthetic embeddings with known structure."""

import helpers
import numpy as np
import pytest

from faceexplore.evaluation import bcubed_scores, pairwise_scores
from faceexplore.faces.synthetic import synthetic_people
from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.people import impostors
from faceexplore.people.clustering import TOO_FEW_FACES, FaceClusterer, _same_group_condensed, cluster_index
from faceexplore.people.impostors import choose_threshold, fit_impostors, pair_distances
from faceexplore.people.report import cluster_report, explain_threshold, format_report
from faceexplore.search.searcher import GallerySearcher


@pytest.fixture(scope="module")
def people_in_photos():
    """About 6,000 synthetic faces of 1,300 people dealt into photos: (embeddings, person, photo)."""
    from faceexplore.faces.synthetic import synthetic_photos

    X, truth = synthetic_people(n_people=1300, seed=11)
    return X, truth, synthetic_photos(truth, seed=11)


def test_recovers_people_without_a_given_threshold():
    X, truth = synthetic_people(seed=1)
    clusterer = FaceClusterer().fit(X)
    assert pairwise_scores(clusterer.labels_, truth)["f"] > 0.95
    assert bcubed_scores(clusterer.labels_, truth)["f"] > 0.95


def test_threshold_follows_the_spread_of_the_data():
    tight, truth_t = synthetic_people(spread=0.15, seed=1)
    loose, truth_l = synthetic_people(spread=0.30, seed=1)
    t_tight = FaceClusterer().fit(tight).threshold_
    t_loose = FaceClusterer().fit(loose).threshold_
    # one person's faces lie further apart in the loose set: the threshold must open up
    assert t_loose > t_tight + 0.05
    # and it stays between the same-person and different-people distances of each set
    for X, truth, t in ((tight, truth_t, t_tight), (loose, truth_l, t_loose)):
        d = np.linalg.norm(X[:, None] - X[None], axis=2)
        i, j = np.triu_indices(len(X), 1)
        same = truth[i] == truth[j]
        assert np.median(d[i, j][same]) < t < np.quantile(d[i, j][~same], 0.001)


def test_cannot_link_is_respected():
    X, truth = synthetic_people(n_people=40, seed=2)
    # put two faces of the same person into one "photo": they must end up apart
    groups = np.arange(len(X))
    same = np.flatnonzero(truth == truth[np.argmax(np.bincount(truth))])
    groups[same[1]] = groups[same[0]]
    labels = FaceClusterer().fit(X, groups).labels_
    assert labels[same[0]] != labels[same[1]]
    # every photo's faces are in different clusters
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        assert len(set(labels[members])) == len(members)


def test_same_group_condensed_indexes_the_right_pairs():
    groups = np.array([5, 1, 5, 2, 1])
    idx = _same_group_condensed(groups)
    n = len(groups)
    i, j = np.triu_indices(n, 1)
    expected = np.flatnonzero(groups[i] == groups[j])
    assert sorted(idx.tolist()) == expected.tolist()


def test_impostor_fit_ignores_the_same_person_tail():
    rng = np.random.default_rng(3)
    different = rng.normal(0.55, 0.06, 100_000)
    same = rng.normal(0.30, 0.04, 2_000)  # 2% of random pairs are one person
    model = fit_impostors(np.concatenate([different, same]), np.zeros(0))
    assert abs(model.mean - 0.55) < 0.01 and abs(model.std - 0.06) < 0.01
    choice = choose_threshold(np.concatenate([different, same]), np.zeros(0))
    # the excess of close pairs over the model ends between the two populations
    assert 0.33 < choice.threshold < 0.45
    assert 0.01 < choice.same_person_pairs_share < 0.03


def test_threshold_stays_out_of_the_bulk_when_same_person_pairs_are_rare():
    """4,400 people of 1 to 8 faces: about one random pair in 1,000 is one person, less than the
    model's misfit in the bulk of the distribution. The threshold must still end between the
    two populations, not run into the different-people bulk."""
    from faceexplore.faces.synthetic import synthetic_photos

    X, truth = synthetic_people(n_people=4400, seed=2)
    photos = synthetic_photos(truth, seed=2)
    order = np.argsort(photos, kind="stable")  # as an index stores them: photo by photo
    X, truth, photos = X[order].astype(np.float32).astype(np.float64), truth[order], photos[order]
    random_d, cl = pair_distances(X, photos, np.random.default_rng(0))
    choice = choose_threshold(random_d, cl)
    rng = np.random.default_rng(1)
    i, j = rng.integers(0, len(X), 200_000), rng.integers(0, len(X), 200_000)
    d = np.linalg.norm(X[i] - X[j], axis=1)
    same = (truth[i] == truth[j]) & (i != j)
    assert np.quantile(d[same], 0.9) < choice.threshold < np.quantile(d[~same], 0.001)


@pytest.mark.slow
def test_threshold_keeps_same_person_pairs_in_a_gallery_of_300k_faces(monkeypatch):
    """A face has a handful of same-person partners whatever the gallery's size, so at 300,000
    faces (66,667 people) 400,000 random pairs hold about six same-person pairs, and a
    threshold read from them cut more than a tenth of the same-person pairs.
    The sample grows with the faces, the search window shrinks with them: the threshold must
    still let nearly all same-person pairs through, and almost no different-people pair."""
    from faceexplore.faces.synthetic import synthetic_photos
    from faceexplore.people.impostors import same_group_pairs

    X, truth = synthetic_people(n_people=66_667, seed=3)
    photos = synthetic_photos(truth, seed=3)
    threshold = FaceClusterer().fit_threshold(X, photos).choice_.threshold
    i, j = same_group_pairs(truth)
    same = np.linalg.norm(X[i] - X[j], axis=1)
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, len(X), 200_000), rng.integers(0, len(X), 200_000)
    different = np.linalg.norm(X[a] - X[b], axis=1)[truth[a] != truth[b]]
    assert np.quantile(same, 0.99) < threshold < np.quantile(different, 0.0001)
    # the rule of 10,000 faces kept at any size: 400,000 pairs, searched up to 1% false matches
    monkeypatch.setattr(impostors, "RANDOM_PAIRS_PER_FACE", 0)
    monkeypatch.setattr(impostors, "MAX_CLOSER_PER_FACE", len(X))
    fixed_rule = FaceClusterer().fit_threshold(X, photos).choice_.threshold
    assert fixed_rule < np.quantile(same, 0.9)


def test_pair_distances_include_every_cannot_link_pair():
    X, _ = synthetic_people(n_people=10, seed=4)
    groups = np.repeat(np.arange(len(X) // 2 + 1), 2)[: len(X)]
    random_d, cl = pair_distances(X, groups, np.random.default_rng(0))
    assert len(cl) == sum(c * (c - 1) // 2 for c in np.bincount(groups))
    assert len(random_d) == len(X) * (len(X) - 1) // 2


@pytest.mark.slow
def test_knn_path_matches_dense_path():
    X, truth = synthetic_people(n_people=300, seed=5)
    dense = FaceClusterer().fit(X)
    knn = FaceClusterer(dense_limit=10).fit(X)  # components over 10 faces: graph-constrained linkage
    assert knn.threshold_ == pytest.approx(dense.threshold_)
    assert pairwise_scores(knn.labels_, truth)["f"] > 0.93
    # components of the k-NN graph clustered with their full distance matrices: the same
    # clusters as the dense path, whatever the faces' order
    by_component = FaceClusterer(dense_limit=len(X) - 1).fit(X)
    assert by_component.components_ > 1
    assert pairwise_scores(by_component.labels_, dense.labels_)["f"] == pytest.approx(1.0)


def test_approximate_neighbours_give_the_exact_clusters(people_in_photos):
    """Above ``exact_knn_limit`` faces the k-NN graph comes from faiss's inverted-file index,
    which compares each face with a few k-means cells only. Lowered limits put 6,000 faces on
    that path (each component still clustered with its full distance matrix): the clusters are
    the exact neighbours' and the full distance matrix's, and the graph misses almost none of the
    close neighbours."""
    from sklearn.metrics import adjusted_rand_score

    from faceexplore.people.clustering import nearest_neighbours

    X, truth, photos = people_in_photos
    dense = FaceClusterer().fit(X, photos)
    exact = FaceClusterer(dense_limit=len(X) - 1, exact_knn_limit=len(X)).fit(X, photos)
    approximate = FaceClusterer(dense_limit=len(X) - 1, exact_knn_limit=0).fit(X, photos)
    assert approximate.threshold_ == exact.threshold_ == dense.threshold_
    assert adjusted_rand_score(exact.labels_, approximate.labels_) >= 0.99
    assert adjusted_rand_score(dense.labels_, approximate.labels_) >= 0.99
    assert pairwise_scores(approximate.labels_, truth)["f"] > 0.95
    # the same close neighbours as brute force, for nearly every face
    k = 16
    exact_d, exact_i = nearest_neighbours(X, k, exact=True)
    approx_d, approx_i = nearest_neighbours(X, k, exact=False)
    close = exact_d < dense.threshold_
    found = [len(set(exact_i[r][close[r]]) & set(approx_i[r][approx_d[r] < dense.threshold_])) for r in range(len(X))]
    assert sum(found) >= 0.99 * close.sum()
    assert approx_i.shape == (len(X), k) and (approx_i[:, 0] >= 0).all()


def test_rejoining_joins_split_people_and_no_one_else(people_in_photos):
    """An approximate graph that lost links splits people; ``rejoin_split_clusters`` joins the
    pieces whose average linkage is under the threshold, never two people, never two faces of
    one photo."""
    from sklearn.metrics import adjusted_rand_score

    from faceexplore.people.clustering import rejoin_split_clusters

    X, truth, photos = people_in_photos
    threshold = FaceClusterer().fit_threshold(X, photos).choice_.threshold
    halves = np.random.default_rng(0).random(len(X)) < 0.5
    split = truth * 2 + halves  # every person of several faces in two pieces
    assert adjusted_rand_score(truth, split) < 0.8
    rejoined = rejoin_split_clusters(X, photos, split, threshold)
    assert adjusted_rand_score(truth, rejoined) > 0.99
    assert pairwise_scores(rejoined, truth)["precision"] == 1.0
    # two pieces that share a photo stay apart
    person = np.bincount(truth).argmax()
    first, second = np.flatnonzero((truth == person) & halves)[0], np.flatnonzero((truth == person) & ~halves)[0]
    photos = photos.copy()
    photos[second] = photos[first]
    rejoined = rejoin_split_clusters(X, photos, split, threshold)
    assert rejoined[first] != rejoined[second]


def test_nearest_clusters_of_some_clusters_exact_and_approximate(monkeypatch):
    """The nearest other cluster of the clusters asked about (``rows``), from all pairs of
    centroids and, above ``EXACT_KNN_LIMIT`` clusters, from faiss's index: the same answers."""
    from faceexplore.people import clustering

    X, truth = synthetic_people(n_people=2000, seed=12)
    centroids = np.zeros((truth.max() + 1, X.shape[1]))
    np.add.at(centroids, truth, X)
    centroids /= np.bincount(truth)[:, None]
    rows = np.arange(0, len(centroids), 7)
    everything, _ = clustering._nearest_centroids(centroids)
    exact, exact_d = clustering._nearest_centroids(centroids, rows=rows)
    assert (exact == everything[rows]).all() and (exact != rows).all()
    monkeypatch.setattr(clustering, "EXACT_KNN_LIMIT", 0)
    approximate, approximate_d = clustering._nearest_centroids(centroids, rows=rows)
    assert np.mean(approximate == exact) > 0.95
    assert np.allclose(approximate_d[approximate == exact], exact_d[approximate == exact], atol=1e-4)


@pytest.mark.slow
def test_a_graph_that_misses_most_neighbours_still_gives_the_exact_clusters(people_in_photos, monkeypatch):
    """One k-means cell searched per face (IVF_PROBES 1) loses many close pairs and splits people
    (hundreds more clusters than people without rejoining); rejoined, the clusters are the exact
    neighbours'."""
    from sklearn.metrics import adjusted_rand_score

    from faceexplore.people import clustering

    X, truth, photos = people_in_photos
    exact = FaceClusterer(dense_limit=len(X) - 1, exact_knn_limit=len(X)).fit(X, photos)
    monkeypatch.setattr(clustering, "IVF_PROBES", 1)
    graph_only = FaceClusterer(dense_limit=len(X) - 1, exact_knn_limit=0)
    monkeypatch.setattr(clustering, "rejoin_split_clusters", lambda X, groups, labels, *args: labels)
    graph_only.fit(X, photos)
    monkeypatch.undo()
    monkeypatch.setattr(clustering, "IVF_PROBES", 1)
    rejoined = FaceClusterer(dense_limit=len(X) - 1, exact_knn_limit=0).fit(X, photos)
    assert len(np.unique(graph_only.labels_)) > len(np.unique(exact.labels_)) + 100
    assert adjusted_rand_score(exact.labels_, rejoined.labels_) >= 0.99


# -- tiny galleries --------------------------------------------------------------------------------
def _tiny_index(path, n_faces, seed=0, dim=16):
    """An index of ``n_faces`` faces of different people, one photo each."""
    X = np.random.default_rng(seed).normal(size=(n_faces, dim))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    index = FaceIndex(path)
    index.check_model("synthetic", dim)
    face = lambda v: FaceRecord((0, 0, 10, 10), [(0, 0)] * 5, 0.99, [], v.astype(np.float32))  # noqa: E731
    index.add_photos([(PhotoRecord(f"p{i}.jpg", 1, 1, 100, 100), [face(X[i])]) for i in range(n_faces)], "synthetic")
    return index, X


@pytest.mark.parametrize("n_faces", [0, 1, 2, 4])
def test_a_tiny_gallery_clusters_each_face_its_own_person(n_faces, tmp_path):
    index, X = _tiny_index(tmp_path / "index.sqlite3", n_faces)
    with index:
        details = cluster_index(index)
        assert details["faces"] == n_faces and details["clusters"] == n_faces and details["threshold_choice"] is None
        active = index.active_clustering()
        assert active is not None and active["method"] == TOO_FEW_FACES
        labels = [r[0] for r in index.db.execute("SELECT cluster_id FROM memberships WHERE clustering_id = ?", (active["id"],))]
        assert len(set(labels)) == len(labels) == n_faces  # person ids, from the people table
        assert index.counts()["people"] == n_faces  # every person listed, with a cover face
        covers = index.db.execute("SELECT cover_face_id FROM clusters WHERE clustering_id = ?", (active["id"],)).fetchall()
        assert all(c[0] is not None for c in covers)
        report = cluster_report(index)
        assert report["summary"]["clusters"] == n_faces
        format_report(report)
        # searchable: a definite answer, whatever the gallery holds
        result = GallerySearcher(index).search(X[0] if n_faces else np.eye(16)[0])
        if n_faces == 0:
            assert not result.found and result.matches == []
        else:
            assert result.best_score == pytest.approx(0.0, abs=1e-3)
            assert [m.photo_id for m in result.matches] == ([1] if result.found else [])
        if n_faces >= 3:  # enough people for the searcher's own null
            assert result.found
    text = explain_threshold(details)
    if n_faces == 0:
        assert "no faces yet" in text
    else:
        assert f"{n_faces} face" in text and "every face is its own person" in text


def test_five_faces_are_enough_to_learn_from(tmp_path):
    index, _ = _tiny_index(tmp_path / "index.sqlite3", 5)
    with index:
        details = cluster_index(index)
    assert details["threshold_choice"] is not None and details["clusters"] >= 1


def test_an_expert_threshold_still_clusters_a_tiny_gallery(tmp_path):
    index, X = _tiny_index(tmp_path / "index.sqlite3", 3)
    with index:
        # faces 0 and 1 of one person (a second photo), face 2 someone else
        index.add_photos([(PhotoRecord("p1.jpg", 2, 2, 100, 100), [FaceRecord((0, 0, 10, 10), [(0, 0)] * 5, 0.99, [], X[0])])], "synthetic")
        details = cluster_index(index, threshold=0.1)
        assert details["override"] and details["clusters"] == 2
        assert index.active_clustering()["method"] == "expert override"
        report = cluster_report(index)
        assert sorted(c["faces"] for c in report["clusters"]) == [1, 2]
        assert "-" in format_report(report)  # the pair's purity cannot be estimated: shown as '-'
    assert "EXPERT OVERRIDE" in explain_threshold(details) and "0.1000" in explain_threshold(details)


def test_cluster_explain_on_a_tiny_gallery(tmp_path):
    index, _ = _tiny_index(tmp_path / "data" / "index.sqlite3", 2)
    index.close()
    proc = helpers.run_cli("--data", tmp_path / "data", "cluster", "--explain", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "2 faces in 2 clusters" in proc.stdout and "every face is its own person" in proc.stdout
    empty = tmp_path / "empty"
    FaceIndex(empty / "index.sqlite3").close()
    proc = helpers.run_cli("--data", empty, "cluster", "--explain", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "0 faces in 0 clusters" in proc.stdout and "no faces yet" in proc.stdout
