"""`faceexplore cluster`: group the index's faces by person.

Average-linkage agglomerative clustering of the normalised embeddings (it measured best of
average, complete and single linkage on LFW: docs/quality.md), cut at a distance the
gallery itself gives (``impostors.choose_threshold``). Two faces of one photo never share a
cluster. Up to ``DENSE_LIMIT`` faces the full distance matrix is used; above, a k-nearest-
neighbour graph constrains the merges so memory stays linear in the number of faces, and where
that graph is approximate (above ``EXACT_KNN_LIMIT`` faces) the clusters it split are joined
again (``rejoin_split_clusters``).

A gallery too small to learn a threshold from (fewer than ``impostors.MIN_PAIRS`` pairs of
faces: under 5 faces) is not guessed at: every face is its own person (``TOO_FEW_FACES``),
until it grows and `cluster` runs again; an expert ``--threshold`` still clusters it.

With the embedding model's measured prior (``priors.py``; ``prior=None`` keeps the gallery-only
rule) copies of one photo count once in the fit and a small gallery's different-people model
leans on the prior; every face, copies included, is clustered.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
from scipy.cluster.hierarchy import DisjointSet, fcluster, linkage
from scipy.spatial.distance import cdist, pdist

from faceexplore.index.covers import choose_cover
from faceexplore.index.locking import writer_lock
from faceexplore.index.store import PeopleChanged

from . import null_model
from .constraints import ClusterConstraints, assign_person_ids
from .impostors import (
    MIN_PAIRS,
    ThresholdChoice,
    choose_threshold,
    distinct_faces,
    pair_distances,
    same_group_pairs,
    same_person_probability,
)

DENSE_LIMIT = 30_000
KNN_NEIGHBOURS = 15
# Faces above which the k-NN graph comes from faiss's inverted-file index instead of the exact
# neighbours (scikit-learn, brute force: quadratic in faces, past an hour at 1M on 2 cores).
# Measured agreement of the two and costs: docs/speed.md, "A million faces".
EXACT_KNN_LIMIT = 100_000
IVF_LISTS_PER_ROOT = 4  # inverted lists: 4 sqrt(n), the low end of faiss's guideline (4..16 sqrt(n))
IVF_PROBES = 16  # lists searched per face
# lists searched per centroid for its nearest cluster: centroids of 1..8 faces spread less than
# faces do, and the "may be split" flag needs the close pairs (docs/speed.md, "A million faces")
IVF_CENTROID_PROBES = 128
IVF_TRAIN_PER_LIST = 40  # training faces per list (faiss asks for at least 39)
IVF_TRAIN_ITERATIONS = 10  # k-means iterations (faiss's default 25 cost more than the search at 1M)
REJOIN_ROUNDS = 3  # rounds of joining the clusters an approximate graph split (rejoin_split_clusters)
# A cannot-link pair's distance: so large that the average linkage of any two clusters that
# hold one such pair stays far above any threshold, whatever the cluster sizes.
CANNOT_LINK_DISTANCE = 1e12
TOO_FEW_FACES = "too few faces: each face its own person"  # the method of a tiny gallery's clustering


class FaceClusterer:
    """scikit-learn style: parameters in ``__init__``, ``fit(X, groups)`` sets ``labels_``.

    ``groups`` gives each face's photo: faces sharing a photo are different people.
    ``threshold``: an expert override; None (the default) derives it from the data.
    ``constraints`` (``fit``): the organiser's corrections, honoured by the linkage.
    ``prior``: the embedding model's ``priors.ModelPrior``, or None for the gallery-only rule.
    """

    def __init__(
        self,
        threshold: float | None = None,
        dense_limit: int = DENSE_LIMIT,
        n_neighbors: int = KNN_NEIGHBOURS,
        random_state: int = 0,
        prior=None,
        exact_knn_limit: int = EXACT_KNN_LIMIT,
    ):
        self.threshold = threshold
        self.prior = prior
        self.dense_limit = dense_limit
        self.exact_knn_limit = exact_knn_limit
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit(self, X, groups=None, constraints: ClusterConstraints | None = None):
        self.constraints_ = constraints or None
        X = np.asarray(X, np.float64)
        groups = np.arange(len(X)) if groups is None else np.asarray(groups)
        self.fit_threshold(X, groups)
        if len(X) < 2 or (self.choice_ is None and self.threshold is None):
            self.threshold_ = float(self.threshold or 0.0)
            self.labels_ = np.arange(len(X), dtype=np.int64)
            if self.constraints_ is not None:
                self.labels_ = self.constraints_.enforce(groups, self.labels_)
            return self
        self.threshold_ = float(self.threshold) if self.threshold is not None else self.choice_.threshold
        if len(X) <= self.dense_limit:
            labels = self._dense(X, groups)
        else:
            labels = self._knn(X, groups)
        self.labels_ = _enforce_cannot_link(X, groups, labels)
        if self.constraints_ is not None:
            self.labels_ = self.constraints_.enforce(groups, self.labels_)
        return self

    def fit_threshold(self, X, groups):
        """Only the threshold the gallery gives (``choice_``; None for a gallery too small),
        without the clustering: what ``fit`` cuts at (the live gallery's drift check,
        faceexplore/live/drift.py, compares it with the active clustering's)."""
        X = np.asarray(X, np.float64)
        groups = np.asarray(groups)
        rng = np.random.default_rng(self.random_state)
        # the faces the thresholds are fitted to: copies of one face count once
        self.distinct_ = distinct_faces(X, groups, self.prior.duplicate_distance) if self.prior else np.ones(len(X), bool)
        self.random_distances_, self.cannot_link_distances_ = pair_distances(X[self.distinct_], groups[self.distinct_], rng)
        # the gallery-only rule's minimum, counted over all faces: with a prior, a gallery whose
        # copies leave fewer distinct pairs than that is fitted by the prior alone
        enough = len(X) * (len(X) - 1) // 2 + len(same_group_pairs(groups)[0]) >= MIN_PAIRS
        self.choice_: ThresholdChoice | None = (
            choose_threshold(
                self.random_distances_,
                self.cannot_link_distances_,
                self.prior,
                distinct_faces=int(self.distinct_.sum()),
                duplicates=int(len(X) - self.distinct_.sum()),
            )
            if enough
            else None
        )
        return self

    def _dense(self, X, groups, positions=None):
        condensed = pdist(X)
        if self.constraints_ is not None:
            self.constraints_.apply_to_condensed(condensed, positions)
        same_photo = _same_group_condensed(groups)
        condensed[same_photo] = CANNOT_LINK_DISTANCE
        tree = linkage(condensed, method="average")
        return fcluster(tree, t=self.threshold_, criterion="distance") - 1

    def _knn(self, X, groups):
        """Above ``dense_limit`` faces: each face's ``n_neighbors`` nearest faces closer than the
        threshold make a sparse graph. Average linkage only merges groups with a pair closer
        than the threshold, so (up to the faces a k-NN graph leaves out) no cluster spans two of
        its connected components: each component is clustered on its own, with the full
        distance matrix where it fits and a graph-constrained linkage where it does not."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(X)
        k = min(self.n_neighbors + 1, n)
        exact = n <= self.exact_knn_limit
        distances, neighbours = nearest_neighbours(X, k, exact=exact, seed=self.random_state)
        # each face's neighbours but itself (a copy of a face may come before it)
        close = (distances < self.threshold_) & (neighbours >= 0) & (neighbours != np.arange(n)[:, None])
        rows = np.repeat(np.arange(n), k)[close.ravel()]
        graph = csr_matrix((np.ones(len(rows)), (rows, neighbours[close])), shape=(n, n))
        self.components_, component = connected_components(graph, directed=False)
        labels = np.empty(n, np.int64)
        order = np.argsort(component, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(component[order]) != 0, True])
        next_label = 0
        for a, b in zip(bounds[:-1], bounds[1:]):
            members = order[a:b]
            if len(members) == 1:
                sub = np.zeros(1, np.int64)
            elif len(members) <= self.dense_limit:
                sub = self._dense(X[members], groups[members], members)
            else:
                sub = self._graph_linkage(X[members], graph[members][:, members])
            labels[members] = sub + next_label
            next_label += int(sub.max()) + 1
        if not exact:
            labels = rejoin_split_clusters(X, groups, labels, self.threshold_, self.random_state)
        return labels

    def _graph_linkage(self, X, graph):
        """Average linkage constrained to a connected graph (scikit-learn), for a component too
        large for its full distance matrix."""
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=None, distance_threshold=self.threshold_, linkage="average", connectivity=graph)
        return model.fit_predict(X)


def rejoin_split_clusters(X, groups, labels, threshold: float, seed: int = 0, rounds: int = REJOIN_ROUNDS):
    """Join clusters that average linkage on all pairs would have joined but the approximate
    graph kept apart: it misses close pairs (faiss's IVF misses many at a million faces:
    docs/speed.md, "A million faces"), and a person whose faces lost every link between them
    came out split. Each cluster is compared with its nearest other cluster by centroid (where
    split pieces of one person are); two whose average linkage (the mean distance of their
    faces' pairs, computed exactly) is under ``threshold`` and who share no photo are joined,
    closest pairs first. Repeated while it joins any, at most ``rounds`` times; after the first
    round only the clusters just joined look for their nearest (the others' did not move)."""
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    looking = None  # the first round: every cluster
    for _ in range(rounds):
        joined = _join_nearest_clusters(X, groups, labels, threshold, seed, looking)
        if joined is None:
            break
        labels, looking = joined
    return labels


def _join_nearest_clusters(X, groups, labels, threshold: float, seed: int, looking=None):
    """One round of ``rejoin_split_clusters`` on labels 0..k-1, each of the clusters ``looking``
    (None: all) with its nearest: the new labels and the clusters joined in them, or None where
    no two clusters were joined."""
    k = int(labels.max()) + 1 if len(labels) else 0
    if k < 2:
        return None
    centroids, _ = _centroids(X, labels, k)
    looking = np.arange(k) if looking is None else np.asarray(looking, np.int64)
    nearest, _ = _nearest_centroids(centroids, seed=seed, rows=looking)
    found = (nearest >= 0) & (nearest != looking)
    pairs = np.unique(np.sort(np.c_[looking[found], nearest[found]], axis=1), axis=0)
    # the mean distance of two clusters' faces is at least their centroids' distance (the norm
    # is convex): only pairs closer than the threshold by centroid can be joined
    pairs = pairs[np.linalg.norm(centroids[pairs[:, 0]] - centroids[pairs[:, 1]], axis=1) < threshold]
    by_cluster, bounds = _grouped(labels)
    faces_of = [by_cluster[bounds[c] : bounds[c + 1]] for c in range(k)]
    linkage_d = np.array([cdist(X[faces_of[a]], X[faces_of[b]]).mean() for a, b in pairs])
    closest_first = np.argsort(linkage_d)
    joined = DisjointSet(range(k))
    photos = {}  # a joined group's photos, by its root
    merged = []
    for (a, b), d in zip(pairs[closest_first].tolist(), linkage_d[closest_first]):
        if d >= threshold:
            break
        if joined.connected(a, b):
            continue
        ra, rb = joined[a], joined[b]
        pa = photos.pop(ra, None) or set(groups[faces_of[ra]].tolist())
        pb = photos.pop(rb, None) or set(groups[faces_of[rb]].tolist())
        if pa & pb:  # two faces of one photo are two people
            photos[ra], photos[rb] = pa, pb
            continue
        joined.merge(a, b)
        photos[joined[a]] = pa | pb
        merged.append(a)
    if not merged:
        return None
    new_of_old = np.unique([joined[c] for c in range(k)], return_inverse=True)[1]
    return new_of_old[labels].astype(np.int64), np.unique(new_of_old[merged])


def nearest_neighbours(X: np.ndarray, k: int, exact: bool = True, seed: int = 0):
    """Each face's ``k`` nearest faces (itself among them) and their Euclidean distances, nearest
    first: (distances, indices), each (n, k). ``exact``: scikit-learn's brute force, quadratic
    in faces. Otherwise faiss's inverted-file index (IVF-Flat): k-means cells of the faces, each
    face compared with the faces of its ``IVF_PROBES`` nearest cells only; the same answer every
    run (a seeded sample trains the k-means, itself seeded). A missing neighbour has index -1."""
    if exact:
        from sklearn.neighbors import NearestNeighbors

        return NearestNeighbors(n_neighbors=k, n_jobs=-1).fit(X).kneighbors(X)
    import faiss

    Xf = np.ascontiguousarray(X, np.float32)
    squared, neighbours = _ivf_index(Xf, faiss.METRIC_L2, seed).search(Xf, k)
    return np.sqrt(np.maximum(squared, 0)).astype(np.float64), neighbours.astype(np.int64)


def _ivf_index(Xf: np.ndarray, metric: int, seed: int):
    """faiss's IVF-Flat index of the rows of ``Xf`` (float32), trained on a seeded sample."""
    import faiss

    n, dim = Xf.shape
    lists = max(1, min(int(IVF_LISTS_PER_ROOT * np.sqrt(n)), n // IVF_TRAIN_PER_LIST))
    quantizer = faiss.IndexFlatIP(dim) if metric == faiss.METRIC_INNER_PRODUCT else faiss.IndexFlatL2(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, lists, metric)
    index.cp.seed = seed
    index.cp.niter = IVF_TRAIN_ITERATIONS
    train = np.random.default_rng(seed).choice(n, min(n, IVF_TRAIN_PER_LIST * lists), replace=False)
    index.train(Xf[np.sort(train)])
    index.add(Xf)
    index.nprobe = min(IVF_PROBES, lists)
    return index


def _same_group_condensed(groups: np.ndarray) -> np.ndarray:
    """Positions in a condensed distance vector of the pairs that share a group."""
    n = len(groups)
    i, j = same_group_pairs(groups)
    return n * i - i * (i + 1) // 2 + (j - i - 1)


def _enforce_cannot_link(X, groups, labels):
    """Where a cluster still holds two faces of one photo (possible on the k-NN path), keep the
    face nearest the cluster's centre and give the others clusters of their own."""
    labels = labels.copy()
    next_label = labels.max() + 1 if len(labels) else 0
    key = labels.astype(np.int64) * (groups.max() + 1 if len(groups) else 1) + groups
    uniq, counts = np.unique(key, return_counts=True)
    clashing = uniq[counts > 1]
    if not len(clashing):
        return labels
    # the faces of each clashing key and of each cluster, found once (not a scan of all the
    # faces per clash: that grew with faces times clashes)
    by_key, key_bounds = _grouped(key)
    by_label, label_bounds = _grouped(labels)
    label_values = labels[by_label][label_bounds[:-1]]
    key_at = np.searchsorted(key[by_key][key_bounds[:-1]], clashing)
    for at in key_at:
        members = by_key[key_bounds[at] : key_bounds[at + 1]]
        label = labels[members[0]]
        c = np.searchsorted(label_values, label)
        cluster = by_label[label_bounds[c] : label_bounds[c + 1]]
        cluster = cluster[labels[cluster] == label]  # less the faces an earlier clash moved out
        centre = X[cluster].mean(0)
        keep = members[np.argmin(np.linalg.norm(X[members] - centre, axis=1))]
        for m in members:
            if m != keep:
                labels[m] = next_label
                next_label += 1
    return labels


def _grouped(values: np.ndarray):
    """Positions sorted by value (ascending within a value) and the bounds of each value's run."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    bounds = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1], True])
    return order, bounds


def cluster_quality(X, groups, labels, random_d, model, search_threshold=None):
    """Per-cluster label-free quality: size, cohesion, nearest cluster, estimated purity, flags.
    Without a different-people ``model`` (a tiny gallery) a cluster of several faces has no
    purity estimate (None)."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    k = len(uniq)
    centroids, sizes = _centroids(X, inverse, k)
    out = []
    nearest_of, nearest_d_of = _nearest_centroids(centroids)
    # each cluster's faces from one sort, and the random pairs sorted once (per cluster, both
    # grew with faces times clusters)
    by_cluster, bounds = _grouped(inverse)
    # every cluster's pair distances, then the same-person probability of all of them in one
    # call (a call a cluster cost milliseconds of scipy overhead: half an hour at 1M faces)
    pair_d = {c: pdist(X[by_cluster[bounds[c] : bounds[c + 1]]]) for c in np.flatnonzero(sizes > 1)}
    if model is not None and pair_d:
        every = np.concatenate(list(pair_d.values()))
        p = same_person_probability(every, np.sort(random_d), model, random_sorted=True)
        ends = np.cumsum([len(d) for d in pair_d.values()])
        pair_p = dict(zip(pair_d, np.split(p, ends[:-1])))
    for c in range(k):
        members = by_cluster[bounds[c] : bounds[c + 1]]
        if len(members) > 1:
            cohesion = float(pair_d[c].mean())
            purity = float(pair_p[c].mean()) if model is not None else None
        else:
            cohesion, purity = 0.0, 1.0
        nearest = int(nearest_of[c]) if k > 1 else -1
        nearest_d = float(nearest_d_of[c]) if nearest >= 0 else None
        flags = []
        if purity is not None and purity < 0.9:
            flags.append("may_be_two_people")
        if nearest_d is not None and search_threshold is not None and nearest_d < search_threshold:
            flags.append("may_be_split")
        out.append(
            {
                "cluster_id": int(uniq[c]),
                "face_count": int(len(members)),
                "photo_count": int(len(np.unique(groups[members]))),
                "cohesion": cohesion,
                "nearest_cluster": int(uniq[nearest]) if nearest >= 0 else None,
                "nearest_distance": nearest_d,
                "purity": purity,
                "flags": flags,
                "members": members,
            }
        )
    return out


def _centroids(X: np.ndarray, labels: np.ndarray, k: int):
    """The mean face of each cluster of labels 0..k-1, and the clusters' sizes."""
    centroids = np.zeros((k, X.shape[1]))
    np.add.at(centroids, labels, X)
    sizes = np.bincount(labels, minlength=k)
    return centroids / sizes[:, None], sizes


def _nearest_centroids(centroids: np.ndarray, block: int = 2048, seed: int = 0, rows=None):
    """Each cluster's nearest other cluster and the distance (of the clusters ``rows`` only,
    where given, in their order), by blocks of rows so memory stays linear in the number of
    clusters. From the centroids of unit vectors: mean ||a-b||^2 = 2 - 2 <mean a, mean b> (the
    root of the mean squared distance)."""
    k = len(centroids)
    rows = np.arange(k) if rows is None else np.asarray(rows, np.int64)
    if k > EXACT_KNN_LIMIT:
        return _nearest_centroids_approximate(centroids, seed, rows)
    nearest, distance = np.full(len(rows), -1), np.full(len(rows), np.inf)
    for s in range(0, len(rows), block):
        part = rows[s : s + block]
        at = np.arange(len(part))
        d2 = np.maximum(2 - 2 * centroids[part] @ centroids.T, 0)
        d2[at, part] = np.inf
        nearest[s : s + len(part)] = np.argmin(d2, axis=1)
        distance[s : s + len(part)] = np.sqrt(d2[at, nearest[s : s + len(part)]])
    return nearest, distance


def _nearest_centroids_approximate(centroids: np.ndarray, seed: int, rows: np.ndarray):
    """``_nearest_centroids`` above ``EXACT_KNN_LIMIT`` clusters, where all pairs of centroids
    (quadratic: 222,000 clusters at 1M faces) cost more than the clustering: the largest inner
    product <mean a, mean b> found by faiss's inverted-file index, as in ``nearest_neighbours``.
    A cluster whose nearest other one is not found gets -1 (no nearest cluster)."""
    import faiss

    C = np.ascontiguousarray(centroids, np.float32)
    index = _ivf_index(C, faiss.METRIC_INNER_PRODUCT, seed)
    index.nprobe = min(IVF_CENTROID_PROBES, index.nlist)
    similarity, found = index.search(C[rows], 2)
    at = np.arange(len(rows))
    other = np.where(found[:, 0] == rows, 1, 0)  # the first hit that is not the cluster itself
    nearest = found[at, other].astype(np.int64)
    d2 = np.maximum(2 - 2 * similarity[at, other].astype(np.float64), 0)
    return nearest, np.where(nearest >= 0, np.sqrt(d2), np.inf)


def cluster_index(index, threshold: float | None = None, progress=print, use_prior: bool = True, lock: bool = True) -> dict:
    """Cluster every face of ``index`` and store the result, swapped in atomically, holding the
    index's writer lock. An index without faces gets an empty clustering (a new gallery comes up
    with no people rather than an error). ``use_prior=False``: the gallery-only rules, without
    the embedding model's prior (for comparison: benchmarks/small_gallery_benchmark.py).
    ``lock=False``: the caller's process holds the writer lock already (the live watcher, whose
    re-clustering runs in a child process while it keeps indexing)."""
    started = time.monotonic()
    with writer_lock(index.path, "faceexplore cluster") if lock else contextlib.nullcontext():
        for attempt in range(CORRECTION_RETRIES):
            try:
                return _cluster_index(index, threshold, started, use_prior)
            except PeopleChanged:
                if attempt == CORRECTION_RETRIES - 1:
                    raise


CORRECTION_RETRIES = 3  # clusterings computed again when the organiser corrected people meanwhile


def _corrected_faces(index):
    """The faces to cluster (rejected ones left out), the organiser's constraints on them, and
    what the ids are matched to, read at one instant (with the people_version it holds)."""
    with index.snapshot():
        face_ids, photo_ids, X, flags = index.embeddings()
        sharp = index.face_sharpness()
        pins, pairs, rejected = index.constraints()
        old_people = index.active_memberships()
        kept_people = index.kept_people()
        version = index.people_version()
    keep = ~np.isin(face_ids, np.fromiter(rejected, np.int64, len(rejected)))
    face_ids, photo_ids, X, flags = face_ids[keep], photo_ids[keep], X[keep], [f for f, k in zip(flags, keep) if k]
    constraints = ClusterConstraints.from_ids(face_ids, pins, pairs)
    return face_ids, photo_ids, X, flags, sharp[keep], constraints, old_people, kept_people, version, len(rejected)


def _cluster_index(index, threshold, started, use_prior=True) -> dict:
    from ..faces.priors import prior_for

    face_ids, photo_ids, X, flags, sharp, constraints, old_people, kept_people, version, rejected = _corrected_faces(index)
    prior = prior_for(index.meta("model")) if use_prior else None
    clusterer = FaceClusterer(threshold=threshold, prior=prior).fit(X, photo_ids, constraints)
    labels = clusterer.labels_
    Xd = X.astype(np.float64)
    model = clusterer.choice_.model if clusterer.choice_ else None
    # a tiny gallery gives no evidence of what an absent person scores either
    null = (
        null_model.search_threshold_from_gallery(Xd, labels, clusterer.choice_, prior=prior, queries=np.flatnonzero(clusterer.distinct_))
        if clusterer.choice_
        else None
    )
    quality = (
        cluster_quality(Xd, photo_ids, labels, clusterer.random_distances_, model, null.get("distance") if null else None) if len(X) else []
    )
    person = assign_person_ids(labels, face_ids, old_people, constraints, X.astype(np.float64), kept_people, clusterer.threshold_)
    labels = np.array([person[int(c)] for c in labels], np.int64)
    clusters = []
    for q in quality:
        members = q.pop("members")
        q["cluster_id"] = person[q["cluster_id"]]
        if q["nearest_cluster"] is not None:
            q["nearest_cluster"] = person[q["nearest_cluster"]]
        centre = Xd[members].mean(0)
        cover = int(face_ids[members[choose_cover(Xd[members], [flags[m] for m in members], sharp[members])]])
        clusters.append(
            {
                "cluster_id": q["cluster_id"],
                "face_count": q["face_count"],
                "photo_count": q["photo_count"],
                "cover_face_id": cover,
                "quality": q,
                "centroid": centre,
            }
        )
    details = {
        "threshold_choice": clusterer.choice_.as_dict() if clusterer.choice_ else None,
        "override": threshold is not None,
        "threshold": clusterer.threshold_,
        "prior": prior.as_dict() if prior else None,
        "faces": int(len(face_ids)),
        "clusters": int(len(clusters)),
        "search_null": null,
        "seconds": time.monotonic() - started,
    }
    details["organiser"] = constraints.summary(rejected=rejected)
    method = "expert override" if threshold is not None else (clusterer.choice_.method if clusterer.choice_ else TOO_FEW_FACES)
    index.save_clustering(face_ids, labels, clusterer.threshold_, method, details, clusters, index.meta("model") or "", version)
    return details
