"""The organiser's corrections (faceexplore/people/corrections.py) on the synthetic gallery of
tests/api_fixtures.py: every correction, every bad input, and undo of each kind."""

from __future__ import annotations

import pytest

from faceexplore.index.store import FaceIndex
from faceexplore.people.corrections import CorrectionError, PeopleEditor
from tests.api_fixtures import GALLERY, LATE, build_gallery


@pytest.fixture()
def gallery(tmp_path):
    return build_gallery(tmp_path)


@pytest.fixture()
def index(gallery):
    with FaceIndex(gallery.settings.index_path) as index:
        yield index


@pytest.fixture()
def editor(index):
    return PeopleEditor(index)


def faces_of(index, gallery, person: int) -> list[int]:
    """The face ids of synthetic person ``person`` (clustered photos only)."""
    out = []
    for path, people in GALLERY.items():
        faces = index.faces_with_people(gallery.photo_ids[path])
        out += [f.face.id for f, p in zip(faces, people) if p == person]
    return out


def person_of(index, gallery, person: int) -> int:
    members = index.active_memberships()
    [pid] = {members[f] for f in faces_of(index, gallery, person)}
    return pid


def state(index) -> tuple:
    """Everything a correction may change, to check that a failed or undone one left it as it was."""
    tables = ("people", "clusters", "memberships", "face_pins", "face_cannot_links", "rejected_faces")
    rows = tuple(sorted(tuple(r) for r in index.db.execute(f"SELECT * FROM {t}")) for t in tables)
    return rows


def test_existing_clusters_are_people_and_list_and_get_them(editor, index, gallery):
    people = editor.list()
    assert len(people) == 5 and [p.face_count for p in people] == sorted((p.face_count for p in people), reverse=True)
    ids = {person_of(index, gallery, k) for k in range(5)}
    assert {p.id for p in people} == ids
    assert all(p.name is None and not p.hidden for p in people)
    assert editor.get(people[0].id) == people[0]
    with pytest.raises(CorrectionError) as err:
        editor.get(999_999)
    assert (err.value.status, err.value.code) == (404, "not_found")


def test_rename_strips_clears_and_searches(editor, index, gallery):
    alice = person_of(index, gallery, 0)
    version = index.people_version()
    assert editor.rename(alice, "  Zoë Martin ").name == "Zoë Martin"
    assert index.people_version() != version  # searchers and pages reload
    assert [p.id for p in editor.list("ZOË")] == [alice] and editor.list("nobody") == []
    assert index.person(alice).name == "Zoë Martin"
    assert editor.rename(alice, "").name is None
    assert [c.kind for c in editor.log()] == ["rename", "rename"]


@pytest.mark.parametrize(
    "name, status, code",
    [("x" * 101, 400, "name_too_long"), ("two\nlines", 422, "bad_name"), (42, 400, "bad_name"), ("bell\x07", 422, "bad_name")],
)
def test_bad_names_change_nothing(editor, index, gallery, name, status, code):
    before = state(index)
    with pytest.raises(CorrectionError) as err:
        editor.rename(person_of(index, gallery, 0), name)
    assert (err.value.status, err.value.code) == (status, code)
    assert state(index) == before and editor.log() == []


def test_hide_and_unhide(editor, index, gallery):
    bob = person_of(index, gallery, 1)
    assert editor.set_hidden(bob, True).hidden
    assert index.person(bob) is None and index.person(bob, include_hidden=True).hidden
    assert bob not in {p.id for p in index.people_page(100, 0).items}
    assert bob in {p.id for p in index.people_page(100, 0, include_hidden=True).items}
    assert set(faces_of(index, gallery, 1)) <= index.search_excluded_faces()
    garden = index.faces_with_people(gallery.photo_ids["album/garden.jpg"])
    assert [(f.person_id, f.person_hidden) for f in garden] == [(bob, True)]
    assert not editor.set_hidden(bob, False).hidden
    assert [c.kind for c in editor.log()] == ["unhide", "hide"]
    with pytest.raises(CorrectionError) as err:
        editor.set_hidden(bob, "yes")
    assert err.value.status == 400


