"""The organiser's corrections of the people: names, hidden people, merges, moved faces, "not a
face", and undo.

Each correction is one transaction on the index: it changes the active clustering at once (the
People pages and search see it; searchers reload on ``people_version``), writes a row of the
corrections log with what undo needs to restore, and records the constraints `cluster` honours
later (face_pins, face_cannot_links, rejected_faces; the SQL is index/store/corrections.py's): faces put into a person are
pinned to it, faces moved apart are cannot-linked, rejected faces are left out. Names and hidden
flags belong to the person id, which `cluster` keeps (clustering.py's ``assign_person_ids``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from ..index.store import Correction, CorrectionsStore, FaceIndex, LoggedCorrection, PersonInfo

MAX_NAME_LENGTH = 100
LOG_LENGTH = 500  # the newest corrections `log` returns
FACE_KINDS = ("merge", "move", "reject", "apart")  # corrections of the clustering (not of a person's name or flag)


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
class UndoPlan:
    """A correction to undo and the later ones that depend on it (``also``, newest first)."""

    correction: Correction
    also: list[Correction]


def _touched(c: LoggedCorrection) -> tuple[set[int], set[int]]:
    """The people and faces a correction changed (its payload names them all: the people whose
    rows and the faces whose pins and memberships its undo restores)."""
    payload = c.payload
    if "person" in payload:  # rename, hide, unhide
        return {int(payload["person"])}, set()
    return {int(p) for p in payload.get("clusters", {})}, {int(f) for f in payload.get("pins", {})}


def _dependents(later: list[LoggedCorrection], touched) -> list[LoggedCorrection]:
    """``later[0]`` and every later correction not undone that touched a person or face that it or
    one of those touched, oldest first."""
    people, faces = (set(x) for x in touched[later[0].id])
    chain = [later[0]]
    for c in later[1:]:
        if c.undone:
            continue
        p, f = touched[c.id]
        if p & people or f & faces:
            chain.append(c)
            people |= p
            faces |= f
    return chain


def _summary(person: PersonInfo) -> PersonSummary:
    return PersonSummary(person.id, person.name, person.hidden, person.face_count, person.photo_count, person.cover_face_id, person.flags)


def _label(person_id: int, name: str | None) -> str:
    return f"Person {person_id} ({name})" if name else f"Person {person_id}"


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

    def __init__(self, index: FaceIndex, who: str = "cli"):
        self.index = index
        self.who = who  # recorded on each correction: "cli" or "organiser (web, <address>)"
        self.db = index.db
        self.recorded: list[dict] = []  # this editor's corrections, for the audit log (audit.record_corrections)
        self.store = CorrectionsStore(index)

    # -- reads ------------------------------------------------------------------------------
    def list(self, query: str | None = None) -> list[PersonSummary]:
        """The people of the active clustering, hidden ones included, most faces first; with
        ``query``, only those whose name holds it (case-insensitive)."""
        page = self.index.people_page(limit=-1, offset=0, include_hidden=True, query=query)
        return [_summary(p) for p in page.items]

    def get(self, person_id) -> PersonSummary:
        return self._get(_person_id(person_id))

    def log(self) -> list[Correction]:
        return self.store.log(LOG_LENGTH)

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
        with self.index.transaction():
            before = self._get(person_id)
            if before.name == name:
                return before
            self.store.set_name(person_id, name)
            text = f"Named Person {person_id} “{name}”" if name else f"Cleared the name of {_label(person_id, before.name)}"
            self._record("rename", text, {"person": person_id, "before": before.name})
            return self._get(person_id)

    def set_hidden(self, person_id, hidden: bool) -> PersonSummary:
        person_id = _person_id(person_id)
        if not isinstance(hidden, bool):
            raise CorrectionError(400, "bad_request", "hidden is true or false.")
        with self.index.transaction():
            before = self._get(person_id)
            if before.hidden == hidden:
                return before
            self.store.set_hidden(person_id, hidden)
            kind = "hide" if hidden else "unhide"
            text = f"{'Hid' if hidden else 'Showed again'} {_label(person_id, before.name)}"
            self._record(kind, text, {"person": person_id, "before": before.hidden})
            return self._get(person_id)

    # -- corrections of the clustering ------------------------------------------------------
    def merge(self, into, others) -> PersonSummary:
        """Merge ``others`` into ``into``: their faces become ``into``'s, pinned to it. ``into``
        keeps its name, or takes the name of the only one of them named."""
        into = _person_id(into)
        others = _ids(others, "people to merge")
        if into in others:
            raise CorrectionError(422, "merge_into_itself", f"Person {into} cannot be merged into itself.")
        with self.index.transaction():
            clustering = self._clustering()
            target = self._get(into)
            sources = [self._get(p) for p in others]
            faces = self.store.faces_of(clustering, [into, *others])
            self._check_one_face_per_photo([f for f, _ in faces])
            named = {s.name for s in sources if s.name}
            name = target.name or (named.pop() if len(named) == 1 else None)
            payload = self.store.snapshot(clustering, [into, *others], [f for f, _ in faces])
            payload.update(into=into, name_before=target.name, memberships=[[f, p] for f, p in faces if p != into])
            self.store.move_people(clustering, others, into)
            if name != target.name:
                self.store.set_name(into, name)
            correction = self._record(
                "merge", f"Merged {', '.join(_label(s.id, s.name) for s in sources)} into {_label(into, target.name)}", payload
            )
            self.store.pin(faces, into, correction)
            for person in [into, *others]:
                self.store.recount(clustering, person)
            return self._get(into)

    def move_faces(self, face_ids, to) -> PersonSummary:
        """Move faces into person ``to`` (None: a new person). They are pinned to it, with the
        faces it had, and cannot-linked to the faces left in the people they came from."""
        face_ids = _ids(face_ids, "faces to move")
        if to is not None:
            to = _person_id(to)
        with self.index.transaction():
            clustering = self._clustering()
            self._check_faces(face_ids)
            rejected = self._rejected(face_ids)
            if rejected:
                raise CorrectionError(409, "face_rejected", f"Face {rejected[0]} was marked as not a face; undo that first.")
            current = self.store.memberships(clustering, face_ids)
            if to is None:
                target_name = None
                to = self.store.new_person()
                target_faces = []
                new = True
            else:
                target_name = self._get(to).name
                target_faces = [f for f, _ in self.store.faces_of(clustering, [to])]
                new = False
            moved = [f for f in face_ids if current.get(f) != to]
            self._check_one_face_per_photo(list(dict.fromkeys([*target_faces, *face_ids])))
            sources = sorted({current[f] for f in moved if current.get(f) is not None})
            payload = self.store.snapshot(clustering, [to, *sources], [*target_faces, *face_ids])
            payload.update(to=to, memberships=[[f, current.get(f)] for f in moved])
            self.store.set_memberships(clustering, moved, to)
            whence = f" from {', '.join(f'Person {p}' for p in sources)}" if sources else ""
            count = f"{len(face_ids)} face{'s' if len(face_ids) != 1 else ''}"
            text = f"Moved {count}{whence} to {f'a new person, Person {to}' if new else _label(to, target_name)}"
            correction = self._record("move", text, payload)
            self.store.pin([*((f, to) for f in target_faces), *((f, "moved") for f in face_ids)], to, correction)
            left = [f for f, _ in self.store.faces_of(clustering, sources)] if sources else []
            pairs = {(min(a, b), max(a, b)) for a in face_ids for b in left}
            self.store.cannot_link(pairs, correction)
            for person in [to, *sources]:
                self.store.recount(clustering, person)
            return self._get(to)

    def keep_apart(self, person_a, person_b) -> int:
        """Two people are not one (the review queue's "no" to "same person?"): every face of one
        is cannot-linked to every face of the other, so `cluster` never joins them. Returns the
        pairs stored."""
        person_a, person_b = _person_id(person_a), _person_id(person_b)
        if person_a == person_b:
            raise CorrectionError(422, "same_person", f"Person {person_a} cannot be kept apart from itself.")
        with self.index.transaction():
            clustering = self._clustering()
            a, b = self._get(person_a), self._get(person_b)
            faces = self.store.faces_of(clustering, [person_a, person_b])
            left = [f for f, p in faces if p == person_a]
            right = [f for f, p in faces if p == person_b]
            pairs = {(min(x, y), max(x, y)) for x in left for y in right}
            # nothing but the cannot-links changes: undo (store.restore) deletes them by correction
            payload = {"clusters": {}, "centroids": {}, "pins": {}, "people": [person_a, person_b]}
            correction = self._record("apart", f"Kept {_label(a.id, a.name)} and {_label(b.id, b.name)} apart", payload)
            self.store.cannot_link(pairs, correction)
            return len(pairs)

    def reject_faces(self, face_ids) -> int:
        """ "Not a face": the faces leave their people and search, and `cluster` leaves them out.
        Returns how many were rejected (those rejected before are not counted)."""
        face_ids = _ids(face_ids, "faces to reject")
        with self.index.transaction():
            clustering = self._clustering()
            self._check_faces(face_ids)
            already = set(self._rejected(face_ids))
            new = [f for f in face_ids if f not in already]
            if not new:
                return 0
            current = self.store.memberships(clustering, new)
            people = sorted({p for p in current.values() if p is not None})
            payload = self.store.snapshot(clustering, people, new)
            payload.update(memberships=[[f, current[f]] for f in new if current.get(f) is not None])
            count = f"{len(new)} face{'s' if len(new) != 1 else ''}"
            whence = f" of {', '.join(f'Person {p}' for p in people)}" if people else ""
            correction = self._record("reject", f"Marked {count}{whence} as not a face", payload)
            self.store.reject(clustering, new, correction)
            for person in people:
                self.store.recount(clustering, person)
            return len(new)

    # -- undo ---------------------------------------------------------------------------------
    # A later correction not undone yet *depends on* an earlier one when it touched one of the
    # same people or faces (_touched); undoing a correction takes back, newest first, every later
    # one that depends on it or on one of those (each restores the state just before it, so the
    # order makes the result exact), and nothing else. Corrections of the clustering made before
    # the last `faceexplore cluster` are part of its result: they cannot be undone, nor can one
    # that such a correction depends on.
    def undo_plan(self, correction_id) -> UndoPlan:
        """What undoing ``correction_id`` would take back; nothing is changed."""
        correction_id = _person_id(correction_id)
        with self.index.transaction():
            return self._plan(correction_id)[0]

    def undo(self, correction_id=None) -> UndoPlan:
        """Undo ``correction_id`` (None: the newest correction not undone yet) and every later
        correction that depends on it, exactly, in one transaction. Returns what it took back."""
        with self.index.transaction():
            if correction_id is None:
                last = self.store.newest_not_undone()
                if last is None:
                    raise CorrectionError(409, "nothing_to_undo", "There is nothing to undo.")
                if not self._undoable(last):
                    raise CorrectionError(
                        409, "nothing_to_undo", "There is nothing to undo since the faces were clustered again (`faceexplore cluster`)."
                    )
                correction_id = last.id
            plan, chain = self._plan(_person_id(correction_id))
            clustering = self.store.active_clustering_id()
            for logged in reversed(chain):  # newest first
                payload = logged.payload
                if logged.kind == "rename":
                    self.store.set_name(payload["person"], payload["before"])
                elif logged.kind in ("hide", "unhide"):
                    self.store.set_hidden(payload["person"], bool(payload["before"]))
                else:
                    self.store.restore(clustering, logged.id, payload)
                self.store.mark_undone(logged.id, None if logged.id == plan.correction.id else plan.correction.id)
            undone = self.store.correction(plan.correction.id)
            also = [self.store.correction(c.id) for c in plan.also]
            text = f"Undid: {undone.description}" + "".join(f"; also: {c.description}" for c in also)
            self.recorded.append({"kind": "undo", "description": text})
            return UndoPlan(undone, also)

    def undoable(self, corrections: list[Correction]) -> dict[int, str | None]:
        """For each correction of ``corrections`` (the log): None when it can be undone, else why not."""
        if not corrections:
            return {}
        later = self.store.logged_since(min(c.id for c in corrections))
        touched = {c.id: _touched(c) for c in later}
        out = {}
        for c in corrections:
            start = next(i for i, x in enumerate(later) if x.id == c.id)
            out[c.id] = self._blocked(later[start:], touched)
        return out

    def _plan(self, correction_id: int) -> tuple[UndoPlan, list[LoggedCorrection]]:
        logged = self.store.logged(correction_id)
        if logged is None:
            raise CorrectionError(404, "not_found", f"There is no correction {correction_id}.")
        if logged.undone:
            raise CorrectionError(409, "already_undone", f"Correction {correction_id} was undone already.")
        later = self.store.logged_since(correction_id)
        touched = {c.id: _touched(c) for c in later}
        why = self._blocked(later, touched)
        if why is not None:
            raise CorrectionError(409, "not_undoable", why)
        chain = _dependents(later, touched)
        return UndoPlan(self.store.correction(correction_id), [self.store.correction(c.id) for c in reversed(chain[1:])]), chain

    def _undoable(self, c: LoggedCorrection) -> bool:
        return c.kind not in FACE_KINDS or c.clustering_id == self.store.active_clustering_id()

    def _blocked(self, later: list[LoggedCorrection], touched) -> str | None:
        """Why ``later[0]`` cannot be undone (None: it can); ``later``: it and the ones after it."""
        if later[0].undone:
            return "Undone already."
        for c in _dependents(later, touched):
            if not self._undoable(c):
                what = "It is" if c.id == later[0].id else f"Correction {c.id}, which depends on it, is"
                return f"{what} part of the people since the faces were clustered again (`faceexplore cluster`)."
        return None

    # -- helpers (all inside the caller's transaction) ---------------------------------------
    def _record(self, kind: str, description: str, payload: dict) -> int:
        correction = self.store.record(kind, description, payload, self.who)
        self.recorded.append({"kind": kind, "description": description})
        return correction

    def _clustering(self) -> int:
        clustering = self.store.active_clustering_id()
        if clustering is None:
            raise CorrectionError(409, "not_clustered", "The faces are not clustered yet: run `faceexplore cluster` first.")
        return clustering

    def _get(self, person_id: int) -> PersonSummary:
        person = self.store.person(person_id)
        if person is None:
            raise CorrectionError(404, "not_found", f"There is no Person {person_id}.")
        return _summary(person)

    def _check_faces(self, face_ids: list[int]):
        known = self.store.known_faces(face_ids)
        missing = [f for f in face_ids if f not in known]
        if missing:
            raise CorrectionError(404, "not_found", f"There is no face {missing[0]}.")

    def _rejected(self, face_ids: list[int]) -> list[int]:
        rejected = self.store.rejected_faces()
        return [f for f in face_ids if f in rejected]

    def _check_one_face_per_photo(self, face_ids: list[int]):
        """Two faces of one photo are two people: a person never holds both."""
        photos: dict[int, int] = {}
        for face, photo in self.store.photos_of_faces(face_ids):
            if photo in photos:
                raise CorrectionError(
                    409,
                    "same_photo",
                    f"Faces {photos[photo]} and {face} are in the same photo, so they are two people; "
                    "move the wrong one to another person first.",
                )
            photos[photo] = face
