"""The distance distribution of *different* people, estimated from a gallery with no labels,
and the clustering threshold it implies.

The gallery gives evidence for free:
- two faces in one photo are two different people (cannot-link pairs);
- random pairs of faces are almost all different people in a gallery of many people, but the
  few same-person pairs among them crowd the *lower* tail of distances, exactly where a
  threshold lives.
So the model is fitted to the bulk of the distribution (its central quantiles, where same-person
pairs are a negligible share) and its lower tail is extrapolated, not read off raw quantiles.

Measured on LFW with the dlib model (docs/quality.md), the Euclidean distance between two different
people's normalised embeddings is very close to Gaussian, and a Gaussian fitted to the central
quantiles slightly *over*-estimates the far lower tail: a conservative error.

The threshold is where the observed pairs stop being in excess of what different people alone
produce: below it, the gallery has more close pairs than the different-people model explains
(they are same-person pairs); above it, the model explains them all. It is the maximum of
``observed_cdf(t) - model_cdf(t)``, found from the data; nothing in it is a distance constant.

Where the embedding model has a measured prior (``priors.py``), a small gallery's model leans on
it: copies of one photo count once, and the Gaussian is the gallery's fit and the prior's,
weighted by the distinct faces behind each (``combine_with_prior``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

# Central quantiles of pair distances used to fit the Gaussian (one standard deviation each
# side of the median): same-person pairs, a few percent of random pairs at most, sit far below.
FIT_QUANTILES = (0.16, 0.84)
GRID_POINTS = 400
# The evidence for same-person pairs among random pairs shrinks as the gallery grows: a face has a
# few faces of its own person whatever the gallery's size, so their share of all pairs falls as
# 1/faces (at a million faces a fixed 400,000 random pairs held a couple of them, and the
# threshold was noise: docs/speed.md, "A million faces"). Two bounds keep the statistics the
# threshold rests on the same at any size as at the 10,000 faces they were measured on
# (docs/quality.md): the pairs sampled grow with the faces beyond 10,000 ...
MAX_RANDOM_PAIRS = 400_000  # up to 10,000 faces
RANDOM_PAIRS_PER_FACE = 40  # beyond: 400,000 / 10,000
PAIR_CHUNK = 250_000  # pairs whose differences are held in memory at once
# ... and the threshold is searched for from 0 up to where the model lets through 1% of
# different-people pairs, or beyond 10,000 faces 100 different-people faces per face.
MAX_FALSE_MATCH_RATE = 0.01
MAX_CLOSER_PER_FACE = 100
MIN_PAIRS = 10  # different-people evidence (random and cannot-link pairs) the fit needs: 5 faces
DUPLICATE_NEIGHBOURS = 8  # nearest faces looked at for copies of a face
DUPLICATE_LIMIT = 30_000  # faces above which copies are not collapsed (``distinct_faces``)


@dataclass
class ImpostorModel:
    """Gaussian model of the distance between two different people's faces."""

    mean: float
    std: float
    pairs: int  # pairs the fit is based on
    cannot_link_pairs: int
    # with a model prior: the weight of the gallery's own fit (1.0 without a prior), that fit,
    # and the faces left out of the fit as copies of another photo's face
    gallery_weight: float = 1.0
    gallery_mean: float | None = None
    gallery_std: float | None = None
    duplicates_collapsed: int = 0

    def false_match_rate(self, distance):
        """P(two different people's faces are closer than ``distance``)."""
        return stats.norm.cdf(distance, loc=self.mean, scale=self.std)

    def distance_at(self, rate: float) -> float:
        """The distance below which a fraction ``rate`` of different-people pairs fall."""
        return float(stats.norm.ppf(rate, loc=self.mean, scale=self.std))

    def as_dict(self) -> dict:
        return asdict(self)


def random_pair_count(faces: int) -> int:
    """How many random pairs of ``faces`` faces the thresholds are fitted to (all pairs where
    there are fewer)."""
    return max(MAX_RANDOM_PAIRS, RANDOM_PAIRS_PER_FACE * faces)


def false_match_bound(faces: int) -> float:
    """The share of different-people pairs the threshold search stops at (``choose_threshold``)."""
    return MAX_FALSE_MATCH_RATE if faces <= 0 else min(MAX_FALSE_MATCH_RATE, MAX_CLOSER_PER_FACE / faces)


