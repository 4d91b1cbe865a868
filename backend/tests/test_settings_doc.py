"""The documentation holds: docs/configuration.md is what the settings generate (as the frontend's
API types are what the API document generates), and every relative link in the README and docs/
leads to a file, and to a heading of it where it names one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faceexplore.settings import Settings
from faceexplore.settings_doc import REGENERATE, markdown

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIGURATION_PAGE = REPOSITORY / "docs" / "configuration.md"
PAGES = [REPOSITORY / "README.md", REPOSITORY / "frontend" / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_configuration_page_is_what_the_settings_generate():
    assert CONFIGURATION_PAGE.read_text(encoding="utf-8") == markdown(), (
        f"docs/configuration.md has drifted from the Settings fields; regenerate it: {REGENERATE}"
    )


def test_every_setting_has_a_meaning_and_a_row():
    page = markdown()
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description= (its meaning in docs/configuration.md)"
        assert f"| `{name}` | " in page


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated one numbered."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        unique, n = slug, 0
        while unique in anchors:
            n += 1
            unique = f"{slug}-{n}"
        anchors.add(unique)
    return anchors


def _relative_links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t, re.I)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPOSITORY)))
def test_relative_links_resolve(page):
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target} (no such heading in {linked.relative_to(REPOSITORY)})")
    assert not broken, f"{page.relative_to(REPOSITORY)} links to what is not there: {broken}"


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [bad](#nothing) [gone](missing.md) `[code](x.md)`\n", encoding="utf-8")
    assert _relative_links(page) == ["#title", "#nothing", "missing.md"]
    assert _anchors(page) == {"title"}
