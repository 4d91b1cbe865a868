"""The organiser's review queue: short questions, ranked by how much each answer is expected to
change what visitors get, computed from the index alone (no labels).

- ``same_person``: two people that may be one. The probability comes from how far their average
  linkage (mean distance between their faces) lies above the clustering threshold, on the scale
  of the impostor model's spread; the impact is the faces a visitor of either would gain,
  ``2·|A|·|B| / (|A| + |B|)`` (what a merge adds to BCubed recall, in faces).
- ``face_belongs``: a face far from its person's other faces (its mean distance to them near or
  over the threshold). Impact: ``2·(n-1)/n``, the BCubed precision an intruder costs.
- ``not_a_face``: a low-probability detection, a tiny or oddly shaped box, or a face with no near
  neighbour. Impact: one face, plus what an intruder costs its person.

The score is probability × impact, the expected change, best first. A question's id is derived
from what it asks (kind and its faces), so it is stable while they are; an answered or skipped one
is remembered (index/store/review.py) and not asked again. Answers are the corrections that
survive re-clustering (people/corrections.py): "yes" to "same person?" merges the two, "no"
cannot-links them; "no" to "is this face one of them?" moves the face out to a person of its own
(cannot-linked to the faces it leaves), "yes" keeps it; "yes" to "not a face?" rejects it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from ..index.store import FaceIndex, ReviewStore
from .clustering import EXACT_KNN_LIMIT, nearest_neighbours
from .corrections import CorrectionError, PeopleEditor

KINDS = ("same_person", "face_belongs", "not_a_face")
ANSWERS = ("yes", "no", "skip")
NEAREST_PEOPLE = 5  # the people, by centroid, each person is compared with
LINKAGE_SAMPLE = 40  # faces per side the average linkage is computed on
BELONGS_SAMPLE = 2_000  # faces of a person its faces are compared with
CACHED_QUEUES = 4  # computed queues kept, by index and version of its people
SHOWN_FACES = 6  # faces shown per side of a "same person?" question
# The logistic's scale, as a share of the impostor model's spread (benchmarks/corrections_benchmark.py
# --curve measured 0.5 and 0.25: docs/quality.md).
SPREAD_SHARE = 0.5
# A question is worth answering when its expected change is at least this many faces.
WORTH_ANSWERING = 0.1
# Below this probability a question is not asked at all.
MIN_PROBABILITY = 0.02
# MTCNN scores real faces above 0.99; a score this far below is a likely non-face.
DETECTION_SURE = 0.98
DETECTION_SPAN = 0.1
ODD_ASPECT = (0.45, 1.6)  # box width / height outside this is an odd shape for a face
TINY_SIDE = 20  # pixels: the smallest faces MTCNN finds


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    probability: float  # that the answer changes the people: "yes", or "no" for face_belongs
    score: float  # probability × impact: the expected change, in faces
    person: int | None = None  # face_belongs: the person; same_person: a's
    faces: tuple[int, ...] = ()  # a's faces shown (same_person), or the one face
    other_person: int | None = None  # same_person: b
    other_faces: tuple[int, ...] = ()  # same_person: b's faces shown; face_belongs: the person's
    all_faces: tuple[int, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        out: dict = {"id": self.id, "kind": self.kind}
        if self.kind == "same_person":
            out["a"] = {"person": self.person, "faces": list(self.faces)}
            out["b"] = {"person": self.other_person, "faces": list(self.other_faces)}
        else:
            out["face"] = self.faces[0]
            if self.kind == "face_belongs":
                out["person"] = self.person
                out["person_faces"] = list(self.other_faces)
        out["probability"] = round(self.probability, 4)
        out["score"] = round(self.score, 4)
        return out


def question_id(kind: str, faces, person: int | None = None) -> str:
    """Derived from what the question asks: its kind, its sorted faces (and the person a face may
    belong to)."""
    text = f"{kind}:{','.join(str(int(f)) for f in sorted(faces))}"
    if person is not None:
        text += f":{int(person)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


@dataclass
class _Gallery:
    face_ids: np.ndarray
    photo_ids: np.ndarray
    people: np.ndarray
    X: np.ndarray
    threshold: float
    scale: float


def _gallery(index: FaceIndex) -> _Gallery | None:
    clustering = index.active_clustering()
    if clustering is None:
        return None
    vectors = index.clustered_vectors(clustering["id"])
    threshold = float(clustering["threshold"])
    choice = (clustering["details"] or {}).get("threshold_choice") or {}
    std = float((choice.get("model") or {}).get("std") or 0.0)
    # the impostor model's spread sets how fast "same person" grows unlikely above the
    # threshold; a gallery too small for a model falls back to a tenth of the threshold
    scale = (std if std > 0 else 0.1 * max(threshold, 1e-3)) * SPREAD_SHARE
    return _Gallery(vectors.ids, vectors.photo_ids, vectors.person_ids, vectors.X.astype(np.float64), threshold, scale)


def _distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    squared = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.sqrt(np.maximum(squared, 0))


def _same_person(g: _Gallery, members: dict[int, np.ndarray], cannot: set[tuple[int, int]], rng) -> list[Question]:
    people = sorted(members)
    if len(people) < 2:
        return []
    centroids = np.stack([g.X[members[p]].mean(0) for p in people])
    k = min(NEAREST_PEOPLE + 1, len(people))
    # each person's nearest people by centroid (faiss's approximate search above the exact limit)
    _, nearest = nearest_neighbours(centroids, k, exact=len(people) <= EXACT_KNN_LIMIT)
    pairs = {(min(i, int(j)), max(i, int(j))) for i, row in enumerate(nearest) for j in row if 0 <= j != i}
    photos = {p: set(g.photo_ids[members[p]].tolist()) for p in people}
    out = []
    for i, j in sorted(pairs):
        a, b = people[i], people[j]
        if photos[a] & photos[b] or (a, b) in cannot:
            continue  # two faces of one photo are two people; the organiser said they are two
        ma, mb = members[a], members[b]
        sa = ma if len(ma) <= LINKAGE_SAMPLE else rng.choice(ma, LINKAGE_SAMPLE, replace=False)
        sb = mb if len(mb) <= LINKAGE_SAMPLE else rng.choice(mb, LINKAGE_SAMPLE, replace=False)
        d = _distances(g.X[sa], g.X[sb])
        p = float(_sigmoid((g.threshold - d.mean()) / g.scale))
        if p < MIN_PROBABILITY:
            continue
        impact = 2 * len(ma) * len(mb) / (len(ma) + len(mb))
        # the faces shown: those of each side nearest the other
        near_a = ma[np.argsort(_distances(g.X[ma], g.X[mb].mean(0, keepdims=True))[:, 0], kind="stable")[:SHOWN_FACES]]
        near_b = mb[np.argsort(_distances(g.X[mb], g.X[ma].mean(0, keepdims=True))[:, 0], kind="stable")[:SHOWN_FACES]]
        every = np.concatenate([g.face_ids[ma], g.face_ids[mb]])
        out.append(
            Question(
                question_id("same_person", every),
                "same_person",
                p,
                p * impact,
                a,
                tuple(int(f) for f in g.face_ids[near_a]),
                b,
                tuple(int(f) for f in g.face_ids[near_b]),
                tuple(int(f) for f in every),
            )
        )
    return out


def _face_belongs(g: _Gallery, members: dict[int, np.ndarray], pinned: set[int], rng) -> list[Question]:
    out = []
    for person, m in members.items():
        n = len(m)
        if n < 3:
            continue
        if n <= BELONGS_SAMPLE:
            mean = _distances(g.X[m], g.X[m]).sum(1) / (n - 1)
        else:  # a very large person: the mean distance to a sample of its faces
            mean = _distances(g.X[m], g.X[rng.choice(m, BELONGS_SAMPLE, replace=False)]).mean(1)
        p = _sigmoid((mean - g.threshold) / g.scale)
        impact = 2 * (n - 1) / n
        typical = m[np.argsort(mean, kind="stable")]  # the faces shown beside it: the most typical
        for pos in np.flatnonzero(p >= MIN_PROBABILITY):
            face = int(g.face_ids[m[pos]])
            if face in pinned:
                continue  # the organiser put it there
            shown = tuple(int(f) for f in g.face_ids[typical[typical != m[pos]][:SHOWN_FACES]])
            out.append(
                Question(
                    question_id("face_belongs", [face], person),
                    "face_belongs",
                    float(p[pos]),
                    float(p[pos]) * impact,
                    person,
                    (face,),
                    other_faces=shown,
                )
            )
    return out


def _not_a_face(g: _Gallery, members: dict[int, np.ndarray], detections, pinned: set[int]) -> list[Question]:
    if len(g.face_ids) < 2:
        return []
    # no near neighbour: the nearest other face is further than the threshold and a spread
    distances, neighbours = nearest_neighbours(g.X, 2, exact=len(g.face_ids) <= EXACT_KNN_LIMIT)
    own = neighbours == np.arange(len(g.face_ids))[:, None]
    nearest = np.where(own | (neighbours < 0), math.inf, distances).min(1)
    size = {p: len(m) for p, m in members.items()}
    out = []
    for pos, face in enumerate(g.face_ids.tolist()):
        found = detections.get(face)
        if found is None or face in pinned:
            continue
        x1, y1, x2, y2 = found.box
        w, h = max(x2 - x1, 1e-6), max(y2 - y1, 1e-6)
        low = min(max((DETECTION_SURE - found.probability) / DETECTION_SPAN, 0.0), 1.0)
        odd = 0.5 if not ODD_ASPECT[0] <= w / h <= ODD_ASPECT[1] else 0.0
        tiny = 0.15 if min(w, h) < TINY_SIDE or "tiny" in found.flags else 0.0
        p = 1 - (1 - low) * (1 - odd) * (1 - tiny)
        isolated = nearest[pos] > g.threshold + 2 * g.scale
        p *= 1.0 if isolated else 0.5
        if p < MIN_PROBABILITY:
            continue
        n = size.get(int(g.people[pos]), 1)
        impact = 1 + (2 * (n - 1) / n if n > 1 else 0.0)
        out.append(Question(question_id("not_a_face", [face]), "not_a_face", p, p * impact, int(g.people[pos]), (face,)))
    return out


_cache: dict[tuple, list[Question]] = {}


def review_queue(index: FaceIndex, include_answered: bool = False, seed: int = 0) -> list[Question]:
    """Every question worth asking of the active clustering, best first (highest expected change;
    ties by id). Answered and skipped ones are left out unless ``include_answered``. The queue is
    computed once per state of the people (kept while no correction, clustering or live
    assignment changes them): the web asks for it at each answer."""
    with index.snapshot():
        clustering = index.active_clustering()
        key = (
            str(index.path.resolve()),
            index.meta("index_id"),
            None if clustering is None else clustering["id"],
            index.people_version(),
            index.memberships_version(),
            seed,
        )
        review = ReviewStore(index)
        answered = set() if include_answered else review.answered()
        questions = _cache.get(key)
        if questions is None:
            questions = _compute(index, review, seed)
            while len(_cache) >= CACHED_QUEUES:
                _cache.pop(next(iter(_cache)))
            _cache[key] = questions
    return [q for q in questions if q.id not in answered]


def _compute(index: FaceIndex, review: ReviewStore, seed: int) -> list[Question]:
    """The questions, best first, answered ones included (inside the caller's snapshot)."""
    g = _gallery(index)
    if g is None or not len(g.face_ids):
        return []
    pins, pairs, _ = index.constraints()
    detections = review.detections()
    order = np.argsort(g.people, kind="stable")
    bounds = np.flatnonzero(np.r_[True, g.people[order][1:] != g.people[order][:-1], True])
    members = {int(g.people[order[a]]): order[a:b] for a, b in zip(bounds[:-1], bounds[1:])}
    person_of = dict(zip(g.face_ids.tolist(), g.people.tolist()))
    cannot = set()
    for fa, fb in pairs:
        pa, pb = person_of.get(fa), person_of.get(fb)
        if pa is not None and pb is not None and pa != pb:
            cannot.add((min(pa, pb), max(pa, pb)))
    pinned = set(pins)
    rng = np.random.default_rng(seed)
    questions = _same_person(g, members, cannot, rng) + _face_belongs(g, members, pinned, rng) + _not_a_face(g, members, detections, pinned)
    questions.sort(key=lambda q: (-q.score, q.id))
    return questions


def worth_answering(questions: list[Question]) -> int:
    return sum(q.score >= WORTH_ANSWERING for q in questions)


def answer_question(editor: PeopleEditor, question_id: str, answer: str) -> Question:
    """Answer one question of the queue (skipped ones too) and remember the answer. "Same
    person?" yes: merged (into the one with more faces), no: cannot-linked; "is this face one of
    them?" no: moved out to a person of its own; "not a face?" yes: rejected; the other answers
    and "skip" are only remembered. 404 for an id not in the queue (answered already, or the
    faces changed since), 400 for another answer."""
    if answer not in ANSWERS:
        raise CorrectionError(400, "bad_answer", 'The answer is "yes", "no" or "skip".')
    index = editor.index
    found = next((q for q in review_queue(index, include_answered=True) if q.id == question_id), None)
    if found is None:
        raise CorrectionError(404, "not_found", f"There is no question {question_id}; the people may have changed since.")
    if found.kind == "same_person" and answer == "yes":
        sizes = {p.id: p.face_count for p in (editor.get(found.person), editor.get(found.other_person))}
        into = max(sizes, key=lambda p: (sizes[p], -p))
        editor.merge(into, [p for p in sizes if p != into])
    elif found.kind == "same_person" and answer == "no":
        editor.keep_apart(found.person, found.other_person)
    elif found.kind == "face_belongs" and answer == "no":
        editor.move_faces(list(found.faces), None)
    elif found.kind == "not_a_face" and answer == "yes":
        editor.reject_faces(list(found.faces))
    with index.transaction():
        ReviewStore(index).record(found.id, found.kind, answer)
    return found
