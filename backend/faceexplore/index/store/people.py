"""People and the organiser's corrections (people/corrections.py writes them), and what
search/withheld.py reads: hidden people, their faces, the organiser's placements."""

from __future__ import annotations

import json

import numpy as np

from .records import (
    ACTIVE_CLUSTERING,
    FaceVectors,
)


class PeopleAndCorrections:
    """FaceIndex's methods over these tables (a mixin: ``self.db`` is the index's connection)."""

    def bump_people_version(self, db):
        """Searchers reload when this changes: a hidden person or a rejected face leaves search."""
        self.set_meta("people_version", int(self.meta("people_version", "0")) + 1, db)

    def people_version(self) -> str:
        return self.meta("people_version", "0")

    def constraints(self) -> tuple[dict[int, tuple[int, str]], list[tuple[int, int]], set[int]]:
        """What `cluster` honours: face id -> (person id it is pinned to, the group of faces it
        came into the person with), the cannot-link pairs of face ids, the rejected face ids."""
        if not self.has_people_tables():
            return {}, [], set()
        with self._consistent():
            pins = {int(f): (int(p), g) for f, p, g in self.db.execute("SELECT face_id, person_id, grp FROM face_pins")}
            pairs = [(int(a), int(b)) for a, b in self.db.execute("SELECT DISTINCT face_a, face_b FROM face_cannot_links")]
            rejected = {int(f) for (f,) in self.db.execute("SELECT face_id FROM rejected_faces")}
        return pins, pairs, rejected

    def kept_people(self) -> dict[int, np.ndarray]:
        """person id -> centroid of the people the organiser named or hid: `cluster` gives
        their ids back to the clusters that match them, even after their photos were gone."""
        if not self.has_people_tables():
            return {}
        rows = self.db.execute("SELECT id, centroid FROM people WHERE (name IS NOT NULL OR hidden) AND centroid IS NOT NULL")
        return {int(i): np.frombuffer(c, np.float32) for i, c in rows}

    def search_excluded_faces(self) -> set[int]:
        """Rejected faces and those of hidden people (the search leaves out more: withheld.py)."""
        if not self.has_people_tables():
            return set()
        rows = self.db.execute(
            "SELECT face_id FROM rejected_faces UNION SELECT m.face_id FROM memberships m "
            f"JOIN people p ON p.id = m.cluster_id AND p.hidden WHERE m.clustering_id = {ACTIVE_CLUSTERING}"
        )
        return {int(f) for (f,) in rows}

    # -- what withheld.py reads: hidden people, their faces, the organiser's placements --------
    def hidden_face_vectors(self) -> FaceVectors:
        """The faces of hidden people in the active clustering (rejected ones left out), with
        their person ids."""
        if not self.has_people_tables():
            return self._face_vectors("SELECT id, photo_id, NULL, embedding FROM faces WHERE 0")
        return self._face_vectors(
            "SELECT f.id, f.photo_id, m.cluster_id, f.embedding FROM memberships m JOIN faces f ON f.id = m.face_id "
            f"JOIN people p ON p.id = m.cluster_id AND p.hidden WHERE m.clustering_id = {ACTIVE_CLUSTERING} "
            "AND f.id NOT IN (SELECT face_id FROM rejected_faces) ORDER BY f.id"
        )

    def face_blocks(self, size: int, after: int = -1):
        """The faces of id over ``after`` as (ids, photo ids, embeddings float32), ``size`` faces
        at a time, in face id order: the whole index without holding it all in memory."""
        cursor = self.db.execute("SELECT id, photo_id, embedding FROM faces WHERE id > ? ORDER BY id", (int(after),))
        while rows := cursor.fetchmany(size):
            X = np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(len(rows), -1)
            yield np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64), X

    def placed_faces(self) -> set[int]:
        """Faces the organiser explicitly placed in a person who is not hidden (a move or merge
        pinned them there, and they are there in the active clustering)."""
        if not self.has_people_tables():
            return set()
        rows = self.db.execute(
            "SELECT pin.face_id FROM face_pins pin JOIN memberships m ON m.face_id = pin.face_id "
            f"AND m.clustering_id = {ACTIVE_CLUSTERING} AND m.cluster_id = pin.person_id "
            "JOIN people p ON p.id = pin.person_id AND NOT p.hidden"
        )
        return {int(f) for (f,) in rows}

    def rejected_faces(self) -> set[int]:
        if not self.has_people_tables():
            return set()
        return {int(f) for (f,) in self.db.execute("SELECT face_id FROM rejected_faces")}

    def hidden_people(self) -> set[int]:
        if not self.has_people_tables():
            return set()
        return {int(p) for (p,) in self.db.execute("SELECT id FROM people WHERE hidden")}

    def people_all_of_whose_faces_are_among(self, face_ids) -> set[int]:
        """The people of the active clustering every face of whom is in ``face_ids``."""
        ids = json.dumps(sorted(int(f) for f in face_ids))
        rows = self.db.execute(
            "SELECT m.cluster_id FROM memberships m "
            f"WHERE m.clustering_id = {ACTIVE_CLUSTERING} AND m.cluster_id IN (SELECT m2.cluster_id FROM memberships m2 "
            f"WHERE m2.clustering_id = {ACTIVE_CLUSTERING} AND m2.face_id IN (SELECT value FROM json_each(?))) "
            "GROUP BY m.cluster_id HAVING SUM(m.face_id NOT IN (SELECT value FROM json_each(?))) = 0",
            (ids, ids),
        )
        return {int(p) for (p,) in rows}

    def active_people_count(self) -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM clusters WHERE clustering_id = {ACTIVE_CLUSTERING}").fetchone()[0])

    def _person_columns(self) -> tuple[str, str]:
        """The name and hidden columns of a clusters row ``c`` and the join that gives them."""
        if self.has_people_tables():
            return "p.name AS name, p.hidden AS hidden", "LEFT JOIN people p ON p.id = c.cluster_id"
        return "NULL AS name, 0 AS hidden", ""
