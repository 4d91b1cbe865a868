"""FaceIndex's typed read methods (what the web API, search, report and evaluation read through),
over the synthetic gallery of tests/api_fixtures.py: fast, no models, no shared data."""

from __future__ import annotations

import pytest

from faceexplore.index.store import MAX_ID, FaceIndex, PersonInfo, PhotoInfo
from tests.api_fixtures import FACE_BOXES, GALLERY, LATE, STRANGER, UNREADABLE, build_gallery


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return build_gallery(tmp_path_factory.mktemp("store-reads"))


@pytest.fixture()
def index(gallery):
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        yield index


def test_photos_and_faces(index, gallery):
    paths = index.all_photo_paths()
    assert sorted(paths.values()) == sorted([*GALLERY, UNREADABLE, LATE])
    pid = gallery.photo_ids["album/dinner.jpg"]
    assert index.photo_info(pid) == PhotoInfo(pid, "album/dinner.jpg", 320, 240)
    assert index.photo_info(gallery.photo_ids[UNREADABLE]).width is None
    for missing in (999_999, MAX_ID, MAX_ID + 1, 2**70, -1):
        assert index.photo_info(missing) is None and index.face_info(missing) is None
    assert set(index.photo_infos([pid, 999_999, 2**70])) == {pid}
    faces = index.faces_with_people(pid)
    assert [f.face.box for f in faces] == FACE_BOXES
    assert all(f.face.photo_id == pid and f.person_id is not None for f in faces)
    assert index.face_info(faces[1].face.id) == faces[1].face
    [late] = index.faces_with_people(gallery.photo_ids[LATE])
    assert late.person_id is None  # indexed after the clustering


def test_people_and_their_photos(index, gallery):
    page = index.people_page(limit=3, offset=0)
    assert page.total == 5 and len(page.items) == 3 and all(isinstance(p, PersonInfo) for p in page.items)
    everyone = index.people_page(limit=100, offset=0).items
    assert [p.face_count for p in everyone] == sorted((p.face_count for p in everyone), reverse=True)
    assert index.people_page(limit=3, offset=3).items == everyone[3:]
    members = index.active_memberships()
    for person in everyone:
        assert index.person(person.id) == person
        photos = index.person_photos(person.id, limit=100, offset=0)
        assert photos.total == person.photo_count == len(photos.items)
        paths = {p.photo.path for p in photos.items}
        assert paths in [gallery.photos_of(k) for k in range(STRANGER)]
        assert sum(1 for c in members.values() if c == person.id) == person.face_count
        faces = index.person_faces(person.id, limit=100, offset=0)
        assert faces.total == person.face_count and {f.id for f in faces.items} == {f for f, c in members.items() if c == person.id}
        assert index.person_faces(person.id, limit=1, offset=1).items == faces.items[1:2]
    assert index.person(999_999) is None and index.person(2**70) is None
    assert index.person_photos(2**70, 10, 0).total == 0 and index.person_faces(2**70, 10, 0).total == 0


def test_clusters_for_the_report_and_faces_for_the_evaluation(index, gallery):
    from faceexplore.people.report import cluster_report

    clusters = index.active_clusters()
    assert {c.id for c in clusters} == {p.id for p in index.people_page(100, 0).items}
    assert all("cohesion" in c.quality for c in clusters)
    faces = index.clustered_faces()
    assert len(faces) == 14 and {f.path for f in faces} == {p for p, people in GALLERY.items() if people}
    report = cluster_report(index)
    assert report["summary"]["clusters"] == 5 and report["summary"]["faces"] == 14


def test_the_people_evaluation_reads_its_faces_through_the_store(gallery, monkeypatch):
    from faceexplore import evaluation

    monkeypatch.setattr(evaluation, "_prepare", lambda folder, settings, scratch: gallery.settings)
    monkeypatch.setattr(evaluation, "_index_and_cluster", lambda settings: (None, {"faces": 15}, {}))
    result = evaluation.evaluate_people(gallery.settings.gallery_dir, gallery.settings)
    # each photo's face nearest its centre; the synthetic albums stand in for identities
    assert (result["photos"], result["photos_with_face"], result["identities"]) == (10, 7, 2)
    # the central faces are of people 1, 2, 1, 4, 4, 3 and 3 (FACE_BOXES[1] when there are two or more)
    assert result["clusters"] == 4 and 0 <= result["bcubed"]["f"] <= 1