def test_merge_and_undo(editor, index, gallery):
    a, b, c = (person_of(index, gallery, k) for k in (1, 2, 4))  # 1 and 2 share no photo
    editor.rename(b, "Bea")
    before = state(index)
    sizes = {p.id: p.face_count for p in editor.list()}
    merged = editor.merge(a, [b])
    assert merged.face_count == sizes[a] + sizes[b] and merged.name == "Bea"  # the only name there was
    with pytest.raises(CorrectionError):
        editor.get(b)
    members = index.active_memberships()
    both = faces_of(index, gallery, 1) + faces_of(index, gallery, 2)
    assert all(members[f] == a for f in both)
    pins, _, _ = index.constraints()
    assert set(pins) == set(both) and {p for p, _ in pins.values()} == {a}
    # each person's faces are a group of their own: `cluster` lets each gather its new faces
    assert len({g for _, g in pins.values()}) == 2
    undone = editor.undo().correction
    assert undone.kind == "merge" and undone.undone
    assert state(index) == before
    assert editor.get(c).face_count == sizes[c]


def test_merge_bad_input_changes_nothing(editor, index, gallery):
    a, b = person_of(index, gallery, 0), person_of(index, gallery, 1)
    before = state(index)
    for into, others, status, code in [
        (a, [], 400, "empty_list"),
        (a, [a], 422, "merge_into_itself"),
        (a, [b, a], 422, "merge_into_itself"),
        (a, [999_999], 404, "not_found"),
        (999_999, [b], 404, "not_found"),
        (a, "1", 400, "bad_request"),
        (a, [True], 400, "bad_request"),
        # persons 0 and 1 are both in beach.jpg: two people by the photo
        (a, [b], 409, "same_photo"),
    ]:
        with pytest.raises(CorrectionError) as err:
            editor.merge(into, others)
        assert (err.value.status, err.value.code) == (status, code), (into, others)
    assert state(index) == before and editor.log() == []


def test_move_faces_of_several_photos_to_a_new_person_and_back(editor, index, gallery):
    carol = person_of(index, gallery, 2)
    faces = faces_of(index, gallery, 2)  # dinner.jpg and park.png
    before = state(index)
    new = editor.move_faces(faces[:1], None)
    assert new.id not in {person_of(index, gallery, k) for k in (0, 1, 3, 4)} and new.id != carol
    assert new.face_count == 1 and new.cover_face_id == faces[0]
    assert editor.get(carol).face_count == len(faces) - 1
    pins, pairs, _ = index.constraints()
    assert list(pins) == [faces[0]] and pins[faces[0]][0] == new.id
    assert set(pairs) == {(min(faces[0], f), max(faces[0], f)) for f in faces[1:]}
    # and the rest joins it: carol has no faces left, her row goes, her id stays in people
    moved = editor.move_faces(faces[1:], new.id)
    assert moved.face_count == len(faces)
    with pytest.raises(CorrectionError):
        editor.get(carol)
    assert index.db.execute("SELECT COUNT(*) FROM people WHERE id = ?", (carol,)).fetchone()[0] == 1
    editor.undo()
    editor.undo()
    assert state(index)[1:] == before[1:]  # people keeps the new id: ids are never reused
    assert [c.undone for c in editor.log()] == [True, True]


def test_move_bad_input_changes_nothing(editor, index, gallery):
    dinner = [f.face.id for f in index.faces_with_people(gallery.photo_ids["album/dinner.jpg"])]
    alice = person_of(index, gallery, 0)
    before = state(index)
    for faces, to, status, code in [
        ([], None, 400, "empty_list"),
        ([999_999], None, 404, "not_found"),
        ([dinner[1]], 999_999, 404, "not_found"),
        (dinner[:2], None, 409, "same_photo"),  # two faces of one photo into one person
        ([dinner[1]], alice, 409, "same_photo"),  # alice is in dinner.jpg already
    ]:
        with pytest.raises(CorrectionError) as err:
            editor.move_faces(faces, to)
        assert (err.value.status, err.value.code) == (status, code), (faces, to)
    assert state(index) == before and editor.log() == []


