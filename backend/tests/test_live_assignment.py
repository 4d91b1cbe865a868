"""The live gallery's assignment (faceexplore/live/assignment.py) and its drift rule
(faceexplore/live/drift.py), on synthetic embeddings in a real index: new faces join the person
the active clustering's own rule gives them, or start new people, at once and visibly to search."""

from __future__ import annotations

import numpy as np
import pytest

from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.live import drift as drift_rule
from faceexplore.live.assignment import assign_new_faces
from faceexplore.live.drift import drift
from faceexplore.people.clustering import cluster_index
from faceexplore.people.corrections import PeopleEditor
from faceexplore.search.searcher import GallerySearcher

DIM = 128
SPREAD = 0.22  # a face's distance from its person's direction, as in faceexplore.faces.synthetic
PEOPLE = 30


def centres(n: int, seed: int = 3) -> np.ndarray:
    """People's directions in one cone, as faceexplore.faces.synthetic makes them."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=DIM)
    base /= np.linalg.norm(base)
    out = base + rng.normal(scale=0.42 / np.sqrt(DIM), size=(n, DIM))
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def face(centre: np.ndarray, rng) -> FaceRecord:
    v = centre + rng.normal(scale=SPREAD / np.sqrt(DIM), size=DIM)
    return FaceRecord((0, 0, 10, 10), [(0, 0)] * 5, 0.99, [], (v / np.linalg.norm(v)).astype(np.float32))


def add_photos(index, photos: list[list[np.ndarray]], rng, tag: str) -> list[list[int]]:
    """``photos``: per photo, the centres of the people in it. Returns each photo's face ids."""
    before = set(index.face_ids())
    items = [(PhotoRecord(f"{tag}/{k}.jpg", 1, 1, 100, 100), [face(c, rng) for c in who]) for k, who in enumerate(photos)]
    index.add_photos(items, "synthetic")
    new = sorted(set(index.face_ids()) - before)  # faces are numbered in the order they were added
    out, at = [], 0
    for who in photos:
        out.append(new[at : at + len(who)])
        at += len(who)
    return out


@pytest.fixture()
def people():
    return centres(PEOPLE + 10)


@pytest.fixture()
def index(tmp_path, people):
    """A clustered gallery of PEOPLE people, 5 single-face photos each; people PEOPLE.. unseen."""
    with FaceIndex(tmp_path / "index.sqlite3") as index:
        index.check_model("synthetic", DIM)
        rng = np.random.default_rng(0)
        faces = add_photos(index, [[people[p]] for p in range(PEOPLE) for _ in range(5)], rng, "old")
        cluster_index(index, progress=lambda *a: None)
        index.first_faces = [f for (f,) in faces]
        yield index


def person_of(index, face_id: int) -> int | None:
    return index.active_memberships().get(face_id)


def test_new_faces_join_their_person_and_strangers_start_new_people(index, people):
    members = index.active_memberships()
    known = {p: members[index.first_faces[5 * p]] for p in range(PEOPLE)}
    assert len(set(known.values())) == PEOPLE, "the synthetic gallery should cluster cleanly"
    rng = np.random.default_rng(1)
    [[a], [b], [s1], [s2]] = add_photos(index, [[people[0]], [people[7]], [people[PEOPLE]], [people[PEOPLE + 1]]], rng, "new")
    before_people = index.counts()["people"]
    summary = assign_new_faces(index)
    assert (summary.assigned, summary.new_people, summary.faces_left) == (4, 2, 0)
    assert person_of(index, a) == known[0] and person_of(index, b) == known[7]
    stranger_ids = {person_of(index, s1), person_of(index, s2)}
    assert len(stranger_ids) == 2 and not stranger_ids & set(known.values())
    assert index.counts()["people"] == before_people + 2
    row = index.person(known[0])
    assert (row.face_count, row.photo_count) == (6, 6)
    # a stranger's second photo joins the person its first started
    [[s1b]] = add_photos(index, [[people[PEOPLE]]], rng, "later")
    assert assign_new_faces(index).new_people == 0
    assert person_of(index, s1b) == person_of(index, s1)
    assert assign_new_faces(index).assigned == 0, "every face is placed: nothing left to assign"


