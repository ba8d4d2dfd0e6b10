"""The documentation stands alone: its links lead somewhere in the repository, it names no file outside it,
and its interchange examples are records the codec reads."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from agentdesk.interchange.codec import parse_line

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_OURS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
OUTSIDE = ("contract" + ".md", "../" + "shared")
"""Names of the product's private brief, which the repository neither copies nor links (spelt apart so that
this file does not name them itself)."""

_FENCED = re.compile(r"^```.*?^```", re.S | re.M)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _prose(path: Path) -> str:
    return _FENCED.sub("", path.read_text(encoding="utf-8"))


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``path``: lower case, punctuation dropped, spaces as hyphens."""
    seen: Counter[str] = Counter()
    anchors = set()
    for heading in _HEADING.findall(_prose(path)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def _relative_links(path: Path) -> list[str]:
    return [target for target in _LINK.findall(_prose(path)) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(document: Path) -> None:
    links = _relative_links(document)
    broken = []
    for link in links:
        target, _, anchor = link.partition("#")
        file = (document.parent / target).resolve() if target else document
        if not file.is_file() or ROOT not in file.parents:
            broken.append(f"{link}: no such file in the repository")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{link}: no heading '{anchor}' in {file.relative_to(ROOT)}")
    assert not broken, f"{document.name}: {broken}"


def test_the_readme_links_the_reference_pages() -> None:
    links = _relative_links(ROOT / "README.md")
    for page in ("docs/interchange.md", "docs/authority.md", "docs/channels.md"):
        assert page in links


def test_no_file_of_the_repository_names_the_private_brief() -> None:
    found = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or NOT_OURS & set(path.relative_to(ROOT).parts) or ".egg-info" in str(path):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text: nothing to link
        found += [f"{path.relative_to(ROOT)}: {name}" for name in OUTSIDE if name in text]
    assert not found


def test_the_demo_line_of_the_readme_installs_the_package_alone() -> None:
    (demo,) = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if line.rstrip().endswith("# the demo")]
    assert "pip install -q -e . " in demo and "[test]" not in demo


def test_every_interchange_example_is_a_record_the_codec_reads() -> None:
    text = (ROOT / "docs" / "interchange.md").read_text(encoding="utf-8")
    lines = [line for block in re.findall(r"^```jsonl\n(.*?)^```", text, re.S | re.M) for line in block.splitlines()]
    kinds = {type(parse_line(line.encode("utf-8"))).__name__ for line in lines}
    assert len(lines) >= 9 and kinds >= {"Agent", "Customer", "Case", "TimelineEntry", "Decision", "Promise",
                                         "AuditEntry", "Article"}


def test_every_picture_of_the_readme_is_one_that_make_py_regenerates() -> None:
    maker = (ROOT / "screenshots" / "make.py").read_text(encoding="utf-8")
    saved = set(re.findall(r"(?<![\w.])_?save\((?:\w+, )?\"([\w-]+)\"\)", maker))
    shown = re.findall(r"\]\(screenshots/([\w-]+)\.svg\)", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert shown and set(shown) <= saved, sorted(set(shown) - saved)
