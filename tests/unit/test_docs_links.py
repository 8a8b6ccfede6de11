"""README and docs/ stay readable: a short README, every relative link leading to a file and heading in the repo."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 200
# [text](target) and [text](target "title"); images too. Code spans are removed first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_BLOCK = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = ("http://", "https://", "mailto:", "ws://", "wss://")


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def prose(page: Path) -> str:
    """The page without code blocks and code spans, where brackets are code, not links."""
    return CODE_SPAN.sub("", CODE_BLOCK.sub("", page.read_text(encoding="utf-8")))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = CODE_SPAN.sub(lambda span: span.group(0).strip("`"), heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(CODE_BLOCK.sub("", page.read_text(encoding="utf-8")))}


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page)) if not target.startswith(EXTERNAL)]


def test_the_readme_is_at_most_200_lines():
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_there_are_pages_to_read_on():
    assert len(pages()) > 1, "docs/ holds no page"


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_points_to_a_file_in_the_repo(page: Path):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.is_relative_to(REPO) or not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)} links to what is not there: {broken}"


def test_the_readme_links_every_page_in_docs():
    linked = {(REPO / target.partition("#")[0]).resolve() for target in relative_links(REPO / "README.md")}
    unlinked = [page.name for page in sorted((REPO / "docs").glob("*.md")) if page.resolve() not in linked]
    assert not unlinked, f"README.md's 'Where to read on' misses {unlinked}"


def test_the_link_reader_finds_links_and_skips_code():
    """The checks above rely on this reader: it must see a link, and not one inside code."""
    page = "[a](docs/a.md) and [b](b.md#part \"t\") `[c](c.md)`\n```\n[d](d.md)\n```\n[e](https://x.org)\n"
    found = LINK.findall(CODE_SPAN.sub("", CODE_BLOCK.sub("", page)))
    assert found == ["docs/a.md", "b.md#part", "https://x.org"]
    assert slug("The `harness` package, for e2e tests") == "the-harness-package-for-e2e-tests"
