"""The organiser's corrections of the people: names, hidden people, merges, moved faces, "not a
face", and undo.

Each correction is one transaction on the index: it changes the active clustering at once (the
People pages and search see it; searchers reload on ``people_version``), writes a row of the
corrections log with what undo needs to restore, and records the constraints `cluster` honours
later (store.py's face_pins, face_cannot_links, rejected_faces): faces put into a person are
pinned to it, faces moved apart are cannot-linked, rejected faces are left out. Names and hidden
flags belong to the person id, which `cluster` keeps (clustering.py's ``assign_person_ids``).
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import dataclass

import numpy as np

from .store import _ACTIVE, FaceIndex, _valid_id

MAX_NAME_LENGTH = 100
LOG_LENGTH = 500  # the newest corrections `log` returns
FACE_KINDS = ("merge", "move", "reject")  # corrections of the clustering (not of a person's name or flag)


class CorrectionError(Exception):
    """A correction that cannot be made; nothing was changed. ``status``: the HTTP status it
    maps to (400 bad input, 404 unknown id, 409 conflicts with the state); ``code``: snake_case."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class PersonSummary:
    id: int
    name: str | None
    hidden: bool
    face_count: int
    photo_count: int
    cover_face_id: int | None
    flags: list[str]


@dataclass(frozen=True)
class Correction:
    id: int
    at: float  # unix time
    kind: str  # rename, hide, unhide, merge, move, reject
    description: str
    undone: bool


def _summary(row) -> PersonSummary:
    quality = json.loads(row["quality"] or "{}")
    cover = row["cover_face_id"]
    return PersonSummary(
        int(row["cluster_id"]),
        row["name"],
        bool(row["hidden"]),
        int(row["face_count"]),
        int(row["photo_count"]),
        None if cover is None else int(cover),
        list(quality.get("flags", [])),
    )


def _correction(row) -> Correction:
    return Correction(int(row["id"]), float(row["at"]), row["kind"], row["description"], bool(row["undone"]))


def _label(person_id: int, name: str | None) -> str:
    return f"person {person_id} ({name})" if name else f"person {person_id}"


