"""What the index's methods take and return (records in, typed results out: no sqlite3.Row
leaves the store), its errors, and the small helpers its table modules share."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np


class ModelMismatch(RuntimeError):
    """The index holds embeddings of another model."""


class PeopleChanged(RuntimeError):
    """A correction changed the people while a clustering was computed from the old state."""


@dataclass
class PhotoRecord:
    path: str
    size: int
    mtime_ns: int
    width: int | None = None
    height: int | None = None
    status: str = "ok"
    error: str | None = None


@dataclass
class FaceRecord:
    box: tuple
    landmarks: list
    probability: float
    flags: list
    embedding: np.ndarray


# -- what the read methods for the web API and search return ---------------------------------
# The largest id SQLite stores: a larger one (from a URL) matches nothing instead of overflowing.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    path: str  # relative to the gallery, '/'-separated
    width: int | None
    height: int | None


@dataclass(frozen=True)
class FaceInfo:
    id: int
    photo_id: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the photo's pixels
    probability: float


@dataclass(frozen=True)
class PhotoFaceInfo:
    """A face of a photo and its person in the active clustering (None: not clustered yet)."""

    face: FaceInfo
    person_id: int | None
    person_hidden: bool = False  # a hidden person: a visitor must not be shown who it is


@dataclass(frozen=True)
class PersonInfo:
    """A cluster of the active clustering."""

    id: int
    face_count: int
    photo_count: int
    cover_face_id: int | None
    flags: list[str]
    name: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class PersonPhoto:
    """A photo a person is in, with that person's face in it."""

    photo: PhotoInfo
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster of the active clustering with its quality record (cohesion, nearest cluster,
    purity, flags), for the cluster report."""

    id: int
    face_count: int
    photo_count: int
    cover_face_id: int | None
    quality: dict
    name: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class ClusteredFace:
    """A face of the active clustering with its photo's path and size."""

    id: int
    path: str
    width: int | None
    height: int | None
    box: tuple[float, float, float, float]
    person_id: int


@dataclass(frozen=True)
class FaceVectors:
    """Faces as arrays, for the live assignment (faceexplore/live/assignment.py): ids, photo
    ids, person ids (-1: none) and embeddings (n, dim) float32, in face id order."""

    ids: np.ndarray
    photo_ids: np.ndarray
    person_ids: np.ndarray
    X: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class LiveAssignmentCounts:
    """What the live assignment added to one clustering since `cluster` made it: faces joined
    to people, and people it started (each with one face at first)."""

    clustering_id: int | None = None
    joined: int = 0  # faces joined to people the clustering had
    new_people: int = 0  # people started
    new_people_faces: int = 0  # faces of the people started (a new person's later faces too)

    @property
    def assigned(self) -> int:
        return self.joined + self.new_people_faces


@dataclass(frozen=True)
class Page:
    total: int
    items: list


def valid_id(value) -> bool:
    return 0 <= int(value) <= MAX_ID


ACTIVE_CLUSTERING = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'active_clustering')"


def photo_info_from_row(row) -> PhotoInfo:
    return PhotoInfo(int(row["id"]), row["path"], row["width"], row["height"])


def box_from_row(row) -> tuple[float, float, float, float]:
    return (float(row["x1"]), float(row["y1"]), float(row["x2"]), float(row["y2"]))


def person_info_from_row(row) -> PersonInfo:
    quality = json.loads(row["quality"] or "{}")
    cover = row["cover_face_id"]
    return PersonInfo(
        int(row["cluster_id"]),
        int(row["face_count"]),
        int(row["photo_count"]),
        None if cover is None else int(cover),
        list(quality.get("flags", [])),
        row["name"],
        bool(row["hidden"]),
    )