def test_new_person_ids_are_fresh_and_never_reused(index, people):
    rng = np.random.default_rng(2)
    [[s]] = add_photos(index, [[people[PEOPLE]]], rng, "a")
    assign_new_faces(index)
    first = person_of(index, s)
    assert first > max(index.active_memberships()[f] for f in index.first_faces)
    # the person goes (its photo is removed and the gallery re-clustered); a new stranger comes
    index.remove_photos(["a/0.jpg"])
    cluster_index(index, progress=lambda *a: None)
    [[t]] = add_photos(index, [[people[PEOPLE + 2]]], rng, "b")
    assign_new_faces(index)
    assert person_of(index, t) > first


def test_two_faces_of_one_new_photo_never_join_one_person(index, people):
    rng = np.random.default_rng(3)
    # two near-copies of person 3 in one photo (a mirror, a poster) and two strangers' twins
    [[a, b, c, d]] = add_photos(index, [[people[3], people[3], people[PEOPLE], people[PEOPLE]]], rng, "twins")
    summary = assign_new_faces(index)
    assert summary.assigned == 4
    persons = [person_of(index, f) for f in (a, b, c, d)]
    assert len(set(persons)) == 4
    assert index.active_memberships()[index.first_faces[15]] in persons[:2]


def test_rejected_faces_are_not_assigned(index, people):
    rng = np.random.default_rng(4)
    [[a], [b]] = add_photos(index, [[people[1]], [people[2]]], rng, "new")
    # the organiser says "not a face" before the watcher got to it
    assert PeopleEditor(index).reject_faces([b]) == 1
    summary = assign_new_faces(index)
    assert (summary.assigned, summary.faces_left) == (1, 0)
    assert person_of(index, a) is not None and person_of(index, b) is None


def test_search_sees_a_new_face_at_once_and_a_hidden_person_stays_hidden(index, people):
    searcher = GallerySearcher(index)
    members = index.active_memberships()
    hidden = members[index.first_faces[5 * 4]]
    PeopleEditor(index).set_hidden(hidden, True)
    rng = np.random.default_rng(5)
    [[seen], [unseen]] = add_photos(index, [[people[6]], [people[4]]], rng, "new")
    searcher.refresh()  # the photos are indexed: searchable, each face its own cluster
    people_version = index.people_version()
    assign_new_faces(index)
    assert index.people_version() == people_version, "a background `cluster` would refuse to save"
    state = searcher.refresh()
    labels = dict(zip(state.face_ids.tolist(), state.labels.tolist()))
    assert labels[seen] == members[index.first_faces[5 * 6]], "the searcher holds the new membership"
    assert person_of(index, unseen) == hidden
    assert unseen not in labels, "a new face of a hidden person is kept out of search"


def test_a_face_indexed_during_a_reclustering_is_assigned_after_the_swap(index, people, monkeypatch):
    import faceexplore.people.clustering as clustering

    rng = np.random.default_rng(6)
    late: list[int] = []
    real_save = FaceIndex.save_clustering

    def save_after_a_photo_came_in(self, *args, **kwargs):
        # the watcher indexes (and assigns) a photo while `cluster` computes from its snapshot
        [[f]] = add_photos(self, [[people[9]]], rng, "late")
        assign_new_faces(self)
        late.append(f)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(FaceIndex, "save_clustering", save_after_a_photo_came_in)
    [[early]] = add_photos(index, [[people[8]]], rng, "early")
    clustering.cluster_index(index, progress=lambda *a: None)
    monkeypatch.undo()
    members = index.active_memberships()
    assert early in members and late[0] not in members
    summary = assign_new_faces(index)
    assert (summary.assigned, summary.faces_left) == (1, 0)
    assert person_of(index, late[0]) == members[index.first_faces[5 * 9]]
    assert assign_new_faces(index).assigned == 0


def test_a_full_clustering_afterwards_keeps_the_ids(index, people):
    rng = np.random.default_rng(7)
    new = add_photos(index, [[people[p]] for p in (0, 1, 2)] + [[people[PEOPLE + 3]], [people[PEOPLE + 3]]], rng, "new")
    assign_new_faces(index)
    before = index.active_memberships()
    editor = PeopleEditor(index)
    editor.rename(before[new[3][0]], "Newcomer")
    cluster_index(index, progress=lambda *a: None)
    after = index.active_memberships()
    assert after == before
    assert index.person(after[new[3][0]]).name == "Newcomer"


