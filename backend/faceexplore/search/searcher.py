"""Open-set search: a visitor's sample photos in, that person's gallery photos out, or a clear
"not in the gallery".

A sample is scored against each cluster (person) by its mean distance to the cluster's faces;
several samples are searched together (see ``GallerySearcher.search``). Whether the best score
means "found" is decided against the
gallery's own *null distribution*: every indexed face, used as a pseudo-query against every
cluster but its own, is a person the rest of the gallery does not contain; the lowest score
each of them gets is what an absent visitor would get. The accept threshold is that
distribution's lower ``false_alarm_rate`` quantile, so it tightens by itself as the gallery
grows (more clusters, more chances of a look-alike), and no distance is hard-coded.

A small gallery's few pseudo-queries cannot show a 1% rate; there the embedding model's prior
(``priors.py``) sets a floor under the threshold (``NullModel``).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..faces.priors import prior_for

NULL_SAMPLE = 4000  # pseudo-queries used to estimate the null distribution
NULL_MIN_TAIL = 10  # pseudo-queries that must score below a quantile for it to be read off the data
NULL_QUANTILES = (0.25, 0.75)  # the quartiles a small gallery's Gumbel is fitted to
NULL_KEPT_SHARE = 0.25  # the lower share of the pseudo-queries' scores kept with the model
NULL_BLOCK_VALUES = 2**25  # distances held at once by fit_null (256 MB of float64)
CONFIDENCE_CAP = 0.99  # a calibrated chance shown to visitors never reads as certainty


@dataclass
class NullModel:
    """An absent person's best cluster score.

    Where the pseudo-queries show it (at least ``NULL_MIN_TAIL`` of them below), the law is their
    empirical distribution; for rarer events a Gumbel (minimum) law fitted to the data takes over,
    matched to the empirical one where they meet. (A Gumbel fitted to the quartiles alone put the
    1% threshold far too low: `evaluate event` on a 3,000-photo gallery gave 0.5% false alarms
    and F1 0.41.)

    Where the pseudo-queries are too few to show a rate and the embedding model has a prior
    (``prior_mean``, ``prior_std``: its different-people distance), the Gumbel is not trusted
    to be stricter than the prior: the threshold is at least the prior's floor for ``clusters``
    clusters (``priors.ModelPrior.search_floor``). Without it, a gallery of a dozen faces can
    put the Gumbel's 1% point below any distance a face reaches, so that no one, not even a photo
    of the gallery, is found (tests/test_small_gallery.py; docs/quality.md, "Small galleries").
    """

    loc: float
    scale: float
    samples: int
    tail: list = field(default_factory=list)  # the lowest scores, sorted
    prior_mean: float | None = None
    prior_std: float | None = None
    clusters: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> NullModel:
        return cls(d["loc"], d["scale"], d["samples"], d.get("tail") or [], d.get("prior_mean"), d.get("prior_std"), d.get("clusters") or 0)

    def _prior(self):
        from ..faces.priors import ModelPrior

        if self.prior_mean is None or self.prior_std is None:
            return None
        return ModelPrior("", self.prior_mean, self.prior_std, 0.0)

    def prior_floor(self, rate: float) -> float | None:
        """The prior's floor under the threshold at ``rate`` (None without a prior)."""
        prior = self._prior()
        return prior.search_floor(rate, self.clusters) if prior else None

    @property
    def data_rate(self) -> float:
        """The smallest rate the empirical distribution answers for."""
        return NULL_MIN_TAIL / self.samples if self.samples else 1.0

    def cdf(self, score):
        shown = len(self.tail) >= NULL_MIN_TAIL
        if shown and self.tail[NULL_MIN_TAIL - 1] <= score <= self.tail[-1]:
            return float(np.searchsorted(self.tail, score, side="right") / self.samples)
        gumbel = float(stats.gumbel_l.cdf(score, loc=self.loc, scale=self.scale))
        prior = self._prior()
        if prior is not None and (not shown or score < self.tail[NULL_MIN_TAIL - 1]):
            # below what the data show: the lower of the two laws (the higher of the thresholds)
            return min(gumbel, prior.search_floor_cdf(score, self.clusters))
        return gumbel

    def distance_at(self, rate: float) -> float:
        k = math.ceil(rate * self.samples) - 1  # the order statistic with at most ``rate`` below it
        if self.data_rate <= rate and 0 <= k < len(self.tail):
            return float(self.tail[k])
        gumbel = float(stats.gumbel_l.ppf(rate, loc=self.loc, scale=self.scale))
        floor = self.prior_floor(rate)
        return gumbel if floor is None else max(gumbel, floor)

    def as_dict(self):
        out = {"loc": self.loc, "scale": self.scale, "samples": self.samples, "tail": self.tail}
        if self.prior_mean is not None:
            out |= {"prior_mean": self.prior_mean, "prior_std": self.prior_std, "clusters": self.clusters}
        return out


