"""`faceexplore people ...`: the organiser's corrections from the command line, in-process over
the synthetic gallery of tests/api_fixtures.py."""

from __future__ import annotations

import json

import pytest

from faceexplore import cli
from faceexplore.index.store import FaceIndex
from tests.api_fixtures import build_gallery
from tests.test_people import faces_of, person_of


@pytest.fixture()
def gallery(tmp_path):
    return build_gallery(tmp_path)


def people(gallery, capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["--data", str(gallery.settings.data_dir), "people", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_name_list_hide_merge_move_reject_undo_log(gallery, capsys):
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        alice, bob, carol = (person_of(index, gallery, k) for k in (0, 1, 2))
        carol_faces = faces_of(index, gallery, 2)
        faces_of_bob = faces_of(index, gallery, 1)
    assert people(gallery, capsys, "name", alice, "Alice")[0] == 0
    code, out, _ = people(gallery, capsys, "list", "--json", "--query", "ali")
    assert code == 0 and [(p["id"], p["name"]) for p in json.loads(out)] == [(alice, "Alice")]
    code, out, _ = people(gallery, capsys, "list")
    assert code == 0 and len(out.splitlines()) == 6 and "Alice" in out
    code, out, _ = people(gallery, capsys, "show", bob)
    shown = [int(line.split()[1]) for line in out.splitlines()[1:]]
    assert code == 0 and sorted(shown) == sorted(faces_of_bob) and "album/garden.jpg" in out
    code, out, _ = people(gallery, capsys, "hide", bob)
    assert code == 0 and "(hidden)" in out
    assert people(gallery, capsys, "unhide", bob)[0] == 0
    code, out, _ = people(gallery, capsys, "merge", bob, carol)
    assert code == 0 and out.split()[0] == str(bob)
    code, out, _ = people(gallery, capsys, "move", *carol_faces, "--to", "new")
    new = int(out.split()[0])
    assert code == 0 and new not in (alice, bob, carol)
    code, out, _ = people(gallery, capsys, "reject", carol_faces[0])
    assert code == 0 and out.startswith("1 face(s)")
    code, out, _ = people(gallery, capsys, "undo")
    assert code == 0 and out.startswith("undone: Marked 1 face")
    code, out, _ = people(gallery, capsys, "log")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6 and "(undone)" in lines[0] and "reject" in lines[0] and "Named Person" in lines[-1]
    code, out, _ = people(gallery, capsys, "name", alice, "")
    assert code == 0 and "Alice" not in out


def test_log_shows_who_and_undo_id_takes_back_what_depends_on_it(gallery, capsys):
    with FaceIndex(gallery.settings.index_path, readonly=True) as index:
        bob, carol, dave = (person_of(index, gallery, k) for k in (1, 2, 3))
    people(gallery, capsys, "name", bob, "Bob")
    people(gallery, capsys, "name", dave, "Dave")
    people(gallery, capsys, "merge", bob, carol)  # depends on the first (bob), not on the second
    first, second, merge = (int(line.split()[0]) for line in reversed(people(gallery, capsys, "log")[1].splitlines()))
    code, out, _ = people(gallery, capsys, "undo", first)
    assert code == 0 and out.splitlines() == [
        f"undone: Named Person {bob} “Bob”",
        f"also undone (it depended on it): {merge}  Merged Person {carol} into Person {bob} (Bob)",
    ]
    lines = people(gallery, capsys, "log")[1].splitlines()
    assert [line.split()[0] for line in lines] == [str(merge), str(second), str(first)]
    assert all(" cli " in line for line in lines)
    assert lines[0].endswith(f"(undone with {first})") and lines[2].endswith("(undone)") and "undone" not in lines[1]
    code, _, err = people(gallery, capsys, "undo", first)
    assert code == 2 and "was undone already" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["name", 999999, "X"], "There is no Person 999999."),
        (["merge", 1, 1], "cannot be merged into itself"),
        (["move", 999999, "--to", "new"], "There is no face 999999."),
        (["undo"], "There is nothing to undo."),
        (["name", 1, "x" * 101], "at most 100 characters"),
    ],
)
def test_bad_input_exits_2_with_a_plain_message(gallery, capsys, args, message):
    code, out, err = people(gallery, capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["move", 1, "--to", "someone"], ["merge", 1], ["name", "x", "y"], ["hide"]])
def test_malformed_commands_are_refused_by_the_parser(gallery, capsys, args):
    with pytest.raises(SystemExit) as exit:
        people(gallery, capsys, *args)
    assert exit.value.code == 2
