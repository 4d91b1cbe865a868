"""The index's SQLite store: the one FaceIndex the rest uses, over photos and faces (photos),
clusterings and memberships (clusterings), people (people) and the page queries (pages); the
organiser's corrections through the small CorrectionsStore it is opened on (corrections), the
review queue's answers through ReviewStore (review). Each
module holds the SQL of its tables; the tables and their migrations are schema.py's, the
records and typed results records.py's."""

from .corrections import Correction, CorrectionsStore, LoggedCorrection
from .face_index import FaceIndex
from .records import (
    ACTIVE_CLUSTERING,
    MAX_ID,
    ClusteredFace,
    ClusterInfo,
    FaceInfo,
    FaceRecord,
    FaceVectors,
    LiveAssignmentCounts,
    ModelMismatch,
    Page,
    PeopleChanged,
    PersonInfo,
    PersonPhoto,
    PhotoFaceInfo,
    PhotoInfo,
    PhotoRecord,
    valid_id,
)
from .review import FaceDetection, ReviewStore

__all__ = [
    "ACTIVE_CLUSTERING",
    "MAX_ID",
    "ClusterInfo",
    "ClusteredFace",
    "Correction",
    "CorrectionsStore",
    "FaceDetection",
    "FaceIndex",
    "FaceInfo",
    "FaceRecord",
    "FaceVectors",
    "LiveAssignmentCounts",
    "LoggedCorrection",
    "ModelMismatch",
    "Page",
    "PeopleChanged",
    "PersonInfo",
    "PersonPhoto",
    "PhotoFaceInfo",
    "PhotoInfo",
    "PhotoRecord",
    "ReviewStore",
    "valid_id",
]
