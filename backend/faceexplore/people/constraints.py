"""What `cluster` does with the organiser's corrections (faceexplore/people/corrections.py): the constraints
the linkage honours, and the person ids a new clustering's clusters take.

Constraints: the faces pinned to a person come in groups (those that came into it together:
one cluster of a merge, the faces of one move). Each group starts as one (distances zero, so
average linkage joins them first; their distances to everyone else are untouched) and gathers
the new faces like it; after the linkage, the clusters of one person's groups are joined. So a
person merged from two looks (glasses or not, years apart) keeps finding new photos of both
(a group's cluster joins whole where the group is at least half of it; elsewhere only the
pinned faces move, so a group that fell into a stranger's cluster does not bring it along).
Faces pinned to two different people are never joined, nor are cannot-linked faces (their
distances are ``CANNOT_LINK_DISTANCE``). Everything nobody corrected is left to the gallery's
threshold.

Ids: a cluster holding a person's pinned faces is that person; every other cluster takes the id
of the old person whose faces it mostly holds (a one-to-one matching on the shared faces), or,
failing that, of a named or hidden person whose faces were gone and whose centroid it matches;
the rest are new people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

# As clustering.CANNOT_LINK_DISTANCE: far above any threshold, whatever the cluster sizes.
CANNOT_LINK_DISTANCE = 1e12


@dataclass
class ClusterConstraints:
    """The corrections as positions among the faces clustered."""

    anchor: np.ndarray  # per face: the index in ``persons`` of the person it is pinned to, or -1
    group: np.ndarray  # per face: its pinned group (numbered across people), or -1
    persons: np.ndarray  # anchor index -> person id
    cannot: np.ndarray  # (m, 2) positions that must not share a cluster

    @classmethod
    def from_ids(cls, face_ids, pins: dict[int, tuple[int, str]], pairs) -> ClusterConstraints:
        """``pins``: face id -> (person id, group), as FaceIndex.constraints gives them."""
        face_ids = np.asarray(face_ids, np.int64)
        position = {int(f): i for i, f in enumerate(face_ids)}
        present = {f: pin for f, pin in pins.items() if f in position}
        persons = np.array(sorted({p for p, _ in present.values()}), np.int64)
        anchor_of = {int(p): a for a, p in enumerate(persons)}
        group_of = {key: k for k, key in enumerate(sorted(set(present.values())))}
        anchor = np.full(len(face_ids), -1, np.int64)
        group = np.full(len(face_ids), -1, np.int64)
        for face, pin in present.items():
            anchor[position[face]] = anchor_of[pin[0]]
            group[position[face]] = group_of[pin]
        cannot = [(position[a], position[b]) for a, b in pairs if a in position and b in position]
        return cls(anchor, group, persons, np.array(cannot, np.int64).reshape(-1, 2))

    def __bool__(self) -> bool:
        return bool(len(self.persons) or len(self.cannot))

    def apply_to_condensed(self, condensed: np.ndarray, positions=None):
        """Set the distances of a condensed distance vector (of the faces at ``positions``; all
        when None): cannot-links far, then pins (a pin to one person overrides an older
        cannot-link between its faces): zero within a group, far between two people."""
        n_all = len(self.anchor)
        positions = np.arange(n_all) if positions is None else np.asarray(positions)
        n = len(positions)
        local = np.full(n_all, -1, np.int64)
        local[positions] = np.arange(n)
        if len(self.cannot):
            a, b = local[self.cannot[:, 0]], local[self.cannot[:, 1]]
            keep = (a >= 0) & (b >= 0)
            condensed[_condensed_index(n, a[keep], b[keep])] = CANNOT_LINK_DISTANCE
        anchor, group = self.anchor[positions], self.group[positions]
        pinned = np.flatnonzero(anchor >= 0)
        if len(pinned) > 1:
            i, j = np.triu_indices(len(pinned), 1)
            a, b = pinned[i], pinned[j]
            where = _condensed_index(n, a, b)
            condensed[where[group[a] == group[b]]] = 0.0
            condensed[where[anchor[a] != anchor[b]]] = CANNOT_LINK_DISTANCE

    def enforce(self, groups: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Join the clusters of each person's groups, and make ``labels`` satisfy the constraints
        whatever the linkage did (the k-NN path clusters without them): each person's pinned
        faces in one cluster of their own, and a face that shares a cluster with a face of its
        photo or a cannot-linked face, unpinned, moved out to a cluster of its own."""
        labels = labels.copy()
        next_label = int(labels.max()) + 1 if len(labels) else 0
        claimed = set()
        for a in range(len(self.persons)):
            members = np.flatnonzero(self.anchor == a)
            values, counts = np.unique(labels[members], return_counts=True)
            label = int(values[np.argmax(counts)])
            if label in claimed:
                label, next_label = next_label, next_label + 1
            claimed.add(label)
            for other in values:
                cluster = labels == other
                pinned_here = self.anchor[cluster]
                # a cluster this person's pinned faces make (the new faces one of its groups
                # gathered) joins whole; in one where they are few, or another person's are
                # too, only they move: joining it would take in a stranger's cluster
                if np.all(pinned_here[pinned_here >= 0] == a) and 2 * np.sum(pinned_here == a) >= len(pinned_here):
                    labels[cluster] = label
            labels[members] = label
        # two faces of one photo, or a cannot-link pair, in one cluster: the unpinned one leaves
        pinned = self.anchor >= 0
        key = labels.astype(np.int64) * (int(groups.max()) + 1 if len(groups) else 1) + groups
        clashes = [np.flatnonzero(key == k) for k in np.unique(key)[np.unique(key, return_counts=True)[1] > 1]]
        clashes += [pair for pair in self.cannot if labels[pair[0]] == labels[pair[1]] and not self._same_anchor(*pair)]
        for members in clashes:
            members = np.asarray(members)
            if labels[members[0]] != labels[members[-1]] and len(members) == 2:
                continue  # solved by an earlier move
            keep = members[pinned[members]][:1] if pinned[members].any() else members[:1]
            for m in members:
                if m not in keep and not pinned[m]:
                    labels[m], next_label = next_label, next_label + 1
        return labels

    def summary(self, rejected: int = 0) -> dict:
        """What `cluster` honoured, for its details."""
        return {
            "people": int(len(self.persons)),
            "pinned_faces": int((self.anchor >= 0).sum()),
            "cannot_links": int(len(self.cannot)),
            "rejected_faces": int(rejected),
        }

    def _same_anchor(self, a: int, b: int) -> bool:
        return self.anchor[a] >= 0 and self.anchor[a] == self.anchor[b]