def test_an_unclustered_face_can_be_moved(editor, index, gallery):
    [late] = index.faces_with_people(gallery.photo_ids[LATE])
    carol = person_of(index, gallery, 2)
    assert editor.move_faces([late.face.id], carol).face_count == len(faces_of(index, gallery, 2)) + 1
    editor.undo()
    assert index.faces_with_people(gallery.photo_ids[LATE])[0].person_id is None


def test_reject_and_undo(editor, index, gallery):
    dave = person_of(index, gallery, 3)
    faces = faces_of(index, gallery, 3)
    before = state(index)
    assert editor.reject_faces(faces[:1]) == 1
    assert editor.reject_faces(faces[:1]) == 0  # already rejected
    assert faces[0] not in index.active_memberships()
    assert editor.get(dave).face_count == len(faces) - 1
    assert index.constraints()[2] == {faces[0]} and faces[0] in index.search_excluded_faces()
    with pytest.raises(CorrectionError) as err:
        editor.move_faces(faces[:1], dave)
    assert (err.value.status, err.value.code) == (409, "face_rejected")
    assert editor.undo().correction.kind == "reject"
    assert state(index) == before
    for bad, status in (([], 400), ([999_999], 404)):
        with pytest.raises(CorrectionError) as err:
            editor.reject_faces(bad)
        assert err.value.status == status


def test_undo_of_names_and_flags_and_nothing_left(editor, index, gallery):
    alice = person_of(index, gallery, 0)
    with pytest.raises(CorrectionError) as err:
        editor.undo()
    assert (err.value.status, err.value.code) == (409, "nothing_to_undo")
    editor.rename(alice, "Alice")
    editor.rename(alice, "Alicia")
    editor.set_hidden(alice, True)
    assert editor.undo().correction.kind == "hide" and not editor.get(alice).hidden
    assert editor.undo().correction.kind == "rename" and editor.get(alice).name == "Alice"
    assert editor.undo().correction.kind == "rename" and editor.get(alice).name is None
    with pytest.raises(CorrectionError) as err:
        editor.undo()
    assert err.value.code == "nothing_to_undo"
    log = editor.log()
    assert len(log) == 3 and all(c.undone for c in log) and log[0].at >= log[-1].at


def test_a_migrated_index_gets_people_for_its_clusters(tmp_path):
    """An index written before the people tables existed: opening it for writing adds them, with
    a person for each cluster id, and new ids continue above them."""
    gallery = build_gallery(tmp_path)
    with FaceIndex(gallery.settings.index_path) as index:
        clusters = {c.id for c in index.active_clusters()}
        for table in ("people", "corrections", "face_pins", "face_cannot_links", "rejected_faces"):
            index.db.execute(f"DROP TABLE {table}")
        index.set_meta("schema_version", 1)
    with FaceIndex(gallery.settings.index_path, readonly=True) as old:
        assert not old.has_people_tables() and {p.id for p in old.people_page(100, 0).items} == clusters
        assert old.people_page(100, 0, query="x").total == 0 and old.search_excluded_faces() == set()
    with FaceIndex(gallery.settings.index_path) as index:
        assert {int(r[0]) for r in index.db.execute("SELECT id FROM people")} == clusters
        editor = PeopleEditor(index)
        late = index.faces_with_people(gallery.photo_ids[LATE])[0].face.id
        assert editor.move_faces([late], None).id > max(clusters)


def test_search_treats_a_hidden_person_as_absent_and_drops_rejected_faces(gallery, editor, index):
    """One searcher across the corrections: it reloads when people_version changes."""
    from faceexplore.search.service import SearchService
    from tests.api_fixtures import STRANGER, FakePipeline, sample_photo

    service = SearchService(gallery.settings, pipeline=FakePipeline(gallery.centres), index=index)

    def search(person: int) -> dict:
        return service.search([(f"{person}.png", sample_photo([person]), None)]).to_dict()

    absent = search(STRANGER)
    assert not absent["found"] and absent["photos"] == []
    bob = person_of(index, gallery, 1)
    found = search(1)
    assert found["found"] and {p["path"] for p in found["photos"]} == gallery.photos_of(1)
    editor.set_hidden(bob, True)
    hidden = search(1)
    assert not hidden["found"] and hidden["photos"] == [] and hidden["person_id"] is None
    assert hidden["message"] == absent["message"]
    editor.undo()
    assert search(1)["found"]
    # a rejected face leaves the results; the person's other photos are still found
    dave_faces = faces_of(index, gallery, 3)
    rejected_photo = index.face_info(dave_faces[0]).photo_id
    editor.reject_faces(dave_faces[:1])
    paths = {p["path"] for p in search(3)["photos"]}
    assert paths == gallery.photos_of(3) - {index.photo_info(rejected_photo).path}


