"""The SQL of the organiser's review queue (people/review.py): the answers given (and the
questions skipped), so an answered or skipped question is not asked again, and the faces'
detection details the "not a face?" questions are ranked by."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .records import ACTIVE_CLUSTERING


@dataclass(frozen=True)
class FaceDetection:
    """What the detector said of a face, and its photo's size (0 when unknown)."""

    id: int
    photo_id: int
    box: tuple[float, float, float, float]
    probability: float
    flags: str
    photo_width: int
    photo_height: int
    path: str


class ReviewStore:
    """The review answers of an index; writes inside ``index.transaction()``."""

    def __init__(self, index):
        self.index = index
        self.db = index.db

    def has_table(self) -> bool:
        """False on a read-only index that no writer of this version has opened yet."""
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'review_answers'").fetchone() is not None

    def answered(self) -> set[str]:
        """The ids of the questions answered or skipped."""
        if not self.has_table():
            return set()
        return {r[0] for r in self.db.execute("SELECT question_id FROM review_answers")}

    def record(self, question_id: str, kind: str, answer: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO review_answers(question_id, kind, answer, at) VALUES (?, ?, ?, ?)",
            (question_id, kind, answer, time.time()),
        )

    def detections(self) -> dict[int, FaceDetection]:
        """face id -> its detection, for the faces of the active clustering."""
        rows = self.db.execute(
            "SELECT f.id, f.photo_id, f.x1, f.y1, f.x2, f.y2, f.probability, f.flags, p.width, p.height, p.path "
            "FROM memberships m JOIN faces f ON f.id = m.face_id JOIN photos p ON p.id = f.photo_id "
            f"WHERE m.clustering_id = {ACTIVE_CLUSTERING}"
        )
        return {
            int(r[0]): FaceDetection(int(r[0]), int(r[1]), (r[2], r[3], r[4], r[5]), float(r[6]), r[7] or "", r[8] or 0, r[9] or 0, r[10])
            for r in rows
        }
