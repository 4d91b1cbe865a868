"""Synthetic face embeddings with a known answer, for tests and benchmarks of clustering and
search: the structure of real galleries (people in one cone, photos holding several people)
without the cost of detecting and embedding real photos."""

from __future__ import annotations

import numpy as np


def synthetic_people(n_people=150, per_person=(1, 8), dim=128, between=0.42, spread=0.22, seed=0, cone_seed=0):
    """Unit vectors shaped like real face embeddings: all people in one cone around a common
    direction (so different people's distances are near-Gaussian, as measured for the dlib
    model on LFW: docs/quality.md), each face its person's direction plus noise of size ``spread``.
    Returns the embeddings (n, dim) and each face's person."""
    base = np.random.default_rng(cone_seed).normal(size=dim)
    base /= np.linalg.norm(base)
    rng = np.random.default_rng(seed)
    centres = base + rng.normal(scale=between / np.sqrt(dim), size=(n_people, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    X, truth = [], []
    for p in range(n_people):
        for _ in range(rng.integers(per_person[0], per_person[1] + 1)):
            v = centres[p] + rng.normal(scale=spread / np.sqrt(dim), size=dim)
            X.append(v / np.linalg.norm(v))
            truth.append(p)
    return np.array(X), np.array(truth)


def synthetic_photos(truth: np.ndarray, max_faces: int = 4, seed: int = 0) -> np.ndarray:
    """A photo for each face (faces sharing a photo are always different people, as in a real
    gallery): shuffled faces are dealt into photos of 1..``max_faces`` faces."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(truth))
    photos = np.empty(len(truth), np.int64)
    photo, people = 0, set()
    left = rng.integers(1, max_faces + 1)
    for i in order:
        if left == 0 or truth[i] in people:
            photo, people, left = photo + 1, set(), rng.integers(1, max_faces + 1)
        photos[i] = photo
        people.add(truth[i])
        left -= 1
    return photos
