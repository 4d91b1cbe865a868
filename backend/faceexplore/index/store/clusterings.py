"""Clusterings and memberships: a clustering written whole under a new id and made active in one
transaction, and the live gallery's memberships (live/assignment.py) added to the active one."""

from __future__ import annotations

import json
import time

import numpy as np

from .records import (
    FaceVectors,
    LiveAssignmentCounts,
    PeopleChanged,
)


def _with_person_ids(quality: dict, person) -> dict:
    """A cluster's quality record with its nearest cluster named by person id."""
    if quality.get("nearest_cluster") is None:
        return quality
    return {**quality, "nearest_cluster": person(quality["nearest_cluster"])}


class ClusteringsAndMemberships:
    """FaceIndex's methods over these tables (a mixin: ``self.db`` is the index's connection)."""

    def active_clustering(self):
        row = self.db.execute(
            "SELECT c.* FROM clusterings c JOIN meta m ON m.key = 'active_clustering' AND CAST(m.value AS INTEGER) = c.id"
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["details"] = json.loads(out["details"])
        return out

    def save_clustering(
        self,
        face_ids,
        labels,
        threshold: float,
        method: str,
        details: dict,
        clusters: list[dict],
        model: str,
        expected_people_version: str | None = None,
    ) -> int:
        """Store a clustering and make it the active one, atomically; older ones are dropped.

        ``labels`` (and each cluster's ``cluster_id``) are person ids; a negative label is a new
        person, given a fresh id from ``people`` here. ``expected_people_version``: the
        ``people_version`` the clustering was computed at; when a correction came in since,
        nothing is saved and ``PeopleChanged`` is raised (compute again)."""
        with self.transaction() as db:
            if expected_people_version is not None and self.meta("people_version", "0") != expected_people_version:
                raise PeopleChanged("the organiser corrected the people while they were being clustered")
            now = time.time()
            fresh = {}
            for label in dict.fromkeys(int(c) for c in labels):
                if label < 0:
                    fresh[label] = db.execute("INSERT INTO people(created_at) VALUES (?)", (now,)).lastrowid
            person = lambda label: fresh.get(int(label), int(label))  # noqa: E731
            db.executemany("INSERT OR IGNORE INTO people(id, created_at) VALUES (?, ?)", [(person(c["cluster_id"]), now) for c in clusters])
            db.executemany(
                "UPDATE people SET centroid = ? WHERE id = ?",
                [
                    (np.asarray(c["centroid"], np.float32).tobytes(), person(c["cluster_id"]))
                    for c in clusters
                    if c.get("centroid") is not None
                ],
            )
            cid = db.execute(
                "INSERT INTO clusterings(created_at, model, threshold, method, details) VALUES (?,?,?,?,?)",
                (now, model, float(threshold), method, json.dumps(details)),
            ).lastrowid
            db.executemany(
                "INSERT INTO memberships(clustering_id, face_id, cluster_id) VALUES (?,?,?)",
                [(cid, int(f), person(c)) for f, c in zip(face_ids, labels)],
            )
            db.executemany(
                "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) VALUES (?,?,?,?,?,?)",
                [
                    (
                        cid,
                        person(c["cluster_id"]),
                        c["face_count"],
                        c["photo_count"],
                        c["cover_face_id"],
                        json.dumps(_with_person_ids(c.get("quality", {}), person)),
                    )
                    for c in clusters
                ],
            )
            self.set_meta("active_clustering", cid, db)
            self.bump_people_version(db)
            db.execute("DELETE FROM clusterings WHERE id != ?", (cid,))
        return cid

    # -- live assignment (faceexplore/live/assignment.py) ------------------------------------
    def _face_vectors(self, sql: str, args=()) -> FaceVectors:
        rows = self.db.execute(sql, args).fetchall()
        dim = int(self.meta("embedding_dim", 0) or 0)
        X = np.frombuffer(b"".join(r[3] for r in rows), np.float32).reshape(len(rows), -1) if rows else np.zeros((0, dim), np.float32)
        return FaceVectors(
            np.array([r[0] for r in rows], np.int64),
            np.array([r[1] for r in rows], np.int64),
            np.array([-1 if r[2] is None else r[2] for r in rows], np.int64),
            X,
        )

    def clustered_vectors(self, clustering_id: int) -> FaceVectors:
        """The faces of a clustering with their person ids (memberships of faces gone with
        their photo are left out)."""
        return self._face_vectors(
            "SELECT f.id, f.photo_id, m.cluster_id, f.embedding FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = ? ORDER BY f.id",
            (int(clustering_id),),
        )

    def unclustered_vectors(self, clustering_id: int | None) -> FaceVectors:
        """The faces a clustering does not hold (indexed after it was made), rejected faces
        left out; person ids all -1."""
        rejected = "AND f.id NOT IN (SELECT face_id FROM rejected_faces)" if self.has_people_tables() else ""
        return self._face_vectors(
            "SELECT f.id, f.photo_id, NULL, f.embedding FROM faces f "
            f"WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.clustering_id = ? AND m.face_id = f.id) {rejected} ORDER BY f.id",
            (-1 if clustering_id is None else int(clustering_id),),
        )

    def refresh_cluster_counts(self, db, clustering_id: int, people) -> None:
        """Inside the caller's transaction: the face and photo counts of these people's clusters
        rows, counted again from their memberships (undo restores rows as they were before a
        correction, while the live assignment may have added faces since)."""
        db.executemany(
            "UPDATE clusters SET face_count = (SELECT COUNT(*) FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = clusters.clustering_id AND m.cluster_id = clusters.cluster_id), "
            "photo_count = (SELECT COUNT(DISTINCT f.photo_id) FROM memberships m JOIN faces f ON f.id = m.face_id "
            "WHERE m.clustering_id = clusters.clustering_id AND m.cluster_id = clusters.cluster_id) "
            "WHERE clustering_id = ? AND cluster_id = ?",
            [(int(clustering_id), int(p)) for p in people],
        )

    def live_assignment_counts(self) -> LiveAssignmentCounts:
        """What the live assignment added to the active clustering (zeros for one it never
        touched: a new clustering starts the count again)."""
        raw = json.loads(self.meta("live_assignment", "{}"))
        active = self.meta("active_clustering")
        if active is None or raw.get("clustering_id") != int(active):
            return LiveAssignmentCounts(None if active is None else int(active))
        return LiveAssignmentCounts(
            int(active), int(raw.get("joined", 0)), int(raw.get("new_people", 0)), int(raw.get("new_people_faces", 0))
        )

    def memberships_version(self) -> str:
        """Bumped by every live assignment: searchers reload when it changes. (Not
        ``people_version``: a background `cluster` started before would then refuse to save.)"""
        return self.meta("memberships_version", "0")

    def add_live_memberships(
        self,
        db,
        clustering_id: int,
        joined: dict[int, int],
        new_people: list[list[int]],
        centroids: dict[int, np.ndarray],
        new_centroids: list,
    ) -> list[int]:
        """Inside the caller's transaction ``db``: put faces into the clustering
        ``clustering_id``: ``joined`` (face id -> existing person id), and each list of face
        ids in ``new_people`` as a new person (a fresh id from ``people``; its clusters row has
        its first face as cover). Touched people's clusters rows get their counts again and
        their ``people.centroid`` the mean given (``centroids``; ``new_centroids`` for the new
        people, in order). Returns the new people's ids."""
        now = time.time()
        fresh = []
        for faces, centroid in zip(new_people, new_centroids):
            person = db.execute(
                "INSERT INTO people(created_at, centroid) VALUES (?, ?)", (now, np.asarray(centroid, np.float32).tobytes())
            ).lastrowid
            fresh.append(int(person))
            db.execute(
                "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) "
                "VALUES (?, ?, 0, 0, ?, ?)",
                (int(clustering_id), person, int(faces[0]), json.dumps({"flags": [], "live": True, "live_added": len(faces)})),
            )
        rows = [(int(clustering_id), int(f), int(p)) for f, p in joined.items()]
        rows += [(int(clustering_id), int(f), p) for faces, p in zip(new_people, fresh) for f in faces]
        db.executemany("INSERT INTO memberships(clustering_id, face_id, cluster_id) VALUES (?, ?, ?)", rows)
        added: dict[int, int] = {}
        for person in joined.values():
            added[int(person)] = added.get(int(person), 0) + 1
        for person, count in added.items():
            row = db.execute(
                "SELECT quality FROM clusters WHERE clustering_id = ? AND cluster_id = ?", (int(clustering_id), person)
            ).fetchone()
            quality = json.loads(row[0] or "{}") if row else {}
            quality["live_added"] = int(quality.get("live_added", 0)) + count
            db.execute(
                "UPDATE clusters SET quality = ? WHERE clustering_id = ? AND cluster_id = ?",
                (json.dumps(quality), int(clustering_id), person),
            )
        self.refresh_cluster_counts(db, clustering_id, [*added, *fresh])
        db.executemany(
            "UPDATE people SET centroid = ? WHERE id = ?", [(np.asarray(c, np.float32).tobytes(), int(p)) for p, c in centroids.items()]
        )
        counts = self.live_assignment_counts()
        self.set_meta(
            "live_assignment",
            json.dumps(
                {
                    "clustering_id": int(clustering_id),
                    "joined": counts.joined + len(joined),
                    "new_people": counts.new_people + len(fresh),
                    "new_people_faces": counts.new_people_faces + sum(len(faces) for faces in new_people),
                }
            ),
            db,
        )
        self.set_meta("memberships_version", int(self.memberships_version()) + 1, db)
        return fresh
