"""Photos, faces and their embeddings: what `index` writes and the searches read; the model the
index is bound to; the counts."""

from __future__ import annotations

import json
import time

import numpy as np

from ..covers import sharpness
from .records import (
    ModelMismatch,
)


class PhotosAndFaces:
    """FaceIndex's methods over these tables (a mixin: ``self.db`` is the index's connection)."""

    def check_model(self, model: str, dim: int):
        """Bind the index to ``model``; refuse another model's embeddings."""
        current = self.meta("model")
        if current is None:
            with self.transaction() as db:
                self.set_meta("model", model, db)
                self.set_meta("embedding_dim", dim, db)
        elif current != model:
            raise ModelMismatch(
                f"this index holds faces embedded with {current!r}, not {model!r}; embeddings of "
                f"two models cannot be compared. Re-index into a new data folder (--data), or "
                f"delete {self.path} and run `faceexplore index` again with the model you want."
            )

    # -- photos -----------------------------------------------------------------------------
    def known_photos(self) -> dict[str, tuple[int, int, int]]:
        """path -> (id, size, mtime_ns) for every photo in the index."""
        return {r["path"]: (r["id"], r["size"], r["mtime_ns"]) for r in self.db.execute("SELECT id, path, size, mtime_ns FROM photos")}

    def face_ids(self) -> set[int]:
        return {int(r[0]) for r in self.db.execute("SELECT id FROM faces")}

    def has_faces(self) -> bool:
        return self.db.execute("SELECT 1 FROM faces LIMIT 1").fetchone() is not None

    def ids_of_paths(self, paths) -> tuple[list[int], list[int]]:
        """The ids of the photos at ``paths`` and of their faces."""
        photo_ids = [int(r[0]) for p in paths for r in self.db.execute("SELECT id FROM photos WHERE path = ?", (p,))]
        face_ids = [int(r[0]) for pid in photo_ids for r in self.db.execute("SELECT id FROM faces WHERE photo_id = ?", (pid,))]
        return photo_ids, face_ids

    def remove_photos(self, paths) -> int:
        paths = list(paths)
        with self.transaction() as db:
            for i in range(0, len(paths), 500):
                chunk = paths[i : i + 500]
                db.execute(f"DELETE FROM photos WHERE path IN ({','.join('?' * len(chunk))})", chunk)
            # searchers reload when last_indexed changes: removed faces must leave them too
            self.set_meta("last_indexed", time.time(), db)
        return len(paths)

    def add_photos(self, items, model: str):
        """Store photos with their faces, in one transaction: ``items`` is a list of
        ``(PhotoRecord, [FaceRecord, ...])``. A photo already indexed under the same path is
        replaced (it changed on disk)."""
        now = time.time()
        with self.transaction() as db:
            for photo, faces in items:
                db.execute("DELETE FROM photos WHERE path = ?", (photo.path,))
                cur = db.execute(
                    "INSERT INTO photos(path, size, mtime_ns, width, height, status, error, indexed_at) VALUES (?,?,?,?,?,?,?,?)",
                    (photo.path, photo.size, photo.mtime_ns, photo.width, photo.height, photo.status, photo.error, now),
                )
                photo_id = cur.lastrowid
                db.executemany(
                    "INSERT INTO faces(photo_id, x1, y1, x2, y2, landmarks, "
                    "probability, flags, embedding, model) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            photo_id,
                            *(float(v) for v in f.box),
                            json.dumps([[round(x, 2), round(y, 2)] for x, y in f.landmarks]),
                            float(f.probability),
                            ",".join(f.flags),
                            np.asarray(f.embedding, np.float32).tobytes(),
                            model,
                        )
                        for f in faces
                    ],
                )
            self.set_meta("last_indexed", now, db)

    def photo(self, photo_id: int):
        return self.db.execute("SELECT * FROM photos WHERE id = ?", (photo_id,)).fetchone()

    def photos(self, ids=None):
        if ids is None:
            return self.db.execute("SELECT * FROM photos ORDER BY path").fetchall()
        ids = list(ids)
        rows = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows += self.db.execute(f"SELECT * FROM photos WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        return rows

    # -- faces ------------------------------------------------------------------------------
    def faces_of_photo(self, photo_id: int):
        return self.db.execute("SELECT * FROM faces WHERE photo_id = ? ORDER BY x1", (photo_id,)).fetchall()

    def face(self, face_id: int):
        return self.db.execute("SELECT * FROM faces WHERE id = ?", (face_id,)).fetchone()

    def embeddings(self):
        """All faces as arrays: ids, photo ids, embeddings (n, dim) float32, flags."""
        rows = self.db.execute("SELECT id, photo_id, embedding, flags FROM faces ORDER BY id").fetchall()
        dim = int(self.meta("embedding_dim", 0) or 0)
        ids = np.array([r[0] for r in rows], np.int64)
        photo_ids = np.array([r[1] for r in rows], np.int64)
        if rows:
            vectors = np.frombuffer(b"".join(r[2] for r in rows), np.float32).reshape(len(rows), -1)
        else:
            vectors = np.zeros((0, dim), np.float32)
        flags = [r[3] for r in rows]
        return ids, photo_ids, vectors, flags

    def face_sharpness(self) -> np.ndarray:
        """Every face's sharpness (faceexplore.index.covers), in the order of ``embeddings``."""
        rows = self.db.execute("SELECT probability, x1, y1, x2, y2 FROM faces ORDER BY id").fetchall()
        return np.array([sharpness(*r) for r in rows], np.float64)

    # -- counts -----------------------------------------------------------------------------
    def counts(self) -> dict:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        active = self.active_clustering()
        return {
            "photos": one("SELECT COUNT(*) FROM photos"),
            "photos_ok": one("SELECT COUNT(*) FROM photos WHERE status = 'ok'"),
            "errors": one("SELECT COUNT(*) FROM photos WHERE status = 'error'"),
            "faces": one("SELECT COUNT(*) FROM faces"),
            "photos_with_faces": one("SELECT COUNT(DISTINCT photo_id) FROM faces"),
            "model": self.meta("model"),
            "last_indexed": float(self.meta("last_indexed", 0) or 0) or None,
            "people": (
                self.db.execute("SELECT COUNT(*) FROM clusters WHERE clustering_id = ?", (active["id"],)).fetchone()[0] if active else None
            ),
            "threshold": active["threshold"] if active else None,
            "threshold_method": active["method"] if active else None,
        }

    def errors(self) -> list[tuple[str, str]]:
        """(path, message) of every photo that could not be read, by path."""
        return [(r[0], r[1]) for r in self.db.execute("SELECT path, error FROM photos WHERE status = 'error' ORDER BY path")]

    def face_embeddings(self, face_ids) -> np.ndarray:
        """The embeddings of these faces, in the order given (faces gone are left out): a
        visitor's removal keeps its matched faces' embeddings (site/removals.py)."""
        dim = int(self.meta("embedding_dim", 0) or 0)
        wanted = [int(f) for f in face_ids]
        if not wanted:
            return np.zeros((0, dim), np.float32)
        rows = dict(self.db.execute(f"SELECT id, embedding FROM faces WHERE id IN ({','.join('?' * len(wanted))})", wanted).fetchall())
        return np.array([np.frombuffer(rows[f], np.float32) for f in wanted if f in rows], np.float32).reshape(-1, dim)

    def first_indexed_at(self) -> float | None:
        """When the first photo was indexed (the retention clock's start, index/retention.py)."""
        first = self.db.execute("SELECT MIN(indexed_at) FROM photos").fetchone()[0]
        return None if first is None else float(first)
