"""A person's cover: the face their card shows.

The cover is the person's most central, sharpest face: among their clean faces (no doubt flags;
all of them when none is clean), the central half (embedding distance to the person's mean at
most the median), and of those the sharpest. Sharpness is what the index holds already, so it
costs nothing at clustering time: the detector's probability times the face box's shorter side
in photo pixels (a large, confidently detected face has the detail a small or blurred one lacks).
Ties go to the face nearest the mean. Used by the clustering (faceexplore.people) and by the
organiser's corrections (store/corrections.py), so both pick the same face.
"""

from __future__ import annotations

import numpy as np


def sharpness(probability: float, x1: float, y1: float, x2: float, y2: float) -> float:
    """The cheap sharpness of one face: detection probability × the box's shorter side (px)."""
    return float(probability) * max(min(x2 - x1, y2 - y1), 0.0)


def choose_cover(X, flags, sharpnesses) -> int:
    """The position (in ``X``) of the cover among one person's faces: ``X`` their embeddings
    (n, dim), ``flags`` each face's doubt flags (empty: clean), ``sharpnesses`` each face's
    sharpness. Raises ValueError for no faces."""
    X = np.asarray(X, np.float64)
    if not len(X):
        raise ValueError("a person without faces has no cover")
    distance = np.linalg.norm(X - X.mean(0), axis=1)
    pool = np.array([i for i in range(len(X)) if not flags[i]] or range(len(X)), np.int64)
    central = pool[distance[pool] <= np.median(distance[pool])]
    sharp = np.asarray(sharpnesses, np.float64)[central]
    # the sharpest, then the nearest the mean (lexsort: the last key is the primary one)
    return int(central[np.lexsort((distance[central], -sharp))[0]])