def pair_distances(X: np.ndarray, groups: np.ndarray | None, rng: np.random.Generator, max_pairs: int | None = None):
    """Distances of random pairs (i != j; ``random_pair_count`` of them unless ``max_pairs``
    says) and of cannot-link pairs (two faces of one photo)."""
    n = len(X)
    if n < 2:
        return np.zeros(0), np.zeros(0)
    max_pairs = random_pair_count(n) if max_pairs is None else max_pairs
    total = n * (n - 1) // 2
    if total <= max_pairs:
        i, j = np.triu_indices(n, 1)
    else:
        i = rng.integers(0, n, max_pairs)
        j = rng.integers(0, n - 1, max_pairs)
        j = j + (j >= i)  # uniform over j != i
    # in chunks: 40 million pairs' differences at once would be 40 GB
    chunks = [slice(a, a + PAIR_CHUNK) for a in range(0, len(i), PAIR_CHUNK)]
    random_d = np.concatenate([np.linalg.norm(X[i[c]] - X[j[c]], axis=1) for c in chunks])
    cl = np.zeros(0)
    if groups is not None:
        ci, cj = same_group_pairs(groups)
        if len(ci):
            cl = np.linalg.norm(X[ci] - X[cj], axis=1)
    return random_d, cl


def same_group_pairs(groups: np.ndarray):
    """Index pairs (i, j), i < j, of the items that share a group (faces of one photo): group by
    group in sorted order, each group's pairs in row order. Built by offsets within the sorted
    groups (one numpy step per offset, over the items with a partner that far on), not a loop
    over the groups: a million faces in 400,000 photos took seconds in Python."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    n = len(g)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], n]
    # per sorted position: how many items of its group come after it
    left = np.repeat(ends, ends - starts) - np.arange(n)
    a_parts, b_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    position = np.flatnonzero(left > 1)
    offset = 1
    while len(position):
        a_parts.append(position)
        b_parts.append(position + offset)
        offset += 1
        position = position[left[position] > offset]
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    row_order = np.lexsort((b, a))
    i, j = order[a[row_order]], order[b[row_order]]
    return np.minimum(i, j), np.maximum(i, j)


def fit_impostors(random_d: np.ndarray, cannot_link_d: np.ndarray) -> ImpostorModel:
    """Fit the Gaussian to the central quantiles of all the different-people evidence."""
    pooled = np.concatenate([random_d, cannot_link_d])
    if len(pooled) < MIN_PAIRS:
        raise ValueError("too few faces to estimate the different-people distribution (need at least 5)")
    lo, hi = np.quantile(pooled, FIT_QUANTILES)
    z_lo, z_hi = stats.norm.ppf(FIT_QUANTILES)
    std = max((hi - lo) / (z_hi - z_lo), 1e-6)
    mean = lo - z_lo * std
    return ImpostorModel(float(mean), float(std), int(len(random_d)), int(len(cannot_link_d)))


def combine_with_prior(model: ImpostorModel, prior, distinct_faces: int, duplicates: int = 0) -> ImpostorModel:
    """The gallery's Gaussian and the prior's, each weighted by the faces behind it: the gallery's
    by its ``distinct_faces`` n, the prior's by ``prior.prior_faces`` n0; the mean and the sd
    are each averaged with weights n / (n + n0) and n0 / (n + n0). A gallery too small to fit at
    all (fewer than ``MIN_PAIRS`` distinct pairs) gets the prior alone."""
    w = prior.gallery_weight(distinct_faces) if model.pairs + model.cannot_link_pairs >= MIN_PAIRS else 0.0
    return ImpostorModel(
        mean=float(w * model.mean + (1 - w) * prior.mean),
        std=float(w * model.std + (1 - w) * prior.std),
        pairs=model.pairs,
        cannot_link_pairs=model.cannot_link_pairs,
        gallery_weight=float(w),
        gallery_mean=model.mean if w > 0 else None,
        gallery_std=model.std if w > 0 else None,
        duplicates_collapsed=int(duplicates),
    )


def distinct_faces(X: np.ndarray, groups: np.ndarray, duplicate_distance: float) -> np.ndarray:
    """A mask of the faces that count for fitting: of faces of *different* photos closer than
    ``duplicate_distance`` to each other (one photo saved at several resolutions, recompressed
    copies; chains of them included), only the first. Each face's ``DUPLICATE_NEIGHBOURS``
    nearest faces are looked at (a face copied more often still joins its copies through them).
    Above ``DUPLICATE_LIMIT`` faces nothing is collapsed: copies add the same excess to every
    distance above theirs, so they do not move the threshold, and the fit of so many faces
    leaves the prior no weight to speak of."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import NearestNeighbors

    n = len(X)
    if n < 2 or n > DUPLICATE_LIMIT or duplicate_distance <= 0:
        return np.ones(n, bool)
    k = min(DUPLICATE_NEIGHBOURS + 1, n)
    distance, neighbour = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    rows = np.repeat(np.arange(n), k)
    cols = neighbour.ravel()
    linked = (distance.ravel() < duplicate_distance) & (groups[rows] != groups[cols])
    links = coo_matrix((np.ones(int(linked.sum())), (rows[linked], cols[linked])), shape=(n, n))
    _, component = connected_components(links, directed=False)
    keep = np.zeros(n, bool)
    keep[np.unique(component, return_index=True)[1]] = True
    return keep