def cluster_scores(D: np.ndarray, inverse: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean distance from each row's query to each cluster: (queries, clusters)."""
    out = np.empty((D.shape[0], len(sizes)))
    for r in range(D.shape[0]):
        out[r] = np.bincount(inverse, weights=D[r], minlength=len(sizes)) / sizes
    return out


def fit_null(X: np.ndarray, labels: np.ndarray, rng=None, prior=None, queries=None) -> NullModel | None:
    """Each (sampled) face's best score against the clusters other than its own. ``queries``:
    the faces that may be pseudo-queries (copies of one face count once; all by default).
    ``prior``: the embedding model's ``priors.ModelPrior``, kept with the model for its floor."""
    rng = rng or np.random.default_rng(0)
    uniq, inverse = np.unique(labels, return_inverse=True)
    if len(uniq) < 3:
        return None
    sizes = np.bincount(inverse).astype(np.float64)
    queries = np.arange(len(X)) if queries is None else np.asarray(queries)
    pick = queries if len(queries) <= NULL_SAMPLE else rng.choice(queries, NULL_SAMPLE, replace=False)
    best = np.empty(len(pick))
    # pseudo-queries a block: each block's distance matrix stays within NULL_BLOCK_VALUES
    block = max(1, min(256, NULL_BLOCK_VALUES // max(len(X), 1)))
    for start in range(0, len(pick), block):
        rows = pick[start : start + block]
        D = np.sqrt(np.maximum(2 - 2 * X[rows] @ X.T, 0))
        scores = cluster_scores(D, inverse, sizes)
        scores[np.arange(len(rows)), inverse[rows]] = np.inf
        best[start : start + len(rows)] = scores.min(1)
    best = np.sort(best)
    n = len(best)
    # Gumbel for minima, fitted where the data are solid: from the lowest quantile the data show
    # (NULL_MIN_TAIL scores below it) to the third quartile; a small gallery gets the quartiles.
    # Robust to the few pseudo-queries whose person has a second cluster (their best "other"
    # score is a same-person score, far in the lower tail).
    p_lo = min(NULL_QUANTILES[0], NULL_MIN_TAIL / n)
    q_lo, q_hi = np.quantile(best, (p_lo, NULL_QUANTILES[1]))
    z_lo, z_hi = stats.gumbel_l.ppf((p_lo, NULL_QUANTILES[1]))
    scale = max((q_hi - q_lo) / (z_hi - z_lo), 1e-6)
    loc = q_lo - z_lo * scale
    kept = best[: math.ceil(NULL_KEPT_SHARE * n)] if n >= NULL_MIN_TAIL else best[:0]
    tail = [round(float(v), 6) for v in kept]
    if prior is None:
        return NullModel(float(loc), float(scale), int(n), tail)
    return NullModel(float(loc), float(scale), int(n), tail, prior.mean, prior.std, int(len(uniq)))


def search_threshold_from_gallery(X, labels, choice=None, false_alarm_rate: float = 0.01, prior=None, queries=None) -> dict | None:
    null = fit_null(X, labels, prior=prior, queries=queries)
    if null is None:
        return None
    distance = null.distance_at(false_alarm_rate)
    floor = null.prior_floor(false_alarm_rate)
    return {
        **null.as_dict(),
        "false_alarm_rate": false_alarm_rate,
        "distance": distance,
        "prior_floor": floor,
        "prior_floor_used": floor is not None and distance == floor,
    }


@dataclass
class Match:
    face_id: int
    photo_id: int
    cluster_id: int
    distance: float
    confidence: float


TOO_FEW_FACES = (
    "The gallery has too few faces to search yet: with fewer than three people indexed and grouped there is "
    "nothing to tell a match from a stranger. Index and group more photos, then search again."
)


@dataclass
class Candidate:
    """A person the samples came close to without reaching the accept threshold: "is this you?".

    ``score`` is the sample's mean distance to the person's faces (their best sample's);
    ``confidence`` the calibrated chance it is not a stranger's score, as in ``Match``."""

    cluster_id: int
    score: float
    confidence: float
    face_ids: list[int]  # the person's searched faces
    photo_ids: list[int]  # one per face, in the same order


@dataclass
class SearchResult:
    found: bool
    confidence: float
    best_score: float | None
    threshold: float | None
    false_alarm_rate: float
    person_id: int | None
    matches: list[Match]  # one per photo, best first
    rule: str
    candidates: list[Candidate] = field(default_factory=list)  # when not found: best first
    also_you: list[Candidate] = field(default_factory=list)  # when found: likely the same person split off


@dataclass(frozen=True)
class GalleryState:
    """One consistent view of the index's faces and clustering. A refresh builds a new one and
    swaps it in whole, so a search running beside it never mixes two versions."""

    face_ids: np.ndarray
    photo_ids: np.ndarray
    X: np.ndarray
    labels: np.ndarray
    clustering: dict | None
    null: NullModel | None
    uniq: np.ndarray
    inverse: np.ndarray
    sizes: np.ndarray
    version: tuple
    offerable: np.ndarray | None = None  # per cluster: none of its photos is withheld


class GallerySearcher:
    """Holds the index's embeddings and clustering in memory; reloads when they change."""

    def __init__(self, index, false_alarm_rate: float = 0.01, candidates: int = 0, candidate_rate: float = 0.2):
        self.index = index
        self.false_alarm_rate = false_alarm_rate
        self.candidates = candidates
        self.candidate_rate = candidate_rate
        self._lock = threading.Lock()
        self.state: GalleryState | None = None
        self.refresh()

    # The current state's arrays, for callers that read one of them (evaluation's baseline).
    X = property(lambda self: self.state.X)
    photo_ids = property(lambda self: self.state.photo_ids)
    face_ids = property(lambda self: self.state.face_ids)

    def refresh(self) -> GalleryState:
        from . import withheld

        with self._lock:
            with self.index.snapshot():
                version = withheld.index_version(self.index)
                if self.state is not None and version == self.state.version:
                    return self.state
                face_ids, photo_ids, X, _ = self.index.embeddings()
                clustering = self.index.active_clustering()
                members = self.index.active_memberships() if clustering else {}
                excluded = self.index.rejected_faces()
                kept_back = withheld.for_index(self.index, self.false_alarm_rate, withheld.array_blocks(face_ids, photo_ids, X))
            # rejected faces, and every face of a withheld photo (withheld.py: hidden people, the
            # faces taken for them, the others in their photos): searched as if not in the gallery
            in_withheld_photo = np.isin(photo_ids, np.fromiter(kept_back.photos, np.int64, len(kept_back.photos)))
            lost = {members[int(f)] for f in face_ids[in_withheld_photo] if int(f) in members}
            kept = ~(in_withheld_photo | np.isin(face_ids, np.fromiter(excluded, np.int64, len(excluded))))
            face_ids, photo_ids, X = face_ids[kept], photo_ids[kept], X[kept]
            labels = np.array([members.get(int(f), -1) for f in face_ids], np.int64)
            # faces indexed after the last clustering: each its own cluster until re-clustered
            unclustered = labels < 0
            labels[unclustered] = (labels.max() + 1 if len(labels) else 0) + np.arange(unclustered.sum())
            X = X.astype(np.float64)
            null = (clustering or {}).get("details", {}).get("search_null")
            null = NullModel.from_dict(null) if null else fit_null(X, labels)
            uniq, inverse = np.unique(labels, return_inverse=True)
            sizes = np.bincount(inverse, minlength=len(uniq)).astype(np.float64)
            # a person with a face in a withheld photo is never offered as a candidate: what they
            # look like there would lead a visitor back to the photo's hidden person
            offerable = ~np.isin(uniq, np.fromiter(lost, np.int64, len(lost)))
            self.state = GalleryState(face_ids, photo_ids, X, labels, clustering, null, uniq, inverse, sizes, version, offerable)
            return self.state

    def search(
        self,
        embeddings: np.ndarray,
        false_alarm_rate: float | None = None,
        candidates: int | None = None,
        candidate_rate: float | None = None,
    ) -> SearchResult:
        """``embeddings``: one row per sample photo of the same person.

        Each of k samples is searched at a k times stricter rate and the answers are merged (a
        cluster's score is its best sample's): by the union bound the chance that any of them
        says "found" for a stranger stays within the rate, however alike the samples are. Each
        extra sample is one more chance to match a photo of the person. Measured with
        benchmarks/search_diagnostics.py on a 3,000-photo gallery with up to 3 samples a person:
        F1 0.734 / 0.809 at 1% / 5%, against 0.611 / 0.755 averaging the samples' scores and
        0.614 / 0.709 with one sample. (The samples' mean embedding scored 0.849 / 0.841, but
        strangers' mean embeddings false-alarmed more: 6 of 26 at 5%, against 3.)"""
        st = self.refresh()
        rate = self.false_alarm_rate if false_alarm_rate is None else false_alarm_rate
        Q = np.atleast_2d(np.asarray(embeddings, np.float64))
        k = len(Q)
        if len(st.face_ids) == 0:
            return SearchResult(False, CONFIDENCE_CAP, None, None, rate, None, [], "The gallery has no faces indexed yet.")
        D = np.sqrt(np.maximum(2 - 2 * Q @ st.X.T, 0))
        per_sample = cluster_scores(D, st.inverse, st.sizes)
        scores, agreed = per_sample.min(0), per_sample.mean(0)
        prior = prior_for(self.index.meta("model")) if st.null is None else None
        if prior is not None:
            # Fewer than 3 people in the gallery: no null to learn from; the embedding model's
            # own different-people distances (priors.py) say what a stranger scores.
            clusters = len(st.uniq)
            threshold = prior.search_floor(rate / k, clusters)
            conf = lambda s: float(min(CONFIDENCE_CAP, max(0.0, 1.0 - k * prior.search_floor_cdf(s, clusters))))  # noqa: E731
        elif st.null is None:
            # no prior for this model either: the clustering's own threshold, where it has one
            threshold = float((st.clustering or {}).get("threshold") or 0.0)
            if threshold <= 0:  # a gallery of one or two faces (or not clustered): nothing to go by
                return SearchResult(False, 0.0, float(scores.min()), None, rate, None, [], TOO_FEW_FACES)
            conf = lambda s: CONFIDENCE_CAP * float(s < threshold)  # noqa: E731
        else:
            threshold = st.null.distance_at(rate / k)
            conf = lambda s: float(min(CONFIDENCE_CAP, max(0.0, 1.0 - k * st.null.cdf(s))))  # noqa: E731
        best = int(np.argmin(scores))
        best_score = float(scores[best])
        found = best_score < threshold
        matches: dict[int, Match] = {}
        if found:
            # the best cluster, and every other one the samples agree on (their mean score under
            # the threshold): one sample's look-alike does not bring in a stranger's photos
            accepted = np.union1d([best], np.flatnonzero(agreed < threshold))
            for c in accepted[np.argsort(scores[accepted])]:
                for m in np.flatnonzero(st.inverse == c):
                    pid = int(st.photo_ids[m])
                    dist = float(D[:, m].min())
                    if pid not in matches or matches[pid].distance > dist:
                        matches[pid] = Match(int(st.face_ids[m]), pid, int(st.uniq[c]), dist, conf(scores[c]))
        ordered = sorted(matches.values(), key=lambda m: (-m.confidence, m.distance))
        limit = self.candidates if candidates is None else candidates
        band_rate = max(self.candidate_rate if candidate_rate is None else candidate_rate, rate)
        offered, also = [], []
        if limit > 0 and st.null is not None:
            band = st.null.distance_at(band_rate / k)
            if found:
                also = self._also_you(st, scores, band, threshold, accepted, limit, conf)
            else:
                offered = [self._candidate(st, c, scores[c], conf) for c in _in_band(scores, band, limit, st.offerable)]
        verdict = "below" if found else "not below"
        each = f" (each of {k} samples searched at {rate / k:.2%}, so that together they keep {rate:.0%})" if k > 1 else ""
        rule = (
            f"best match score {best_score:.3f} is {verdict} the gallery's {rate:.0%} false-alarm "
            f"threshold {threshold:.3f}{each} (mean distance to a person's faces; the threshold is the "
            f"score an absent person reaches with probability {rate / k:.2%}, learned from this gallery)"
        )
        return SearchResult(
            found,
            conf(best_score) if found else min(CONFIDENCE_CAP, 1.0 - conf(best_score)),
            best_score,
            threshold,
            rate,
            int(st.uniq[best]) if found else None,
            ordered,
            rule,
            offered,
            also,
        )

    @staticmethod
    def _candidate(st: GalleryState, c: int, score: float, conf) -> Candidate:
        members = np.flatnonzero(st.inverse == c)
        return Candidate(int(st.uniq[c]), float(score), conf(score), st.face_ids[members].tolist(), st.photo_ids[members].tolist())

    def _also_you(self, st: GalleryState, scores, band: float, threshold: float, accepted, limit: int, conf) -> list[Candidate]:
        """People inside the band who are likely the found person split in two clusters: their
        faces' mean distance to the found people's faces is under the accept threshold, i.e. as a
        sample they would themselves have found them (a stranger's face gets that close with at most
        the false-alarm rate's chance)."""
        inside = [c for c in _in_band(scores, band, len(scores), st.offerable) if c not in set(accepted.tolist())]
        if not inside:
            return []
        found_faces = st.X[np.isin(st.inverse, accepted)]
        near = []
        for c in inside:
            faces = st.X[st.inverse == c]
            mean = float(np.sqrt(np.maximum(2 - 2 * faces @ found_faces.T, 0)).mean())
            if mean < threshold:
                near.append(c)
            if len(near) == limit:
                break
        return [self._candidate(st, c, scores[c], conf) for c in near]

    def person_candidate(self, cluster_id: int, conf: float, whole: bool = False) -> Candidate | None:
        """A person by id as the search now sees them (the faces of withheld photos are not in the
        search at all); None when hidden or gone since. ``whole``: None too when any of their
        photos is withheld (a person offered anew, as a candidate is)."""
        st = self.refresh()
        where = np.flatnonzero(st.uniq == cluster_id)
        if not len(where) or (whole and not st.offerable[where[0]]):
            return None
        return self._candidate(st, int(where[0]), 0.0, lambda _s: conf)

    def near_people(self, cluster_id: int, among: list[int]) -> list[int]:
        """Of ``among`` (person ids), those whose faces' mean distance to ``cluster_id``'s is under
        the accept threshold: the "also you" of a confirmed person."""
        st = self.refresh()
        where = np.flatnonzero(st.uniq == cluster_id)
        if not len(where) or st.null is None:
            return []
        threshold = st.null.distance_at(self.false_alarm_rate)
        found_faces = st.X[st.inverse == where[0]]
        out = []
        for person in among:
            idx = np.flatnonzero(st.uniq == person)
            if not len(idx) or idx[0] == where[0]:
                continue
            faces = st.X[st.inverse == idx[0]]
            if float(np.sqrt(np.maximum(2 - 2 * faces @ found_faces.T, 0)).mean()) < threshold:
                out.append(int(person))
        return out


def _in_band(scores: np.ndarray, band: float, limit: int, offerable: np.ndarray) -> list[int]:
    """The offerable clusters scoring under ``band``, best first, at most ``limit``."""
    inside = np.flatnonzero((scores < band) & offerable)
    return inside[np.argsort(scores[inside])][:limit].tolist()