def _ids(values, what: str) -> list[int]:
    """Distinct ids in the order given; 400 when empty or not ids."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise CorrectionError(400, "bad_request", f"Give the {what} as a list of ids.")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise CorrectionError(400, "bad_request", f"{v!r} is not an id of {what}.")
        out.append(int(v))
    if not out:
        raise CorrectionError(400, "empty_list", f"Give at least one of the {what}.")
    return list(dict.fromkeys(out))


def _person_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise CorrectionError(400, "bad_request", f"{value!r} is not a person id.")
    return int(value)


class PeopleEditor:
    """The organiser's corrections on a writable ``FaceIndex``."""

    def __init__(self, index: FaceIndex):
        self.index = index
        self.db = index.db
        self.recorded: list[dict] = []  # this editor's corrections, for the audit log (audit.record_corrections)

    # -- reads ------------------------------------------------------------------------------
    def list(self, query: str | None = None) -> list[PersonSummary]:
        """The people of the active clustering, hidden ones included, most faces first; with
        ``query``, only those whose name holds it (case-insensitive)."""
        page = self.index.people_page(limit=-1, offset=0, include_hidden=True, query=query)
        return [PersonSummary(p.id, p.name, p.hidden, p.face_count, p.photo_count, p.cover_face_id, p.flags) for p in page.items]

    def get(self, person_id) -> PersonSummary:
        return self._get(self.db, _person_id(person_id))

    def log(self) -> list[Correction]:
        rows = self.db.execute("SELECT * FROM corrections ORDER BY id DESC LIMIT ?", (LOG_LENGTH,)).fetchall()
        return [_correction(r) for r in rows]

    # -- corrections of a person ------------------------------------------------------------
    def rename(self, person_id, name: str | None) -> PersonSummary:
        person_id = _person_id(person_id)
        if name is not None and not isinstance(name, str):
            raise CorrectionError(400, "bad_name", "A name is text.")
        name = (name or "").strip() or None
        if name is not None:
            if len(name) > MAX_NAME_LENGTH:
                raise CorrectionError(400, "name_too_long", f"A name has at most {MAX_NAME_LENGTH} characters.")
            if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
                raise CorrectionError(422, "bad_name", "A name cannot hold control characters or line breaks.")
        with self.index.transaction() as db:
            before = self._get(db, person_id)
            if before.name == name:
                return before
            db.execute("UPDATE people SET name = ? WHERE id = ?", (name, person_id))
            text = f"Named person {person_id} “{name}”" if name else f"Cleared the name of {_label(person_id, before.name)}"
            self._record(db, "rename", text, {"person": person_id, "before": before.name})
            return self._get(db, person_id)

    def set_hidden(self, person_id, hidden: bool) -> PersonSummary:
        person_id = _person_id(person_id)
        if not isinstance(hidden, bool):
            raise CorrectionError(400, "bad_request", "hidden is true or false.")
        with self.index.transaction() as db:
            before = self._get(db, person_id)
            if before.hidden == hidden:
                return before
            db.execute("UPDATE people SET hidden = ? WHERE id = ?", (int(hidden), person_id))
            kind = "hide" if hidden else "unhide"
            text = f"{'Hid' if hidden else 'Showed again'} {_label(person_id, before.name)}"
            self._record(db, kind, text, {"person": person_id, "before": before.hidden})
            return self._get(db, person_id)

    # -- corrections of the clustering ------------------------------------------------------
    def merge(self, into, others) -> PersonSummary:
        """Merge ``others`` into ``into``: their faces become ``into``'s, pinned to it. ``into``
        keeps its name, or takes the name of the only one of them named."""
        into = _person_id(into)
        others = _ids(others, "people to merge")
        if into in others:
            raise CorrectionError(422, "merge_into_itself", f"Person {into} cannot be merged into itself.")
        with self.index.transaction() as db:
            clustering = self._clustering(db)
            target = self._get(db, into)
            sources = [self._get(db, p) for p in others]
            faces = self._faces_of(db, clustering, [into, *others])
            self._check_one_face_per_photo(db, [f for f, _ in faces])
            named = {s.name for s in sources if s.name}
            name = target.name or (named.pop() if len(named) == 1 else None)
            payload = self._snapshot(db, clustering, [into, *others], [f for f, _ in faces])
            payload.update(into=into, name_before=target.name, memberships=[[f, p] for f, p in faces if p != into])
            db.execute(
                f"UPDATE memberships SET cluster_id = ? WHERE clustering_id = ? AND cluster_id IN ({','.join('?' * len(others))})",
                (into, clustering, *others),
            )
            if name != target.name:
                db.execute("UPDATE people SET name = ? WHERE id = ?", (name, into))
            correction = self._record(
                db, "merge", f"Merged {', '.join(_label(s.id, s.name) for s in sources)} into {_label(into, target.name)}", payload
            )
            self._pin(db, faces, into, correction)
            for person in [into, *others]:
                self._recount(db, clustering, person)
            return self._get(db, into)

    def move_faces(self, face_ids, to) -> PersonSummary:
        """Move faces into person ``to`` (None: a new person). They are pinned to it, with the
        faces it had, and cannot-linked to the faces left in the people they came from."""
        face_ids = _ids(face_ids, "faces to move")
        if to is not None:
            to = _person_id(to)
        with self.index.transaction() as db:
            clustering = self._clustering(db)
            self._check_faces(db, face_ids)
            rejected = self._rejected(db, face_ids)
            if rejected:
                raise CorrectionError(409, "face_rejected", f"Face {rejected[0]} was marked as not a face; undo that first.")
            current = self._memberships(db, clustering, face_ids)
            if to is None:
                target_name = None
                to = db.execute("INSERT INTO people(created_at) VALUES (?)", (time.time(),)).lastrowid
                target_faces = []
                new = True
            else:
                target_name = self._get(db, to).name
                target_faces = [f for f, _ in self._faces_of(db, clustering, [to])]
                new = False
            moved = [f for f in face_ids if current.get(f) != to]
            self._check_one_face_per_photo(db, list(dict.fromkeys([*target_faces, *face_ids])))
            sources = sorted({current[f] for f in moved if current.get(f) is not None})
            payload = self._snapshot(db, clustering, [to, *sources], [*target_faces, *face_ids])
            payload.update(to=to, memberships=[[f, current.get(f)] for f in moved])
            db.executemany(
                "INSERT OR REPLACE INTO memberships(clustering_id, face_id, cluster_id) VALUES (?, ?, ?)",
                [(clustering, f, to) for f in moved],
            )
            whence = f" from {', '.join(f'person {p}' for p in sources)}" if sources else ""
            count = f"{len(face_ids)} face{'s' if len(face_ids) != 1 else ''}"
            text = f"Moved {count}{whence} to {'a new person ' + str(to) if new else _label(to, target_name)}"
            correction = self._record(db, "move", text, payload)
            self._pin(db, [*((f, to) for f in target_faces), *((f, "moved") for f in face_ids)], to, correction)
            left = [f for f, _ in self._faces_of(db, clustering, sources)] if sources else []
            pairs = {(min(a, b), max(a, b)) for a in face_ids for b in left}
            db.executemany(
                "INSERT OR IGNORE INTO face_cannot_links(face_a, face_b, correction_id) VALUES (?, ?, ?)",
                [(*pair, correction) for pair in pairs],
            )
            for person in [to, *sources]:
                self._recount(db, clustering, person)
            return self._get(db, to)

    def reject_faces(self, face_ids) -> int:
        """ "Not a face": the faces leave their people and search, and `cluster` leaves them out.
        Returns how many were rejected (those rejected before are not counted)."""
        face_ids = _ids(face_ids, "faces to reject")
        with self.index.transaction() as db:
            clustering = self._clustering(db)
            self._check_faces(db, face_ids)
            already = set(self._rejected(db, face_ids))
            new = [f for f in face_ids if f not in already]
            if not new:
                return 0
            current = self._memberships(db, clustering, new)
            people = sorted({p for p in current.values() if p is not None})
            payload = self._snapshot(db, clustering, people, new)
            payload.update(memberships=[[f, current[f]] for f in new if current.get(f) is not None])
            count = f"{len(new)} face{'s' if len(new) != 1 else ''}"
            whence = f" of {', '.join(f'person {p}' for p in people)}" if people else ""
            correction = self._record(db, "reject", f"Marked {count}{whence} as not a face", payload)
            db.executemany(f"DELETE FROM memberships WHERE clustering_id = {int(clustering)} AND face_id = ?", [(f,) for f in new])
            db.executemany("DELETE FROM face_pins WHERE face_id = ?", [(f,) for f in new])
            db.executemany("INSERT INTO rejected_faces(face_id, correction_id) VALUES (?, ?)", [(f, correction) for f in new])
            for person in people:
                self._recount(db, clustering, person)
            return len(new)

    def undo(self) -> Correction:
        """Revert the newest correction not undone yet, exactly. Corrections of the clustering
        made before the last `faceexplore cluster` are part of its result: nothing to undo."""
        with self.index.transaction() as db:
            row = db.execute("SELECT * FROM corrections WHERE NOT undone ORDER BY id DESC LIMIT 1").fetchone()
            clustering = self._active(db)
            if row is None:
                raise CorrectionError(409, "nothing_to_undo", "There is nothing to undo.")
            if row["kind"] in FACE_KINDS and row["clustering_id"] != clustering:
                raise CorrectionError(
                    409, "nothing_to_undo", "There is nothing to undo since the faces were clustered again (`faceexplore cluster`)."
                )
            payload = json.loads(row["payload"])
            correction = int(row["id"])
            if row["kind"] == "rename":
                db.execute("UPDATE people SET name = ? WHERE id = ?", (payload["before"], payload["person"]))
            elif row["kind"] in ("hide", "unhide"):
                db.execute("UPDATE people SET hidden = ? WHERE id = ?", (int(payload["before"]), payload["person"]))
            else:
                self._restore(db, clustering, correction, payload)
            db.execute("UPDATE corrections SET undone = 1 WHERE id = ?", (correction,))
            self.recorded.append({"kind": "undo", "description": f"Undid: {row['description']}"})
            self.index.bump_people_version(db)
            return _correction(db.execute("SELECT * FROM corrections WHERE id = ?", (correction,)).fetchone())

    # -- helpers (all inside the caller's transaction) ---------------------------------------
    def _active(self, db) -> int | None:
        row = db.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'active_clustering'").fetchone()
        return None if row is None else int(row[0])

    def _clustering(self, db) -> int:
        clustering = self._active(db)
        if clustering is None:
            raise CorrectionError(409, "not_clustered", "The faces are not clustered yet: run `faceexplore cluster` first.")
        return clustering

    def _get(self, db, person_id: int) -> PersonSummary:
        row = None
        if _valid_id(person_id):
            row = db.execute(
                "SELECT c.*, p.name AS name, p.hidden AS hidden FROM clusters c JOIN people p ON p.id = c.cluster_id "
                f"WHERE c.clustering_id = {_ACTIVE} AND c.cluster_id = ?",
                (person_id,),
            ).fetchone()
        if row is None:
            raise CorrectionError(404, "not_found", f"There is no person {person_id}.")
        return _summary(row)

    def _record(self, db, kind: str, description: str, payload: dict) -> int:
        cur = db.execute(
            "INSERT INTO corrections(at, clustering_id, kind, description, payload) VALUES (?, ?, ?, ?, ?)",
            (time.time(), self._active(db), kind, description, json.dumps(payload)),
        )
        self.recorded.append({"kind": kind, "description": description})
        self.index.bump_people_version(db)
        return int(cur.lastrowid)

    def _check_faces(self, db, face_ids: list[int]):
        known = set()
        valid = [f for f in face_ids if _valid_id(f)]
        for i in range(0, len(valid), 500):
            chunk = valid[i : i + 500]
            known.update(int(r[0]) for r in db.execute(f"SELECT id FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        missing = [f for f in face_ids if f not in known]
        if missing:
            raise CorrectionError(404, "not_found", f"There is no face {missing[0]}.")

    def _rejected(self, db, face_ids: list[int]) -> list[int]:
        rejected = {int(r[0]) for r in db.execute("SELECT face_id FROM rejected_faces")}
        return [f for f in face_ids if f in rejected]

    def _memberships(self, db, clustering: int, face_ids: list[int]) -> dict[int, int | None]:
        out = dict.fromkeys(face_ids)
        for i in range(0, len(face_ids), 500):
            chunk = face_ids[i : i + 500]
            rows = db.execute(
                f"SELECT face_id, cluster_id FROM memberships WHERE clustering_id = ? AND face_id IN ({','.join('?' * len(chunk))})",
                (clustering, *chunk),
            )
            out.update((int(f), int(p)) for f, p in rows)
        return out

    def _faces_of(self, db, clustering: int, people: list[int]) -> list[tuple[int, int]]:
        """(face id, person id) of every face of ``people``, by face id."""
        rows = db.execute(
            f"SELECT face_id, cluster_id FROM memberships WHERE clustering_id = ? AND cluster_id IN ({','.join('?' * len(people))}) "
            "ORDER BY face_id",
            (clustering, *people),
        )
        return [(int(f), int(p)) for f, p in rows]

    def _check_one_face_per_photo(self, db, face_ids: list[int]):
        """Two faces of one photo are two people: a person never holds both."""
        photos: dict[int, int] = {}
        for i in range(0, len(face_ids), 500):
            chunk = face_ids[i : i + 500]
            for face, photo in db.execute(f"SELECT id, photo_id FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                if photo in photos:
                    raise CorrectionError(
                        409,
                        "same_photo",
                        f"Faces {photos[photo]} and {face} are in the same photo, so they are two people; "
                        "move the wrong one to another person first.",
                    )
                photos[photo] = face

    def _snapshot(self, db, clustering: int, people: list[int], faces: list[int]) -> dict:
        """What undo restores: the clusters rows of ``people`` (None: had none) and the pins of
        ``faces`` (None: not pinned)."""
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

    def _pin(self, db, faces: list[tuple[int, object]], person: int, correction: int):
        """Pin faces to ``person``. ``faces``: (face id, where it came from). A face pinned before
        keeps its group; the others are grouped by where they came from in this correction, so
        `cluster` can let each group gather its own new faces before joining them (a person
        merged from two looks keeps finding photos of both)."""
        rows = []
        for face, origin in dict(faces).items():
            before = db.execute("SELECT grp FROM face_pins WHERE face_id = ?", (face,)).fetchone()
            rows.append((face, person, before[0] if before else f"{correction}/{origin}", correction))
        db.executemany("INSERT OR REPLACE INTO face_pins(face_id, person_id, grp, correction_id) VALUES (?, ?, ?, ?)", rows)

    def _restore(self, db, clustering: int, correction: int, payload: dict):
        """Undo a merge, move or reject from its payload."""
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

    def _recount(self, db, clustering: int, person: int):
        """Bring a person's clusters row up to date with its memberships: counts, a cover that
        is one of its faces (the one nearest their mean, clean ones first), no doubt flags (the
        organiser has looked at it). A person left without faces loses its row, not its id."""
        rows = db.execute(
            "SELECT f.id, f.photo_id, f.embedding, f.flags FROM memberships m JOIN faces f ON f.id = m.face_id "
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
            order = np.argsort(np.linalg.norm(X - X.mean(0), axis=1), kind="stable")
            clean = [i for i in order if not rows[i]["flags"]]
            cover = ids[(clean or list(order))[0]]
        quality = json.loads(old["quality"]) if old is not None else {}
        quality.update(flags=[], corrected=True)
        db.execute(
            "INSERT INTO clusters(clustering_id, cluster_id, face_count, photo_count, cover_face_id, quality) VALUES (?, ?, ?, ?, ?, ?)",
            (clustering, person, len(ids), len({int(r["photo_id"]) for r in rows}), int(cover), json.dumps(quality)),
        )
