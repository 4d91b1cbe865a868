"""The SQL of the organiser's corrections: people/corrections.py decides what a correction
changes and calls these inside its transaction (on the index's one connection). The people's
names and hidden flags, the memberships and clusters rows of the active clustering a correction
changes, the corrections log with what undo restores, and the constraints `cluster` honours
(face_pins, face_cannot_links, rejected_faces)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np

from ..covers import choose_cover, sharpness
from .records import ACTIVE_CLUSTERING, PersonInfo, person_info_from_row, valid_id

CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class Correction:
    id: int
    at: float  # unix time
    kind: str  # rename, hide, unhide, merge, move, reject, apart
    description: str
    undone: bool
    who: str = ""  # "cli" or "organiser (web, <address>)"; "" when made before it was recorded
    undone_with: int | None = None  # the correction whose undo took this one back too


@dataclass(frozen=True)
class LoggedCorrection:
    """A correction as undo reads it: what it was, the clustering it was made on, its payload."""

    id: int
    kind: str
    clustering_id: int | None
    payload: dict
    undone: bool = False


def _correction(row) -> Correction:
    keys = row.keys()  # an index opened read-only may predate the who/undone_with columns
    return Correction(
        int(row["id"]),
        float(row["at"]),
        row["kind"],
        row["description"],
        bool(row["undone"]),
        (row["who"] or "") if "who" in keys else "",
        row["undone_with"] if "undone_with" in keys else None,
    )


def _logged(row) -> LoggedCorrection:
    return LoggedCorrection(int(row["id"]), row["kind"], row["clustering_id"], json.loads(row["payload"]), bool(row["undone"]))


def _chunks(ids: list[int]):
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


class CorrectionsStore:
    """The corrections' reads and writes on a writable FaceIndex; call them inside
    ``index.transaction()``."""

    def __init__(self, index):
        self.index = index
        self.db = index.db

    # -- the log ------------------------------------------------------------------------------
    def log(self, limit: int) -> list[Correction]:
        rows = self.db.execute("SELECT * FROM corrections ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_correction(r) for r in rows]

    def record(self, kind: str, description: str, payload: dict, who: str = "") -> int:
        cur = self.db.execute(
            "INSERT INTO corrections(at, clustering_id, kind, description, payload, who) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), self.active_clustering_id(), kind, description, json.dumps(payload), who),
        )
        self.index.bump_people_version(self.db)
        return int(cur.lastrowid)

    def newest_not_undone(self) -> LoggedCorrection | None:
        row = self.db.execute("SELECT * FROM corrections WHERE NOT undone ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else _logged(row)

    def logged(self, correction: int) -> LoggedCorrection | None:
        row = self.db.execute("SELECT * FROM corrections WHERE id = ?", (correction,)).fetchone() if valid_id(correction) else None
        return None if row is None else _logged(row)

    def logged_since(self, correction: int) -> list[LoggedCorrection]:
        """The corrections from ``correction`` on (itself included), oldest first."""
        return [_logged(r) for r in self.db.execute("SELECT * FROM corrections WHERE id >= ? ORDER BY id", (correction,))]

    def correction(self, correction: int) -> Correction:
        return _correction(self.db.execute("SELECT * FROM corrections WHERE id = ?", (correction,)).fetchone())

    def mark_undone(self, correction: int, undone_with: int | None = None) -> Correction:
        self.db.execute("UPDATE corrections SET undone = 1, undone_with = ? WHERE id = ?", (undone_with, correction))
        self.index.bump_people_version(self.db)
        return _correction(self.db.execute("SELECT * FROM corrections WHERE id = ?", (correction,)).fetchone())

    # -- people -------------------------------------------------------------------------------
    def active_clustering_id(self) -> int | None:
        row = self.db.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'active_clustering'").fetchone()
        return None if row is None else int(row[0])

    def person(self, person_id: int) -> PersonInfo | None:
        """A person of the active clustering, with their name and hidden flag; None if none."""
        if not valid_id(person_id):
            return None
        row = self.db.execute(
            "SELECT c.*, p.name AS name, p.hidden AS hidden FROM clusters c JOIN people p ON p.id = c.cluster_id "
            f"WHERE c.clustering_id = {ACTIVE_CLUSTERING} AND c.cluster_id = ?",
            (person_id,),
        ).fetchone()
        return None if row is None else person_info_from_row(row)

    def set_name(self, person_id: int, name: str | None) -> None:
        self.db.execute("UPDATE people SET name = ? WHERE id = ?", (name, person_id))

    def set_hidden(self, person_id: int, hidden: bool) -> None:
        self.db.execute("UPDATE people SET hidden = ? WHERE id = ?", (int(hidden), person_id))

    def new_person(self) -> int:
        return int(self.db.execute("INSERT INTO people(created_at) VALUES (?)", (time.time(),)).lastrowid)

    # -- faces and memberships ------------------------------------------------------------------
    def known_faces(self, face_ids: list[int]) -> set[int]:
        known = set()
        for chunk in _chunks([f for f in face_ids if valid_id(f)]):
            known.update(int(r[0]) for r in self.db.execute(f"SELECT id FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return known

    def rejected_faces(self) -> set[int]:
        return {int(r[0]) for r in self.db.execute("SELECT face_id FROM rejected_faces")}

    def photos_of_faces(self, face_ids: list[int]):
        """(face id, photo id) of ``face_ids``."""
        for chunk in _chunks(face_ids):
            yield from self.db.execute(f"SELECT id, photo_id FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk)

    def memberships(self, clustering: int, face_ids: list[int]) -> dict[int, int | None]:
        """face id -> person id in ``clustering`` (None: in no person)."""
        out = dict.fromkeys(face_ids)
        for chunk in _chunks(face_ids):
            rows = self.db.execute(
                f"SELECT face_id, cluster_id FROM memberships WHERE clustering_id = ? AND face_id IN ({','.join('?' * len(chunk))})",
                (clustering, *chunk),
            )
            out.update((int(f), int(p)) for f, p in rows)
        return out

    def faces_of(self, clustering: int, people: list[int]) -> list[tuple[int, int]]:
        """(face id, person id) of every face of ``people``, by face id."""
        rows = self.db.execute(
            f"SELECT face_id, cluster_id FROM memberships WHERE clustering_id = ? AND cluster_id IN ({','.join('?' * len(people))}) "
            "ORDER BY face_id",
            (clustering, *people),
        )
        return [(int(f), int(p)) for f, p in rows]

    def move_people(self, clustering: int, others: list[int], into: int) -> None:
        """Every face of ``others`` becomes ``into``'s."""
        self.db.execute(
            f"UPDATE memberships SET cluster_id = ? WHERE clustering_id = ? AND cluster_id IN ({','.join('?' * len(others))})",
            (into, clustering, *others),
        )

    def set_memberships(self, clustering: int, face_ids: list[int], person: int) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO memberships(clustering_id, face_id, cluster_id) VALUES (?, ?, ?)",
            [(clustering, f, person) for f in face_ids],
        )

    def cannot_link(self, pairs, correction: int) -> None:
        """``pairs``: (face a, face b) with a < b."""
        self.db.executemany(
            "INSERT OR IGNORE INTO face_cannot_links(face_a, face_b, correction_id) VALUES (?, ?, ?)",
            [(*pair, correction) for pair in pairs],
        )

    def reject(self, clustering: int, face_ids: list[int], correction: int) -> None:
        """The faces leave their people and their pins, and are recorded as not faces."""
        self.db.executemany(f"DELETE FROM memberships WHERE clustering_id = {int(clustering)} AND face_id = ?", [(f,) for f in face_ids])
        self.db.executemany("DELETE FROM face_pins WHERE face_id = ?", [(f,) for f in face_ids])
        self.db.executemany("INSERT INTO rejected_faces(face_id, correction_id) VALUES (?, ?)", [(f, correction) for f in face_ids])

    # -- undo ---------------------------------------------------------------------------------
    def snapshot(self, clustering: int, people: list[int], faces: list[int]) -> dict:
        """What undo restores: the clusters rows of ``people`` (None: had none) and the pins of
        ``faces`` (None: not pinned)."""
        db = self.db
        rows, centroids = {}, {}
        for person in dict.fromkeys(people):
            row = db.execute("SELECT * FROM clusters WHERE clustering_id = ? AND cluster_id = ?", (clustering, person)).fetchone()
            rows[str(person)] = None if row is None else {k: row[k] for k in row.keys() if k != "clustering_id"}
            centroid = db.execute("SELECT centroid FROM people WHERE id = ?", (person,)).fetchone()
            centroids[str(person)] = None if centroid is None or centroid[0] is None else bytes(centroid[0]).hex()
        pins = {}
        for face in dict.fromkeys(faces):
            pin = db.execute("SELECT person_id, grp, correction_id FROM face_pins WHERE face_id = ?", (face,)).fetchone()
            pins[str(face)] = None if pin is None else [int(pin[0]), pin[1], int(pin[2])]
        return {"clusters": rows, "centroids": centroids, "pins": pins}

    def pin(self, faces: list[tuple[int, object]], person: int, correction: int) -> None:
        """Pin faces to ``person``. ``faces``: (face id, where it came from). A face pinned before
        keeps its group; the others are grouped by where they came from in this correction, so
        `cluster` can let each group gather its own new faces before joining them (a person
        merged from two looks keeps finding photos of both)."""
        rows = []
        for face, origin in dict(faces).items():
            before = self.db.execute("SELECT grp FROM face_pins WHERE face_id = ?", (face,)).fetchone()
            rows.append((face, person, before[0] if before else f"{correction}/{origin}", correction))
        self.db.executemany("INSERT OR REPLACE INTO face_pins(face_id, person_id, grp, correction_id) VALUES (?, ?, ?, ?)", rows)

    def restore(self, clustering: int, correction: int, payload: dict) -> None:
        """Undo a merge, move or reject from its payload."""
        db = self.db
        for face, person in payload.get("memberships", []):
            if person is None:
                db.execute("DELETE FROM memberships WHERE clustering_id = ? AND face_id = ?", (clustering, face))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO memberships(clustering_id, face_id, cluster_id) VALUES (?, ?, ?)", (clustering, face, person)
                )
        for person, row in payload["clusters"].items():
            db.execute("DELETE FROM clusters WHERE clustering_id = ? AND cluster_id = ?", (clustering, int(person)))
            if row is not None:
                columns = list(row)
                db.execute(
                    f"INSERT INTO clusters(clustering_id, {', '.join(columns)}) VALUES (?, {', '.join('?' * len(columns))})",
                    (clustering, *row.values()),
                )
        # faces the live assignment (faceexplore/live/assignment.py) added since count too
        self.index.refresh_cluster_counts(db, clustering, [int(p) for p, row in payload["clusters"].items() if row is not None])
        for person, centroid in payload["centroids"].items():
            db.execute("UPDATE people SET centroid = ? WHERE id = ?", (None if centroid is None else bytes.fromhex(centroid), int(person)))
        for face, pin in payload["pins"].items():
            db.execute("DELETE FROM face_pins WHERE face_id = ?", (int(face),))
            if pin is not None:
                db.execute(
                    "INSERT INTO face_pins(face_id, person_id, grp, correction_id) "
                    "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM faces WHERE id = ?)",
                    (int(face), *pin, int(face)),
                )
        db.execute("DELETE FROM face_cannot_links WHERE correction_id = ?", (correction,))
        db.execute("DELETE FROM rejected_faces WHERE correction_id = ?", (correction,))
        if "into" in payload:
            db.execute("UPDATE people SET name = ? WHERE id = ?", (payload["name_before"], payload["into"]))

    def recount(self, clustering: int, person: int) -> None:
        """Bring a person's clusters row up to date with its memberships: counts, a cover that
        is one of its faces (their most central, sharpest one: covers.py), no doubt flags (the
        organiser has looked at it). A person left without faces loses its row, not its id."""
        db = self.db
        rows = db.execute(
            "SELECT f.id, f.photo_id, f.embedding, f.flags, f.probability, f.x1, f.y1, f.x2, f.y2 "
            "FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = ? AND m.cluster_id = ? ORDER BY f.id",
            (clustering, person),
        ).fetchall()
        old = db.execute("SELECT * FROM clusters WHERE clustering_id = ? AND cluster_id = ?", (clustering, person)).fetchone()
        db.execute("DELETE FROM clusters WHERE clustering_id = ? AND cluster_id = ?", (clustering, person))
        if not rows:
            return
        ids = [int(r["id"]) for r in rows]
        cover = None if old is None else old["cover_face_id"]
        X = np.frombuffer(b"".join(r["embedding"] for r in rows), np.float32).reshape(len(rows), -1)
        db.execute("UPDATE people SET centroid = ? WHERE id = ?", (X.mean(0).astype(np.float32).tobytes(), person))
        if cover not in ids:
            sharp = [sharpness(r["probability"], r["x1"], r["y1"], r["x2"], r["y2"]) for r in rows]
            cover = ids[choose_cover(X, [r["flags"] for r in rows], sharp)]
        quality = json.loads(old["quality"]) if old is not None else {}
        quality.update(flags=[], corrected=True)
        db.execute(
            "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) VALUES (?, ?, ?, ?, ?, ?)",
            (clustering, person, len(ids), len({int(r["photo_id"]) for r in rows}), int(cover), json.dumps(quality)),
        )
