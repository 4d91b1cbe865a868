"""Corrections survive `cluster`: on synthetic embeddings the organiser names two people, merges
a person the clustering split, splits two people it merged and hides a third; new photos of them
and of strangers come in and the gallery is clustered again. Every name, merge, split and hidden
flag must still be right, and every corrected person keep its id."""

from __future__ import annotations

import numpy as np
import pytest

from faceexplore.index.store import FaceIndex, FaceRecord, PhotoRecord
from faceexplore.people.clustering import cluster_index
from faceexplore.people.constraints import ClusterConstraints, assign_person_ids
from faceexplore.people.corrections import PeopleEditor

DIM = 128
SPREAD = 0.22  # a face's distance from its person's direction, as in faceexplore.faces.synthetic
BACKGROUND = 40  # people nobody corrects, so the gallery has a threshold to learn


def centres(seed: int = 3) -> dict[str, np.ndarray]:
    """Everyone's direction, in one cone. S1 and S2 are one person with two looks, far apart
    (the clustering splits her); M1 and M2 two look-alikes (it merges them)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=DIM)
    base /= np.linalg.norm(base)
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    out = {f"bg{k}": unit(base + rng.normal(scale=0.42 / np.sqrt(DIM), size=DIM)) for k in range(BACKGROUND)}
    for name in ("A", "B", "C", "S1", "S2", "M1", *(f"new{k}" for k in range(10))):
        out[name] = unit(base + rng.normal(scale=0.42 / np.sqrt(DIM), size=DIM))
    out["M2"] = unit(out["M1"] + rng.normal(scale=0.16 / np.sqrt(DIM), size=DIM))
    return out


def add_faces(index, people: dict[str, np.ndarray], who: list[tuple[str, int]], rng, tag: str) -> dict[str, list[int]]:
    """``who``: (person, faces); one photo per face. Returns person -> new face ids."""
    items, owners = [], []
    for name, count in who:
        for k in range(count):
            v = people[name] + rng.normal(scale=SPREAD / np.sqrt(DIM), size=DIM)
            face = FaceRecord((0, 0, 10, 10), [(0, 0)] * 5, 0.99, [], (v / np.linalg.norm(v)).astype(np.float32))
            items.append((PhotoRecord(f"{tag}/{name}-{k}.jpg", 1, 1, 100, 100), [face]))
            owners.append(name)
    before = set(index.embeddings()[0].tolist())
    index.add_photos(items, "synthetic")
    new = [f for f in index.embeddings()[0].tolist() if f not in before]
    out: dict[str, list[int]] = {}
    for face, name in zip(new, owners):  # faces are numbered in the order they were added
        out.setdefault(name, []).append(face)
    return out


def person_of(index, faces: list[int]) -> set[int]:
    members = index.active_memberships()
    return {members.get(f) for f in faces}


@pytest.fixture()
def index(tmp_path):
    with FaceIndex(tmp_path / "index.sqlite3") as index:
        index.check_model("synthetic", DIM)
        yield index


def test_corrections_survive_new_photos_and_a_new_clustering(index):
    people = centres()
    rng = np.random.default_rng(5)
    first = add_faces(
        index, people, [*((f"bg{k}", 4) for k in range(BACKGROUND)), *((n, 6) for n in ("A", "B", "C", "S1", "S2", "M1", "M2"))], rng, "old"
    )
    cluster_index(index)
    # the errors to correct are there
    [s1], [s2] = person_of(index, first["S1"]), person_of(index, first["S2"])
    assert s1 != s2, "the clustering should split S"
    assert person_of(index, first["M1"]) == person_of(index, first["M2"]), "the clustering should merge M1 and M2"
    [a], [b], [c], [m] = (person_of(index, first[n]) for n in ("A", "B", "C", "M1"))

    editor = PeopleEditor(index)
    editor.rename(a, "Ann")
    editor.rename(b, "Ben")
    editor.set_hidden(c, True)
    editor.merge(s1, [s2])
    mia = editor.move_faces(first["M2"], None).id
    editor.rename(mia, "Mia")
    editor.reject_faces(first["B"][:1])  # "not a face": it stays out
    ids_before = {p.id for p in editor.list()}

    later = add_faces(
        index, people, [*((n, 3) for n in ("A", "B", "C", "S1", "S2", "M1", "M2")), *((f"new{k}", 2) for k in range(10))], rng, "new"
    )
    cluster_index(index)

    every = {n: first.get(n, []) + later.get(n, []) for n in people}
    assert person_of(index, every["A"]) == {a} and editor.get(a).name == "Ann"
    assert person_of(index, every["B"][1:]) == {b} and editor.get(b).name == "Ben"
    assert person_of(index, every["B"][:1]) == {None}
    assert person_of(index, every["C"]) == {c} and editor.get(c).hidden
    assert person_of(index, every["S1"] + every["S2"]) == {s1}  # merged, new looks of both included
    assert person_of(index, every["M1"]) == {m} and person_of(index, every["M2"]) == {mia} and editor.get(mia).name == "Mia"
    # the strangers are new people: no one's name, no id seen before
    strangers = set().union(*(person_of(index, later[f"new{k}"]) for k in range(10)))
    assert not strangers & ids_before and all(editor.get(p).name is None for p in strangers)
    # the people nobody corrected keep their ids too
    assert all(len(person_of(index, every[f"bg{k}"])) == 1 for k in range(BACKGROUND))
    assert {p for k in range(BACKGROUND) for p in person_of(index, every[f"bg{k}"])} <= ids_before


def test_a_person_whose_photos_left_gets_name_and_flag_back_when_they_return(index):
    people = centres()
    rng = np.random.default_rng(6)
    first = add_faces(index, people, [*((f"bg{k}", 4) for k in range(BACKGROUND)), ("A", 6), ("C", 6)], rng, "old")
    cluster_index(index)
    [a], [c] = person_of(index, first["A"]), person_of(index, first["C"])
    editor = PeopleEditor(index)
    editor.rename(a, "Ann")
    editor.set_hidden(c, True)
    index.remove_photos([f"old/{n}-{k}.jpg" for n in ("A", "C") for k in range(6)])
    cluster_index(index)
    assert a not in {p.id for p in editor.list()} and c not in {p.id for p in editor.list()}  # empty: not listed
    back = add_faces(index, people, [("A", 5), ("C", 5)], rng, "back")
    cluster_index(index)
    assert person_of(index, back["A"]) == {a} and editor.get(a).name == "Ann"
    assert person_of(index, back["C"]) == {c} and editor.get(c).hidden


def test_pins_and_cannot_links_are_enforced_and_ids_matched():
    face_ids = np.array([10, 11, 12, 13, 14, 15])
    constraints = ClusterConstraints.from_ids(face_ids, {10: (7, "x"), 11: (7, "x"), 13: (8, "y")}, [(12, 10)])
    labels = constraints.enforce(np.arange(6), np.array([0, 0, 0, 0, 1, 1]))
    assert labels[0] == labels[1] != labels[3]  # pinned together; two people's pins apart
    assert labels[2] != labels[0]  # cannot-linked to a pinned face: it leaves
    mapping = assign_person_ids(labels, face_ids, {10: 7, 11: 7, 12: 7, 13: 7, 14: 9, 15: 9}, constraints)
    assert mapping[labels[0]] == 7 and mapping[labels[3]] == 8 and mapping[labels[4]] == 9 and mapping[labels[2]] < 0


def test_the_report_names_people_and_puts_the_doubted_clusters_first(index):
    from faceexplore.people.report import cluster_report, format_report

    people = centres()
    rng = np.random.default_rng(5)
    first = add_faces(
        index, people, [*((f"bg{k}", 4) for k in range(BACKGROUND)), *((n, 6) for n in ("A", "B", "C", "S1", "S2", "M1", "M2"))], rng, "old"
    )
    cluster_index(index, threshold=0.6)  # too high: people merged, and the report doubts them
    editor = PeopleEditor(index)
    a, c = person_of(index, first["A"]).pop(), person_of(index, first["C"]).pop()
    editor.rename(a, "Ann")
    editor.set_hidden(c, True)
    report = cluster_report(index)
    clusters = report["clusters"]
    flagged = [x for x in clusters if x["flags"]]
    assert len({x["doubt"] for x in flagged}) > 1, "the threshold should merge people into clusters of several purities"
    assert clusters[: len(flagged)] == flagged  # doubted first
    assert [x["doubt"] for x in flagged] == sorted((x["doubt"] for x in flagged), reverse=True)
    assert all(x["doubt"] > 0 for x in flagged) and all(x["doubt"] == 0 for x in clusters[len(flagged) :])
    # the organiser's people list carries the same flags
    assert {p.id: p.flags for p in editor.list()} == {x["id"]: x["flags"] for x in clusters}
    text = format_report(report)
    assert "look at these first" in text and "Ann" in text and "(hidden)" in text
    assert report["summary"]["named"] == 1 and report["summary"]["hidden"] == 1
    # a correction of a doubted person clears the doubt: the organiser has looked at it
    worst = flagged[0]["id"]
    face = next(f for f, p in index.active_memberships().items() if p == worst)
    editor.move_faces([face], None)
    after = {x["id"]: x for x in cluster_report(index)["clusters"]}
    assert after[worst]["flags"] == [] and after[worst]["corrected"] and after[worst]["doubt"] == 0


@pytest.mark.parametrize("dense_limit", [10_000, 60])
def test_the_linkage_honours_pins_and_cannot_links_on_both_paths(dense_limit):
    """The full distance matrix, and the k-NN graph path (components clustered apart) where
    the constraints are enforced after the linkage."""
    from faceexplore.faces.synthetic import synthetic_people
    from faceexplore.people.clustering import FaceClusterer

    X, truth = synthetic_people(n_people=60, per_person=(4, 6), seed=9)
    first, second, third = (np.flatnonzero(truth == k) for k in range(3))
    pins = {int(f): (500, "a") for f in first} | {int(f): (500, "b") for f in second}
    pairs = [(int(third[0]), int(f)) for f in third[1:]]  # the organiser split one face off
    constraints = ClusterConstraints.from_ids(np.arange(len(X)), pins, pairs)
    labels = FaceClusterer(dense_limit=dense_limit).fit(X, None, constraints).labels_
    assert len(set(labels[np.r_[first, second]])) == 1  # two people the organiser merged
    assert labels[third[0]] not in set(labels[third[1:]])
    assert not set(labels[np.r_[first, second]]) & set(labels[truth > 2])  # no one else joined them


def test_a_correction_during_a_clustering_is_not_lost(index, monkeypatch, tmp_path):
    """The organiser moves a face while `cluster` computes from the state before: the save is
    refused (people_version changed) and the clustering computed again, with the move."""
    from faceexplore.people.clustering import FaceClusterer

    people = centres()
    first = add_faces(index, people, [*((f"bg{k}", 4) for k in range(10)), ("A", 5)], np.random.default_rng(7), "old")
    cluster_index(index)
    calls = []
    fit = FaceClusterer.fit

    def fit_while_the_organiser_works(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            with FaceIndex(index.path) as other:  # the web app's connection
                PeopleEditor(other).move_faces(first["A"][:1], None)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(FaceClusterer, "fit", fit_while_the_organiser_works)
    details = cluster_index(index)
    assert len(calls) == 2 and details["organiser"]["pinned_faces"] == 1
    assert person_of(index, first["A"][:1]).isdisjoint(person_of(index, first["A"][1:]))


def test_a_group_in_a_strangers_cluster_does_not_bring_it_along():
    """A person's second group fell into a cluster of strangers: only its pinned face joins the
    person; a cluster a group makes with a few new faces joins whole."""
    pins = {0: (7, "a"), 1: (7, "a"), 2: (7, "a"), 3: (7, "b"), 10: (7, "c"), 11: (7, "c")}
    constraints = ClusterConstraints.from_ids(np.arange(13), pins, [])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2])  # 3: pinned, among 6 strangers; 12: new
    out = constraints.enforce(np.arange(13), labels)
    person = out[0]
    assert set(out[[0, 1, 2, 3, 10, 11, 12]]) == {person}
    assert len(set(out[4:10])) == 1 and out[4] != person
