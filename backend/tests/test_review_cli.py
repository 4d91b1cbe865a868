"""`faceexplore review` and `faceexplore people export` on the synthetic gallery of
tests/api_fixtures.py, split into one person per face so the queue has questions."""

from __future__ import annotations

import json

import pytest

from faceexplore import cli
from faceexplore.index.store import FaceIndex
from faceexplore.people.clustering import cluster_index
from tests.api_fixtures import FACE_BOXES, GALLERY, build_gallery


@pytest.fixture()
def gallery(tmp_path):
    built = build_gallery(tmp_path)
    with FaceIndex(built.settings.index_path) as index:
        cluster_index(index, threshold=0.03, progress=lambda *a, **k: None)
    return built


def run(gallery, capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["--data", str(gallery.settings.data_dir), *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_review_lists_questions_with_paths_and_boxes_and_answers_one(gallery, capsys):
    code, out, _ = run(gallery, capsys, "review", "--limit", 2, "--json")
    assert code == 0
    listing = json.loads(out)
    assert len(listing["questions"]) == 2 and listing["total"] >= 2
    first = listing["questions"][0]
    assert first["kind"] == "same_person"
    face = first["a"]["faces"][0]
    assert face["path"] in GALLERY and face["box"] in [list(b) for b in FACE_BOXES]
    code, out, _ = run(gallery, capsys, "review", "answer", first["id"], "yes")
    assert code == 0 and "same_person" in out
    code, out, _ = run(gallery, capsys, "review", "--limit", 200, "--json")
    assert first["id"] not in {q["id"] for q in json.loads(out)["questions"]}
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        members = index.active_memberships()
    assert members[first["a"]["faces"][0]["face"]] == members[first["b"]["faces"][0]["face"]]
    code, out, err = run(gallery, capsys, "review", "answer", first["id"], "yes")
    assert code == 2 and "no question" in err
    code, out, _ = run(gallery, capsys, "review")
    assert code == 0 and "worth answering" in out and "Same person?" in out


def test_people_export_lists_every_face_with_its_photo_box_and_person(gallery, capsys):
    code, out, _ = run(gallery, capsys, "people", "export", "--json")
    assert code == 0
    faces = json.loads(out)
    assert len(faces) == sum(len(p) for p in GALLERY.values()) + 1  # and the late photo's face
    for f in faces:
        assert set(f) == {"face", "path", "box", "person"}
        assert f["box"] in [list(b) for b in FACE_BOXES]
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        assert {f["face"]: f["person"] for f in faces} == index.active_memberships()
    assert {f["path"] for f in faces} == {*(p for p, people in GALLERY.items() if people), "late/new.jpg"}
