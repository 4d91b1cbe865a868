"""The index's SQLite store: the one FaceIndex the rest uses over photos and faces (photos),
clusterings and memberships (clusterings), people and corrections (people) and the page
queries (pages), each module with the SQL of its tables; the tables and their migrations are
schema.py's, the records and typed results records.py's."""

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

__all__ = [
    "ACTIVE_CLUSTERING",
    "MAX_ID",
    "ClusterInfo",
    "ClusteredFace",
    "FaceIndex",
    "FaceInfo",
    "FaceRecord",
    "FaceVectors",
    "LiveAssignmentCounts",
    "ModelMismatch",
    "Page",
    "PeopleChanged",
    "PersonInfo",
    "PersonPhoto",
    "PhotoFaceInfo",
    "PhotoInfo",
    "PhotoRecord",
    "valid_id",
]
