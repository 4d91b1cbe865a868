"""New faces joined to people at once, under the active clustering's own rule.

`cluster` makes an average-linkage clustering cut at a threshold (clustering.py): two groups of
faces are one person when the mean distance between their faces is below it, and two faces of
one photo are never one person. A face indexed after that clustering is put where the same rule
puts a group of one: into the person whose faces are nearest on average, when that mean is
below the clustering's threshold and the person holds no face of its photo (nor one the
organiser cannot-linked to it); otherwise it starts a new person. The faces of one photo are
placed together (a one-to-one assignment, so two of them never join one person), and photos one
after the other in the order they were indexed, so a new person's later photos join it.

What the rule cannot do is merge or split people the new faces change the evidence about; a
full `cluster` in the background does that (faceexplore/live/drift.py says when it is worth it).
Each call is one transaction that reads the clustering and writes its new memberships, so a
clustering swapped in meanwhile is never written into; the faces it does not hold (indexed
while it was computed) are simply taken by the next call.

A face near a hidden person may join someone else or start a person here; faceexplore/search/withheld.py
takes it for the hidden person all the same, so visitors are never shown it, its photo, or a
person made only of such faces.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from faceexplore.index.store import FaceIndex, FaceVectors

# The cost of "no person": every candidate person scores below the threshold, so this is
# above any of them, and a face joins a person whenever the assignment can give it one.
_FORBIDDEN = 1e12


@dataclass
class AssignmentSummary:
    assigned: int  # faces put into a person
    new_people: int  # people started by them
    faces_left: int  # faces still without a person (no clustering yet: every face)
    seconds: float


@dataclass
class AssignmentPlan:
    """Where the new faces go: ``joined`` face id -> an existing person's id; ``new_people``
    the face ids of each person started (first face first); the people's new centroids."""

    joined: dict[int, int] = field(default_factory=dict)
    new_people: list[list[int]] = field(default_factory=list)
    centroids: dict[int, np.ndarray] = field(default_factory=dict)
    new_centroids: list[np.ndarray] = field(default_factory=list)


def plan_assignment(members: FaceVectors, new: FaceVectors, threshold: float, cannot_links=()) -> AssignmentPlan:
    """Place each face of ``new`` among the people of ``members`` (their ``person_ids``) by
    average linkage at ``threshold``; ``cannot_links``: pairs of face ids never in one person."""
    dim = members.X.shape[1] if len(members) else new.X.shape[1]
    # people as positions 0..k-1; the new people started here are appended
    persons, label = np.unique(members.person_ids, return_inverse=True)
    persons = [int(p) for p in persons]  # person id per position; None for a new person
    X = np.zeros((len(members) + len(new), dim), np.float64)
    X[: len(members)] = members.X
    labels = np.empty(len(X), np.int64)
    labels[: len(members)] = label
    photo_ids = np.empty(len(X), np.int64)
    photo_ids[: len(members)] = members.photo_ids
    face_ids = np.empty(len(X), np.int64)
    face_ids[: len(members)] = members.ids
    n = len(members)
    cannot: dict[int, set[int]] = {}
    for a, b in cannot_links:
        cannot.setdefault(int(a), set()).add(int(b))
        cannot.setdefault(int(b), set()).add(int(a))
    # positions of the faces, only needed to honour cannot-links
    position = {int(f): i for i, f in enumerate(members.ids)} if cannot else {}

    # photos in the order their first face was indexed
    order = np.argsort(new.ids, kind="stable")
    photos = list(dict.fromkeys(int(new.photo_ids[i]) for i in order))
    faces_of = _group(new, order)
    started: list[list[int]] = []  # per new person (position - first new position): its face ids
    first_new = len(persons)
    for photo in photos:
        rows = faces_of[photo]
        k = len(persons)
        sizes = np.bincount(labels[:n], minlength=k).astype(np.float64)
        q = new.X[rows].astype(np.float64)
        D = np.sqrt(np.maximum(2 - 2 * q @ X[:n].T, 0))
        scores = np.stack([np.bincount(labels[:n], weights=d, minlength=k) for d in D]) / np.maximum(sizes, 1)
        scores[:, sizes == 0] = np.inf
        # never a person holding a face of this photo (a face of it clustered before) ...
        scores[:, np.unique(labels[:n][photo_ids[:n] == photo])] = np.inf
        # ... nor one holding a face the organiser said is someone else
        for r, i in enumerate(rows):
            for other in cannot.get(int(new.ids[i]), ()):
                if other in position:
                    scores[r, labels[position[other]]] = np.inf
        scores[scores >= threshold] = np.inf
        candidates = np.flatnonzero(np.isfinite(scores).any(0))
        chosen = [-1] * len(rows)
        if len(candidates):
            cost = np.full((len(rows), len(candidates) + len(rows)), float(threshold) if np.isfinite(threshold) else _FORBIDDEN)
            real = scores[:, candidates]
            cost[:, : len(candidates)] = np.where(np.isfinite(real), real, _FORBIDDEN)
            r_idx, c_idx = linear_sum_assignment(cost)
            for r, c in zip(r_idx, c_idx):
                if c < len(candidates) and np.isfinite(real[r, c]):
                    chosen[r] = int(candidates[c])
        for r, i in enumerate(rows):
            person = chosen[r]
            if person < 0:
                person = len(persons)
                persons.append(None)
                started.append([])
            if person >= first_new:
                started[person - first_new].append(int(new.ids[i]))
            X[n], labels[n], photo_ids[n], face_ids[n] = q[r], person, photo, new.ids[i]
            if cannot:
                position[int(new.ids[i])] = n
            n += 1

    plan = AssignmentPlan(new_people=started)
    touched = set()
    for j in range(len(members), n):
        if labels[j] < first_new:
            plan.joined[int(face_ids[j])] = persons[labels[j]]
            touched.add(int(labels[j]))
    for t in touched:
        plan.centroids[persons[t]] = X[:n][labels[:n] == t].mean(0)
    plan.new_centroids = [X[:n][labels[:n] == first_new + s].mean(0) for s in range(len(started))]
    return plan


def _group(new: FaceVectors, order) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i in order:
        out.setdefault(int(new.photo_ids[i]), []).append(int(i))
    return out


def assign_new_faces(index: FaceIndex) -> AssignmentSummary:
    """Join every face the active clustering does not hold (rejected faces aside) to a person,
    or start a new one, in one transaction. Without a clustering nothing is assigned (the
    caller runs `cluster`)."""
    started = time.monotonic()
    with index.transaction() as db:
        clustering = index.active_clustering()
        new = index.unclustered_vectors(None if clustering is None else clustering["id"])
        if clustering is None or not len(new):
            return AssignmentSummary(0, 0, len(new), time.monotonic() - started)
        members = index.clustered_vectors(clustering["id"])
        _, pairs, _ = index.constraints()
        plan = plan_assignment(members, new, float(clustering["threshold"]), pairs)
        fresh = index.add_live_memberships(db, clustering["id"], plan.joined, plan.new_people, plan.centroids, plan.new_centroids)
    assigned = len(plan.joined) + sum(len(faces) for faces in plan.new_people)
    return AssignmentSummary(assigned, len(fresh), len(new) - assigned, time.monotonic() - started)
