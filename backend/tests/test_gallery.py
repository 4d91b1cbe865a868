"""Finding a gallery's photos, and keeping file access inside the gallery."""

import os

import pytest

from faceexplore.gallery import resolve_in, scan_gallery


def _touch(root, rel, content=b"x"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def gallery(tmp_path):
    root = tmp_path / "gallery"
    for rel in [
        "a.jpg",
        "day1/IMG_0001.JPG",
        "day1/morning/deep/er/IMG_0002.Png",
        "day2/pic.jpeg",
        "day2/pic.WEBP",
        "day2/scan.tiff",
        "day2/old.bmp",
        # not photos
        "day1/notes.txt",
        "day1/video.mp4",
        "day2/pic.jpg.json",
        "README",
        "day2/noextjpg",
        # hidden
        ".thumbs/a.jpg",
        "day1/.cache/b.jpg",
        "day1/.hidden.jpg",
    ]:
        _touch(root, rel, b"y" * (len(rel) + 1))
    return root


def test_scan_finds_nested_photos_of_any_case_and_nothing_else(gallery):
    found = scan_gallery(gallery)
    assert [f.path for f in found] == [
        "a.jpg",
        "day1/IMG_0001.JPG",
        "day1/morning/deep/er/IMG_0002.Png",
        "day2/old.bmp",
        "day2/pic.WEBP",
        "day2/pic.jpeg",
        "day2/scan.tiff",
    ]


def test_scan_records_size_and_mtime(gallery):
    os.utime(gallery / "a.jpg", ns=(1_600_000_000_000_000_000, 1_600_000_000_123_456_789))
    by_path = {f.path: f for f in scan_gallery(gallery)}
    assert by_path["a.jpg"].size == len("a.jpg") + 1
    assert by_path["a.jpg"].mtime_ns == 1_600_000_000_123_456_789
    assert by_path["day1/morning/deep/er/IMG_0002.Png"].size == len("day1/morning/deep/er/IMG_0002.Png") + 1


def test_scan_survives_link_loops_and_dangling_links(gallery):
    os.symlink(gallery, gallery / "day1" / "loop")  # a folder link back to the root
    os.symlink(gallery / "missing.jpg", gallery / "day2" / "dangling.jpg")
    paths = [f.path for f in scan_gallery(gallery)]
    assert "day2/dangling.jpg" not in paths
    assert not any(p.startswith("day1/loop/") for p in paths)
    assert len(paths) == 7


def test_scan_of_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        scan_gallery(tmp_path / "nope")


def test_scan_of_an_empty_folder(tmp_path):
    assert scan_gallery(tmp_path) == []


def test_resolve_in_accepts_paths_inside(gallery):
    assert resolve_in(gallery, "day1/IMG_0001.JPG") == (gallery / "day1/IMG_0001.JPG").resolve()
    assert resolve_in(gallery, "day1/./morning/../IMG_0001.JPG") == (gallery / "day1/IMG_0001.JPG").resolve()


@pytest.mark.parametrize(
    "relative",
    ["../outside.jpg", "day1/../../outside.jpg", "../../../../../../etc/passwd", "/etc/passwd", "", ".", "day1/.."],
)
def test_resolve_in_refuses_traversal_and_the_root_itself(gallery, relative):
    _touch(gallery.parent, "outside.jpg")
    assert resolve_in(gallery, relative) is None


def test_resolve_in_refuses_a_link_that_leads_outside(gallery, tmp_path):
    secret = _touch(tmp_path, "secret/key.jpg")
    os.symlink(secret.parent, gallery / "innocent")
    os.symlink(secret, gallery / "photo.jpg")
    assert resolve_in(gallery, "innocent/key.jpg") is None
    assert resolve_in(gallery, "photo.jpg") is None
    # a link that stays inside is fine
    os.symlink(gallery / "a.jpg", gallery / "alias.jpg")
    assert resolve_in(gallery, "alias.jpg") == (gallery / "a.jpg").resolve()
