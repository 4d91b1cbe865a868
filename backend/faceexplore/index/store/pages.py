"""The reads for the web API and search: photos, faces and people by id and by page, each in one
consistent snapshot."""

from __future__ import annotations

import json
from contextlib import contextmanager

from .records import (
    ACTIVE_CLUSTERING,
    ClusteredFace,
    ClusterInfo,
    FaceInfo,
    Page,
    PersonInfo,
    PersonPhoto,
    PhotoFaceInfo,
    PhotoInfo,
    box_from_row,
    person_info_from_row,
    photo_info_from_row,
    valid_id,
)


class PageQueries:
    """FaceIndex's methods over these tables (a mixin: ``self.db`` is the index's connection)."""

    @contextmanager
    def _consistent(self):
        """One snapshot for several queries, unless the caller already holds one."""
        if self.db.in_transaction:
            yield
        else:
            with self.snapshot():
                yield

    def photo_info(self, photo_id: int) -> PhotoInfo | None:
        if not valid_id(photo_id):
            return None
        row = self.db.execute("SELECT id, path, width, height FROM photos WHERE id = ?", (int(photo_id),)).fetchone()
        return photo_info_from_row(row) if row is not None else None

    def photo_infos(self, ids) -> dict[int, PhotoInfo]:
        """id -> PhotoInfo for those of ``ids`` in the index."""
        ids = [int(i) for i in ids if valid_id(i)]
        found = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.db.execute(f"SELECT id, path, width, height FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update((int(r["id"]), photo_info_from_row(r)) for r in rows)
        return found

    def all_photo_paths(self) -> dict[int, str]:
        return {int(r[0]): r[1] for r in self.db.execute("SELECT id, path FROM photos ORDER BY path")}

    def face_info(self, face_id: int) -> FaceInfo | None:
        if not valid_id(face_id):
            return None
        row = self.db.execute("SELECT id, photo_id, x1, y1, x2, y2, probability FROM faces WHERE id = ?", (int(face_id),)).fetchone()
        return None if row is None else FaceInfo(int(row["id"]), int(row["photo_id"]), box_from_row(row), float(row["probability"]))

    def face_infos(self, face_ids) -> list[FaceInfo]:
        ids = [int(f) for f in face_ids if valid_id(f)]
        out = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT id, photo_id, x1, y1, x2, y2, probability FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            out += [FaceInfo(int(r["id"]), int(r["photo_id"]), box_from_row(r), float(r["probability"])) for r in rows]
        return out

    def faces_with_people(self, photo_id: int) -> list[PhotoFaceInfo]:
        """The faces of a photo, left to right, each with its person in the active clustering."""
        if not valid_id(photo_id):
            return []
        hidden, join = ("p.hidden", "LEFT JOIN people p ON p.id = m.cluster_id") if self.has_people_tables() else ("0", "")
        rows = self.db.execute(
            f"SELECT f.id, f.photo_id, f.x1, f.y1, f.x2, f.y2, f.probability, m.cluster_id, {hidden} AS hidden FROM faces f "
            f"LEFT JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {ACTIVE_CLUSTERING} {join} "
            "WHERE f.photo_id = ? ORDER BY f.x1, f.id",
            (int(photo_id),),
        ).fetchall()
        return [
            PhotoFaceInfo(
                FaceInfo(int(r["id"]), int(r["photo_id"]), box_from_row(r), float(r["probability"])),
                None if r["cluster_id"] is None else int(r["cluster_id"]),
                bool(r["hidden"]),
            )
            for r in rows
        ]

    def active_memberships(self) -> dict[int, int]:
        """face id -> person (cluster) id in the active clustering."""
        rows = self.db.execute(f"SELECT face_id, cluster_id FROM memberships WHERE clustering_id = {ACTIVE_CLUSTERING}")
        return {int(f): int(c) for f, c in rows}

    def people_page(self, limit: int, offset: int, include_hidden: bool = False, query: str | None = None, exclude=()) -> Page:
        """The people of the active clustering, most faces first: ``items`` are PersonInfo (with
        name and hidden flag). Hidden people only with ``include_hidden`` (the organiser's
        view); ``query``: only people whose name holds it, whatever the case; ``exclude``:
        person ids left out."""
        columns, join = self._person_columns()
        where = f"WHERE c.clustering_id = {ACTIVE_CLUSTERING}"
        args: list = []
        if exclude:
            where += " AND c.cluster_id NOT IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(sorted(int(p) for p in exclude)))
        if not include_hidden and join:
            where += " AND NOT COALESCE(p.hidden, 0)"
        if query is not None and query.strip():
            if not join:  # no names yet: no one matches
                return Page(0, [])
            where += " AND instr(casefold(p.name), casefold(?)) > 0"
            args.append(query.strip())
        with self._consistent():
            total = self.db.execute(f"SELECT COUNT(*) FROM clusters c {join} {where}", args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT c.*, {columns} FROM clusters c {join} {where} "
                "ORDER BY c.face_count DESC, c.photo_count DESC, c.cluster_id LIMIT ? OFFSET ?",
                (*args, int(limit), int(offset)),
            ).fetchall()
        return Page(int(total), [person_info_from_row(r) for r in rows])

    def person(self, person_id: int, include_hidden: bool = False) -> PersonInfo | None:
        """A person (cluster) of the active clustering, or None (also for a hidden person unless
        ``include_hidden``)."""
        if not valid_id(person_id):
            return None
        columns, join = self._person_columns()
        row = self.db.execute(
            f"SELECT c.*, {columns} FROM clusters c {join} WHERE c.clustering_id = {ACTIVE_CLUSTERING} AND c.cluster_id = ?",
            (int(person_id),),
        ).fetchone()
        if row is None or (row["hidden"] and not include_hidden):
            return None
        return person_info_from_row(row)

    def person_photos(self, person_id: int, limit: int, offset: int, exclude=()) -> Page:
        """The photos a person is in, by path: ``items`` are PersonPhoto (box: their face);
        ``exclude``: photo ids left out."""
        if not valid_id(person_id):
            return Page(0, [])
        where = (
            "FROM photos p JOIN faces f ON f.photo_id = p.id "
            f"JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {ACTIVE_CLUSTERING} WHERE m.cluster_id = ?"
        )
        args: tuple = (int(person_id),)
        if exclude:
            where += " AND p.id NOT IN (SELECT value FROM json_each(?))"
            args += (json.dumps(sorted(int(p) for p in exclude)),)
        with self._consistent():
            total = self.db.execute(f"SELECT COUNT(DISTINCT p.id) {where}", args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT p.id, p.path, p.width, p.height, f.x1, f.y1, f.x2, f.y2 {where} GROUP BY p.id ORDER BY p.path LIMIT ? OFFSET ?",
                (*args, int(limit), int(offset)),
            ).fetchall()
        return Page(int(total), [PersonPhoto(photo_info_from_row(r), box_from_row(r)) for r in rows])

    def person_faces(self, person_id: int, limit: int, offset: int) -> Page:
        """A person's faces, by photo path then left to right: ``items`` are FaceInfo (for the
        organiser, who moves or rejects faces by id)."""
        if not valid_id(person_id):
            return Page(0, [])
        where = (
            "FROM faces f JOIN photos p ON p.id = f.photo_id "
            f"JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {ACTIVE_CLUSTERING} WHERE m.cluster_id = ?"
        )
        with self._consistent():
            total = self.db.execute(f"SELECT COUNT(*) {where}", (int(person_id),)).fetchone()[0]
            rows = self.db.execute(
                f"SELECT f.id, f.photo_id, f.x1, f.y1, f.x2, f.y2, f.probability {where} ORDER BY p.path, f.x1, f.id LIMIT ? OFFSET ?",
                (int(person_id), int(limit), int(offset)),
            ).fetchall()
        return Page(int(total), [FaceInfo(int(r["id"]), int(r["photo_id"]), box_from_row(r), float(r["probability"])) for r in rows])

    def active_clusters(self) -> list[ClusterInfo]:
        """Every cluster of the active clustering, most faces first."""
        columns, join = self._person_columns()
        rows = self.db.execute(
            f"SELECT c.cluster_id, c.face_count, c.photo_count, c.cover_face_id, c.quality, {columns} FROM clusters c {join} "
            f"WHERE c.clustering_id = {ACTIVE_CLUSTERING} ORDER BY c.face_count DESC, c.cluster_id"
        ).fetchall()
        return [
            ClusterInfo(
                int(r["cluster_id"]),
                int(r["face_count"]),
                int(r["photo_count"]),
                None if r["cover_face_id"] is None else int(r["cover_face_id"]),
                json.loads(r["quality"] or "{}"),
                r["name"],
                bool(r["hidden"]),
            )
            for r in rows
        ]

    def clustered_faces(self) -> list[ClusteredFace]:
        """Every face of the active clustering, with its photo's path and size."""
        rows = self.db.execute(
            "SELECT f.id, p.path, p.width, p.height, f.x1, f.y1, f.x2, f.y2, m.cluster_id FROM faces f "
            f"JOIN photos p ON p.id = f.photo_id JOIN memberships m ON m.face_id = f.id AND m.clustering_id = {ACTIVE_CLUSTERING}"
        ).fetchall()
        return [ClusteredFace(int(r["id"]), r["path"], r["width"], r["height"], box_from_row(r), int(r["cluster_id"])) for r in rows]