DENSE_MATCHING_LIMIT = 4_000_000  # clusters x old people matched in one dense matrix (32 MB)


def _matched_overlaps(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int):
    """The one-to-one matching of rows (new clusters) to columns (old people) that keeps the most
    faces together, given each face's (row, column): the (row, column) pairs matched that share
    faces. Up to ``DENSE_MATCHING_LIMIT`` cells, one assignment on the full overlap matrix.
    Above (a gallery of a million faces has some 200,000 of each: a dense matrix of 300 GB),
    the overlaps are a sparse bipartite graph and each of its connected components (a few
    clusters and people that share faces; most are one of each) is matched on its own: the
    same total, since a match between components shares no face."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n_rows * n_cols <= DENSE_MATCHING_LIMIT:
        overlap = np.zeros((n_rows, n_cols), np.int64)
        np.add.at(overlap, (rows, cols), 1)
        matched_rows, matched_cols = linear_sum_assignment(overlap, maximize=True)
        keep = overlap[matched_rows, matched_cols] > 0
        return list(zip(matched_rows[keep].tolist(), matched_cols[keep].tolist()))
    cells, counts = np.unique(rows * n_cols + cols, return_counts=True)
    cell_rows, cell_cols = cells // n_cols, cells % n_cols
    graph = coo_matrix((counts, (cell_rows, n_rows + cell_cols)), shape=(n_rows + n_cols,) * 2)
    _, component = connected_components(graph, directed=False)
    order = np.argsort(component[cell_rows], kind="stable")
    cell_rows, cell_cols, counts = cell_rows[order], cell_cols[order], counts[order]
    part = component[cell_rows]
    bounds = np.flatnonzero(np.r_[True, part[1:] != part[:-1], True])
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a == 1:  # one cluster and one person sharing faces: matched
            out.append((int(cell_rows[a]), int(cell_cols[a])))
            continue
        local_rows, r = np.unique(cell_rows[a:b], return_inverse=True)
        local_cols, c = np.unique(cell_cols[a:b], return_inverse=True)
        overlap = np.zeros((len(local_rows), len(local_cols)), np.int64)
        overlap[r, c] = counts[a:b]
        matched_rows, matched_cols = linear_sum_assignment(overlap, maximize=True)
        keep = overlap[matched_rows, matched_cols] > 0
        out += zip(local_rows[matched_rows[keep]].tolist(), local_cols[matched_cols[keep]].tolist())
    return out


def _condensed_index(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Positions in a condensed distance vector of the pairs (i, j), in either order."""
    i, j = np.minimum(i, j), np.maximum(i, j)
    return n * i - i * (i + 1) // 2 + (j - i - 1)


