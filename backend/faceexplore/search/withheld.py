"""What a visitor is never shown: the faces and photos withheld because of hidden people.

One rule, used by the search, the photo and person pages, downloads and the status:

- the faces of hidden people are withheld;
- so is every other face whose search score against a hidden person (its mean distance to that
  person's faces, as ``null_model.cluster_scores`` computes it) is under the search's accept
  threshold at the configured false-alarm rate: a sample of it would "find" the hidden person,
  so it is taken for them. That covers a hidden person's photos indexed after the last
  clustering (each its own cluster until `cluster` runs again) and faces the live assignment
  joined elsewhere. Only an explicit correction of the organiser (a move or merge that pinned
  the face to a person who is not hidden) releases such a face;
- a photo is withheld when any of its faces is (a group photo with a hidden person is not
  handed to the others: privacy by default for the hidden person);
- a person every face of whom is withheld is withheld (hidden people among them).

A visitor's removal ("Remove me", site/removals.py) is a second source, held as embeddings in the
site file: every face whose score against a removal's embeddings (the same mean distance) is under
the accept threshold is withheld, and so is every face with one of the removal's matched faces'
embeddings (distance ~0). Being embedding-based it survives re-indexing and re-clustering and
catches new photos; no organiser placement releases it (undoing the removal does).

Rejected faces ("not a face") are no one's and withhold nothing. Organiser requests see
everything; callers decide who asks.

The result is computed from the index and cached per index and version (the tuple the searcher
reloads on), so a web view reads it cheaply from its read-only connection. Hidden faces are few:
every face is scored against them only, a block of faces at a time, and a new version of the
index has only its new faces scored while the hidden faces and the threshold stay the same.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from faceexplore.faces.priors import prior_for

from ..people.null_model import NullModel, cluster_scores
from ..site import removals

BLOCK = 4096  # faces scored at once against the hidden people's faces
EXACT_DISTANCE = 1e-3  # a face with a removal's matched embedding is that face (re-indexed: a new id)


@dataclass(frozen=True)
class Withheld:
    faces: frozenset[int]
    photos: frozenset[int]
    people: frozenset[int]  # people of the active clustering all of whose faces are withheld
    threshold: float | None  # the accept threshold the near-faces rule used (None: no hidden faces)

    def __bool__(self) -> bool:
        return bool(self.faces or self.people)


NOTHING = Withheld(frozenset(), frozenset(), frozenset(), None)


def index_version(index) -> tuple:
    """What the withheld faces depend on; the searcher reloads on the same tuple.
    memberships_version: the live assignment's new memberships (faceexplore/live/assignment.py);
    the removals' version: visitors' removals, in the site file of the index's data folder."""
    return (
        index.meta("active_clustering"),
        index.meta("last_indexed"),
        index.people_version(),
        index.memberships_version(),
        removals.version(data_dir(index)),
    )


def data_dir(index):
    """The data folder of an index: settings.index_path is always ``<data dir>/index.sqlite3``."""
    return index.path.parent


def accept_threshold(index, clustering: dict | None, rate: float) -> float | None:
    """The score a visitor's one sample must be under to find a person at ``rate``: the active
    clustering's null model; where it has none, the embedding model's prior floor, else the
    clustering's own threshold (as ``GallerySearcher.search`` falls back)."""
    if clustering is None:
        return None
    null = (clustering.get("details") or {}).get("search_null")
    if null:
        return NullModel.from_dict(null).distance_at(rate)
    prior = prior_for(index.meta("model"))
    if prior is not None:
        return prior.search_floor(rate, index.active_people_count())
    return float(clustering.get("threshold") or 0.0) or None


_cache: dict = {}
_cache_lock = threading.Lock()


def for_index(index, rate: float, blocks=None) -> Withheld:
    """The withheld faces, photos and people of ``index`` now, for a search at ``rate``; cached
    per index file and version. ``blocks``: the faces as (ids, photo ids, embeddings) blocks when
    the caller holds them already (the searcher); else they are read from the index. Call it
    inside a snapshot when its answer must agree with other reads."""
    with index._consistent():
        key = (str(index.path), index.meta("index_id"), index_version(index), float(rate))
        with _cache_lock:
            found = _cache.get(key)
        if found is not None:
            return found
        withheld = compute(index, rate, blocks)
    with _cache_lock:
        for old in [k for k in _cache if k[0] == key[0]]:
            del _cache[old]  # one version per index file
        _cache[key] = withheld
    return withheld


