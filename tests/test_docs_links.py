"""The README and docs/ link only inside the project: a newcomer's first minute needs nothing
from outside it (no other repository's files, no web pages)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[[^\]]*\]\(([^)]+)\)")


@pytest.mark.parametrize("document", ["README.md", "docs/api.md"])
def test_links_point_inside_the_project(document):
    text = (ROOT / document).read_text(encoding="utf-8")
    assert "../shared" not in text
    for target in LINK.findall(text):
        assert not re.match(r"[a-z]+:", target), target
        path = (ROOT / document).parent / target.split("#")[0]
        assert path.resolve().is_relative_to(ROOT) and path.exists(), target


def test_the_api_guide_shows_no_real_token():
    guide = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    assert not re.search(r"smt_[A-Za-z0-9_-]{20,}", guide)
    assert "<crisis_worker token>" in guide