def test_undo_of_an_earlier_correction_takes_back_exactly_the_later_ones_that_depend_on_it(editor, index, gallery):
    alice, bob, carol, dave = (person_of(index, gallery, k) for k in (1, 2, 3, 4))  # 1 and 2 share no photo
    before = state(index)
    merge = editor.merge(alice, [bob])  # 1: alice and bob
    editor.rename(carol, "Carol")  # 2: carol only: independent of 1
    editor.rename(alice, "Alice")  # 3: alice: depends on 1
    editor.set_hidden(dave, True)  # 4: independent
    bob_faces = faces_of(index, gallery, 2)
    editor.move_faces(bob_faces[:1], None)  # 5: bob's face, now alice's: depends on 1 (and 3 through alice)
    log = editor.log()
    ids = [c.id for c in reversed(log)]  # oldest first
    assert merge.id == alice and editor.undoable(log) == dict.fromkeys(ids)
    plan = editor.undo_plan(ids[0])
    assert plan.correction.id == ids[0] and [c.id for c in plan.also] == [ids[4], ids[2]]  # newest first
    assert editor.log() == log  # a plan changes nothing

    undone = editor.undo(ids[0])
    assert [c.id for c in undone.also] == [ids[4], ids[2]] and undone.correction.undone
    log = {c.id: c for c in editor.log()}
    assert [log[i].undone for i in ids] == [True, False, True, False, True]
    assert [log[i].undone_with for i in ids] == [None, None, ids[0], None, ids[0]]
    # what is left is exactly the independent corrections, on the state before all five
    assert editor.get(carol).name == "Carol" and editor.get(dave).hidden
    assert editor.get(alice).name is None and editor.get(bob).face_count == len(bob_faces)
    editor.undo(ids[3])
    editor.undo(ids[1])
    assert state(index)[1:] == before[1:]
    with pytest.raises(CorrectionError) as err:
        editor.undo(ids[0])
    assert (err.value.status, err.value.code) == (409, "already_undone")
    with pytest.raises(CorrectionError) as err:
        editor.undo_plan(999_999)
    assert (err.value.status, err.value.code) == (404, "not_found")


def test_corrections_record_who_made_them(index, gallery):
    alice = person_of(index, gallery, 0)
    PeopleEditor(index, who="organiser (web, 10.0.0.7)").rename(alice, "Alice")
    PeopleEditor(index).rename(alice, "Alicia")
    assert [c.who for c in PeopleEditor(index).log()] == ["cli", "organiser (web, 10.0.0.7)"]


def test_face_corrections_made_before_clustering_again_cannot_be_undone_nor_what_they_depend_on(editor, index, gallery):
    alice, bob = person_of(index, gallery, 1), person_of(index, gallery, 2)
    editor.rename(alice, "Alice")
    editor.merge(alice, [bob])
    with index.transaction():
        index.db.execute("UPDATE corrections SET clustering_id = -1")  # as if clustered again since
    rename, merge = reversed(editor.log())
    assert editor.undoable([merge, rename]) == {
        merge.id: "It is part of the people since the faces were clustered again (`faceexplore cluster`).",
        rename.id: f"Correction {merge.id}, which depends on it, is part of the people since the faces were clustered again "
        "(`faceexplore cluster`).",
    }
    with pytest.raises(CorrectionError) as err:
        editor.undo(rename.id)
    assert (err.value.status, err.value.code) == (409, "not_undoable")