@dataclass
class ThresholdChoice:
    threshold: float
    model: ImpostorModel
    same_person_pairs_share: float  # estimated share of random pairs that are one person
    false_match_rate: float  # of a single pair at the threshold, from the model
    method: str = "excess-over-different-people-model"

    def as_dict(self) -> dict:
        out = asdict(self)
        out["model"] = self.model.as_dict()
        return out


def choose_threshold(
    random_d: np.ndarray, cannot_link_d: np.ndarray, prior=None, distinct_faces: int = 0, duplicates: int = 0
) -> ThresholdChoice:
    """The distance that maximises (observed pairs closer) - (different-people pairs expected
    closer): below it, close pairs are same-person pairs in excess of the model. With a model
    ``prior`` the model is the gallery's fit combined with it (``combine_with_prior``).
    ``distinct_faces``: the faces the pairs were drawn from (it bounds the search beyond 10,000
    faces: ``false_match_bound``; 0, unknown, keeps the 1% bound)."""
    if prior is None:
        model = fit_impostors(random_d, cannot_link_d)
    elif len(random_d) + len(cannot_link_d) >= MIN_PAIRS:
        model = combine_with_prior(fit_impostors(random_d, cannot_link_d), prior, distinct_faces, duplicates)
    else:
        empty = ImpostorModel(prior.mean, prior.std, len(random_d), len(cannot_link_d))
        model = combine_with_prior(empty, prior, distinct_faces, duplicates)
    # Search from 0 up to the distance that 1% of different-people pairs are closer than (fewer
    # beyond 10,000 faces: ``false_match_bound``). Beyond it lies the bulk, where a small misfit
    # of the two-parameter model to hundreds of thousands of pairs outweighs the same-person
    # excess of a gallery of many rarely seen people (benchmarks/cluster_benchmark.py shows the
    # threshold running into the bulk and pairwise F collapsing without this bound;
    # tests/test_clustering.py reproduces it). Real thresholds sit far below it (`cluster
    # --explain` on LFW-dev and the event gallery; docs/quality.md).
    bound = false_match_bound(distinct_faces)
    grid = np.linspace(0.0, max(model.distance_at(bound), 1e-3), GRID_POINTS)
    n = max(len(random_d), 1)
    observed = np.searchsorted(np.sort(random_d), grid, side="right") / n
    expected = model.false_match_rate(grid)
    excess = observed - expected
    best = int(np.argmax(excess))
    threshold = float(grid[best])
    return ThresholdChoice(
        threshold=threshold,
        model=model,
        same_person_pairs_share=float(max(excess[best], 0.0)),
        false_match_rate=float(model.false_match_rate(threshold)),
    )


def same_person_probability(
    distances, random_d: np.ndarray, model: ImpostorModel, bandwidth: float | None = None, random_sorted: bool = False
):
    """P(same person | pair distance) from the observed pair density and the model's
    different-people density: 1 - model / observed, clipped to [0, 1]. ``random_sorted``:
    ``random_d`` is sorted already (a caller asking for many clusters sorts it once)."""
    distances = np.atleast_1d(np.asarray(distances, float))
    if bandwidth is None:
        bandwidth = model.std / 6
    srt = random_d if random_sorted else np.sort(random_d)
    n = max(len(srt), 1)
    lo = np.searchsorted(srt, distances - bandwidth)
    hi = np.searchsorted(srt, distances + bandwidth)
    observed = (hi - lo) / n
    expected = model.false_match_rate(distances + bandwidth) - model.false_match_rate(distances - bandwidth)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 1.0 - np.where(observed > 0, expected / observed, math.inf)
    return np.clip(np.nan_to_num(p, nan=0.0, neginf=0.0), 0.0, 1.0)