def assign_person_ids(
    labels: np.ndarray,
    face_ids: np.ndarray,
    old_people: dict[int, int],
    constraints: ClusterConstraints,
    X: np.ndarray | None = None,
    kept_people: dict[int, np.ndarray] | None = None,
    max_distance: float | None = None,
) -> dict[int, int]:
    """label -> person id for a new clustering: a person's pinned faces' cluster is that
    person; the other clusters take the ids of the old people (``old_people``: face id -> person
    id) whose faces they mostly hold, one to one, maximising the faces kept together; then the
    ids of ``kept_people`` (person id -> centroid; named or hidden people not found by faces)
    whose centroid is within ``max_distance`` of a cluster's, nearest first. A label left
    over maps to a new person: -1, -2, ... (save_clustering gives them fresh ids)."""
    uniq = np.unique(labels)
    out: dict[int, int] = {}
    for a, person in enumerate(constraints.persons):
        members = np.flatnonzero(constraints.anchor == a)
        if len(members):
            out[int(labels[members[0]])] = int(person)
    taken = set(out.values())
    free = [int(c) for c in uniq if int(c) not in out]
    old = np.array([old_people.get(int(f), -1) for f in face_ids], np.int64)
    candidates = sorted({int(p) for p in old[old >= 0]} - taken)
    if free and candidates:
        # each face's (free cluster, old person) pair, as positions in ``free`` and ``candidates``
        free_arr, cand_arr = np.array(free, np.int64), np.array(candidates, np.int64)
        row_of = np.searchsorted(free_arr, labels)
        col_of = np.searchsorted(cand_arr, old)
        counted = (old >= 0) & (row_of < len(free_arr)) & (col_of < len(cand_arr))
        counted[counted] &= (free_arr[row_of[counted]] == labels[counted]) & (cand_arr[col_of[counted]] == old[counted])
        for r, k in _matched_overlaps(row_of[counted], col_of[counted], len(free), len(candidates)):
            out[free[r]] = candidates[k]
        taken = set(out.values())
        free = [c for c in free if c not in out]
    kept = {p: c for p, c in (kept_people or {}).items() if p not in taken}
    if free and kept and X is not None and max_distance is not None:
        inverse = np.searchsorted(uniq, labels)
        sums = np.zeros((len(uniq), X.shape[1]))
        np.add.at(sums, inverse, X)
        centroids = sums[np.searchsorted(uniq, free)] / np.bincount(inverse)[np.searchsorted(uniq, free), None]
        people = list(kept)
        old_centroids = np.stack([kept[p] for p in people]).astype(np.float64)
        squared = (centroids**2).sum(1)[:, None] + (old_centroids**2).sum(1)[None, :] - 2 * centroids @ old_centroids.T
        distance = np.sqrt(np.maximum(squared, 0))
        rows, cols = linear_sum_assignment(distance)
        for r, k in zip(rows, cols):
            if distance[r, k] < max_distance:
                out[free[r]] = people[k]
        free = [c for c in free if c not in out]
    for k, c in enumerate(free):
        out[c] = -(k + 1)
    return out