def test_drift_asks_for_a_reclustering_when_many_faces_were_placed_live(index, people):
    fresh = drift(index, refit=True)
    assert not fresh.should_recluster, fresh.reason
    assert fresh.live_share == 0 and fresh.threshold_shift == 0, "the refit is `cluster`'s own fit: same faces, same threshold"
    rng = np.random.default_rng(8)
    clustered = fresh.clustered_faces
    # known people's new photos, just under the live share's limit: no new people, no re-clustering
    below = int(np.ceil(drift_rule.LIVE_SHARE_LIMIT * clustered / (1 - drift_rule.LIVE_SHARE_LIMIT))) - 1
    add_photos(index, [[people[k % PEOPLE]] for k in range(below)], rng, "a")
    assign_new_faces(index)
    report = drift(index)
    assert (report.live_faces, report.live_new_people) == (below, 0)
    assert not report.should_recluster, report.reason
    add_photos(index, [[people[0]], [people[1]]], rng, "b")
    assign_new_faces(index)
    report = drift(index)
    assert report.should_recluster and "placed live" in report.reason
    # a full clustering starts the count again
    cluster_index(index, progress=lambda *a: None)
    report = drift(index)
    assert (report.live_faces, report.should_recluster) == (0, False)


def test_drift_counts_new_people_but_decides_by_the_live_share(index, people):
    rng = np.random.default_rng(9)
    strangers = 8  # a quarter more people than the clustering found, well under the live share's limit
    add_photos(index, [[people[PEOPLE + k]] for k in range(strangers)], rng, "a")
    assert assign_new_faces(index).new_people == strangers
    report = drift(index)
    assert report.live_new_people == strangers and report.new_people_share == pytest.approx(strangers / PEOPLE)
    assert report.live_share < drift_rule.LIVE_SHARE_LIMIT and not report.should_recluster


def test_drift_without_a_clustering(tmp_path, people):
    with FaceIndex(tmp_path / "index.sqlite3") as index:
        index.check_model("synthetic", DIM)
        assert not drift(index).should_recluster
        add_photos(index, [[people[0]], [people[1]]], np.random.default_rng(10), "a")
        summary = assign_new_faces(index)
        assert (summary.assigned, summary.faces_left) == (0, 2)
        assert drift(index).should_recluster


def test_undoing_a_correction_counts_the_faces_placed_live_since(index, people):
    members = index.active_memberships()
    a, b = members[index.first_faces[0]], members[index.first_faces[5]]
    editor = PeopleEditor(index)
    editor.move_faces([index.first_faces[1]], b)
    assert index.person(a).face_count == 4
    [[new]] = add_photos(index, [[people[0]]], np.random.default_rng(11), "new")
    assign_new_faces(index)
    assert person_of(index, new) == a and index.person(a).face_count == 5
    editor.undo()
    assert (index.person(a).face_count, index.person(b).face_count) == (6, 5)


def test_the_background_reclustering_keeps_an_expert_threshold(tmp_path, people):
    """The watcher's re-clustering (live/service.py recluster) keeps the organiser's
    `cluster --threshold`; without one it derives the threshold from the data again."""
    from faceexplore.live.service import recluster

    path = tmp_path / "index.sqlite3"
    with FaceIndex(path) as index:
        index.check_model("synthetic", DIM)
        add_photos(index, [[people[p]] for p in range(PEOPLE) for _ in range(5)], np.random.default_rng(0), "old")
        cluster_index(index, progress=lambda *a: None)
        derived = index.active_clustering()["threshold"]
        cluster_index(index, threshold=0.123, progress=lambda *a: None)
    recluster(str(path))
    with FaceIndex(path) as index:
        active = index.active_clustering()
        assert (active["threshold"], active["method"]) == (0.123, "expert override")
        cluster_index(index, progress=lambda *a: None)
    recluster(str(path))
    with FaceIndex(path) as index:
        assert index.active_clustering()["threshold"] == pytest.approx(derived)
