"""Finding a gallery's photos, and keeping file access inside the gallery."""

import os
from urllib.parse import quote

import pytest

from faceexplore.index.gallery import filesystem_path, name_from_url_path, resolve_in, scan_gallery, stored_path, url_path


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


# -- names that are not UTF-8 ----------------------------------------------------------------
def test_a_latin_1_name_is_stored_as_valid_text_that_leads_back_to_the_file(tmp_path):
    root = tmp_path / "gallery"
    (root / "été").mkdir(parents=True)
    raw = os.path.join(os.fsencode(root), "été".encode(), b"caf\xe9.jpg")  # a Latin-1 name in a UTF-8 folder
    with open(raw, "wb") as fh:
        fh.write(b"latin-1 photo")
    _touch(root, "café.jpg", b"utf-8 photo")  # the same name in UTF-8: another file
    found = {f.path: f for f in scan_gallery(root)}
    assert set(found) == {"café.jpg", "été/caf\ufffdE9.jpg"}
    stored = "été/caf\ufffdE9.jpg"
    stored.encode("utf-8")  # valid text: SQLite, JSON and URLs take it
    assert os.fsencode(filesystem_path(stored)) == b"\xc3\xa9t\xc3\xa9/caf\xe9.jpg"
    assert found[stored].size == len(b"latin-1 photo")
    # served from its URL: the name's bytes percent-encoded (nginx opens them as they are); the
    # app's fallback gets the same bytes back from the raw request path
    assert url_path(stored) == "%C3%A9t%C3%A9/caf%E9.jpg"
    served = resolve_in(root, name_from_url_path(url_path(stored)))
    assert served is not None and served.read_bytes() == b"latin-1 photo"
    assert url_path("café.jpg") == quote("café.jpg")  # a UTF-8 name's URL as before
    assert resolve_in(root, name_from_url_path(url_path("café.jpg"))).read_bytes() == b"utf-8 photo"
    assert resolve_in(root, filesystem_path("café.jpg")).read_bytes() == b"utf-8 photo"


@pytest.mark.parametrize(
    "name",
    ["plain.jpg", "café/été.jpg", "caf\udce9.jpg", "\udcff\udc80.jpg", "a\ufffdb.jpg", "a\ufffdE9.jpg", "\ufffd\udce9\ufffd\ufffd.png"],
)
def test_stored_paths_round_trip_every_name(name):
    stored = stored_path(name)
    stored.encode("utf-8")
    assert filesystem_path(stored) == name


def test_stored_paths_of_distinct_names_are_distinct():
    names = ["caf\udce9.jpg", "café.jpg", "caf\ufffdE9.jpg", "caf\ufffd.jpg", "caf\ufffd\ufffd.jpg"]
    assert len({stored_path(n) for n in names}) == len(names)
    assert stored_path("café.jpg") == "café.jpg" and stored_path("day1/IMG 1.JPG") == "day1/IMG 1.JPG"


# -- links ---------------------------------------------------------------------------------------
def test_links_to_files_outside_the_gallery_are_not_scanned(gallery, tmp_path):
    secret = _touch(tmp_path, "outside/passwd.jpg", b"secret")
    os.symlink(secret, gallery / "day1" / "leak.jpg")
    os.symlink("../../outside/passwd.jpg", gallery / "day2" / "relative-leak.jpg")
    os.symlink(gallery / "a.jpg", gallery / "day2" / "alias.jpg")  # stays inside: served, so scanned
    paths = [f.path for f in scan_gallery(gallery)]
    assert "day1/leak.jpg" not in paths and "day2/relative-leak.jpg" not in paths
    assert "day2/alias.jpg" in paths and len(paths) == 8


def test_a_gallery_reached_through_a_link_is_scanned_whole(gallery, tmp_path):
    link = tmp_path / "gallery-link"
    os.symlink(gallery, link)
    os.symlink(gallery / "a.jpg", gallery / "day2" / "alias.jpg")
    assert [f.path for f in scan_gallery(link)] == [f.path for f in scan_gallery(gallery)]
    assert "day2/alias.jpg" in [f.path for f in scan_gallery(link)]


def test_heif_photos_are_scanned(tmp_path):
    for rel in ("iphone/IMG_0001.HEIC", "iphone/IMG_0002.heif", "iphone/IMG_0002.heif.json"):
        _touch(tmp_path, rel)
    assert [f.path for f in scan_gallery(tmp_path)] == ["iphone/IMG_0001.HEIC", "iphone/IMG_0002.heif"]
