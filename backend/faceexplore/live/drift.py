"""When a full re-clustering of a live gallery is worth its cost: a measured drift, not a timer.

The live assignment (assignment.py) places each new face by the rule of the clustering it joins,
but never revisits that clustering: it cannot merge two people a new face shows to be one, nor
split one it shows to be two, and the threshold stays the one fitted to the gallery as it was.
What that costs shows when the background re-clustering replaces the live one: faces change
person under the organiser's and visitors' eyes. benchmarks/live_quality_benchmark.py measured
it (docs/quality.md, "Live gallery: incremental assignment"): the share of faces a full
clustering moves grows with ``live_share``, the share of the clustering's faces the live
assignment placed, and stays within a few percent while that share is under ``LIVE_SHARE_LIMIT``.
So a re-clustering is due when ``live_share`` reaches it (or when faces wait with no clustering
yet, or a gallery too small to fit a threshold has grown enough to fit one). A limit on a share,
not a count, spaces the re-clusterings geometrically as the gallery grows, so their total cost
stays a small multiple of one clustering of the final gallery.

Also measured, for the report but not the decision: the people the live assignment started
(``new_people_share``; an event's new guests start new people, so it did not predict the faces
moved), and with ``refit=True`` how far the threshold a full fit would choose now
(clustering.FaceClusterer.fit_threshold, `cluster`'s own fit) is from the active one
(``threshold_shift``: seconds at 10k faces; it only moved where ``live_share`` had already passed
the limit).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from faceexplore.faces.priors import prior_for
from faceexplore.index.store import FaceIndex
from faceexplore.people.clustering import TOO_FEW_FACES, FaceClusterer
from faceexplore.people.impostors import MIN_PAIRS

LIVE_SHARE_LIMIT = 0.10


@dataclass
class DriftReport:
    should_recluster: bool
    reason: str
    faces: int  # faces to cluster now (rejected ones aside)
    clustered_faces: int  # of them, those the active clustering holds
    live_faces: int  # of those, placed by the live assignment
    live_new_people: int  # people the live assignment started
    people: int  # people of the active clustering
    live_share: float
    new_people_share: float
    threshold: float | None  # the active clustering's
    refit_threshold: float | None  # what a full fit would choose now
    threshold_shift: float  # |refit - threshold| / threshold (0 when either is missing)
    seconds: float


def drift(index: FaceIndex, refit: bool = False) -> DriftReport:
    """Measure how far the gallery has drifted from its active clustering and say whether a full
    re-clustering is due. ``refit``: also measure the threshold a full fit would choose now (the
    costly part, not needed for the decision)."""
    started = time.monotonic()
    with index.snapshot():
        clustering = index.active_clustering()
        if refit:
            face_ids, photo_ids, X, _ = index.embeddings()
        else:
            face_ids = np.fromiter(index.face_ids(), np.int64)
        _, _, rejected = index.constraints()
        members = index.active_memberships() if clustering else {}
        live = index.live_assignment_counts()
        people = len(index.active_clusters()) if clustering else 0
    keep = ~np.isin(face_ids, np.fromiter(rejected, np.int64, len(rejected)))
    face_ids = face_ids[keep]
    clustered = int(np.isin(face_ids, np.fromiter(members, np.int64, len(members))).sum())
    live_people_before = max(people - live.new_people, 1)
    report = DriftReport(
        should_recluster=False,
        reason="",
        faces=int(len(face_ids)),
        clustered_faces=clustered,
        live_faces=live.assigned,
        live_new_people=live.new_people,
        people=people,
        live_share=live.assigned / clustered if clustered else 0.0,
        new_people_share=live.new_people / live_people_before,
        threshold=None if clustering is None else float(clustering["threshold"]),
        refit_threshold=None,
        threshold_shift=0.0,
        seconds=0.0,
    )
    if clustering is None:
        report.should_recluster = len(face_ids) > 0
        report.reason = "no clustering yet" if len(face_ids) else "no faces yet"
    elif clustering["method"] == TOO_FEW_FACES:
        # the rule `cluster` uses to decide a gallery can be fitted at all
        pairs = len(face_ids) * (len(face_ids) - 1) // 2
        report.should_recluster = pairs >= MIN_PAIRS
        report.reason = "the gallery has grown enough to fit a threshold" if report.should_recluster else "too few faces to cluster yet"
    else:
        if refit and len(face_ids) >= 2:
            choice = FaceClusterer(prior=prior_for(index.meta("model"))).fit_threshold(X[keep], photo_ids[keep]).choice_
            if choice is not None:
                report.refit_threshold = float(choice.threshold)
                if report.threshold:
                    report.threshold_shift = abs(report.refit_threshold - report.threshold) / report.threshold
        report.should_recluster = report.live_share >= LIVE_SHARE_LIMIT
        report.reason = (
            f"{report.live_share:.0%} of the clustered faces were placed live (limit {LIVE_SHARE_LIMIT:.0%}); "
            f"{report.live_new_people} people started live"
        )
    report.seconds = time.monotonic() - started
    return report