@dataclass(frozen=True)
class _Scored:
    """The faces found near the hidden people so far, for one set of hidden faces and one
    threshold: faces get new ids when (re)indexed and an id's embedding never changes, so a new
    version of the index needs only its new faces scored (the live watcher adds a few at a time)."""

    key: tuple
    upto: int  # every face of id up to this was scored
    near: frozenset[int]  # their face ids under the threshold (the hidden faces among them)


_scored: dict[str, _Scored] = {}


def compute(index, rate: float, blocks=None) -> Withheld:
    hidden = index.hidden_face_vectors()
    dim = int(index.meta("embedding_dim", 0) or 0) or None
    removed = removals.removed_people(data_dir(index), dim)
    if not len(hidden) and not len(removed):
        return NOTHING
    blocks = None if blocks is None else list(blocks)  # read twice: hidden people, removals
    threshold = accept_threshold(index, index.active_clustering(), rate)
    withheld = set(hidden.ids.tolist())
    if len(removed):
        withheld |= _near_removed(index, removed, threshold, blocks) - index.rejected_faces()
    if len(hidden) and threshold is not None:
        key = (index.meta("index_id"), hidden.ids.tobytes(), hidden.person_ids.tobytes(), threshold)
        with _cache_lock:
            scored = _scored.get(str(index.path))
        if scored is None or scored.key != key:
            scored = _Scored(key, -1, frozenset())
        scored = _score_new_faces(index, hidden, threshold, scored, blocks)
        with _cache_lock:
            if _scored.get(str(index.path)) is None or _scored[str(index.path)].key != key or _scored[str(index.path)].upto < scored.upto:
                _scored[str(index.path)] = scored
        # an explicit placement in a visible person releases a face; rejected faces are no one's
        withheld |= scored.near - index.placed_faces() - index.rejected_faces()
    faces = index.face_infos(sorted(withheld))  # those still in the index, with their photos
    withheld = {f.id for f in faces}
    people = index.people_all_of_whose_faces_are_among(withheld) | index.hidden_people()
    return Withheld(frozenset(withheld), frozenset(f.photo_id for f in faces), frozenset(people), threshold)


def _score_new_faces(index, hidden, threshold: float, scored: _Scored, blocks) -> _Scored:
    _, inverse = np.unique(hidden.person_ids, return_inverse=True)
    sizes = np.bincount(inverse).astype(np.float64)
    H = hidden.X.astype(np.float64)
    near, upto = set(scored.near), scored.upto
    for ids, _, X in blocks if blocks is not None else index.face_blocks(BLOCK, after=scored.upto):
        new = ids > scored.upto
        if not new.any():
            continue
        D = np.sqrt(np.maximum(2 - 2 * X[new].astype(np.float64) @ H.T, 0))
        under = cluster_scores(D, inverse, sizes).min(1) < threshold
        near.update(ids[new][under].tolist())
        upto = max(upto, int(ids[new].max()))
    return _Scored(scored.key, upto, frozenset(near))


def array_blocks(face_ids: np.ndarray, photo_ids: np.ndarray, X: np.ndarray, size: int = BLOCK):
    """Arrays already in memory as ``for_index``'s blocks."""
    for start in range(0, len(face_ids), size):
        yield face_ids[start : start + size], photo_ids[start : start + size], X[start : start + size]


def _near_removed(index, removed, threshold: float | None, blocks) -> set[int]:
    """Faces taken for a removed visitor: mean distance to a removal's embeddings under the
    threshold (none without a threshold yet), or one of its matched faces' embeddings."""
    _, inverse = np.unique(removed.group, return_inverse=True)
    sizes = np.bincount(inverse).astype(np.float64)
    R = removed.X.astype(np.float64)
    near: set[int] = set()
    for ids, _, X in blocks if blocks is not None else index.face_blocks(BLOCK):
        if not len(ids):
            continue
        D = np.sqrt(np.maximum(2 - 2 * X.astype(np.float64) @ R.T, 0))
        under = (D[:, removed.exact] < EXACT_DISTANCE).any(1) if removed.exact.any() else np.zeros(len(ids), bool)
        if threshold is not None:
            under |= cluster_scores(D, inverse, sizes).min(1) < threshold
        near.update(ids[under].tolist())
    return near
