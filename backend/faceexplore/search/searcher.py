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

import threading
from dataclasses import dataclass, field

import numpy as np

from ..faces.priors import prior_for
from ..people.null_model import NullModel, cluster_scores, fit_null
from . import withheld

CONFIDENCE_CAP = 0.99  # a calibrated chance shown to visitors never reads as certainty


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
